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
* ``matrix`` — the row of the summary table this test fills; ``pytest_terminal_summary``
  prints the whole table at the end of the session.
"""

from __future__ import annotations

import socket
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import dagster as dg
import pytest

from devstack.catalog.server import CatalogServer
from devstack.stack import Stack, StackInfo
from product_sync.core.handles import base_handle
from product_sync.defs.catalog_sync.settings import SyncSettings
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.medusa import MedusaResource
from product_sync_tests.conftest import REPO_ROOT
from product_sync_tests.e2e.conftest import Store, SyncRun, _assets_and_checks

PREFIX = "dummyjson:"
STOCK_LOCATION = "DummyJSON Warehouse"
KEY_ENV = "PRODUCT_SYNC_FAULTS_MEDUSA_API_KEY"
FAST_RETRIES = {"initial_backoff_s": 0.01, "max_backoff_s": 0.05}
STORE_FIELDS = (
    "id,handle,external_id,status,title,updated_at,thumbnail,images.url,categories.handle,"
    "variants.id,variants.sku,variants.prices.amount,variants.prices.currency_code,metadata,"
    "sales_channels.id,variants.inventory_items.inventory_item_id"
)
# Watch what foreign products would lose if anything touched them.
FOREIGN_FIELDS = "id,handle,external_id,status,title,updated_at,metadata,variants.sku"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "faults: fault matrix (issue 6 §2) against the real store; also marked e2e",
    )


# -- the summary table ---------------------------------------------------------------------


@dataclass
class MatrixRow:
    scenario: str
    runs: int = 0
    converged: bool | None = None
    duplicates: int | None = None
    lost: int | None = None
    note: str = ""
    seconds: float = 0.0
    outcome: str = "?"  # the test's node id until the summary puts its outcome here
    steps: list[MatrixRow] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def step(self, scenario: str) -> MatrixRow:
        """A scenario of its own inside this test (a chain of scenarios on one store)."""
        self._close_step()
        row = MatrixRow(scenario=scenario, outcome=self.outcome)
        self.steps.append(row)
        return row

    @property
    def current(self) -> MatrixRow:
        return self.steps[-1] if self.steps else self

    def _close_step(self) -> None:
        if self.steps:
            self.steps[-1].seconds = time.perf_counter() - self.steps[-1].started


ROWS: list[MatrixRow] = []
_OUTCOMES: dict[str, str] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        outcome = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.outcome == "skipped" else "xpassed"
        _OUTCOMES[report.nodeid] = outcome


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not ROWS:
        return
    for row in ROWS:
        row.outcome = _OUTCOMES.get(row.outcome, row.outcome)
    header = ("scenario", "runs", "converged", "duplicates", "lost", "s", "test", "note")

    def show(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, bool):
            return "yes" if value else "NO"
        if isinstance(value, float):
            return f"{value:.1f}"
        return str(value)

    keys = ("scenario", "runs", "converged", "duplicates", "lost", "seconds", "outcome", "note")
    table = [[show(getattr(row, key)) for key in keys] for row in ROWS]
    widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(header)]
    terminalreporter.section("fault matrix")
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    terminalreporter.write_line(line)
    terminalreporter.write_line("-" * len(line))
    for cells in table:
        terminalreporter.write_line(
            "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
        )
    total = sum(r.seconds for r in ROWS)
    terminalreporter.write_line(f"{len(ROWS)} scenarios, {total:.0f} s in the scenarios")


@pytest.fixture
def matrix(request: pytest.FixtureRequest) -> Iterator[MatrixRow]:
    row = MatrixRow(scenario=request.node.name.removeprefix("test_"), outcome=request.node.nodeid)
    yield row
    row.seconds = time.perf_counter() - row.started
    row._close_step()
    ROWS.extend(row.steps or [row])


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
    stack = Stack(REPO_ROOT)
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


@dataclass
class Convergence:
    expected: int  # valid source products
    present: int  # of those, in the store once, published, every field right
    lost: int  # valid source products missing from the store
    duplicates: int  # extra products per external id + extra holders per handle
    wrong: dict[int, list[str]]  # source id -> fields that differ
    stray: list[int]  # ours, published, but not (or no longer) in the source
    foreign_touched: list[str]  # foreign product ids that changed or vanished
    category_duplicates: int
    stock_location: str  # "ok", or what is wrong with the sync's stock location

    @property
    def converged(self) -> bool:
        return (
            self.present == self.expected
            and not self.lost
            and not self.duplicates
            and not self.wrong
            and not self.stray
            and not self.foreign_touched
            and not self.category_duplicates
            and self.stock_location == "ok"
        )


def our_source_id(external_id: Any) -> int | None:
    """The test's own reading of ownership: our prefix, then a canonical decimal id."""
    if not isinstance(external_id, str) or not external_id.startswith(PREFIX):
        return None
    rest = external_id[len(PREFIX) :]
    if rest.isascii() and rest.isdigit() and not rest.startswith("0"):
        return int(rest)
    return None


def expected_products(source: CatalogServer, quarantined: Iterable[Any] = ()) -> dict[int, dict]:
    """The source as the store should hold it: every record with a usable id, first copy of
    a repeated id, minus the ids the test knows are quarantined."""
    skip = set(quarantined)
    wanted: dict[int, dict] = {}
    for record in source.catalog.records():
        if not isinstance(record, dict):
            continue
        source_id = record.get("id")
        if type(source_id) is not int or source_id <= 0 or source_id in skip:
            continue
        wanted.setdefault(source_id, record)
    return wanted


