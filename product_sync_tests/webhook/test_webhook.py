"""Unit tests of the webhook service: the pure pieces, the HTTP layer over a fake
``SyncBackend``, and the GraphQL backend against mocked Dagster answers."""

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import responses
from starlette.testclient import TestClient

from product_sync.webhook.app import DeliveryCache, create_app, main, sync_tags, trigger_of
from product_sync.webhook.dagster_backend import (
    DagsterRequestFailed,
    DagsterUnavailable,
    GraphQLSyncBackend,
    LaunchedRun,
    SyncRun,
)
from product_sync.webhook.errors import WebhookError
from product_sync.webhook.payload import MAX_PRODUCT_IDS, parse_product_ids
from product_sync.webhook.settings import (
    MAX_BODY_BYTES,
    Settings,
    SettingsError,
    load_settings,
)
from product_sync.webhook.signing import check_timestamp, sign, verify_signature

SECRET = "test-secret-0123456789"
NOW = 1_700_000_000
RUN_ID = "b8d61a4c-31f7-4de3-b834-164a3778ab29"
URL = "/webhooks/product-update"
GRAPHQL = "http://dagster.test/graphql"


class FakeBackend:
    """Records launches; ``fail`` makes every call raise it."""

    def __init__(self, runs: list[SyncRun] | None = None) -> None:
        self.launches: list[tuple[list[int], dict[str, str]]] = []
        self.runs = runs or []
        self.fail: Exception | None = None
        self.limits: list[int] = []

    def launch_sync(self, product_ids, tags):
        if self.fail:
            raise self.fail
        self.launches.append((list(product_ids), dict(tags)))
        return LaunchedRun(
            run_id=f"00000000-0000-4000-8000-{len(self.launches):012d}", status="QUEUED"
        )

    def recent_runs(self, limit):
        if self.fail:
            raise self.fail
        self.limits.append(limit)
        return self.runs[:limit]

    def get_run(self, run_id):
        if self.fail:
            raise self.fail
        return next((r for r in self.runs if r.run_id == run_id), None)

    def ping(self):
        if self.fail:
            raise self.fail
        return "1.13.27"


@pytest.fixture
def settings():
    return Settings(secret=SECRET, graphql_url="http://dagster.test:3000/graphql")


@pytest.fixture
def backend():
    return FakeBackend()


@pytest.fixture
def client(settings, backend):
    return TestClient(create_app(settings, backend, clock=lambda: NOW))


def signed(body: bytes | str = b"", timestamp: int = NOW, secret: str = SECRET) -> dict:
    raw = body.encode() if isinstance(body, str) else body
    return {
        "X-Webhook-Timestamp": str(timestamp),
        "X-Webhook-Signature": sign(secret, timestamp, raw),
        "Content-Type": "application/json",
    }


def post(client, body: bytes | str = b"", headers: dict | None = None, **kwargs):
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


# -- signing (pure) -----------------------------------------------------------------------


def test_sign_matches_openssl():
    # printf '%s.%s' 1700000000 '{"product_ids":[1,2]}' | openssl dgst -sha256 -hmac "$SECRET"
    assert sign(SECRET, NOW, b'{"product_ids":[1,2]}') == (
        "sha256=c2a8c7ce0c9834086bb7a021f5d6d8ef1ca74164f1678452831a951b7acf4a5d"
    )


def test_verify_accepts_good_signature_and_upper_case_hex():
    body = b'{"product_ids":[1]}'
    verify_signature([SECRET], str(NOW), body, sign(SECRET, NOW, body))
    verify_signature([SECRET], str(NOW), body, "SHA256=" + sign(SECRET, NOW, body)[7:].upper())


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "missing_signature"),
        ("", "missing_signature"),
        ("c2a8c7ce0c9834086bb7a021f5d6d8ef", "invalid_signature"),  # no sha256=
        ("sha1=abc", "invalid_signature"),
        ("sha256=", "invalid_signature"),
        ("sha256=zz", "invalid_signature"),
        ("sha256=é", "invalid_signature"),
    ],
)
def test_verify_rejects_missing_or_malformed_signature(header, code):
    with pytest.raises(WebhookError) as error:
        verify_signature([SECRET], str(NOW), b"{}", header)
    assert (error.value.status, error.value.code) == (401, code)


