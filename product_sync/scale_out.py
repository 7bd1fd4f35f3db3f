"""One source-id range of a scaled-out sync, with I/O only through the resources.

Each range is synced on its own, in its own process when the job's executor runs ranges
in parallel: it reads only its products from the source (a bisection to the range, then
pages), looks up only the store's products of its ids, plans as the one-process sync
does (`product_sync.sync.plan_against_store`, probing handles wider), writes in batches
(`apply_plan`), and sets stock for its products. Nothing is shared between ranges but
Medusa itself, so memory per process follows the range size, not the catalog size.

Handles across ranges. Two ranges can plan the same handle (two new products titled
alike, one per range): neither sees the other's product when it plans. So a range checks
its creates' handles against the store again just before each group of batches goes out,
and plans again those whose handle another range has taken meanwhile; and when the two
writes still cross (within the moment between check and write), Medusa's unique index on
`product.handle` refuses the second create, which is then planned again the same way (the
handle now in the store and so marked taken), at most `MAX_CLASH_ROUNDS` times. Handles
stay unique and, once given, never change; what partitioning changes is only which of two
same-titled products in different ranges gets the bare slug (whichever is written first).
Coordination-free schemes (a range-specific suffix) would have changed the handle rule
itself, and handles are URLs.

Archiving happens within the range only (the store's products of other ranges are never in
a range's index), only when the range was read consistently, and under the same
`max_archive_fraction` guardrail, counted per range.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel

from product_sync.core.catalog import SourceCatalog, validate_records
from product_sync.core.mapping import external_id, source_id_of
from product_sync.core.planning import ProductIndex, SyncPlan
from product_sync.core.ranges import IdRange
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.http import ClientError, HTTPError
from product_sync.resources.medusa import INDEX_FIELDS, MedusaResource, indexed_product
from product_sync.sync import (
    CategoryMap,
    StockReport,
    SyncReport,
    apply_plan,
    build_category_map,
    plan_against_store,
    stock_plan,
)

MAX_CLASH_ROUNDS = 3
# A range's index holds only its own products, so the handles other ranges gave to
# same-titled products are unknown to it, and in a 100k catalog one title can have dozens
# (`…-bike`, `…-bike-1` … `…-bike-40`): each handle found taken brings its next 20
# candidates into the same question, so a few rounds settle even long runs of suffixes.
RANGE_PLANNING = {"rounds": 8, "probe_width": 20}
CHECKED_BATCHES = 2  # create batches sent per check of their handles against the store


class RangeReport(BaseModel):
    """What one range did; numbers only, plus the first few error messages."""

    key: str
    products: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0
    duplicates_retired: int = 0
    recovered: int = 0
    quarantined: int = 0
    errors: int = 0
    error_details: list[dict[str, Any]] = []
    handle_replans: int = 0
    stock_updated: int = 0
    stock_error: str | None = None
    consistent: bool = True
    archive_blocked_reason: str | None = None
    pages_fetched: int = 0
    http_requests: int = 0
    started_at: float = 0.0
    ended_at: float = 0.0
    seconds: float = 0.0
    products_per_s: float = 0.0

    @property
    def writes(self) -> int:
        return self.created + self.updated + self.archived + self.duplicates_retired


def read_range(id_range: IdRange, dummyjson: DummyJSONResource) -> SourceCatalog:
    read = dummyjson.read_id_range(id_range.lo, id_range.hi)
    products, quarantined, duplicate_ids = validate_records(read.records)
    return SourceCatalog(
        products=products,
        quarantined=quarantined,
        duplicate_ids=duplicate_ids,
        total_reported=read.total,
        pages_fetched=read.pages,
        consistent=read.consistent,
    )


def range_index(id_range: IdRange, catalog: SourceCatalog, medusa: MedusaResource) -> ProductIndex:
    """The store's products whose source ids fall in the range, oldest first.

    A closed range looks up each of its ids; the open last range also has to find products
    we hold beyond the source's last id (removed at the end of the catalog), so it lists
    the store's external ids once with nothing else.
    """
    prefix = medusa.external_id_prefix
    if id_range.hi is not None:
        ids: list[int] = list(range(id_range.lo, id_range.hi + 1))
    else:
        held = {
            source_id
            for product in medusa.iter_owned(prefix, "id")
            if (source_id := source_id_of(prefix, product.get("external_id"))) in id_range
        }
        ids = sorted(held | catalog.source_ids)
    rows = medusa.products_by_external_id(
        (external_id(prefix, i) for i in ids), fields=INDEX_FIELDS
    )
    indexed = (indexed_product(prefix, row) for row in sorted(rows, key=lambda r: r["id"]))
    return ProductIndex.build(
        prefix, (i for i in indexed if i is not None and i.source_id in id_range)
    )


def _clashed_handles(report: SyncReport, prefix: str) -> set[int]:
    """Source ids whose create Medusa refused for a handle another product now holds."""
    return {
        source_id
        for detail in report.error_details
        if "handle" in detail["message"].lower()
        for ext_id in detail["ids"]
        if (source_id := source_id_of(prefix, ext_id)) is not None
    }


def _replan(
    source_ids: set[int],
    catalog: SourceCatalog,
    categories: CategoryMap,
    medusa: MedusaResource,
    sales_channel_id: str | None,
) -> SyncReport:
    """Plan these products again against the store as it is now (a handle another range
    took is then in use, so marked taken) and write them. Targeted: never archives."""
    prefix = medusa.external_id_prefix
    again = SourceCatalog(
        products=[p for p in catalog.products_view if p.id in source_ids],
        product_ids=sorted(source_ids),
    )
    rows = medusa.products_by_external_id(
        (external_id(prefix, i) for i in sorted(source_ids)), fields=INDEX_FIELDS
    )
    found = (indexed_product(prefix, r) for r in sorted(rows, key=lambda r: r["id"]))
    plan = plan_against_store(
        again,
        categories,
        ProductIndex.build(prefix, (f for f in found if f is not None)),
        medusa,
        sales_channel_id=sales_channel_id,
        max_archive_fraction=0.0,
        **RANGE_PLANNING,
    )
    return apply_plan(plan, medusa, dry_run=False)


def _add(report: SyncReport, more: SyncReport) -> None:
    report.created += more.created
    report.updated += more.updated
    report.archived += more.archived
    report.duplicates_retired += more.duplicates_retired
    report.recovered += more.recovered
    report.error_details = report.error_details + more.error_details
    report.errors = sum(len(d["ids"]) for d in report.error_details)


def write_with_replans(
    catalog: SourceCatalog,
    categories: CategoryMap,
    index: ProductIndex,
    medusa: MedusaResource,
    *,
    sales_channel_id: str | None,
    max_archive_fraction: float,
    dry_run: bool = False,
) -> tuple[SyncReport, int]:
    """Plan against the store and write, keeping other ranges' handles out of the way
    (see the module docstring). Returns the report and how many creates were planned
    again.

    Creates go out a few batches at a time, each group's handles checked against the
    store just before it is sent: a range plans all its creates at once but writes them
    over minutes, and without the check every same-titled product another range wrote
    meanwhile would cost a refused batch. Creates refused anyway (a handle taken in the
    moment between check and write) are planned again afterwards.
    """
    prefix = medusa.external_id_prefix
    plan = plan_against_store(
        catalog,
        categories,
        index,
        medusa,
        sales_channel_id=sales_channel_id,
        max_archive_fraction=max_archive_fraction,
        **RANGE_PLANNING,
    )
    if dry_run:
        return apply_plan(plan, medusa, dry_run=True), 0
    report = apply_plan(plan.model_copy(update={"creates": []}), medusa, dry_run=False)
    late: set[int] = set()
    group = medusa.batch_size * CHECKED_BATCHES
    for start in range(0, len(plan.creates), group):
        creates = plan.creates[start : start + group]
        taken = medusa.handles_in_use(c.handle for c in creates) if start else set()
        late |= {c.source_id for c in creates if c.handle in taken}
        ready = [c for c in creates if c.handle not in taken]
        _add(report, apply_plan(SyncPlan(creates=ready), medusa, dry_run=False))
    replans = len(late)
    if late:
        _add(report, _replan(late, catalog, categories, medusa, sales_channel_id))
    for _ in range(MAX_CLASH_ROUNDS):
        clashed = _clashed_handles(report, prefix)
        if not clashed:
            break
        replans += len(clashed)
        report.error_details = [
            d
            for d in report.error_details
            if not {source_id_of(prefix, e) for e in d["ids"]} <= clashed
        ]
        _add(report, _replan(clashed, catalog, categories, medusa, sales_channel_id))
    return report, replans


def sync_range_stock(
    catalog: SourceCatalog, medusa: MedusaResource, sales_channel_id: str | None
) -> StockReport:
    """`sync_stock` for the range's products only (their inventory items looked up by id,
    not the whole store's listed)."""
    try:
        location_id = medusa.ensure_stock_location(medusa.stock_location_name, sales_channel_id)

        def planned():
            items = medusa.inventory_items_for(
                medusa.external_id_prefix, sorted(catalog.source_ids)
            )
            return stock_plan(catalog, medusa, location_id, items)

        plan = planned()
        try:
            written = medusa.write_stock_levels(plan.create, plan.update)
        except ClientError:
            plan = planned()
            written = medusa.write_stock_levels(plan.create, plan.update)
    except HTTPError as error:
        return StockReport(error=str(error))
    return StockReport(stock_updated=written, stock_unchanged=plan.unchanged)


