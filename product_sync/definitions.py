"""The code location: every definition under `product_sync/defs/`, loaded by folder
(`dg dev`, `dg launch`, `dg check defs`, and `dagster … -m product_sync.definitions`)."""

from pathlib import Path

import dagster as dg

defs = dg.Definitions.merge(
    dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
    # One process: a sync is I/O-bound and its steps are sequential, and starting a
    # process per step costs seconds (measured ~8 s vs ~2 s for four small assets).
    # sync_partitioned_job brings its own multiprocess executor.
    dg.Definitions(executor=dg.in_process_executor),
)