def test_signature_covers_body_timestamp_and_secret():
    body = b'{"product_ids":[1]}'
    good = sign(SECRET, NOW, body)
    for args in (
        (str(NOW), b'{"product_ids":[2]}', good),  # other body
        (str(NOW + 1), body, good),  # other timestamp
        (str(NOW), body, sign("another-secret-0123456", NOW, body)),  # other secret
    ):
        with pytest.raises(WebhookError) as error:
            verify_signature([SECRET], *args)
        assert error.value.code == "invalid_signature"


def test_previous_secret_is_accepted_while_rotating():
    old = "old-secret-0123456789"
    verify_signature([SECRET, old], str(NOW), b"{}", sign(old, NOW, b"{}"))


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_timestamp_within_five_minutes_is_accepted(offset):
    assert check_timestamp(str(NOW + offset), NOW) == NOW + offset


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "missing_timestamp"),
        (" ", "missing_timestamp"),
        (str(NOW - 301), "stale_timestamp"),
        (str(NOW + 301), "future_timestamp"),
        ("1700000000.5", "invalid_timestamp"),
        ("-1700000000", "invalid_timestamp"),
        ("soon", "invalid_timestamp"),
        ("1" * 40, "invalid_timestamp"),
        ("١٧٠٠٠٠٠٠٠٠", "invalid_timestamp"),  # unicode digits are not unix seconds
    ],
)
def test_bad_timestamps_are_401(header, code):
    with pytest.raises(WebhookError) as error:
        check_timestamp(header, NOW)
    assert (error.value.status, error.value.code) == (401, code)


# -- body parsing (pure) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "ids"),
    [
        (b"", []),
        (b"  \n", []),
        (b"{}", []),
        (b'{"product_ids": []}', []),
        (b'{"product_ids": [2, 1, 2]}', [1, 2]),
        (b'{"product_ids": [2147483647]}', [2147483647]),
    ],
)
def test_parse_product_ids(body, ids):
    assert parse_product_ids(body) == ids


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{", "invalid_json"),
        (b"product_ids=1", "invalid_json"),
        (b'{"product_ids": [NaN]}', "invalid_json"),
        (b"\xff\xfe{}", "invalid_json"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
        (b"[1, 2]", "invalid_body"),
        (b'"1"', "invalid_body"),
        (b"null", "invalid_body"),
        (b'{"product_id": 1}', "unknown_field"),
        (b'{"product_ids": [1], "dry_run": true}', "unknown_field"),
        (b'{"product_ids": null}', "invalid_product_ids"),
        (b'{"product_ids": 1}', "invalid_product_ids"),
        (b'{"product_ids": "1,2"}', "invalid_product_ids"),
        (b'{"product_ids": ["1"]}', "invalid_product_ids"),
        (b'{"product_ids": [1.0]}', "invalid_product_ids"),
        (b'{"product_ids": [1.5]}', "invalid_product_ids"),
        (b'{"product_ids": [true]}', "invalid_product_ids"),
        (b'{"product_ids": [null]}', "invalid_product_ids"),
        (b'{"product_ids": [0]}', "invalid_product_ids"),
        (b'{"product_ids": [-3]}', "invalid_product_ids"),
        (b'{"product_ids": [2147483648]}', "invalid_product_ids"),
        (b'{"product_ids": [[1]]}', "invalid_product_ids"),
    ],
)
def test_parse_rejects(body, code):
    with pytest.raises(WebhookError) as error:
        parse_product_ids(body)
    assert (error.value.status, error.value.code) == (400, code)


