"""Fault-matrix fixtures (issue 6, section 2): the real store, the in-process catalog server,
the real assets and checks, and one definition of "converged" shared by every scenario.

* ``source`` — a ``CatalogServer`` (seed 42, ``catalog_size`` products; override the
  ``catalog_size`` fixture in a module for a smaller catalog).
* ``run_sync`` — like ``e2e``'s ``sync`` fixture, but with resource settings per run (small
  backoffs by default), its own Dagster instance per run (so every event-log entry, user log
  lines included, can be read back), the API key through an ``EnvVar`` as in production, and
  ``raise_on_error=False``: a run that fails is a result here, not an error.
* ``assert_converged(store, source, foreign=..., quarantined=...)`` — the store equals the
  catalog exactly; returns the numbers for the summary table.
* ``matrix`` — the row of the summary table this test fills (``faults/matrix.py``, which
  prints the whole table at the end of the session).
"""

from __future__ import annotations

import socket
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import pytest

from devstack.catalog.server import CatalogServer
from devstack.stack import Stack, StackInfo
from product_sync.defs.catalog_sync.settings import SyncSettings
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.medusa import MedusaResource
from product_sync_tests.e2e.conftest import Store, SyncRun, _assets_and_checks
from product_sync_tests.faults.matrix import MatrixRow
from product_sync_tests.judges.store_reader import Difference, Source, our_source_id

KEY_ENV = "PRODUCT_SYNC_FAULTS_MEDUSA_API_KEY"
FAST_RETRIES = {"initial_backoff_s": 0.01, "max_backoff_s": 0.05}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "faults: fault matrix (issue 6 §2) against the real store; also marked e2e",
    )


# -- the world: store, source, runs --------------------------------------------------------


@pytest.fixture
def catalog_size() -> int:
    return 100


@pytest.fixture
def source(catalog_size: int) -> Iterator[CatalogServer]:
    with CatalogServer(seed=42, count=catalog_size) as server:
        yield server


@pytest.fixture
def store(empty_store: StackInfo) -> Store:
    return Store(empty_store)


@pytest.fixture
def stack(empty_store: StackInfo) -> Iterator[Stack]:
    """The dev stack itself (for kill/start). Leaves Medusa running whatever happened."""
    stack = Stack()
    yield stack
    if not stack.is_running():
        restart_medusa(stack)


