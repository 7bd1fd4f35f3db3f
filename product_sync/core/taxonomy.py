"""The source's tags and brands as the store's product tags and collections. Pure.

A tag is found by its value, a collection by its handle (the slug of the brand); both are
shared by every product of the store, so the sync creates what is missing and reuses what
is there, and never renames or deletes either. What a product links to is part of its
payload (`links`), so the content hash covers it: a brand change writes the product once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from product_sync.core.handles import slug
from product_sync.core.models import SourceProduct


def tag_values(src: SourceProduct) -> list[str]:
    """The product's tags, trimmed, blank ones dropped, each once, in a stable order."""
    return sorted({value.strip() for value in src.tags if value.strip()})


def brand_title(src: SourceProduct) -> str | None:
    brand = (src.brand or "").strip()
    return brand or None


def collection_handle(brand: str) -> str:
    """The handle of a brand's collection: the slug of its name, or (for a name with
    nothing to slug, e.g. only punctuation) a stable one made from it."""
    return slug(brand) or "brand-" + hashlib.sha256(brand.encode()).hexdigest()[:10]


class TaxonomyPlan(BaseModel):
    """What the source asks for that the store does not have yet."""

    tags: list[str] = []  # values to create
    collections: list[dict[str, str]] = []  # {"title", "handle"} to create


def wanted_taxonomy(products: Iterable[SourceProduct]) -> tuple[list[str], dict[str, str]]:
    """The tag values and the brand collections (handle -> title) the products name, in
    one pass (a catalog's products are unpacked as they are read). Two brands with one
    slug ("ACME", "Acme") share a collection, titled by the first of them in sort order."""
    tags: set[str] = set()
    brands: set[str] = set()
    for src in products:
        tags.update(tag_values(src))
        if title := brand_title(src):
            brands.add(title)
    collections: dict[str, str] = {}
    for title in sorted(brands):
        collections.setdefault(collection_handle(title), title)
    return sorted(tags), collections


def plan_taxonomy(
    tags: Iterable[str],
    collections: Mapping[str, str],
    tag_ids: Mapping[str, str],
    collection_ids: Mapping[str, str],
) -> TaxonomyPlan:
    """The wanted tag values and collections (handle -> title) the store lacks; ids of
    the ones it holds are `tag_ids` (value -> id) and `collection_ids` (handle -> id)."""
    return TaxonomyPlan(
        tags=sorted(set(tags) - set(tag_ids)),
        collections=[
            {"title": title, "handle": handle}
            for handle, title in sorted(collections.items())
            if handle not in collection_ids
        ],
    )


class ProductTaxonomy(BaseModel):
    """The store's ids of the source's tags (by value) and brand collections (by handle):
    what the products are planned with."""

    tag_ids: dict[str, str] = {}
    collection_ids: dict[str, str] = {}

    def links(self, src: SourceProduct) -> dict[str, Any]:
        """The product's `tags` and `collection_id`, for its payload.

        A product without a brand has no collection (`collection_id: None` takes it out of
        one). A key whose ids are not all known (a tag or collection not created, in a dry
        run or after a failure) is left out, so the product keeps what it has; the payload,
        hence the hash, differs, and the product is written again once they are known.
        """
        links: dict[str, Any] = {}
        values = tag_values(src)
        if all(v in self.tag_ids for v in values):
            links["tags"] = [{"id": self.tag_ids[v]} for v in values]
        brand = brand_title(src)
        if brand is None:
            links["collection_id"] = None
        elif (handle := collection_handle(brand)) in self.collection_ids:
            links["collection_id"] = self.collection_ids[handle]
        return links
