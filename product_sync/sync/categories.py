"""Source categories -> the store's product categories.

Two halves, so that a dry run can show what it would do without doing it: `plan_category_map`
only reads (the source's category list, the store's categories by handle) and says what is
missing or renamed; `apply_category_map` creates and renames. Products are planned against
whatever ids the map holds, so a dry run plans a product of a new category without its link.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel

from product_sync.core.catalog import SourceCatalog, parse_categories
from product_sync.core.categories import plan_categories
from product_sync.resources.dummyjson import DummyJSONResource, SourceUnavailable
from product_sync.resources.http import ClientError, HTTPError
from product_sync.resources.medusa import MedusaResource


class CategoryMap(BaseModel):
    """DummyJSON category slug -> Medusa product-category id, and what is not there yet."""

    ids: dict[str, str] = {}
    to_create: list[dict[str, str]] = []  # {"name", "handle"}: not in the store yet
    to_rename: list[dict[str, str]] = []  # {"id", "name"}: in the store under another name
    created: list[str] = []
    renamed: list[str] = []
    failed: dict[str, str] = {}  # slug or id -> why
    error: str | None = None  # the whole step failed: products sync without new links

    @property
    def pending(self) -> bool:
        return bool(self.to_create or self.to_rename)


def plan_category_map(
    catalog: SourceCatalog, dummyjson: DummyJSONResource, medusa: MedusaResource
) -> CategoryMap:
    """Match source categories to Medusa's by handle; writes nothing.

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
    return CategoryMap(
        ids=dict(plan.existing),
        to_create=plan.create,
        to_rename=plan.rename,
        error=listing_error,
    )


def apply_category_map(categories: CategoryMap, medusa: MedusaResource) -> CategoryMap:
    """Create the missing categories and rename the changed ones; the map that results."""
    result = categories.model_copy(deep=True)
    result.to_create, result.to_rename = [], []
    # One request per category (Medusa has no batch route), a few at a time; the outcomes
    # are folded in plan order, so the result does not depend on which finished first.
    creates = categories.to_create
    workers = min(medusa.category_concurrency, len(creates)) or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(lambda item: _create_category(item, medusa), creates))
    for item, (category_id, created, why) in zip(creates, outcomes, strict=True):
        if category_id is not None:
            result.ids[item["handle"]] = category_id
            if created:
                result.created.append(item["handle"])
        else:
            result.failed[item["handle"]] = why or "not created"
    for item in categories.to_rename:
        try:
            medusa.rename_category(item["id"], item["name"])
            result.renamed.append(item["id"])
        except HTTPError as error:
            result.failed[item["id"]] = str(error)
    return result


def build_category_map(
    catalog: SourceCatalog, dummyjson: DummyJSONResource, medusa: MedusaResource
) -> CategoryMap:
    """Plan, then apply: every source category in the store, by id."""
    planned = plan_category_map(catalog, dummyjson, medusa)
    return apply_category_map(planned, medusa) if planned.pending else planned


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
