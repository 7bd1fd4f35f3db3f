"""Who owns a field, against the real store: a merchant's edits in the Medusa admin are
kept or overwritten as the ownership settings say, and reported; a barcode clash costs a
product its barcode, not its place in the store. Judged through the Admin API (and the
Store API for what a shopper sees), not only through the run's own checks."""

from decimal import Decimal

import pytest
import requests

from product_sync_tests.judges.storefront import Storefront

pytestmark = pytest.mark.e2e

FIELDS = (
    "id,handle,external_id,status,title,description,metadata,"
    "variants.sku,variants.barcode,variants.prices.amount,variants.prices.currency_code"
)


def rows(table):
    return [record.data for record in table.records]


def source_record(catalog, source_id):
    response = requests.get(f"{catalog.base_url}/products/{source_id}", timeout=30)
    response.raise_for_status()
    return response.json()


def edit(store, product, body):
    """What a merchant does in the Medusa admin: edit one of our products."""
    store.post(f"/admin/products/{product['id']}", body)


def test_a_product_the_merchant_drafted_stays_drafted(sync, store, catalog, empty_store):
    """The contract, under the default settings: drafted in the admin, still draft after
    the next sync, which still writes the product's other changes."""
    assert all(sync.cold().checks.values())
    product = store.ours(FIELDS)[5]
    shop = Storefront.of(empty_store)
    assert shop.product(product["handle"]) is not None
    edit(store, product, {"status": "draft"})
    (change,) = catalog.mutate("price", ids=[5])["changes"]

    run = sync()
    after = store.ours(FIELDS)[5]
    assert after["status"] == "draft"
    assert store.usd(after) == Decimal(str(change["new"]))  # the source's price still syncs
    assert shop.product(product["handle"]) is None  # a shopper does not see it
    assert run.metadata["merchant_edits_kept"] == 1
    assert run.metadata["merchant_edits_overwritten"] == 0
    (row,) = rows(run.metadata["merchant_edits"])
    assert row == {
        "external_id": "dummyjson:5",
        "handle": product["handle"],
        "field": "status",
        "store_value": "draft",
        "source_value": "published",
        "action": "kept",
    }
    assert all(run.checks.values()), run.checks  # idempotent: a kept edit is not a write

    again = sync()
    assert again.writes == 0
    assert store.ours(FIELDS)[5]["status"] == "draft"
    assert again.checks["idempotent"] and again.metadata["merchant_edits_kept"] == 1


def test_the_sync_still_archives_and_restores_its_own_products(sync, store, catalog):
    sync.cold()
    record = source_record(catalog, 7)
    catalog.mutate("remove", ids=[7])
    archived = sync()
    assert archived.metadata["archived"] == 1
    held = store.ours(FIELDS)[7]
    assert held["status"] == "draft" and held["metadata"]["sync_archived_at"]
    assert archived.metadata["merchant_edits_kept"] == 0  # its own draft is no edit

    catalog.mutate("raw", record=record)  # back in the source
    restored = sync()
    assert restored.metadata["updated"] == 1
    held = store.ours(FIELDS)[7]
    assert held["status"] == "published" and not held["metadata"]["sync_archived_at"]
    assert restored.metadata["merchant_edits_kept"] == 0
    assert all(restored.checks.values()), restored.checks


def test_a_title_the_source_owns_is_put_back_and_reported(sync, store, catalog):
    sync.cold()
    product = store.ours(FIELDS)[3]
    source_title = source_record(catalog, 3)["title"]
    edit(store, product, {"title": "Fixed By The Merchant"})

    run = sync()
    assert store.ours(FIELDS)[3]["title"] == source_title
    assert run.metadata["updated"] == 1
    assert run.metadata["merchant_edits_overwritten"] == 1
    (row,) = rows(run.metadata["merchant_edits"])
    assert (row["external_id"], row["field"], row["action"]) == (
        "dummyjson:3",
        "title",
        "overwritten",
    )
    assert (row["store_value"], row["source_value"]) == ("Fixed By The Merchant", source_title)
    assert all(run.checks.values()), run.checks
    assert sync().metadata["merchant_edits_overwritten"] == 0


def test_a_create_only_title_is_kept_and_reported(sync, store, catalog):
    owned = {"ownership": {"title": "create_only"}}
    sync.cold(**owned)
    before = store.ours(FIELDS)
    edit(store, before[3], {"title": "Fixed By The Merchant"})
    catalog.mutate("title", ids=[4])  # a later source title is not written either
    catalog.mutate("price", ids=[4])

    run = sync(**owned)
    after = store.ours(FIELDS)
    assert after[3]["title"] == "Fixed By The Merchant"
    assert after[4]["title"] == before[4]["title"]
    assert store.usd(after[4]) == Decimal(str(source_record(catalog, 4)["price"]))
    assert run.metadata["merchant_edits_kept"] == 1
    assert run.metadata["merchant_edits_overwritten"] == 0
    (row,) = rows(run.metadata["merchant_edits"])
    assert (row["external_id"], row["field"], row["action"]) == ("dummyjson:3", "title", "kept")
    assert row["store_value"] == "Fixed By The Merchant"
    assert all(run.checks.values()), run.checks

    again = sync(**owned)
    assert again.writes == 0 and again.checks["idempotent"]
    assert again.metadata["merchant_edits_kept"] == 1
    # Given back to the source, the merchant's title is overwritten (and said so).
    back = sync()
    assert store.ours(FIELDS)[3]["title"] == source_record(catalog, 3)["title"]
    assert back.metadata["merchant_edits_overwritten"] == 1


