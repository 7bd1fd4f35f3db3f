"""Tell someone: a failed run, and a blocking check that failed, as a chat message POSTed to
PRODUCT_SYNC_ALERT_WEBHOOK_URL (Slack-compatible `{"text": ...}`).

Unset, the sensors still tick and say so, and nothing is sent. A message that cannot be
delivered is logged on the tick (never with the URL, which usually holds a token) and
dropped: a chat outage must not stop the sensors or replay old alerts later. A failing
blocking check fails its run too (Dagster fails the check's step), so that run gets both
messages: the run's, and the check's with its numbers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import dagster as dg

from product_sync import names
from product_sync.core import alerts as words
from product_sync.defs.operations.interval import SENSOR_INTERVAL_S
from product_sync.resources.alerts import AlertConfigError, check_url, post_alert
from product_sync.resources.http import HTTPError

# Values that must never reach a chat channel, whatever an error message quotes.
SECRET_ENVS = (
    "MEDUSA_API_KEY",
    "WEBHOOK_SECRET",
    "WEBHOOK_SECRET_PREVIOUS",
    names.ALERT_WEBHOOK_ENV,
)


def ui_url() -> str:
    return (os.environ.get(names.DAGSTER_UI_URL_ENV) or "").strip() or names.DEFAULT_DAGSTER_UI_URL


def deliver(context: Any, text: str) -> dg.SkipReason:
    """Send `text` if the webhook is set. The tick's message says what happened."""
    raw = (os.environ.get(names.ALERT_WEBHOOK_ENV) or "").strip()
    if not raw:
        return dg.SkipReason(f"{names.ALERT_WEBHOOK_ENV} is not set: no alert sent")
    try:
        url = check_url(raw, names.ALERT_WEBHOOK_ENV)
    except AlertConfigError as error:
        context.log.error(str(error))
        return dg.SkipReason(f"no alert sent: {error}")
    text = words.redact(text, [os.environ.get(name) for name in SECRET_ENVS])
    try:
        status = post_alert(url, text)
    except HTTPError as error:
        context.log.warning(f"alert not delivered: {error}")
        return dg.SkipReason(f"alert not delivered: {error}")
    return dg.SkipReason(f"alert sent (HTTP {status})")


def error_text(error: Any) -> str:
    """The innermost cause of a serialized error, on one line: Dagster wraps the asset's
    exception in its own ("Error occurred while executing op ..."), which says less."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    text = " ".join(str(getattr(error, "message", "") or "").split())
    # "product_sync.resources.http.AuthError: ..." -> "AuthError: ...".
    return re.sub(r"^(?:\w+\.)+(\w+:)", r"\1", text)


def sync_counts(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """The report numbers of the sync asset's materializations in the run (summed over the
    ranges of a scaled-out run; the prefix match takes in its partitioned asset)."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    found = []
    for record in records:
        materialization = record.asset_materialization
        if materialization and materialization.asset_key.path[-1].startswith(names.SYNC_ASSET):
            found.append(words.sync_counts(_values(materialization.metadata)))
    return words.add_counts(found)


def _values(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {key: getattr(value, "value", value) for key, value in metadata.items()}


def failed_run(context: dg.RunFailureSensorContext) -> words.FailedRun:
    run = context.dagster_run
    steps = [
        words.StepFailure(
            step=event.step_key or "?",
            error=error_text(event.step_failure_data.error) if event.step_failure_data else "",
        )
        for event in context.get_step_failure_events()
    ]
    failure = context.failure_event
    message = failure.message or ""
    data = failure.job_failure_data if failure.is_job_failure else None
    if data is not None and data.error is not None and not steps:
        message = error_text(data.error) or message
    return words.FailedRun(
        job=run.job_name,
        run_id=run.run_id,
        message=message,
        steps=steps,
        counts=sync_counts(context.instance, run.run_id),
        product_ids=names.run_config_product_ids(run.run_config),
    )


def failed_blocking_checks(instance: dg.DagsterInstance, run_id: str) -> list[words.FailedCheck]:
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    failed = []
    for record in records:
        event = record.event_log_entry.dagster_event
        evaluation = event.asset_check_evaluation_data if event else None
        if (
            evaluation is None
            or evaluation.passed
            or not evaluation.blocking
            or evaluation.severity != dg.AssetCheckSeverity.ERROR
        ):
            continue
        values = _values(evaluation.metadata)
        failed.append(
            words.FailedCheck(
                asset=evaluation.asset_key.to_user_string(),
                check=evaluation.check_name,
                counts={
                    k: v
                    for k, v in values.items()
                    if isinstance(v, int | float) and not isinstance(v, bool)
                },
                examples=_examples(values),
                description=evaluation.description,
            )
        )
    return failed


def _examples(values: Mapping[str, Any]) -> list[str]:
    """A few offenders, from the first list-like metadata value (a list, or a table's rows)."""
    for value in values.values():
        rows = getattr(value, "records", value)
        if isinstance(rows, list | tuple) and rows:
            return [_label(row) for row in rows[: words.MAX_LISTED]]
    return []


def _label(row: Any) -> str:
    data = getattr(row, "data", row)
    if isinstance(data, Mapping):
        if len(data) == 1:  # a one-column table: just the value
            return str(next(iter(data.values())))
        return ", ".join(f"{k}={v}" for k, v in list(data.items())[:3])
    return str(data)


@dg.run_failure_sensor(
    name=names.RUN_FAILURE_ALERT_SENSOR,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    description=(
        f"POSTs a message for every failed run of this code location to"
        f" {names.ALERT_WEBHOOK_ENV} (when set): job, run link, what failed, counts."
    ),
)
def run_failure_alert(context: dg.RunFailureSensorContext) -> dg.SkipReason:
    return deliver(context, words.run_failure_text(failed_run(context), ui_url()))


@dg.run_failure_sensor(
    name=names.CHECK_FAILURE_ALERT_SENSOR,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    description=(
        f"POSTs a message to {names.ALERT_WEBHOOK_ENV} (when set) for each run in which a"
        " blocking asset check failed: which checks, their numbers and a few offenders."
    ),
)
def blocking_check_failure_alert(context: dg.RunFailureSensorContext) -> dg.SkipReason:
    run = context.dagster_run
    checks = failed_blocking_checks(context.instance, run.run_id)
    if not checks:
        return dg.SkipReason("no blocking check failed in this run")
    return deliver(context, words.check_failure_text(run.job_name, run.run_id, checks, ui_url()))
