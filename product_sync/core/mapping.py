"""DummyJSON product -> Medusa v2 product payload. Pure: no I/O, no clock.

Medusa v2 stores money in major units (9.99 is $9.99), so prices go through as exact
decimals, never multiplied by 100 and never through float arithmetic.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from product_sync.core.images import IMAGES_KEY, StoredImage, source_urls, stored_for
from product_sync.core.models import SourceProduct

CURRENCY = "usd"
OPTION_TITLE = "Default"
OPTION_VALUE = "Default Option"
VARIANT_TITLE = "Default"

# Metadata keys this pipeline writes. Anything else in a product's metadata belongs to
# someone else and is left alone (Medusa merges metadata on update).
HASH_KEY = "sync_hash"
SOURCE_ID_KEY = "dummyjson_id"
CATEGORY_KEY = "sync_category_id"
ARCHIVED_KEY = "sync_archived_at"
# What the sync last wrote, one short hash per field group (`core.ownership`).
FIELDS_KEY = "sync_fields"
# The metadata the source fills (the `metadata` field group); the other keys above are the
# sync's own bookkeeping, written whoever owns the rest.
SOURCE_METADATA_KEYS = (
    "brand",
    "tags",
    "rating",
    "discount_percentage",
    "warranty_information",
    "shipping_information",
    "return_policy",
    "minimum_order_quantity",
    "availability_status",
    "source_category",
    "source_created_at",
    "source_updated_at",
    "qr_code",
)


def external_id(prefix: str, source_id: int) -> str:
    return f"{prefix}{source_id}"


def source_id_of(prefix: str, ext_id: str | None) -> int | None:
    """The source id behind one of our external ids, or None if the id is not ours."""
    if not ext_id or not ext_id.startswith(prefix):
        return None
    rest = ext_id[len(prefix) :]
    # isascii(): str.isdigit() also accepts "١" or "²", which int() reads or rejects.
    return int(rest) if rest.isascii() and rest.isdigit() and not rest.startswith("0") else None


def price_amount(price: Decimal) -> int | float:
    """A JSON number that reads back as exactly `price` (9.99 -> 9.99, 15 -> 15)."""
    if price == price.to_integral_value():
        return int(price)
    as_float = float(price)
    # repr() is the shortest round-trip text, which is what json.dumps writes.
    assert Decimal(repr(as_float)) == price, price
    return as_float


def _metadata(src: SourceProduct, category_id: str | None) -> dict[str, Any]:
    meta = src.meta
    return {
        SOURCE_ID_KEY: src.id,
        "brand": src.brand,
        "tags": list(src.tags),
        "rating": src.rating,
        "discount_percentage": src.discountPercentage,
        "warranty_information": src.warrantyInformation,
        "shipping_information": src.shippingInformation,
        "return_policy": src.returnPolicy,
        "minimum_order_quantity": src.minimumOrderQuantity,
        "availability_status": src.availabilityStatus,
        "source_category": src.category,
        "source_created_at": meta.createdAt if meta else None,
        "source_updated_at": meta.updatedAt if meta else None,
        "qr_code": meta.qrCode if meta else None,
        CATEGORY_KEY: category_id,
        # Cleared on every write: a product that is synced is by definition not archived.
        ARCHIVED_KEY: None,
    }


def _variant(src: SourceProduct, allow_backorder: bool) -> dict[str, Any]:
    dims = src.dimensions
    return {
        "title": VARIANT_TITLE,
        "sku": src.sku,
        "barcode": src.meta.barcode if src.meta else None,
        "weight": src.weight,
        "length": dims.depth if dims else None,
        "width": dims.width if dims else None,
        "height": dims.height if dims else None,
        "manage_inventory": True,
        # Always sent, also when False: variant updates are partial, so leaving it out
        # would keep a True an earlier setting wrote.
        "allow_backorder": allow_backorder,
        "prices": [{"amount": price_amount(src.price), "currency_code": CURRENCY}],
        "options": {OPTION_TITLE: OPTION_VALUE},
    }


def content_hash(payload: dict[str, Any]) -> str:
    """Stable digest of what we would write, so an unchanged product is never rewritten."""
    body = {k: v for k, v in payload.items() if k != "metadata"}
    body["metadata"] = {
        k: v for k, v in payload["metadata"].items() if k not in (HASH_KEY, FIELDS_KEY)
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def to_medusa_product(
    src: SourceProduct,
    *,
    handle: str,
    external_id_prefix: str,
    category_id: str | None,
    sales_channel_id: str | None,
    images: Mapping[str, StoredImage] | None = None,
    shipping_profile_id: str | None = None,
    allow_backorder: bool = False,
    links: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The full desired state of one product, in the shape `POST /admin/products` takes.

    `images` maps source image URLs to copies in the store's file storage (when images are
    uploaded); an image without a copy keeps its source URL. `shipping_profile_id`: the
    profile a cart needs a shipping method for (Medusa sets none by itself, and a cart
    holding a product without one cannot be completed); None leaves the key out, so a
    store without a profile keeps what it has. `allow_backorder`: a variant out of stock
    can still be bought (Medusa refuses it at add-to-cart otherwise). `links`: the
    product's tags and collection (`core.taxonomy.ProductTaxonomy.links`).
    """
    copies = images or {}

    def url(source: str) -> str:
        return copies[source].url if source in copies else source

    payload: dict[str, Any] = {
        "title": src.title,
        "handle": handle,
        "description": src.description,
        "status": "published",
        "external_id": external_id(external_id_prefix, src.id),
        "thumbnail": url(src.thumbnail) if src.thumbnail else None,
        "images": [{"url": url(source)} for source in src.images],
        "categories": [{"id": category_id}] if category_id else [],
        "sales_channels": [{"id": sales_channel_id}] if sales_channel_id else [],
        "options": [{"title": OPTION_TITLE, "values": [OPTION_VALUE]}],
        "variants": [_variant(src, allow_backorder)],
        "metadata": _metadata(src, category_id),
    }
    if shipping_profile_id:
        payload["shipping_profile_id"] = shipping_profile_id
    payload.update(links or {})
    payload["metadata"][IMAGES_KEY] = (
        stored_for(source_urls(src.images, src.thumbnail), copies) if images is not None else None
    )
    payload["metadata"][HASH_KEY] = content_hash(payload)
    return payload


def to_medusa_update(
    create_payload: dict[str, Any], *, product_id: str, variant_id: str | None
) -> dict[str, Any]:
    """Turn a create payload into a batch `update` item for an existing product.

    The handle is left out on purpose (a product keeps its URL), and the option set is not
    resent: it already exists, and re-creating it would orphan the variant's option value.
    """
    update = {k: v for k, v in create_payload.items() if k not in ("handle", "options")}
    update["id"] = product_id
    variant = dict(create_payload["variants"][0])
    if variant_id:
        variant["id"] = variant_id
    update["variants"] = [variant]
    return update
