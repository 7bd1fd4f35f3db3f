"""Where a run keeps its files: the run's own folder in the Dagster instance's local
artifact storage (`<local_artifact_storage>/storage/<run id>/files`, the folder Dagster's
`LocalFileManager` uses for a run). It lives as long as the instance's storage does, is
found again by run id alone, and is gone with the run when the instance deletes it."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg

_RUN_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def run_dir(instance: dg.DagsterInstance, run_id: str) -> Path:
    return Path(instance.file_manager_directory(run_id))


def known_run_dir(instance: dg.DagsterInstance, run_id: str, field: str) -> Path:
    """The folder of a run named in run config, after checking the instance knows it."""
    run_id = run_id.strip()
    if not _RUN_ID.match(run_id):
        raise dg.Failure(f"{field}: {run_id!r} is not a Dagster run id (a UUID)")
    if instance.get_run_by_id(run_id) is None:
        raise dg.Failure(f"{field}: this Dagster instance has no run {run_id}")
    return run_dir(instance, run_id)