def restart_medusa(stack: Stack, timeout_s: float = 15) -> None:
    """`start_medusa` once the killed Medusa has let go of its port: `kill_medusa` waits
    for the group leader only, and under load the port can stay bound a moment longer,
    which `start_medusa` would take for someone else's server."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", stack.medusa_port)) != 0:
                break
        time.sleep(0.1)
    stack.start_medusa()


@dataclass
class FaultRun(SyncRun):
    """A run and everything it left behind that a test may search."""

    logs: list[str] = field(default_factory=list)  # every event-log entry's message
    errors: list[str] = field(default_factory=list)  # step failures, with their causes
    serialized: str = ""  # the run record and every event-log entry (metadata, errors), serialized

    @property
    def success(self) -> bool:
        return self.result.success

    def step_metadata(self, asset: str) -> dict[str, Any]:
        events = self.result.asset_materializations_for_node(asset)
        return {k: v.value for k, v in events[-1].metadata.items()} if events else {}


@pytest.fixture
def run_sync(empty_store: StackInfo, source: CatalogServer, matrix: MatrixRow, monkeypatch):
    """Run the real assets and checks in-process, each run on its own ephemeral instance."""
    monkeypatch.setenv(KEY_ENV, empty_store.api_key)

    def run(
        *,
        dummyjson: dict[str, Any] | None = None,
        medusa: dict[str, Any] | None = None,
        api_key: str | None = None,
        dry_run: bool = False,
    ) -> FaultRun:
        if api_key is not None:
            monkeypatch.setenv(KEY_ENV, api_key)
        medusa = dict(medusa or {})
        switches = {k: medusa.pop(k) for k in list(medusa) if k in SyncSettings.model_fields}
        resources = {
            "sync_settings": SyncSettings(**switches),
            "dummyjson": DummyJSONResource(
                base_url=source.base_url, **{**FAST_RETRIES, **(dummyjson or {})}
            ),
            "medusa": MedusaResource(
                backend_url=empty_store.backend_url,
                api_key=dg.EnvVar(KEY_ENV),
                **{**FAST_RETRIES, **medusa},
            ),
        }
        matrix.current.runs += 1
        try:
            return execute(resources, dry_run=dry_run)
        finally:
            monkeypatch.setenv(KEY_ENV, empty_store.api_key)

    return run


def execute(resources: dict[str, Any], *, dry_run: bool = False) -> FaultRun:
    """One materialization of the four assets and the checks; never raises for a failed run."""
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            _assets_and_checks(),
            resources=resources,
            instance=instance,
            run_config={"ops": {"synced_products": {"config": {"dry_run": dry_run}}}},
            raise_on_error=False,
        )
        entries = instance.all_logs(result.run_id)
        records = [*entries, instance.get_run_by_id(result.run_id)]
        serialized = "\n".join(dg.serialize_value(r) for r in records)
    metadata: dict[str, Any] = {}
    materialized = result.asset_materializations_for_node("synced_products")
    if materialized:
        metadata = {k: v.value for k, v in materialized[-1].metadata.items()}
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    errors = [
        e.step_failure_data.error.to_string()
        for e in result.all_events
        if e.is_step_failure and e.step_failure_data.error
    ]
    return FaultRun(
        result,
        metadata,
        checks,
        logs=[e.message for e in entries],
        errors=errors,
        serialized=serialized,
    )


# -- what "converged" means ----------------------------------------------------------------


# What the judge says of products of ours the source does not (or no longer) have.
STRAY_KINDS = ("published, not in the source", "archived without its flag")


@dataclass
class Convergence:
    """The independent judge's verdict (judges/store_reader.py), summed up for the table."""

    expected: int  # valid source products
    differences: list[Difference]

    @property
    def lost(self) -> int:  # valid source products missing from the store
        return sum(d.what == "missing" for d in self.differences)

    @property
    def duplicates(self) -> int:  # external ids and handles held more than once
        kinds = ("duplicate external id", "duplicate handle")
        return sum(d.what in kinds for d in self.differences)

    @property
    def wrong(self) -> dict[int, list[str]]:  # present source products -> what differs
        wrong: dict[int, list[str]] = {}
        for d in self.differences:
            if d.source_id is not None and d.what not in ("missing", *STRAY_KINDS):
                wrong.setdefault(d.source_id, []).append(d.what)
        return wrong

    @property
    def present(self) -> int:  # in the store once, published, every field right
        return self.expected - self.lost - len(self.wrong)

    @property
    def converged(self) -> bool:
        return not self.differences


def measure_convergence(
    store: Store,
    source: CatalogServer,
    foreign: Iterable[dict] | None = None,
    quarantined: Iterable[Any] = (),
) -> Convergence:
    """The store against the catalog as the catalog server serves it right now."""
    read = Source.read(source.base_url)
    skip = {q for q in quarantined if isinstance(q, int)}
    found = store.compare(read, skip=skip, foreign=foreign)
    return Convergence(expected=len(read.records.keys() - skip), differences=found)


def snapshot_foreign(store: Store) -> list[dict]:
    """Products outside our namespace, as they are now (compare later with assert_converged)."""
    return store.snapshot_foreign()


def assert_converged(
    store: Store,
    source: CatalogServer,
    foreign: Iterable[dict] | None = None,
    *,
    quarantined: Iterable[Any] = (),
    row: MatrixRow | None = None,
) -> Convergence:
    """The store is exactly the catalog, by the independent judge's rules: every valid
    product once, published, with its title, handle, category, price, SKU, stock, images
    and tags; no duplicate external ids, handles or categories; nothing of ours published
    that the source no longer has; every foreign product exactly as it was. `quarantined`
    ids are left out of the comparison."""
    found = measure_convergence(store, source, foreign, quarantined)
    if row is not None:
        row.converged, row.duplicates, row.lost = found.converged, found.duplicates, found.lost
    assert found.converged, f"{len(found.differences)} differences:\n" + "\n".join(
        map(str, found.differences[:60])
    )
    return found


def assert_no_duplicates(store: Store, row: MatrixRow | None = None) -> int:
    """No external id of ours twice, no handle twice (any state of the sync)."""
    everything = store.products("id,handle,external_id")
    ext = Counter(p["external_id"] for p in everything if our_source_id(p["external_id"]))
    handles = Counter(p["handle"] for p in everything)
    dupes = sum(n - 1 for n in ext.values()) + sum(n - 1 for n in handles.values())
    if row is not None:
        row.duplicates = max(row.duplicates or 0, dupes)
    assert dupes == 0, {k: n for k, n in (ext + handles).items() if n > 1}
    return dupes


def store_is_empty(store: Store) -> bool:
    return (
        not store.products("id")
        and not store.get("/admin/product-categories", fields="id", limit=1)["product_categories"]
    )
