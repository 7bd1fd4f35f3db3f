"""The sync, once: read source → categories → index → plan against the store → write →
stock → report. Every mode goes through here: the daily and targeted syncs (the four
assets, one step each: `read_source`, `plan_category_map`, `read_index`, `sync_products`)
and each range of a scaled-out sync (`sync_scope`, all steps in one op). A dry run takes
the same path and stops before the first write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from product_sync.core.catalog import SourceCatalog
from product_sync.core.mapping import external_id
from product_sync.core.ownership import CREATE_ONLY, IGNORE, OwnershipPolicy
from product_sync.core.planning import ProductIndex, SyncPlan
from product_sync.core.review import PlanRow, StockRow, add_sale_rows, plan_rows
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.medusa import INDEX_FIELDS, MedusaResource, indexed_product
from product_sync.sync.categories import CategoryMap, apply_category_map, plan_category_map
from product_sync.sync.images import ImageReport, known_images, resolve_images
from product_sync.sync.journal import RunJournal, plan_product_ids, read_states
from product_sync.sync.planning import MAX_HANDLE_ROUNDS, plan_against_store
from product_sync.sync.report import SyncReport
from product_sync.sync.review import preview_stock, sale_state, stock_rows
from product_sync.sync.sale_prices import read_sale_prices_ahead, sync_sale_prices
from product_sync.sync.scope import SyncScope, read_index, read_source
from product_sync.sync.shared_reads import SharedReads
from product_sync.sync.stock import (
    ahead_items,
    read_stock_ahead,
    stock_items,
    sync_stock,
)
from product_sync.sync.taxonomy import Ahead, done_future, prepare_taxonomy, record_taxonomy
from product_sync.sync.writing import write_plan

Warn = Callable[[str], None]


class Gate(Protocol):
    """Holds a run to a reviewed plan (`review.PlanGate`); raises to stop the run."""

    def check_sale_prices(self, hashes: Mapping[str, str]) -> None:
        """Before the run's first write: the sale price list as the plan found it."""

    def __call__(self, plan: SyncPlan) -> None:
        """Before the first product write: the plan's product writes."""


WARNINGS_SHOWN = 20

# A range's index holds only its own products, so the handles other ranges gave to
# same-titled products are unknown to it, and in a 100k catalog one title can have dozens
# (`…-bike`, `…-bike-1` … `…-bike-40`): each handle found taken brings its next 20
# candidates into the same question, so a few rounds settle even long runs of suffixes.
RANGE_PLANNING = {"rounds": 8, "probe_width": 20}
WHOLE_PLANNING = {"rounds": MAX_HANDLE_ROUNDS, "probe_width": 0}


@dataclass(frozen=True)
class SyncOptions:
    dry_run: bool = False
    max_archive_fraction: float = 0.2
    sync_stock: bool = True
    upload_images: bool = False
    shipping_profile: str | None = None  # an id or a name; None: the store's default
    allow_backorder: bool = False
    ownership: OwnershipPolicy = field(default_factory=OwnershipPolicy)
    apply_discounts: bool = True  # the source's discounts as sale prices


@dataclass
class SyncOutcome:
    report: SyncReport
    plan: SyncPlan
    categories: CategoryMap
    # Builds the plan as rows a person reads (field changes old -> new), when asked: a
    # range of a scaled-out run never shows them, and a first load has one per create.
    make_rows: Callable[[], list[PlanRow]] = list
    stock: list[StockRow] = field(default_factory=list)  # the stock levels set
    # The sale price list as the run found it, hashed (`review.sale_state`).
    sale_hashes: dict[str, str] = field(default_factory=dict)

    @cached_property
    def rows(self) -> list[PlanRow]:
        return self.make_rows()


