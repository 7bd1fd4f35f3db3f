"""`sync_partitioned_job`: the scaled-out sync on the multiprocess executor.

Each range is one step, run in its own process, at most `max_concurrent` at a time
(PRODUCT_SYNC_MAX_CONCURRENT, default 2 on this 2-core kind of machine; editable per run in
the launchpad: `execution.config.max_concurrent`). It carries the same one-at-a-time tag as
`sync_job`, so the two never write the store at the same time.
"""

import os

import dagster as dg

from product_sync import names
from product_sync.defs.scale_out.assets import GROUP

MAX_CONCURRENT = int(os.environ.get("PRODUCT_SYNC_MAX_CONCURRENT", "2"))

sync_partitioned_job = dg.define_asset_job(
    "sync_partitioned_job",
    selection=dg.AssetSelection.groups(GROUP),
    description="Sync the catalog range by range, ranges in parallel processes (100k+).",
    tags=names.SCALE_OUT_JOB_TAGS,
    executor_def=dg.multiprocess_executor,
    config={"execution": {"config": {"max_concurrent": MAX_CONCURRENT}}},
)


def reconstruct_sync_partitioned_job() -> dg.JobDefinition:
    """For `dg.reconstructable`: the job as the code location defines it (step processes
    load it by this function's module path)."""
    from product_sync.definitions import defs

    return defs.resolve_job_def("sync_partitioned_job")
