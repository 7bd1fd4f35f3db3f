"""Unit tests of ``GET /sync/status``, ``GET /sync/runs/{id}`` and ``GET /healthz`` over a
fake ``SyncBackend``."""

import pytest
from starlette.testclient import TestClient

from product_sync import names
from product_sync.webhook.app import create_app, trigger_of
from product_sync.webhook.dagster_backend import SyncRun
from product_sync.webhook.settings import Settings
from product_sync_tests.webhook.fake_backend import FakeBackend
from product_sync_tests.webhook.sender import new_secret

NOW = 1_700_000_000
RUN_ID = "b8d61a4c-31f7-4de3-b834-164a3778ab29"


@pytest.fixture
def settings():
    return Settings(secret=new_secret(), graphql_url="http://dagster.test:3000/graphql")


@pytest.fixture
def client(settings):
    return TestClient(create_app(settings, FakeBackend()))


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == code and response.json()["message"]


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
            tags={
                "product_sync/trigger": "webhook",
                names.DELIVERY_TAG: "msg_1",
                **names.SYNC_QUEUE_TAG,
            },
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
    assert body["job"] == names.SYNC_JOB and body["limit"] == 10 and backend.limits == [10]
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
        "delivery_id": "msg_1",
        "synced_products": REPORT,
        "dagster_url": f"http://dagster.test:3000/runs/{RUN_ID}",
    }
    queued = body["runs"][1]
    assert queued["trigger"] == "schedule" and queued["full_sync"] is True
    assert queued["started_at"] is None and queued["synced_products"] is None
    assert queued["delivery_id"] is None


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
