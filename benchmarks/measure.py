"""One measured process: `benchmarks.child` in a fresh subprocess, its wall time and peak RSS
(`os.wait4`), and Medusa's own request log for the same window."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from devstack.stack import Stack, StackInfo

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "benchmarks" / "results"


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
