"""Shared fixtures: the real local Medusa v2 + PostgreSQL dev stack (devstack/stack.py).

* ``medusa_stack`` (session): brings the stack up through the same Python API as
  ``scripts/devstack up`` (reusing a running one) and yields its ``StackInfo``
  (``backend_url``, ``api_key`` — send it as ``auth=(api_key, "")`` —, admin credentials,
  ``database_url``, ``region_id``, ``sales_channel_id``, ...). At the end of the session it
  stops only what the session started; ``DEVSTACK_KEEP=1`` leaves everything running.
* ``empty_store`` (function): ``reset`` (store DB re-cloned from the template, a few
  seconds) and returns the ``StackInfo``; credentials stay the same.

Without Node.js the fixtures skip (``pytest.fail`` when ``CI`` is set). Deselect the
e2e tests with ``-m "not e2e"``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import NodeMissingError, Stack, StackInfo

REPO_ROOT = Path(__file__).resolve().parents[1]


def _node_or_skip(stack: Stack) -> None:
    try:
        stack.check_node()
    except NodeMissingError as exc:
        message = f"the Medusa dev stack needs Node.js: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def medusa_stack() -> Iterator[StackInfo]:
    stack = Stack(REPO_ROOT)
    _node_or_skip(stack)
    before = stack.status()
    postgres_was_running = before["postgres"]["pid"] is not None
    medusa_was_running = before["running"]
    info = stack.up()
    yield info
    if os.environ.get("DEVSTACK_KEEP") == "1":
        return
    if not postgres_was_running:
        stack.down()
    elif not medusa_was_running:
        stack.stop_medusa()


@pytest.fixture
def empty_store(medusa_stack: StackInfo) -> StackInfo:
    return Stack(REPO_ROOT).reset()
