import json

import dagster as dg
import responses

from product_sync.definitions import defs
from product_sync.defs.catalog_sync import assets, schedules
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync_tests.factories import record


def test_definitions_load_with_the_four_assets_checks_job_and_schedule():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    # One asset per step of the one sync: the scaled-out job runs the same sync, so it
    # adds no asset (a second one would make "Materialize all" run two syncs).
    assert keys == {"dummyjson_products", "category_map", "medusa_product_index", "synced_products"}
    checks = {k.name for k in graph.asset_check_keys}
    assert {"no_duplicate_external_ids", "no_duplicate_handles", "idempotent"} <= checks
    assert defs.resolve_job_def("sync_job") is not None
    assert {"dummyjson", "medusa", "sync_settings"} <= set(defs.resources)


def test_materialize_all_runs_one_sync():
    """The UI's "Materialize all" and `--select '*'` run the implicit asset job: its steps
    are the four assets and their checks, nothing of the scaled-out job."""
    job = defs.resolve_implicit_global_asset_job_def()
    steps = {node.name for node in job.graph.nodes}
    assert steps == {
        "dummyjson_products",
        "category_map",
        "medusa_product_index",
        "synced_products",
        "synced_products_checks",
    }


def test_asset_dependencies():
    graph = defs.resolve_asset_graph()
    parents = {p.to_user_string() for p in graph.get(dg.AssetKey("synced_products")).parent_keys}
    assert parents == {"dummyjson_products", "category_map", "medusa_product_index"}


def test_daily_schedule_runs_the_sync_job_at_midnight_utc():
    schedule = defs.resolve_schedule_def("daily_sync_schedule")
    assert schedule.cron_schedule == "0 0 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.job_name == "sync_job"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    context = dg.build_schedule_context()
    (request,) = list(schedule.evaluate_tick(context).run_requests)
    assert request.job_name in (None, "sync_job")


def test_sync_runs_carry_the_one_at_a_time_tag():
    job = defs.resolve_job_def("sync_job")
    assert job.tags.get("product_sync/sync") == "catalog"
    assert schedules.SYNC_CONCURRENCY_TAG == {"product_sync/sync": "catalog"}


def test_medusa_secret_comes_from_the_environment():
    medusa = defs.resources["medusa"]
    assert isinstance(medusa.api_key, dg.EnvVar)
    assert medusa.api_key.env_var_name == "MEDUSA_API_KEY"


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
