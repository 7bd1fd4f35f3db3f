"""The stack's PostgreSQL cluster: where it lives, which binaries run it, reuse or restart.

Where
-----
Run as a normal user, PostgreSQL runs as that user, from the checkout: data in
``.devstack/pg/``, log in ``.devstack/logs/postgres.log``.

Run as root, PostgreSQL refuses to run as root, so it runs as the unprivileged
``embedded_postgres`` user (:mod:`devstack.pg_binaries`). That user must reach the binaries,
the data directory and the log file, and a checkout in a private directory (``/root`` is
mode 700) is out of its reach. The checkout's permissions are never loosened; instead the
cluster lives in a per-checkout directory outside it::

    /var/lib/devstack/<checkout name>-<hash of its path>/   (DEVSTACK_PG_HOME overrides the base)
        checkout        the checkout this belongs to
        pg/data/        the cluster (owned by embedded_postgres, mode 700)
        postgres.log    the server log (.devstack/logs/postgres.log links to it)
        pginstall/      a copy of the binaries, made only if the run user cannot reach them

``scripts/devstack down --purge`` removes it with ``.devstack/``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from devstack.errors import DevstackError
from devstack.medusa import port_in_use
from devstack.pg_binaries import ensure_run_user, find_bin_dir, server_major
from devstack.postgres import HOST, PostgresError, PostgresServer
from devstack.state import StackFiles

log = logging.getLogger("devstack")

PRIVATE_BASE = Path("/var/lib/devstack")
_MIRROR_STAMP = ".devstack-source"


def private_home(root: Path) -> Path:
    """The per-checkout directory for the cluster when running as root."""
    base = Path(os.environ.get("DEVSTACK_PG_HOME") or PRIVATE_BASE)
    key = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    return base / f"{root.name}-{key}"


def reachable_by(path: Path, uid: int, gids: set[int]) -> bool:
    """``uid`` can traverse every directory down to ``path`` and read/execute ``path``."""
    try:
        for part in [*reversed(path.parents), path]:
            info = os.stat(part)
            shift = 6 if info.st_uid == uid else 3 if info.st_gid in gids else 0
            need = 0o1 if stat.S_ISDIR(info.st_mode) or part != path else 0o5
            if (info.st_mode >> shift) & need != need:
                return False
    except OSError:
        return False
    return True


class Cluster:
    """Configuration and lifecycle of one stack's PostgreSQL cluster."""

    def __init__(self, files: StackFiles, port: int) -> None:
        self.files = files
        self.port = port
        self._server: PostgresServer | None = None

    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    @property
    def home(self) -> Path | None:
        """The directory outside the checkout (root only; None otherwise)."""
        return private_home(self.files.root) if self.as_root else None

    def layout(self) -> tuple[Path, Path]:
        """``(base_dir, log_file)`` of the configured cluster."""
        home = self.home
        if home is None:
            return self.files.state_dir / "pg", self.files.postgres_log
        return home / "pg", home / "postgres.log"

    def url(self, database: str) -> str:
        password = self.secrets(create=False).get("pg_password", "")
        return f"postgres://postgres:{password}@{HOST}:{self.port}/{database}"

    # -- secrets ------------------------------------------------------------------------------
    def secrets(self, create: bool = True) -> dict:
        """Database password and Medusa's secrets, created once per .devstack/."""
        data = self.files.read_secrets()
        if data or not create:
            return data
        old = self.running()
        stale = {self.layout()[0], *([old.base_dir] if old else [])}
        if any(path.exists() for path in stale):
            # A cluster whose password we lost is useless: stop it and start from scratch.
            log.warning("secrets.json missing: re-initializing the PostgreSQL cluster")
            if old is not None:
                old.stop()
            for path in stale:
                shutil.rmtree(path, ignore_errors=True)
        return self.files.new_secrets()

    # -- servers ----------------------------------------------------------------------------
    def running(self) -> PostgresServer | None:
        """The cluster as recorded in state.json (to stop or inspect it), or None."""
        if not self.files.state_dir.exists():
            return None
        state = self.files.read_state()
        bin_dir = state.get("pg_bin_dir")
        if not bin_dir or not Path(bin_dir, "pg_ctl").exists():
            try:
                bin_dir = str(find_bin_dir()[0])
            except PostgresError:
                return None
        return PostgresServer(
            base_dir=Path(state.get("pg_base_dir") or self.files.state_dir / "pg"),
            port=state.get("pg_port", self.port),
            password=self.files.read_secrets().get("pg_password", ""),
            log_file=Path(state.get("pg_log") or self.files.postgres_log),
            bin_dir=Path(bin_dir),
            origin=state.get("pg_origin", ""),
        )

    def server(self) -> PostgresServer:
        """The configured cluster (binaries resolved, copied out of reach if needed)."""
        if self._server is None:
            base_dir, log_file = self.layout()
            bin_dir, origin = self._binaries()
            self._server = PostgresServer(
                base_dir=base_dir,
                port=self.port,
                password=self.secrets()["pg_password"],
                log_file=log_file,
                bin_dir=bin_dir,
                origin=origin,
            )
        return self._server

    def ensure(self, stop_medusa: Callable[[], None]) -> PostgresServer:
        """Start (or reuse) the configured cluster; restart one that runs otherwise."""
        try:
            return self._ensure(stop_medusa)
        except PostgresError as exc:
            raise DevstackError(str(exc)) from exc

    def _ensure(self, stop_medusa: Callable[[], None]) -> PostgresServer:
        pg = self.server()
        old = self.running()
        if (
            old is not None
            and old.pid() is not None
            and (
                old.base_dir != pg.base_dir
                or old.running_port() != self.port
                or old.bin_dir != pg.bin_dir
            )
        ):
            log.info("PostgreSQL runs with other settings; restarting it")
            stop_medusa()
            old.stop()
        if old is not None and old.base_dir != pg.base_dir and old.base_dir.exists():
            # The cluster moved (e.g. out of the checkout, as root): the old one is abandoned.
            log.warning("PostgreSQL now lives in %s; removing %s", pg.base_dir, old.base_dir)
            shutil.rmtree(old.base_dir, ignore_errors=True)
        self._prepare_home()
        if pg.pid() is not None and pg.ready():
            return self._record(pg)
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
            if port_in_use(self.port):
                raise DevstackError(
                    f"port {HOST}:{self.port} is already in use by another process; "
                    "set DEVSTACK_PG_PORT to a free port"
                )
            pg.start()
        elif not pg.ready():
            raise DevstackError(f"PostgreSQL pid {pg.pid()} is not ready; see {pg.log_file}")
        return self._record(pg)

    def _record(self, pg: PostgresServer) -> PostgresServer:
        self.files.write_state(
            pg_port=self.port,
            pg_bin_dir=str(pg.bin_dir),
            pg_origin=pg.origin,
            pg_base_dir=str(pg.base_dir),
            pg_log=str(pg.log_file),
        )
        return pg

    def stop(self) -> None:
        pg = self.running()
        if pg is not None:
            pg.stop()

    def purge(self) -> None:
        """Stop the cluster and delete the directory outside the checkout (root only)."""
        self.stop()
        home = self.home
        if home is not None and home.exists():
            shutil.rmtree(home)
            log.info("removed %s", home)

    # -- the private home (root) ------------------------------------------------------------
    def _prepare_home(self) -> None:
        home = self.home
        if home is None:
            return
        home.mkdir(parents=True, exist_ok=True)
        home.chmod(0o755)  # the run user traverses it (to pg/, postgres.log, pginstall/)
        marker = home / "checkout"
        if not marker.exists() or marker.read_text().strip() != str(self.files.root):
            marker.write_text(f"{self.files.root}\n")
        # The log stays where the README says it is, as a link to the real file.
        link = self.files.postgres_log
        target = home / "postgres.log"
        link.parent.mkdir(parents=True, exist_ok=True)
        if not (link.is_symlink() and Path(os.readlink(link)) == target):
            link.unlink(missing_ok=True)
            link.symlink_to(target)

    def _binaries(self) -> tuple[Path, str]:
        bin_dir, origin = find_bin_dir()
        home = self.home
        if home is None:
            return bin_dir, origin
        user = ensure_run_user()
        gids = {user.pw_gid}
        if reachable_by(bin_dir / "postgres", user.pw_uid, gids):
            return bin_dir, origin
        install = _mirror(bin_dir.parent, home / "pginstall")
        return install / bin_dir.name, f"{origin}, copied to {install}"


