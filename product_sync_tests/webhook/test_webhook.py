"""Unit tests of the HTTP layer over a fake ``SyncBackend`` that keeps its runs the way
Dagster's run storage does (with their tags), so "the webhook service restarted" is a new app
over the same backend. Deliveries are signed with the ``standardwebhooks`` package."""

import asyncio
import json
import socket
import time

import pytest
from starlette.testclient import TestClient

from product_sync import names
from product_sync.webhook.app import SingleFlight, create_app, sync_tags
from product_sync.webhook.dagster_backend import (
    DagsterRequestFailed,
    DagsterUnavailable,
    GraphQLSyncBackend,
    SyncRun,
)
from product_sync.webhook.settings import MAX_BODY_BYTES, Settings
from product_sync_tests.webhook.fake_backend import FakeBackend
from product_sync_tests.webhook.sender import new_secret, signed_headers

SECRET = new_secret()
NOW = 1_700_000_000
URL = "/webhooks/product-update"


@pytest.fixture
def settings():
    return Settings(secret=SECRET, graphql_url="http://dagster.test:3000/graphql")


@pytest.fixture
def backend():
    return FakeBackend()


@pytest.fixture
def client(settings, backend):
    return TestClient(create_app(settings, backend))


def signed(body: bytes | str = b"", **kwargs) -> dict[str, str]:
    return signed_headers(kwargs.pop("secret", SECRET), body, **kwargs)


def post(client, body: bytes | str = b"", headers: dict | None = None):
    raw = body.encode() if isinstance(body, str) else body
    return client.post(URL, content=raw, headers=signed(raw) if headers is None else headers)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    payload = response.json()
    assert set(payload) == {"error", "message"}
    assert payload["error"] == code
    assert payload["message"]
    return payload


# -- POST /webhooks/product-update --------------------------------------------------------


def test_signed_request_launches_a_targeted_sync_job_run(client, backend):
    headers = signed('{"product_ids": [3, 1, 3]}', delivery_id="msg_first")
    response = post(client, '{"product_ids": [3, 1, 3]}', headers)
    assert response.status_code == 202, response.text
    body = response.json()
    run_id = "00000000-0000-4000-8000-000000000001"
    assert body == {
        "run_id": run_id,
        "status": "QUEUED",
        "product_ids": [1, 3],
        "full_sync": False,
        "delivery_id": "msg_first",
        "status_url": f"http://testserver/sync/runs/{run_id}",
        "dagster_url": f"http://dagster.test:3000/runs/{run_id}",
        "duplicate": False,
    }
    assert backend.launches == [
        (
            [1, 3],
            {
                names.SYNC_QUEUE_TAG_KEY: names.SYNC_QUEUE_TAG[names.SYNC_QUEUE_TAG_KEY],
                "product_sync/trigger": "webhook",
                names.DELIVERY_TAG: "msg_first",
                names.PRODUCT_IDS_TAG: "1,3",
            },
        )
    ]


@pytest.mark.parametrize("body", ["", "{}", '{"product_ids": []}'])
def test_empty_body_or_list_is_a_full_sync(client, backend, body):
    response = post(client, body)
    assert response.status_code == 202, response.text
    assert response.json()["product_ids"] == [] and response.json()["full_sync"] is True
    ((ids, tags),) = backend.launches
    assert ids == [] and names.PRODUCT_IDS_TAG not in tags
    assert tags[names.SYNC_QUEUE_TAG_KEY] == names.SYNC_QUEUE_TAG[names.SYNC_QUEUE_TAG_KEY]


def test_public_url_is_used_for_status_url(backend):
    settings = Settings(secret=SECRET, public_url="https://hooks.example.com")
    client = TestClient(create_app(settings, backend))
    assert (
        post(client, "{}").json()["status_url"].startswith("https://hooks.example.com/sync/runs/")
    )


def test_bad_signature_is_401(client, backend):
    headers = signed('{"product_ids": [1]}')
    payload = assert_error(post(client, '{"product_ids": [2]}', headers), 401, "invalid_signature")
    assert "webhook-signature" in payload["message"]
    assert backend.launches == []


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_are_401(client, backend, missing):
    headers = signed("{}")
    del headers[missing]
    code = {
        "webhook-id": "missing_webhook_id",
        "webhook-timestamp": "missing_timestamp",
        "webhook-signature": "missing_signature",
    }[missing]
    assert missing in assert_error(post(client, "{}", headers), 401, code)["message"]
    assert backend.launches == []


def test_the_old_scheme_is_refused(client, backend):
    headers = {"X-Webhook-Timestamp": "1700000000", "X-Webhook-Signature": "sha256=ab"}
    assert_error(post(client, "{}", headers), 401, "missing_webhook_id")
    assert backend.launches == []


