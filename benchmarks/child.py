"""One measured sync, in a fresh process: `python -m benchmarks.child` reads a JSON spec on
stdin and prints one JSON line of results on stdout (logs go to stderr).

A fresh process per sync makes its peak RSS (taken by the parent with `os.wait4`) the
memory of that one sync, and nothing left over from an earlier one. The Medusa API key
comes in the environment (`MEDUSA_API_KEY`), never on the command line.

Modes:

- `ours`: the four real assets in-process through `dg.materialize`, with the real
  resources, the default filesystem IO manager and an ephemeral instance, like
  `product_sync_tests/e2e/conftest.py` (checks are left out: they are not the sync).
- `naive`: the seed-faithful baseline (`benchmarks.naive`).
- `direct`: the Medusa-direct floor (`benchmarks.direct`): only the batch POSTs are timed.
- `job`: the daily run itself: `sync_job` from the code location, asset checks included,
  timed from RUN_START to RUN_SUCCESS (issue 14's whole-run target).
- `partitioned`: the whole scale-out job on the multiprocess executor.
"""

import json
import os
import resource
import sys
import threading
import time
from collections import Counter
from typing import Any

STARTED = time.perf_counter()


class RequestCounter:
    """Counts every HTTP attempt the product's client makes (retries included)."""

    def __init__(self) -> None:
        self.by_kind: Counter[str] = Counter()
        self._lock = threading.Lock()

    def install(self) -> None:
        from product_sync.resources.http import JSONClient

        original = JSONClient.send_once
        counter = self

        def counted(client: JSONClient, method: str, path: str, **kwargs: Any) -> Any:
            target = "medusa" if path.startswith("/admin") else "source"
            with counter._lock:
                counter.by_kind[f"{target} {method}"] += 1
            return original(client, method, path, **kwargs)

        JSONClient.send_once = counted  # type: ignore[method-assign]

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RSSSampler:
    """Samples this process's resident memory every 20 ms, to tell which step peaks."""

    PAGE = os.sysconf("SC_PAGE_SIZE")

    def __init__(self, interval: float = 0.02) -> None:
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def _run(self, interval: float) -> None:
        with open("/proc/self/statm") as statm:
            while not self._stop.is_set():
                statm.seek(0)
                resident = int(statm.read().split()[1]) * self.PAGE / 2**20
                self.samples.append((time.time(), resident))
                self._stop.wait(interval)

    def __enter__(self) -> "RSSSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak_between(self, start: float, end: float) -> float | None:
        inside = [mb for at, mb in self.samples if start <= at <= end]
        return round(max(inside), 1) if inside else None


def _profiled(spec: dict[str, Any]):
    path = spec.get("profile")
    if not path:
        return None
    import pyinstrument  # ad hoc: `.venv/bin/uv pip install pyinstrument`

    profiler = pyinstrument.Profiler(interval=0.002)
    profiler.start()
    return profiler


def _finish_profile(profiler, spec: dict[str, Any]) -> None:
    if profiler is None:
        return
    profiler.stop()
    with open(spec["profile"], "w") as out:
        out.write(profiler.output_text(unicode=True, show_all=False))


def _step_times(instance, run_id: str) -> tuple[dict[str, float], dict[str, float]]:
    """When each step started and ended (wall clock, from the run's event log)."""
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value == "STEP_SUCCESS":
            ends[event.step_key] = entry.timestamp
    return starts, ends


