"""Local Medusa v2 + PostgreSQL dev stack (used by the README demo, e2e tests and CI).

Command line (``scripts/devstack <cmd>`` runs ``python -m devstack.stack <cmd>``; see
:mod:`devstack.cli`)::

    up       install node packages if needed, start PostgreSQL + Medusa, print exports
    down     stop exactly what `up` started (``down --purge`` also deletes .devstack/)
    reset    empty the store, keep the credentials (``--restart``: re-clone, fresh Medusa)
    env      print the export lines of the running stack
    status   JSON with pids, ports and health
    logs     print the log file paths

``eval "$(scripts/devstack up)"`` sets ``MEDUSA_BACKEND_URL`` and ``MEDUSA_API_KEY`` (only
those lines go to stdout; progress goes to stderr).

Environment: ``DEVSTACK_ROOT`` (this checkout; another stack's directory, see
:mod:`devstack.siblings`), ``DEVSTACK_PG_PORT`` (54329), ``DEVSTACK_MEDUSA_PORT`` (9000),
``DEVSTACK_PG_BIN`` (see :mod:`devstack.pg_binaries`), ``DEVSTACK_PG_HOME`` (see
:mod:`devstack.cluster`), ``DEVSTACK_NODE_ENV`` (production, as ``medusa start``),
``MEDUSA_ADMIN_ENABLED`` (passed through), ``DEVSTACK_SCRYPT_MEMO`` (``1``; ``0`` runs
Medusa without ``scrypt_memo.cjs``, the memo of its per-request secret-key hashing, as the
benchmarks do). Both servers listen on 127.0.0.1 only.

The parts: :mod:`devstack.state` (files, StackInfo), :mod:`devstack.node` (node packages),
:mod:`devstack.cluster` / :mod:`devstack.postgres` / :mod:`devstack.pg_binaries` (PostgreSQL),
:mod:`devstack.medusa` (the server process), :mod:`devstack.template` (template DB, resets),
:mod:`devstack.store_setup` (what a new store holds; the ``STORE_SETUP`` hook point).

Python API (tests and benchmarks use the same code)::

    stack = Stack()                # repo root by default
    info = stack.up()              # StackInfo(backend_url, api_key, admin_email, ...)
    stack.reset() -> StackInfo; stack.down(); stack.kill_medusa(); stack.start_medusa()
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from devstack import node
from devstack.catalog.process import stop_catalog
from devstack.cluster import Cluster
from devstack.errors import DevstackError, NodeMissingError
from devstack.medusa import MedusaProcess
from devstack.postgres import HOST, PostgresServer
from devstack.state import StackFiles, StackInfo
from devstack.store_setup import AdminClient, key_works, mint_key, run_setup_hooks
from devstack.template import STORE_DB, Template

log = logging.getLogger("devstack")

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG_PORT = 54329
DEFAULT_MEDUSA_PORT = 9000
SCRYPT_MEMO = Path(__file__).with_name("scrypt_memo.cjs")


def scrypt_memo_wanted() -> bool:
    return os.environ.get("DEVSTACK_SCRYPT_MEMO", "1") != "0"


class Stack:
    """The dev stack rooted at a repository checkout (state in ``<root>/.devstack``)."""

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        *,
        pg_port: int | None = None,
        medusa_port: int | None = None,
        template_from: Stack | None = None,
    ) -> None:
        """``template_from``: a running stack whose template this one copies instead of
        building its own (scratch stacks in tests)."""
        self.root = Path(root or os.environ.get("DEVSTACK_ROOT") or REPO_ROOT).resolve()
        self.files = StackFiles(self.root)
        self.pg_port = pg_port or int(os.environ.get("DEVSTACK_PG_PORT", DEFAULT_PG_PORT))
        self.medusa_port = medusa_port or int(
            os.environ.get("DEVSTACK_MEDUSA_PORT", DEFAULT_MEDUSA_PORT)
        )
        self.backend_url = f"http://{HOST}:{self.medusa_port}"
        self.cluster = Cluster(self.files, self.pg_port)
        self.medusa = MedusaProcess(self.files, self.medusa_port, self._medusa_env)
        self.template = Template(self.files, self.medusa)
        self.template_from = template_from

    # Paths kept as attributes: tests, benchmarks and devstack.admin read them.
    store_dir = property(lambda self: self.files.store_dir)
    state_dir = property(lambda self: self.files.state_dir)
    env_file = property(lambda self: self.files.env_file)
    medusa_log = property(lambda self: self.files.medusa_log)
    postgres_log = property(lambda self: self.files.postgres_log)

    # ================================================================ public API
    def up(self) -> StackInfo:
        """Start (or reuse) the stack; idempotent. Returns the credentials."""
        with self.files.lock():
            t0 = time.monotonic()
            running = self._healthy_running()
            if running and not self._flags_current():
                log.info("medusa runs with DEVSTACK_SCRYPT_MEMO changed since; restarting it")
                self.medusa.stop()
                running = False
            if running and node.install_current(self.files.store_dir):
                info = self._info(reused=True)
                if key_works(self.backend_url, info.api_key) and self._setup_current():
                    self.files.write_env_file(info)
                    log.info("stack already running at %s (reused)", self.backend_url)
                    return info
            pg, tpl = self._prepare()
            if not pg.database_exists(STORE_DB):
                self.template.clone_store(pg, tpl)
            elif not self.files.read_state().get("admin_email"):
                # state.json was lost: the store was cloned from the template, so its admin
                # user (and, unless revoked, its API key) are the template's.
                self.template.record_credentials(tpl)
            if not self._healthy_running():
                self._start_medusa_locked()
            info = self._ensure_working_key(self._info())
            if not self._setup_current():
                info = self._redo_setup(info, tpl)
            log.info("stack up in %.1fs: %s", time.monotonic() - t0, self.backend_url)
            return info

    def reset(self, restart: bool = False) -> StackInfo:
        """An empty store, same credentials. Restored in place under the running Medusa when
        that is safe (see devstack.template); otherwise, or with ``restart``, Medusa is
        stopped, the store DB re-cloned from the template and Medusa started again."""
        with self.files.lock():
            t0 = time.monotonic()
            pg, tpl = self._prepare()
            in_place = (
                not restart and self._healthy_running() and self.template.restore_store(pg, tpl)
            )
            if not in_place:
                self.medusa.stop()
                self.template.clone_store(pg, tpl)
            self.template.clear_uploads()
            if not in_place:
                self._start_medusa_locked()
            info = self._ensure_working_key(self._info())
            how = "in place" if in_place else "with a fresh Medusa"
            log.info("store reset %s in %.1fs", how, time.monotonic() - t0)
            return info

    def save_snapshot(self, name: str) -> bool:
        """Keep the running store as it is under ``name`` (devstack.template); False if
        the store stays busy."""
        with self.files.lock():
            pg = self._running_pg()
            meta = self.template.meta(pg)
            return meta is not None and self.template.save_snapshot(pg, meta, name)

    def load_snapshot(self, name: str) -> bool:
        """The store as ``save_snapshot(name)`` kept it; False (store untouched) if there
        is none since the last re-clone, or the store stays busy."""
        with self.files.lock():
            pg = self._running_pg()
            meta = self.template.meta(pg)
            return meta is not None and self.template.load_snapshot(pg, meta, name)

    def _running_pg(self) -> PostgresServer:
        pg = self.cluster.running()
        if pg is None or not pg.ready():
            raise DevstackError(f"the stack at {self.root} is not running")
        return pg

    def down(self, purge: bool = False) -> None:
        """Stop Medusa (SIGTERM, then SIGKILL) and PostgreSQL (pg_ctl stop -m fast)."""
        with self.files.lock():
            self.medusa.stop()
            if self.root == REPO_ROOT:
                stop_catalog()
            if purge:
                self.cluster.purge()
                shutil.rmtree(self.files.state_dir, ignore_errors=True)
                log.info("removed %s", self.files.state_dir)
            else:
                # .devstack/env stays: the credentials are valid again after `up`.
                self.cluster.stop()

    def ensure_template(self) -> None:
        """PostgreSQL up and the template current, for another stack to copy; Medusa is left
        as it is unless the template has to be (re)built."""
        with self.files.lock():
            self._prepare()

    def ensure_postgres(self) -> PostgresServer:
        """Start (or reuse) PostgreSQL alone (no Medusa, no template)."""
        with self.files.lock():
            return self.cluster.ensure(self.medusa.stop)

    def postgres(self) -> PostgresServer | None:
        """The cluster as it was started (for SQL against the store: ``.psql(sql, "medusa")``)."""
        return self.cluster.running()

    def start_medusa(self) -> StackInfo:
        """Start Medusa on the existing databases (after kill_medusa / stop_medusa)."""
        with self.files.lock():
            if not self._healthy_running():
                self.cluster.ensure(self.medusa.stop)
                self._start_medusa_locked()
            return self._ensure_working_key(self._info())

    def stop_medusa(self, timeout: float = 15) -> None:
        """SIGTERM Medusa's process group, SIGKILL after ``timeout`` seconds."""
        with self.files.lock():
            self.medusa.stop(timeout)

    def kill_medusa(self) -> int | None:
        """SIGKILL Medusa's process group (fault tests); returns once its port is free.
        Leaves the pid file, like a crash would."""
        with self.files.lock():
            return self.medusa.kill()

    def info(self) -> StackInfo:
        """Credentials of the running stack (DevstackError if it is not running)."""
        if not self._healthy_running():
            raise DevstackError("the dev stack is not running; run `scripts/devstack up`")
        return self._info()

    def is_running(self) -> bool:
        return self._healthy_running()

    def check_node(self) -> None:
        node.check_node()

    def ensure_node_modules(self) -> bool:
        return node.ensure_node_modules(self.files.store_dir, self.files.npm_log)

    def status(self) -> dict:
        pg = self.cluster.running()
        pg_pid = pg.pid() if pg else None
        state = self.files.read_state()
        return {
            "running": self._healthy_running(),
            "backend_url": self.backend_url,
            "env_file": str(self.files.env_file),
            "postgres": {
                "pid": pg_pid,
                "port": pg.running_port() if pg and pg_pid else self.pg_port,
                "ready": bool(pg and pg_pid and pg.ready()),
                "bin_dir": str(pg.bin_dir) if pg else None,
                "origin": pg.origin if pg else None,
                "data_dir": str(pg.data_dir) if pg else None,
            },
            "medusa": {
                "pid": self.medusa.pid(),
                "port": state.get("medusa_port", self.medusa_port),
                "health": self.medusa.health(),
            },
            "logs": self.log_files(),
        }

    def log_files(self) -> dict[str, str]:
        return self.files.log_files()

    # ================================================================ internals
    def _prepare(self) -> tuple[PostgresServer, dict]:
        """Node packages, PostgreSQL and the template, as `up` and `reset` need them."""
        node.check_node()
        if self.ensure_node_modules():
            self.medusa.stop()  # a running server would keep the old packages
        pg = self.cluster.ensure(self.medusa.stop)
        seed = self._seed if self.template_from is not None else None
        return pg, self.template.ensure(pg, seed)

    @contextlib.contextmanager
    def _seed(self) -> Iterator[tuple[PostgresServer, dict | None]]:
        source = self.template_from
        assert source is not None
        with source.files.lock():
            pg = source._running_pg()
            yield pg, source.template.meta(pg)

    def _medusa_env(self, database: str) -> dict[str, str]:
        sec = self.cluster.secrets()
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.cluster.url(database),
            PORT=str(self.medusa_port),
            HOST=HOST,
            MEDUSA_BACKEND_URL=self.backend_url,
            JWT_SECRET=sec["jwt_secret"],
            COOKIE_SECRET=sec["cookie_secret"],
            MEDUSA_DISABLE_TELEMETRY="true",
            MEDUSA_LOCAL_STACK="true",
            NODE_ENV=os.environ.get("DEVSTACK_NODE_ENV", "production"),
        )
        if scrypt_memo_wanted():
            preload = f"--require {json.dumps(str(SCRYPT_MEMO))}"
            env["NODE_OPTIONS"] = f"{env.get('NODE_OPTIONS', '')} {preload}".strip()
        return env

    def _start_medusa_locked(self) -> None:
        pid = self.medusa.start(STORE_DB)
        self.files.write_state(
            medusa_port=self.medusa_port, medusa_pid=pid, scrypt_memo=scrypt_memo_wanted()
        )

    def _flags_current(self) -> bool:
        """The running Medusa was started with the memo setting asked for now."""
        return self.files.read_state().get("scrypt_memo", False) == scrypt_memo_wanted()

    def _healthy_running(self) -> bool:
        state = self.files.read_state()
        if state.get("medusa_port") != self.medusa_port or state.get("pg_port") != self.pg_port:
            return False
        if self.medusa.pid() is None or not self.medusa.health():
            return False
        pg = self.cluster.running()
        return pg is not None and pg.pid() is not None

    def _setup_current(self) -> bool:
        """The store holds the setup of the current template (devstack.store_setup)."""
        return bool(self.files.read_state().get("setup_fingerprint", "-"))

    def _redo_setup(self, info: StackInfo, tpl: dict) -> StackInfo:
        """Run the store setup hooks on a store that was migrated in place."""
        admin = AdminClient.login(self.backend_url, info.admin_email, info.admin_password)
        known = {**tpl, **self.files.read_state()}
        setup = run_setup_hooks(admin, known)
        self.files.write_state(setup=setup, setup_fingerprint=tpl.get("fingerprint", ""))
        info = self._info(reused=info.reused)
        self.files.write_env_file(info)
        return info

    def _info(self, reused: bool = False) -> StackInfo:
        state = self.files.read_state()
        pg = self.cluster.running()
        return StackInfo(
            backend_url=self.backend_url,
            api_key=state.get("api_key", ""),
            admin_email=state.get("admin_email", ""),
            admin_password=state.get("admin_password", ""),
            database_url=self.cluster.url(STORE_DB),
            medusa_port=self.medusa_port,
            pg_port=self.pg_port,
            medusa_pid=self.medusa.pid() or 0,
            pg_pid=(pg.pid() if pg else None) or 0,
            region_id=state.get("region_id", ""),
            sales_channel_id=state.get("sales_channel_id", ""),
            env_file=str(self.files.env_file),
            medusa_log=str(self.files.medusa_log),
            postgres_log=str(self.files.postgres_log),
            reused=reused,
            setup=dict(state.get("setup") or {}),
        )

    def _ensure_working_key(self, info: StackInfo) -> StackInfo:
        """Check the key; if the store DB no longer has it (revoked), mint a new one."""
        if not key_works(self.backend_url, info.api_key):
            log.warning("the stored API key does not authenticate; creating a new one")
            key = mint_key(self.backend_url, info.admin_email, info.admin_password)
            self.files.write_state(api_key=key)
            info = self._info(reused=info.reused)
        self.files.write_env_file(info)
        return info


__all__ = ["REPO_ROOT", "DevstackError", "NodeMissingError", "Stack", "StackInfo", "main"]


def main(argv: list[str] | None = None) -> int:
    from devstack.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
