"""Dagster's own scheduler and run-queue daemon code on a real instance configured by the
repo's dagster.yaml: a tick of daily_sync_schedule at midnight creates a `sync_job` run
carrying the queue tag (and its max runtime), queued; while one such run is in progress the
queue holds the next in QUEUED, and releases it once the first ends.

The run launcher is Dagster's recording test launcher, so nothing executes; the queue,
its tag limit, the schedule and the job are the real ones."""

import datetime
import logging
from collections.abc import Iterator

import dagster as dg
import pytest
from dagster._core.events import DagsterEvent
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import (
    InProcessTestWorkspaceLoadTarget,
    create_test_daemon_workspace_context,
    freeze_time,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
    QueuedRunCoordinatorDaemon,
)
from dagster._scheduler.scheduler import launch_scheduled_runs

from product_sync import names
from product_sync_tests.operations.instance_home import REPO_ROOT, write_instance_yaml

UTC = datetime.UTC
RECORDING_LAUNCHER = {"module": "dagster._core.test_utils", "class": "MockedRunLauncher"}
LOG = logging.getLogger("test_schedule_and_queue")


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Iterator[WorkspaceProcessContext]:
    # The schedule's runs are validated against the resources' config, read from the env.
    monkeypatch.setenv("MEDUSA_BACKEND_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MEDUSA_API_KEY", "sk_unused")
    home = write_instance_yaml(tmp_path, run_launcher=RECORDING_LAUNCHER)
    origin = LoadableTargetOrigin(
        module_name="product_sync.definitions", attribute="defs", working_directory=str(REPO_ROOT)
    )
    target = InProcessTestWorkspaceLoadTarget(InProcessCodeLocationOrigin(origin))
    with (
        dg.DagsterInstance.from_config(str(home)) as instance,
        create_test_daemon_workspace_context(target, instance) as context,
    ):
        yield context


def tick(workspace: WorkspaceProcessContext, when: datetime.datetime) -> None:
    """One scheduler daemon iteration at `when`."""
    with freeze_time(when):
        list(launch_scheduled_runs(workspace, LOG, when, {}))


def dequeue(workspace: WorkspaceProcessContext) -> None:
    """One run-queue daemon iteration."""
    with QueuedRunCoordinatorDaemon(interval_seconds=1) as daemon:
        list(daemon.run_iteration(workspace))


def midnight_after(day: int) -> datetime.datetime:
    return datetime.datetime(2026, 3, day + 1, 0, 0, 30, tzinfo=UTC)


def scheduled_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    return list(reversed(instance.get_runs()))  # oldest first


def test_the_midnight_tick_queues_sync_job_with_its_tags(workspace):
    instance = workspace.instance
    # The schedule is on by default: the first iteration starts it, the next tick is 00:00.
    tick(workspace, datetime.datetime(2026, 3, 1, 23, 59, tzinfo=UTC))
    assert instance.get_runs() == []
    tick(workspace, midnight_after(1))

    (run,) = instance.get_runs()
    assert run.job_name == names.SYNC_JOB
    assert run.status == dg.DagsterRunStatus.QUEUED  # the repo's QueuedRunCoordinator
    assert run.tags[names.SYNC_QUEUE_TAG_KEY] == names.SYNC_QUEUE_TAG[names.SYNC_QUEUE_TAG_KEY]
    assert run.tags[names.MAX_RUNTIME_TAG_KEY] == str(names.SYNC_MAX_RUNTIME_S)
    assert run.tags["dagster/schedule_name"] == names.DAILY_SCHEDULE
    assert run.tags[".dagster/scheduled_execution_time"] == "2026-03-02T00:00:00+00:00"
    assert names.run_config_product_ids(run.run_config) == []  # a full sync


def test_the_queue_holds_a_second_tagged_run_while_one_runs(workspace):
    instance, launcher = workspace.instance, workspace.instance.run_launcher
    tick(workspace, datetime.datetime(2026, 3, 1, 23, 59, tzinfo=UTC))
    tick(workspace, midnight_after(1))
    (first,) = scheduled_runs(instance)
    dequeue(workspace)
    assert launcher.did_run_launch(first.run_id)
    # Its worker starts: the run is STARTED, holding the product_sync/sync slot.
    instance.report_dagster_event(
        DagsterEvent(event_type_value=dg.DagsterEventType.RUN_START.value, job_name="sync_job"),
        run_id=first.run_id,
    )

    # The next midnight comes while it still runs (a slow day): a second tagged run.
    tick(workspace, midnight_after(2))
    first_again, second = scheduled_runs(instance)
    assert first_again.run_id == first.run_id
    assert second.tags[names.SYNC_QUEUE_TAG_KEY] == first.tags[names.SYNC_QUEUE_TAG_KEY]

    dequeue(workspace)
    dequeue(workspace)
    assert instance.get_run_by_id(second.run_id).status == dg.DagsterRunStatus.QUEUED
    assert not launcher.did_run_launch(second.run_id)

    instance.report_run_failed(instance.get_run_by_id(first.run_id), "ended")
    dequeue(workspace)
    assert launcher.did_run_launch(second.run_id)
    assert instance.get_run_by_id(second.run_id).status == dg.DagsterRunStatus.STARTING
