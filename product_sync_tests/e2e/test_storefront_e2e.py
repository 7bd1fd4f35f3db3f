"""The synced store judged by its real client: a storefront on Medusa's Store API.

Each test syncs the local catalog into the (reset) local store, then shops there as a
storefront does (`product_sync_tests/judges/storefront.py`): lists the catalog priced for
the US region, and buys through cart, address, shipping, payment and completion. What a
shopper should see comes from the catalog server's raw JSON, never from the sync's own
mapping; stock and orders are read back independently through the Admin API.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import requests

from devstack.catalog.control import CatalogControl
from devstack.stack import StackInfo
from product_sync.names import STOCK_LOCATION_NAME
from product_sync_tests.judges.storefront import Price, StoreAPIError, Storefront, price_of

pytestmark = pytest.mark.e2e

CURRENCY = "usd"
LEVEL_FIELDS = (
    "id,sku,location_levels.location_id,location_levels.stocked_quantity,"
    "location_levels.reserved_quantity,location_levels.available_quantity"
)


# -- what a shopper should see, from the source's raw records --------------------------------


def source_records(catalog) -> dict[int, dict[str, Any]]:
    """The catalog server's products, as its API serves them (source id -> record)."""
    resp = requests.get(f"{catalog.base_url}/products", params={"limit": 0}, timeout=30)
    resp.raise_for_status()
    return {r["id"]: r for r in resp.json()["products"]}


