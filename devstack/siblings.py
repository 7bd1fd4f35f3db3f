"""Stacks beside the checkout's own, for parallel test workers.

A sibling is a checkout-like directory, ``.devstack/stacks/<name>/``, with its own
``medusa_store`` (the store's config and ``src`` copied, ``node_modules`` linked to the
checkout's), so its state, logs, uploads and PostgreSQL cluster are its own while the node
packages are installed once. ``Stack(root, template_from=checkout_stack)`` then copies the
checkout's template instead of building one. ``DEVSTACK_ROOT=<root>`` (with its own
``DEVSTACK_PG_PORT`` / ``DEVSTACK_MEDUSA_PORT``) points ``Stack()`` and ``scripts/devstack``
at it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from devstack.errors import DevstackError

CHECKOUT = Path(__file__).resolve().parents[1]
STORE_FILES = ("package.json", "package-lock.json", "medusa-config.ts", "tsconfig.json")


def sibling_root(name: str, checkout: Path = CHECKOUT) -> Path:
    """The sibling ``name``'s directory, made or brought up to date with the checkout's
    store code (so a sibling never runs an older copy of ``src``)."""
    source = checkout / "medusa_store"
    root = checkout / ".devstack" / "stacks" / name  # .devstack/ is git-ignored
    store = root / "medusa_store"
    store.mkdir(parents=True, exist_ok=True)
    for file in STORE_FILES:
        shutil.copy2(source / file, store / file)
    shutil.rmtree(store / "src", ignore_errors=True)
    shutil.copytree(source / "src", store / "src")
    link = store / "node_modules"
    if not link.is_symlink():
        if link.exists():
            raise DevstackError(f"{link} is a directory, not the link to {source}/node_modules")
        link.symlink_to(source / "node_modules")
    return root
