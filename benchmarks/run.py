"""`scripts/bench`: bring up the local stack, measure the sync and its baselines in one run,
print a markdown table, write `benchmarks/results/latest.json` and `latest.md`.

Every measured sync runs in a fresh subprocess (`benchmarks.child`); its peak RSS comes from
`os.wait4`. Cold scenarios start from `Stack.reset(restart=True)` (an empty store and a freshly
booted Medusa) followed by the same small warm-up for every contender (45 throwaway draft products
created and deleted), so no contender pays for Medusa's first-request JIT and the others not.
The catalog server runs in this process, on a free port.

Ports: the stack follows DEVSTACK_PG_PORT / DEVSTACK_MEDUSA_PORT like `scripts/devstack`.
Medusa runs as shipped: without the dev stack's memo of its per-request secret-key scrypt
(DEVSTACK_SCRYPT_MEMO=0 unless set; a running Medusa with the memo is restarted), since a
real store pays ~80 ms of CPU per admin request for it and the figures are about real stores.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from typing import Any

from benchmarks.measure import REPO_ROOT, RESULTS, run_child
from benchmarks.report import SWEEP, Scenario, write_report
from benchmarks.store import store_census, warm_up
from devstack.catalog.server import CatalogServer
from devstack.stack import Stack, StackInfo
from product_sync.resources.medusa import MedusaResource

DEFAULT_BATCH = MedusaResource.model_fields["batch_size"].default
WHOLE_RUN = "sync_job with its asset checks, RUN_START to RUN_SUCCESS"

log = logging.getLogger("bench")


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stack = Stack(REPO_ROOT)
        self.info: StackInfo | None = None
        self.catalog: CatalogServer | None = None
        self.scenarios: dict[str, Scenario] = {}
        self.started = time.perf_counter()

    # -- plumbing

    def say(self, message: str) -> None:
        elapsed = time.perf_counter() - self.started
        print(f"[bench {elapsed:6.0f}s] {message}", file=sys.stderr, flush=True)

    def empty_store(self) -> StackInfo:
        self.info = self.stack.reset(restart=True)  # cold: a freshly booted Medusa
        warm_up(self.info)
        return self.info

    def scenario(self, name: str, kind: str, products: int, note: str = "") -> Scenario:
        if name not in self.scenarios:
            self.scenarios[name] = Scenario(name, kind, products, note=note)
        return self.scenarios[name]

    def ours(self, label: str, *, batch_size: int, write_concurrency: int = 1, **extra) -> dict:
        assert self.info and self.catalog
        spec = {
            "mode": "ours",
            "source_url": self.catalog.base_url,
            "medusa": {"batch_size": batch_size, "write_concurrency": write_concurrency},
            **extra,
        }
        if self.args.profile:
            spec["profile"] = str(RESULTS / f"profile-{label}.txt.tmp")
        result = run_child(spec, self.info, label)
        meta = result["metadata"]
        self.say(
            f"{label}: {result['assets_s']:.2f}s (sync {result['sync_s']:.2f}s, run "
            f"{result['run_s']:.2f}s, process {result['process_s']:.2f}s) created "
            f"{meta['created']} updated {meta['updated']} unchanged {meta['unchanged']} "
            f"errors {meta['errors']} requests {result['requests']} rss "
            f"{result['peak_rss_mb']} MB load {result['load1']}"
        )
        if meta["errors"]:
            self.say(f"WARNING {label}: the sync reported {meta['errors']} errors (recorded)")
        return result

    def child(self, label: str, spec: dict[str, Any]) -> dict:
        assert self.info and self.catalog
        result = run_child({"source_url": self.catalog.base_url, **spec}, self.info, label)
        self.say(
            f"{label}: {result['assets_s']:.2f}s writes {result.get('writes')} "
            f"requests {result.get('requests')} rss {result['peak_rss_mb']} MB "
            f"load {result['load1']}"
        )
        return result

    # -- scenarios

    def small_catalog(self) -> None:
        args = self.args
        batch = args.batch_size
        sizes = [batch] if args.quick else sorted({*SWEEP, batch})
        for size in sizes:
            for n in range(args.repeat):
                self.empty_store()
                result = self.ours(f"cold-194-b{size}-{n}", batch_size=size)
                self.scenario(f"cold-194 batch {size}", "ours", 194).runs.append(result)
                if size == batch:
                    self.scenario("cold-194", "ours", 194).runs.append(result)
                    noop = self.ours(f"noop-194-{n}", batch_size=size)
                    self.scenario("noop-194", "ours", 194).runs.append(noop)
            for n in range(args.repeat):
                self.empty_store()
                result = self.child(
                    f"direct-194-b{size}-{n}", {"mode": "direct", "batch_size": size}
                )
                self.scenario(
                    f"medusa-direct-194 batch {size}",
                    "baseline",
                    194,
                    "only the batch POSTs are timed (the floor)",
                ).runs.append(result)
        for n in range(args.repeat):
            # The daily run as the schedule starts it: sync_job, checks included.
            self.empty_store()
            cold = self.child(f"job-cold-194-{n}", {"mode": "job"})
            self.scenario("job-cold-194", "ours", 194, WHOLE_RUN).runs.append(cold)
            noop = self.child(f"job-noop-194-{n}", {"mode": "job"})
            self.scenario("job-noop-194", "ours", 194, WHOLE_RUN).runs.append(noop)
        census = store_census(self.info)
        self.say(f"store after the 194 runs: {census}")
        concurrency_sizes = [batch] if args.quick else sorted({50, 100, batch})
        for size in concurrency_sizes:
            for n in range(args.repeat):
                self.empty_store()
                label = f"cold-194-b{size}-wc2-{n}"
                result = self.ours(label, batch_size=size, write_concurrency=2)
                name = f"cold-194 batch {size} write_concurrency 2"
                self.scenario(name, "ours", 194).runs.append(result)

    def seed_faithful(self) -> None:
        self.empty_store()
        spec = {"mode": "naive", "batch_size": 15}
        cold = self.child("seed-faithful-cold-194", spec)
        self.scenario(
            "seed-faithful-cold-194", "baseline", 194, "sequential pages, one product per request"
        ).runs.append(cold)
        again = self.child("seed-faithful-noop-194", spec)
        self.scenario(
            "seed-faithful-noop-194", "baseline", 194, "updates every product every run"
        ).runs.append(again)

    def ten_thousand(self) -> None:
        assert self.catalog
        batch = self.args.batch_size
        self.catalog.reset(count=10_000)
        self.empty_store()
        cold = self.ours("cold-10k", batch_size=batch)
        self.scenario("cold-10k", "ours", 10_000, "loads the 10k store; not a target").runs.append(
            cold
        )
        noop = self.ours("noop-10k", batch_size=batch)
        self.scenario("noop-10k", "ours", 10_000).runs.append(noop)
        for n in range(self.args.repeat):
            self.catalog.mutate("price", count=100)
            changed = self.ours(f"changed-1pct-10k-{n}", batch_size=batch)
            self.scenario("changed-1pct-10k", "ours", 10_000, "100 prices changed").runs.append(
                changed
            )
            if changed["writes"] != 100:
                self.say(f"WARNING: 1 % change wrote {changed['writes']}, expected 100")
        census = store_census(self.info)
        self.say(f"store after the 10k runs: {census}")
        self.scenarios["changed-1pct-10k"].note += f"; store census {census}"

    # -- report

    # -- report

    def report(self) -> None:
        write_report(self.scenarios, self.args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="194 products only, one batch size")
    parser.add_argument("--with-100k", action="store_true", help="also the 100k scale-out run")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    parser.add_argument("--repeat", type=int, default=None, help="runs per scenario (median)")
    parser.add_argument("--partitions", type=int, default=10, help="100k: partitions")
    parser.add_argument("--max-concurrent", type=int, default=2, help="100k: processes at once")
    parser.add_argument(
        "--profile", action="store_true", help="pyinstrument each sync (installed ad hoc)"
    )
    parser.add_argument("--scale-count", type=int, default=100_000, help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["small", "seed", "10k", "100k"], action="append")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    os.environ.setdefault("DEVSTACK_SCRYPT_MEMO", "0")
    bench = Bench(args)
    bench.say("bringing the stack up")
    bench.info = bench.stack.up()
    only = set(args.only or [])
    with CatalogServer(seed=42, count=194) as catalog:
        bench.catalog = catalog
        if not only or "small" in only:
            bench.small_catalog()
        if not only or "seed" in only:
            bench.seed_faithful()
        if (not only and not args.quick) or "10k" in only:
            bench.ten_thousand()
        if args.with_100k or "100k" in only:
            from benchmarks.scale import hundred_thousand

            hundred_thousand(bench)
    bench.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
