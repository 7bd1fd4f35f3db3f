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
that needs a freshly booted Medusa calls ``Stack().reset(restart=True)``.

Under pytest-xdist (``scripts/test`` runs 2 workers) each worker has its own stack
(``_worker_stack``); ``Stack()`` in a test is always the stack of the test's worker.

Without Node.js the fixtures fail with what to install (never skip). Deselect the e2e
tests with ``-m "not e2e"``.
"""

from __future__ import annotations

import multiprocessing.forkserver
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.siblings import sibling_root
from devstack.stack import NodeMissingError, Stack, StackInfo

REPO_ROOT = Path(__file__).resolve().parents[1]

pytest_plugins = ["product_sync_tests.faults.matrix"]


def _node_or_fail(stack: Stack) -> None:
    try:
        stack.check_node()
    except NodeMissingError as exc:
        pytest.fail(f"the Medusa dev stack needs Node.js: {exc}", pytrace=False)


@pytest.fixture(autouse=True)
def _fresh_forkserver() -> Iterator[None]:
    """Scaled-out runs fork their range processes from a forkserver
    (product_sync/defs/scale_out/jobs.py), which keeps the environment it started with; one
    test's (monkeypatched) store and catalog must not reach the next test's ranges."""
    yield
    server = multiprocessing.forkserver._forkserver
    if server._forkserver_pid is not None:
        server._stop()


def _worker_index() -> int:
    """0 without pytest-xdist or on its first worker (gw0), else the worker's number."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def _worker_stack(checkout: Stack, index: int) -> Stack:
    """The stack this test process drives. Worker 0 has the checkout's own; every further
    xdist worker a sibling stack (devstack/siblings.py) on the next ports, seeded from the
    checkout's template, so workers never reset or kill each other's store. The worker's
    environment points ``Stack()`` (and ``scripts/devstack``, dagster runs...) at it."""
    if index == 0:
        return checkout
    checkout.ensure_template()
    os.environ.update(
        DEVSTACK_ROOT=str(sibling_root(f"gw{index}")),
        DEVSTACK_PG_PORT=str(checkout.pg_port + index),
        DEVSTACK_MEDUSA_PORT=str(checkout.medusa_port + index),
    )
    return Stack(template_from=checkout)


@pytest.fixture(scope="session")
def medusa_stack() -> Iterator[StackInfo]:
    checkout = Stack(REPO_ROOT)
    _node_or_fail(checkout)
    stack = _worker_stack(checkout, _worker_index())
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
    return Stack().reset()


# Modules holding a test of a minute or more (the admin build, `dagster dev`, range
# processes, retried fault runs): scheduled first so neither worker ends on one.
LONG_MODULES = (
    "product_sync_tests/admin/test_admin_widget.py",
    "product_sync_tests/operations/test_crash_recovery_e2e.py",
    "product_sync_tests/e2e/test_scale_out_e2e.py",
    "product_sync_tests/faults/test_source_faults.py",
    "product_sync_tests/e2e/test_taxonomy_e2e.py",
    "product_sync_tests/e2e/test_journal_e2e.py",
    "product_sync_tests/faults/test_medusa_kill.py",
    "product_sync_tests/webhook/test_webhook_e2e.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long modules first, then the other modules with end-to-end tests, unit-test
    modules last (order inside a module kept): with ``--dist loadfile
    --no-loadscope-reorder`` (scripts/test) the short modules fill the workers' tails."""
    first_index: dict[str, int] = {}
    e2e_modules: set[str] = set()
    for index, item in enumerate(items):
        module = item.nodeid.split("::", 1)[0]
        first_index.setdefault(module, index)
        if item.get_closest_marker("e2e") is not None:
            e2e_modules.add(module)

    def key(pair: tuple[int, pytest.Item]) -> tuple[int, int, int, int]:
        index, item = pair
        module = item.nodeid.split("::", 1)[0]
        long = LONG_MODULES.index(module) if module in LONG_MODULES else len(LONG_MODULES)
        return (long, module not in e2e_modules, first_index[module], index)

    items[:] = [item for _, item in sorted(enumerate(items), key=key)]
