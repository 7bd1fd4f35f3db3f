import dagster as dg

from product_sync import names
from product_sync.core.review import Change, PlanRecord, PlanRow
from product_sync.definitions import defs
from product_sync.defs.catalog_sync.metadata import TABLE_ROWS_SHOWN
from product_sync.defs.catalog_sync.plan_metadata import plan_metadata


def store_env(monkeypatch):
    monkeypatch.setenv("MEDUSA_BACKEND_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("MEDUSA_API_KEY", "sk_test")


def test_the_revert_job_is_one_revert_run_op_queued_like_a_sync(monkeypatch):
    store_env(monkeypatch)
    job = defs.resolve_job_def(names.REVERT_JOB)
    assert [node.name for node in job.graph.nodes] == [names.REVERT_OP]
    assert job.tags.get(names.SYNC_QUEUE_TAG_KEY) == names.SYNC_QUEUE_TAG[names.SYNC_QUEUE_TAG_KEY]
    fields = job.graph.node_named(names.REVERT_OP).definition.config_schema.config_type.fields
    assert set(fields) == {names.REVERT_RUN_ID_FIELD, names.REVERT_FORCE_FIELD}
    assert fields[names.REVERT_RUN_ID_FIELD].is_required
    assert not fields[names.REVERT_FORCE_FIELD].is_required
    # The contract's run config is valid for it (what the launchpad and the CLI send).
    assert dg.validate_run_config(job, names.revert_run_config("some-run-id"))


def test_synced_products_takes_apply_plan(monkeypatch):
    store_env(monkeypatch)
    job = defs.resolve_implicit_global_asset_job_def()
    config = {"ops": {names.SYNC_ASSET: {"config": {names.APPLY_PLAN_FIELD: "a-run-id"}}}}
    assert dg.validate_run_config(job, config)


def test_a_large_plan_is_capped_in_the_ui_and_complete_in_the_file(tmp_path):
    rows = [
        PlanRow(action="update", source_id=i, changes={"price.usd": Change(old=1, new=2)})
        for i in range(1, TABLE_ROWS_SHOWN + 51)
    ]
    record = PlanRecord(run_id="r1", dry_run=True, rows=rows)
    path = tmp_path / "plan.json"
    path.write_text(record.model_dump_json())
    shown = plan_metadata(record, path)
    assert len(shown["plan_update"].records) == TABLE_ROWS_SHOWN
    assert shown["plan_update"].records[0].data["price"] == "1.00 → 2.00"
    assert "| update | 250 |" in shown["plan_summary"].value
    assert f"first {TABLE_ROWS_SHOWN} rows" in shown["plan_summary"].value
    assert '"apply_plan": "r1"' in shown["plan_summary"].value
    assert len(PlanRecord.model_validate_json(path.read_text()).rows) == 250
    assert shown["plan_file"].value == str(path)