def test_too_many_ids():
    ids = list(range(1, MAX_PRODUCT_IDS + 1))
    assert parse_product_ids(json.dumps({"product_ids": ids}).encode()) == ids
    with pytest.raises(WebhookError) as error:
        parse_product_ids(json.dumps({"product_ids": [*ids, MAX_PRODUCT_IDS + 1]}).encode())
    assert (error.value.status, error.value.code) == (400, "too_many_product_ids")


# -- settings -----------------------------------------------------------------------------


def test_settings_defaults():
    settings = load_settings({"WEBHOOK_SECRET": SECRET})
    assert (settings.host, settings.port) == ("127.0.0.1", 8787)
    assert settings.graphql_url == "http://127.0.0.1:3000/graphql"
    assert settings.run_url("abc") == "http://127.0.0.1:3000/runs/abc"
    assert settings.secrets == (SECRET,)
    assert settings.is_loopback
    assert SECRET not in repr(settings)


def test_settings_from_env():
    settings = load_settings(
        {
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_SECRET_PREVIOUS": "old-secret-0123456789",
            "WEBHOOK_HOST": "0.0.0.0",
            "WEBHOOK_PORT": "9999",
            "DAGSTER_GRAPHQL_URL": "https://dagster.example.com/graphql/",
            "DAGSTER_CODE_LOCATION": "product_sync",
        }
    )
    assert settings.port == 9999 and not settings.is_loopback
    assert settings.ui_url == "https://dagster.example.com"
    assert settings.secrets == (SECRET, "old-secret-0123456789")
    assert settings.code_location == "product_sync"
    other = load_settings({"WEBHOOK_SECRET": SECRET, "DAGSTER_UI_URL": "http://ui.test/"})
    assert other.run_url("abc") == "http://ui.test/runs/abc"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({}, "WEBHOOK_SECRET is not set"),
        ({"WEBHOOK_SECRET": ""}, "WEBHOOK_SECRET is not set"),
        ({"WEBHOOK_SECRET": "x" * 15}, "WEBHOOK_SECRET is too short"),
        ({"WEBHOOK_SECRET": SECRET, "WEBHOOK_SECRET_PREVIOUS": "short"}, "PREVIOUS is too short"),
        ({"WEBHOOK_SECRET": SECRET, "WEBHOOK_PORT": "http"}, "WEBHOOK_PORT"),
        ({"WEBHOOK_SECRET": SECRET, "WEBHOOK_PORT": "70000"}, "WEBHOOK_PORT"),
        ({"WEBHOOK_SECRET": SECRET, "DAGSTER_GRAPHQL_URL": "localhost:3000"}, "http(s) URL"),
    ],
)
def test_bad_settings(env, needle):
    with pytest.raises(SettingsError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        load_settings(env)


def test_main_refuses_to_start_without_secret(monkeypatch, capsys):
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    assert main([]) == 2
    assert "WEBHOOK_SECRET is not set" in capsys.readouterr().err


def test_console_script_refuses_to_start_with_short_secret():
    script = Path(sys.executable).with_name("product-sync-webhook")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "product_sync.webhook"]
    env = {**os.environ, "WEBHOOK_SECRET": "too-short"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "WEBHOOK_SECRET is too short" in done.stderr
    assert "too-short" not in done.stderr + done.stdout


# -- POST /webhooks/product-update --------------------------------------------------------


def test_signed_request_launches_a_targeted_run(client, backend):
    response = post(client, '{"product_ids": [3, 1, 3]}')
    assert response.status_code == 202, response.text
    body = response.json()
    run_id = "00000000-0000-4000-8000-000000000001"
    assert body == {
        "run_id": run_id,
        "status": "QUEUED",
        "product_ids": [1, 3],
        "full_sync": False,
        "status_url": f"http://testserver/sync/runs/{run_id}",
        "dagster_url": f"http://dagster.test:3000/runs/{run_id}",
        "duplicate": False,
    }
    assert backend.launches == [
        ([1, 3], {"product_sync/trigger": "webhook", "product_sync/product_ids": "1,3"})
    ]


@pytest.mark.parametrize("body", ["", "{}", '{"product_ids": []}'])
def test_empty_body_or_list_is_a_full_sync(client, backend, body):
    response = post(client, body)
    assert response.status_code == 202, response.text
    assert response.json()["product_ids"] == [] and response.json()["full_sync"] is True
    assert backend.launches == [([], {"product_sync/trigger": "webhook"})]


def test_public_url_is_used_for_status_url(backend):
    settings = Settings(secret=SECRET, public_url="https://hooks.example.com")
    client = TestClient(create_app(settings, backend, clock=lambda: NOW))
    assert (
        post(client, "{}").json()["status_url"].startswith("https://hooks.example.com/sync/runs/")
    )


def test_bad_signature_is_401(client, backend):
    headers = signed('{"product_ids": [1]}')
    response = post(client, '{"product_ids": [2]}', headers)
    assert_error(response, 401, "invalid_signature")
    assert backend.launches == []


@pytest.mark.parametrize("missing", ["X-Webhook-Signature", "X-Webhook-Timestamp"])
def test_missing_headers_are_401(client, backend, missing):
    headers = signed("{}")
    del headers[missing]
    code = "missing_signature" if "Signature" in missing else "missing_timestamp"
    assert_error(post(client, "{}", headers), 401, code)
    assert backend.launches == []


@pytest.mark.parametrize(("offset", "code"), [(-301, "stale_timestamp"), (301, "future_timestamp")])
def test_stale_or_future_timestamp_is_401(client, backend, offset, code):
    # Correctly signed, just not now.
    headers = signed("{}", timestamp=NOW + offset)
    assert_error(post(client, "{}", headers), 401, code)
    assert backend.launches == []


def test_wrong_secret_is_401(client):
    headers = signed("{}", secret="not-the-secret-0123")
    assert_error(post(client, "{}", headers), 401, "invalid_signature")


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
    client = TestClient(create_app(settings, down, clock=lambda: NOW))
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


def test_replayed_delivery_does_not_launch_twice(client, backend):
    body = '{"product_ids": [4]}'
    headers = signed(body)
    first = post(client, body, headers)
    second = post(client, body, headers)
    assert first.status_code == second.status_code == 202
    assert second.json() == {**first.json(), "duplicate": True}
    assert len(backend.launches) == 1
    # A new signature (new timestamp) is a new delivery.
    assert post(client, body, signed(body, timestamp=NOW - 1)).json()["duplicate"] is False
    assert len(backend.launches) == 2


def test_retry_after_503_launches(client, backend):
    headers = signed("{}")
    backend.fail = DagsterUnavailable("down")
    assert_error(post(client, "{}", headers), 503, "dagster_unavailable")
    backend.fail = None
    response = post(client, "{}", headers)
    assert response.status_code == 202 and response.json()["duplicate"] is False


def test_delivery_cache_expires():
    now = [0.0]
    cache = DeliveryCache(ttl_s=10, clock=lambda: now[0])
    calls = []

    async def launch():
        calls.append(1)
        return len(calls)

    async def scenario():
        assert await cache.once("k", launch) == (1, False)
        assert await cache.once("k", launch) == (1, True)
        now[0] = 11
        assert await cache.once("k", launch) == (2, False)

    asyncio.run(scenario())


def test_delivery_cache_shares_a_launch_in_flight():
    cache = DeliveryCache()
    calls = []

    async def launch():
        calls.append(1)
        await asyncio.sleep(0.01)
        return "run"

    async def scenario():
        return await asyncio.gather(cache.once("k", launch), cache.once("k", launch))

    assert asyncio.run(scenario()) == [("run", False), ("run", True)]
    assert calls == [1]


def test_logs_never_contain_secret_or_signature(client, caplog):
    caplog.set_level("DEBUG")
    good = signed('{"product_ids": [1]}')
    post(client, '{"product_ids": [1]}', good)
    post(client, '{"product_ids": [2]}', good)  # bad signature, logged as rejected
    assert "launched run" in caplog.text and "invalid_signature" in caplog.text
    assert SECRET not in caplog.text
    assert good["X-Webhook-Signature"][7:] not in caplog.text


def test_unknown_route_and_wrong_method_are_json(client):
    assert_error(client.get("/nope"), 404, "not_found")
    assert_error(client.get(URL), 405, "method_not_allowed")


def test_unexpected_failure_is_json_500(settings, backend):
    backend.fail = RuntimeError("secret detail")
    client = TestClient(create_app(settings, backend), raise_server_exceptions=False)
    payload = assert_error(client.get("/sync/status"), 500, "internal_error")
    assert "secret detail" not in payload["message"]


def test_sync_tags_are_bounded():
    tags = sync_tags(list(range(1, 1001)))
    assert len(tags["product_sync/product_ids"]) <= 200
    assert tags["product_sync/product_ids"].endswith("(1000 ids)")


# -- GET /sync/status, /sync/runs/{id}, /healthz -----------------------------------------


REPORT = {
    "created": 1,
    "updated": 2,
    "unchanged": 3,
    "archived": 0,
    "quarantined": 0,
    "errors": 0,
    "duration_s": 0.714,
    "products_per_s": 8.4,
    "dry_run": False,
}


def fake_runs() -> list[SyncRun]:
    return [
        SyncRun(
            run_id=RUN_ID,
            status="SUCCESS",
            created_at=NOW,
            started_at=NOW + 5,
            ended_at=NOW + 9.5,
            tags={"product_sync/trigger": "webhook", "product_sync/sync": "catalog"},
            product_ids=[3],
            numbers=REPORT,
        ),
        SyncRun(
            run_id="11111111-1111-4111-8111-111111111111",
            status="QUEUED",
            created_at=NOW - 60,
            tags={"dagster/schedule_name": "daily_sync_schedule"},
        ),
    ]


def test_status_shape(settings):
    backend = FakeBackend(fake_runs())
    client = TestClient(create_app(settings, backend))
    response = client.get("/sync/status")
    assert response.status_code == 200
    body = response.json()
    assert body["job"] == "sync_job" and body["limit"] == 10 and backend.limits == [10]
    assert body["runs"][0] == {
        "run_id": RUN_ID,
        "status": "SUCCESS",
        "trigger": "webhook",
        "product_ids": [3],
        "full_sync": False,
        "created_at": "2023-11-14T22:13:20+00:00",
        "started_at": "2023-11-14T22:13:25+00:00",
        "ended_at": "2023-11-14T22:13:29+00:00",
        "failure_reason": None,
        "synced_products": REPORT,
        "dagster_url": f"http://dagster.test:3000/runs/{RUN_ID}",
    }
    queued = body["runs"][1]
    assert queued["trigger"] == "schedule" and queued["full_sync"] is True
    assert queued["started_at"] is None and queued["synced_products"] is None


@pytest.mark.parametrize(
    ("query", "limit"), [("?limit=1", 1), ("?limit=50", 50), ("?limit=500", 50)]
)
def test_status_limit(settings, query, limit):
    backend = FakeBackend(fake_runs())
    client = TestClient(create_app(settings, backend))
    assert client.get(f"/sync/status{query}").json()["limit"] == limit
    assert backend.limits == [limit]


@pytest.mark.parametrize("limit", ["0", "-1", "ten", "1.5"])
def test_status_bad_limit_is_400(client, limit):
    assert_error(client.get(f"/sync/status?limit={limit}"), 400, "invalid_limit")


def test_run_endpoint(settings):
    client = TestClient(create_app(settings, FakeBackend(fake_runs())))
    assert client.get(f"/sync/runs/{RUN_ID}").json()["synced_products"] == REPORT
    assert_error(
        client.get("/sync/runs/22222222-2222-4222-8222-222222222222"), 404, "run_not_found"
    )
    assert_error(client.get("/sync/runs/not-a-run"), 404, "run_not_found")


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/healthz?dagster=1").json() == {
        "status": "ok",
        "dagster": {"reachable": True, "version": "1.13.27"},
    }


