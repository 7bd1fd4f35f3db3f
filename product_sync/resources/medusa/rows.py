"""The Admin API rows the resource asks for, and reading them: which fields each read
requests, and what a product, variant or inventory-item row says."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from product_sync.core import ownership
from product_sync.core.images import parse_stored
from product_sync.core.links import RELATIONS
from product_sync.core.mapping import ARCHIVED_KEY, CATEGORY_KEY, HASH_KEY, source_id_of
from product_sync.core.planning import IndexedProduct

# The inventory item id costs the 10k store's index ~0.07 s per page of 2000 and spares
# the stock step a listing of every product (~2 s).
INVENTORY_FIELD = "variants.inventory_items.inventory_item_id"
# With what drift detection compares (title, description, images, categories: see
# `core.ownership.GROUPS`), listed once per product and kept only where it differs.
INDEX_FIELDS = ",".join(
    dict.fromkeys(
        [
            "id",
            "handle",
            "external_id",
            "status",
            "metadata",
            "variants.id",
            "variants.sku",
            "variants.barcode",
            "variants.prices.amount",
            "variants.prices.currency_code",
            INVENTORY_FIELD,
            *ownership.INDEX_FIELDS,
        ]
    )
)
# Listings of many products leave the many-to-many joins out (categories: ~1.2-1.9 ms a
# row, more than every other field together, growing with the page): the links come
# from one listing of the categories and one of the tags (`ProductReads.product_links`).
LINK_FIELDS = tuple(f"{relation}.id" for relation in RELATIONS)
LISTING_FIELDS = ",".join(f for f in INDEX_FIELDS.split(",") if f not in LINK_FIELDS)
WRITE_RESULT_FIELDS = "id,handle,external_id"
# A create's answer names the inventory items Medusa made for the new variants.
CREATE_RESULT_FIELDS = WRITE_RESULT_FIELDS + "," + INVENTORY_FIELD
# An update's answer shows whether the variant really holds what was sent (see
# `WriteRecovery._rebuild_half_created`).
UPDATE_RESULT_FIELDS = (
    WRITE_RESULT_FIELDS
    + ",variants.id,variants.prices.amount,variants.prices.currency_code,"
    + INVENTORY_FIELD
)
LEVEL_FIELDS = "id,location_levels.location_id,location_levels.stocked_quantity"


def indexed_product(prefix: str, product: dict[str, Any]) -> IndexedProduct | None:
    """A listed product as the planner sees it; None when it is not in our namespace."""
    source_id = source_id_of(prefix, product.get("external_id"))
    if source_id is None:
        return None
    metadata = product.get("metadata") or {}
    variants = product.get("variants") or []
    variant = variants[0] if variants else {}
    return IndexedProduct(
        id=product["id"],
        source_id=source_id,
        handle=product["handle"],
        status=product["status"],
        content_hash=metadata.get(HASH_KEY),
        category_id=metadata.get(CATEGORY_KEY),
        variant_id=variant.get("id"),
        sku=variant.get("sku"),
        barcode=variant.get("barcode"),
        price=usd_price(variant),
        archived=bool(metadata.get(ARCHIVED_KEY)),
        images=parse_stored(metadata),
        inventory_item_id=inventory_item(variant),
        field_record=ownership.pack_record(ownership.parse_record(metadata)),
        edits=ownership.store_edits(product),
    )


def usd_price(variant: dict[str, Any]) -> Decimal | None:
    """The variant's one USD price; None when it has none or several.

    Several happen: two runs updating one product at once both add the new price (Medusa
    replaces a variant's prices in steps). Reading the first of them would make the
    product look right to planning while the prices check fails every run; None makes
    the next run rewrite the price list, which leaves exactly one.
    """
    amounts = [
        Decimal(str(price["amount"]))
        for price in variant.get("prices") or []
        if price.get("currency_code") == "usd" and price.get("amount") is not None
    ]
    return amounts[0] if len(amounts) == 1 else None


def inventory_item(variant: dict[str, Any]) -> str | None:
    """The variant's (first) inventory item id, if an answer or listing included it."""
    for link in variant.get("inventory_items") or []:
        if link.get("inventory_item_id"):
            return link["inventory_item_id"]
    return None


def answered_items(products: Iterable[dict[str, Any]]) -> dict[str, str]:
    """External id -> inventory item id of the first variant, from a write's answer."""
    items: dict[str, str] = {}
    for product in products:
        variants = product.get("variants") or []
        item = inventory_item(variants[0]) if variants else None
        if item and product.get("external_id"):
            items[product["external_id"]] = item
    return items


def variant_complete(held: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """The stored variant has every price sent and, if it manages inventory, an item."""
    prices = {
        (p.get("currency_code"), Decimal(str(p["amount"])))
        for p in held.get("prices") or []
        if p.get("amount") is not None
    }
    sent = {(p["currency_code"], Decimal(str(p["amount"]))) for p in wanted.get("prices") or []}
    if not sent <= prices:
        return False
    return not wanted.get("manage_inventory") or bool(held.get("inventory_items"))


def level_at(item: dict[str, Any], location_id: str) -> int | None:
    """An inventory item row's stocked quantity at the location (None: no level there)."""
    here = [
        level["stocked_quantity"]
        for level in item.get("location_levels") or []
        if level.get("location_id") == location_id
    ]
    return here[0] if here else None


def ext_id(item: dict[str, Any]) -> str:
    """What names a product being written, in reports and lookups."""
    return item.get("external_id") or item.get("id") or "?"
