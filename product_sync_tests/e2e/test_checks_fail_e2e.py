"""Each asset check on a store broken on purpose after a clean sync: the check fails and
names what is wrong, and the independent judge sees the same break.

The checks run alone (the assets' outputs of the sync are loaded back from the
filesystem IO manager), so no write of a new sync can mend the store before they look.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from devstack.catalog.server import CatalogServer
from devstack.stack import Stack, StackInfo
from product_sync.defs.catalog_sync.settings import SyncSettings
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.medusa import MedusaResource
from product_sync_tests.e2e.conftest import Store, _assets_and_checks

pytestmark = pytest.mark.e2e

OPTIONS = [{"title": "Default", "values": ["Default Option"]}]
FIELDS = (
    "id,handle,external_id,categories.id,categories.handle,variants.id,"
    "variants.prices.amount,variants.prices.currency_code,"
    "variants.inventory_items.inventory_item_id"
)


@pytest.fixture
def catalog() -> Iterator[CatalogServer]:
    with CatalogServer(seed=42, count=30) as server:
        yield server


@dataclass
class Checks:
    """The sync once, then its asset checks alone, as often as a test likes."""

    info: StackInfo
    catalog: CatalogServer
    storage: Path

    def _run(self, selection: dg.AssetSelection | None) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            _assets_and_checks(),
            selection=selection,
            resources={
                "sync_settings": SyncSettings(),
                "dummyjson": DummyJSONResource(base_url=self.catalog.base_url),
                "medusa": MedusaResource(
                    backend_url=self.info.backend_url, api_key=self.info.api_key
                ),
                "io_manager": dg.FilesystemIOManager(base_dir=str(self.storage)),
            },
            # Blocking checks that fail raise; here failing is the point.
            raise_on_error=selection is None,
        )

    def sync(self) -> dict[str, bool]:
        return {e.check_name: e.passed for e in self._run(None).get_asset_check_evaluations()}

    def run_checks(self) -> dict[str, tuple[bool, dict[str, Any]]]:
        result = self._run(dg.AssetSelection.all_asset_checks())
        assert not result.asset_materializations_for_node("synced_products"), "not alone"
        return {
            e.check_name: (e.passed, {k: v.value for k, v in e.metadata.items()})
            for e in result.get_asset_check_evaluations()
        }


@pytest.fixture
def checks(empty_store: StackInfo, catalog: CatalogServer, tmp_path: Path) -> Checks:
    return Checks(empty_store, catalog, tmp_path)


@dataclass
class Break:
    """A way to break the store: it returns the offending values the check must list, and
    registers whatever puts the store's schema back on `undo`."""

    check: str
    apply: Callable[[Store, dict[int, dict], list[Callable[[], None]]], list[Any]]
    # Other checks the break fails too, for a reason (see each break).
    also: set[str] = field(default_factory=set)
    judged: str = ""  # what the independent judge calls it


def duplicate_external_id(store, ours, undo):
    store.post(
        "/admin/products",
        {
            "title": "A copy of 5",
            "handle": "a-copy-of-5",
            "external_id": "dummyjson:5",
            "status": "published",
            "options": OPTIONS,
        },
    )
    return ["dummyjson:5"]


def duplicate_handle(store, ours, undo):
    """Medusa keeps handles unique with an index, so no API call can break this: drop the
    index in this store's database, give product 7 product 6's handle, put both back."""
    pg = Stack().postgres()
    assert pg is not None, "the dev stack's PostgreSQL is not running"
    (index,) = pg.psql(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'IDX_product_handle_unique'",
        database="medusa",
    ).splitlines()
    taken, own = ours[6]["handle"], ours[7]["handle"]
    pg.psql('DROP INDEX "IDX_product_handle_unique"', database="medusa")
    pg.psql(f"UPDATE product SET handle = '{taken}' WHERE id = '{ours[7]['id']}'", "medusa")

    def restore() -> None:
        pg.psql(f"UPDATE product SET handle = '{own}' WHERE id = '{ours[7]['id']}'", "medusa")
        pg.psql(index, database="medusa")

    undo.append(restore)
    return [taken]


def wrong_price(store, ours, undo):
    product = ours[8]
    (variant,) = product["variants"]
    store.post(
        f"/admin/products/{product['id']}/variants/{variant['id']}",
        {"prices": [{"amount": float(store.usd(product)) + 1, "currency_code": "usd"}]},
    )
    return [8]


def missing_product(store, ours, undo):
    store.delete(f"/admin/products/{ours[9]['id']}")
    return [9]


def stock_off(store, ours, undo):
    (location,) = store.stock_locations()
    item = ours[10]["variants"][0]["inventory_items"][0]["inventory_item_id"]
    level = store.stock_levels(location["id"])[item]
    store.post(
        f"/admin/inventory-items/{item}/location-levels/{location['id']}",
        {"stocked_quantity": level + 7},
    )
    return [item]


def category_missing(store, ours, undo):
    (category,) = ours[11]["categories"]
    store.delete(f"/admin/product-categories/{category['id']}")
    return sorted(k for k, p in ours.items() if p["categories"][0]["id"] == category["id"])


BREAKS = {
    "duplicate external id": Break(
        "no_duplicate_external_ids",
        duplicate_external_id,
        # The copy is a second published product 5, with no category and no price.
        also={"every_source_product_present_once", "categories_linked", "prices_match_source"},
        judged="duplicate external id",
    ),
    # Product 7's written content included its handle: a fresh plan writes it again.
    "duplicate handle": Break(
        "no_duplicate_handles", duplicate_handle, also={"idempotent"}, judged="duplicate handle"
    ),
    # A fresh plan puts the price right: the run was not idempotent either.
    "wrong price": Break("prices_match_source", wrong_price, also={"idempotent"}, judged="price"),
    # A fresh plan creates it again.
    "missing product": Break(
        "every_source_product_present_once", missing_product, also={"idempotent"}, judged="missing"
    ),
    "stock off": Break("stock_matches_source", stock_off, judged="stock"),
    # The index now reads each product's category (drift detection), so a fresh plan also
    # wants to write the link again: the idempotency check sees a pending write too.
    "category missing": Break(
        "categories_linked", category_missing, also={"idempotent"}, judged="category"
    ),
}


@pytest.mark.parametrize("name", list(BREAKS))
def test_check_fails_on_a_broken_store(name, checks, store, catalog):
    broken = BREAKS[name]
    synced = checks.sync()
    assert all(synced.values()), synced
    assert store.compare(catalog.base_url) == []
    baseline = checks.run_checks()
    assert all(passed for passed, _ in baseline.values()), baseline

    undo: list[Callable[[], None]] = []
    try:
        offending = broken.apply(store, store.ours(FIELDS), undo)
        found = checks.run_checks()
        judged = {d.what for d in store.compare(catalog.base_url)}
    finally:
        for step in undo:
            step()

    failed = {check for check, (passed, _) in found.items() if not passed}
    assert failed == {broken.check, *broken.also}, found
    _, metadata = found[broken.check]
    listed = [row.data["offending"] for row in metadata["offending"].records]
    assert listed == [str(o) for o in offending] and metadata["count"] == len(offending)
    assert broken.judged in judged, judged