def sync_products(
    catalog: SourceCatalog,
    categories: CategoryMap,
    index: ProductIndex,
    dummyjson: DummyJSONResource,
    medusa: MedusaResource,
    options: SyncOptions,
    *,
    scope: SyncScope | None = None,
    warn: Warn = lambda _: None,
    journal: RunJournal | None = None,
    gate: Gate | None = None,
    shared: SharedReads | None = None,
    index_read_now: bool = False,
) -> SyncOutcome:
    """Make the store match `catalog` (the steps after the reads). `journal` records what
    a writing run changes; `gate` may stop the run before its first product write;
    `shared`: the store-wide listings a scaled-out run read once for all its ranges;
    `index_read_now`: `index` was read just before, for every product of `catalog`."""
    started = time.time()
    requests_before, retries_before = medusa.requests_made, medusa.retries_made
    scope = scope or SyncScope()
    # Tags, collections and the sale price list do not depend on the categories or on
    # the product writes: made and read while those are.
    taxonomy_ahead = Ahead(
        prepare_taxonomy, catalog, medusa, dry_run=options.dry_run, policy=options.ownership
    )
    variants = {p.variant_id for p in index.products.values() if p.variant_id}
    sale_read = shared.sale_for(variants) if shared else None
    sale_ahead = (
        Ahead.done(sale_read)
        if sale_read is not None
        else Ahead(read_sale_prices_ahead, medusa, options.ownership)
    )
    if gate is not None:
        gate.check_sale_prices(sale_state(sale_ahead.result(), index))
    if categories.pending and not options.dry_run:
        categories = apply_category_map(categories, medusa)
    for slug, why in list(categories.failed.items())[:WARNINGS_SHOWN]:
        warn(f"category {slug!r} not synced: {why}")
    stock_owned = options.sync_stock and options.ownership.stock != IGNORE
    stock_wanted = stock_owned and not options.dry_run
    with ThreadPoolExecutor(max_workers=1) as background:
        # The stock location and the index's levels do not depend on the product writes:
        # read them while the products are planned and written.
        # A dry run reads them too, to show the levels it would set.
        ahead = None
        if stock_owned:
            stock_read = shared.stock_for(ahead_items(catalog, index)) if shared else None
            ahead = (
                done_future(stock_read)
                if stock_read is not None
                else read_stock_ahead(catalog, index, medusa, background)
            )
        sales_channel_id = medusa.default_sales_channel_id()
        images = _images(catalog, index, dummyjson, medusa, options, warn)
        shipping_profile_id = medusa.shipping_profile_id(options.shipping_profile)
        taxonomy = taxonomy_ahead.result()
        planning = RANGE_PLANNING if scope.id_range is not None else WHOLE_PLANNING

        def plan(of: SourceCatalog, against: ProductIndex, archive_fraction: float) -> SyncPlan:
            return plan_against_store(
                of,
                categories,
                against,
                medusa,
                sales_channel_id=sales_channel_id,
                max_archive_fraction=archive_fraction,
                images=images.resolved if images else None,
                shipping_profile_id=shipping_profile_id,
                allow_backorder=options.allow_backorder,
                policy=options.ownership,
                taxonomy=taxonomy.ids,
                index_fresh=index_read_now,
                **planning,
            )

        def replan(source_ids: set[int]) -> SyncPlan:
            return plan(*_rescoped(catalog, source_ids, medusa), 0.0)

        planned = plan(catalog, index, options.max_archive_fraction)
        for item in planned.quarantined[:WARNINGS_SHOWN]:
            warn(f"quarantined source product {item.source_id}: {item.reason}")
        if planned.archive_blocked_reason:
            warn(planned.archive_blocked_reason)
        if gate is not None:
            gate(planned)
        before = read_states(medusa, plan_product_ids(planned))
        if journal is not None and not options.dry_run:
            journal.begin_sync(planned, before)
        written: dict[str, str] = {}
        report = write_plan(
            planned, medusa, replan, dry_run=options.dry_run, inventory_items=written
        )
        levels: list[StockRow] = []
        if stock_wanted:
            items = stock_items(catalog, index, planned, written)
            stock = sync_stock(
                catalog,
                medusa,
                sales_channel_id,
                items,
                ahead,
                missing_only=options.ownership.stock == CREATE_ONLY,
            )
            if stock.error:
                warn(f"stock levels not synced: {stock.error}")
            report.stock_updated, report.stock_error = stock.stock_updated, stock.error
            sources = {item: sid for sid, item in items.known.items()}
            levels = stock_rows(stock.written, sources)
        elif ahead is not None:
            missing_only = options.ownership.stock == CREATE_ONLY
            levels = preview_stock(catalog, index, planned, ahead, missing_only=missing_only)
        sale = sync_sale_prices(
            sale_ahead.result(),
            catalog,
            index,
            planned,
            medusa,
            apply=options.apply_discounts,
            dry_run=options.dry_run,
            ownership=options.ownership.sale_price,
        )
        if journal is not None and not options.dry_run:
            journal.finish(
                medusa,
                stock=stock.written if stock_wanted else (),
                stock_sources=sources if stock_wanted else None,
                categories_created={h: categories.ids[h] for h in categories.created},
                sale_prices=sale.changes,
            )
    record_taxonomy(report, taxonomy, sale, warn)
    # A deleted double's prices are not the plan's changes: its products keep theirs.
    sold = [c for entry in sale.changes if not entry.deleted for c in entry.prices]
    for detail in report.error_details[:WARNINGS_SHOWN]:
        warn(f"write failed for {detail['ids']}: {detail['message']}")
    report.scope = scope.key
    report.identifiers_dropped = len(planned.identifiers_dropped)
    edits = [e.action for e in planned.merchant_edits]
    report.merchant_edits_overwritten = edits.count("overwritten")
    report.merchant_edits_kept = edits.count("kept")
    report.products = catalog.product_count
    report.quarantined += len(catalog.quarantined)
    report.consistent = catalog.consistent
    report.category_ids = dict(categories.ids)
    report.categories_created = len(categories.created)
    report.categories_renamed = len(categories.renamed)
    report.categories_failed = len(categories.failed) + (1 if categories.error else 0)
    if images is not None:
        report.images_uploaded, report.images_reused = images.uploaded, images.reused
        report.images_failed = images.failed
    report.pages_fetched = catalog.pages_fetched
    report.http_requests = catalog.http_requests + medusa.requests_made - requests_before
    report.retries = catalog.retries + medusa.retries_made - retries_before
    return SyncOutcome(
        report=report.finish(started),
        plan=planned,
        categories=categories,
        make_rows=lambda: add_sale_rows(plan_rows(planned, index, before, levels), sold, index),
        stock=levels,
        sale_hashes=sale_state(sale_ahead.result(), index),
    )


