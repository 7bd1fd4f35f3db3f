import dagster as dg

from product_sync.definitions import defs
from product_sync.defs.catalog_sync import schedules
from product_sync.defs.scale_out import jobs


def test_partitioned_job_runs_the_scale_out_asset_on_the_multiprocess_executor():
    job = defs.resolve_job_def("sync_partitioned_job")
    assert job.executor_def.name == "multiprocess"
    assert job.tags.get("product_sync/sync") == "catalog"  # queues behind sync_job
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert keys == {"synced_products_partitioned"}
    default = job.run_config_schema.config_type.fields["execution"].default_value
    assert default == {"config": {"max_concurrent": jobs.MAX_CONCURRENT}}


def test_the_one_process_sync_job_is_unchanged():
    job = defs.resolve_job_def("sync_job")
    assert job.executor_def.name == "in_process"
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert keys == {"dummyjson_products", "category_map", "medusa_product_index", "synced_products"}
    assert schedules.daily_sync_schedule.job_name == "sync_job"


def test_ranges_fan_out_between_a_setup_step_and_a_combining_step():
    graph = defs.resolve_assets_def("synced_products_partitioned").node_def
    assert isinstance(graph, dg.GraphDefinition)
    names = {node.name for node in graph.nodes}
    assert names == {"id_ranges_op", "sync_id_range_op", "combine_ranges"}
    (output,) = graph.node_named("id_ranges_op").definition.output_defs
    assert output.is_dynamic
