"""The scaled-out sync: the catalog cut into source-id ranges, each range synced in its
own step, the steps run in parallel by the job's executor (`multiprocess_executor` here,
one process per range; `k8s_job_executor` / `celery_executor` elsewhere, see
docs/scale-out.md). Thin: the work is in `product_sync.scale_out`.

One graph-backed asset, `synced_products_partitioned`:

    id_ranges ──(one dynamic output per range)──> sync_id_range ×N ──> combine

`id_ranges` does what must happen once before ranges run side by side (the stock
location, the source's listed categories), then fans out; each `sync_id_range` step is
independent (no shared state but Medusa); `combine` reports the totals and every range's
throughput.
"""

import os

import dagster as dg
from pydantic import BaseModel, Field

from product_sync.core.catalog import SourceCatalog
from product_sync.core.ranges import IdRange, id_ranges
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.medusa import MedusaResource
from product_sync.scale_out import RangeReport, sync_id_range
from product_sync.sync import build_category_map

GROUP = "scale_out"
DEFAULT_RANGE_SIZE = int(os.environ.get("PRODUCT_SYNC_RANGE_SIZE", "10000"))


class RangesConfig(dg.Config):
    range_size: int = Field(
        default=DEFAULT_RANGE_SIZE, gt=0, description="source ids per range (part)"
    )
    ranges: int = Field(default=0, ge=0, description="number of ranges instead (0: by range_size)")


class RangeSyncConfig(dg.Config):
    dry_run: bool = Field(default=False, description="Plan and report, write nothing.")
    max_archive_fraction: float = Field(
        default=0.2, ge=0, le=1, description="Per range: archive nothing above this share."
    )


class ScaleOutReport(BaseModel):
    ranges: list[RangeReport] = []
    seconds: float = 0.0  # first range's start to last range's end

    def total(self, field: str) -> int:
        return sum(getattr(r, field) for r in self.ranges)


@dg.op(out=dg.DynamicOut(IdRange))
def id_ranges_op(
    context: dg.OpExecutionContext,
    config: RangesConfig,
    dummyjson: DummyJSONResource,
    medusa: MedusaResource,
):
    """Draw the ranges up to the source's highest id, and create once what ranges running
    side by side would otherwise each create (the stock location, which Medusa does not
    keep unique by name; the source's listed categories)."""
    max_id = dummyjson.max_id()
    ranges = id_ranges(max_id, config.range_size, config.ranges)
    if medusa.sync_stock:
        medusa.ensure_stock_location(medusa.stock_location_name, medusa.default_sales_channel_id())
    categories = build_category_map(SourceCatalog(), dummyjson, medusa)
    context.log.info(
        f"{len(ranges)} ranges up to id {max_id}: {', '.join(r.key for r in ranges)}; "
        f"{len(categories.ids)} categories ready"
    )
    for id_range in ranges:
        yield dg.DynamicOutput(id_range, mapping_key=id_range.mapping_key)


@dg.op
def sync_id_range_op(
    context: dg.OpExecutionContext,
    config: RangeSyncConfig,
    id_range: IdRange,
    dummyjson: DummyJSONResource,
    medusa: MedusaResource,
) -> RangeReport:
    """Sync the products of one source-id range (see product_sync.scale_out)."""
    report = sync_id_range(
        id_range,
        dummyjson,
        medusa,
        max_archive_fraction=config.max_archive_fraction,
        dry_run=config.dry_run,
    )
    for detail in report.error_details:
        context.log.error(f"write failed for {detail['ids']}: {detail['message']}")
    if report.archive_blocked_reason:
        context.log.warning(report.archive_blocked_reason)
    if not report.consistent:
        context.log.warning("the range changed while it was read; archiving is off for it")
    context.add_output_metadata(
        {
            k: v
            for k, v in report.model_dump().items()
            if isinstance(v, int | float | bool) and k not in ("started_at", "ended_at")
        }
    )
    return report


@dg.op
def combine_ranges(context: dg.OpExecutionContext, reports: list[RangeReport]) -> ScaleOutReport:
    reports = sorted(reports, key=lambda r: int(r.key.split("-")[0]))
    span = max(r.ended_at for r in reports) - min(r.started_at for r in reports)
    result = ScaleOutReport(ranges=reports, seconds=round(span, 3))
    processed = result.total("created") + result.total("updated") + result.total("unchanged")
    context.add_output_metadata(
        {
            **{
                field: result.total(field)
                for field in (
                    "products",
                    "created",
                    "updated",
                    "unchanged",
                    "archived",
                    "quarantined",
                    "errors",
                    "handle_replans",
                    "stock_updated",
                    "http_requests",
                )
            },
            "ranges": len(reports),
            "duration_s": result.seconds,
            "products_per_s": round(processed / span, 1) if span else 0.0,
            "by_range": dg.MetadataValue.json(
                [
                    {
                        "range": r.key,
                        "products": r.products,
                        "seconds": r.seconds,
                        "products_per_s": r.products_per_s,
                        "writes": r.writes,
                    }
                    for r in reports
                ]
            ),
        }
    )
    return result


@dg.graph_asset(group_name=GROUP, kinds={"python"})
def synced_products_partitioned() -> ScaleOutReport:
    """The whole catalog synced range by range, ranges in parallel (for 100k+ products)."""
    return combine_ranges(id_ranges_op().map(sync_id_range_op).collect())
