"""One source-id range of a scaled-out sync, with I/O only through the resources.

Each range is synced on its own, in its own process when the job's executor runs ranges
in parallel: it reads only its products from the source (a bisection to the range, then
pages), looks up only the store's products of its ids, plans with the same pure planning
as the one-process sync (`product_sync.sync.plan_against_store`), writes in batches
(`apply_plan`), and sets stock for its products. Nothing is shared between ranges but
Medusa itself, so memory per process follows the range size, not the catalog size.

Handles across ranges. Two ranges can plan the same handle at the same moment (two new
products titled alike, one per range): each checks the store before writing, neither sees
the other's product yet, and Medusa's unique index on `product.handle` refuses the second
create. The refused product is then planned again, with the handle now in the store and so
marked taken (`plan_against_store` asks the store which planned handles are in use), and
written again, at most `MAX_CLASH_ROUNDS` times. Handles stay unique and, once given, never
change; what partitioning changes is only which of two same-titled products in different
ranges gets the bare slug (whichever is written first) - coordination-free schemes (a
range-specific suffix) would have changed the handle rule itself, and handles are URLs.

Archiving happens within the range only (the store's products of other ranges are never in
a range's index), only when the range was read consistently, and under the same
`max_archive_fraction` guardrail, counted per range.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel

from product_sync.core.catalog import SourceCatalog, validate_records
from product_sync.core.inventory import plan_stock
from product_sync.core.mapping import external_id, source_id_of
from product_sync.core.planning import ProductIndex
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
)

MAX_CLASH_ROUNDS = 3


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
        ids = sorted(held | {p.id for p in catalog.products})
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
    """Plan against the store and write; then plan again and write what a concurrent
    range's product took the handle of (see the module docstring). Returns the report
    and how many creates were planned again."""
    prefix = medusa.external_id_prefix
    plan = plan_against_store(
        catalog,
        categories,
        index,
        medusa,
        sales_channel_id=sales_channel_id,
        max_archive_fraction=max_archive_fraction,
    )
    report = apply_plan(plan, medusa, dry_run=dry_run)
    replans = 0
    for _ in range(MAX_CLASH_ROUNDS):
        clashed = _clashed_handles(report, prefix)
        if not clashed or dry_run:
            break
        replans += len(clashed)
        again = SourceCatalog(
            products=[p for p in catalog.products if p.id in clashed],
            product_ids=sorted(clashed),  # targeted: never archives
        )
        rows = medusa.products_by_external_id(
            (external_id(prefix, i) for i in sorted(clashed)), fields=INDEX_FIELDS
        )
        found = (indexed_product(prefix, r) for r in sorted(rows, key=lambda r: r["id"]))
        retry = apply_plan(
            plan_against_store(
                again,
                categories,
                ProductIndex.build(prefix, (f for f in found if f is not None)),
                medusa,
                sales_channel_id=sales_channel_id,
                max_archive_fraction=0.0,
            ),
            medusa,
            dry_run=False,
        )
        kept = [
            d
            for d in report.error_details
            if not {source_id_of(prefix, e) for e in d["ids"]} <= clashed
        ]
        report.created += retry.created
        report.updated += retry.updated
        report.recovered += retry.recovered
        report.error_details = kept + retry.error_details
        report.errors = sum(len(d["ids"]) for d in report.error_details)
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
                medusa.external_id_prefix, [p.id for p in catalog.products]
            )
            wanted = {items[p.id]: p.stock for p in catalog.products if p.id in items}
            return plan_stock(wanted, medusa.stock_levels(location_id, list(wanted)), location_id)

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
        products=len(catalog.products),
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
