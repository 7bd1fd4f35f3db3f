import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import responses
import yaml
from dagster._utils.schedules import cron_string_iterator

from product_sync import names
from product_sync.definitions import defs
from product_sync.defs.catalog_sync import assets
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync_tests.conftest import REPO_ROOT
from product_sync_tests.factories import record

CATALOG_ASSETS = {names.SOURCE_ASSET, names.CATEGORY_ASSET, names.INDEX_ASSET, names.SYNC_ASSET}
# What the README promises the checks assert, by the names operators see in the UI.
CHECKS = {
    "no_duplicate_external_ids",
    "no_duplicate_handles",
    "every_source_product_present_once",
    "categories_linked",
    "prices_match_source",
    "stock_matches_source",
    "idempotent",
    "no_quarantined_records",
    "storefront_ready",
}


def test_definitions_load_as_dagster_loads_them():
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    # One asset per step of the one sync: the scaled-out job runs the same sync, so it
    # adds no asset (a second one would make "Materialize all" run two syncs).
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == CATALOG_ASSETS
    # Every check is on the synced products, the asset whose materialization it judges.
    assert {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys} == {
        (names.SYNC_ASSET, name) for name in CHECKS
    }


def test_materialize_all_runs_one_sync():
    """The UI's "Materialize all" and `--select '*'` run the implicit asset job: its steps
    are the four assets and their checks, nothing of the scaled-out job."""
    job = defs.resolve_implicit_global_asset_job_def()
    steps = {node.name for node in job.graph.nodes}
    assert steps == CATALOG_ASSETS | {"synced_products_checks", "synced_products_storefront_ready"}


def test_synced_products_is_built_from_the_three_others():
    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(names.SYNC_ASSET)).parent_keys
    assert {p.to_user_string() for p in parents} == CATALOG_ASSETS - {names.SYNC_ASSET}


def test_sync_job_runs_the_catalog_assets_and_every_check_in_one_process():
    job = defs.resolve_job_def(names.SYNC_JOB)
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert keys == CATALOG_ASSETS
    checks = {k.name for k in job.asset_layer.asset_graph.asset_check_keys}
    assert checks == CHECKS
    assert job.executor_def.name == "in_process"


def queue_limits() -> list[dict]:
    config = yaml.safe_load(Path(REPO_ROOT, "dagster.yaml").read_text())
    return config["run_coordinator"]["config"]["tag_concurrency_limits"]


def limit_for(tags: dict[str, str]) -> int | None:
    """The tightest dagster.yaml queue limit that applies to a run with these tags."""
    found = [
        rule["limit"]
        for rule in queue_limits()
        if rule["key"] in tags and rule.get("value") in (None, tags[rule["key"]])
    ]
    return min(found, default=None)


def test_a_schedule_tick_asks_for_a_sync_job_run_the_queue_runs_one_at_a_time():
    schedule = defs.resolve_schedule_def(names.DAILY_SCHEDULE)
    midnight = datetime(2026, 3, 1, tzinfo=UTC)
    context = dg.build_schedule_context(scheduled_execution_time=midnight)
    (request,) = schedule.evaluate_tick(context).run_requests
    job_name = request.job_name or schedule.job_name
    assert job_name == names.SYNC_JOB
    job = defs.resolve_job_def(job_name)
    assert limit_for({**job.tags, **request.tags}) == 1
    # The webhook's targeted runs are sync_job runs too: they queue behind the same limit.
    assert limit_for(dict(job.tags)) == 1


def test_the_scaled_out_job_queues_behind_the_same_limit():
    job = defs.resolve_job_def(names.SCALE_OUT_JOB)
    assert limit_for(dict(job.tags)) == 1
    sync_tags = defs.resolve_job_def(names.SYNC_JOB).tags
    shared = {k for k in job.tags if k in sync_tags and job.tags[k] == sync_tags[k]}
    assert any(limit_for({k: job.tags[k]}) == 1 for k in shared)


def test_the_schedule_fires_every_day_at_midnight_utc_and_is_on_by_default():
    schedule = defs.resolve_schedule_def(names.DAILY_SCHEDULE)
    start = datetime(2026, 3, 1, 13, 30, tzinfo=UTC).timestamp()
    ticks = cron_string_iterator(start, schedule.cron_schedule, schedule.execution_timezone)
    fired = [next(ticks) for _ in range(3)]
    assert [t.astimezone(UTC) for t in fired] == [
        datetime(2026, 3, day, tzinfo=UTC) for day in (2, 3, 4)
    ]
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_medusa_secret_is_read_from_the_environment_when_a_run_starts(monkeypatch):
    monkeypatch.setenv("MEDUSA_BACKEND_URL", "http://store.test")
    monkeypatch.setenv("MEDUSA_API_KEY", "sk_from_the_environment")
    with dg.build_resources({"medusa": defs.resources["medusa"]}) as built:
        assert built.medusa.api_key == "sk_from_the_environment"
        assert built.medusa.backend_url == "http://store.test"
    monkeypatch.delenv("MEDUSA_API_KEY")
    with (
        pytest.raises(dg.DagsterInvalidConfigError),
        dg.build_resources({"medusa": defs.resources["medusa"]}),
    ):
        pass


@responses.activate
def test_dummyjson_products_asset_quarantines_and_reports():
    good = [record(id=i, title=f"P{i}") for i in (1, 2)]
    bad = record(id=3, price="free")
    responses.get(
        "http://src.test/products",
        json={"products": [*good, bad], "total": 3, "skip": 0, "limit": 3},
    )
    context = dg.build_asset_context()
    catalog = assets.dummyjson_products(
        context=context,
        config=assets.SourceConfig(),
        dummyjson=DummyJSONResource(base_url="http://src.test"),
    )
    assert [p.id for p in catalog.products] == [1, 2]
    assert [q.source_id for q in catalog.quarantined] == [3]
    assert catalog.full_catalog and catalog.pages_fetched == 1
    assert json.loads(json.dumps(catalog.model_dump(mode="json")))  # serialisable for the UI
