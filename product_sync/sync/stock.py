"""Stock: each source product's `stock` as its variant's level at the sync's stock
location, writing only the levels that differ."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from product_sync.core.catalog import SourceCatalog
from product_sync.core.inventory import StockPlan, plan_stock
from product_sync.core.planning import ProductIndex, SyncPlan
from product_sync.resources.http import ClientError, HTTPError
from product_sync.resources.medusa import MedusaResource


class StockReport(BaseModel):
    stock_updated: int = 0
    stock_unchanged: int = 0
    error: str | None = None
    # The levels written: {"inventory_item_id", "location_id", "before", "after"}.
    written: list[dict[str, Any]] = []


@dataclass
class StockItems:
    """Source id -> inventory item id, as far as the run already knows them, and the
    source ids whose products exist (or may) but whose item it does not know."""

    known: dict[int, str] = field(default_factory=dict)
    unknown: list[int] = field(default_factory=list)
    # Items the store made for this run's creates: they hold no stock level anywhere yet.
    created: set[str] = field(default_factory=set)


def stock_items(
    catalog: SourceCatalog,
    index: ProductIndex,
    plan: SyncPlan,
    written: Mapping[str, str],
) -> StockItems:
    """Every source product's inventory item from data the run holds already: the write
    answers (`written`, by external id) for the products it created or updated, the
    index for the others. A product that is in neither (a create that failed or timed
    out, a product the index did not have, a variant rebuilt) is left to be looked up.
    """
    planned = {w.source_id: w.external_id for w in [*plan.creates, *plan.updates]}
    creates = {w.source_id for w in plan.creates}
    unchanged = set(plan.unchanged)
    items = StockItems()
    for source_id in sorted(catalog.source_ids):
        if source_id in planned:
            item = written.get(planned[source_id])
            if item and source_id in creates:
                items.created.add(item)
        elif source_id in index.products:
            item = index.products[source_id].inventory_item_id
        elif source_id in unchanged:  # found by the create check, not in the index
            item = None
        else:
            continue  # not in the store: quarantined, never created
        if item:
            items.known[source_id] = item
        else:
            items.unknown.append(source_id)
    return items


@dataclass
class StockAhead:
    """The stock location and the levels of the index's items, read while the products
    are planned and written (neither depends on those writes)."""

    locations: list[dict[str, Any]]
    levels: dict[str, int | None]  # inventory item id -> level at locations[0]


def ahead_items(catalog: SourceCatalog, index: ProductIndex) -> list[str]:
    """The inventory items whose levels are read ahead: the index's, of the catalog's
    products."""
    ours = catalog.source_ids
    return [
        p.inventory_item_id
        for p in index.products.values()
        if p.inventory_item_id and p.source_id in ours
    ]


def read_stock_ahead(
    catalog: SourceCatalog, index: ProductIndex, medusa: MedusaResource, pool: Executor
) -> Future[StockAhead]:
    """Start reading, on `pool`, what `sync_stock` will need whatever the writes do."""
    items = ahead_items(catalog, index)
    medusa.client  # noqa: B018 -- made here, in one thread, before two threads use it

    def read() -> StockAhead:
        locations = medusa.stock_locations(medusa.stock_location_name)
        if not locations:
            return StockAhead(locations=[], levels={})
        return StockAhead(locations, medusa.stock_levels(locations[0]["id"], items))

    return pool.submit(read)


def stock_plan(
    catalog: SourceCatalog,
    medusa: MedusaResource,
    location_id: str,
    items: Mapping[int, str] | None = None,
    levels: Mapping[str, int | None] | None = None,
    *,
    missing_only: bool = False,
) -> StockPlan:
    """Levels to write; `items` (source id -> inventory item id), if not given, are looked
    up for the catalog's products; `levels` already read at the location are used as they
    are, the others read now. `missing_only`: only levels not at the location yet (stock
    owned `create_only`: set for a new product, then the merchant's)."""
    if items is None:
        items = medusa.inventory_items_for(medusa.external_id_prefix, sorted(catalog.source_ids))
    wanted = {items[p.id]: p.stock for p in catalog.products_view if p.id in items}
    current = {i: levels[i] for i in wanted if i in levels} if levels else {}
    unread = [i for i in wanted if i not in current]
    if unread:
        current.update(medusa.stock_levels(location_id, unread))
    plan = plan_stock(wanted, current, location_id)
    if missing_only:
        plan = plan.model_copy(
            update={"update": [], "unchanged": plan.unchanged + len(plan.update)}
        )
    return plan


def sync_stock(
    catalog: SourceCatalog,
    medusa: MedusaResource,
    sales_channel_id: str | None,
    items: StockItems | None = None,
    ahead: Future[StockAhead] | None = None,
    *,
    missing_only: bool = False,
) -> StockReport:
    """Set each product's stock at the sync's stock location, writing only differences.

    Runs after the product writes (new variants get their inventory items then). `items`:
    the inventory items the run already knows (`stock_items`); those it does not are
    looked up by id; without it, all of the catalog's are. `ahead`: the location
    and levels read during the writes (`read_stock_ahead`); levels of items it did not
    read are read now. A failure here is reported, never fatal: products are already
    right.
    """
    early = None
    if ahead is not None:
        try:
            early = ahead.result()
        except HTTPError:
            early = None  # read it all again below; a lasting failure is reported there
    try:
        location_id = medusa.ensure_stock_location(
            medusa.stock_location_name,
            sales_channel_id,
            found=early.locations if early else None,
        )
        levels = None
        if early and early.locations and early.locations[0]["id"] == location_id:
            levels = early.levels
        known = None
        if items is not None:
            known = dict(items.known)
            if items.unknown:
                found = medusa.inventory_items_for(medusa.external_id_prefix, items.unknown)
                known.update(found)
            # Nothing to read for new items, nor for any item at a location made just now.
            # (Should a concurrent run have set one meanwhile, its "create" is refused and
            # the fallback below plans again from the store.)
            held = set(known.values())
            fresh = held if early and not early.locations else items.created & held
            levels = {**(levels or {}), **dict.fromkeys(fresh)}
        plan = stock_plan(catalog, medusa, location_id, known, levels, missing_only=missing_only)
        try:
            written = medusa.write_stock_levels(plan.create, plan.update)
        except ClientError:
            # A level created by a request that timed out (or by a concurrent run) makes
            # "create" fail, and so does an item deleted since the index was read: plan
            # again from what the store now holds, items listed afresh.
            plan = stock_plan(catalog, medusa, location_id, missing_only=missing_only)
            written = medusa.write_stock_levels(plan.create, plan.update)
    except HTTPError as error:
        return StockReport(error=str(error))
    return StockReport(
        stock_updated=written, stock_unchanged=plan.unchanged, written=written_levels(plan)
    )


def written_levels(plan: StockPlan) -> list[dict[str, Any]]:
    return [
        {**level, "before": plan.before.get(str(level["inventory_item_id"]))}
        for level in [*plan.create, *plan.update]
    ]
