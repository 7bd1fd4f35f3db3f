"""Asset checks on `synced_products`: the store, read fresh, against the source.

One listing of the store feeds all of them, so checking costs one paged read however many
checks there are.
"""

import dagster as dg

from product_sync import names
from product_sync.core import audit
from product_sync.core.catalog import SourceCatalog
from product_sync.core.mapping import source_id_of
from product_sync.core.ownership import CREATE_ONLY, IGNORE, SOURCE
from product_sync.core.planning import ProductIndex
from product_sync.core.taxonomy import ProductTaxonomy
from product_sync.defs.catalog_sync.metadata import table
from product_sync.defs.catalog_sync.settings import SyncSettings
from product_sync.resources.medusa import MedusaResource, indexed_product
from product_sync.resources.medusa.rows import LISTING_FIELDS
from product_sync.sync import CategoryMap, SyncReport, known_images, plan_against_store, stock_plan

ASSET = names.SYNC_ASSET
CHECK_FIELDS = LISTING_FIELDS  # categories: read apart (`owned_rows`)
INPUTS = [names.SOURCE_ASSET, names.CATEGORY_ASSET]

SPECS = [
    dg.AssetCheckSpec(
        "no_duplicate_external_ids",
        asset=ASSET,
        additional_deps=INPUTS,
        blocking=True,
        description="No two products in the store carry the same one of our external ids.",
    ),
    dg.AssetCheckSpec(
        "no_duplicate_handles",
        asset=ASSET,
        additional_deps=INPUTS,
        blocking=True,
        description="No two of our products share a handle.",
    ),
    dg.AssetCheckSpec(
        "every_source_product_present_once",
        asset=ASSET,
        additional_deps=INPUTS,
        description="Each valid source product is in the store exactly once, published.",
    ),
    dg.AssetCheckSpec(
        "categories_linked",
        asset=ASSET,
        additional_deps=INPUTS,
        description="Each product is linked to its category.",
    ),
    dg.AssetCheckSpec(
        "prices_match_source",
        asset=ASSET,
        additional_deps=INPUTS,
        blocking=True,
        description="Each product's USD price equals the source price, to the cent.",
    ),
    dg.AssetCheckSpec(
        "idempotent",
        asset=ASSET,
        additional_deps=INPUTS,
        description="Planning again against the store now yields no writes.",
    ),
    dg.AssetCheckSpec(
        "stock_matches_source",
        asset=ASSET,
        additional_deps=INPUTS,
        description="Stock at the sync's stock location equals the source's `stock`.",
    ),
    dg.AssetCheckSpec(
        "no_quarantined_records",
        asset=ASSET,
        additional_deps=INPUTS,
        description="No source record was refused (a warning: the rest still synced).",
    ),
]


