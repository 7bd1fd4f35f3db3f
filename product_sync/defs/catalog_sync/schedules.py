"""The sync job and its daily schedule."""

from __future__ import annotations

import os

import dagster as dg

from product_sync import names

# dagster.yaml limits runs carrying this tag to one at a time (queued, never concurrent).
SYNC_CONCURRENCY_TAG = {"product_sync/sync": "catalog"}

sync_job = dg.define_asset_job(
    "sync_job",
    selection=dg.AssetSelection.groups("catalog_sync"),
    description="Sync the DummyJSON catalog into the Medusa store.",
    tags=names.SYNC_JOB_TAGS,
)

daily_sync_schedule = dg.ScheduleDefinition(
    name="daily_sync_schedule",
    job=sync_job,
    cron_schedule="0 0 * * *",
    execution_timezone=os.environ.get("PRODUCT_SYNC_TIMEZONE", "UTC"),
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
