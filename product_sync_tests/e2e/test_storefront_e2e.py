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
from decimal import Decimal
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
    what a shopper pays (a sale price where the source discounts goes here)."""
    base = Decimal(str(record["price"]))
    return Price(calculated=base, original=base, currency_code=CURRENCY)


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
    synced(sync, judge)
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
    synced(sync, judge)
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
    synced(sync, judge)
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
    synced(sync, judge)
    records = source_records(catalog)
    in_stock = [r for _, r in sorted(records.items()) if r["stock"] >= 2]
    repriced, removed = in_stock[0], in_stock[1]
    by_sku = storefront_by_sku(storefront)
    (gone,) = by_sku[removed["sku"]]
    old_price = expected_price(repriced).calculated

    control = CatalogControl(catalog.base_url)
    new_value = float(old_price + Decimal("1.25"))
    control.mutate("price", ids=[repriced["id"]], value=new_value)
    control.mutate("remove", ids=[removed["id"]])
    run = synced(sync, judge)
    assert (run.metadata["updated"], run.metadata["archived"]) == (1, 1), run.metadata

    now = source_records(catalog)
    assert removed["id"] not in now
    new_price = expected_price(now[repriced["id"]]).calculated
    assert new_price == old_price + Decimal("1.25")
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
    synced(sync, judge)
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
