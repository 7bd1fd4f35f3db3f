"""The alert sensors on real failed runs: `sync_job` itself failing (its source and store
unreachable) and a blocking check failing, each run recorded in a real instance, then each
sensor evaluated as the daemon would (Dagster's run-status sensor context) and its message
read at a local HTTP receiver."""

from collections.abc import Iterator

import dagster as dg
import pytest

from devstack.catalog.server import CatalogServer
from product_sync import names
from product_sync.definitions import defs
from product_sync.defs.operations import alerts
from product_sync_tests.operations.receiver import Receiver, alert_receiver

API_KEY = "sk_test_do_not_leak_0123456789"


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def receiver(monkeypatch) -> Iterator[Receiver]:
    with alert_receiver() as receiver:
        monkeypatch.setenv(names.ALERT_WEBHOOK_ENV, receiver.url)
        monkeypatch.setenv(names.DAGSTER_UI_URL_ENV, "http://dagster.test:3000")
        yield receiver


def failure_context(instance, result, sensor_name):
    run = instance.get_run_by_id(result.run_id)
    return dg.build_run_status_sensor_context(
        sensor_name=sensor_name,
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=run,
    ).for_run_failure()


def failed_sync_run(instance, monkeypatch) -> dg.ExecuteInProcessResult:
    """sync_job as defined, its source answering 503 and its store refusing connections."""
    monkeypatch.setenv("MEDUSA_BACKEND_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MEDUSA_API_KEY", API_KEY)
    no_retries = {"max_retries": 0, "connect_timeout_s": 2.0}
    with CatalogServer(faults={"seed": 0, "rules": [{"kind": "error", "statuses": [503]}]}) as src:
        return defs.resolve_job_def(names.SYNC_JOB).execute_in_process(
            instance=instance,
            run_config={
                "ops": {names.SOURCE_ASSET: {"config": {names.PRODUCT_IDS_FIELD: [3, 5]}}},
                "resources": {
                    "dummyjson": {"config": {"base_url": src.base_url, **no_retries}},
                    "medusa": {
                        "config": {
                            "backend_url": {"env": "MEDUSA_BACKEND_URL"},
                            "api_key": {"env": "MEDUSA_API_KEY"},
                            **no_retries,
                        }
                    },
                },
            },
            raise_on_error=False,
        )


def test_a_failed_sync_run_is_reported_with_job_link_steps_and_no_secret(
    instance, receiver, monkeypatch
):
    result = failed_sync_run(instance, monkeypatch)
    assert not result.success
    context = failure_context(instance, result, names.RUN_FAILURE_ALERT_SENSOR)

    outcome = alerts.run_failure_alert(context)

    assert outcome.skip_message == "alert sent (HTTP 200)"
    (text,) = receiver.texts()
    assert text.startswith("product_sync: a sync_job run failed\n")
    assert f"Run: http://dagster.test:3000/runs/{result.run_id}" in text
    assert "Targeted product ids: 3, 5" in text
    failed = [e.step_key for e in result.get_step_failure_events()]
    assert failed and all(f"- step {step}: " in text for step in failed)
    # The innermost error, not Dagster's wrapper: the store or source said no.
    assert "Error occurred while executing" not in text
    assert "- step dummyjson_products: SourceUnavailable: source http://127.0.0.1:" in text
    assert "GET /products/3 -> 503" in text
    assert f"Counts: failed steps {len(failed)}" in text
    assert API_KEY not in text


def test_no_webhook_no_message_and_the_sensor_still_succeeds(instance, monkeypatch):
    result = failed_sync_run(instance, monkeypatch)
    monkeypatch.delenv(names.ALERT_WEBHOOK_ENV, raising=False)
    context = failure_context(instance, result, names.RUN_FAILURE_ALERT_SENSOR)
    assert alerts.run_failure_alert(context).skip_message == (
        f"{names.ALERT_WEBHOOK_ENV} is not set: no alert sent"
    )


@dg.asset
def shelf():
    return 1


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec("prices_ok", asset="shelf", blocking=True),
        dg.AssetCheckSpec("handles_ok", asset="shelf", blocking=True),
        dg.AssetCheckSpec("titles_ok", asset="shelf"),
    ]
)
def shelf_checks(shelf):
    offenders = ["dummyjson:4", "dummyjson:9"]
    yield dg.AssetCheckResult(
        check_name="prices_ok",
        asset_key="shelf",
        passed=False,
        metadata={"count": len(offenders), "offending": offenders},
    )
    # As the real checks report offenders: a table, here with two columns.
    yield dg.AssetCheckResult(
        check_name="handles_ok",
        asset_key="shelf",
        passed=False,
        metadata={
            "count": 1,
            "offending": dg.MetadataValue.table(
                [dg.TableRecord({"handle": "mug", "products": 2})],
                schema=dg.TableSchema(
                    columns=[dg.TableColumn("handle", "string"), dg.TableColumn("products", "int")]
                ),
            ),
        },
    )
    yield dg.AssetCheckResult(check_name="titles_ok", asset_key="shelf", passed=False)


@dg.asset(deps=["shelf"])
def downstream():
    return 2


def test_a_failed_blocking_check_is_reported_with_its_numbers_and_offenders(instance, receiver):
    result = dg.materialize(
        [shelf, shelf_checks, downstream], instance=instance, raise_on_error=False
    )
    assert not result.success  # a blocking check failing with ERROR fails its step
    context = failure_context(instance, result, names.CHECK_FAILURE_ALERT_SENSOR)

    assert alerts.blocking_check_failure_alert(context).skip_message == "alert sent (HTTP 200)"

    (text,) = receiver.texts()
    assert text.splitlines()[0].startswith("product_sync: 2 blocking checks failed")
    assert f"/runs/{result.run_id}" in text
    assert "- shelf / prices_ok (count 2)" in text
    assert "e.g. dummyjson:4, dummyjson:9" in text
    assert "- shelf / handles_ok (count 1)\n  e.g. handle=mug, products=2" in text
    assert "titles_ok" not in text  # failed, but not blocking


def test_a_run_that_failed_otherwise_gets_no_check_alert(instance, receiver, monkeypatch):
    result = failed_sync_run(instance, monkeypatch)
    context = failure_context(instance, result, names.CHECK_FAILURE_ALERT_SENSOR)
    outcome = alerts.blocking_check_failure_alert(context)
    assert outcome.skip_message == "no blocking check failed in this run"
    assert receiver.received == []


def test_the_sensors_are_registered_and_on_by_default():
    for name in (
        names.RUN_FAILURE_ALERT_SENSOR,
        names.CHECK_FAILURE_ALERT_SENSOR,
        names.CRASHED_RUN_SENSOR,
    ):
        sensor = defs.resolve_sensor_def(name)
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
