"""The four software-defined assets of the catalog sync. Thin: the work is in
`product_sync.core` (pure) and `product_sync.sync` (through the resources)."""

import time
from concurrent.futures import Executor, ThreadPoolExecutor

import dagster as dg
from pydantic import Field

from product_sync.core.catalog import SourceCatalog, validate_page
from product_sync.core.planning import ProductIndex
from product_sync.defs.operations.freshness import SYNC_FRESHNESS_POLICY
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.medusa import MedusaResource
from product_sync.sync import (
    CategoryMap,
    ImageReport,
    SyncReport,
    apply_plan,
    build_category_map,
    category_counts,
    known_images,
    plan_against_store,
    read_stock_ahead,
    resolve_images,
    stock_items,
    sync_stock,
)

GROUP = "catalog_sync"


class SourceConfig(dg.Config):
    product_ids: list[int] = Field(
        default_factory=list,
        description="Sync only these DummyJSON ids (nothing is archived). Empty: everything.",
    )


class SyncConfig(dg.Config):
    dry_run: bool = Field(default=False, description="Plan and report, write nothing.")
    max_archive_fraction: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Archive nothing if more than this share of our products would go.",
    )


@dg.asset(group_name=GROUP, kinds={"python"})
def dummyjson_products(
    context: dg.AssetExecutionContext, config: SourceConfig, dummyjson: DummyJSONResource
) -> SourceCatalog:
    """Every product from DummyJSON (all pages, fetched in parallel), validated; bad
    records are quarantined with a reason instead of failing the run."""
    if config.product_ids:
        read = dummyjson.read_products(config.product_ids)
        pages = [validate_page(read.records)]
    else:
        read = dummyjson.read_catalog(parse=validate_page)
        pages = read.records
    catalog = SourceCatalog.from_pages(
        pages,
        product_ids=sorted(set(config.product_ids)) or None,
        total_reported=read.total,
        pages_fetched=read.pages,
        consistent=read.consistent,
        http_requests=dummyjson.requests_made,
        retries=dummyjson.retries_made,
    )
    quarantined, duplicate_ids = catalog.quarantined, catalog.duplicate_ids
    for item in quarantined:
        context.log.warning(f"quarantined source product {item.source_id}: {item.reason}")
    if duplicate_ids:
        context.log.warning(f"source repeated ids {duplicate_ids[:20]}; kept the first of each")
    if not read.consistent:
        context.log.warning("the catalog changed while it was read; archiving is off this run")
    if read.missing_ids:
        context.log.warning(f"source does not know ids {read.missing_ids[:20]}")
    context.add_output_metadata(
        {
            "products": catalog.product_count,
            "quarantined": len(quarantined),
            "duplicate_ids": len(duplicate_ids),
            "total_reported": read.total,
            "pages_fetched": read.pages,
            "consistent": read.consistent,
            "http_requests": catalog.http_requests,
            "retries": catalog.retries,
            "quarantine": dg.MetadataValue.json(
                [q.model_dump(exclude={"record"}) for q in quarantined[:200]]
            ),
        }
    )
    return catalog


@dg.asset(group_name=GROUP, kinds={"python"})
def category_map(
    context: dg.AssetExecutionContext,
    dummyjson_products: SourceCatalog,
    dummyjson: DummyJSONResource,
    medusa: MedusaResource,
) -> CategoryMap:
    """DummyJSON category slug -> Medusa product-category id; missing ones created."""
    result = build_category_map(dummyjson_products, dummyjson, medusa)
    if result.error:
        context.log.warning(f"category step: {result.error}")
    for slug, why in result.failed.items():
        context.log.warning(f"category {slug!r} not synced: {why}")
    context.add_output_metadata(
        {
            "categories": len(result.ids),
            "created": len(result.created),
            "renamed": len(result.renamed),
            "failed": len(result.failed) + (1 if result.error else 0),
        }
    )
    return result


@dg.asset(group_name=GROUP, kinds={"python"})
def medusa_product_index(context: dg.AssetExecutionContext, medusa: MedusaResource) -> ProductIndex:
    """The store's products that this pipeline owns, keyed by their external id."""
    index = ProductIndex.build(medusa.external_id_prefix, medusa.index(medusa.external_id_prefix))
    if index.duplicates:
        context.log.warning(
            f"{len(index.duplicates)} extra products share an external id with another; "
            "they will be retired (set to draft, taken out of the namespace)"
        )
    context.add_output_metadata(
        {
            "owned_products": len(index.products),
            "archived": sum(1 for p in index.products.values() if p.archived),
            "duplicates": len(index.duplicates),
            "http_requests": medusa.requests_made,
        }
    )
    return index


