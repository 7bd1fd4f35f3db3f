"""End to end: a blocking check fails on the real store, and both alerts say so.

The real assets sync the catalog into the real local Medusa store (a real instance, so the
checks can run later on their own). Then a product made by hand in the admin takes one of
our external ids: a duplicate. Running the checks again fails `no_duplicate_external_ids`
(blocking), which fails the run; the two failure sensors, evaluated on that run as the daemon
would, POST their messages to a local receiver."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest
import requests

from devstack.catalog.server import CatalogServer
from devstack.stack import StackInfo
from product_sync import names
from product_sync.defs.catalog_sync import assets, checks
from product_sync.defs.catalog_sync.settings import SyncSettings
from product_sync.defs.operations import alerts
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.medusa import MedusaResource
from product_sync_tests.operations.receiver import Receiver, alert_receiver

pytestmark = pytest.mark.e2e

ASSETS = [
    assets.dummyjson_products,
    assets.category_map,
    assets.medusa_product_index,
    assets.synced_products,
    checks.synced_products_checks,
]


@pytest.fixture
def receiver(monkeypatch) -> Iterator[Receiver]:
    with alert_receiver() as receiver:
        monkeypatch.setenv(names.ALERT_WEBHOOK_ENV, receiver.url)
        yield receiver


def hand_made_duplicate(info: StackInfo, external_id: str) -> None:
    body = {
        "title": "Made by hand",
        "handle": "made-by-hand-duplicate",
        "status": "published",
        "external_id": external_id,
        "options": [{"title": "Size", "values": ["M"]}],
    }
    response = requests.post(
        f"{info.backend_url}/admin/products", json=body, auth=(info.api_key, ""), timeout=30
    )
    assert response.ok, response.text[:300]


def test_a_failed_blocking_check_on_the_real_store_is_alerted(
    empty_store: StackInfo, receiver: Receiver, tmp_path
):
    with (
        CatalogServer(seed=42, count=40) as catalog,
        dg.instance_for_test(temp_dir=str(tmp_path)) as instance,
    ):
        resources = {
            "sync_settings": SyncSettings(),
            "dummyjson": DummyJSONResource(base_url=catalog.base_url, initial_backoff_s=0.05),
            "medusa": MedusaResource(
                backend_url=empty_store.backend_url,
                api_key=empty_store.api_key,
                initial_backoff_s=0.05,
            ),
        }
        synced = dg.materialize(ASSETS, instance=instance, resources=resources)
        assert synced.success

        hand_made_duplicate(empty_store, "dummyjson:7")
        checked = dg.materialize(
            ASSETS,
            instance=instance,
            resources=resources,
            selection=dg.AssetSelection.checks_for_assets(names.SYNC_ASSET),
            raise_on_error=False,
        )
        assert not checked.success
        failed = {e.check_name for e in checked.get_asset_check_evaluations() if not e.passed}
        assert "no_duplicate_external_ids" in failed

        run = instance.get_run_by_id(checked.run_id)
        outcomes = []
        for sensor, name in [
            (alerts.blocking_check_failure_alert, names.CHECK_FAILURE_ALERT_SENSOR),
            (alerts.run_failure_alert, names.RUN_FAILURE_ALERT_SENSOR),
        ]:
            context = dg.build_run_status_sensor_context(
                sensor_name=name,
                dagster_event=checked.get_run_failure_event(),
                dagster_instance=instance,
                dagster_run=run,
            ).for_run_failure()
            outcomes.append(sensor(context).skip_message)
    assert outcomes == ["alert sent (HTTP 200)"] * 2

    check_alert, run_alert = receiver.texts()
    assert "blocking check" in check_alert.splitlines()[0]
    assert f"/runs/{checked.run_id}" in check_alert
    assert "- synced_products / no_duplicate_external_ids (count 1)" in check_alert
    assert "e.g. dummyjson:7" in check_alert
    assert run_alert.startswith("product_sync: a __ephemeral_asset_job__ run failed")
    assert "- step synced_products_checks: DagsterAssetCheckFailedError:" in run_alert
    assert "no_duplicate_external_ids" in run_alert
    for text in (check_alert, run_alert):
        assert empty_store.api_key not in text and receiver.url not in text
