"""What one sync covers — the whole catalog, some source ids, or one source-id range of a
scaled-out run — and the two reads that depend on it: the source's products and the
store's products of ours."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from product_sync.core.catalog import SourceCatalog, validate_page
from product_sync.core.links import ProductLinks
from product_sync.core.mapping import external_id, source_id_of
from product_sync.core.planning import ProductIndex
from product_sync.core.ranges import IdRange
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.medusa import MedusaResource


class SyncScope(BaseModel):
    model_config = ConfigDict(frozen=True)

    product_ids: tuple[int, ...] = ()  # a targeted sync of these ids (never archives)
    id_range: IdRange | None = None  # one part of a scaled-out sync

    @property
    def key(self) -> str:
        if self.id_range is not None:
            return self.id_range.key
        return "ids" if self.product_ids else "catalog"


def read_source(scope: SyncScope, dummyjson: DummyJSONResource) -> SourceCatalog:
    """The scope's products from the source, validated (bad records quarantined)."""
    if scope.id_range is not None:
        read = dummyjson.read_id_range(scope.id_range.lo, scope.id_range.hi, parse=validate_page)
        pages = read.records
    elif scope.product_ids:
        read = dummyjson.read_products(scope.product_ids)
        pages = [validate_page(read.records)]
    else:
        read = dummyjson.read_catalog(parse=validate_page)
        pages = read.records
    return SourceCatalog.from_pages(
        pages,
        product_ids=sorted(set(scope.product_ids)) or None,
        total_reported=read.total,
        pages_fetched=read.pages,
        consistent=read.consistent,
        missing_ids=read.missing_ids,
        http_requests=dummyjson.requests_made,
        retries=dummyjson.retries_made,
    )


def read_index(
    scope: SyncScope,
    medusa: MedusaResource,
    catalog: SourceCatalog | None = None,
    links: ProductLinks | None = None,
) -> ProductIndex:
    """The store's products of ours that the scope covers, oldest first.

    A whole or targeted sync lists our namespace. A range reads only its own products:
    its ids looked up a chunk at a time, so its cost follows the range, not the store.
    The open last range also has to find products we hold beyond the source's last id
    (removed at the end of the catalog), so it lists the store's external ids once with
    nothing else (and takes the ids `catalog` read): the one read of a scaled-out run
    that grows with the store, done by one range. `links`: the store's category and tag
    links as read earlier in the run (a scaled-out run reads them once for all its
    ranges); read now if not given.
    """
    prefix = medusa.external_id_prefix
    id_range = scope.id_range
    if id_range is None:
        return ProductIndex.build(prefix, medusa.index(prefix, links))
    if id_range.hi is not None:
        ids: list[int] = list(range(id_range.lo, id_range.hi + 1))
    else:
        held = {
            source_id
            for product in medusa.iter_owned(prefix, "id")
            if (source_id := source_id_of(prefix, product.get("external_id"))) in id_range
        }
        ids = sorted(held | (catalog.source_ids if catalog else set()))
    found = medusa.index_of(prefix, (external_id(prefix, i) for i in ids), links)
    return ProductIndex.build(prefix, (i for i in found if i.source_id in id_range))
