"""What a sync did: one report type for every mode (the whole catalog, some ids, one
source-id range of a scaled-out run, and the sum of those ranges)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

# Counts that add up when reports are combined (a replan's, a range's).
_SUMMED = (
    "products",
    "created",
    "updated",
    "unchanged",
    "archived",
    "duplicates_retired",
    "recovered",
    "quarantined",
    "identifiers_dropped",
    "merchant_edits_overwritten",
    "merchant_edits_kept",
    "errors",
    "handle_replans",
    "stock_updated",
    "categories_created",
    "categories_renamed",
    "categories_failed",
    "images_uploaded",
    "images_reused",
    "images_failed",
    "tags_created",
    "collections_created",
    "taxonomy_failed",
    "sale_prices_written",
    "sale_prices_removed",
    "pages_fetched",
    "http_requests",
    "retries",
)
ERROR_DETAILS_KEPT = 20


class SyncReport(BaseModel):
    scope: str = "catalog"  # "catalog", "ids", or a range key such as "1-10000"
    products: int = 0  # valid source products in scope
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0
    duplicates_retired: int = 0
    recovered: int = 0
    quarantined: int = 0
    # Barcodes left off products because another product holds them (the product synced).
    identifiers_dropped: int = 0
    # Fields of our products edited in the store: overwritten (owned by the source) or
    # kept (`create_only`); see `core.ownership`.
    merchant_edits_overwritten: int = 0
    merchant_edits_kept: int = 0
    errors: int = 0
    error_details: list[dict[str, Any]] = []
    handle_replans: int = 0
    archive_blocked_reason: str | None = None
    consistent: bool = True
    dry_run: bool = False
    stock_updated: int = 0
    stock_error: str | None = None
    categories_created: int = 0
    categories_renamed: int = 0
    categories_failed: int = 0
    # The category links the products were planned with (the checks plan with them too).
    category_ids: dict[str, str] = {}
    images_uploaded: int = 0
    images_reused: int = 0
    images_failed: int = 0
    # Tags and brand collections made this run (0 in a dry run, like categories), and the
    # ids the products were planned with (the checks plan with them too).
    tags_created: int = 0
    collections_created: int = 0
    taxonomy_failed: int = 0
    tag_ids: dict[str, str] = {}
    collection_ids: dict[str, str] = {}
    # Prices of the sync's sale price list created or updated / deleted (in a dry run:
    # what a real run would write, like `created`).
    sale_prices_written: int = 0
    sale_prices_removed: int = 0
    sale_prices_error: str | None = None
    pages_fetched: int = 0
    http_requests: int = 0
    retries: int = 0
    started_at: float = 0.0  # unix seconds
    ended_at: float = 0.0
    duration_s: float = 0.0
    products_per_s: float = 0.0

    def add(self, other: SyncReport) -> None:
        """Fold in the counts of a part of this run (a replan's writes, a range)."""
        for name in _SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.error_details = [*self.error_details, *other.error_details]
        self.consistent = self.consistent and other.consistent
        self.archive_blocked_reason = self.archive_blocked_reason or other.archive_blocked_reason
        self.stock_error = self.stock_error or other.stock_error
        self.category_ids = {**self.category_ids, **other.category_ids}
        self.tag_ids = {**self.tag_ids, **other.tag_ids}
        self.collection_ids = {**self.collection_ids, **other.collection_ids}
        self.sale_prices_error = self.sale_prices_error or other.sale_prices_error

    def finish(self, started_at: float) -> SyncReport:
        """Stamp the run's end and throughput; `started_at` is the `time.time()` it began."""
        self._span(started_at, time.time())
        self.error_details = self.error_details[:ERROR_DETAILS_KEPT]
        return self

    def _span(self, started_at: float, ended_at: float) -> None:
        self.started_at, self.ended_at = started_at, ended_at
        self.duration_s = round(ended_at - started_at, 3)
        processed = self.created + self.updated + self.unchanged
        self.products_per_s = round(processed / self.duration_s, 1) if self.duration_s else 0.0

    @classmethod
    def combine(cls, parts: Iterable[SyncReport], *, scope: str = "catalog") -> SyncReport:
        """The whole of a run made of parts running side by side (a scaled-out sync): its
        time is the first part's start to the last part's end."""
        parts = list(parts)
        total = cls(scope=scope, dry_run=any(p.dry_run for p in parts))
        for part in parts:
            total.add(part)
        if parts:
            total._span(min(p.started_at for p in parts), max(p.ended_at for p in parts))
        total.error_details = total.error_details[:ERROR_DETAILS_KEPT]
        return total

    def numbers(self) -> dict[str, int | float | bool]:
        """The numeric fields, as the asset's metadata (the UI plots them per run)."""
        skip = {"started_at", "ended_at"}
        return {
            k: v
            for k, v in self.model_dump().items()
            if isinstance(v, int | float | bool) and k not in skip
        }
