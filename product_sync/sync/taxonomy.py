"""The source's tags and brands -> the store's product tags and collections, before the
products are planned (their payloads carry the ids).

The reads happen every run (one lookup of the wanted tag values, one of the brand
handles, side by side); creates only for what is missing, all of a kind in one request
(`MedusaResource.create_tags_at_once`). Tag values and collection handles are unique in
Medusa, so of two runs creating one at once the second is refused: it looks again, takes
what landed and creates the rest one at a time. A dry run creates nothing and plans with
what exists. The engine starts this step (`Ahead`) before the categories and takes its
result just before planning, so its requests overlap the others'.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from product_sync.core.catalog import SourceCatalog
from product_sync.core.ownership import IGNORE, OwnershipPolicy
from product_sync.core.taxonomy import (
    ProductTaxonomy,
    TaxonomyPlan,
    plan_taxonomy,
    wanted_taxonomy,
)
from product_sync.resources.http import ClientError, HTTPError
from product_sync.resources.medusa import MedusaResource
from product_sync.sync.report import SyncReport
from product_sync.sync.sale_prices import SalePriceReport

WARNINGS_SHOWN = 20
CREATE_CONCURRENCY = 4  # one-at-a-time creates sent at once (the rare path: see `_create`)
T = TypeVar("T")


def done_future(value: T) -> Future[T]:
    """A future that already holds `value` (for steps that take a future of what they
    may also be handed ready)."""
    future: Future[T] = Future()
    future.set_result(value)
    return future


class Ahead(Generic[T]):
    """A step started now in a thread of its own, its result (or error) taken later."""

    def __init__(self, step: Callable[..., T], *args: Any, **kwargs: Any) -> None:
        pool = ThreadPoolExecutor(max_workers=1)
        self._future = pool.submit(step, *args, **kwargs)
        pool.shutdown(wait=False)

    @classmethod
    def done(cls, value: T) -> Ahead[T]:
        """One whose result is already known (read earlier in the run): no thread."""
        ahead = cls.__new__(cls)
        ahead._future = done_future(value)
        return ahead

    def result(self) -> T:
        return self._future.result()


class TaxonomyMap(BaseModel):
    ids: ProductTaxonomy = ProductTaxonomy()
    pending: TaxonomyPlan = TaxonomyPlan()  # not created (a dry run, or failed)
    tags_created: list[str] = []
    collections_created: list[str] = []
    failed: dict[str, str] = {}  # "tag <value>" / "collection <handle>" -> why
    error: str | None = None  # the lookups failed: products keep the links they have


def prepare_taxonomy(
    catalog: SourceCatalog,
    medusa: MedusaResource,
    *,
    dry_run: bool,
    policy: OwnershipPolicy | None = None,
) -> TaxonomyMap:
    """Look up (and unless `dry_run`, create) the tags and brand collections the catalog's
    products name; a group the `policy` says the sync never writes (`ignore`) is left out."""
    policy = policy or OwnershipPolicy()
    tags, collections = wanted_taxonomy(catalog.products_view)
    if policy.tags is IGNORE:
        tags = []
    if policy.collection is IGNORE:
        collections = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        found_tags = pool.submit(medusa.tags_by_value, tags)
        found_collections = pool.submit(medusa.collections_by_handle, list(collections))
        try:
            ids = ProductTaxonomy(
                tag_ids=found_tags.result(), collection_ids=found_collections.result()
            )
        except HTTPError as error:
            return TaxonomyMap(error=f"reading the store's tags and collections failed: {error}")
    plan = plan_taxonomy(tags, collections, ids.tag_ids, ids.collection_ids)
    if dry_run or not (plan.tags or plan.collections):
        return TaxonomyMap(ids=ids, pending=plan)
    return _create(plan, ids, medusa)


def _create(plan: TaxonomyPlan, ids: ProductTaxonomy, medusa: MedusaResource) -> TaxonomyMap:
    """All missing tags and collections at once, then whatever that left missing (created
    meanwhile by another run, or refused) looked up and created one at a time."""
    result = TaxonomyMap(ids=ids.model_copy(deep=True))
    handles = [c["handle"] for c in plan.collections]
    with ThreadPoolExecutor(max_workers=2) as pool:
        tags_made = pool.submit(medusa.create_tags_at_once, plan.tags)
        collections_made = pool.submit(medusa.create_collections_at_once, plan.collections)
        made = set(tags_made.result()), set(collections_made.result())
        try:
            tags_found = pool.submit(medusa.tags_by_value, plan.tags)
            collections_found = pool.submit(medusa.collections_by_handle, handles)
            found = tags_found.result(), collections_found.result()
        except HTTPError:
            found = {}, {}
    result.ids.tag_ids.update(found[0])
    result.ids.collection_ids.update(found[1])
    result.tags_created = [v for v in plan.tags if v in made[0] and v in found[0]]
    result.collections_created = [h for h in handles if h in made[1] and h in found[1]]
    left = TaxonomyPlan(
        tags=[v for v in plan.tags if v not in found[0]],
        collections=[c for c in plan.collections if c["handle"] not in found[1]],
    )
    if left.tags or left.collections:
        _create_one_by_one(left, medusa, result)
    return result


def _create_one_by_one(plan: TaxonomyPlan, medusa: MedusaResource, result: TaxonomyMap) -> None:
    jobs: list[tuple[str, str, Callable[[], str], Callable[[], str | None]]] = [
        (
            "tag",
            value,
            lambda v=value: medusa.create_tag(v),
            lambda v=value: medusa.tags_by_value([v]).get(v),
        )
        for value in plan.tags
    ] + [
        (
            "collection",
            c["handle"],
            lambda c=c: medusa.create_collection(c["title"], c["handle"]),
            lambda h=c["handle"]: medusa.collections_by_handle([h]).get(h),
        )
        for c in plan.collections
    ]
    with ThreadPoolExecutor(max_workers=CREATE_CONCURRENCY) as pool:
        outcomes = list(pool.map(lambda job: _create_one(job[2], job[3]), jobs))
    # Folded in plan order: the result does not depend on which create finished first.
    for (kind, key, _, _), (made_id, created, why) in zip(jobs, outcomes, strict=True):
        if made_id is None:
            result.failed[f"{kind} {key}"] = why or "not created"
            pending = result.pending
            if kind == "tag":
                pending.tags.append(key)
            else:
                pending.collections.extend(c for c in plan.collections if c["handle"] == key)
            continue
        if kind == "tag":
            result.ids.tag_ids[key] = made_id
            if created:
                result.tags_created.append(key)
        else:
            result.ids.collection_ids[key] = made_id
            if created:
                result.collections_created.append(key)


def _create_one(
    create: Callable[[], str], look: Callable[[], str | None]
) -> tuple[str | None, bool, str | None]:
    """(id, created by this call, why it failed) for one tag or collection."""
    try:
        return create(), True, None
    except ClientError as error:
        # Most likely created meanwhile by a run beside this one: look again.
        try:
            found = look()
        except HTTPError as lookup_error:
            return None, False, f"{error.detail}; looking it up failed: {lookup_error}"
        return (found, False, None) if found else (None, False, error.detail)
    except HTTPError as error:
        return None, False, str(error)


def record_taxonomy(
    report: SyncReport, taxonomy: TaxonomyMap, sale: SalePriceReport, warn: Callable[[str], None]
) -> None:
    """Put what the taxonomy and sale-price steps did into the run's report, and say what
    went wrong (none of it fails the run: products keep the links they have)."""
    report.tags_created = len(taxonomy.tags_created)
    report.collections_created = len(taxonomy.collections_created)
    report.taxonomy_failed = len(taxonomy.failed) + (1 if taxonomy.error else 0)
    report.tag_ids = dict(taxonomy.ids.tag_ids)
    report.collection_ids = dict(taxonomy.ids.collection_ids)
    report.sale_prices_written, report.sale_prices_removed = sale.written, sale.removed
    report.sale_prices_error = sale.error
    if taxonomy.error:
        warn(f"tags and collections not synced: {taxonomy.error}")
    for key, why in list(taxonomy.failed.items())[:WARNINGS_SHOWN]:
        warn(f"{key} not created: {why}")
    if report.dry_run and (taxonomy.pending.tags or taxonomy.pending.collections):
        warn(
            f"dry run: would create {len(taxonomy.pending.tags)} tags and "
            f"{len(taxonomy.pending.collections)} collections"
        )
    if sale.error:
        warn(sale.error)
