"""fail_crashed_sync_runs on a real instance (the repo's dagster.yaml): STARTED sync runs
whose worker process is really gone are failed with the reason in their event log; runs
whose worker lives, runs not launched here, and runs without the queue tag are left alone."""

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import dagster as dg
import psutil
import pytest
from dagster._core.events import DagsterEvent, EngineEventData

from product_sync import names
from product_sync.definitions import defs
from product_sync.defs.operations import crashed_runs
from product_sync_tests.operations.instance_home import write_instance_yaml

LOCAL_LAUNCH = {crashed_runs.GRPC_INFO_TAG: json.dumps({"host": "localhost", "port": 4266})}


@pytest.fixture
def instance(tmp_path, monkeypatch) -> Iterator[dg.DagsterInstance]:
    monkeypatch.setenv("MEDUSA_BACKEND_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MEDUSA_API_KEY", "sk_unused")
    with dg.DagsterInstance.from_config(str(write_instance_yaml(tmp_path))) as instance:
        yield instance


@pytest.fixture
def process() -> Iterator[subprocess.Popen]:
    """A real process to stand for a run worker."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield child
    child.kill()
    child.wait()


def started_run(instance, pid: int, *, tags=LOCAL_LAUNCH, job=names.SYNC_JOB) -> dg.DagsterRun:
    """A run as the default launcher leaves it once its worker began: STARTED, tagged with
    the code server, and the worker's "Started process for run (pid: N)." engine event."""
    job_def = defs.resolve_job_def(job)
    run = instance.create_run_for_job(job_def, tags={**job_def.tags, **tags})
    instance.report_engine_event(
        f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid)
    )
    instance.report_dagster_event(
        DagsterEvent(event_type_value=dg.DagsterEventType.RUN_START.value, job_name=job),
        run_id=run.run_id,
    )
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
    return run


def evaluate(instance) -> str:
    outcome = crashed_runs.fail_crashed_sync_runs(dg.build_sensor_context(instance=instance))
    return outcome.skip_message


def status(instance, run) -> dg.DagsterRunStatus:
    return instance.get_run_by_id(run.run_id).status


def engine_messages(instance, run) -> list[str]:
    return [
        e.message for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
    ]


def test_a_sync_run_whose_worker_was_killed_is_failed_with_the_reason(instance, process):
    run = started_run(instance, process.pid)
    process.kill()
    process.wait()

    assert evaluate(instance) == f"failed 1 run(s) whose worker was gone: ['{run.run_id}']"

    assert status(instance, run) == dg.DagsterRunStatus.FAILURE
    reason = engine_messages(instance, run)[-1]
    assert f"The run worker of this sync_job run (pid {process.pid}) is gone" in reason
    (failure,) = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert failure.dagster_event.message == reason
    # Done once: the failed run is not touched again.
    assert evaluate(instance) == "0 started sync run(s), none with a dead worker"


def test_a_live_worker_is_left_running(instance, process):
    run = started_run(instance, process.pid)
    assert evaluate(instance) == "1 started sync run(s), none with a dead worker"
    assert status(instance, run) == dg.DagsterRunStatus.STARTED


def test_the_scale_out_job_is_watched_too(instance, process):
    run = started_run(instance, process.pid, job=names.SCALE_OUT_JOB)
    process.kill()
    process.wait()
    evaluate(instance)
    assert status(instance, run) == dg.DagsterRunStatus.FAILURE


def test_runs_launched_elsewhere_or_in_process_are_left_to_max_runtime(instance, process):
    remote = started_run(
        instance,
        process.pid,
        tags={crashed_runs.GRPC_INFO_TAG: json.dumps({"host": "user-code.svc", "port": 4000})},
    )
    in_process = started_run(instance, process.pid, tags={})
    process.kill()
    process.wait()
    assert evaluate(instance) == "2 started sync run(s), none with a dead worker"
    assert status(instance, remote) == status(instance, in_process) == dg.DagsterRunStatus.STARTED


def test_a_run_without_the_queue_tag_is_not_this_sensors_business(instance, process):
    untagged = instance.create_run_for_job(defs.resolve_job_def(names.SYNC_JOB), tags=LOCAL_LAUNCH)
    assert names.SYNC_QUEUE_TAG_KEY not in untagged.tags
    instance.report_engine_event(
        f"Started process for run (pid: {process.pid}).",
        untagged,
        EngineEventData.in_process(process.pid),
    )
    instance.report_dagster_event(
        DagsterEvent(event_type_value=dg.DagsterEventType.RUN_START.value, job_name="sync_job"),
        run_id=untagged.run_id,
    )
    process.kill()
    process.wait()
    evaluate(instance)
    assert status(instance, untagged) == dg.DagsterRunStatus.STARTED


def test_a_reused_pid_is_not_mistaken_for_the_worker():
    me = psutil.Process()
    assert crashed_runs.worker_alive(crashed_runs.Worker(me.pid, time.time()))
    # The same pid, but the process holding it started well after the worker logged its start.
    newcomer = crashed_runs.Worker(me.pid, me.create_time() - 60)
    assert not crashed_runs.worker_alive(newcomer)


def test_a_zombie_worker_counts_as_gone():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    # Not reaped yet: the pid exists, as a zombie, until wait().
    while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
        time.sleep(0.05)
    try:
        assert not crashed_runs.worker_alive(crashed_runs.Worker(child.pid, time.time()))
    finally:
        child.wait()


def test_the_worker_is_the_latest_one_the_run_names(instance, process):
    run = started_run(instance, 999_999)
    instance.report_engine_event(
        f"Started process for run (pid: {process.pid}).",
        run,
        EngineEventData.in_process(process.pid),
    )
    # Look-alikes that are not the run worker's start.
    instance.report_engine_event(
        "Executing steps in process (pid: 1).", run, EngineEventData.in_process(1)
    )
    worker = crashed_runs.run_worker(instance, run.run_id)
    assert worker is not None and worker.pid == process.pid


def test_the_sensor_stands_aside_for_other_run_launchers(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDUSA_BACKEND_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MEDUSA_API_KEY", "sk_unused")
    launcher = {"module": "dagster._core.test_utils", "class": "MockedRunLauncher"}
    home = write_instance_yaml(tmp_path, run_launcher=launcher)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert evaluate(instance).startswith("runs are launched by MockedRunLauncher")
