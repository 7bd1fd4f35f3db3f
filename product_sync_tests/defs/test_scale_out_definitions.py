import dagster as dg

from product_sync import names
from product_sync.definitions import defs
from product_sync.defs.scale_out import jobs


def test_partitioned_job_runs_ranges_on_the_multiprocess_executor_in_the_sync_queue():
    job = defs.resolve_job_def(names.SCALE_OUT_JOB)
    assert job.executor_def.name == "multiprocess"
    assert job.tags.get(names.SYNC_QUEUE_TAG_KEY) == "catalog"  # queues behind sync_job
    assert not job.asset_layer.executable_asset_keys  # it is a mode, not another asset
    default = job.run_config_schema.config_type.fields["execution"].default_value
    assert default == {
        "config": {
            "max_concurrent": jobs.MAX_CONCURRENT,
            # Range processes fork from a server with this code imported, not spawned.
            "start_method": {
                "forkserver": {"preload_modules": ["product_sync.defs.scale_out.jobs"]}
            },
        }
    }


def test_the_one_process_sync_job_runs_the_four_assets_in_process():
    job = defs.resolve_job_def(names.SYNC_JOB)
    assert job.executor_def.name == "in_process"
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert keys == {"dummyjson_products", "category_map", "medusa_product_index", "synced_products"}
    assert defs.resolve_schedule_def(names.DAILY_SCHEDULE).job_name == names.SYNC_JOB


def test_ranges_fan_out_between_a_setup_step_and_a_combining_step():
    graph = defs.resolve_job_def(names.SCALE_OUT_JOB).graph
    assert {node.name for node in graph.nodes} == {
        "id_ranges_op",
        "sync_id_range_op",
        "combine_ranges",
    }
    (output,) = graph.node_named("id_ranges_op").definition.output_defs
    assert output.is_dynamic


def test_the_reconstructable_job_is_the_code_locations_job():
    rebuilt = jobs.reconstruct_sync_partitioned_job()
    assert rebuilt.name == names.SCALE_OUT_JOB
    assert {n.name for n in rebuilt.graph.nodes} == {
        n.name for n in defs.resolve_job_def(names.SCALE_OUT_JOB).graph.nodes
    }
    assert isinstance(rebuilt, dg.JobDefinition)
