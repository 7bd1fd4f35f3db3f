"""The Medusa server process: its environment, ``medusa <cli>`` runs, start, health, stop.

``medusa start`` runs in its own session (= process group), so the caller's terminal
signals don't reach it and :meth:`MedusaProcess.stop` / :meth:`kill` signal exactly that
group. A stop or kill returns only once the whole group is gone **and** the HTTP port is
free again: node is multi-threaded, and after SIGKILL its main thread can already show as
a zombie while other threads still hold the listening socket, which a restart would then
take for someone else's server.

The pid file holds the pid **and its start time**: pids are reused (pid_max is 32768 on
small machines, and busy ones wrap within minutes), so a pid alone, or a pid whose
command line mentions medusa, may by now be another process, even another checkout's
Medusa. Nothing is signalled or waited for unless both match.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import requests

from devstack.errors import DevstackError
from devstack.postgres import HOST
from devstack.state import StackFiles

log = logging.getLogger("devstack")

HEALTH_TIMEOUT = 180.0
PORT_RELEASE_TIMEOUT = 30.0


def session() -> requests.Session:
    """A session that ignores *_PROXY variables (the stack is on loopback)."""
    http = requests.Session()
    http.trust_env = False
    return http


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def run_logged(
    cmd: list[str],
    what: str,
    *,
    cwd: Path,
    env: dict[str, str],
    out: IO[str],
    log_path: Path,
    timeout: float,
) -> subprocess.CompletedProcess:
    """Run a one-off command (``medusa build``, migrations) with its output in ``out``;
    a timeout is a ``DevstackError`` pointing at ``log_path``."""
    try:
        return subprocess.run(
            cmd,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise DevstackError(f"`{what}` timed out after {timeout:.0f}s; see {log_path}") from exc


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state first), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def start_time(pid: int) -> int | None:
    """The process's start time (clock ticks since boot): with the pid, its identity."""
    fields = _stat(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def process_exists(pid: int | None) -> bool:
    """The process (any of its threads) still exists; a fully exited zombie does not count."""
    if not pid:
        return False
    fields = _stat(pid)
    if fields is None:
        return False
    if fields[0] not in ("Z", "X"):
        return True
    # A zombie group leader whose other threads are still exiting keeps the process's
    # files (the listening socket) open: only a leader alone in its thread group is done.
    try:
        return len(os.listdir(f"/proc/{pid}/task")) > 1
    except OSError:
        return False


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _group_members(pgid: int) -> list[int]:
    """Live processes in process group ``pgid``. A pgid is not handed out again while a
    member lives, so once the leader was ours, so are these."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            members.append(int(stat.parent.name))
    return members


class MedusaProcess:
    """``medusa start`` for one stack: pid file, log, port, and how to reach it."""

    def __init__(
        self,
        files: StackFiles,
        port: int,
        env: Callable[[str], dict[str, str]],
    ) -> None:
        self.files = files
        self.port = port
        self.backend_url = f"http://{HOST}:{port}"
        self._env = env  # database name -> the server's environment

    @property
    def bin(self) -> str:
        return str(self.files.store_dir / "node_modules" / ".bin" / "medusa")

    # -- one-off commands ---------------------------------------------------------------------
    def cli(self, args: list[str], database: str, timeout: float = 600) -> None:
        """``medusa <args>`` against ``database`` (migrations, user creation); log to setup_log."""
        t0 = time.monotonic()
        setup_log = self.files.setup_log
        setup_log.parent.mkdir(parents=True, exist_ok=True)
        with setup_log.open("a") as out:
            out.write(f"\n=== medusa {' '.join(args[:1])} ({database}) {time.ctime()} ===\n")
            out.flush()
            proc = run_logged(
                [self.bin, *args],
                f"medusa {args[0]}",
                cwd=self.files.store_dir,
                env=self._env(database),
                out=out,
                log_path=setup_log,
                timeout=timeout,
            )
        if proc.returncode != 0:
            raise DevstackError(
                f"`medusa {args[0]}` failed (rc {proc.returncode}); see {setup_log}:\n"
                + tail(setup_log, 15)
            )
        log.info("medusa %s done in %.1fs", args[0], time.monotonic() - t0)

    # -- the server -----------------------------------------------------------------------------
    def spawn(self, database: str) -> subprocess.Popen:
        """Start ``medusa start`` on ``database`` (not waiting for health); writes the pid file."""
        if port_in_use(self.port):
            raise DevstackError(
                f"port {HOST}:{self.port} is already in use by a process this stack did "
                "not start; stop it or set DEVSTACK_MEDUSA_PORT to a free port"
            )
        log_file = self.files.medusa_log
        log_file.parent.mkdir(parents=True, exist_ok=True)
        if log_file.exists() and log_file.stat().st_size:
            log_file.replace(log_file.with_suffix(".log.1"))
        with log_file.open("w") as out:
            out.write(f"=== medusa start ({database}) {time.ctime()} ===\n")
            out.flush()
            proc = subprocess.Popen(
                [self.bin, "start", "-p", str(self.port), "-H", HOST],
                cwd=self.files.store_dir,
                env=self._env(database),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.files.pid_file.write_text(f"{proc.pid} {start_time(proc.pid) or 0}\n")
        return proc

    def start(self, database: str) -> int:
        """Start on ``database`` and wait until healthy (replacing a hung one); returns the pid."""
        stale = self.pid()
        if stale is not None:  # alive but unhealthy (hung): replace it
            log.warning("medusa pid %d is not healthy; restarting it", stale)
            self.stop()
        recorded = self._recorded()
        if recorded is not None and start_time(recorded[0]) == recorded[1]:
            self._wait_released(_Group(recorded[0]))  # killed or crashed, maybe exiting
        t0 = time.monotonic()
        proc = self.spawn(database)
        self.wait_health(proc.pid)
        log.info("medusa (pid %d) healthy at %s in %.1fs", proc.pid, self.backend_url,
                 time.monotonic() - t0)  # fmt: skip
        return proc.pid

    def wait_health(self, pid: int, timeout: float = HEALTH_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not process_exists(pid):
                raise DevstackError(
                    f"medusa exited during startup; see {self.files.medusa_log}:\n"
                    + tail(self.files.medusa_log)
                )
            if self.health(timeout=1):
                return
            time.sleep(0.1)
        raise DevstackError(f"medusa not healthy after {timeout:.0f}s; see {self.files.medusa_log}")

    def health(self, timeout: float = 2) -> bool:
        try:
            resp = session().get(f"{self.backend_url}/health", timeout=timeout)
        except requests.RequestException:
            return False
        return resp.status_code == 200

    def _recorded(self) -> tuple[int, int] | None:
        """``(pid, start time)`` from the pid file."""
        try:
            pid, started = self.files.pid_file.read_text().split()
            return int(pid), int(started)
        except (OSError, ValueError):
            return None

    def pid(self) -> int | None:
        """PID from the pid file if that very process (same start time) is alive."""
        recorded = self._recorded()
        if recorded is None:
            return None
        pid, started = recorded
        if start_time(pid) != started or not process_exists(pid):
            return None
        return pid

    # -- stopping -------------------------------------------------------------------------------
    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the server's process group, SIGKILL after ``timeout`` seconds."""
        pid = self.pid()
        if pid is not None:
            self.terminate(pid, timeout)
            log.info("medusa (pid %d) stopped", pid)
        self.files.pid_file.unlink(missing_ok=True)

    def kill(self) -> int | None:
        """SIGKILL the server's group (fault tests). Leaves the pid file, as a crash would."""
        pid = self.pid()
        if pid is not None:
            group = _Group(pid)
            group.signal(signal.SIGKILL)
            self._wait_released(group)
        return pid

    def terminate(self, pid: int, timeout: float = 15) -> None:
        """SIGTERM our ``pid``'s group, SIGKILL if it outlives ``timeout``; wait until the
        group is gone and the port is free. ``pid`` must be one just verified as ours."""
        group = _Group(pid)
        group.signal(signal.SIGTERM)
        if not group.wait(timeout):
            log.warning("medusa %d ignored SIGTERM for %.0fs; SIGKILL", pid, timeout)
            group.signal(signal.SIGKILL)
        self._wait_released(group)

    def _wait_released(self, group: _Group, timeout: float = PORT_RELEASE_TIMEOUT) -> None:
        if not group.wait(timeout):
            group.signal(signal.SIGKILL)
            if not group.wait(10):
                raise DevstackError(f"medusa pid {group.pid} (or its group) does not exit")
        # Every thread is gone, so its sockets are closed; allow the kernel a moment anyway.
        deadline = time.monotonic() + 5
        while port_in_use(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)


class _Group:
    """Our server's process group, each member known by pid and start time, so that a
    reused pid is never signalled or waited for."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        members = {pid, *_group_members(pid)} if _pgid(pid) == pid else {pid}
        self.members = {p: t for p in members if (t := start_time(p)) is not None}

    def _alive(self) -> list[int]:
        return [p for p, t in self.members.items() if start_time(p) == t and process_exists(p)]

    def signal(self, sig: int) -> None:
        for pid in self._alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, os.WNOHANG)  # reap if it is our child
            if not self._alive():
                return True
            time.sleep(0.05)
        return False
