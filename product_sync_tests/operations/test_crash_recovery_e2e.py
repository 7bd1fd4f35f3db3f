"""End to end: a sync whose run worker is SIGKILLed, with the whole `dagster dev` process
group (as the OOM killer or a host restart would leave it), never blocks the queue.

Real `dagster dev` (webserver, daemon, code server) on a temporary DAGSTER_HOME made from the
repo's dagster.yaml, the local catalog server, the real local Medusa store, a local HTTP
receiver as the alert webhook. The first sync is held mid-read (its source stalls), a second
one queues behind it; the group and the worker (by pid) are killed; the first run is then
STARTED with nobody left to end it. `dagster dev` comes back: the fail_crashed_sync_runs
sensor fails the dead run with the reason in its log, the failure alert reaches the receiver,
the queue starts the second sync, which completes into the store; synced_products shows its
freshness policy and is fresh.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import dagster as dg
import psutil
import pytest
import requests

from devstack.catalog.server import CatalogServer
from devstack.stack import StackInfo
from product_sync import names
from product_sync.defs.operations.crashed_runs import run_worker
from product_sync_tests.operations.dagster_dev import DagsterDev
from product_sync_tests.operations.instance_home import write_instance_yaml
from product_sync_tests.operations.receiver import alert_receiver

pytestmark = pytest.mark.e2e

# Every source request hangs (the server's sleep is interruptible, so it stops cleanly).
STALL = [{"kind": "slow", "seconds": 900}]
# The operations sensors tick every 5 s here (30 s as shipped): the waits are for ticks.
SENSOR_INTERVAL_S = "5"
TICK_TIMEOUT_S = 180  # the daemon's first loop takes a while
RUN_TIMEOUT_S = 300


def status(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus:
    return instance.get_run_by_id(run_id).status


def reading_source(instance: dg.DagsterInstance, run_id: str):
    """The run's worker once it is STARTED and inside the source step."""
    if status(instance, run_id) != dg.DagsterRunStatus.STARTED:
        return None
    steps = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)
    if names.SOURCE_ASSET not in {e.step_key for e in steps}:
        return None
    return run_worker(instance, run_id)


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def our_products(info: StackInfo) -> int:
    response = requests.get(
        f"{info.backend_url}/admin/products",
        params={"fields": "id,external_id", "limit": 500},
        auth=(info.api_key, ""),
        timeout=30,
    )
    response.raise_for_status()
    products = response.json()["products"]
    return sum(1 for p in products if (p.get("external_id") or "").startswith("dummyjson:"))


def freshness(dev: DagsterDev) -> dict:
    query = """query($key: [String!]!) { assetNodes(assetKeys: [{path: $key}]) {
        internalFreshnessPolicy { ... on TimeWindowFreshnessPolicy { failWindowSeconds } }
        freshnessStatusInfo { freshnessStatus } } }"""
    (node,) = dev.graphql(query, key=[names.SYNC_ASSET])["assetNodes"]
    return node


def test_a_killed_sync_is_failed_and_the_queued_sync_completes(
    empty_store: StackInfo, tmp_path: Path
):
    home = write_instance_yaml(tmp_path / "dagster_home")
    log = tmp_path / "dagster-dev.log"
    with (
        CatalogServer(seed=42, count=194) as catalog,
        alert_receiver() as receiver,
        dg.DagsterInstance.from_config(str(home)) as instance,
    ):
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "MEDUSA_BACKEND_URL": empty_store.backend_url,
            "MEDUSA_API_KEY": empty_store.api_key,
            "DUMMYJSON_BASE_URL": catalog.base_url,
            names.ALERT_WEBHOOK_ENV: receiver.url,
            names.DAGSTER_UI_URL_ENV: "http://dagster.test:3000",
            names.SENSOR_INTERVAL_ENV: SENSOR_INTERVAL_S,
        }
        catalog.set_faults(STALL)
        dev = DagsterDev(env, log)
        try:
            dev.start()
            # A run-status sensor's cursor starts at its first tick: let them tick once.
            dev.wait(
                "the alert sensor's first tick",
                lambda: dev.sensor_ticks(names.RUN_FAILURE_ALERT_SENSOR),
                TICK_TIMEOUT_S,
            )
            first = dev.launch(names.SYNC_JOB)
            worker = dev.wait(
                "the first sync to be reading the (stalled) source",
                lambda: reading_source(instance, first),
                RUN_TIMEOUT_S,
            )
            second = dev.launch(names.SYNC_JOB)
            # One at a time: the second waits while the first runs.
            assert status(instance, second) == dg.DagsterRunStatus.QUEUED
            assert status(instance, first) == dg.DagsterRunStatus.STARTED
            assert psutil.pid_exists(worker.pid)

            dev.kill()
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
            dev.wait("the worker to be gone", lambda: gone(worker.pid), 30)
            # Nothing is left to end it: without the sensor it would hold the slot for hours.
            assert status(instance, first) == dg.DagsterRunStatus.STARTED
            assert status(instance, second) == dg.DagsterRunStatus.QUEUED

            catalog.set_faults([])
            dev.start()
            dev.wait(
                "the dead run to be failed",
                lambda: status(instance, first) == dg.DagsterRunStatus.FAILURE,
                TICK_TIMEOUT_S,
            )
            dev.wait(
                "the queued sync to finish",
                lambda: instance.get_run_by_id(second).is_finished,
                RUN_TIMEOUT_S,
            )
            assert status(instance, second) == dg.DagsterRunStatus.SUCCESS

            # The operator is told why: in the run's log, its failure, and the alert.
            engine = [
                e.message
                for e in instance.all_logs(first, of_type=dg.DagsterEventType.ENGINE_EVENT)
            ]
            reason = f"The run worker of this sync_job run (pid {worker.pid}) is gone"
            assert any(m.startswith(reason) for m in engine), engine
            (failure,) = instance.all_logs(first, of_type=dg.DagsterEventType.RUN_FAILURE)
            assert failure.dagster_event.message.startswith(reason)
            texts = receiver.wait_for(lambda t: first in t, TICK_TIMEOUT_S)
            (alert,) = [t for t in texts if first in t]
            assert alert.startswith("product_sync: a sync_job run failed\n")
            assert f"Run: http://dagster.test:3000/runs/{first}" in alert
            assert f"pid {worker.pid}" in alert
            assert empty_store.api_key not in alert and receiver.url not in alert
            assert not any(second in t for t in receiver.texts())

            # The queue let the second start only once the first had ended.
            records = {r.dagster_run.run_id: r for r in instance.get_run_records()}
            assert records[second].start_time >= records[first].end_time
            # Judged in the store itself, not by the pipeline: the second sync landed.
            assert our_products(empty_store) == 194

            # The freshness policy is what the UI shows, and a fresh sync passes it.
            assert freshness(dev)["internalFreshnessPolicy"] == {"failWindowSeconds": 25 * 3600}
            dev.wait(
                "synced_products to be evaluated fresh",
                lambda: freshness(dev)["freshnessStatusInfo"]["freshnessStatus"] == "HEALTHY",
                TICK_TIMEOUT_S,
            )
        finally:
            dev.stop()
