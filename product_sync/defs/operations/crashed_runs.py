"""A sync run whose worker died must not hold the one-at-a-time queue slot forever.

Dagster covers most of it: a code server that outlives its run worker fails the run itself,
and `run_monitoring` (dagster.yaml) fails runs stuck starting and runs past their
`dagster/max_runtime` tag. What it cannot see with the default run launcher (no worker health
check) is a worker that died *with* its code server — the whole `dagster dev` process group
killed, the host restarted: the run stays STARTED until max_runtime, hours later, and every
sync queued behind it waits. This sensor closes that gap: for each STARTED run carrying the
queue tag, launched by the default launcher, it looks up the worker's pid (the engine event
the worker writes when it starts) and, if no such process is alive any more, fails the run
with a message saying why. The queue then starts the next sync.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass

import dagster as dg
import psutil

from product_sync import names
from product_sync.core.alerts import crashed_worker_text
from product_sync.defs.operations.interval import SENSOR_INTERVAL_S

# The run worker writes this engine event, with its pid as metadata, before it runs a step
# (dagster/_grpc/impl.py and dagster/_cli/api.py, the two ways a launcher starts a worker).
WORKER_STARTED = "Started process for run"
# The default launcher tags each run it launches with the code server that started the
# worker (`{"host": ..., "port" | "socket": ...}`); the worker is that server's child.
GRPC_INFO_TAG = ".dagster/grpc_info"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", ""}
# A process holding the pid that started later than the worker did is a newcomer with a
# reused pid. The worker logs its start after it started; this covers clock rounding.
CLOCK_SLACK_S = 2.0


@dataclass(frozen=True)
class Worker:
    pid: int
    started_at: float


def run_worker(instance: dg.DagsterInstance, run_id: str) -> Worker | None:
    """The latest worker the run's event log names (a resumed run has several), or None."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT).records
    worker = None
    for record in records:
        entry = record.event_log_entry
        event = entry.dagster_event
        if event is None or not (event.message or "").startswith(WORKER_STARTED):
            continue
        pid = event.engine_event_data.metadata.get("pid")
        try:
            worker = Worker(int(pid.value), entry.timestamp)  # type: ignore[union-attr]
        except (AttributeError, TypeError, ValueError):
            continue
    return worker


def worker_alive(worker: Worker) -> bool:
    try:
        process = psutil.Process(worker.pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return process.create_time() <= worker.started_at + CLOCK_SLACK_S
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        # Someone else's process: no way to tell, so leave the run to max_runtime.
        return True


def launched_on_this_host(run: dg.DagsterRun) -> bool:
    """A pid means something only on the host that started it: the default launcher's
    worker runs beside the code server named in the run's tags, and this sensor is
    evaluated by the code location's own server, so a local server is this host."""
    try:
        info = json.loads(run.tags[GRPC_INFO_TAG])
    except (KeyError, TypeError, ValueError):
        return False
    if not isinstance(info, dict):
        return False
    if info.get("socket"):
        return True
    host = str(info.get("host") or "")
    return host in LOCAL_HOSTS or host in {socket.gethostname(), socket.getfqdn()}


def fail_if_crashed(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str | None:
    """Fails the run if its worker is gone; returns the reason, or None if it was left."""
    if not launched_on_this_host(run):
        return None
    worker = run_worker(instance, run.run_id)
    if worker is None or worker_alive(worker):
        return None
    current = instance.get_run_by_id(run.run_id)
    # A worker writes its outcome before it exits: read again, it may have just finished.
    if current is None or current.status != dg.DagsterRunStatus.STARTED:
        return None
    reason = crashed_worker_text(current.job_name, worker.pid)
    instance.report_engine_event(reason, current)
    instance.report_run_failed(current, reason)
    return reason


@dg.sensor(
    name=names.CRASHED_RUN_SENSOR,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Fails STARTED sync runs (tag product_sync/sync) whose run worker process is gone,"
        " so a crashed run never blocks the one-at-a-time queue."
    ),
)
def fail_crashed_sync_runs(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    instance = context.instance
    if not isinstance(instance.run_launcher, dg.DefaultRunLauncher):
        return dg.SkipReason(
            f"runs are launched by {type(instance.run_launcher).__name__}; its own health"
            " checks (run_monitoring in dagster.yaml) watch the workers"
        )
    started = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    syncs = [run for run in started if names.SYNC_QUEUE_TAG_KEY in run.tags]
    failed = []
    for run in syncs:
        reason = fail_if_crashed(instance, run)
        if reason:
            context.log.warning(f"run {run.run_id} failed: {reason}")
            failed.append(run.run_id)
    if failed:
        return dg.SkipReason(f"failed {len(failed)} run(s) whose worker was gone: {failed}")
    return dg.SkipReason(f"{len(syncs)} started sync run(s), none with a dead worker")
