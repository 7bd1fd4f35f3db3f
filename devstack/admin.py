"""The local store with its admin dashboard: ``medusa build`` (dashboard + the store's admin
extensions, e.g. the "Product sync" widget) and a production server started from
``medusa_store/.medusa/server`` on its own port, against the dev stack's database.

The fast test stack (``devstack.stack``) runs without the admin; this module is for the
admin's browser test and for looking at the widget by hand::

    scripts/devstack up
    WEBHOOK_SECRET=... .venv/bin/python -m devstack.admin serve --port 9100
    # -> http://127.0.0.1:9100/app, log in with MEDUSA_ADMIN_EMAIL/PASSWORD (.devstack/env)

Python API::

    build = build_admin()                        # ~26 s and ~2 GB the first time; reused
                                                 # while the store's sources are unchanged
    server = start_admin(stack.info(), port=9100, env={"WEBHOOK_SECRET": ...})
    server.url, server.pid; server.stop()

The server runs with ``NODE_ENV=production``, ``MEDUSA_ADMIN_ENABLED=true`` and
``MEDUSA_LOCAL_STACK=true`` (session cookie without ``Secure``, so login works over plain
http), on 127.0.0.1 only, with its own random JWT and cookie secrets.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

from devstack.errors import DevstackError
from devstack.medusa import port_in_use, run_logged, session, tail
from devstack.postgres import HOST
from devstack.stack import REPO_ROOT, Stack, StackInfo

log = logging.getLogger("devstack.admin")

BUILD_TIMEOUT_S = 600
START_TIMEOUT_S = 120
BUILD_STAMP = ".devstack-admin-build.json"
# Inputs of `medusa build` besides src/: a change to any of them means a new build.
BUILD_INPUTS = ("medusa-config.ts", "tsconfig.json", "package.json", "package-lock.json")
BUILD_ENV = ("MEDUSA_ADMIN_BACKEND_URL",)


@dataclass(frozen=True)
class AdminBuild:
    server_dir: Path
    reused: bool
    seconds: float


@dataclass
class AdminServer:
    url: str
    port: int
    pid: int
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def admin_url(self) -> str:
        return f"{self.url}/app"

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the server's process group, SIGKILL after ``timeout`` seconds."""
        if self.process.poll() is None:
            _signal_group(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("admin server %d ignored SIGTERM; SIGKILL", self.pid)
                _signal_group(self.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        _signal_group(self.pid, signal.SIGKILL)  # children left behind, if any
        log.info("admin server (pid %d) stopped", self.pid)


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _store_dir(root: Path | None) -> Path:
    return Path(root or REPO_ROOT).resolve() / "medusa_store"


def _logs_dir(root: Path | None) -> Path:
    path = Path(root or REPO_ROOT).resolve() / ".devstack" / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _medusa_bin(store: Path) -> Path:
    path = store / "node_modules" / ".bin" / "medusa"
    if not path.exists():
        raise DevstackError(f"{path} not found: run `scripts/devstack up` (npm install) first")
    return path


def build_inputs_hash(store: Path) -> str:
    """Hash of everything `medusa build` reads from the project (sources, config, lock)."""
    digest = hashlib.sha256()
    files = sorted(p for p in (store / "src").rglob("*") if p.is_file())
    files += [store / name for name in BUILD_INPUTS]
    for path in files:
        digest.update(str(path.relative_to(store)).encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
        digest.update(b"\0")
    for name in BUILD_ENV:
        digest.update(f"{name}={os.environ.get(name, '')}\0".encode())
    return digest.hexdigest()


@contextlib.contextmanager
def _build_lock(store: Path) -> Iterator[None]:
    lock_path = store / ".medusa" / "build.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def build_admin(
    root: Path | None = None, *, force: bool = False, timeout: float = BUILD_TIMEOUT_S
) -> AdminBuild:
    """``medusa build`` with the admin enabled, unless ``.medusa/server`` already holds a
    build of the current sources (see :func:`build_inputs_hash`)."""
    store = _store_dir(root)
    server_dir = store / ".medusa" / "server"
    stamp = server_dir / BUILD_STAMP
    medusa = _medusa_bin(store)
    with _build_lock(store):
        want = build_inputs_hash(store)
        try:
            built = json.loads(stamp.read_text()).get("hash")
        except (OSError, ValueError):
            built = None
        if not force and built == want and (server_dir / "public" / "admin").is_dir():
            log.info("admin build is current (%s)", server_dir)
            return AdminBuild(server_dir, reused=True, seconds=0.0)
        log_path = _logs_dir(root) / "admin-build.log"
        env = {
            **os.environ,
            "MEDUSA_ADMIN_ENABLED": "true",
            "MEDUSA_DISABLE_TELEMETRY": "true",
        }
        log.info("medusa build in %s (log: %s) ...", store, log_path)
        t0 = time.monotonic()
        with log_path.open("w") as out:
            proc = run_logged(
                [str(medusa), "build"],
                "medusa build",
                cwd=store,
                env=env,
                out=out,
                log_path=log_path,
                timeout=timeout,
            )
        seconds = time.monotonic() - t0
        if proc.returncode != 0 or not (server_dir / "public" / "admin").is_dir():
            raise DevstackError(
                f"`medusa build` failed (rc {proc.returncode}); see {log_path}:\n"
                + tail(log_path, 30)
            )
        stamp.write_text(json.dumps({"hash": want, "at": time.time()}))
        log.info("medusa build done in %.1fs", seconds)
        return AdminBuild(server_dir, reused=False, seconds=seconds)


def start_admin(
    info: StackInfo,
    port: int,
    *,
    env: Mapping[str, str] | None = None,
    root: Path | None = None,
    timeout: float = START_TIMEOUT_S,
) -> AdminServer:
    """Start the built store (``build_admin`` first) on ``127.0.0.1:port`` against the
    stack's database; returns when ``/health`` and ``/app`` answer. ``env`` is added to
    the server's environment (e.g. ``WEBHOOK_SECRET``, ``PRODUCT_SYNC_WEBHOOK_URL``)."""
    store = _store_dir(root)
    server_dir = store / ".medusa" / "server"
    if not (server_dir / "public" / "admin").is_dir():
        raise DevstackError(f"no admin build in {server_dir}: call build_admin() first")
    url = f"http://{HOST}:{port}"
    if port_in_use(port):
        raise DevstackError(f"port {HOST}:{port} is already in use; pick another port")
    server_env = {
        **os.environ,
        "DATABASE_URL": info.database_url,
        "PORT": str(port),
        "HOST": HOST,
        "MEDUSA_BACKEND_URL": url,
        "JWT_SECRET": secrets.token_hex(32),
        "COOKIE_SECRET": secrets.token_hex(32),
        "NODE_ENV": "production",
        "MEDUSA_ADMIN_ENABLED": "true",
        "MEDUSA_LOCAL_STACK": "true",
        "MEDUSA_DISABLE_TELEMETRY": "true",
        **(env or {}),
    }
    log_path = _logs_dir(root) / f"medusa-admin-{port}.log"
    with log_path.open("w") as out:
        # Own session: stop() signals exactly this server and its children.
        process = subprocess.Popen(
            [str(_medusa_bin(store)), "start", "-p", str(port), "-H", HOST],
            cwd=server_dir,
            env=server_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = AdminServer(url=url, port=port, pid=process.pid, log_path=log_path, process=process)
    t0 = time.monotonic()
    deadline = t0 + timeout
    while not (_answers(f"{url}/health") and _answers(f"{url}/app")):
        if not server.alive() or time.monotonic() > deadline:
            server.stop()
            raise DevstackError(
                f"the admin server did not come up on {url}; see {log_path}:\n" + tail(log_path)
            )
        time.sleep(0.2)
    log.info("admin server (pid %d) at %s/app in %.1fs", process.pid, url, time.monotonic() - t0)
    return server


def _answers(url: str) -> bool:
    try:
        return session().get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


# ==================================================================== CLI
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.admin",
        description="Build the local store's admin dashboard and serve it on its own port",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="medusa build (skipped when the sources are unchanged)")
    build.add_argument("--force", action="store_true", help="build even if current")
    serve = sub.add_parser(
        "serve", help="build if needed, then serve the admin against the running dev stack"
    )
    serve.add_argument("--port", type=int, default=9100)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="devstack: %(message)s", force=True
    )
    try:
        if args.command == "build":
            build_admin(force=args.force)
            return 0
        info = Stack().info()
        build_admin()
        server = start_admin(info, args.port)
    except DevstackError as exc:
        print(f"devstack: error: {exc}", file=sys.stderr)
        return 1
    print(f"admin: {server.admin_url} (log in as {info.admin_email}, see {info.env_file})")
    # Ctrl-C or SIGTERM: stop the server this command started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