def sync_id_range(
    id_range: IdRange,
    dummyjson: DummyJSONResource,
    medusa: MedusaResource,
    *,
    max_archive_fraction: float = 0.2,
    dry_run: bool = False,
) -> RangeReport:
    """Sync the products whose source ids fall in `id_range`."""
    started_at, started = time.time(), time.perf_counter()
    requests_before = medusa.requests_made + dummyjson.requests_made
    catalog = read_range(id_range, dummyjson)
    categories = build_category_map(catalog, dummyjson, medusa)
    index = range_index(id_range, catalog, medusa)
    sales_channel_id = medusa.default_sales_channel_id()
    report, replans = write_with_replans(
        catalog,
        categories,
        index,
        medusa,
        sales_channel_id=sales_channel_id,
        max_archive_fraction=max_archive_fraction,
        dry_run=dry_run,
    )
    stock = StockReport()
    if medusa.sync_stock and not dry_run:
        stock = sync_range_stock(catalog, medusa, sales_channel_id)
    seconds = time.perf_counter() - started
    processed = report.created + report.updated + report.unchanged
    return RangeReport(
        key=id_range.key,
        products=catalog.product_count,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        archived=report.archived,
        duplicates_retired=report.duplicates_retired,
        recovered=report.recovered,
        quarantined=len(catalog.quarantined) + report.quarantined,
        errors=report.errors,
        error_details=report.error_details[:20],
        handle_replans=replans,
        stock_updated=stock.stock_updated,
        stock_error=stock.error,
        consistent=catalog.consistent,
        archive_blocked_reason=report.archive_blocked_reason,
        pages_fetched=catalog.pages_fetched,
        http_requests=medusa.requests_made + dummyjson.requests_made - requests_before,
        started_at=started_at,
        ended_at=time.time(),
        seconds=round(seconds, 3),
        products_per_s=round(processed / seconds, 1) if seconds else 0.0,
    )
