"""The sync's moves, in order, with I/O only through the resources.

Assets call these so that each asset body stays a few lines, and the asset checks can
re-run the exact planning the sync used (the idempotency check plans again after writing).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from product_sync.core.catalog import SourceCatalog, parse_categories
from product_sync.core.categories import plan_categories
from product_sync.core.handles import base_handle
from product_sync.core.images import StoredImage, source_urls
from product_sync.core.inventory import StockPlan, plan_stock
from product_sync.core.planning import (
    PlannedWrite,
    ProductIndex,
    SyncPlan,
    archive_update,
    plan_sync,
    retire_duplicate_update,
)
from product_sync.resources.downloads import Download
from product_sync.resources.dummyjson import DummyJSONResource, SourceUnavailable
from product_sync.resources.http import ClientError, HTTPError
from product_sync.resources.medusa import (
    INDEX_FIELDS,
    MedusaResource,
    WriteError,
    WriteReport,
    indexed_product,
)

MAX_HANDLE_ROUNDS = 5
WRITE_GROUP_BATCHES = 8  # batches handed to the writer at once (it may run them in parallel)


class CategoryMap(BaseModel):
    """DummyJSON category slug -> Medusa product-category id."""

    ids: dict[str, str] = {}
    created: list[str] = []
    renamed: list[str] = []
    failed: dict[str, str] = {}  # slug -> why
    error: str | None = None  # the whole step failed: products sync without new links


def build_category_map(
    catalog: SourceCatalog, dummyjson: DummyJSONResource, medusa: MedusaResource
) -> CategoryMap:
    """Match source categories to Medusa's by handle, creating and renaming as needed.

    Failures here never stop the sync (products then keep or lack their category link),
    except rejected credentials, which would fail every later step too.
    """
    try:
        listed = parse_categories(dummyjson.categories())
    except (SourceUnavailable, ValueError) as error:
        listed, listing_error = [], str(error)
    else:
        listing_error = None
    names = {c.slug: c.name for c in listed}
    if catalog.full_catalog:
        slugs = [*names, *catalog.category_slugs()]
    else:
        slugs = catalog.category_slugs()
    slugs = list(dict.fromkeys(s for s in slugs if s))
    try:
        plan = plan_categories(slugs, names, medusa.categories_by_handle(slugs))
    except HTTPError as error:
        return CategoryMap(error=f"reading the store's categories failed: {error}")
    result = CategoryMap(ids=dict(plan.existing), error=listing_error)
    # One request per category (Medusa has no batch route), a few at a time; the outcomes
    # are folded in plan order, so the result does not depend on which finished first.
    workers = min(medusa.category_concurrency, len(plan.create)) or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(lambda item: _create_category(item, medusa), plan.create))
    for item, (category_id, created, why) in zip(plan.create, outcomes, strict=True):
        if category_id is not None:
            result.ids[item["handle"]] = category_id
            if created:
                result.created.append(item["handle"])
        else:
            result.failed[item["handle"]] = why or "not created"
    for item in plan.rename:
        try:
            medusa.rename_category(item["id"], item["name"])
            result.renamed.append(item["id"])
        except HTTPError as error:
            result.failed[item["id"]] = str(error)
    return result


def _create_category(
    item: dict[str, str], medusa: MedusaResource
) -> tuple[str | None, bool, str | None]:
    """(id, created by this call, why it failed) for one category of the plan."""
    try:
        return medusa.create_category(item["name"], item["handle"]), True, None
    except ClientError as error:
        # Most likely created meanwhile by a concurrent run: look again before failing.
        try:
            again = medusa.categories_by_handle([item["handle"]])
        except HTTPError as lookup_error:
            return None, False, f"{error.detail}; looking it up failed: {lookup_error}"
        if again:
            return again[0].id, False, None
        return None, False, error.detail
    except HTTPError as error:
        return None, False, str(error)


def plan_against_store(
    catalog: SourceCatalog,
    categories: CategoryMap,
    index: ProductIndex,
    medusa: MedusaResource,
    *,
    sales_channel_id: str | None,
    max_archive_fraction: float,
    images: Mapping[str, StoredImage] | None = None,
    rounds: int = MAX_HANDLE_ROUNDS,
    probe_width: int = 0,
) -> SyncPlan:
    """Plan, then check the plan's creates against the live store before anyone writes.

    The index may be older than this moment (another run, a hand edit), so: any product
    we would create that already exists under our external id joins the index and is
    planned again as an update; any handle we would give a new product that another
    product holds is marked taken and planned again. With `probe_width`, a handle found
    taken also brings its next `probe_width` suffixes into the question, for callers that
    expect long runs of them (a partition of a large catalog).

    Every product is given the store's shipping profile (read here, so the sync and the
    idempotency check plan with the same one) and the resource's `allow_backorder`.
    """
    taken: set[str] = set()
    plan = SyncPlan()
    shipping_profile_id = medusa.shipping_profile_id()
    for _ in range(rounds):
        plan = plan_sync(
            catalog.products_view,
            index,
            categories.ids,
            sales_channel_id=sales_channel_id,
            taken_handles=taken,
            full_catalog=catalog.full_catalog and catalog.consistent,
            quarantined_ids=catalog.quarantined_ids,
            max_archive_fraction=max_archive_fraction,
            images=images,
            shipping_profile_id=shipping_profile_id,
            allow_backorder=medusa.allow_backorder,
        )
        if not plan.creates:
            return plan
        existing = medusa.products_by_external_id(
            [c.external_id for c in plan.creates], fields=INDEX_FIELDS
        )
        if existing:
            found = [indexed_product(index.external_id_prefix, p) for p in existing]
            index = ProductIndex.build(
                index.external_id_prefix,
                [*index.products.values(), *index.duplicates, *(f for f in found if f)],
            )
            continue
        clashes = medusa.handles_in_use(c.handle for c in plan.creates)
        if not clashes:
            return plan
        if probe_width:
            window = [
                handle
                for c in plan.creates
                if c.handle in clashes
                for handle in _next_handles(c, probe_width)
            ]
            clashes |= medusa.handles_in_use(window)
        taken |= clashes
    return plan


def _next_handles(create: PlannedWrite, width: int) -> list[str]:
    """The `width` handles after the one planned for `create` (`base`, `base-1`, …)."""
    base = base_handle(create.source_id, create.payload["title"])
    suffix = create.handle[len(base) + 1 :] if create.handle != base else "0"
    start = int(suffix) + 1 if suffix.isdigit() else 1
    return [f"{base}-{n}" for n in range(start, start + width)]


class SyncReport(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0
    duplicates_retired: int = 0
    recovered: int = 0
    quarantined: int = 0
    errors: int = 0
    error_details: list[dict[str, Any]] = []
    archive_blocked_reason: str | None = None
    dry_run: bool = False
    duration_s: float = 0.0
    products_per_s: float = 0.0
    http_requests: int = 0
    retries: int = 0
    stock_updated: int = 0
    stock_error: str | None = None

    @property
    def writes(self) -> int:
        return self.created + self.updated + self.archived + self.duplicates_retired


def apply_plan(
    plan: SyncPlan,
    medusa: MedusaResource,
    *,
    dry_run: bool,
    inventory_items: dict[str, str] | None = None,
) -> SyncReport:
    """Write the plan: creates and updates in batches, then archives and repairs.

    `inventory_items`, if given, is filled with external id -> inventory item id of the
    created and updated products, as the store's answers named them (for `stock_items`).
    """
    report = SyncReport(
        unchanged=len(plan.unchanged),
        quarantined=len(plan.quarantined),
        archive_blocked_reason=plan.archive_blocked_reason,
        dry_run=dry_run,
    )
    if dry_run:
        report.created, report.updated = len(plan.creates), len(plan.updates)
        report.archived, report.duplicates_retired = len(plan.archives), len(plan.duplicate_repairs)
        return report

    # Payloads are unpacked a group of batches at a time, never all at once.
    group = medusa.batch_size * WRITE_GROUP_BATCHES
    writes = WriteReport()
    for kind, planned in (("create", plan.creates), ("update", plan.updates)):
        for start in range(0, len(planned), group):
            payloads = [w.payload for w in planned[start : start + group]]
            writes.merge(
                medusa.write_products(payloads, [])
                if kind == "create"
                else medusa.write_products([], payloads)
            )
    if inventory_items is not None:
        inventory_items.update(writes.inventory_items)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    retired = medusa.write_products(
        [],
        [archive_update(a, now) for a in plan.archives]
        + [retire_duplicate_update(d, medusa.external_id_prefix) for d in plan.duplicate_repairs],
    )
    errors: list[WriteError] = writes.errors + retired.errors
    failed = {e for err in retired.errors for e in err.external_ids}
    report.created, report.updated, report.recovered = (
        writes.created,
        writes.updated,
        writes.recovered,
    )
    report.archived = sum(1 for a in plan.archives if a.product_id not in failed)
    report.duplicates_retired = sum(1 for d in plan.duplicate_repairs if d.id not in failed)
    report.errors = sum(len(e.external_ids) for e in errors)
    report.error_details = [{"ids": e.external_ids[:20], "message": e.message} for e in errors]
    return report


def category_counts(catalog: SourceCatalog) -> dict[str, int]:
    return dict(sorted(Counter(p.category for p in catalog.products_view).items()))


class StockReport(BaseModel):
    stock_updated: int = 0
    stock_unchanged: int = 0
    error: str | None = None


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


def read_stock_ahead(
    catalog: SourceCatalog, index: ProductIndex, medusa: MedusaResource, pool: Executor
) -> Future[StockAhead]:
    """Start reading, on `pool`, what `sync_stock` will need whatever the writes do."""
    ours = catalog.source_ids
    items = [
        p.inventory_item_id
        for p in index.products.values()
        if p.inventory_item_id and p.source_id in ours
    ]
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
) -> StockPlan:
    """Levels to write; `items` (source id -> inventory item id), if not given, are read
    from a listing of every product of ours; `levels` already read at the location are
    used as they are, the others read now."""
    if items is None:
        items = medusa.inventory_items(medusa.external_id_prefix)
    wanted = {items[p.id]: p.stock for p in catalog.products_view if p.id in items}
    current = {i: levels[i] for i in wanted if i in levels} if levels else {}
    unread = [i for i in wanted if i not in current]
    if unread:
        current.update(medusa.stock_levels(location_id, unread))
    return plan_stock(wanted, current, location_id)


def sync_stock(
    catalog: SourceCatalog,
    medusa: MedusaResource,
    sales_channel_id: str | None,
    items: StockItems | None = None,
    ahead: Future[StockAhead] | None = None,
) -> StockReport:
    """Set each product's stock at the sync's stock location, writing only differences.

    Runs after the product writes (new variants get their inventory items then). `items`:
    the inventory items the run already knows (`stock_items`); those it does not are
    looked up by id; without it, every product of ours is listed. `ahead`: the location
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
        plan = stock_plan(catalog, medusa, location_id, known, levels)
        try:
            written = medusa.write_stock_levels(plan.create, plan.update)
        except ClientError:
            # A level created by a request that timed out (or by a concurrent run) makes
            # "create" fail, and so does an item deleted since the index was read: plan
            # again from what the store now holds, items listed afresh.
            plan = stock_plan(catalog, medusa, location_id)
            written = medusa.write_stock_levels(plan.create, plan.update)
    except HTTPError as error:
        return StockReport(error=str(error))
    return StockReport(stock_updated=written, stock_unchanged=plan.unchanged)