def run_ours(spec: dict[str, Any]) -> dict[str, Any]:
    counter = RequestCounter()
    counter.install()
    import dagster as dg

    from product_sync.defs.catalog_sync import assets
    from product_sync.defs.catalog_sync.settings import SyncSettings
    from product_sync.resources.dummyjson import DummyJSONResource
    from product_sync.resources.medusa import MedusaResource

    imported = time.perf_counter()
    rss_ready = rss_mb()
    resources = {
        "sync_settings": SyncSettings(**spec.get("settings", {})),
        "dummyjson": DummyJSONResource(base_url=spec["source_url"], **spec.get("source", {})),
        "medusa": MedusaResource(
            backend_url=spec["backend_url"],
            api_key=os.environ["MEDUSA_API_KEY"],
            **spec.get("medusa", {}),
        ),
    }
    instance = dg.DagsterInstance.ephemeral()
    profiler = _profiled(spec)
    began = time.perf_counter()
    with RSSSampler() as sampler:
        result = dg.materialize(
            [
                assets.dummyjson_products,
                assets.category_map,
                assets.medusa_product_index,
                assets.synced_products,
            ],
            resources=resources,
            instance=instance,
        )
    run_s = time.perf_counter() - began
    _finish_profile(profiler, spec)
    (event,) = result.asset_materializations_for_node("synced_products")
    metadata = {
        k: v.value for k, v in event.metadata.items() if isinstance(v.value, int | float | bool)
    }
    starts, ends = _step_times(instance, result.run_id)
    steps = {k: round(ends[k] - starts[k], 3) for k in ends if k in starts}
    span = max(ends.values()) - min(starts.values())
    step_rss = {k: sampler.peak_between(starts[k], ends[k]) for k in steps}
    return {
        "metadata": metadata,
        "sync_s": metadata["duration_s"],
        "assets_s": round(span, 3),
        "steps": steps,
        "step_peak_rss_mb": step_rss,
        "run_s": round(run_s, 3),
        "import_s": round(imported - STARTED, 3),
        "requests": counter.total,
        "requests_by": dict(counter.by_kind),
        "writes": metadata["created"] + metadata["updated"] + metadata["archived"],
        "rss_ready_mb": round(rss_ready, 1),
    }


def run_job(spec: dict[str, Any]) -> dict[str, Any]:
    """`sync_job` as the schedule runs it (the code location's resources, from the
    environment, and every check of its assets), timed from RUN_START to RUN_SUCCESS."""
    counter = RequestCounter()
    counter.install()
    os.environ["DUMMYJSON_BASE_URL"] = spec["source_url"]
    os.environ["MEDUSA_BACKEND_URL"] = spec["backend_url"]
    import dagster as dg

    from product_sync import names
    from product_sync.definitions import defs

    job = defs.resolve_job_def(names.SYNC_JOB)
    rss_ready = rss_mb()
    instance = dg.DagsterInstance.ephemeral()
    began = time.perf_counter()
    result = job.execute_in_process(instance=instance)
    run_s = time.perf_counter() - began
    if not result.success:
        raise RuntimeError("sync_job failed")
    marks: dict[str, float] = {}
    checks: dict[str, bool] = {}
    metadata: dict[str, Any] = {}
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type
        if kind in (dg.DagsterEventType.RUN_START, dg.DagsterEventType.RUN_SUCCESS):
            marks[kind.name] = entry.timestamp
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            checks[evaluation.check_name] = evaluation.passed
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION and (
            event.step_key == names.SYNC_ASSET
        ):
            metadata = {
                k: v.value
                for k, v in event.materialization.metadata.items()
                if isinstance(v.value, int | float | bool)
            }
    return {
        "metadata": metadata,
        "assets_s": round(marks["RUN_SUCCESS"] - marks["RUN_START"], 3),
        "run_s": round(run_s, 3),
        "checks": checks,
        "requests": counter.total,
        "requests_by": dict(counter.by_kind),
        "writes": metadata["created"] + metadata["updated"] + metadata["archived"],
        "rss_ready_mb": round(rss_ready, 1),
    }


def run_naive(spec: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.naive import SeedFaithfulSync

    rss_ready = rss_mb()
    client = SeedFaithfulSync(
        spec["source_url"],
        spec["backend_url"],
        os.environ["MEDUSA_API_KEY"],
        batch_size=spec.get("batch_size", 15),
    )
    began = time.perf_counter()
    stats = client.run()
    seconds = time.perf_counter() - began
    return {**stats, "assets_s": round(seconds, 3), "rss_ready_mb": round(rss_ready, 1)}


def run_direct(spec: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.direct import post_payloads, prepare_payloads

    payloads = prepare_payloads(spec["source_url"], spec["backend_url"])
    rss_ready = rss_mb()
    stats = post_payloads(
        spec["backend_url"], os.environ["MEDUSA_API_KEY"], payloads, spec["batch_size"]
    )
    return {**stats, "rss_ready_mb": round(rss_ready, 1)}


def run_partitioned(spec: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.scale import run_partitioned_job

    return run_partitioned_job(spec)


MODES = {
    "ours": run_ours,
    "job": run_job,
    "naive": run_naive,
    "direct": run_direct,
    "partitioned": run_partitioned,
}


def main() -> int:
    spec = json.loads(sys.stdin.read())
    result = MODES[spec["mode"]](spec)
    result["child_peak_rss_mb"] = round(rss_mb(), 1)
    result["grandchildren_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
    )
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
