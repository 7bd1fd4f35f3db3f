"""The template database and the two ways back to an empty store.

``medusa_template`` is migrated once and baked (:mod:`devstack.store_setup`: admin user,
secret API key, USD region, store currency, the STORE_SETUP hooks); its record (credentials,
ids, fingerprint) is JSON in the template's ``COMMENT``. The store DB ``medusa`` is a
``CREATE DATABASE ... TEMPLATE medusa_template`` clone, so the printed credentials survive
resets. The template is rebuilt when its fingerprint changes (package-lock.json, the
template version, the store setup's sources); the store DB is then migrated in place.

Empty store, two ways:

* **restore in place** (:meth:`Template.restore_store`, the default ``reset``): the
  template also holds ``devstack_baseline``, a copy of every non-empty table and every
  sequence's position as baked. Restoring truncates every table of the store and copies
  the baseline back in one transaction, under the running Medusa, in well under a second.
  That is safe because Medusa 2.21 keeps no store data in memory here (no caching module
  without CACHE_REDIS_URL; API keys, regions and channels are read per request), and it is
  only done when the store is quiet (no query running or transaction open).
* **re-clone** (:meth:`Template.clone_store`): drop the store DB and clone the template
  again, with Medusa stopped; used by ``up`` and by ``reset`` when restoring is not
  possible (Medusa not running, store busy, baseline from another template) or asked for
  (``reset(restart=True)``: a freshly booted Medusa, e.g. for cold benchmarks).

A scratch stack (tests) can copy another stack's template instead of building its own
(:meth:`Template.copy_from`, ``Stack(..., template_from=other)``).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import string
import subprocess
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from devstack.medusa import MedusaProcess
from devstack.node import sha256_of
from devstack.postgres import HOST, PostgresError, PostgresServer, quote_ident, quote_literal
from devstack.state import StackFiles
from devstack.store_setup import bake, setup_fingerprint

log = logging.getLogger("devstack")

STORE_DB = "medusa"
TEMPLATE_DB = "medusa_template"
BUILD_DB = "medusa_template_build"
ADMIN_EMAIL = "admin@example.com"
BASELINE = "devstack_baseline"
SEQUENCES = "devstack.sequences"  # a table name no Medusa migration can produce
# Bump when the baked template content changes (forces a template rebuild).
TEMPLATE_VERSION = 2
QUIET_TIMEOUT = 10.0


def _capture_sql(schema: str) -> str:
    """Copy every non-empty table of the store, and each sequence's position, into `schema`."""
    return f"""
DROP SCHEMA IF EXISTS {schema} CASCADE;
CREATE SCHEMA {schema};
DO $$
DECLARE t record; has_rows boolean;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM public.%I)', t.tablename) INTO has_rows;
    IF has_rows THEN
      EXECUTE format('CREATE TABLE {schema}.%I AS TABLE public.%I', t.tablename, t.tablename);
    END IF;
  END LOOP;
END $$;
CREATE TABLE {schema}.{quote_ident(SEQUENCES)} AS
  SELECT sequencename AS name, coalesce(last_value, start_value) AS value,
         last_value IS NOT NULL AS called
  FROM pg_sequences WHERE schemaname = 'public';
"""


def _restore_sql(schema: str) -> str:
    """Empty every table of the store and copy `schema`'s tables and sequences back."""
    return f"""
SET lock_timeout = '5s';
SET session_replication_role = replica;
DO $$
DECLARE t record; cols text;
BEGIN
  EXECUTE (SELECT 'TRUNCATE ' || string_agg(format('public.%I', tablename), ', ')
           FROM pg_tables WHERE schemaname = 'public');
  FOR t IN SELECT tablename FROM pg_tables
           WHERE schemaname = '{schema}' AND tablename <> {quote_literal(SEQUENCES)} LOOP
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
      FROM pg_attribute
      WHERE attrelid = format('{schema}.%I', t.tablename)::regclass
        AND attnum > 0 AND NOT attisdropped;
    EXECUTE format('INSERT INTO public.%I (%s) SELECT %s FROM {schema}.%I',
                   t.tablename, cols, cols, t.tablename);
  END LOOP;
  PERFORM setval(format('public.%I', s.name), s.value, s.called)
    FROM {schema}.{quote_ident(SEQUENCES)} s;
END $$;
"""


def _snapshot_schema(name: str) -> str:
    if (
        not name
        or len(name) > 40
        or not set(name) <= set(string.ascii_lowercase + string.digits + "_")
    ):
        raise ValueError(f"a snapshot name is 1-40 of [a-z0-9_], got {name!r}")
    return f"devstack_snapshot_{name}"


# A context manager factory: while entered, yields another stack's running cluster and its
# template record (or None), holding that stack's lock.
Seed = Callable[[], AbstractContextManager[tuple[PostgresServer, dict | None]]]


