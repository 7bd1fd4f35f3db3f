"""`scripts/bench`: bring up the local stack, measure the sync and its baselines in one run,
print a markdown table, write `benchmarks/results/latest.json` and `latest.md`.

Every measured sync runs in a fresh subprocess (`benchmarks.child`); its peak RSS comes from
`os.wait4`. Cold scenarios start from `Stack.reset(restart=True)` (an empty store and a freshly
booted Medusa) followed by the same small warm-up for every contender (45 throwaway draft products
created and deleted), so no contender pays for Medusa's first-request JIT and the others not.
The catalog server runs in this process, on a free port.

Ports: the stack follows DEVSTACK_PG_PORT / DEVSTACK_MEDUSA_PORT like `scripts/devstack`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from devstack.catalog.server import CatalogServer
from devstack.stack import Stack, StackInfo
from product_sync.resources.medusa import MedusaResource

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "benchmarks" / "results"
DEFAULT_BATCH = MedusaResource.model_fields["batch_size"].default
SWEEP = (15, 50, 100)
PREFIX = "dummyjson:"

log = logging.getLogger("bench")


# -- one measured process ---------------------------------------------------------------------


def run_child(spec: dict[str, Any], info: StackInfo, label: str) -> dict[str, Any]:
    """Run `benchmarks.child` with `spec`; returns its JSON plus process time and peak RSS."""
    env = {**os.environ, "MEDUSA_API_KEY": info.api_key, "PYTHONUNBUFFERED": "1"}
    env.pop("DAGSTER_HOME", None)
    spec = {**spec, "backend_url": info.backend_url}
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_path = RESULTS / f"{label}.log.tmp"
    load_before = os.getloadavg()[0]
    began_wall = time.time()
    began = time.perf_counter()
    with log_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.child"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        assert process.stdin and process.stdout
        process.stdin.write(json.dumps(spec))
        process.stdin.close()
        out = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    process_s = time.perf_counter() - began
    if process.returncode != 0 or not out.strip():
        tail = log_path.read_text()[-3000:]
        raise RuntimeError(f"{label}: child exited {process.returncode}\n{tail}")
    result = json.loads(out.strip().splitlines()[-1])
    result["process_s"] = round(process_s, 3)
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    result["load1"] = round(max(load_before, os.getloadavg()[0]), 2)
    result["medusa"] = medusa_time(began_wall, time.time())
    return result


_ID = re.compile(r"/(prod|pcat|sloc|iitem|variant|sc|ilev)_[0-9A-Z]+")


def medusa_time(began: float, ended: float) -> dict[str, Any]:
    """Medusa's own request log for a time window: how long the server spent answering,
    per route (requests are sequential unless write_concurrency > 1)."""
    path = Stack(REPO_ROOT).medusa_log
    routes: dict[str, list[float]] = {}
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return {}
    for line in lines:
        if not line.startswith("{") or '"level":"http"' not in line:
            continue
        try:
            entry = json.loads(line)
            at = datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00")).timestamp()
        except (ValueError, KeyError):
            continue
        if not began <= at <= ended:
            continue
        route = entry["method"] + " " + _ID.sub(r"/:\1", entry["path"].split("?")[0])
        count_seconds = routes.setdefault(route, [0, 0.0])
        count_seconds[0] += 1
        count_seconds[1] += float(entry.get("duration") or 0) / 1000  # null: no answer
    busy = sum(s for _, s in routes.values())
    return {
        "busy_s": round(busy, 3),
        "requests": sum(n for n, _ in routes.values()),
        "by_route": {
            k: [n, round(s, 3)] for k, (n, s) in sorted(routes.items(), key=lambda i: -i[1][1])
        },
    }


# -- the store ----------------------------------------------------------------------------------


def warm_up(info: StackInfo) -> None:
    """Create and delete 45 throwaway draft products, so Medusa's write path is warm."""
    session = requests.Session()
    session.auth = info.auth
    option = [{"title": "Default", "values": ["Default Option"]}]
    for round_ in range(3):
        body = {
            "create": [
                {
                    "title": f"bench warm-up {round_}-{i}",
                    "handle": f"bench-warm-up-{round_}-{i}",
                    "status": "draft",
                    "options": option,
                    "variants": [
                        {
                            "title": "Default",
                            "sku": f"BENCH-WARM-UP-{round_}-{i}",
                            "manage_inventory": True,
                            "prices": [{"amount": 1, "currency_code": "usd"}],
                            "options": {"Default": "Default Option"},
                        }
                    ],
                }
                for i in range(15)
            ]
        }
        response = session.post(
            f"{info.backend_url}/admin/products/batch", json=body, params={"fields": "id"}
        )
        response.raise_for_status()
        ids = [p["id"] for p in response.json()["created"]]
        session.post(
            f"{info.backend_url}/admin/products/batch", json={"delete": ids}
        ).raise_for_status()


def store_census(info: StackInfo) -> dict[str, int]:
    """Our products in the store: how many, how many distinct external ids and handles."""
    session = requests.Session()
    session.auth = info.auth
    ours: list[dict[str, Any]] = []
    offset = 0
    while True:
        body = session.get(
            f"{info.backend_url}/admin/products",
            params={"fields": "id,handle,external_id", "limit": 1000, "offset": offset},
            timeout=120,
        ).json()
        rows = body["products"]
        ours += [p for p in rows if (p.get("external_id") or "").startswith(PREFIX)]
        offset += len(rows)
        if not rows or offset >= body["count"]:
            break
    return {
        "products": len(ours),
        "external_ids": len({p["external_id"] for p in ours}),
        "handles": len({p["handle"] for p in ours}),
    }


# -- results ------------------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    kind: str  # ours | baseline | scale-out
    products: int
    runs: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    def median(self, key: str) -> float | None:
        values = [r[key] for r in self.runs if r.get(key) is not None]
        return round(statistics.median(values), 3) if values else None

    def _scale_out_fields(self) -> dict[str, Any]:
        if self.kind != "scale-out" or not self.runs:
            return {}
        last = self.runs[-1]
        return {
            "ranges_s": self.median("ranges_s"),
            "range_peak_rss_mb": max(r["grandchildren_peak_rss_mb"] for r in self.runs),
            "by_range": last.get("by_range", []),
            "handle_replans": last["metadata"].get("handle_replans"),
        }

    def to_json(self) -> dict[str, Any]:
        seconds = self.median("assets_s")
        last = self.runs[-1] if self.runs else {}
        return {
            "name": self.name,
            "kind": self.kind,
            "products": self.products,
            "seconds": seconds,
            "products_per_s": round(self.products / seconds, 1) if seconds else None,
            "writes": last.get("writes"),
            "errors": last.get("metadata", {}).get("errors", 0),
            "requests": last.get("requests"),
            "peak_rss_mb": max((r["peak_rss_mb"] for r in self.runs), default=None),
            "sync_s": self.median("sync_s"),
            "run_s": self.median("run_s"),
            "process_s": self.median("process_s"),
            "seconds_min": min((r["assets_s"] for r in self.runs), default=None),
            "seconds_max": max((r["assets_s"] for r in self.runs), default=None),
            "repeats": len(self.runs),
            **self._scale_out_fields(),
            "note": self.note,
            "runs": self.runs,
        }


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

    def ratios(self) -> dict[str, Any]:
        def seconds(name: str, key: str = "assets_s") -> float | None:
            scenario = self.scenarios.get(name)
            return scenario.median(key) if scenario else None

        def ratio(a: float | None, b: float | None) -> float | None:
            return round(a / b, 2) if a and b else None

        result: dict[str, Any] = {}
        for size in SWEEP:
            direct = seconds(f"medusa-direct-194 batch {size}")
            ours_sync = seconds(f"cold-194 batch {size}", "sync_s")
            ours_all = seconds(f"cold-194 batch {size}")
            if direct:
                result[f"ours_sync_vs_direct_b{size}"] = ratio(ours_sync, direct)
                result[f"ours_pipeline_vs_direct_b{size}"] = ratio(ours_all, direct)
        direct_10k = self.scenarios.get(f"medusa-direct-10k batch {self.args.batch_size}")
        cold_100k = self.scenarios.get("partitioned-cold-100k")
        if direct_10k and cold_100k:
            rate = cold_100k.to_json()["products_per_s"]
            result["partitioned_cold_vs_direct_products_per_s"] = ratio(
                rate, direct_10k.to_json()["products_per_s"]
            )
        result["seed_faithful_vs_ours_cold"] = ratio(
            seconds("seed-faithful-cold-194"), seconds("cold-194")
        )
        result["seed_faithful_vs_ours_noop"] = ratio(
            seconds("seed-faithful-noop-194"), seconds("noop-194")
        )
        return result

    def targets(self, ratios: dict[str, Any]) -> list[dict[str, Any]]:
        def value(name: str, key: str = "assets_s") -> float | None:
            scenario = self.scenarios.get(name)
            return scenario.median(key) if scenario else None

        rows = []

        def target(what: str, got: Any, goal: str, met: bool | None) -> None:
            rows.append({"target": what, "goal": goal, "value": got, "met": met})

        if "cold-194" not in self.scenarios:
            return rows
        cold = value("cold-194")
        target("cold 194 (pipeline)", cold, "< 2.0 s", cold is not None and cold < 2.0)
        cold_sync = value("cold-194", "sync_s")
        target(
            "cold 194 (synced_products only)",
            cold_sync,
            "< 2.0 s",
            cold_sync is not None and cold_sync < 2.0,
        )
        noop = value("noop-194")
        noop_writes = self.scenarios["noop-194"].runs[-1]["writes"] if noop is not None else None
        target(
            "no-op 194",
            f"{noop} s, {noop_writes} writes",
            "≤ 0.5 s, 0 writes",
            noop is not None and noop <= 0.5 and noop_writes == 0,
        )
        changed = self.scenarios.get("changed-1pct-10k")
        if changed and "noop-194" in self.scenarios:
            seconds = changed.median("assets_s")
            writes = [r["writes"] for r in changed.runs]
            target(
                "1 % of 10k changed",
                f"{seconds} s, writes {writes}",
                "≤ 10 s, writes = 100",
                seconds is not None and seconds <= 10 and all(w == 100 for w in writes),
            )
            small = self.scenarios["cold-194"].to_json()["peak_rss_mb"]
            big = self.scenarios["cold-10k"].to_json()["peak_rss_mb"]
            target(
                "RSS growth 194 → 10k (cold)",
                round(big - small, 1),
                "≤ 30 MB",
                big - small <= 30,
            )
            steady_small = self.scenarios["noop-194"].to_json()["peak_rss_mb"]
            steady_big = changed.to_json()["peak_rss_mb"]
            target(
                "RSS growth 194 no-op → 10k 1 % change",
                round(steady_big - steady_small, 1),
                "≤ 30 MB",
                steady_big - steady_small <= 30,
            )
        batch = self.args.batch_size
        if batch in SWEEP:
            for part, label in (("sync", "synced_products"), ("pipeline", "pipeline")):
                got = ratios.get(f"ours_{part}_vs_direct_b{batch}")
                target(
                    f"ours / Medusa-direct at batch {batch} ({label})",
                    got,
                    "≤ 1.25",
                    got is not None and got <= 1.25,
                )
        got = ratios.get("seed_faithful_vs_ours_cold")
        target("seed-faithful / ours, cold", got, "≥ 3", got is not None and got >= 3)
        got = ratios.get("seed_faithful_vs_ours_noop")
        target("seed-faithful / ours, no-op", got, "≥ 20", got is not None and got >= 20)
        return rows

    def report(self) -> None:
        ratios = self.ratios()
        targets = self.targets(ratios)
        scenarios = [s.to_json() for s in self.scenarios.values()]
        document = {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(["scripts/bench", *sys.argv[1:]]),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "settings": {
                "batch_size": self.args.batch_size,
                "repeat": self.args.repeat,
                "quick": self.args.quick,
                "with_100k": self.args.with_100k,
            },
            "seconds_definition": (
                "ours: first asset step start to last asset step end (all four assets, "
                "Dagster's step overhead included, process start and run setup excluded); "
                "sync_s: synced_products' own duration_s; run_s: the dg.materialize call; "
                "process_s: the whole subprocess. Baselines: their own run (seed-faithful) "
                "or the batch POSTs only (Medusa-direct). Median of the repeats."
            ),
            "scenarios": scenarios,
            "ratios": ratios,
            "targets": targets,
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "latest.json").write_text(json.dumps(document, indent=2) + "\n")
        markdown = render_markdown(document)
        (RESULTS / "latest.md").write_text(markdown)
        print(markdown)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}" if value < 100 else f"{value:.0f}"
    return str(value)