@dg.asset(group_name=GROUP, kinds={"python"}, freshness_policy=SYNC_FRESHNESS_POLICY)
def synced_products(
    context: dg.AssetExecutionContext,
    config: SyncConfig,
    dummyjson_products: SourceCatalog,
    category_map: CategoryMap,
    medusa_product_index: ProductIndex,
    dummyjson: DummyJSONResource,
    medusa: MedusaResource,
) -> SyncReport:
    """The diff between source and store, applied in batches, and what it did."""
    started = time.perf_counter()
    requests_before, retries_before = medusa.requests_made, medusa.retries_made
    with ThreadPoolExecutor(max_workers=1) as background:
        report, images = _plan_write_and_stock(
            context,
            config,
            dummyjson_products,
            medusa_product_index,
            category_map,
            dummyjson,
            medusa,
            background,
        )
    report.duration_s = time.perf_counter() - started
    report.http_requests = dummyjson_products.http_requests + medusa.requests_made - requests_before
    report.retries = dummyjson_products.retries + medusa.retries_made - retries_before
    processed = report.created + report.updated + report.unchanged
    report.products_per_s = round(processed / report.duration_s, 1) if report.duration_s else 0.0
    for detail in report.error_details:
        context.log.error(f"write failed for {detail['ids']}: {detail['message']}")
    context.add_output_metadata(
        {
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "archived": report.archived,
            "stock_updated": report.stock_updated,
            "images_uploaded": images.uploaded if images else 0,
            "images_reused": images.reused if images else 0,
            "images_failed": images.failed if images else 0,
            "quarantined": len(dummyjson_products.quarantined) + report.quarantined,
            "errors": report.errors,
            "duration_s": round(report.duration_s, 3),
            "products_per_s": report.products_per_s,
            "pages_fetched": dummyjson_products.pages_fetched,
            "http_requests": report.http_requests,
            "retries": report.retries,
            "dry_run": config.dry_run,
            "archive_blocked": 1 if report.archive_blocked_reason else 0,
            "products_by_category": dg.MetadataValue.json(category_counts(dummyjson_products)),
        }
    )
    return report


def _plan_write_and_stock(
    context: dg.AssetExecutionContext,
    config: SyncConfig,
    dummyjson_products: SourceCatalog,
    medusa_product_index: ProductIndex,
    category_map: CategoryMap,
    dummyjson: DummyJSONResource,
    medusa: MedusaResource,
    background: Executor,
) -> tuple[SyncReport, ImageReport | None]:
    """`synced_products`' work. Meanwhile, `background` reads the stock location and the
    levels of the inventory items the index names: neither depends on the product writes,
    so their round trips overlap the sales channel read, planning and writing."""
    stock_wanted = medusa.sync_stock and not config.dry_run
    ahead = None
    if stock_wanted:
        ahead = read_stock_ahead(dummyjson_products, medusa_product_index, medusa, background)
    sales_channel_id = medusa.default_sales_channel_id()
    images = None
    if medusa.upload_images:
        if config.dry_run:  # upload nothing; plan with the copies the store already has
            images = ImageReport(resolved=known_images(medusa_product_index))
        else:
            images = resolve_images(dummyjson_products, medusa_product_index, dummyjson, medusa)
        for failure in images.failures[:20]:
            context.log.warning(f"image kept at its source URL: {failure}")
    plan = plan_against_store(
        dummyjson_products,
        category_map,
        medusa_product_index,
        medusa,
        sales_channel_id=sales_channel_id,
        max_archive_fraction=config.max_archive_fraction,
        images=images.resolved if images else None,
    )
    for item in plan.quarantined:
        context.log.warning(f"quarantined source product {item.source_id}: {item.reason}")
    if plan.archive_blocked_reason:
        context.log.warning(plan.archive_blocked_reason)
    written: dict[str, str] = {}
    report = apply_plan(plan, medusa, dry_run=config.dry_run, inventory_items=written)
    if stock_wanted:
        items = stock_items(dummyjson_products, medusa_product_index, plan, written)
        stock = sync_stock(dummyjson_products, medusa, sales_channel_id, items, ahead)
        if stock.error:
            context.log.warning(f"stock levels not synced: {stock.error}")
        report.stock_updated, report.stock_error = stock.stock_updated, stock.error
    return report, images
