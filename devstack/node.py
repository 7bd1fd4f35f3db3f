"""The store's node packages: Node.js version check and ``npm install`` when needed."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import subprocess
import time
from pathlib import Path

from devstack.errors import DevstackError, NodeMissingError

log = logging.getLogger("devstack")

NODE_MIN = ((20, 19), (22, 12))  # Medusa 2.21 engines: ^20.19.0 || >=22.12.0
INSTALL_STAMP = ".devstack-install.json"


def sha256_of(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()


def check_node() -> None:
    """NodeMissingError unless Node.js (a version Medusa 2.21 supports) and npm are here."""
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


def _package_hash(store_dir: Path) -> str:
    return sha256_of(store_dir / "package.json", store_dir / "package-lock.json")


def install_current(store_dir: Path) -> bool:
    """node_modules was installed from the current package.json and package-lock.json."""
    stamp = store_dir / "node_modules" / INSTALL_STAMP
    try:
        return json.loads(stamp.read_text()).get("hash") == _package_hash(store_dir)
    except (OSError, ValueError):
        return False


def ensure_node_modules(store_dir: Path, npm_log: Path) -> bool:
    """``npm install`` when node_modules is missing or package(-lock).json changed.

    The stamp (``node_modules/.devstack-install.json``) stores a hash of package.json and
    package-lock.json, so a changed lock triggers an install while a checkout that only
    touches its mtime does not. ``npm ci`` is not used: it fails against this registry
    mirror (non-linux optional packages missing from the lock); ``--no-save`` keeps npm from
    rewriting the tracked lock file with them. Returns True if it installed.
    """
    modules = store_dir / "node_modules"
    if not (store_dir / "package.json").exists():
        raise DevstackError(f"{store_dir / 'package.json'} not found")
    if install_current(store_dir) and (modules / ".bin" / "medusa").exists():
        return False
    check_node()
    npm_log.parent.mkdir(parents=True, exist_ok=True)
    log.info("npm install in %s (log: %s) ...", store_dir, npm_log)
    t0 = time.monotonic()
    with npm_log.open("w") as out:
        proc = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--no-save"],
            cwd=store_dir,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    if proc.returncode != 0 or not (modules / ".bin" / "medusa").exists():
        raise DevstackError(
            f"npm install failed (rc {proc.returncode}) in {store_dir}; see {npm_log}"
        )
    # Through a new file: node_modules may be a hard-link copy of another checkout's, and
    # writing the stamp in place would change theirs too.
    tmp = modules / f"{INSTALL_STAMP}.tmp"
    tmp.write_text(json.dumps({"hash": _package_hash(store_dir), "at": time.time()}))
    tmp.replace(modules / INSTALL_STAMP)
    log.info("npm install done in %.1fs", time.monotonic() - t0)
    return True
