"""`sync_partitioned_job`: the same sync, scaled out by source-id range.

    id_ranges_op ──(one dynamic output per range)──> sync_id_range_op ×N ──> combine_ranges

Each range runs every step of the engine (`product_sync.sync.sync_scope`) for its ids
only, so memory per process follows the range size, not the catalog's. The ranges run in
parallel on the job's executor (`multiprocess_executor` here, one process per range, at
most `max_concurrent` at a time — PRODUCT_SYNC_MAX_CONCURRENT, default 2 on this 2-core
kind of machine; `k8s_job_executor` / `celery_executor` elsewhere, see docs/scale-out.md).
The job records its result as a materialization of `synced_products`: it is a way to run
that asset's sync, not a second asset for the same store. It carries the same
one-at-a-time tag as `sync_job`, so the two never write the store at the same time.
"""

import os

import dagster as dg
from pydantic import BaseModel, Field

from product_sync import names
from product_sync.core.catalog import SourceCatalog
from product_sync.core.ownership import IGNORE
from product_sync.core.ranges import IdRange, id_ranges
from product_sync.defs.catalog_sync.metadata import admin_products_url, table
from product_sync.defs.catalog_sync.settings import SyncSettings
from product_sync.defs.run_files import run_dir
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.medusa import MedusaResource
from product_sync.sync import SyncReport, SyncScope, build_category_map, sync_scope
from product_sync.sync.journal import RunJournal
from product_sync.sync.sale_prices import make_sale_list
from product_sync.sync.shared_reads import SharedReads

DEFAULT_RANGE_SIZE = int(os.environ.get("PRODUCT_SYNC_RANGE_SIZE", "10000"))
# The journal of what `id_ranges_op` creates for the ranges (the sale price list).
LISTS_PART = "lists"
MAX_CONCURRENT = int(os.environ.get("PRODUCT_SYNC_MAX_CONCURRENT", "2"))
# A range's process forks from a server that has imported Dagster and this code once
# (forkserver) instead of starting Python and importing both again: ~5 s of CPU per range
# on this kind of machine, paid by every range of every run with `spawn`, Dagster's default.
EXECUTION_CONFIG = {
    "max_concurrent": MAX_CONCURRENT,
    "start_method": {"forkserver": {"preload_modules": [__name__]}},
}


class RangesConfig(dg.Config):
    range_size: int = Field(
        default=DEFAULT_RANGE_SIZE, gt=0, description="source ids per range (part)"
    )
    ranges: int = Field(default=0, ge=0, description="number of ranges instead (0: by range_size)")
    dry_run: bool = Field(default=False, description="Plan and report, write nothing anywhere.")
    max_archive_fraction: float = Field(
        default=0.2, ge=0, le=1, description="Per range: archive nothing above this share."
    )


class RangeTask(BaseModel):
    id_range: IdRange
    dry_run: bool
    max_archive_fraction: float
    # The store-wide listings (links, sale prices, stock levels), read once for every range.
    shared: SharedReads | None = None

    def shared_reads(self, *, reexecuted: bool) -> SharedReads | None:
        """What the range may take from `shared`. Re-executed (from failure), the sale
        prices and stock levels were read before the range's first attempt, which may
        have written some of them since: it reads those again (the links stay: a range
        looks up the links of products they do not name)."""
        if self.shared is None or not reexecuted:
            return self.shared
        return SharedReads(links=self.shared.links)