@pytest.mark.parametrize(("offset", "code"), [(-600, "stale_timestamp"), (600, "future_timestamp")])
def test_old_or_future_delivery_is_401(client, backend, offset, code):
    # Correctly signed by the sender, just not now.
    headers = signed("{}", timestamp=int(time.time()) + offset)
    assert_error(post(client, "{}", headers), 401, code)
    assert backend.launches == []


def test_wrong_secret_is_401(client, backend):
    headers = signed("{}", secret=new_secret())
    assert_error(post(client, "{}", headers), 401, "invalid_signature")
    assert backend.launches == []


def test_previous_secret_is_accepted_while_rotating(backend):
    old = new_secret()
    client = TestClient(create_app(Settings(secret=SECRET, previous_secret=old), backend))
    assert post(client, "{}", signed("{}", secret=old)).status_code == 202
    assert post(client, "{}", signed("{}", secret=SECRET)).status_code == 202
    assert_error(post(client, "{}", signed("{}", secret=new_secret())), 401, "invalid_signature")


def test_declared_oversized_body_is_413(client, backend):
    body = b'{"product_ids": [' + b" " * MAX_BODY_BYTES + b"1]}"
    assert_error(post(client, body), 413, "payload_too_large")
    assert backend.launches == []


def test_streamed_oversized_body_is_413(client, backend):
    # No Content-Length (chunked): the limit is enforced while reading.
    chunk = b" " * 65536
    headers = signed(b"{}")

    def chunks():
        for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
            yield chunk

    response = client.post(URL, content=chunks(), headers=headers)
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert_error(response, 413, "payload_too_large")
    assert backend.launches == []


def test_body_of_exactly_the_limit_is_read(client, backend):
    body = b'{"product_ids": [1]}'
    body += b" " * (MAX_BODY_BYTES - len(body))
    assert post(client, body).status_code == 202


def test_streamed_small_body_is_accepted(client, backend):
    body = b'{"product_ids": [5]}'
    response = client.post(URL, content=iter([body[:7], body[7:]]), headers=signed(body))
    assert response.status_code == 202, response.text
    assert backend.launches[0][0] == [5]


def test_non_utf8_body_is_400(client, backend):
    payload = assert_error(post(client, b"\xff\xfe{}", signed("{}")), 400, "invalid_json")
    assert "UTF-8" in payload["message"]
    assert backend.launches == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", "invalid_json"),
        ("[1, 2]", "invalid_body"),
        ('{"product_ids": ["1"]}', "invalid_product_ids"),
        ('{"product_ids": [1.5]}', "invalid_product_ids"),
        ('{"product_ids": [true]}', "invalid_product_ids"),
        ('{"product_ids": [0]}', "invalid_product_ids"),
        ('{"product_ids": 7}', "invalid_product_ids"),
        ('{"ids": [1]}', "unknown_field"),
        (json.dumps({"product_ids": list(range(1, 1002))}), "too_many_product_ids"),
    ],
)
def test_bad_bodies_are_400(client, backend, body, code):
    assert_error(post(client, body), 400, code)
    assert backend.launches == []


def test_dagster_down_is_503(settings):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = GraphQLSyncBackend(f"http://127.0.0.1:{port}/graphql", timeout=(1, 1))
    client = TestClient(create_app(settings, down))
    response = post(client, '{"product_ids": [1]}')
    payload = assert_error(response, 503, "dagster_unavailable")
    assert f"127.0.0.1:{port}" in payload["message"]
    assert response.headers["retry-after"] == "10"
    assert_error(client.get("/sync/status"), 503, "dagster_unavailable")
    assert_error(client.get("/healthz?dagster=1"), 503, "dagster_unavailable")
    assert client.get("/healthz").json() == {"status": "ok"}


def test_dagster_refusing_the_launch_is_502(client, backend):
    backend.fail = DagsterRequestFailed("Dagster did not launch the run (PythonError): boom")
    payload = assert_error(post(client, "{}"), 502, "dagster_error")
    assert "boom" in payload["message"]


# -- deliveries are remembered by Dagster, not by the process -----------------------------