@pytest.mark.parametrize(
    ("tags", "trigger"),
    [
        ({"product_sync/trigger": "webhook"}, "webhook"),
        ({"dagster/sensor_name": "s"}, "sensor"),
        ({"dagster/backfill": "b"}, "backfill"),
        ({}, "manual"),
    ],
)
def test_trigger_of(tags, trigger):
    assert trigger_of(tags) == trigger


# -- the GraphQL backend, against mocked Dagster answers ---------------------------------


def graphql_body(call) -> dict:
    return json.loads(call.request.body)


REPOSITORIES = {
    "data": {
        "repositoriesOrError": {
            "__typename": "RepositoryConnection",
            "nodes": [
                {
                    "name": "__repository__",
                    "location": {"name": "product_sync.definitions"},
                    "jobs": [{"name": "__ASSET_JOB"}, {"name": "sync_job"}],
                },
                {"name": "other", "location": {"name": "other"}, "jobs": [{"name": "x"}]},
            ],
        }
    }
}


@responses.activate
def test_graphql_launch():
    responses.post(GRAPHQL, json=REPOSITORIES)
    responses.post(
        GRAPHQL,
        json={
            "data": {
                "launchRun": {
                    "__typename": "LaunchRunSuccess",
                    "run": {"runId": RUN_ID, "status": "QUEUED"},
                }
            }
        },
    )
    run = GraphQLSyncBackend(GRAPHQL).launch_sync([1, 2], {"product_sync/trigger": "webhook"})
    assert run == LaunchedRun(RUN_ID, "QUEUED")
    params = graphql_body(responses.calls[1])["variables"]["params"]
    assert params == {
        "selector": {
            "repositoryLocationName": "product_sync.definitions",
            "repositoryName": "__repository__",
            "jobName": "sync_job",
        },
        "runConfigData": {"ops": {"dummyjson_products": {"config": {"product_ids": [1, 2]}}}},
        "executionMetadata": {"tags": [{"key": "product_sync/trigger", "value": "webhook"}]},
    }