def _run(pg: PostgresServer, tool: str, *args: str, stdin: bytes | None = None) -> bytes:
    """A PostgreSQL client tool (pg_dump, pg_restore) against ``pg``; its stdout."""
    cmd = [str(pg.bin_dir / tool), "-h", HOST, "-p", str(pg.port), "-U", "postgres", *args]
    env = {**os.environ, "PGPASSWORD": pg.password, "PGCONNECT_TIMEOUT": "10"}
    proc = subprocess.run(cmd, input=stdin, capture_output=True, env=env)
    if proc.returncode != 0:
        raise PostgresError(f"{tool} failed (rc {proc.returncode}): {proc.stderr.decode()[-500:]}")
    return proc.stdout


class Template:
    """The template DB of one stack, and resets of its store DB from it."""

    def __init__(self, files: StackFiles, medusa: MedusaProcess) -> None:
        self.files = files
        self.medusa = medusa

    def fingerprint(self) -> str:
        lock = self.files.store_dir / "package-lock.json"
        return f"v{TEMPLATE_VERSION}-{sha256_of(lock)[:16]}-{setup_fingerprint()}"

    def meta(self, pg: PostgresServer) -> dict | None:
        raw = pg.psql(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            f"WHERE datname = {quote_literal(TEMPLATE_DB)}"
        )
        try:
            meta = json.loads(raw) if raw else None
        except ValueError:
            return None
        return meta if isinstance(meta, dict) and meta.get("api_key") else None

    def ensure(self, pg: PostgresServer, seed: Seed | None = None) -> dict:
        """The template's record; builds it first if missing or outdated (stops Medusa).
        With ``seed``, another stack's current template is copied instead of built."""
        meta = self.meta(pg)
        if meta is not None and meta.get("fingerprint") == self.fingerprint():
            return meta
        store_exists = pg.database_exists(STORE_DB)
        self.medusa.stop()
        meta = (self.copy_from(pg, seed) if seed is not None else None) or self.build(pg)
        if store_exists:
            # Medusa changed (lock file): bring the existing store up to date, keep its data;
            # `up` then runs the store setup hooks on it (setup_fingerprint cleared).
            log.info("migrating the existing store database %s", STORE_DB)
            self.medusa.cli(["db:migrate"], STORE_DB)
            self.files.write_state(setup_fingerprint="")
        return meta

    def build(self, pg: PostgresServer) -> dict:
        """Migrate a fresh DB, bake it through a Medusa running on it, freeze it."""
        t0 = time.monotonic()
        log.info("building template database %s (migrations take ~10 s) ...", TEMPLATE_DB)
        pg.psql(f"DROP DATABASE IF EXISTS {BUILD_DB} WITH (FORCE)")
        pg.psql(f"CREATE DATABASE {BUILD_DB}")
        self.files.setup_log.parent.mkdir(parents=True, exist_ok=True)
        self.files.setup_log.write_text("")
        self.medusa.cli(["db:migrate"], BUILD_DB)
        # Alphanumeric: a leading "-" would be parsed as a CLI flag by `medusa user -p`.
        password = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))
        self.medusa.cli(["user", "-e", ADMIN_EMAIL, "-p", password], BUILD_DB)
        proc = self.medusa.spawn(BUILD_DB)
        try:
            self.medusa.wait_health(proc.pid)
            meta = bake(self.medusa.backend_url, ADMIN_EMAIL, password)
        finally:
            self.medusa.terminate(proc.pid)
            self.files.pid_file.unlink(missing_ok=True)
        meta["fingerprint"] = self.fingerprint()
        meta["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        pg.psql(_capture_sql(BASELINE), database=BUILD_DB)
        pg.psql(f"COMMENT ON SCHEMA {BASELINE} IS {quote_literal(meta['fingerprint'])}", BUILD_DB)
        self._install(pg, meta)
        log.info("template %s built in %.1fs", TEMPLATE_DB, time.monotonic() - t0)
        return meta

    def copy_from(self, pg: PostgresServer, seed: Seed) -> dict | None:
        """Copy another stack's template (same fingerprint) into this cluster, instead of
        building one (pg_dump/pg_restore: seconds instead of a minute of migrations).
        None if the other stack has no current template."""
        t0 = time.monotonic()
        with seed() as (source, meta):
            if meta is None or meta.get("fingerprint") != self.fingerprint():
                return None
            # Connections are allowed only for the dump; the seed holds that stack's lock,
            # so none of its clones runs meanwhile.
            source.psql(f"ALTER DATABASE {TEMPLATE_DB} WITH ALLOW_CONNECTIONS true")
            try:
                dump = _run(source, "pg_dump", "-Fc", "-d", TEMPLATE_DB)
            finally:
                source.psql(f"ALTER DATABASE {TEMPLATE_DB} WITH ALLOW_CONNECTIONS false")
        pg.psql(f"DROP DATABASE IF EXISTS {BUILD_DB} WITH (FORCE)")
        pg.psql(f"CREATE DATABASE {BUILD_DB}")
        _run(pg, "pg_restore", "--no-owner", "--no-privileges", "-d", BUILD_DB, stdin=dump)
        self._install(pg, meta)
        log.info("template %s copied from %s in %.1fs", TEMPLATE_DB, source.data_dir,
                 time.monotonic() - t0)  # fmt: skip
        return meta

    def _install(self, pg: PostgresServer, meta: dict) -> None:
        """Make BUILD_DB the template, with ``meta`` as its record."""
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

    # -- back to an empty store -------------------------------------------------------------
    def clone_store(self, pg: PostgresServer, meta: dict) -> None:
        """Drop the store DB and clone it from the template (Medusa must not be running)."""
        t0 = time.monotonic()
        pg.psql(f"DROP DATABASE IF EXISTS {quote_ident(STORE_DB)} WITH (FORCE)")
        pg.psql(f"CREATE DATABASE {quote_ident(STORE_DB)} TEMPLATE {TEMPLATE_DB}")
        self.record_credentials(meta)
        log.info("store database %s cloned from template in %.2fs", STORE_DB, time.monotonic() - t0)

    def restore_store(self, pg: PostgresServer, meta: dict) -> bool:
        """Empty the store in place under the running Medusa; False if that is not safe now."""
        t0 = time.monotonic()
        try:
            baseline = pg.psql(
                f"SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace "
                f"WHERE nspname = {quote_literal(BASELINE)}",
                STORE_DB,
            )
        except PostgresError:
            return False
        if baseline != meta.get("fingerprint"):
            log.info("store has no baseline of the current template; re-cloning it")
            return False
        if not self._wait_quiet(pg):
            log.warning("the store database stays busy; re-cloning it instead")
            return False
        try:
            pg.psql(_restore_sql(BASELINE), STORE_DB)
        except PostgresError as exc:
            log.warning("restoring the store in place failed (%s); re-cloning it", exc)
            return False
        self.record_credentials(meta)
        log.info("store database %s restored in place in %.2fs", STORE_DB, time.monotonic() - t0)
        return True

    # -- named snapshots of the store (tests: a synced store to come back to) ----------

    def save_snapshot(self, pg: PostgresServer, meta: dict, name: str) -> bool:
        """Keep the store as it is now (its tables, sequences and uploaded files) under
        ``name``; False if the store stays busy. Snapshots live in the store DB beside the
        baseline, so a restore in place keeps them and a re-clone drops them."""
        schema = _snapshot_schema(name)
        if not self._wait_quiet(pg):
            return False
        pg.psql(
            _capture_sql(schema)
            + f"COMMENT ON SCHEMA {schema} IS {quote_literal(meta['fingerprint'])};",
            STORE_DB,
        )
        files = self._snapshot_files(name)
        shutil.rmtree(files, ignore_errors=True)
        static = self.files.store_dir / "static"
        if static.is_dir():
            shutil.copytree(static, files, symlinks=True)
        else:
            files.mkdir(parents=True)
        log.info("store saved as snapshot %s", name)
        return True

    def load_snapshot(self, pg: PostgresServer, meta: dict, name: str) -> bool:
        """Put the store back as ``save_snapshot`` kept it, under the running Medusa (safe
        for the reason a restore in place is); False if there is no such snapshot of this
        template, or the store stays busy."""
        schema = _snapshot_schema(name)
        files = self._snapshot_files(name)
        kept = pg.psql(
            f"SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace "
            f"WHERE nspname = {quote_literal(schema)}",
            STORE_DB,
        )
        if kept != meta.get("fingerprint") or not files.is_dir():
            return False
        if not self._wait_quiet(pg):
            return False
        pg.psql(_restore_sql(schema), STORE_DB)
        self.clear_uploads()
        shutil.copytree(files, self.files.store_dir / "static", symlinks=True, dirs_exist_ok=True)
        log.info("store loaded from snapshot %s", name)
        return True

    def _snapshot_files(self, name: str) -> Path:
        return self.files.state_dir / "snapshots" / _snapshot_schema(name)

    def _wait_quiet(self, pg: PostgresServer, timeout: float = QUIET_TIMEOUT) -> bool:
        """No other session runs a query or holds a transaction open on the store DB."""
        busy = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
            f"{quote_literal(STORE_DB)} AND pid <> pg_backend_pid() AND state <> 'idle'"
        )
        deadline = time.monotonic() + timeout
        while pg.psql(busy) != "0":
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def record_credentials(self, meta: dict) -> None:
        """The store now holds the template's credentials and setup: say so in state.json."""
        self.files.write_state(
            api_key=meta["api_key"],
            admin_email=meta["admin_email"],
            admin_password=meta["admin_password"],
            region_id=meta.get("region_id", ""),
            sales_channel_id=meta.get("sales_channel_id", ""),
            setup=meta.get("setup", {}),
            setup_fingerprint=meta.get("fingerprint", ""),
        )

    def clear_uploads(self) -> None:
        """Uploaded files (file-local provider, ``medusa_store/static``) belong to the store."""
        static = self.files.store_dir / "static"
        if static.is_dir():
            for entry in static.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