def test_replayed_delivery_returns_the_first_run_even_after_a_restart(settings, backend):
    body = '{"product_ids": [4]}'
    headers = signed(body, delivery_id="msg_replayed")
    first = post(TestClient(create_app(settings, backend)), body, headers)
    assert first.status_code == 202 and first.json()["duplicate"] is False
    # A new app over the same storage: what a restarted webhook service sees.
    restarted = TestClient(create_app(settings, backend))
    again = post(restarted, body, headers)
    assert again.status_code == 202
    assert again.json() == {**first.json(), "duplicate": True}
    # The sender's retry: same id, signed anew (new timestamp, new signature).
    retry = post(restarted, body, signed(body, delivery_id="msg_replayed"))
    assert retry.json()["run_id"] == first.json()["run_id"] and retry.json()["duplicate"]
    assert len(backend.launches) == 1
    # A new id is a new delivery.
    other = post(restarted, body, signed(body, delivery_id="msg_other"))
    assert other.json()["duplicate"] is False and other.json()["run_id"] != first.json()["run_id"]
    assert len(backend.launches) == 2


def test_a_repeated_delivery_reports_the_run_as_it_is_now(client, backend):
    headers = signed("{}")
    run_id = post(client, "{}", headers).json()["run_id"]
    backend.runs[0] = SyncRun(run_id, "SUCCESS", tags=backend.runs[0].tags)
    assert post(client, "{}", headers).json()["status"] == "SUCCESS"


def test_a_reused_delivery_id_with_other_ids_is_409(client, backend):
    one, two = '{"product_ids": [1]}', '{"product_ids": [2]}'
    post(client, one, signed(one, delivery_id="msg_x"))
    response = post(client, two, signed(two, delivery_id="msg_x"))
    payload = assert_error(response, 409, "delivery_id_reused")
    assert "msg_x" in payload["message"] and backend.runs[0].run_id in payload["message"]
    assert len(backend.launches) == 1
    # A full sync is "other ids" too: it would archive, a targeted one does not.
    assert_error(post(client, "{}", signed("{}", delivery_id="msg_x")), 409, "delivery_id_reused")


def test_retry_after_503_launches(client, backend):
    headers = signed("{}")
    backend.fail = DagsterUnavailable("down")
    assert_error(post(client, "{}", headers), 503, "dagster_unavailable")
    backend.fail = None
    response = post(client, "{}", headers)
    assert response.status_code == 202 and response.json()["duplicate"] is False
    assert len(backend.launches) == 1


def test_single_flight_shares_a_call_in_flight_and_then_forgets_it():
    flight = SingleFlight()
    calls = []

    async def scenario():
        gate = asyncio.Event()

        async def work():
            calls.append(1)
            await gate.wait()
            return "run"

        first = asyncio.ensure_future(flight.once("k", work))
        second = asyncio.ensure_future(flight.once("k", work))
        await asyncio.sleep(0)  # both callers are now waiting on the one call
        gate.set()
        shared = await asyncio.gather(first, second)
        # Done calls are not kept: Dagster's storage answers from now on.
        return shared, await flight.once("k", work)

    assert asyncio.run(scenario()) == ([("run", False), ("run", True)], ("run", False))
    assert calls == [1, 1]


def test_single_flight_shares_a_failure_and_lets_the_retry_run():
    flight = SingleFlight()

    async def fail():
        raise DagsterUnavailable("down")

    async def succeed():
        return "run"

    async def scenario():
        results = await asyncio.gather(
            flight.once("k", fail), flight.once("k", fail), return_exceptions=True
        )
        assert [type(r) for r in results] == [DagsterUnavailable, DagsterUnavailable]
        return await flight.once("k", succeed)

    assert asyncio.run(scenario()) == ("run", False)


def test_logs_never_contain_secret_or_signature(client, caplog):
    caplog.set_level("DEBUG")
    good = signed('{"product_ids": [1]}')
    post(client, '{"product_ids": [1]}', good)
    post(client, '{"product_ids": [2]}', good)  # bad signature, logged as rejected
    assert "launched run" in caplog.text and "invalid_signature" in caplog.text
    assert good["webhook-id"] in caplog.text
    assert SECRET not in caplog.text and SECRET[6:] not in caplog.text
    assert good["webhook-signature"][3:] not in caplog.text


def test_unknown_route_and_wrong_method_are_json(client):
    assert_error(client.get("/nope"), 404, "not_found")
    assert_error(client.get(URL), 405, "method_not_allowed")


def test_unexpected_failure_is_json_500(settings, backend):
    backend.fail = RuntimeError("secret detail")
    client = TestClient(create_app(settings, backend), raise_server_exceptions=False)
    payload = assert_error(client.get("/sync/status"), 500, "internal_error")
    assert "secret detail" not in payload["message"]


def test_sync_tags_are_bounded():
    tags = sync_tags(list(range(1, 1001)), "msg_1")
    assert len(tags[names.PRODUCT_IDS_TAG]) <= 200
    assert tags[names.PRODUCT_IDS_TAG].endswith("(1000 ids)")
    assert tags[names.DELIVERY_TAG] == "msg_1"
