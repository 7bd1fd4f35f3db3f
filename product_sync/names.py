"""Every name that more than one part of the product shares: the Dagster definitions, the
webhook service, the admin card's route and the tests import these, so a rename is one
edit and a typo is an ImportError, not a run that silently matches nothing.

No imports from the rest of the package: anything may import this module.
"""

from __future__ import annotations

from typing import Any

# Assets (the design's four names) and their group.
SOURCE_ASSET = "dummyjson_products"
CATEGORY_ASSET = "category_map"
INDEX_ASSET = "medusa_product_index"
SYNC_ASSET = "synced_products"
CATALOG_GROUP = "catalog_sync"

# Jobs and schedule.
SYNC_JOB = "sync_job"
SCALE_OUT_JOB = "sync_partitioned_job"
REVERT_JOB = "revert_sync_run"
REVERT_OP = "revert_run"
DAILY_SCHEDULE = "daily_sync_schedule"

# dagster.yaml limits runs carrying this tag to one at a time (queued, never concurrent).
SYNC_QUEUE_TAG_KEY = "product_sync/sync"
SYNC_QUEUE_TAG = {SYNC_QUEUE_TAG_KEY: "catalog"}
# Which source ids a targeted run was asked for (shown in the UI's run list).
PRODUCT_IDS_TAG = "product_sync/product_ids"
# The webhook delivery a run was launched for: a repeated delivery finds its run by it.
DELIVERY_TAG = "product_sync/delivery_id"

# The stock location the sync keeps the source's stock at (the dev store's shop is set up
# around it: devstack/shop.py).
STOCK_LOCATION_NAME = "DummyJSON Warehouse"

# Dagster's run monitoring (dagster.yaml `run_monitoring`) fails a run still going after this
# many seconds: a backstop for a hung or orphaned run, set far above a normal one (194
# products: seconds; 10k: about a minute; 100k through the scale-out job: under 20 min).
MAX_RUNTIME_TAG_KEY = "dagster/max_runtime"
SYNC_MAX_RUNTIME_S = 3 * 3600
SCALE_OUT_MAX_RUNTIME_S = 6 * 3600
SYNC_JOB_TAGS = {**SYNC_QUEUE_TAG, MAX_RUNTIME_TAG_KEY: str(SYNC_MAX_RUNTIME_S)}
SCALE_OUT_JOB_TAGS = {**SYNC_QUEUE_TAG, MAX_RUNTIME_TAG_KEY: str(SCALE_OUT_MAX_RUNTIME_S)}

# Operations: sensors, alerts, freshness (product_sync/defs/operations/).
CRASHED_RUN_SENSOR = "fail_crashed_sync_runs"
RUN_FAILURE_ALERT_SENSOR = "run_failure_alert"
CHECK_FAILURE_ALERT_SENSOR = "blocking_check_failure_alert"
# Where alerts are POSTed as {"text": ...} (Slack-compatible); unset: no alerts.
ALERT_WEBHOOK_ENV = "PRODUCT_SYNC_ALERT_WEBHOOK_URL"
# The Dagster UI that run links in alerts point at (the webhook service reads it too).
DAGSTER_UI_URL_ENV = "DAGSTER_UI_URL"
DEFAULT_DAGSTER_UI_URL = "http://127.0.0.1:3000"
# `synced_products` counts as stale when its last materialization is older than this.
STALE_AFTER_HOURS_ENV = "PRODUCT_SYNC_STALE_AFTER_HOURS"
DEFAULT_STALE_AFTER_HOURS = 25.0
# How often the daemon evaluates the operations sensors (crashed runs, alerts), seconds.
SENSOR_INTERVAL_ENV = "PRODUCT_SYNC_SENSOR_INTERVAL_S"
DEFAULT_SENSOR_INTERVAL_S = 30

# Run config keys other tooling writes.
PRODUCT_IDS_FIELD = "product_ids"
DRY_RUN_FIELD = "dry_run"
# On synced_products: apply exactly the plan of this dry run (its run id).
APPLY_PLAN_FIELD = "apply_plan"
# On the revert op: the run to undo, and whether to overwrite changes made since.
REVERT_RUN_ID_FIELD = "run_id"
REVERT_FORCE_FIELD = "force"


def revert_run_config(run_id: str, *, force: bool = False) -> dict[str, Any]:
    """Run config of a `revert_sync_run` run undoing `run_id`."""
    config: dict[str, Any] = {REVERT_RUN_ID_FIELD: run_id}
    if force:
        config[REVERT_FORCE_FIELD] = True
    return {"ops": {REVERT_OP: {"config": config}}}


def targeted_run_config(product_ids: list[int]) -> dict[str, Any]:
    """Run config of a `sync_job` run limited to these source ids ([] = everything)."""
    return {"ops": {SOURCE_ASSET: {"config": {PRODUCT_IDS_FIELD: list(product_ids)}}}}


def run_config_product_ids(run_config: Any) -> list[int]:
    """The source ids a run's config targets ([] for a full sync or an unreadable config)."""
    try:
        ids = run_config["ops"][SOURCE_ASSET]["config"][PRODUCT_IDS_FIELD]
    except (KeyError, TypeError):
        return []
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []
