"""The results: scenarios and their medians, the ratios against the baselines, the targets,
and the JSON and markdown reports."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from benchmarks.measure import RESULTS

SWEEP = (15, 50, 100)


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
            "range_peak_rss_mb": max(r["range_peak_rss_mb"] for r in self.runs),
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


def _median(scenarios: dict[str, Scenario], name: str, key: str = "assets_s") -> float | None:
    scenario = scenarios.get(name)
    return scenario.median(key) if scenario else None


def ratios(scenarios: dict[str, Scenario]) -> dict[str, Any]:
    """Ours against the baselines, per batch size of the sweep."""

    def seconds(name: str, key: str = "assets_s") -> float | None:
        return _median(scenarios, name, key)

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
    # The cold scale-out against Medusa-direct of the same run, in products per second.
    direct_10k = [s for name, s in scenarios.items() if name.startswith("medusa-direct-10k")]
    cold_scaled = scenarios.get("partitioned-cold-100k")
    if direct_10k and cold_scaled:
        result["partitioned_cold_vs_direct_products_per_s"] = ratio(
            cold_scaled.to_json()["products_per_s"], direct_10k[0].to_json()["products_per_s"]
        )
    result["seed_faithful_vs_ours_cold"] = ratio(
        seconds("seed-faithful-cold-194"), seconds("cold-194")
    )
    result["seed_faithful_vs_ours_noop"] = ratio(
        seconds("seed-faithful-noop-194"), seconds("noop-194")
    )
    return result


def targets(
    scenarios: dict[str, Scenario], ratios: dict[str, Any], batch_size: int
) -> list[dict[str, Any]]:
    """The performance targets, each with its value and whether it is met."""

    def value(name: str, key: str = "assets_s") -> float | None:
        return _median(scenarios, name, key)

    rows = []

    def target(what: str, got: Any, goal: str, met: bool | None) -> None:
        rows.append({"target": what, "goal": goal, "value": got, "met": met})

    if "cold-194" not in scenarios:
        return rows + scale_targets(scenarios, batch_size)
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
    noop_writes = scenarios["noop-194"].runs[-1]["writes"] if noop is not None else None
    target(
        "no-op 194",
        f"{noop} s, {noop_writes} writes",
        "≤ 0.5 s, 0 writes",
        noop is not None and noop <= 0.5 and noop_writes == 0,
    )
    changed = scenarios.get("changed-1pct-10k")
    if changed and "noop-194" in scenarios:
        seconds = changed.median("assets_s")
        writes = [r["writes"] for r in changed.runs]
        target(
            "1 % of 10k changed",
            f"{seconds} s, writes {writes}",
            "≤ 10 s, writes = 100",
            seconds is not None and seconds <= 10 and all(w == 100 for w in writes),
        )
        small = scenarios["cold-194"].to_json()["peak_rss_mb"]
        big = scenarios["cold-10k"].to_json()["peak_rss_mb"]
        target(
            "RSS growth 194 → 10k (cold)",
            round(big - small, 1),
            "≤ 30 MB",
            big - small <= 30,
        )
        steady_small = scenarios["noop-194"].to_json()["peak_rss_mb"]
        steady_big = changed.to_json()["peak_rss_mb"]
        target(
            "RSS growth 194 no-op → 10k 1 % change",
            round(steady_big - steady_small, 1),
            "≤ 30 MB",
            steady_big - steady_small <= 30,
        )
    batch = batch_size
    if batch in SWEEP:
        for part, label in (("sync", "synced_products"), ("pipeline", "pipeline")):
            got = ratios.get(f"ours_{part}_vs_direct_b{batch}")
            target(
                f"ours / Medusa-direct at batch {batch} ({label})",
                got,
                "≤ 1.25",
                got is not None and got <= 1.25,
            )
    rows += scale_targets(scenarios, batch_size)
    got = ratios.get("seed_faithful_vs_ours_cold")
    target("seed-faithful / ours, cold", got, "≥ 3", got is not None and got >= 3)
    got = ratios.get("seed_faithful_vs_ours_noop")
    target("seed-faithful / ours, no-op", got, "≥ 20", got is not None and got >= 20)
    return rows


# Issue 14: the cost per product at 100k against 10k, and the whole daily run at 194.
LINEAR = 1.5
MAX_RSS_MB = 200
SCALE_MODES = {"one process": "{}-100k", "ranges": "partitioned-{}-100k"}


def scale_targets(scenarios: dict[str, Scenario], batch_size: int) -> list[dict[str, Any]]:
    """The daily-cost targets: each 100k figure in whichever mode ran it (one process or
    ranges), with the per-product cost against the 10k run of the same bench."""
    rows: list[dict[str, Any]] = []

    def target(what: str, got: Any, goal: str, met: bool | None) -> None:
        rows.append({"target": what, "goal": goal, "value": got, "met": met})

    def per_product(name: str) -> float | None:
        scenario = scenarios.get(name)
        seconds = scenario.median("assets_s") if scenario else None
        return seconds / scenario.products if scenario and seconds else None

    job_noop, job_cold = scenarios.get("job-noop-194"), scenarios.get("job-cold-194")
    if job_noop and job_noop.runs:
        seconds = job_noop.median("assets_s")
        writes = [r["writes"] for r in job_noop.runs]
        green = all(all(r["checks"].values()) for r in job_noop.runs)
        target(
            "194 whole run, no-op (sync_job, checks included)",
            f"{seconds} s, writes {writes}, checks {'passed' if green else 'FAILED'}",
            "≤ 2 s, 0 writes",
            seconds is not None and seconds <= 2 and not any(writes) and green,
        )
    direct = _median(scenarios, f"medusa-direct-194 batch {batch_size}")
    if job_cold and job_cold.runs and direct:
        categories = statistics.median(
            r["medusa"].get("by_route", {}).get("POST /admin/product-categories", [0, 0.0])[1]
            for r in job_cold.runs
        )
        seconds = job_cold.median("assets_s")
        goal = round(1.25 * direct + categories, 3)
        target(
            "194 whole run, cold",
            f"{seconds} s (Medusa-direct {direct} s, category creates {categories:.3f} s)",
            f"≤ 1.25 × Medusa-direct + category creates = {goal} s",
            seconds is not None and seconds <= goal,
        )
    cold = scenarios.get("partitioned-cold-100k")
    yardstick = [s for name, s in scenarios.items() if name.startswith("medusa-direct-10k")]
    if cold and cold.runs and yardstick:
        ours, floor = cold.to_json()["products_per_s"], yardstick[0].to_json()["products_per_s"]
        got = round(ours / floor, 2) if ours and floor else None
        target(
            "100k cold (ranges), products/s against Medusa-direct's",
            f"{got} ({ours} / {floor} products/s)",
            "≥ 0.9",
            got is not None and got >= 0.9,
        )
    for mode, pattern in SCALE_MODES.items():
        for kind, small, limit, writes_wanted in (
            ("noop", "noop-10k", 60, 0),
            ("1pct", "changed-1pct-10k", 90, None),
        ):
            scenario = scenarios.get(pattern.format(kind))
            if not scenario or not scenario.runs:
                continue
            seconds = scenario.median("assets_s")
            writes = [r["writes"] for r in scenario.runs]
            wanted = scenario.products // 100 if writes_wanted is None else writes_wanted
            rss = scenario.to_json()["peak_rss_mb"]
            if scenario.kind == "scale-out":
                rss = max(r["range_peak_rss_mb"] for r in scenario.runs)
            target(
                f"100k {kind} ({mode})",
                f"{seconds} s, writes {writes}, peak RSS per process {rss} MB",
                f"≤ {limit} s, writes = {wanted}, ≤ {MAX_RSS_MB} MB",
                seconds is not None
                and seconds <= limit
                and all(w == wanted for w in writes)
                and rss <= MAX_RSS_MB,
            )
            big, base = per_product(scenario.name), per_product(small)
            growth = round(big / base, 2) if big and base else None
            target(
                f"linear: {kind} per product, 100k ({mode}) / 10k",
                growth,
                f"≤ {LINEAR}",
                growth is not None and growth <= LINEAR,
            )
    return rows


def write_report(scenarios: dict[str, Scenario], args: argparse.Namespace) -> None:
    """Write `latest.json` and `latest.md` and print the markdown."""
    ratios_ = ratios(scenarios)
    targets_ = targets(scenarios, ratios_, args.batch_size)
    scenarios = [s.to_json() for s in scenarios.values()]
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["scripts/bench", *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {
            "batch_size": args.batch_size,
            "repeat": args.repeat,
            "quick": args.quick,
            "with_100k": args.with_100k,
        },
        "seconds_definition": (
            "ours: first asset step start to last asset step end (all four assets, "
            "Dagster's step overhead included, process start and run setup excluded); "
            "sync_s: synced_products' own duration_s; run_s: the dg.materialize call; "
            "process_s: the whole subprocess. Baselines: their own run (seed-faithful) "
            "or the batch POSTs only (Medusa-direct). Median of the repeats."
        ),
        "scenarios": scenarios,
        "ratios": ratios_,
        "targets": targets_,
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