@responses.activate
def test_graphql_launch_python_error_on_http_500_is_request_failed():
    responses.post(GRAPHQL, json=REPOSITORIES)
    message = "dagster._core.errors.DagsterInvalidConfigError: Error in config\n  Stack..."
    responses.post(
        GRAPHQL,
        status=500,
        json={"data": {"launchRun": {"__typename": "PythonError", "message": message}}},
    )
    with pytest.raises(DagsterRequestFailed, match="DagsterInvalidConfigError") as error:
        GraphQLSyncBackend(GRAPHQL).launch_sync([], {})
    assert "Stack" not in str(error.value)


@responses.activate
def test_graphql_job_not_loaded_is_unavailable():
    empty = {"data": {"repositoriesOrError": {"__typename": "RepositoryConnection", "nodes": []}}}
    responses.post(GRAPHQL, json=empty)
    workspace = {
        "data": {
            "workspaceOrError": {
                "__typename": "Workspace",
                "locationEntries": [
                    {
                        "name": "product_sync.definitions",
                        "loadStatus": "LOADED",
                        "locationOrLoadError": {
                            "__typename": "PythonError",
                            "message": "ImportError: no module\ntrace",
                        },
                    }
                ],
            }
        }
    }
    responses.post(GRAPHQL, json=workspace)
    with pytest.raises(DagsterUnavailable, match=r"product_sync\.definitions: ImportError"):
        GraphQLSyncBackend(GRAPHQL).launch_sync([], {})


