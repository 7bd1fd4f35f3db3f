"""Local Medusa v2 + PostgreSQL dev stack (used by the README demo, e2e tests and CI).

Command line (``scripts/devstack <cmd>`` runs ``python -m devstack.stack <cmd>``)::

    up       install node packages if needed, start PostgreSQL + Medusa, print exports
    down     stop exactly what `up` started (``down --purge`` also deletes .devstack/)
    reset    empty the store (drop + re-clone from the template DB), keep the credentials
    env      print the export lines of the running stack
    status   JSON with pids, ports and health
    logs     print the log file paths

``eval "$(scripts/devstack up)"`` sets ``MEDUSA_BACKEND_URL`` and ``MEDUSA_API_KEY`` (only
those lines go to stdout; progress goes to stderr). Everything lives in the git-ignored
``<repo>/.devstack/``: ``env`` (KEY=VALUE: MEDUSA_BACKEND_URL, MEDUSA_API_KEY,
MEDUSA_ADMIN_EMAIL, MEDUSA_ADMIN_PASSWORD, DATABASE_URL), ``pg/`` (cluster), ``logs/``,
``medusa.pid``, ``state.json``, ``secrets.json``.

Environment: ``DEVSTACK_PG_PORT`` (54329), ``DEVSTACK_MEDUSA_PORT`` (9000), ``DEVSTACK_PG_BIN``
(see :mod:`devstack.postgres`), ``DEVSTACK_NODE_ENV`` (production, as ``medusa start``),
``MEDUSA_ADMIN_ENABLED`` (passed through). Both servers listen on 127.0.0.1 only.

Databases: ``medusa_template`` is migrated once and baked with the admin user, a secret API
key, a USD region ("United States", country us) and usd as the store's default currency; its
credentials are kept as JSON in the template's ``COMMENT``. The store DB ``medusa`` is a
``CREATE DATABASE ... TEMPLATE medusa_template`` clone, so ``reset`` takes seconds (mostly
Medusa's boot) and the printed credentials survive resets. The template is rebuilt when
``package-lock.json`` changes (the store DB is then migrated in place).

Python API (tests and benchmarks use the same code)::

    stack = Stack()                # repo root by default
    info = stack.up()              # StackInfo(backend_url, api_key, admin_email, ...)
    stack.reset() -> StackInfo; stack.down(); stack.kill_medusa(); stack.start_medusa()
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import string
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from devstack.catalog.process import stop_catalog
from devstack.errors import DevstackError, NodeMissingError
from devstack.postgres import (
    HOST,
    PostgresError,
    PostgresServer,
    find_bin_dir,
    quote_ident,
    quote_literal,
    server_major,
)
from devstack.shop import open_shop

log = logging.getLogger("devstack")

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG_PORT = 54329
DEFAULT_MEDUSA_PORT = 9000
STORE_DB = "medusa"
TEMPLATE_DB = "medusa_template"
BUILD_DB = "medusa_template_build"
ADMIN_EMAIL = "admin@example.com"
# Bump when the baked template content changes (forces a template rebuild).
TEMPLATE_VERSION = 1
NODE_MIN = ((20, 19), (22, 12))  # Medusa 2.21 engines: ^20.19.0 || >=22.12.0
HEALTH_TIMEOUT = 180.0
INSTALL_STAMP = ".devstack-install.json"


@dataclass(frozen=True)
class StackInfo:
    backend_url: str
    api_key: str
    admin_email: str
    admin_password: str
    database_url: str
    medusa_port: int
    pg_port: int
    medusa_pid: int
    pg_pid: int
    region_id: str
    sales_channel_id: str
    env_file: str
    medusa_log: str
    postgres_log: str
    reused: bool = False
    # The storefront's side (devstack/shop.py): a Store API client sends this key.
    publishable_key: str = ""

    @property
    def auth(self) -> tuple[str, str]:
        """``requests`` auth for the admin API: secret key as HTTP Basic username."""
        return (self.api_key, "")

    def env(self) -> dict[str, str]:
        return {
            "MEDUSA_BACKEND_URL": self.backend_url,
            "MEDUSA_API_KEY": self.api_key,
            "MEDUSA_ADMIN_EMAIL": self.admin_email,
            "MEDUSA_ADMIN_PASSWORD": self.admin_password,
            "DATABASE_URL": self.database_url,
            "MEDUSA_PUBLISHABLE_KEY": self.publishable_key,
            "MEDUSA_REGION_ID": self.region_id,
        }

    def exports(self) -> str:
        return "".join(
            f"export {k}={shlex.quote(self.env()[k])}\n"
            for k in ("MEDUSA_BACKEND_URL", "MEDUSA_API_KEY")
        )


# -- cross-process lock (re-entrant inside one process) --------------------------------------
_LOCKS: dict[Path, list] = {}
_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def _stack_lock(path: Path) -> Iterator[None]:
    with _LOCKS_GUARD:
        entry = _LOCKS.setdefault(path, [threading.RLock(), None, 0])
    rlock: threading.RLock = entry[0]
    with rlock:
        if entry[2] == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.info("waiting for another devstack command to finish (%s)", path)
                fcntl.flock(fd, fcntl.LOCK_EX)
            entry[1] = fd
        entry[2] += 1
        try:
            yield
        finally:
            entry[2] -= 1
            if entry[2] == 0:
                os.close(entry[1])  # releases the flock
                entry[1] = None


def _sha256(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Stack:
    """The dev stack rooted at a repository checkout (state in ``<root>/.devstack``)."""

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        *,
        pg_port: int | None = None,
        medusa_port: int | None = None,
    ) -> None:
        self.root = Path(root or REPO_ROOT).resolve()
        self.store_dir = self.root / "medusa_store"
        self.state_dir = self.root / ".devstack"
        self.logs_dir = self.state_dir / "logs"
        self.env_file = self.state_dir / "env"
        self.state_file = self.state_dir / "state.json"
        self.secrets_file = self.state_dir / "secrets.json"
        self.pid_file = self.state_dir / "medusa.pid"
        self.medusa_log = self.logs_dir / "medusa.log"
        self.postgres_log = self.logs_dir / "postgres.log"
        self.npm_log = self.logs_dir / "npm-install.log"
        self.setup_log = self.logs_dir / "medusa-setup.log"
        self.pg_port = pg_port or int(os.environ.get("DEVSTACK_PG_PORT", DEFAULT_PG_PORT))
        self.medusa_port = medusa_port or int(
            os.environ.get("DEVSTACK_MEDUSA_PORT", DEFAULT_MEDUSA_PORT)
        )
        self.backend_url = f"http://{HOST}:{self.medusa_port}"
        self._pg: PostgresServer | None = None

    # ================================================================ public API
    def up(self) -> StackInfo:
        """Start (or reuse) the stack; idempotent. Returns the credentials."""
        with self._lock():
            t0 = time.monotonic()
            if self._healthy_running() and self._install_current():
                info = self._info(reused=True)
                if self._key_works(info.api_key):
                    self._write_env_file(info)
                    log.info("stack already running at %s (reused)", self.backend_url)
                    return self._open_shop(info)
            self.check_node()
            if self.ensure_node_modules():
                self.stop_medusa()  # a running server would keep the old packages
            pg = self._ensure_postgres()
            tpl = self._ensure_template(pg)
            if not pg.database_exists(STORE_DB):
                self._clone_store(pg, tpl)
            elif not self._read_state().get("admin_email"):
                # state.json was lost: the store was cloned from the template, so its admin
                # user (and, unless revoked, its API key) are the template's.
                self._write_state(**self._credentials(tpl))
            if not self._healthy_running():
                self._start_medusa_locked()
            info = self._ensure_working_key(self._info())
            log.info("stack up in %.1fs: %s", time.monotonic() - t0, self.backend_url)
            return self._open_shop(info)

    def reset(self) -> StackInfo:
        """Empty store: stop Medusa, re-clone the store DB from the template, start Medusa."""
        with self._lock():
            t0 = time.monotonic()
            self.stop_medusa()
            self.check_node()
            self.ensure_node_modules()
            pg = self._ensure_postgres()
            tpl = self._ensure_template(pg)
            self._clone_store(pg, tpl)
            self._clear_uploads()
            self._start_medusa_locked()
            info = self._ensure_working_key(self._info())
            log.info("store reset in %.1fs", time.monotonic() - t0)
            return self._open_shop(info)

    def down(self, purge: bool = False) -> None:
        """Stop Medusa (SIGTERM, then SIGKILL) and PostgreSQL (pg_ctl stop -m fast)."""
        with self._lock():
            self.stop_medusa()
            if self.root == REPO_ROOT:
                stop_catalog()
            if self.state_dir.exists():
                pg = self._postgres(for_stop=True)
                if pg is not None:
                    pg.stop()
            if purge:
                shutil.rmtree(self.state_dir, ignore_errors=True)
                log.info("removed %s", self.state_dir)
            # Otherwise .devstack/env stays: the credentials are valid again after `up`.

    def start_medusa(self) -> StackInfo:
        """Start Medusa on the existing databases (after kill_medusa / stop_medusa)."""
        with self._lock():
            if not self._healthy_running():
                self._ensure_postgres()
                self._start_medusa_locked()
            return self._ensure_working_key(self._info())

    def stop_medusa(self, timeout: float = 15) -> None:
        """SIGTERM Medusa's process group, SIGKILL after ``timeout`` seconds."""
        with self._lock():
            pid = self._medusa_pid()
            if pid is not None:
                self._signal_medusa(pid, signal.SIGTERM)
                if not self._wait_exit(pid, timeout):
                    log.warning("medusa %d ignored SIGTERM for %.0fs; SIGKILL", pid, timeout)
                    self._signal_medusa(pid, signal.SIGKILL)
                    self._wait_exit(pid, 10)
                log.info("medusa (pid %d) stopped", pid)
            self.pid_file.unlink(missing_ok=True)

    def kill_medusa(self) -> int | None:
        """SIGKILL Medusa (fault tests). Leaves the pid file, like a crash would."""
        with self._lock():
            pid = self._medusa_pid()
            if pid is not None:
                self._signal_medusa(pid, signal.SIGKILL)
                self._wait_exit(pid, 10)
            return pid

    def info(self) -> StackInfo:
        """Credentials of the running stack (DevstackError if it is not running)."""
        if not self._healthy_running():
            raise DevstackError("the dev stack is not running; run `scripts/devstack up`")
        return self._info()

    def is_running(self) -> bool:
        return self._healthy_running()

    def status(self) -> dict:
        pg = self._postgres(for_stop=True) if self.state_dir.exists() else None
        pg_pid = pg.pid() if pg else None
        medusa_pid = self._medusa_pid()
        state = self._read_state()
        return {
            "running": self._healthy_running(),
            "backend_url": self.backend_url,
            "env_file": str(self.env_file),
            "postgres": {
                "pid": pg_pid,
                "port": pg.running_port() if pg and pg_pid else self.pg_port,
                "ready": bool(pg and pg_pid and pg.ready()),
                "bin_dir": str(pg.bin_dir) if pg else None,
                "origin": pg.origin if pg else None,
                "data_dir": str(pg.data_dir) if pg else None,
            },
            "medusa": {
                "pid": medusa_pid,
                "port": state.get("medusa_port", self.medusa_port),
                "health": self._health(),
            },
            "logs": self.log_files(),
        }

    def log_files(self) -> dict[str, str]:
        return {
            "postgres": str(self.postgres_log),
            "medusa": str(self.medusa_log),
            "npm_install": str(self.npm_log),
            "medusa_setup": str(self.setup_log),
        }

    # ================================================================ node / npm
    def check_node(self) -> None:
        node = shutil.which("node")
        if node is None or shutil.which("npm") is None:
            raise NodeMissingError(
                "Node.js not found: install Node.js 20.19+ or 22.12+ with npm "
                "(https://nodejs.org or `apt-get install nodejs npm`) to run the Medusa store"
            )
        out = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
        match = re.match(r"v(\d+)\.(\d+)", out)
        version = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
        low, high = NODE_MIN
        if not (version >= high or (version[0] == low[0] and version >= low)):
            raise NodeMissingError(
                f"Node.js {out or '?'} is too old for Medusa 2.21: install Node.js 20.19+ "
                "or 22.12+ (https://nodejs.org)"
            )

    def _install_current(self) -> bool:
        stamp = self.store_dir / "node_modules" / INSTALL_STAMP
        try:
            return json.loads(stamp.read_text()).get("hash") == _sha256(
                self.store_dir / "package.json", self.store_dir / "package-lock.json"
            )
        except (OSError, ValueError):
            return False

    def ensure_node_modules(self) -> bool:
        """``npm install`` when node_modules is missing or package(-lock).json changed.

        The stamp (``node_modules/.devstack-install.json``) stores a hash of package.json and
        package-lock.json, so a changed lock triggers an install while a checkout that only
        touches its mtime does not. ``npm ci`` is not used: it fails against this registry
        mirror (non-linux optional packages missing from the lock).
        """
        modules = self.store_dir / "node_modules"
        stamp = modules / INSTALL_STAMP
        pkg, lock = self.store_dir / "package.json", self.store_dir / "package-lock.json"
        if not pkg.exists():
            raise DevstackError(f"{pkg} not found")
        want = _sha256(pkg, lock)
        try:
            if (
                json.loads(stamp.read_text()).get("hash") == want
                and (modules / ".bin" / "medusa").exists()
            ):
                return False
        except (OSError, ValueError):
            pass
        self.check_node()
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        log.info("npm install in %s (log: %s) ...", self.store_dir, self.npm_log)
        t0 = time.monotonic()
        with self.npm_log.open("w") as out:
            proc = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund"],
                cwd=self.store_dir,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        if proc.returncode != 0 or not (modules / ".bin" / "medusa").exists():
            raise DevstackError(
                f"npm install failed (rc {proc.returncode}) in {self.store_dir}; see {self.npm_log}"
            )
        stamp.write_text(json.dumps({"hash": _sha256(pkg, lock), "at": time.time()}))
        log.info("npm install done in %.1fs", time.monotonic() - t0)
        return True

    # ================================================================ state / secrets
    def _lock(self):
        return _stack_lock(self.state_dir / "lock")

    def _read_state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def _write_state(self, **updates) -> dict:
        state = {**self._read_state(), **updates}
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.chmod(0o600)
        tmp.replace(self.state_file)
        return state

    def _secrets(self, create: bool = True) -> dict:
        """Random DB password and JWT/cookie secrets, created once per .devstack/."""
        try:
            data = json.loads(self.secrets_file.read_text())
            if {"pg_password", "jwt_secret", "cookie_secret"} <= data.keys():
                return data
        except (OSError, ValueError):
            pass
        if not create:
            return {}
        if (self.state_dir / "pg").exists():
            # A cluster whose password we lost is useless: stop it and start from scratch.
            log.warning("secrets.json missing: re-initializing the PostgreSQL cluster")
            old = self._postgres(for_stop=True)
            if old is not None:
                old.stop()
            shutil.rmtree(self.state_dir / "pg")
        data = {
            "pg_password": secrets.token_hex(16),
            "jwt_secret": secrets.token_hex(32),
            "cookie_secret": secrets.token_hex(32),
        }
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.state_dir.chmod(0o755)  # the postgres run user must traverse it
        self.secrets_file.touch(mode=0o600)
        self.secrets_file.write_text(json.dumps(data))
        return data

    # ================================================================ postgres
    def _postgres(self, for_stop: bool = False) -> PostgresServer | None:
        """The configured server; ``for_stop``: the one that runs (state file), or None."""
        state = self._read_state()
        if for_stop:
            # Stop/inspect with the binaries and port it was started with.
            bin_dir = state.get("pg_bin_dir")
            if not bin_dir or not Path(bin_dir, "pg_ctl").exists():
                try:
                    bin_dir = str(find_bin_dir()[0])
                except PostgresError:
                    return None
            return PostgresServer(
                base_dir=self.state_dir / "pg",
                port=state.get("pg_port", self.pg_port),
                password=self._secrets(create=False).get("pg_password", ""),
                log_file=self.postgres_log,
                bin_dir=Path(bin_dir),
                origin=state.get("pg_origin", ""),
            )
        if self._pg is not None:
            return self._pg
        bin_dir, origin = find_bin_dir()
        self._pg = PostgresServer(
            base_dir=self.state_dir / "pg",
            port=self.pg_port,
            password=self._secrets()["pg_password"],
            log_file=self.postgres_log,
            bin_dir=bin_dir,
            origin=origin,
        )
        return self._pg

    def _ensure_postgres(self) -> PostgresServer:
        try:
            pg = self._postgres()
            assert pg is not None
            if pg.pid() is not None and (
                pg.running_port() != self.pg_port
                or self._read_state().get("pg_bin_dir", str(pg.bin_dir)) != str(pg.bin_dir)
            ):
                log.info("PostgreSQL runs with other settings; restarting it")
                self.stop_medusa()
                old = self._postgres(for_stop=True)
                self._pg = pg
                if old is not None:
                    old.stop()
            if pg.pid() is not None and pg.ready():
                return pg
            major = server_major(pg.bin_dir)
            if pg.initialized() and pg.data_major() != major:
                log.warning(
                    "data dir is PostgreSQL %s but %s provides %s: re-initializing it",
                    pg.data_major(),
                    pg.origin,
                    major,
                )
                pg.stop()
                pg.init()
            elif not pg.initialized():
                pg.init()
            if pg.pid() is None:
                if _port_in_use(self.pg_port):
                    raise DevstackError(
                        f"port {HOST}:{self.pg_port} is already in use by another process; "
                        "set DEVSTACK_PG_PORT to a free port"
                    )
                pg.start()
            elif not pg.ready():
                raise DevstackError(f"PostgreSQL pid {pg.pid()} is not ready; see {pg.log_file}")
            self._write_state(pg_port=self.pg_port, pg_bin_dir=str(pg.bin_dir), pg_origin=pg.origin)
            return pg
        except PostgresError as exc:
            raise DevstackError(str(exc)) from exc

    # ================================================================ template DB
    def _fingerprint(self) -> str:
        lock = self.store_dir / "package-lock.json"
        return f"v{TEMPLATE_VERSION}-{_sha256(lock)[:16]}"

    def _template_meta(self, pg: PostgresServer) -> dict | None:
        raw = pg.psql(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            f"WHERE datname = {quote_literal(TEMPLATE_DB)}"
        )
        if not raw:
            return None
        try:
            meta = json.loads(raw)
        except ValueError:
            return None
        return meta if isinstance(meta, dict) and meta.get("api_key") else None

    def _ensure_template(self, pg: PostgresServer) -> dict:
        meta = self._template_meta(pg)
        if meta is not None and meta.get("fingerprint") == self._fingerprint():
            return meta
        store_exists = pg.database_exists(STORE_DB)
        self.stop_medusa()
        meta = self._build_template(pg)
        if store_exists:
            # Medusa changed (lock file): bring the existing store up to date, keep its data.
            log.info("migrating the existing store database %s", STORE_DB)
            self._medusa_cli(["db:migrate"], STORE_DB)
        return meta

    def _build_template(self, pg: PostgresServer) -> dict:
        """Migrate a fresh DB, create admin + API key + USD region through Medusa, freeze it."""
        t0 = time.monotonic()
        log.info("building template database %s (migrations take ~10 s) ...", TEMPLATE_DB)
        pg.psql(f"DROP DATABASE IF EXISTS {BUILD_DB} WITH (FORCE)")
        pg.psql(f"CREATE DATABASE {BUILD_DB}")
        self.setup_log.parent.mkdir(parents=True, exist_ok=True)
        self.setup_log.write_text("")
        self._medusa_cli(["db:migrate"], BUILD_DB)
        # Alphanumeric: a leading "-" would be parsed as a CLI flag by `medusa user -p`.
        password = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))
        self._medusa_cli(["user", "-e", ADMIN_EMAIL, "-p", password], BUILD_DB)
        proc = self._spawn_medusa(BUILD_DB)
        try:
            self._wait_health(proc.pid)
            meta = self._bake(ADMIN_EMAIL, password)
        finally:
            self._signal_medusa(proc.pid, signal.SIGTERM)
            if not self._wait_exit(proc.pid, 15):
                self._signal_medusa(proc.pid, signal.SIGKILL)
                self._wait_exit(proc.pid, 10)
            self.pid_file.unlink(missing_ok=True)
        meta["fingerprint"] = self._fingerprint()
        meta["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if pg.database_exists(TEMPLATE_DB):
            pg.psql(f"ALTER DATABASE {TEMPLATE_DB} WITH IS_TEMPLATE false")
            pg.psql(f"DROP DATABASE {TEMPLATE_DB} WITH (FORCE)")
        pg.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = {quote_literal(BUILD_DB)}"
        )
        pg.psql(f"ALTER DATABASE {BUILD_DB} RENAME TO {TEMPLATE_DB}")
        pg.psql(f"COMMENT ON DATABASE {TEMPLATE_DB} IS {quote_literal(json.dumps(meta))}")
        # Nobody may connect to the template (a connection would block CREATE ... TEMPLATE).
        pg.psql(f"ALTER DATABASE {TEMPLATE_DB} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
        log.info("template %s built in %.1fs", TEMPLATE_DB, time.monotonic() - t0)
        return meta

    def _bake(self, email: str, password: str) -> dict:
        """Admin-API setup baked into the template: secret API key, USD region, store currency."""
        http = _session()
        base = self.backend_url
        resp = http.post(
            f"{base}/auth/user/emailpass", json={"email": email, "password": password}, timeout=30
        )
        _expect(resp, "admin login")
        http.headers["Authorization"] = f"Bearer {resp.json()['token']}"
        resp = http.post(
            f"{base}/admin/api-keys", json={"title": "devstack", "type": "secret"}, timeout=30
        )
        _expect(resp, "create secret API key")
        key = resp.json()["api_key"]
        region_id = self._ensure_usd_region(http)
        resp = http.get(f"{base}/admin/stores", timeout=30)
        _expect(resp, "list stores")
        store = resp.json()["stores"][0]
        currencies = [
            {"currency_code": c["currency_code"], "is_default": False}
            for c in store.get("supported_currencies") or []
            if c["currency_code"] != "usd"
        ]
        resp = http.post(
            f"{base}/admin/stores/{store['id']}",
            json={
                "supported_currencies": [{"currency_code": "usd", "is_default": True}, *currencies],
                "default_region_id": region_id,
            },
            timeout=30,
        )
        _expect(resp, "update store currencies")
        return {
            "admin_email": email,
            "admin_password": password,
            "api_key": key["token"],
            "api_key_id": key["id"],
            "region_id": region_id,
            "sales_channel_id": store.get("default_sales_channel_id") or "",
            "store_id": store["id"],
        }

    def _ensure_usd_region(self, http: requests.Session) -> str:
        resp = http.get(
            f"{self.backend_url}/admin/regions", params={"currency_code": "usd"}, timeout=30
        )
        _expect(resp, "list regions")
        regions = resp.json()["regions"]
        if regions:
            return regions[0]["id"]
        resp = http.post(
            f"{self.backend_url}/admin/regions",
            json={"name": "United States", "currency_code": "usd", "countries": ["us"]},
            timeout=30,
        )
        _expect(resp, "create USD region")
        return resp.json()["region"]["id"]

    @staticmethod
    def _credentials(meta: dict) -> dict:
        return {
            "api_key": meta["api_key"],
            "admin_email": meta["admin_email"],
            "admin_password": meta["admin_password"],
            "region_id": meta.get("region_id", ""),
            "sales_channel_id": meta.get("sales_channel_id", ""),
        }

    def _clone_store(self, pg: PostgresServer, meta: dict) -> None:
        t0 = time.monotonic()
        pg.psql(f"DROP DATABASE IF EXISTS {quote_ident(STORE_DB)} WITH (FORCE)")
        pg.psql(f"CREATE DATABASE {quote_ident(STORE_DB)} TEMPLATE {TEMPLATE_DB}")
        self._write_state(**self._credentials(meta))
        log.info("store database %s cloned from template in %.2fs", STORE_DB, time.monotonic() - t0)

    def _clear_uploads(self) -> None:
        """Uploaded files (file-local provider, ``medusa_store/static``) belong to the store."""
        static = self.store_dir / "static"
        if static.is_dir():
            for entry in static.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()

    # ================================================================ medusa process
    def _medusa_env(self, database: str) -> dict[str, str]:
        sec = self._secrets()
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self._pg_url(database),
            PORT=str(self.medusa_port),
            HOST=HOST,
            MEDUSA_BACKEND_URL=self.backend_url,
            JWT_SECRET=sec["jwt_secret"],
            COOKIE_SECRET=sec["cookie_secret"],
            MEDUSA_DISABLE_TELEMETRY="true",
            MEDUSA_LOCAL_STACK="true",
            NODE_ENV=os.environ.get("DEVSTACK_NODE_ENV", "production"),
        )
        return env

    def _pg_url(self, database: str) -> str:
        password = self._secrets(create=False).get("pg_password", "")
        return f"postgres://postgres:{password}@{HOST}:{self.pg_port}/{database}"

    def _medusa_bin(self) -> str:
        return str(self.store_dir / "node_modules" / ".bin" / "medusa")

    def _medusa_cli(self, args: list[str], database: str, timeout: float = 600) -> None:
        t0 = time.monotonic()
        with self.setup_log.open("a") as out:
            out.write(f"\n=== medusa {' '.join(args[:1])} ({database}) {time.ctime()} ===\n")
            out.flush()
            try:
                proc = subprocess.run(
                    [self._medusa_bin(), *args],
                    cwd=self.store_dir,
                    env=self._medusa_env(database),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    timeout=timeout,
                )
            except subprocess.TimeoutExpired as exc:
                raise DevstackError(
                    f"`medusa {args[0]}` timed out after {timeout:.0f}s; see {self.setup_log}"
                ) from exc
        if proc.returncode != 0:
            raise DevstackError(
                f"`medusa {args[0]}` failed (rc {proc.returncode}); see {self.setup_log}:\n"
                + _tail(self.setup_log, 15)
            )
        log.info("medusa %s done in %.1fs", args[0], time.monotonic() - t0)

    def _spawn_medusa(self, database: str) -> subprocess.Popen:
        if _port_in_use(self.medusa_port):
            raise DevstackError(
                f"port {HOST}:{self.medusa_port} is already in use by a process this stack did "
                "not start; stop it or set DEVSTACK_MEDUSA_PORT to a free port"
            )
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        if self.medusa_log.exists() and self.medusa_log.stat().st_size:
            self.medusa_log.replace(self.medusa_log.with_suffix(".log.1"))
        with self.medusa_log.open("w") as out:
            out.write(f"=== medusa start ({database}) {time.ctime()} ===\n")
            out.flush()
            # Own session (= own process group): signals from the caller's terminal don't
            # reach it, and stop_medusa can signal exactly this group.
            proc = subprocess.Popen(
                [self._medusa_bin(), "start", "-p", str(self.medusa_port), "-H", HOST],
                cwd=self.store_dir,
                env=self._medusa_env(database),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{proc.pid}\n")
        return proc

    def _start_medusa_locked(self) -> None:
        stale = self._medusa_pid()
        if stale is not None:  # alive but unhealthy (hung): replace it
            log.warning("medusa pid %d is not healthy; restarting it", stale)
            self.stop_medusa()
        t0 = time.monotonic()
        proc = self._spawn_medusa(STORE_DB)
        self._wait_health(proc.pid)
        self._write_state(medusa_port=self.medusa_port, medusa_pid=proc.pid)
        log.info("medusa (pid %d) healthy at %s in %.1fs", proc.pid, self.backend_url,
                 time.monotonic() - t0)  # fmt: skip

    def _wait_health(self, pid: int, timeout: float = HEALTH_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                raise DevstackError(
                    f"medusa exited during startup; see {self.medusa_log}:\n"
                    + _tail(self.medusa_log)
                )
            if self._health(timeout=1):
                return
            time.sleep(0.1)
        raise DevstackError(f"medusa not healthy after {timeout:.0f}s; see {self.medusa_log}")

    def _health(self, timeout: float = 2) -> bool:
        try:
            resp = _session().get(f"{self.backend_url}/health", timeout=timeout)
        except requests.RequestException:
            return False
        return resp.status_code == 200

    def _medusa_pid(self) -> int | None:
        """PID from the pid file if that process is alive and is our medusa."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if not _pid_alive(pid) or "medusa" not in _cmdline(pid):
            return None
        return pid

    def _signal_medusa(self, pid: int, sig: int) -> None:
        try:
            if os.getpgid(pid) == pid:  # our own session/group: medusa and any children
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            pass
        except OSError as exc:
            if exc.errno != errno.ESRCH:
                raise

    @staticmethod
    def _wait_exit(pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # reap if it is our child
            if not _pid_alive(pid):
                return True
            time.sleep(0.05)
        return False

    def _healthy_running(self) -> bool:
        state = self._read_state()
        if state.get("medusa_port") != self.medusa_port or state.get("pg_port") != self.pg_port:
            return False
        if self._medusa_pid() is None or not self._health():
            return False
        pg = self._postgres(for_stop=True)
        return pg is not None and pg.pid() is not None

    # ================================================================ credentials
    def _info(self, reused: bool = False) -> StackInfo:
        state = self._read_state()
        pg = self._postgres(for_stop=True)
        return StackInfo(
            backend_url=self.backend_url,
            api_key=state.get("api_key", ""),
            admin_email=state.get("admin_email", ""),
            admin_password=state.get("admin_password", ""),
            database_url=self._pg_url(STORE_DB),
            medusa_port=self.medusa_port,
            pg_port=self.pg_port,
            medusa_pid=self._medusa_pid() or 0,
            pg_pid=(pg.pid() if pg else None) or 0,
            region_id=state.get("region_id", ""),
            sales_channel_id=state.get("sales_channel_id", ""),
            publishable_key=state.get("publishable_key", ""),
            env_file=str(self.env_file),
            medusa_log=str(self.medusa_log),
            postgres_log=str(self.postgres_log),
            reused=reused,
        )

    def _open_shop(self, info: StackInfo) -> StackInfo:
        """Set the store up to sell (devstack/shop.py, idempotent); keep what it found."""
        shop = open_shop(info.backend_url, info.api_key)
        self._write_state(publishable_key=shop.publishable_key, region_id=shop.region_id)
        info = self._info(reused=info.reused)
        self._write_env_file(info)
        return info

    def _key_works(self, key: str) -> bool:
        if not key:
            return False
        try:
            resp = _session().get(
                f"{self.backend_url}/admin/stores",
                params={"fields": "id"},
                auth=(key, ""),
                timeout=10,
            )
        except requests.RequestException:
            return False
        return resp.status_code == 200

    def _ensure_working_key(self, info: StackInfo) -> StackInfo:
        """Check the key; if the store DB no longer has it (revoked), mint a new one."""
        if not self._key_works(info.api_key):
            log.warning("the stored API key does not authenticate; creating a new one")
            http = _session()
            resp = http.post(
                f"{self.backend_url}/auth/user/emailpass",
                json={"email": info.admin_email, "password": info.admin_password},
                timeout=30,
            )
            if resp.status_code != 200:
                raise DevstackError(
                    "the store database has neither the devstack API key nor its admin user; "
                    "run `scripts/devstack reset` (empties the store)"
                )
            http.headers["Authorization"] = f"Bearer {resp.json()['token']}"
            resp = http.post(
                f"{self.backend_url}/admin/api-keys",
                json={"title": "devstack", "type": "secret"},
                timeout=30,
            )
            _expect(resp, "create secret API key")
            self._write_state(api_key=resp.json()["api_key"]["token"])
            info = self._info(reused=info.reused)
        self._write_env_file(info)
        return info

    def _write_env_file(self, info: StackInfo) -> None:
        text = "".join(f"{k}={v}\n" for k, v in info.env().items())
        if self.env_file.exists() and self.env_file.read_text() == text:
            return
        tmp = self.env_file.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.chmod(0o600)
        tmp.replace(self.env_file)


def _session() -> requests.Session:
    """A session that ignores *_PROXY variables (the stack is on loopback)."""
    http = requests.Session()
    http.trust_env = False
    return http


def _expect(resp: requests.Response, what: str) -> None:
    if resp.status_code != 200:
        raise DevstackError(f"{what} failed: HTTP {resp.status_code} {resp.text[:300]}")


# ==================================================================== CLI
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/devstack", description="Local Medusa v2 + PostgreSQL dev stack"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start or reuse the stack; prints export lines")
    down = sub.add_parser("down", help="stop the processes the stack started")
    down.add_argument("--purge", action="store_true", help="also delete .devstack/ (all data)")
    sub.add_parser("reset", help="empty the store (re-clone from the template); prints exports")
    sub.add_parser("env", help="print the export lines of the running stack")
    sub.add_parser("status", help="JSON status (pids, ports, health)")
    sub.add_parser("logs", help="print the log file paths")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="devstack: %(message)s", force=True
    )
    stack = Stack()
    try:
        if args.command == "up":
            sys.stdout.write(stack.up().exports())
        elif args.command == "reset":
            sys.stdout.write(stack.reset().exports())
        elif args.command == "down":
            stack.down(purge=args.purge)
        elif args.command == "env":
            sys.stdout.write(stack.info().exports())
        elif args.command == "status":
            status = stack.status()
            print(json.dumps(status, indent=2))
            return 0 if status["running"] else 3
        elif args.command == "logs":
            for name, path in stack.log_files().items():
                print(f"{name}\t{path}")
    except DevstackError as exc:
        print(f"devstack: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["DevstackError", "NodeMissingError", "Stack", "StackInfo", "main"]
