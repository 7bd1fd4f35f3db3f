"""Shared fixtures: the real local Medusa v2 + PostgreSQL dev stack (devstack/stack.py).

* ``medusa_stack`` (session): brings the stack up through the same Python API as
  ``scripts/devstack up`` (reusing a running one) and yields its ``StackInfo``
  (``backend_url``, ``api_key`` — send it as ``auth=(api_key, "")`` —, admin credentials,
  ``database_url``, ``region_id``, ``sales_channel_id``, ``setup``, ...). At the end of the
  session it stops only what the session started; ``DEVSTACK_KEEP=1`` leaves it running.
* ``empty_store`` (function): ``reset`` — the store as the template has it, restored in
  place under the running Medusa (well under a second) — and returns the ``StackInfo``;
  credentials stay the same.

Rules for tests that use the store (they keep resets fast and the suite independent of
order): take ``empty_store`` for a clean store, never rely on what an earlier test left;
don't keep a connection or transaction open on the store DB past the test (a reset then
falls back to re-cloning the store and restarting Medusa, about 10-20 s); a test that kills
or stops Medusa restarts it before it ends (``faults``' ``stack`` fixture does); a test
that needs a freshly booted Medusa calls ``Stack(REPO_ROOT).reset(restart=True)``.

Without Node.js the fixtures fail with what to install (never skip). Deselect the e2e
tests with ``-m "not e2e"``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import NodeMissingError, Stack, StackInfo

REPO_ROOT = Path(__file__).resolve().parents[1]


def _node_or_fail(stack: Stack) -> None:
    try:
        stack.check_node()
    except NodeMissingError as exc:
        pytest.fail(f"the Medusa dev stack needs Node.js: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def medusa_stack() -> Iterator[StackInfo]:
    stack = Stack(REPO_ROOT)
    _node_or_fail(stack)
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