IMAGE_CHUNK = 32  # images downloaded (and held in memory) at a time
UPLOAD_CHUNK = 32  # files per upload request
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "image/gif": ".gif"}


class ImageReport(BaseModel):
    resolved: dict[str, StoredImage] = {}
    uploaded: int = 0
    reused: int = 0
    failed: int = 0
    failures: list[str] = []


def known_images(index: ProductIndex) -> dict[str, StoredImage]:
    """Every uploaded copy the store's products remember, by source URL."""
    known: dict[str, StoredImage] = {}
    for product in [*index.products.values(), *index.duplicates]:
        known.update(product.images)
    return known


def resolve_images(
    catalog: SourceCatalog,
    index: ProductIndex,
    dummyjson: DummyJSONResource,
    medusa: MedusaResource,
) -> ImageReport:
    """Make sure every source image has a copy in the store's file storage.

    Keyed by content: an image whose ETag still matches (304), or whose bytes hash to a copy
    the store already has, is reused; only new content is uploaded. An image that cannot be
    fetched or uploaded keeps its source URL and is counted as failed.
    """
    known = known_images(index)
    by_sha = {ref.sha256: ref.url for ref in known.values()}
    urls = list(
        dict.fromkeys(u for p in catalog.products_view for u in source_urls(p.images, p.thumbnail))
    )
    report = ImageReport()

    def download(url: str) -> tuple[str, Download | None, str | None]:
        prior = known.get(url)
        try:
            return url, dummyjson.download_image(url, prior.etag if prior else None), None
        except HTTPError as error:
            return url, None, str(error)

    with ThreadPoolExecutor(max_workers=dummyjson.concurrency) as pool:
        for start in range(0, len(urls), IMAGE_CHUNK):
            fresh: dict[str, tuple[Download, list[str]]] = {}
            for url, got, error in pool.map(download, urls[start : start + IMAGE_CHUNK]):
                if got is None:
                    report.failed += 1
                    report.failures.append(f"{url}: {error}")
                elif got.content is None:  # 304: what we hold is current
                    report.resolved[url] = known[url]
                    report.reused += 1
                elif got.sha256 in by_sha:
                    report.resolved[url] = StoredImage(
                        sha256=got.sha256, url=by_sha[got.sha256], etag=got.etag
                    )
                    report.reused += 1
                else:
                    fresh.setdefault(got.sha256, (got, []))[1].append(url)
            _upload(fresh, medusa, report, by_sha)
    return report


def _upload(
    fresh: dict[str, tuple[Download, list[str]]],
    medusa: MedusaResource,
    report: ImageReport,
    by_sha: dict[str, str],
) -> None:
    items = list(fresh.items())
    for start in range(0, len(items), UPLOAD_CHUNK):
        chunk = items[start : start + UPLOAD_CHUNK]
        files = [
            (sha[:24] + EXTENSIONS.get(got.content_type, ""), got.content or b"", got.content_type)
            for sha, (got, _) in chunk
        ]
        try:
            copies = medusa.upload_files(files)
        except HTTPError as error:
            for _, (_, urls) in chunk:
                report.failed += len(urls)
                report.failures.extend(f"{u}: upload failed: {error}" for u in urls)
            continue
        for (sha, (got, urls)), copy in zip(chunk, copies, strict=True):
            by_sha[sha] = copy
            report.uploaded += 1
            for url in urls:
                report.resolved[url] = StoredImage(sha256=sha, url=copy, etag=got.etag)