def render_markdown(document: dict[str, Any]) -> str:
    lines = [
        f"# Benchmark results ({document['generated_at']})",
        "",
        f"`{document['command']}` on {document['machine']['cpus']} CPUs; "
        f"{document['seconds_definition']}",
        "",
        "| scenario | products | seconds | products/s | sync_s | process_s | writes | errors "
        "| requests | peak RSS MB | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in document["scenarios"]:
        load = max((r.get("load1", 0) for r in s["runs"]), default=None)
        lines.append(
            "| "
            + " | ".join(
                _fmt(v)
                for v in (
                    s["name"],
                    s["products"],
                    s["seconds"],
                    s["products_per_s"],
                    s["sync_s"],
                    s["process_s"],
                    s["writes"],
                    s["errors"],
                    s["requests"],
                    s["peak_rss_mb"],
                    load,
                )
            )
            + " |"
        )
    lines += ["", "| ratio | value |", "|---|---|"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in document["ratios"].items()]
    lines += ["", "| target | goal | value | met |", "|---|---|---|---|"]
    for t in document["targets"]:
        met = "yes" if t["met"] else "**no**"
        lines.append(f"| {t['target']} | {t['goal']} | {_fmt(t['value'])} | {met} |")
    return "\n".join(lines) + "\n"


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
