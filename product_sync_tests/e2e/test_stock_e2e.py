"""Stock levels against the real store: the sync takes inventory item ids from the index
and from its write answers, and still compares every level on every run."""

import pytest
import requests

pytestmark = pytest.mark.e2e

WAREHOUSE = "DummyJSON Warehouse"


def source_stock(catalog) -> dict[int, int]:
    listed = requests.get(f"{catalog.base_url}/products", params={"limit": 0}, timeout=30)
    return {p["id"]: p["stock"] for p in listed.json()["products"]}


def warehouse(store) -> str:
    (row,) = store.get("/admin/stock-locations", name=WAREHOUSE, fields="id")["stock_locations"]
    return row["id"]


def stock_in_store(store) -> dict[int, tuple[str, int | None]]:
    """Source id -> (inventory item id, stocked quantity at the warehouse)."""
    location = warehouse(store)
    items = {
        source_id: p["variants"][0]["inventory_items"][0]["inventory_item_id"]
        for source_id, p in store.ours(
            "id,external_id,variants.inventory_items.inventory_item_id"
        ).items()
    }
    levels = store.stock_levels(location)
    return {source_id: (item, levels.get(item)) for source_id, item in items.items()}


def test_stock_of_new_and_existing_products_follows_the_source(sync, store, catalog, judge):
    first = sync.cold()
    assert first.metadata["created"] == 194 and first.metadata["stock_updated"] == 194
    assert judge() == []
    held = stock_in_store(store)
    assert {k: q for k, (_, q) in held.items()} == source_stock(catalog)

    # Stock changes that keep each product's availability: the products stay unchanged.
    stocked = [k for k, q in sorted(source_stock(catalog).items()) if q >= 10 and k > 6][:2]
    for source_id in stocked:
        catalog.mutate("stock", ids=[source_id], value=source_stock(catalog)[source_id] + 1)
    catalog.mutate("price", ids=[5])
    (added,) = catalog.mutate("add", count=1)["changes"]
    item_6 = held[6][0]
    store.post(
        f"/admin/inventory-items/{item_6}/location-levels/{warehouse(store)}",
        {"stocked_quantity": 9999},
    )  # a hand edit of a level: put right although product 6 did not change

    run = sync()
    assert (run.metadata["created"], run.metadata["updated"]) == (1, 1)
    assert run.metadata["stock_updated"] == 4  # the two, 6 and the new product
    assert judge() == []
    assert all(run.checks.values()), run.checks
    after = stock_in_store(store)
    assert {k: q for k, (_, q) in after.items()} == source_stock(catalog)
    assert after[added["id"]][1] is not None

    again = sync()
    assert again.writes == 0 and again.metadata["stock_updated"] == 0
    assert judge() == []
    assert all(again.checks.values()), again.checks
