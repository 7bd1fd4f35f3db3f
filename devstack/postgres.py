"""A private PostgreSQL server for the dev stack, listening on 127.0.0.1 only.

Which binaries it runs and, under root, as whom: :mod:`devstack.pg_binaries`.

The server listens on TCP ``127.0.0.1:<port>`` only (``listen_addresses`` is written into
``postgresql.conf`` and Unix sockets are disabled: Medusa cannot use socket URLs anyway).
Password auth (scram) with a random password for the ``postgres`` superuser. Durability is
traded for speed (``fsync``/``full_page_writes``/``synchronous_commit`` off): this is a
throwaway dev/test database; after an OS crash, ``scripts/devstack down --purge``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from devstack.errors import PostgresError
from devstack.pg_binaries import ROOT_RUN_USER, ensure_run_user, find_bin_dir, server_major

__all__ = [
    "HOST",
    "PostgresError",
    "PostgresServer",
    "ensure_run_user",
    "find_bin_dir",
    "quote_ident",
    "quote_literal",
    "server_major",
]

log = logging.getLogger("devstack")

HOST = "127.0.0.1"
SUPERUSER = "postgres"

_CONF_MARKER = "# --- devstack settings ---"
_CONF_BLOCK = f"""
{_CONF_MARKER}
listen_addresses = '{HOST}'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
log_min_messages = warning
"""


@dataclass
class PostgresServer:
    """A PostgreSQL cluster in ``base_dir`` (data in ``base_dir/data``) on 127.0.0.1:port."""

    base_dir: Path
    port: int
    password: str
    log_file: Path
    bin_dir: Path
    origin: str = ""

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def url(self, database: str) -> str:
        return f"postgres://{SUPERUSER}:{self.password}@{HOST}:{self.port}/{database}"

    # -- process helpers ---------------------------------------------------------------------
    def _server_cmd(self, *args: str) -> list[str]:
        """A command for initdb/pg_ctl, wrapped in runuser when we are root."""
        if self._as_root:
            runuser = shutil.which("runuser") or next(
                (p for p in ("/usr/sbin/runuser", "/sbin/runuser") if os.path.exists(p)), None
            )
            if runuser is None:
                raise PostgresError("running as root needs `runuser` (util-linux) for PostgreSQL")
            return [runuser, "-u", ROOT_RUN_USER, "--", *args]
        return list(args)

    def _chown(self, path: Path) -> None:
        if self._as_root:
            entry = ensure_run_user()
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def data_major(self) -> str | None:
        try:
            return (self.data_dir / "PG_VERSION").read_text().strip()
        except FileNotFoundError:
            return None

    def pid(self) -> int | None:
        """PID of the running postmaster (from postmaster.pid), or None."""
        try:
            first = (self.data_dir / "postmaster.pid").read_text().splitlines()[0]
            pid = int(first.strip())
        except (FileNotFoundError, IndexError, ValueError, PermissionError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return pid
        # "<pid> (<comm>) <state> ...": a zombie (not yet reaped) is dead; a pid reused by
        # another program is not ours.
        comm, _, rest = stat.partition("(")[2].rpartition(")")
        if rest.split()[0] == "Z" or not comm.startswith("postgres"):
            return None
        return pid

    def running_port(self) -> int | None:
        """The port the running postmaster was started with (line 4 of postmaster.pid)."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[3])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    def ready(self) -> bool:
        if self.pid() is None:
            return False
        proc = subprocess.run(
            [str(self.bin_dir / "pg_isready"), "-q", "-h", HOST, "-p", str(self.port)],
            capture_output=True,
        )
        return proc.returncode == 0

    # -- lifecycle ------------------------------------------------------------------------------
    def init(self) -> None:
        """initdb a fresh cluster (the base dir is wiped first)."""
        if self.base_dir.exists():
            shutil.rmtree(self.base_dir)
        self.base_dir.mkdir(parents=True)
        self.base_dir.chmod(0o700)
        self._chown(self.base_dir)
        pwfile = self.base_dir / "pwfile"
        pwfile.write_text(self.password + "\n")
        self._chown(pwfile)
        t0 = time.monotonic()
        cmd = self._server_cmd(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--locale=C",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={pwfile}",
            "--no-instructions",
            "--no-sync",
        )
        proc = subprocess.run(cmd, capture_output=True, text=True)
        pwfile.unlink()
        if proc.returncode != 0:
            raise PostgresError(f"initdb failed (rc {proc.returncode}): {proc.stderr.strip()}")
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(_CONF_BLOCK)
        log.info("initialized PostgreSQL cluster in %.1fs", time.monotonic() - t0)

    def _prepare_log(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.touch()
        self._chown(self.log_file)

    def start(self) -> None:
        if self._as_root:
            # The run user must be able to reach the data dir; tell clearly if a parent blocks.
            for parent in reversed(self.base_dir.parents):
                if parent.is_dir() and not os.stat(parent).st_mode & 0o001:
                    raise PostgresError(
                        f"{parent} is not traversable by user {ROOT_RUN_USER}: keep the "
                        "cluster elsewhere (DEVSTACK_PG_HOME, see devstack/cluster.py)"
                    )
        self._prepare_log()
        self._clear_stale_pidfile()
        t0 = time.monotonic()
        cmd = self._server_cmd(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-o",
            f"-p {self.port}",
            "-w",
            "-t",
            "60",
            "start",
        )
        # New session: Ctrl-C in the caller's terminal must not reach the server.
        proc = subprocess.run(
            cmd, capture_output=True, text=True, start_new_session=True, stdin=subprocess.DEVNULL
        )
        if proc.returncode != 0:
            tail = _tail(self.log_file)
            raise PostgresError(
                f"pg_ctl start failed (rc {proc.returncode}): {proc.stderr.strip()}\n"
                f"--- {self.log_file} (tail) ---\n{tail}"
            )
        deadline = time.monotonic() + 30
        while not self.ready():
            if time.monotonic() > deadline:
                raise PostgresError(f"PostgreSQL not accepting connections; see {self.log_file}")
            time.sleep(0.05)
        log.info(
            "PostgreSQL %s (%s) ready on %s:%d in %.1fs",
            self.data_major(),
            self.origin,
            HOST,
            self.port,
            time.monotonic() - t0,
        )

    def _processes_using_data_dir(self) -> list[int]:
        """Live (non-zombie) processes whose cwd is the data dir (postmaster and backends)."""
        target = str(self.data_dir)
        pids = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if os.readlink(proc / "cwd") != target:
                    continue
                state = (proc / "stat").read_text().rpartition(")")[2].split()[0]
            except (OSError, IndexError):
                continue
            if state != "Z":
                pids.append(int(proc.name))
        return pids

    def _clear_stale_pidfile(self) -> None:
        """Remove postmaster.pid left by a crashed server.

        After a SIGKILL/crash the postmaster can stay a zombie until init reaps it, and
        postgres refuses to start while the PID in postmaster.pid "exists". Once no live
        process uses the data dir, the file is certainly stale.
        """
        pidfile = self.data_dir / "postmaster.pid"
        if not pidfile.exists() or self.pid() is not None:
            return
        deadline = time.monotonic() + 15
        while users := self._processes_using_data_dir():
            if time.monotonic() > deadline:
                raise PostgresError(
                    f"processes {users} still use {self.data_dir}; stop them and retry"
                )
            time.sleep(0.1)
        log.info("removing stale %s (crashed server)", pidfile)
        pidfile.unlink(missing_ok=True)

    def stop(self, timeout: float = 30) -> None:
        """``pg_ctl stop -m fast``; SIGKILL the postmaster's process group if that fails."""
        pid = self.pid()
        if pid is None:
            return
        cmd = self._server_cmd(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "-t",
            str(int(timeout)), "stop",
        )  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode == 0 and self.pid() is None:
            log.info("PostgreSQL stopped")
            return
        log.warning("pg_ctl stop failed (%s); killing postmaster %d", proc.stderr.strip(), pid)
        # Backends run in their own sessions (setsid), so kill the postmaster's children too.
        for victim in [pid, *_children(pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        _wait_gone(pid, 10)

    # -- SQL --------------------------------------------------------------------------------------
    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL through psql over TCP; returns unaligned, tuples-only output."""
        env = {**os.environ, "PGPASSWORD": self.password, "PGCONNECT_TIMEOUT": "10"}
        cmd = [
            str(self.bin_dir / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
            "-h", HOST, "-p", str(self.port), "-U", SUPERUSER, "-d", database, "-c", sql,
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise PostgresError(f"psql failed: {proc.stderr.strip()}\nSQL: {sql}")
        return proc.stdout.strip()

    def database_exists(self, name: str) -> bool:
        return self.psql(f"SELECT 1 FROM pg_database WHERE datname = {quote_literal(name)}") == "1"


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(pid):
            kids.append(int(stat.parent.name))
    return kids


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False
