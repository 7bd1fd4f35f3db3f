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
from product_sync.core import ownership
from product_sync.core.identifiers import DroppedIdentifier, settle_identifiers
from product_sync.core.images import StoredImage
from product_sync.core.mapping import (
    ARCHIVED_KEY,
    HASH_KEY,
    content_hash,
    to_medusa_product,
    to_medusa_update,
)
from product_sync.core.models import Quarantined, SourceProduct
from product_sync.core.ownership import MerchantEdit, OwnershipPolicy, StoreValue
from product_sync.core.taxonomy import ProductTaxonomy


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
    barcode: str | None = None
    price: Decimal | None = None
    archived: bool = False
    images: dict[str, StoredImage] = Field(default_factory=dict)
    # The variant's inventory item: the stock step sets its level without listing them.
    inventory_item_id: str | None = None
    # What the sync last wrote per field group (`ownership.pack_record`), and the groups
    # the store holds otherwise (None: none, the usual case).
    field_record: str | None = None
    edits: dict[str, StoreValue] | None = None


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
    # Barcodes (secondary identifiers) left out of a product because another holds them.
    identifiers_dropped: list[DroppedIdentifier] = []
    # Fields of our products edited in the store: overwritten (source owns them) or kept.
    merchant_edits: list[MerchantEdit] = []
    archive_blocked_reason: str | None = None

    def counts(self) -> dict[str, int]:
        return {
            "planned_creates": len(self.creates),
            "planned_updates": len(self.updates),
            "unchanged": len(self.unchanged),
            "planned_archives": len(self.archives),
            "duplicate_repairs": len(self.duplicate_repairs),
        }


def _needs_update(
    existing: IndexedProduct,
    payload: dict[str, Any],
    price: Decimal,
    policy: OwnershipPolicy,
    rewrite: bool,
) -> bool:
    return (
        existing.content_hash != payload["metadata"][HASH_KEY]
        or existing.archived
        or rewrite  # a field the source owns was edited in the store, or never recorded
        or (policy.status is ownership.SOURCE and existing.status != "published")
        # The price as the store holds it now: also catches a variant left with several.
        or (policy.price is ownership.SOURCE and existing.price != price)
    )


def _without(payload: dict[str, Any], dropped: list[DroppedIdentifier]) -> dict[str, Any]:
    """The payload without the identifiers another product holds (hashed without them, so
    the product is written again once the clash is gone)."""
    for item in dropped:
        for variant in payload["variants"]:
            variant[item.field] = None
    payload["metadata"][HASH_KEY] = content_hash(payload)
    return payload


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
    policy: OwnershipPolicy | None = None,
    taxonomy: ProductTaxonomy | None = None,
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
    product written without them is updated once); `policy`: who owns which fields
    (`core.ownership`; default: the source, except a product's status after its create);
    `taxonomy` links each product to its tags and brand collection (None: their links are
    not part of the plan).
    """
    policy = policy or OwnershipPolicy()
    prefix = index.external_id_prefix
    claims, new_titles = [], []
    for src in source:
        claims.append((src.id, {"sku": src.sku, "barcode": src.meta.barcode if src.meta else None}))
        if src.id not in index.products:
            new_titles.append((src.id, src.title))
    refused, dropped = settle_identifiers(
        claims,
        ((p.source_id, {"sku": p.sku, "barcode": p.barcode}) for p in index.products.values()),
    )
    refused_ids = {q.source_id for q in refused}
    dropped_by_id: dict[int, list[DroppedIdentifier]] = {}
    for item in dropped:
        dropped_by_id.setdefault(item.source_id, []).append(item)
    present = {source_id for source_id, _ in claims}
    assigned = handle_rules.assign_handles(
        ((i, title) for i, title in new_titles if i not in refused_ids),
        set(taken_handles) | index.handles,
    )

    plan = SyncPlan(
        quarantined=refused, identifiers_dropped=dropped, duplicate_repairs=list(index.duplicates)
    )
    for src in source:
        if src.id in refused_ids:
            continue
        existing = index.products.get(src.id)
        # A category the map cannot resolve keeps the link the product already has, so a
        # failed category step never strips categories from the store.
        category_id = category_ids.get(src.category) or (existing and existing.category_id)
        payload = to_medusa_product(
            src,
            handle=existing.handle if existing else assigned[src.id],
            external_id_prefix=prefix,
            category_id=category_id or None,
            sales_channel_id=sales_channel_id,
            images=images,
            shipping_profile_id=shipping_profile_id,
            allow_backorder=allow_backorder,
            links=taxonomy.links(src) if taxonomy else None,
        )
        if src.id in dropped_by_id:
            payload = _without(payload, dropped_by_id[src.id])
        if existing is None:
            plan.creates.append(
                PlannedWrite(
                    source_id=src.id,
                    external_id=payload["external_id"],
                    handle=payload["handle"],
                    payload=ownership.for_create(payload, policy),
                )
            )
            continue
        owned = ownership.reconcile(
            to_medusa_update(payload, product_id=existing.id, variant_id=existing.variant_id),
            policy,
            source_id=src.id,
            handle=existing.handle,
            record=ownership.unpack_record(existing.field_record),
            edits=existing.edits,
            archived=existing.archived,
        )
        plan.merchant_edits.extend(owned.edits)
        if _needs_update(existing, payload, src.price, policy, owned.rewrite):
            plan.updates.append(
                PlannedWrite(
                    source_id=src.id,
                    external_id=payload["external_id"],
                    handle=existing.handle,
                    payload=owned.payload,
                )
            )
        else:
            plan.unchanged.append(src.id)
    # The same plan whatever order the source listed its products in.
    plan.creates.sort(key=lambda w: w.source_id)
    plan.updates.sort(key=lambda w: w.source_id)
    plan.unchanged.sort()
    plan.merchant_edits.sort(key=lambda e: (e.source_id, e.field))

    # Archiving sets a status: under `ignore` the status, and so the lifecycle, is the
    # merchant's alone.
    if full_catalog and policy.status is not ownership.IGNORE:
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
