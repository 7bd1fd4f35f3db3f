"""The four software-defined assets of the catalog sync. Thin: each is one step of the
engine (`product_sync.sync`), plus what the Dagster UI shows of it."""

import dagster as dg
from pydantic import Field

from product_sync import names
from product_sync.core.catalog import SourceCatalog
from product_sync.core.planning import ProductIndex
from product_sync.defs.catalog_sync import metadata, review
from product_sync.defs.catalog_sync.settings import SyncSettings
from product_sync.defs.operations.freshness import SYNC_FRESHNESS_POLICY
from product_sync.defs.run_files import run_dir
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.medusa import MedusaResource
from product_sync.sync import (
    CategoryMap,
    SyncReport,
    SyncScope,
    plan_category_map,
    read_index,
    read_source,
    sync_products,
)
from product_sync.sync.journal import RunJournal
from product_sync.sync.review import PlanMoved

OWNERS = ["team:catalog"]


class SourceConfig(dg.Config):
    product_ids: list[int] = Field(
        default_factory=list,
        description="Sync only these DummyJSON ids (nothing is archived). Empty: everything.",
    )


class SyncConfig(dg.Config):
    dry_run: bool = Field(
        default=False,
        description="Plan and report, write nothing anywhere (categories and stock included).",
    )
    max_archive_fraction: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Archive nothing if more than this share of our products would go.",
    )
    apply_plan: str | None = Field(
        default=None,
        description=(
            "Run id of a dry run whose plan to apply exactly (with the same product_ids)."
            " Refused, writing nothing, if the source or the store moved since."
        ),
    )


@dg.asset(
    name=names.SOURCE_ASSET, group_name=names.CATALOG_GROUP, kinds={"dummyjson"}, owners=OWNERS
)
def dummyjson_products(
    context: dg.AssetExecutionContext, config: SourceConfig, dummyjson: DummyJSONResource
) -> SourceCatalog:
    """Every product from DummyJSON (all pages, fetched in parallel), validated; bad
    records are quarantined with a reason instead of failing the run."""
    catalog = read_source(SyncScope(product_ids=tuple(config.product_ids)), dummyjson)
    for item in catalog.quarantined[:20]:
        context.log.warning(f"quarantined source product {item.source_id}: {item.reason}")
    if catalog.duplicate_ids:
        context.log.warning(
            f"source repeated ids {catalog.duplicate_ids[:20]}; kept the first of each"
        )
    if not catalog.consistent:
        context.log.warning("the catalog changed while it was read; archiving is off this run")
    if catalog.missing_ids:
        context.log.warning(f"source does not know ids {catalog.missing_ids[:20]}")
    context.add_output_metadata(
        {
            "dagster/row_count": catalog.product_count,
            "products": catalog.product_count,
            "quarantined": len(catalog.quarantined),
            "duplicate_ids": len(catalog.duplicate_ids),
            "total_reported": catalog.total_reported,
            "pages_fetched": catalog.pages_fetched,
            "consistent": catalog.consistent,
            "http_requests": catalog.http_requests,
            "retries": catalog.retries,
            "quarantine": metadata.quarantine_table(catalog.quarantined),
            "source": dg.MetadataValue.url(f"{dummyjson.base_url.rstrip('/')}/products"),
        }
    )
    return catalog


@dg.asset(
    name=names.CATEGORY_ASSET,
    group_name=names.CATALOG_GROUP,
    kinds={"dummyjson", "medusa"},
    owners=OWNERS,
)
def category_map(
    context: dg.AssetExecutionContext,
    dummyjson_products: SourceCatalog,
    dummyjson: DummyJSONResource,
    medusa: MedusaResource,
) -> CategoryMap:
    """DummyJSON category slug -> Medusa product-category id, and the categories still to
    create or rename (`synced_products` does that, unless it is a dry run). Reads only."""
    result = plan_category_map(dummyjson_products, dummyjson, medusa)
    if result.error:
        context.log.warning(f"category step: {result.error}")
    context.add_output_metadata(
        {
            "dagster/row_count": len(result.ids) + len(result.to_create),
            "categories": len(result.ids),
            "to_create": len(result.to_create),
            "to_rename": len(result.to_rename),
            "failed": 1 if result.error else 0,
        }
    )
    return result


@dg.asset(name=names.INDEX_ASSET, group_name=names.CATALOG_GROUP, kinds={"medusa"}, owners=OWNERS)
def medusa_product_index(context: dg.AssetExecutionContext, medusa: MedusaResource) -> ProductIndex:
    """The store's products that this pipeline owns, keyed by their external id."""
    index = read_index(SyncScope(), medusa)
    if index.duplicates:
        context.log.warning(
            f"{len(index.duplicates)} extra products share an external id with another; "
            "they will be retired (set to draft, taken out of the namespace)"
        )
    context.add_output_metadata(
        {
            "dagster/row_count": len(index.products),
            "owned_products": len(index.products),
            "archived": sum(1 for p in index.products.values() if p.archived),
            "duplicates": len(index.duplicates),
            "http_requests": medusa.requests_made,
            "store": metadata.admin_products_url(medusa.backend_url),
        }
    )
    return index


@dg.asset(
    name=names.SYNC_ASSET,
    group_name=names.CATALOG_GROUP,
    kinds={"medusa"},
    owners=OWNERS,
    freshness_policy=SYNC_FRESHNESS_POLICY,
)
def synced_products(
    context: dg.AssetExecutionContext,
    config: SyncConfig,
    dummyjson_products: SourceCatalog,
    category_map: CategoryMap,
    medusa_product_index: ProductIndex,
    dummyjson: DummyJSONResource,
    medusa: MedusaResource,
    sync_settings: SyncSettings,
) -> SyncReport:
    """The diff between source and store, applied in batches, and what it did; the plan
    (every run's, also a dry run's) and the journal of what it wrote are in the run's
    artifact storage, so it can be applied later (`apply_plan`) or undone (`revert_sync_run`)."""
    options = sync_settings.options(
        dry_run=config.dry_run, max_archive_fraction=config.max_archive_fraction
    )
    inputs = (dummyjson_products, category_map, medusa_product_index)
    gate = None
    if config.apply_plan:
        options, gate = review.approved(context.instance, config.apply_plan, *inputs, options)
    scope = SyncScope(product_ids=tuple(dummyjson_products.product_ids or ()))
    run_id = context.run.run_id
    files = run_dir(context.instance, run_id)
    journal = RunJournal(files, run_id)
    try:
        outcome = sync_products(
            dummyjson_products,
            category_map,
            medusa_product_index,
            dummyjson,
            medusa,
            options,
            scope=scope,
            warn=context.log.warning,
            journal=journal,
            gate=gate,
        )
    except PlanMoved as moved:
        raise review.refusal(moved) from None
    # The plan first: it is what a person reads on the materialization; the numbers follow.
    plan = review.plan_output(run_id, files, outcome, *inputs, options, journal.path)
    numbers = metadata.sync_metadata(outcome, dummyjson_products, medusa.backend_url)
    context.add_output_metadata({**plan, **numbers})
    return outcome.report
