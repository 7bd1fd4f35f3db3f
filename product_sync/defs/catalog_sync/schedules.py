"""The sync job and its daily schedule."""

from __future__ import annotations

import os

import dagster as dg

from product_sync import names

# dagster.yaml limits runs carrying this tag to one at a time (queued, never concurrent).
SYNC_CONCURRENCY_TAG = names.SYNC_QUEUE_TAG

sync_job = dg.define_asset_job(
    names.SYNC_JOB,
    selection=dg.AssetSelection.groups(names.CATALOG_GROUP),
    description="Sync the DummyJSON catalog into the Medusa store.",
    tags=names.SYNC_JOB_TAGS,
)

daily_sync_schedule = dg.ScheduleDefinition(
    name=names.DAILY_SCHEDULE,
    job=sync_job,
    cron_schedule="0 0 * * *",
    execution_timezone=os.environ.get("PRODUCT_SYNC_TIMEZONE", "UTC"),
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
