"""The 100k benchmark (`scripts/bench --with-100k`): a 100k synthetic catalog through
`sync_partitioned_job` on the multiprocess executor, and the one-process sync's memory at
that size for comparison.

`run_partitioned_job` runs in the measured child process (`benchmarks.child`, mode
`partitioned`): the job is executed with `execute_job` on a reconstructable job and a
temporary instance, so every range really runs in its own process.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from typing import TYPE_CHECKING, Any

import psutil

if TYPE_CHECKING:
    from benchmarks.run import Bench


class TreeRSS:
    """The largest resident set of any process below this one, sampled every 100 ms.

    The ranges fork from a forkserver, which reaps them itself: `RUSAGE_CHILDREN` of the
    run's process never sees them, so their memory is read from the process tree."""

    def __init__(self, interval: float = 0.1) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def _run(self, interval: float) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            for child in me.children(recursive=True):
                try:
                    self.peak_mb = max(self.peak_mb, child.memory_info().rss / 2**20)
                except psutil.Error:
                    continue  # ended meanwhile
            self._stop.wait(interval)

    def __enter__(self) -> TreeRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_partitioned_job(spec: dict[str, Any]) -> dict[str, Any]:
    import dagster as dg

    from product_sync.defs.scale_out.jobs import (
        EXECUTION_CONFIG,
        reconstruct_sync_partitioned_job,
    )

    os.environ["DUMMYJSON_BASE_URL"] = spec["source_url"]
    os.environ["MEDUSA_BACKEND_URL"] = spec["backend_url"]
    ranges_config = {"ranges": spec["ranges"]} if spec.get("ranges") else {}
    with tempfile.TemporaryDirectory() as home, dg.instance_for_test(temp_dir=home) as instance:
        began = time.perf_counter()
        with TreeRSS() as tree:
            result = dg.execute_job(
                dg.reconstructable(reconstruct_sync_partitioned_job),
                instance=instance,
                run_config={
                    "ops": {"id_ranges_op": {"config": ranges_config}},
                    "execution": {
                        "config": {**EXECUTION_CONFIG, "max_concurrent": spec["max_concurrent"]}
                    },
                },
            )
        run_s = time.perf_counter() - began
        if not result.success:
            raise RuntimeError("sync_partitioned_job failed")
        starts: dict[str, float] = {}
        ends: dict[str, float] = {}
        summary: dict[str, Any] = {}
        for entry in instance.all_logs(result.run_id):
            event = entry.dagster_event
            if event is None:
                continue
            if event.event_type_value == "STEP_START":
                starts[event.step_key] = entry.timestamp
            elif event.event_type_value == "STEP_SUCCESS":
                ends[event.step_key] = entry.timestamp
            elif event.event_type_value == "ASSET_MATERIALIZATION":
                summary = {k: v.value for k, v in event.materialization.metadata.items()}
    ranges = [k for k in ends if "sync_id_range_op" in k]
    span = max(ends[k] for k in ranges) - min(starts[k] for k in ranges)
    writes = summary["created"] + summary["updated"] + summary["archived"]
    return {
        "metadata": {k: v for k, v in summary.items() if isinstance(v, int | float)},
        # A table's rows (MetadataValue.table), as plain dicts for the JSON.
        "by_range": [dict(r.data) for r in getattr(summary.get("by_range"), "records", [])],
        "assets_s": round(max(ends.values()) - min(starts.values()), 3),
        "ranges_s": round(span, 3),
        "run_s": round(run_s, 3),
        "steps": {k: round(ends[k] - starts[k], 3) for k in ends if k in starts},
        "writes": writes,
        "requests": summary.get("http_requests"),
        "sync_s": summary.get("duration_s"),
        "range_peak_rss_mb": round(tree.peak_mb, 1),
    }


def partitioned(bench: Bench, label: str) -> dict[str, Any]:
    assert bench.info and bench.catalog
    spec = {
        "mode": "partitioned",
        "source_url": bench.catalog.base_url,
        "ranges": bench.args.partitions,
        "max_concurrent": bench.args.max_concurrent,
    }
    from benchmarks.measure import run_child

    result = run_child(spec, bench.info, label)
    meta = result["metadata"]
    bench.say(
        f"{label}: {result['assets_s']:.1f}s (ranges {result['ranges_s']:.1f}s, process "
        f"{result['process_s']:.1f}s) created {meta['created']} updated {meta['updated']} "
        f"unchanged {meta['unchanged']} errors {meta['errors']} replans "
        f"{meta['handle_replans']} largest range process "
        f"{result['range_peak_rss_mb']} MB load {result['load1']}"
    )
    if meta["errors"]:
        bench.say(f"WARNING {label}: {meta['errors']} errors (recorded)")
    return result


def hundred_thousand(bench: Bench) -> None:
    from benchmarks.store import store_census

    assert bench.catalog
    count = bench.args.scale_count
    note = (
        f"{bench.args.partitions} ranges, max_concurrent {bench.args.max_concurrent}; "
        "peak_rss_mb: the run's own process; range_peak_rss_mb: the largest process below "
        "it (a range process), sampled every 100 ms"
    )
    # The cold target's yardstick, in the same run at the same batch size: Medusa-direct
    # into an empty store (10k products: the whole 100k would take another ~10 minutes).
    batch = bench.args.batch_size
    bench.catalog.reset(count=10_000)
    bench.empty_store()
    direct = bench.child("direct-10k", {"mode": "direct", "batch_size": batch})
    bench.scenario(
        f"medusa-direct-10k batch {batch}",
        "baseline",
        10_000,
        "only the batch POSTs are timed (the floor), into an empty store",
    ).runs.append(direct)
    bench.catalog.reset(count=count)
    bench.empty_store()
    cold = partitioned(bench, "partitioned-cold-100k")
    bench.scenario("partitioned-cold-100k", "scale-out", count, note).runs.append(cold)
    noop = partitioned(bench, "partitioned-noop-100k")
    bench.scenario("partitioned-noop-100k", "scale-out", count, note).runs.append(noop)
    bench.catalog.mutate("price", count=max(1, count // 100))
    changed = partitioned(bench, "partitioned-1pct-100k")
    bench.scenario(
        "partitioned-1pct-100k", "scale-out", count, note + "; 1000 prices changed"
    ).runs.append(changed)
    one_process = bench.ours("noop-100k", batch_size=bench.args.batch_size)
    bench.scenario(
        "noop-100k", "ours", count, "the one-process sync_job at 100k: its memory"
    ).runs.append(one_process)
    bench.catalog.mutate("price", count=max(1, count // 100))
    changed = bench.ours("1pct-100k", batch_size=bench.args.batch_size)
    bench.scenario(
        "1pct-100k", "ours", count, "the one-process sync_job at 100k, 1000 prices changed"
    ).runs.append(changed)
    census = store_census(bench.info)
    bench.say(f"store after the 100k runs: {census}")
    bench.scenarios["partitioned-1pct-100k"].note += f"; store census {census}"