@dg.op(out=dg.DynamicOut(RangeTask))
def id_ranges_op(
    context: dg.OpExecutionContext,
    config: RangesConfig,
    dummyjson: DummyJSONResource,
    medusa: MedusaResource,
    sync_settings: SyncSettings,
):
    """Draw the ranges up to the source's highest id, and create once what ranges running
    side by side would otherwise each create (the stock location, which Medusa does not
    keep unique by name; the source's listed categories; the sale price list, journaled
    as this run's). A dry run creates nothing. The listings of the whole store a range
    needs (category and tag links, the sale price list, the stock levels) are read here
    once, not once per range."""
    max_id = dummyjson.max_id()
    ranges = id_ranges(max_id, config.range_size, config.ranges)
    policy = sync_settings.ownership.policy()
    if not config.dry_run:
        if sync_settings.sync_stock:
            channel = medusa.default_sales_channel_id()
            medusa.ensure_stock_location(medusa.stock_location_name, channel)
        categories = build_category_map(SourceCatalog(), dummyjson, medusa)
        context.log.info(f"{len(categories.ids)} categories ready")
        if sync_settings.apply_discounts and policy.sale_price is not IGNORE:
            _make_sale_list(context, medusa)
    shared = SharedReads.read(
        medusa, policy, stock=sync_settings.sync_stock and policy.stock is not IGNORE
    )
    context.log.info(f"{len(ranges)} ranges up to id {max_id}: {', '.join(r.key for r in ranges)}")
    for id_range in ranges:
        task = RangeTask(
            id_range=id_range,
            dry_run=config.dry_run,
            max_archive_fraction=config.max_archive_fraction,
            shared=shared,
        )
        yield dg.DynamicOutput(task, mapping_key=id_range.mapping_key)


def _make_sale_list(context: dg.OpExecutionContext, medusa: MedusaResource) -> None:
    made = make_sale_list(medusa)
    if made is not None:
        run_id = context.run.run_id
        RunJournal(run_dir(context.instance, run_id), run_id, part=LISTS_PART).finish(
            medusa, sale_prices=[made]
        )
        context.log.info(f"sale price list {made.price_list_id} created")


@dg.op
def sync_id_range_op(
    context: dg.OpExecutionContext,
    task: RangeTask,
    dummyjson: DummyJSONResource,
    medusa: MedusaResource,
    sync_settings: SyncSettings,
) -> SyncReport:
    """Sync the products of one source-id range, every step of the engine."""
    options = sync_settings.options(
        dry_run=task.dry_run, max_archive_fraction=task.max_archive_fraction
    )
    run_id = context.run.run_id
    # One journal per range (each its own process): revert_sync_run reads them all.
    journal = RunJournal(run_dir(context.instance, run_id), run_id, part=task.id_range.mapping_key)
    outcome = sync_scope(
        SyncScope(id_range=task.id_range),
        dummyjson,
        medusa,
        options,
        shared=task.shared_reads(reexecuted=context.run.parent_run_id is not None),
        warn=context.log.warning,
        journal=journal,
    )
    context.add_output_metadata(outcome.report.numbers())
    return outcome.report


@dg.op
def combine_ranges(
    context: dg.OpExecutionContext, reports: list[SyncReport], medusa: MedusaResource
) -> SyncReport:
    """The ranges' sum, recorded as a materialization of `synced_products`."""
    reports = sorted(reports, key=lambda r: int(r.scope.split("-")[0]))
    total = SyncReport.combine(reports)
    context.log_event(
        dg.AssetMaterialization(
            asset_key=names.SYNC_ASSET,
            description=f"{names.SCALE_OUT_JOB}: {len(reports)} ranges",
            metadata={
                **total.numbers(),
                "ranges": len(reports),
                "dagster/row_count": total.created + total.updated + total.unchanged,
                "by_range": table(
                    [
                        ("range", "string"),
                        ("products", "int"),
                        ("created", "int"),
                        ("updated", "int"),
                        ("errors", "int"),
                        ("duration_s", "float"),
                        ("products_per_s", "float"),
                    ],
                    (r.model_dump() | {"range": r.scope} for r in reports),
                ),
                "store": admin_products_url(medusa.backend_url),
            },
        )
    )
    return total


@dg.job(
    name=names.SCALE_OUT_JOB,
    description="Sync the catalog range by range, ranges in parallel processes (100k+).",
    tags=names.SCALE_OUT_JOB_TAGS,
    executor_def=dg.multiprocess_executor,
    config={"execution": {"config": EXECUTION_CONFIG}},
)
def sync_partitioned_job():
    combine_ranges(id_ranges_op().map(sync_id_range_op).collect())


def reconstruct_sync_partitioned_job() -> dg.JobDefinition:
    """For `dg.reconstructable` (benchmarks, tests): the job with the environment's
    resources, built without loading the whole code location."""
    from product_sync.defs.catalog_sync.resources import build_resources

    defs = dg.Definitions(jobs=[sync_partitioned_job], resources=build_resources())
    return defs.resolve_job_def(names.SCALE_OUT_JOB)