def sync_scope(
    scope: SyncScope,
    dummyjson: DummyJSONResource,
    medusa: MedusaResource,
    options: SyncOptions,
    *,
    shared: SharedReads | None = None,
    warn: Warn = lambda _: None,
    journal: RunJournal | None = None,
) -> SyncOutcome:
    """Every step for one scope, in one go (a range of a scaled-out sync). `shared`: the
    store-wide listings the run read once for all its ranges (`SharedReads`)."""
    started = time.time()
    catalog = read_source(scope, dummyjson)
    if not catalog.consistent:
        warn(f"{scope.key}: the source changed while it was read; archiving is off for it")
    categories = plan_category_map(catalog, dummyjson, medusa)
    index = read_index(scope, medusa, catalog, shared.links if shared else None)
    outcome = sync_products(
        catalog,
        categories,
        index,
        dummyjson,
        medusa,
        options,
        scope=scope,
        warn=warn,
        journal=journal,
        shared=shared,
        index_read_now=True,
    )
    outcome.report.finish(started)
    return outcome


def _images(
    catalog: SourceCatalog,
    index: ProductIndex,
    dummyjson: DummyJSONResource,
    medusa: MedusaResource,
    options: SyncOptions,
    warn: Warn,
) -> ImageReport | None:
    if not options.upload_images or options.ownership.images == IGNORE:
        return None
    if options.dry_run:  # upload nothing; plan with the copies the store already has
        return ImageReport(resolved=known_images(index))
    images = resolve_images(catalog, index, dummyjson, medusa)
    for failure in images.failures[:WARNINGS_SHOWN]:
        warn(f"image kept at its source URL: {failure}")
    return images


def _rescoped(
    catalog: SourceCatalog, source_ids: set[int], medusa: MedusaResource
) -> tuple[SourceCatalog, ProductIndex]:
    """These products of the catalog, and the store's products of theirs as they are now:
    a targeted plan (it never archives)."""
    prefix = medusa.external_id_prefix
    part = SourceCatalog(
        products=[p for p in catalog.products_view if p.id in source_ids],
        product_ids=sorted(source_ids),
    )
    rows = medusa.products_by_external_id(
        (external_id(prefix, i) for i in sorted(source_ids)), fields=INDEX_FIELDS
    )
    found = (indexed_product(prefix, r) for r in sorted(rows, key=lambda r: r["id"]))
    return part, ProductIndex.build(prefix, (f for f in found if f is not None))
