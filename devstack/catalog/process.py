"""The catalog server as a background process of the dev stack (demo and `scripts/ui`).

Listens on 127.0.0.1:8700 (DEVSTACK_CATALOG_PORT); pid and log under .devstack/.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from devstack.errors import DevstackError
from devstack.medusa import process_exists, start_time

log = logging.getLogger("devstack.catalog")

REPO_ROOT = Path(__file__).resolve().parents[2]
PORT = int(os.environ.get("DEVSTACK_CATALOG_PORT", "8700"))
URL = f"http://127.0.0.1:{PORT}"
PID_FILE = REPO_ROOT / ".devstack" / "catalog.pid"
LOG_FILE = REPO_ROOT / ".devstack" / "logs" / "catalog.log"


def _answers() -> bool:
    try:
        return requests.get(f"{URL}/products?limit=1", timeout=2).ok
    except requests.RequestException:
        return False


def ensure_catalog() -> str:
    """Start the catalog server unless one already answers; returns its base URL."""
    if _answers():
        return URL
    LOG_FILE.parent.mkdir(parents=True, exist_ok=True)
    with LOG_FILE.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack.catalog", "--port", str(PORT), "--quiet"],
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    # With its start time: a pid alone may name another process by the time we stop it.
    PID_FILE.write_text(f"{process.pid} {start_time(process.pid) or 0}\n")
    deadline = time.monotonic() + 15
    while not _answers():
        if process.poll() is not None or time.monotonic() > deadline:
            raise DevstackError(f"the catalog server did not start; see {LOG_FILE}")
        time.sleep(0.1)
    log.info("catalog server up at %s (pid %d)", URL, process.pid)
    return URL


def stop_catalog() -> None:
    """Stop the catalog server this module started, if it still runs. The pid file names
    it by pid and start time; a pid the kernel has since given to another process (pids
    wrap around quickly on a busy machine) is left alone."""
    if not PID_FILE.exists():
        return
    fields = PID_FILE.read_text().split()
    pid, started = (int(f) for f in [*fields, "0", "0"][:2])
    if pid and started and start_time(pid) == started:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                if not process_exists(pid):
                    break
                time.sleep(0.1)
    PID_FILE.unlink(missing_ok=True)
