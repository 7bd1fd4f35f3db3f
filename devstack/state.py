"""The files of one dev stack and what `up` returns.

Everything lives in the git-ignored ``<checkout>/.devstack/``: ``env`` (KEY=VALUE lines),
``state.json`` (ports, pids, credentials, where PostgreSQL runs from), ``secrets.json``
(database password, JWT/cookie secrets), ``medusa.pid``, ``lock`` and ``logs/``. As root,
PostgreSQL's cluster lives outside the checkout (see :mod:`devstack.cluster`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import secrets
import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("devstack")

_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


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
    # What the store setup hooks recorded (devstack.store_setup.STORE_SETUP); keys written
    # like environment variables (``MEDUSA_PUBLISHABLE_KEY``) also go to env() / .devstack/env.
    setup: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def publishable_key(self) -> str:
        """The storefront's key (devstack/shop.py), for a Store API client."""
        return self.setup.get("MEDUSA_PUBLISHABLE_KEY", "")

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
            **{k: v for k, v in self.setup.items() if _ENV_NAME.match(k)},
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
def stack_lock(path: Path) -> Iterator[None]:
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


class StackFiles:
    """Paths under ``<root>/.devstack`` and the JSON files kept there."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store_dir = root / "medusa_store"
        self.state_dir = root / ".devstack"
        self.logs_dir = self.state_dir / "logs"
        self.env_file = self.state_dir / "env"
        self.state_file = self.state_dir / "state.json"
        self.secrets_file = self.state_dir / "secrets.json"
        self.pid_file = self.state_dir / "medusa.pid"
        self.medusa_log = self.logs_dir / "medusa.log"
        self.postgres_log = self.logs_dir / "postgres.log"
        self.npm_log = self.logs_dir / "npm-install.log"
        self.setup_log = self.logs_dir / "medusa-setup.log"

    def lock(self):
        return stack_lock(self.state_dir / "lock")

    def read_state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def write_state(self, **updates) -> dict:
        state = {**self.read_state(), **updates}
        self.state_dir.mkdir(parents=True, exist_ok=True)
        _write_private(self.state_file, json.dumps(state, indent=2))
        return state

    def read_secrets(self) -> dict:
        """Random DB password and JWT/cookie secrets, or {} when there are none yet."""
        try:
            data = json.loads(self.secrets_file.read_text())
        except (OSError, ValueError):
            return {}
        return data if {"pg_password", "jwt_secret", "cookie_secret"} <= data.keys() else {}

    def new_secrets(self) -> dict:
        data = {
            "pg_password": secrets.token_hex(16),
            "jwt_secret": secrets.token_hex(32),
            "cookie_secret": secrets.token_hex(32),
        }
        self.state_dir.mkdir(parents=True, exist_ok=True)
        _write_private(self.secrets_file, json.dumps(data))
        return data

    def write_env_file(self, info: StackInfo) -> None:
        text = "".join(f"{k}={v}\n" for k, v in info.env().items())
        if self.env_file.exists() and self.env_file.read_text() == text:
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        _write_private(self.env_file, text)

    def log_files(self) -> dict[str, str]:
        return {
            "postgres": str(self.postgres_log),
            "medusa": str(self.medusa_log),
            "npm_install": str(self.npm_log),
            "medusa_setup": str(self.setup_log),
        }


def _write_private(path: Path, text: str) -> None:
    """Write through a 0600 temp file and rename (readers never see half a file)."""
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    tmp.replace(path)