def test_an_ignored_field_is_never_written(sync, store, catalog, empty_store):
    owned = {"ownership": {"description": "ignore", "metadata": "ignore", "stock": "ignore"}}
    run = sync.cold(**owned)
    assert run.metadata["created"] == 194 and all(run.checks.values()), run.checks
    ours = store.ours(FIELDS)
    assert all(not p["description"] for p in ours.values())
    assert all("brand" not in p["metadata"] for p in ours.values())
    assert all(p["metadata"]["dummyjson_id"] == i for i, p in ours.items())
    levels = store.get("/admin/inventory-items", fields="location_levels.id", limit=200)
    assert all(not item["location_levels"] for item in levels["inventory_items"])

    edit(store, ours[8], {"description": "The merchant's words", "metadata": {"brand": "Mine"}})
    catalog.mutate("corrupt", id=8, patch={"description": "A new source description"})
    again = sync(**owned)
    held = store.ours(FIELDS)[8]
    assert held["description"] == "The merchant's words"
    assert held["metadata"]["brand"] == "Mine"
    assert again.metadata["merchant_edits_kept"] + again.metadata["merchant_edits_overwritten"] == 0
    assert all(again.checks.values()), again.checks


def test_a_create_only_stock_level_is_the_merchants_after_create(sync, store, catalog):
    owned = {"ownership": {"stock": "create_only"}}
    assert sync.cold(**owned).metadata["stock_updated"] == 194
    location = store.get("/admin/stock-locations", name="DummyJSON Warehouse")["stock_locations"][0]
    item = store.get(
        "/admin/inventory-items", sku=store.ours(FIELDS)[2]["variants"][0]["sku"], fields="id"
    )["inventory_items"][0]["id"]
    store.post(
        f"/admin/inventory-items/{item}/location-levels/{location['id']}", {"stocked_quantity": 999}
    )
    catalog.mutate("stock", ids=[2], value=3)

    run = sync(**owned)
    assert run.metadata["stock_updated"] == 0
    assert store.stock_levels(location["id"])[item] == 999
    assert all(run.checks.values()), run.checks


def test_a_barcode_clash_drops_the_barcode_not_the_product(sync, store, catalog, empty_store):
    held = source_record(catalog, 10)["meta"]
    twin = source_record(catalog, 11)["meta"]
    catalog.mutate("corrupt", id=11, patch={"meta": {**twin, "barcode": held["barcode"]}})

    run = sync()
    ours = store.ours(FIELDS)
    assert set(ours) >= {10, 11}
    assert ours[10]["variants"][0]["barcode"] == held["barcode"]
    assert ours[11]["variants"][0]["barcode"] is None
    assert ours[11]["status"] == "published"
    assert Storefront.of(empty_store).product(ours[11]["handle"]) is not None
    assert run.metadata["identifiers_dropped"] == 1 and run.metadata["quarantined"] == 0
    assert rows(run.metadata["dropped_identifiers"]) == [
        {"source_id": 11, "field": "barcode", "value": held["barcode"], "held_by": 10}
    ]
    assert all(run.checks.values()), run.checks

    # Fixed upstream, then re-synced by id: the product gets its barcode.
    catalog.mutate("corrupt", id=11, patch={"meta": {**twin, "barcode": "4006381333931"}})
    fixed = sync(product_ids=[11])
    assert fixed.metadata["identifiers_dropped"] == 0 and fixed.metadata["updated"] == 1
    assert store.ours(FIELDS)[11]["variants"][0]["barcode"] == "4006381333931"
    assert all(fixed.checks.values()), fixed.checks


def test_a_sku_clash_quarantines_until_fixed_and_resynced_by_id(sync, store, catalog):
    sku = source_record(catalog, 20)["sku"]
    catalog.mutate("corrupt", id=21, patch={"sku": sku})

    run = sync()
    assert 21 not in store.ours(FIELDS) and store.ours(FIELDS)[20]["variants"][0]["sku"] == sku
    assert run.metadata["quarantined"] == 1
    (row,) = rows(run.metadata["quarantine"])
    assert (row["source_id"], row["field"]) == (21, "sku")
    assert sku in row["reason"] and "20" in row["reason"]
    assert run.checks["no_quarantined_records"] is False

    catalog.mutate("corrupt", id=21, patch={"sku": "FIXED-SKU-21"})
    fixed = sync(product_ids=[21])
    assert fixed.metadata["created"] == 1 and fixed.metadata["quarantined"] == 0
    product = store.ours(FIELDS)[21]
    assert product["variants"][0]["sku"] == "FIXED-SKU-21" and product["status"] == "published"
    assert all(fixed.checks.values()), fixed.checks