def _mirror(install: Path, dest: Path) -> Path:
    """Copy a PostgreSQL install tree under ``dest``, readable by everyone (once per
    version); returns the copy of ``install``.

    Wheels repaired by auditwheel load their bundled libraries from ``<package>.libs`` next
    to the package through a relative RPATH, so that directory is copied alongside, keeping
    the same relative layout.
    """
    package = install.parent
    libs = package.parent / f"{package.name}.libs"
    parts = [(install, Path(package.name, install.name))]
    if libs.is_dir():
        parts.append((libs, Path(libs.name)))
    key = f"{install}\n{os.stat(install / 'bin' / 'postgres').st_mtime_ns}\n"
    stamp = dest / _MIRROR_STAMP
    if stamp.is_file() and stamp.read_text() == key:
        return dest / parts[0][1]
    log.info("copying PostgreSQL's binaries to %s (its run user cannot reach %s)", dest, install)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for source, relative in parts:
        # Copies, not hard links: a link keeps the source's mode, which a private clone's
        # umask may have made unreadable for others.
        shutil.copytree(source, tmp / relative, symlinks=True)
    for dirpath, _dirs, filenames in os.walk(tmp):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            path = Path(dirpath, name)
            if not path.is_symlink():
                mode = path.stat().st_mode
                path.chmod(0o755 if mode & 0o100 else 0o644)
    (tmp / _MIRROR_STAMP).write_text(key)
    if dest.exists():
        shutil.rmtree(dest)  # a server running from it keeps its open files
    tmp.rename(dest)
    return dest / parts[0][1]
