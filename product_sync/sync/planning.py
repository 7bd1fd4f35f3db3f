"""Planning against the live store: the pure plan (`core.planning.plan_sync`), then its
creates checked against the store before anyone writes."""

from __future__ import annotations

from collections.abc import Mapping

from product_sync.core.catalog import SourceCatalog
from product_sync.core.handles import base_handle
from product_sync.core.images import StoredImage
from product_sync.core.ownership import OwnershipPolicy
from product_sync.core.planning import (
    IndexedProduct,
    PlannedWrite,
    ProductIndex,
    SyncPlan,
    plan_sync,
)
from product_sync.core.taxonomy import ProductTaxonomy
from product_sync.resources.medusa import INDEX_FIELDS, MedusaResource, indexed_product
from product_sync.resources.medusa.client import LOOKUP_CHUNK
from product_sync.sync.categories import CategoryMap

MAX_HANDLE_ROUNDS = 5


def plan_against_store(
    catalog: SourceCatalog,
    categories: CategoryMap,
    index: ProductIndex,
    medusa: MedusaResource,
    *,
    sales_channel_id: str | None,
    max_archive_fraction: float,
    images: Mapping[str, StoredImage] | None = None,
    shipping_profile_id: str | None = None,
    allow_backorder: bool = False,
    policy: OwnershipPolicy | None = None,
    taxonomy: ProductTaxonomy | None = None,
    rounds: int = MAX_HANDLE_ROUNDS,
    probe_width: int = 0,
    index_fresh: bool = False,
) -> SyncPlan:
    """Plan, then check the plan's creates against the live store before anyone writes.

    The index may be older than this moment (another run, a hand edit), so: any product
    we would create that already exists under our external id joins the index and is
    planned again as an update (unless `index_fresh`: the index was just read for every
    product planned, as `sync_scope` reads it, and looking them up again finds what it
    found: a first load of 100k looked up every create once more per planning round,
    680 requests, 62 s of Medusa's time); any handle we would give a new product that
    another product holds is marked taken and planned again. With `probe_width`, a
    handle found taken also brings its next `probe_width` suffixes into the question,
    for callers that expect long runs of them (a partition of a large catalog).
    """
    taken: set[str] = set()
    plan = SyncPlan()
    for _ in range(rounds):
        plan = plan_sync(
            catalog.products_view,
            index,
            categories.ids,
            sales_channel_id=sales_channel_id,
            taken_handles=taken,
            full_catalog=catalog.full_catalog and catalog.consistent,
            quarantined_ids=catalog.quarantined_ids,
            max_archive_fraction=max_archive_fraction,
            images=images,
            shipping_profile_id=shipping_profile_id,
            allow_backorder=allow_backorder,
            policy=policy,
            taxonomy=taxonomy,
        )
        if not plan.creates:
            return plan
        found = [] if index_fresh else _existing(medusa, index.external_id_prefix, plan.creates)
        if found:
            index = ProductIndex.build(
                index.external_id_prefix, [*index.products.values(), *index.duplicates, *found]
            )
            continue
        clashes = medusa.handles_in_use(c.handle for c in plan.creates)
        if not clashes:
            return plan
        if probe_width:
            window = [
                handle
                for c in plan.creates
                if c.handle in clashes
                for handle in _next_handles(c, probe_width)
            ]
            clashes |= medusa.handles_in_use(window)
        taken |= clashes
    return plan


def _existing(
    medusa: MedusaResource, prefix: str, creates: list[PlannedWrite]
) -> list[IndexedProduct]:
    """The store's products under the external ids of `creates`, as the index reads
    them. Asked with two fields first: usually none exist, and a lookup that lists the
    index's fields (the category join above all) costs several times as much."""
    held = medusa.products_by_external_id([c.external_id for c in creates], fields="id,external_id")
    ids = [p["external_id"] for p in held]
    if len(ids) > LOOKUP_CHUNK:  # many (an index read long before): links apart
        return medusa.index_of(prefix, ids)
    rows = medusa.products_by_external_id(ids, fields=INDEX_FIELDS) if ids else []
    found = (indexed_product(prefix, r) for r in sorted(rows, key=lambda r: r["id"]))
    return [item for item in found if item is not None]


def _next_handles(create: PlannedWrite, width: int) -> list[str]:
    """The `width` handles after the one planned for `create` (`base`, `base-1`, …)."""
    base = base_handle(create.source_id, create.payload["title"])
    suffix = create.handle[len(base) + 1 :] if create.handle != base else "0"
    start = int(suffix) + 1 if suffix.isdigit() else 1
    return [f"{base}-{n}" for n in range(start, start + width)]