@responses.activate
def test_graphql_code_location_setting_picks_the_location():
    responses.post(GRAPHQL, json=REPOSITORIES)
    responses.post(GRAPHQL, json={"data": {"workspaceOrError": {"__typename": "PythonError"}}})
    with pytest.raises(DagsterUnavailable, match="in code location 'elsewhere'"):
        GraphQLSyncBackend(GRAPHQL, code_location="elsewhere").launch_sync([], {})


@responses.activate
def test_graphql_gateway_errors_are_unavailable_other_answers_are_failures():
    responses.post(GRAPHQL, status=502, body="Bad Gateway")
    with pytest.raises(DagsterUnavailable, match="HTTP 502"):
        GraphQLSyncBackend(GRAPHQL).recent_runs(1)
    responses.replace(responses.POST, GRAPHQL, status=404, body="<html>not here</html>")
    with pytest.raises(DagsterRequestFailed, match="DAGSTER_GRAPHQL_URL"):
        GraphQLSyncBackend(GRAPHQL).recent_runs(1)
    responses.replace(responses.POST, GRAPHQL, json={"errors": [{"message": "Cannot query x"}]})
    with pytest.raises(DagsterRequestFailed, match="Cannot query x"):
        GraphQLSyncBackend(GRAPHQL).recent_runs(1)
    partial = {"data": {"runsOrError": None}, "errors": [{"message": "resolver failed"}]}
    responses.replace(responses.POST, GRAPHQL, json=partial)
    with pytest.raises(DagsterRequestFailed, match="resolver failed"):
        GraphQLSyncBackend(GRAPHQL).recent_runs(1)


