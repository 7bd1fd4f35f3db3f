"""Source catalog + what the store holds -> the writes that make the store match.

Pure: given the same inputs it returns the same plan, which is what makes the idempotency
check meaningful (plan again after writing; the plan must be empty).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping, Set
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.dataclasses import dataclass

from product_sync.core import handles as handle_rules
from product_sync.core.images import StoredImage
from product_sync.core.mapping import (
    ARCHIVED_KEY,
    to_medusa_product,
    to_medusa_update,
)
from product_sync.core.models import Quarantined, SourceProduct


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexedProduct:
    """What the sync needs to know about one product it owns, and nothing more.

    Slotted, like `SourceProduct`: the index holds one per product in the store.
    """

    id: str
    source_id: int
    handle: str
    status: str
    content_hash: str | None = None
    category_id: str | None = None
    variant_id: str | None = None
    sku: str | None = None
    price: Decimal | None = None
    archived: bool = False
    images: dict[str, StoredImage] = Field(default_factory=dict)
    # The variant's inventory item: the stock step sets its level without listing them.
    inventory_item_id: str | None = None


class ProductIndex(BaseModel):
    """The store's products in our external-id namespace, keyed by source id.

    A second product carrying an external id already seen (Medusa does not enforce
    uniqueness) is kept apart in `duplicates` so it can be reported and repaired.
    """

    external_id_prefix: str
    products: dict[int, IndexedProduct] = {}
    duplicates: list[IndexedProduct] = []

    @classmethod
    def build(cls, prefix: str, items: Iterable[IndexedProduct]) -> ProductIndex:
        products: dict[int, IndexedProduct] = {}
        duplicates: list[IndexedProduct] = []
        for item in items:  # oldest first, so the original wins
            if item.source_id in products:
                duplicates.append(item)
            else:
                products[item.source_id] = item
        return cls(external_id_prefix=prefix, products=products, duplicates=duplicates)

    @property
    def handles(self) -> set[str]:
        return {p.handle for p in self.products.values()} | {p.handle for p in self.duplicates}


class PlannedWrite(BaseModel):
    """One product to create or update. The payload is kept as compressed JSON (~0.8 KB
    instead of ~5 KB of dicts), and unpacked when read: a first load plans every product
    of the catalog as a create, and the plan is held until the last batch is written."""

    model_config = ConfigDict(frozen=True)

    source_id: int
    external_id: str
    handle: str
    packed: bytes = Field(exclude=True, repr=False)

    @model_validator(mode="before")
    @classmethod
    def _pack_payload(cls, data: Any) -> Any:
        if isinstance(data, dict) and "payload" in data:
            data = dict(data)
            text = json.dumps(data.pop("payload"), separators=(",", ":"), allow_nan=False)
            data["packed"] = zlib.compress(text.encode(), 1)
        return data

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(zlib.decompress(self.packed))


class PlannedArchive(BaseModel):
    model_config = ConfigDict(frozen=True)

    product_id: str
    source_id: int
    handle: str


class SyncPlan(BaseModel):
    creates: list[PlannedWrite] = []
    updates: list[PlannedWrite] = []
    unchanged: list[int] = []
    archives: list[PlannedArchive] = []
    # Extra copies of one external id: retired (draft, renamed out of the namespace).
    duplicate_repairs: list[IndexedProduct] = []
    quarantined: list[Quarantined] = []
    archive_blocked_reason: str | None = None

    def counts(self) -> dict[str, int]:
        return {
            "planned_creates": len(self.creates),
            "planned_updates": len(self.updates),
            "unchanged": len(self.unchanged),
            "planned_archives": len(self.archives),
            "duplicate_repairs": len(self.duplicate_repairs),
        }


def _needs_update(existing: IndexedProduct, payload: dict[str, Any], price: Decimal) -> bool:
    return (
        existing.content_hash != payload["metadata"]["sync_hash"]
        or existing.status != "published"
        or existing.archived
        # The hash says what we last wrote; the price is checked as the store holds it
        # now, so a hand edit of the one field that costs money is put right.
        or existing.price != price
    )


def _unique_variant_keys(keys: list[tuple[int, str | None, str | None]]) -> list[Quarantined]:
    """Medusa requires variant SKUs and barcodes to be unique store-wide: the second
    product claiming one (by source id) is refused here, with the reason, instead of
    failing a batch. `keys` are (source id, sku, barcode)."""
    holders: dict[tuple[str, str], int] = {}
    refused = []
    for source_id, sku, barcode in sorted(keys, key=lambda k: k[0]):
        claims = [("sku", sku), ("barcode", barcode)]
        clash = next(
            ((kind, value) for kind, value in claims if value and (kind, value) in holders), None
        )
        if clash:
            refused.append(
                Quarantined(
                    source_id=source_id,
                    reason=f"{clash[0]} {clash[1]!r} is also used by product {holders[clash]}",
                    field=clash[0],
                )
            )
            continue
        for kind, value in claims:
            if value:
                holders[(kind, value)] = source_id
    return refused


def plan_sync(
    source: Iterable[SourceProduct],
    index: ProductIndex,
    category_ids: Mapping[str, str],
    *,
    sales_channel_id: str | None,
    taken_handles: Set[str] = frozenset(),
    full_catalog: bool = True,
    quarantined_ids: Set[int] = frozenset(),
    max_archive_fraction: float = 0.2,
    images: Mapping[str, StoredImage] | None = None,
    shipping_profile_id: str | None = None,
    allow_backorder: bool = False,
) -> SyncPlan:
    """Decide create / update / unchanged / archive for every product.

    `source` is iterated twice and never held whole (a list, or a catalog's
    `products_view`, which unpacks a chunk at a time): the first pass collects what
    must be known about every product before any is planned (SKU and barcode holders,
    titles of new products for their handles), the second builds payloads, which are kept
    only for products that need a write.

    `taken_handles` are handles held by products outside our namespace; `full_catalog` is
    False for a targeted sync, which never archives; `quarantined_ids` are source ids whose
    records were refused this run: they are neither updated nor archived; `images` maps
    source image URLs to uploaded copies (None when images are not uploaded);
    `shipping_profile_id` and `allow_backorder` go into every payload (so into its hash: a
    product written without them is updated once).
    """
    prefix = index.external_id_prefix
    keys, new_titles = [], []
    for src in source:
        keys.append((src.id, src.sku, src.meta.barcode if src.meta else None))
        if src.id not in index.products:
            new_titles.append((src.id, src.title))
    refused = _unique_variant_keys(keys)
    refused_ids = {q.source_id for q in refused}
    present = {k[0] for k in keys}
    assigned = handle_rules.assign_handles(
        ((i, title) for i, title in new_titles if i not in refused_ids),
        set(taken_handles) | index.handles,
    )

    plan = SyncPlan(quarantined=refused, duplicate_repairs=list(index.duplicates))
    for src in source:
        if src.id in refused_ids:
            continue
        existing = index.products.get(src.id)
        if existing is None:
            handle = assigned[src.id]
            payload = to_medusa_product(
                src,
                handle=handle,
                external_id_prefix=prefix,
                category_id=category_ids.get(src.category),
                sales_channel_id=sales_channel_id,
                images=images,
                shipping_profile_id=shipping_profile_id,
                allow_backorder=allow_backorder,
            )
            plan.creates.append(
                PlannedWrite(
                    source_id=src.id,
                    external_id=payload["external_id"],
                    handle=handle,
                    payload=payload,
                )
            )
            continue
        # A category the map cannot resolve keeps the link the product already has, so a
        # failed category step never strips categories from the store.
        category_id = category_ids.get(src.category) or existing.category_id
        payload = to_medusa_product(
            src,
            handle=existing.handle,
            external_id_prefix=prefix,
            category_id=category_id,
            sales_channel_id=sales_channel_id,
            images=images,
            shipping_profile_id=shipping_profile_id,
            allow_backorder=allow_backorder,
        )
        if _needs_update(existing, payload, src.price):
            update = to_medusa_update(
                payload, product_id=existing.id, variant_id=existing.variant_id
            )
            plan.updates.append(
                PlannedWrite(
                    source_id=src.id,
                    external_id=payload["external_id"],
                    handle=existing.handle,
                    payload=update,
                )
            )
        else:
            plan.unchanged.append(src.id)
    # The same plan whatever order the source listed its products in.
    plan.creates.sort(key=lambda w: w.source_id)
    plan.updates.sort(key=lambda w: w.source_id)
    plan.unchanged.sort()

    if full_catalog:
        _plan_archives(plan, present, index, quarantined_ids | refused_ids, max_archive_fraction)
    return plan


def _plan_archives(
    plan: SyncPlan,
    present_ids: Set[int],
    index: ProductIndex,
    keep_ids: Set[int],
    max_archive_fraction: float,
) -> None:
    present = set(present_ids) | set(keep_ids)
    active = [p for p in index.products.values() if p.status == "published" and not p.archived]
    gone = [p for p in active if p.source_id not in present]
    if not gone:
        return
    limit = max_archive_fraction * len(active)
    if len(gone) > limit:
        # A half-empty answer from the source must never empty the store.
        plan.archive_blocked_reason = (
            f"{len(gone)} of {len(active)} published products are missing from the source "
            f"({len(gone) / len(active):.0%} > max_archive_fraction {max_archive_fraction:.0%}); "
            "archived none. Raise max_archive_fraction if the removal is real."
        )
        return
    plan.archives = [
        PlannedArchive(product_id=p.id, source_id=p.source_id, handle=p.handle)
        for p in sorted(gone, key=lambda p: p.source_id)
    ]


def archive_update(archive: PlannedArchive, archived_at: str) -> dict[str, Any]:
    return {"id": archive.product_id, "status": "draft", "metadata": {ARCHIVED_KEY: archived_at}}


def retire_duplicate_update(duplicate: IndexedProduct, prefix: str) -> dict[str, Any]:
    """Take an extra copy out of our namespace (nothing is deleted) and unpublish it."""
    return {
        "id": duplicate.id,
        "status": "draft",
        "external_id": f"{prefix}duplicate-of-{duplicate.source_id}:{duplicate.id}",
    }