def _handle_fits(handle: str, source_id: int, title: str) -> bool:
    base = base_handle(source_id, title.strip())
    if handle == base:
        return True
    suffix = handle.removeprefix(base + "-")
    return handle.startswith(base + "-") and suffix.isdigit()


def _differences(product: dict, src: dict, world: dict[str, Any]) -> list[str]:
    wrong = []
    if [c["id"] for c in product.get("sales_channels") or []] != [world["channel"]]:
        wrong.append("sales_channel")
    if product["status"] != "published":
        wrong.append("status")
    if product["title"] != src["title"].strip():
        wrong.append("title")
    if not _handle_fits(product["handle"], src["id"], src["title"]):
        wrong.append("handle")
    if [c["handle"] for c in product.get("categories") or []] != [src["category"]]:
        wrong.append("category")
    variants = product.get("variants") or []
    if len(variants) != 1:
        wrong.append("variants")
    else:
        usd = [p for p in variants[0].get("prices") or [] if p["currency_code"] == "usd"]
        if [Decimal(str(p["amount"])) for p in usd] != [Decimal(str(src["price"]))]:
            wrong.append("price")
        if variants[0].get("sku") != src.get("sku"):
            wrong.append("sku")
        items = [i["inventory_item_id"] for i in variants[0].get("inventory_items") or []]
        if len(items) != 1:
            wrong.append("inventory_item")
        elif world["stock"].get(items[0]) != src.get("stock"):
            wrong.append("stock")
    if sorted(i["url"] for i in product.get("images") or []) != sorted(src.get("images") or []):
        wrong.append("images")
    return wrong


def snapshot_foreign(store: Store) -> list[dict]:
    """Products outside our namespace, as they are now (compare later with assert_converged)."""
    return [p for p in store.products(FOREIGN_FIELDS) if our_source_id(p["external_id"]) is None]


def measure_convergence(
    store: Store,
    source: CatalogServer,
    foreign: Iterable[dict] = (),
    quarantined: Iterable[Any] = (),
) -> Convergence:
    skip = set(quarantined)
    wanted = expected_products(source, skip)
    everything = store.products(STORE_FIELDS)
    ours: dict[int, list[dict]] = {}
    for product in everything:
        source_id = our_source_id(product.get("external_id"))
        if source_id is not None:
            ours.setdefault(source_id, []).append(product)
    handles = Counter(p["handle"] for p in everything)
    duplicates = sum(len(v) - 1 for v in ours.values()) + sum(n - 1 for n in handles.values())

    world = {
        "channel": store.get("/admin/stores", fields="default_sales_channel_id")["stores"][0][
            "default_sales_channel_id"
        ],
        "stock": stock_at_warehouse(store),
    }
    wrong: dict[int, list[str]] = {}
    present = lost = 0
    for source_id, src in wanted.items():
        held = ours.get(source_id, [])
        if not held:
            lost += 1
            continue
        diffs = _differences(held[0], src, world)
        if diffs:
            wrong[source_id] = diffs
        else:
            present += 1
    stray = sorted(
        source_id
        for source_id, held in ours.items()
        if source_id not in wanted
        and source_id not in skip
        and any(p["status"] == "published" for p in held)
    )

    now = {p["id"]: p for p in store.products(FOREIGN_FIELDS)}
    touched = [f["id"] for f in foreign if now.get(f["id"]) != f]

    categories = store.get("/admin/product-categories", fields="id,handle", limit=1000)
    counts = Counter(c["handle"] for c in categories["product_categories"])
    return Convergence(
        stock_location=stock_location_state(store),
        expected=len(wanted),
        present=present,
        lost=lost,
        duplicates=duplicates,
        wrong=wrong,
        stray=stray,
        foreign_touched=touched,
        category_duplicates=sum(n - 1 for n in counts.values()),
    )


def stock_at_warehouse(store: Store) -> dict[str, int]:
    """Inventory item id -> stocked quantity at the sync's stock location."""
    rows = store.get("/admin/stock-locations", name=STOCK_LOCATION, fields="id")["stock_locations"]
    if not rows:
        return {}
    return store.stock_levels(rows[0]["id"])


def stock_location_state(store: Store) -> str:
    """The sync's stock location exists once and is available to the default sales
    channel (otherwise storefronts see no stock)."""
    rows = store.get(
        "/admin/stock-locations", name=STOCK_LOCATION, fields="id,name,sales_channels.id"
    )["stock_locations"]
    rows = [r for r in rows if r["name"] == STOCK_LOCATION]
    if len(rows) != 1:
        return f"{len(rows)} stock locations named {STOCK_LOCATION!r}"
    channel = store.get("/admin/stores", fields="default_sales_channel_id")["stores"][0][
        "default_sales_channel_id"
    ]
    if channel not in {c["id"] for c in rows[0].get("sales_channels") or []}:
        return "stock location not linked to the default sales channel"
    return "ok"


def assert_converged(
    store: Store,
    source: CatalogServer,
    foreign: Iterable[dict] = (),
    *,
    quarantined: Iterable[Any] = (),
    row: MatrixRow | None = None,
) -> Convergence:
    """The store is exactly the catalog: every valid product once, published, with its
    title, handle, category, price, SKU and images; no duplicate external ids, handles or
    categories; nothing of ours published that the source no longer has; every foreign
    product exactly as it was. `quarantined` ids are left out of the comparison."""
    found = measure_convergence(store, source, list(foreign), quarantined)
    if row is not None:
        row.converged, row.duplicates, row.lost = found.converged, found.duplicates, found.lost
    assert found.converged, found
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