@dg.multi_asset_check(
    specs=SPECS,
    ins={
        "synced_products": dg.AssetIn(names.SYNC_ASSET),
        "dummyjson_products": dg.AssetIn(names.SOURCE_ASSET),
    },
)
def synced_products_checks(
    synced_products: SyncReport,
    dummyjson_products: SourceCatalog,
    medusa: MedusaResource,
    sync_settings: SyncSettings,
):
    """A product missing after a failed batch is reported (ERROR) without failing the run:
    the brief keeps runs green unless the whole job fails. Duplicates and wrong prices
    are bad data, so those checks block. A dry run wrote nothing, so its findings are
    only warnings. The checks only read: a missing stock location fails the stock check
    rather than being created here."""
    prefix = medusa.external_id_prefix
    listing = list(medusa.owned_rows(prefix, fields=CHECK_FIELDS))
    source = dummyjson_products.products
    if not dummyjson_products.full_catalog:
        wanted = {p.id for p in source}
        listing = [p for p in listing if source_id_of(prefix, p["external_id"]) in wanted]

    def result(
        name: str,
        finding: audit.Finding,
        severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
        **extra: int,
    ) -> dg.AssetCheckResult:
        if synced_products.dry_run:
            severity = dg.AssetCheckSeverity.WARN
        return dg.AssetCheckResult(
            check_name=name,
            asset_key=ASSET,
            passed=finding.passed,
            severity=severity,
            metadata={**_offenders(finding), **extra},
        )

    index = ProductIndex.build(prefix, filter(None, (indexed_product(prefix, p) for p in listing)))
    # What the merchant owns is not held against the store (`create_only` / `ignore`).
    policy = sync_settings.ownership.policy()
    owned = {name: policy.of(name) is SOURCE for name in ("status", "category", "price")}
    # Archives are left out: whether they happen depends on the run's guardrail setting.
    sales_channel_id = medusa.default_sales_channel_id()
    # The links the sync planned with, categories it created this run included.
    category_map = CategoryMap(ids=synced_products.category_ids)
    plan = plan_against_store(
        dummyjson_products,
        category_map,
        index,
        medusa,
        sales_channel_id=sales_channel_id,
        max_archive_fraction=0.0,
        # The copies the store holds are the ones the sync linked: no need to fetch again.
        images=known_images(index) if sync_settings.upload_images else None,
        shipping_profile_id=medusa.shipping_profile_id(sync_settings.shipping_profile),
        allow_backorder=sync_settings.allow_backorder,
        policy=policy,
        taxonomy=ProductTaxonomy(
            tag_ids=synced_products.tag_ids, collection_ids=synced_products.collection_ids
        ),
    )
    # Records refused at planning (a SKU or barcode another record holds) are quarantined,
    # not missing: they count below as quarantined, not against presence or prices.
    refused = {q.source_id for q in plan.quarantined}
    source = [p for p in source if p.id not in refused]

    yield result("no_duplicate_external_ids", audit.duplicate_values(listing, "external_id"))
    yield result("no_duplicate_handles", audit.duplicate_values(listing, "handle"))
    yield result(
        "every_source_product_present_once",
        audit.present_exactly_once(prefix, source, listing, merchant_status=not owned["status"]),
    )
    if owned["category"]:
        yield result(
            "categories_linked",
            audit.categories_linked(prefix, source, category_map.ids, listing),
        )
    else:
        yield result("categories_linked", audit.finding([]), skipped=1)
    if owned["price"]:
        yield result("prices_match_source", audit.prices_match(prefix, source, listing))
    else:
        yield result("prices_match_source", audit.finding([]), skipped=1)
    pending = [w.source_id for w in plan.creates + plan.updates]
    yield result("idempotent", audit.finding(pending), **plan.counts())
    stock_synced = sync_settings.sync_stock and policy.stock is not IGNORE
    locations = medusa.stock_locations(medusa.stock_location_name) if stock_synced else []
    if stock_synced and not locations:
        yield result(
            "stock_matches_source",
            audit.finding([medusa.stock_location_name]),
            no_stock_location=1,
        )
    elif stock_synced:
        location_id = locations[0]["id"]
        # The listing above was read after the sync and names each variant's item.
        items = {
            source_id: product.inventory_item_id
            for source_id, product in index.products.items()
            if product.inventory_item_id
        }
        stock = stock_plan(
            dummyjson_products,
            medusa,
            location_id,
            items,
            missing_only=policy.stock is CREATE_ONLY,
        )
        off = [level["inventory_item_id"] for level in stock.create + stock.update]
        yield result("stock_matches_source", audit.finding(off))
    else:
        yield result("stock_matches_source", audit.finding([]), skipped=1)
    yield result(
        "no_quarantined_records",
        audit.finding([q.source_id for q in dummyjson_products.quarantined] + sorted(refused)),
        severity=dg.AssetCheckSeverity.WARN,
    )


def _offenders(finding: audit.Finding) -> dict[str, object]:
    """The count, and the first offenders as a table the UI can read."""
    shown = finding.offending[: audit.MAX_LISTED]
    return {
        "count": finding.count,
        "offending": table([("offending", "string")], ({"offending": str(o)} for o in shown)),
    }