@responses.activate
def test_graphql_timeout_is_unavailable():
    responses.post(GRAPHQL, body=requests.Timeout())
    with pytest.raises(DagsterUnavailable, match="did not answer in time"):
        GraphQLSyncBackend(GRAPHQL).ping()


@responses.activate
def test_graphql_runs_are_parsed():
    def entry(kind, label, **value):
        return {"__typename": kind, "label": label, **value}

    run = {
        "runId": RUN_ID,
        "status": "SUCCESS",
        "creationTime": 1.0,
        "startTime": 2.0,
        "endTime": 3.0,
        "tags": [{"key": "product_sync/trigger", "value": "webhook"}],
        "runConfig": {"ops": {"dummyjson_products": {"config": {"product_ids": [7]}}}},
        "assetMaterializations": [
            {
                "assetKey": {"path": ["dummyjson_products"]},
                "metadataEntries": [entry("IntMetadataEntry", "products", intValue=1, intRepr="1")],
            },
            {
                "assetKey": {"path": ["synced_products"]},
                "metadataEntries": [
                    entry("IntMetadataEntry", "updated", intValue=1, intRepr="1"),
                    entry("IntMetadataEntry", "big", intValue=None, intRepr="9999999999"),
                    entry("FloatMetadataEntry", "duration_s", floatValue=0.5),
                    entry("BoolMetadataEntry", "dry_run", boolValue=False),
                    entry("JsonMetadataEntry", "products_by_category"),
                ],
            },
        ],
    }
    unmaterialized = {**run, "runId": "x", "assetMaterializations": [], "runConfig": {}}
    responses.post(
        GRAPHQL,
        json={"data": {"runsOrError": {"__typename": "Runs", "results": [run, unmaterialized]}}},
    )
    runs = GraphQLSyncBackend(GRAPHQL).recent_runs(2)
    assert runs[0] == SyncRun(
        run_id=RUN_ID,
        status="SUCCESS",
        created_at=1.0,
        started_at=2.0,
        ended_at=3.0,
        tags={"product_sync/trigger": "webhook"},
        product_ids=[7],
        numbers={"updated": 1, "big": 9999999999, "duration_s": 0.5, "dry_run": False},
    )
    assert runs[1].numbers is None and runs[1].product_ids == []
    variables = graphql_body(responses.calls[0])["variables"]
    assert variables == {"filter": {"pipelineName": "sync_job"}, "limit": 2}