def expected_price(record: dict[str, Any]) -> Price:
    """The price a storefront should show for one source record: the one place that says
    what a shopper pays. Where the source discounts, the sale price, price × (1 − d/100)
    rounded half-up to the cent, with the base price struck through (`original`)."""
    base = Decimal(str(record["price"]))
    discount = Decimal(str(record.get("discountPercentage") or 0))
    sale = (base * (1 - discount / 100)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    paid = sale if 0 < discount < 100 and 0 < sale < base else base
    return Price(calculated=paid, original=base, currency_code=CURRENCY)


@dataclass(frozen=True)
class Listed:
    """One product as a shopper sees it."""

    title: str
    price: Price
    stock: int


def expected_listing(records: dict[int, dict[str, Any]]) -> dict[str, Listed]:
    """SKU -> what the storefront should list for it."""
    return {
        r["sku"]: Listed(title=r["title"], price=expected_price(r), stock=r["stock"])
        for r in records.values()
    }


# -- what the storefront and the admin show --------------------------------------------------


def storefront_by_sku(storefront: Storefront) -> dict[str, list[dict[str, Any]]]:
    """Variant SKU -> the listed products holding it (more than one is a duplicate)."""
    by_sku: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for product in storefront.products():
        for variant in product["variants"]:
            by_sku[variant["sku"]].append(product)
    return dict(by_sku)


def listed(product: dict[str, Any]) -> Listed:
    (variant,) = product["variants"]
    return Listed(
        title=product["title"], price=price_of(variant), stock=variant["inventory_quantity"]
    )


def variant_of(product: dict[str, Any]) -> str:
    (variant,) = product["variants"]
    return variant["id"]


def levels_at_warehouse(store, skus: list[str]) -> dict[str, dict[str, int]]:
    """SKU -> stocked / reserved / available quantity at the sync's stock location."""
    (location,) = store.get("/admin/stock-locations", name=STOCK_LOCATION_NAME, fields="id")[
        "stock_locations"
    ]
    rows = store.get("/admin/inventory-items", **{"sku[]": skus}, fields=LEVEL_FIELDS)
    levels = {}
    for item in rows["inventory_items"]:
        (here,) = [x for x in item["location_levels"] if x["location_id"] == location["id"]]
        levels[item["sku"]] = {
            k: here[f"{k}_quantity"] for k in ("stocked", "reserved", "available")
        }
    assert sorted(levels) == sorted(skus), levels
    return levels


def order_lines(order: dict[str, Any]) -> list[tuple[str, int, Decimal]]:
    return sorted(
        (i["variant_id"], i["quantity"], Decimal(str(i["unit_price"]))) for i in order["items"]
    )


def default_shipping_profile(store) -> str:
    rows = store.get("/admin/shipping-profiles", fields="id,type")["shipping_profiles"]
    (profile,) = [p["id"] for p in rows if p["type"] == "default"]
    return profile


@pytest.fixture
def storefront(empty_store: StackInfo) -> Storefront:
    return Storefront.of(empty_store)


def synced(sync, judge, **settings: Any):
    """A run that succeeded, with the admin-side judge and the checks content."""
    run = sync(**settings)
    assert run.result.success and run.metadata["errors"] == 0, run.metadata
    assert judge() == []
    assert all(run.checks.values()), run.checks
    return run


# -- the tests -------------------------------------------------------------------------------


def test_every_synced_product_is_on_the_storefront_once_at_its_price(
    sync, judge, catalog, storefront
):
    synced(sync.cold, judge)
    want = expected_listing(source_records(catalog))

    by_sku = storefront_by_sku(storefront)
    doubled = {sku: len(products) for sku, products in by_sku.items() if len(products) > 1}
    assert not doubled, f"listed more than once: {doubled}"
    shown = {sku: listed(products[0]) for sku, products in by_sku.items()}
    assert sorted(shown) == sorted(want)
    wrong = {sku: (shown[sku], want[sku]) for sku in want if shown[sku] != want[sku]}
    assert not wrong, f"{len(wrong)} products shown wrong (shown, expected): {wrong}"


def test_shoppers_buy_products_and_the_stock_at_the_location_goes_down(
    sync, judge, catalog, storefront, store, empty_store
):
    synced(sync.cold, judge)
    records = source_records(catalog)
    by_sku = storefront_by_sku(storefront)
    in_stock = [r for _, r in sorted(records.items()) if r["stock"] >= 3]
    basket = list(zip(in_stock[:3], (1, 2, 3), strict=True))  # (record, quantity)
    skus = [r["sku"] for r, _ in basket]
    assert levels_at_warehouse(store, skus) == {
        r["sku"]: {"stocked": r["stock"], "reserved": 0, "available": r["stock"]} for r, _ in basket
    }

    orders = []
    for record, quantity in basket:
        variant = variant_of(by_sku[record["sku"]][0])
        order = storefront.buy([(variant, quantity)], email=f"buyer-{record['id']}@example.com")
        assert order["currency_code"] == CURRENCY
        assert order_lines(order) == [(variant, quantity, expected_price(record).calculated)]
        orders.append((order["id"], record, quantity))

    # The orders as the merchant sees them, and the stock each one took.
    for order_id, record, quantity in orders:
        held = store.get(f"/admin/orders/{order_id}", fields="id,email,status,*items")["order"]
        assert held["email"] == f"buyer-{record['id']}@example.com"
        assert [(i["variant_sku"], i["quantity"]) for i in held["items"]] == [
            (record["sku"], quantity)
        ]
    assert levels_at_warehouse(store, skus) == {
        r["sku"]: {"stocked": r["stock"], "reserved": q, "available": r["stock"] - q}
        for r, q in basket
    }
    after = storefront_by_sku(storefront)
    assert [listed(after[r["sku"]][0]).stock for r, _ in basket] == [
        r["stock"] - q for r, q in basket
    ]

    # Orders are the store's business: the next sync leaves products and stock alone.
    again = synced(sync, judge)
    assert again.writes == 0 and again.metadata["stock_updated"] == 0, again.metadata


def test_stock_zero_is_refused_at_add_to_cart_unless_backorders_are_allowed(
    sync, judge, catalog, storefront, store
):
    synced(sync.cold, judge)
    records = source_records(catalog)
    sold_out = [r for _, r in sorted(records.items()) if r["stock"] == 0]
    assert sold_out, "the catalog has no product out of stock"
    record = sold_out[0]
    (product,) = storefront_by_sku(storefront)[record["sku"]]
    assert listed(product).stock == 0

    cart = storefront.create_cart()
    with pytest.raises(StoreAPIError) as refused:
        storefront.add_item(cart["id"], variant_of(product))
    assert refused.value.status == 400 and "inventory" in refused.value.message
    assert storefront.cart(cart["id"])["items"] == []

    # The operator allows backorders: every product is updated once, then it sells.
    allowed = synced(sync, judge, allow_backorder=True)
    assert allowed.metadata["updated"] == len(records), allowed.metadata
    order = storefront.buy([(variant_of(product), 1)])
    assert order_lines(order) == [(variant_of(product), 1, expected_price(record).calculated)]
    assert synced(sync, judge, allow_backorder=True).writes == 0

    # Availability and the minimum order quantity stay information for the storefront.
    (held,) = storefront.get("/store/products", handle=product["handle"], fields="id,metadata")[
        "products"
    ]
    assert held["metadata"]["availability_status"] == record["availabilityStatus"]
    assert held["metadata"]["minimum_order_quantity"] == record["minimumOrderQuantity"]


def test_upstream_price_change_and_removal_reach_the_storefront(sync, judge, catalog, storefront):
    synced(sync.cold, judge)
    records = source_records(catalog)
    in_stock = [r for _, r in sorted(records.items()) if r["stock"] >= 2]
    repriced, removed = in_stock[0], in_stock[1]
    by_sku = storefront_by_sku(storefront)
    (gone,) = by_sku[removed["sku"]]
    old_price = expected_price(repriced).original

    control = CatalogControl(catalog.base_url)
    new_value = float(old_price + Decimal("1.25"))
    control.mutate("price", ids=[repriced["id"]], value=new_value)
    control.mutate("remove", ids=[removed["id"]])
    run = synced(sync, judge)
    assert (run.metadata["updated"], run.metadata["archived"]) == (1, 1), run.metadata

    now = source_records(catalog)
    assert removed["id"] not in now
    assert expected_price(now[repriced["id"]]).original == old_price + Decimal("1.25")
    new_price = expected_price(now[repriced["id"]]).calculated
    after = storefront_by_sku(storefront)
    assert listed(after[repriced["sku"]][0]).price == expected_price(now[repriced["id"]])

    cart = storefront.create_cart()
    cart = storefront.add_item(cart["id"], variant_of(after[repriced["sku"]][0]))
    assert [Decimal(str(i["unit_price"])) for i in cart["items"]] == [new_price]
    order = storefront.checkout(cart["id"])
    assert [line[2] for line in order_lines(order)] == [new_price]

    # The removed product is archived: not listed, no product page, not for sale.
    assert removed["sku"] not in after
    assert storefront.product(gone["handle"]) is None
    with pytest.raises(StoreAPIError) as refused:
        storefront.add_item(storefront.create_cart()["id"], variant_of(gone))
    assert refused.value.status in (400, 404)
    assert sorted(after) == sorted(r["sku"] for r in now.values())


def test_products_synced_without_a_shipping_profile_are_mended_once_and_then_sell(
    sync, judge, catalog, storefront, store
):
    """As an earlier version of the sync left them: no shipping profile, and a content
    hash computed without one. No cart holding one can be completed."""
    synced(sync.cold, judge)
    records = source_records(catalog)
    in_stock = [r for _, r in sorted(records.items()) if r["stock"] >= 1][:3]
    ours = store.ours("id,external_id,shipping_profile.id")
    profile = default_shipping_profile(store)
    assert {p["shipping_profile"]["id"] for p in ours.values()} == {profile}
    for record in in_stock:
        store.post(
            f"/admin/products/{ours[record['id']]['id']}",
            {"shipping_profile_id": None, "metadata": {"sync_hash": "before-shipping-profiles"}},
        )
    unmended = store.ours("id,external_id,shipping_profile.id")
    assert [unmended[r["id"]].get("shipping_profile") for r in in_stock] == [None] * 3

    by_sku = storefront_by_sku(storefront)
    first = variant_of(by_sku[in_stock[0]["sku"]][0])
    cart = storefront.create_cart()
    storefront.add_item(cart["id"], first)
    with pytest.raises(StoreAPIError) as refused:
        storefront.checkout(cart["id"])
    assert "shipping profiles" in refused.value.message

    mend = synced(sync, judge)
    assert mend.metadata["updated"] == len(in_stock), mend.metadata
    mended = store.ours("id,external_id,shipping_profile.id")
    assert {p["shipping_profile"]["id"] for p in mended.values()} == {profile}
    assert synced(sync, judge).writes == 0

    items = [(variant_of(by_sku[r["sku"]][0]), 1) for r in in_stock]
    order = storefront.buy(items)
    assert order_lines(order) == sorted(
        (variant, 1, expected_price(r).calculated)
        for (variant, _), r in zip(items, in_stock, strict=True)
    )


# -- a native catalog: sale prices, tags, brand collections ----------------------------------


def skus_of(products: list[dict[str, Any]]) -> set[str]:
    return {variant["sku"] for product in products for variant in product["variants"]}


def source_skus_by(records: dict[int, dict[str, Any]], key: str) -> dict[str, set[str]]:
    """Tag value (key "tags") or brand (key "brand") -> the SKUs the source gives it."""
    grouped: dict[str, set[str]] = defaultdict(set)
    for record in records.values():
        values = record.get(key) or []
        for value in [values] if isinstance(values, str) else values:
            grouped[value].add(record["sku"])
    return dict(grouped)


def test_discounted_products_sell_at_the_sale_price_with_the_base_price_struck_through(
    sync, judge, catalog, storefront
):
    run = synced(sync.cold, judge)
    records = source_records(catalog)
    on_sale = [r for _, r in sorted(records.items()) if expected_price(r).calculated < r["price"]]
    assert len(on_sale) > len(records) / 2, "the catalog should discount most products"
    assert run.metadata["sale_prices_written"] == len(on_sale), run.metadata
    by_sku = storefront_by_sku(storefront)
    for record in on_sale:
        (product,) = by_sku[record["sku"]]
        shown = listed(product).price
        assert shown == expected_price(record), record["id"]
        assert shown.original == Decimal(str(record["price"])) > shown.calculated

    # A shopper pays the sale price.
    record = next(r for r in on_sale if r["stock"] >= 1)
    variant = variant_of(by_sku[record["sku"]][0])
    order = storefront.buy([(variant, 1)])
    assert order_lines(order) == [(variant, 1, expected_price(record).calculated)]

    again = synced(sync, judge)
    assert again.writes == 0, again.metadata
    assert (again.metadata["sale_prices_written"], again.metadata["sale_prices_removed"]) == (0, 0)


def test_tags_and_brand_collections_are_browsable_on_the_storefront(
    sync, judge, catalog, storefront
):
    run = synced(sync.cold, judge)
    records = source_records(catalog)
    by_tag, by_brand = source_skus_by(records, "tags"), source_skus_by(records, "brand")
    assert run.metadata["tags_created"] == len(by_tag), run.metadata
    assert run.metadata["collections_created"] == len(by_brand), run.metadata

    tags = {t["value"]: t["id"] for t in storefront.product_tags()}
    assert sorted(tags) == sorted(by_tag)
    for value, want in sorted(by_tag.items()):
        assert skus_of(storefront.products_tagged(tags[value])) == want, value

    collections = {c["title"]: c for c in storefront.collections()}
    assert sorted(collections) == sorted(by_brand)
    for brand, want in sorted(by_brand.items()):
        collection = collections[brand]
        assert skus_of(storefront.products_in_collection(collection["id"])) == want, brand
    # Handles are the brand's slug, so a storefront's /brands/<handle> page is readable.
    assert collections["Maison Élise"]["handle"] == "maison-elise"
    assert collections["Hartley & Sons"]["handle"] == "hartley-sons"

    unbranded = {r["sku"] for r in records.values() if not r.get("brand")}
    assert unbranded, "the catalog should have products without a brand"
    listed_products = {skus_of([p]).pop(): p for p in storefront.products()}
    assert {listed_products[sku]["collection_id"] for sku in unbranded} == {None}


def test_a_discount_removed_upstream_brings_back_the_base_price(sync, judge, catalog, storefront):
    synced(sync.cold, judge)
    records = source_records(catalog)
    record = next(
        r
        for _, r in sorted(records.items())
        if r["stock"] >= 1 and expected_price(r).calculated < r["price"]
    )
    (product,) = storefront_by_sku(storefront)[record["sku"]]
    assert listed(product).price.calculated < listed(product).price.original

    catalog.mutate("corrupt", ids=[record["id"]], patch={"discountPercentage": 0})
    run = synced(sync, judge)
    assert (run.metadata["sale_prices_removed"], run.metadata["sale_prices_written"]) == (1, 0)

    base = Decimal(str(record["price"]))
    now = source_records(catalog)[record["id"]]
    after = storefront.product(product["handle"])
    assert listed(after).price == expected_price(now) == Price(base, base, CURRENCY)
    cart = storefront.add_item(storefront.create_cart()["id"], variant_of(after))
    assert [Decimal(str(i["unit_price"])) for i in cart["items"]] == [base]

    again = synced(sync, judge)
    assert again.writes == 0 and again.metadata["sale_prices_removed"] == 0, again.metadata


def test_a_brand_change_upstream_moves_the_product_to_the_new_collection(
    sync, judge, catalog, storefront
):
    synced(sync.cold, judge)
    records = source_records(catalog)
    branded = [r for _, r in sorted(records.items()) if r.get("brand")]
    mover, renamed, dropped = branded[0], branded[1], branded[2]
    target = next(r["brand"] for r in branded if r["brand"] != mover["brand"])
    catalog.mutate("corrupt", ids=[mover["id"]], patch={"brand": target})
    catalog.mutate("corrupt", ids=[renamed["id"]], patch={"brand": "Brand New & Co"})
    catalog.mutate("corrupt", ids=[dropped["id"]], patch={"brand": {"$delete": True}})
    run = synced(sync, judge)
    assert run.metadata["updated"] == 3 and run.metadata["collections_created"] == 1, run.metadata

    now = source_records(catalog)
    by_brand = source_skus_by(now, "brand")
    collections = {c["title"]: c for c in storefront.collections()}
    assert collections["Brand New & Co"]["handle"] == "brand-new-co"
    for brand in {mover["brand"], target, renamed["brand"], "Brand New & Co"}:
        shown = skus_of(storefront.products_in_collection(collections[brand]["id"]))
        assert shown == by_brand.get(brand, set()), brand
    assert mover["sku"] in by_brand[target] and mover["sku"] not in by_brand.get(mover["brand"], ())
    (gone,) = storefront_by_sku(storefront)[dropped["sku"]]
    assert gone["collection_id"] is None
    assert synced(sync, judge).writes == 0


def test_storefront_ready_says_what_stops_a_purchase(sync, judge, catalog, storefront, store):
    run = synced(sync.cold, judge)
    assert run.check_metadata["storefront_ready"]["problems"] == 0
    records = source_records(catalog)
    record = next(r for _, r in sorted(records.items()) if r["stock"] >= 1)
    variant = variant_of(storefront_by_sku(storefront)[record["sku"]][0])

    def problems(run) -> list[str]:
        table = run.check_metadata["storefront_ready"]["problem_list"]
        return [row.data["problem"] for row in table.records]

    # The merchant removes the shipping option: a shopper can no longer check out.
    (option,) = store.get("/admin/shipping-options", fields="id")["shipping_options"]
    deleted = store.session.delete(f"{store.url}/admin/shipping-options/{option['id']}")
    assert deleted.ok, deleted.text
    cart = storefront.add_item(storefront.create_cart()["id"], variant)
    storefront.set_address(cart["id"])
    assert storefront.shipping_options(cart["id"]) == []
    run = sync()
    assert run.result.success and run.checks["storefront_ready"] is False
    assert problems(run) == ["no shipping option for the products"]
    assert all(ok for name, ok in run.checks.items() if name != "storefront_ready"), run.checks

    # ... and the US region loses its payment provider too: both are named.
    region = store.get(f"/admin/regions/{storefront.region_id}", fields="id")["region"]
    store.post(f"/admin/regions/{region['id']}", {"payment_providers": []})
    run = sync()
    assert problems(run) == [
        "region United States has no payment provider",
        "no shipping option for the products",
    ]
