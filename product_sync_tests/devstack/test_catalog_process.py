"""`scripts/devstack down` stops the catalog server it started, and nothing else: a pid
file outlives its process, and on a busy machine the kernel soon gives that pid to
another one (seen here: a test run SIGTERMed mid-sync by another checkout's `down`)."""

import subprocess
import sys

import pytest

from devstack.catalog import process as catalog_process
from devstack.medusa import start_time


@pytest.fixture
def bystander(tmp_path, monkeypatch):
    """A live process, and the catalog's pid file moved to a temporary place."""
    monkeypatch.setattr(catalog_process, "PID_FILE", tmp_path / "catalog.pid")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def test_a_pid_now_held_by_another_process_is_not_signalled(bystander):
    # The pid file of a server that exited; its pid now belongs to `bystander`.
    catalog_process.PID_FILE.write_text(f"{bystander.pid} {start_time(bystander.pid) - 1}\n")
    catalog_process.stop_catalog()
    assert bystander.poll() is None
    assert not catalog_process.PID_FILE.exists()


def test_a_pid_file_without_a_start_time_is_not_trusted(bystander):
    catalog_process.PID_FILE.write_text(f"{bystander.pid}\n")
    catalog_process.stop_catalog()
    assert bystander.poll() is None


def test_the_server_it_started_is_stopped(bystander):
    catalog_process.PID_FILE.write_text(f"{bystander.pid} {start_time(bystander.pid)}\n")
    catalog_process.stop_catalog()
    assert bystander.wait(timeout=10) == -15  # SIGTERM
    assert not catalog_process.PID_FILE.exists()
