"""Reading the store's products: whole listings, our namespace, lookups by value.

`external_id` is not unique in Medusa and it cannot filter on a prefix, so "our products"
is a filtered listing, and lookups by external id or handle may find several products.
Many lookups against a small (or empty) store read its listing instead (`_scan_instead`).
Category and tag links are read apart from the product rows (`product_links`) and
attached to them as `categories` and `tags`, the shape a row listing `categories.id` and
`tags.id` has.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from typing import Any

from product_sync.core.links import RELATIONS, ProductLinks
from product_sync.core.mapping import source_id_of
from product_sync.core.planning import IndexedProduct
from product_sync.resources.medusa.client import (
    LOOKUP_MAX,
    PAGE_SIZE,
    MedusaClient,
    check_filter,
    listing_is_cheaper,
    lookup_chunks,
)
from product_sync.resources.medusa.rows import LISTING_FIELDS, indexed_product

# Categories (tags) per page of a links listing: each row carries all its products' ids.
LINKS_PAGE = 50
# One product's links looked up with the joins (`categories.id,tags.id`) cost about what
# the categories' and tags' listings cost per this many products of the store: joined
# ~1.0 ms a product (20k store, 300-3000 of them), listed 0.31 ms (20k) to 0.12 ms (100k)
# per product held.
JOINED_LINKS_COST = 4
# Where each relation's links are listed: route, response key.
LINK_ROUTES = {
    "categories": ("/admin/product-categories", "product_categories"),
    "tags": ("/admin/product-tags", "product_tags"),
}


class ProductReads(MedusaClient):
    def iter_products(self, fields: str, page_size: int = PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Every product in the store exactly once, a page at a time, oldest first.

        Ordered by id, not created_at: the products of one batch share their created_at,
        and offset paging over a non-unique order repeats some rows and skips others (a
        row seen twice looked like a duplicate of itself and got retired). Ids are ULIDs,
        so id order is creation order to the millisecond, and it is a total order.
        """
        return self._iter_listing(
            "/admin/products", "products", {"fields": fields, "order": "id"}, page_size
        )

    def iter_owned(
        self, prefix: str, fields: str = LISTING_FIELDS, page_size: int = PAGE_SIZE
    ) -> Iterator[dict[str, Any]]:
        """Products in our external-id namespace. Medusa cannot filter on a prefix, so
        the listing is paged with minimal fields and filtered here."""
        for product in self.iter_products("external_id," + fields, page_size):
            if source_id_of(prefix, product.get("external_id")) is not None:
                yield product

    def product_links(self) -> ProductLinks:
        """Every category's and tag's products, from one listing of each (10k store:
        ~1.5 s for the categories, against ~12-20 s for `categories.id` in the product
        listing)."""
        return ProductLinks.of(
            {relation: self._groups(*LINK_ROUTES[relation]) for relation in RELATIONS}
        )

    def _groups(self, path: str, key: str) -> list[tuple[str, list[str]]]:
        listing = self._iter_listing(
            path, key, {"fields": "id,products.id", "order": "id"}, LINKS_PAGE
        )
        return [(row["id"], [p["id"] for p in row.get("products") or []]) for row in listing]

    def owned_rows(
        self, prefix: str, links: ProductLinks | None = None, fields: str = LISTING_FIELDS
    ) -> Iterator[dict[str, Any]]:
        """`iter_owned` rows with their links (`links`, read now if not given)."""
        by_product = (links or self.product_links()).by_product()
        for product in self.iter_owned(prefix, fields):
            yield with_links(product, by_product)

    def index(self, prefix: str, links: ProductLinks | None = None) -> Iterator[IndexedProduct]:
        for product in self.owned_rows(prefix, links):
            item = indexed_product(prefix, product)
            if item is not None:
                yield item

    def index_of(
        self, prefix: str, external_ids: Iterable[str], links: ProductLinks | None = None
    ) -> list[IndexedProduct]:
        """The index rows of these external ids only, oldest first (a part of the store).

        `links` read earlier in the run may not know a product made since (a range run
        again after a failure finds what its first attempt created): the links of
        products they do not name are looked up now."""
        rows = self.products_by_external_id(external_ids, fields=LISTING_FIELDS)
        wanted = {r["id"] for r in rows}
        by_product = (links or self.product_links()).by_product(wanted)
        if links is not None:
            by_product.update(self._links_of([i for i in wanted if i not in by_product]))
        found = (
            indexed_product(prefix, with_links(r, by_product))
            for r in sorted(rows, key=lambda r: r["id"])
        )
        return [item for item in found if item is not None]

    def links_of(self, product_ids: Set[str]) -> dict[str, dict[str, tuple[str, ...]]]:
        """Product id -> relation -> group ids, for these products: looked up with the
        joins when they are few against the store (a cost that follows them), else
        taken from the categories' and tags' own listings (a cost that follows the
        store). A 1 % change of 100k products read the whole store's links twice more
        for its journal, ~16 s of Medusa's time each."""
        if self.joins_cheaper(len(product_ids)):
            return self._links_of(sorted(product_ids))
        return self.product_links().by_product(product_ids)

    def joins_cheaper(self, products: int) -> bool:
        """Do these many products' links cost less looked up with the joins than read
        from the store's link listings?"""
        return products * JOINED_LINKS_COST < self.product_count()

    def product_count(self) -> int:
        body = self._call("GET", "/admin/products", params={"limit": 0, "fields": "id"})
        return int(body.get("count") or 0)

    def _links_of(self, product_ids: list[str]) -> dict[str, dict[str, tuple[str, ...]]]:
        links: dict[str, dict[str, tuple[str, ...]]] = {}
        fields = ",".join(["id", *(f"{r}.id" for r in RELATIONS)])
        for row in self.products_by_id(product_ids, fields):
            links[row["id"]] = {
                r: tuple(sorted(g["id"] for g in row.get(r) or [])) for r in RELATIONS
            }
        return links

    def products_by_id(self, product_ids: list[str], fields: str) -> Iterator[dict[str, Any]]:
        """Rows of these products with `fields`, looked up by id a chunk at a time (each
        answer checked: Medusa ignores a filter it does not know)."""
        for chunk in lookup_chunks(product_ids, "id"):
            body = self._call(
                "GET",
                "/admin/products",
                params={"id[]": chunk, "fields": fields, "limit": len(chunk)},
            )
            rows = body.get("products", [])
            check_filter(rows, "id", chunk)
            yield from rows

    def products_by_external_id(
        self, external_ids: Iterable[str], fields: str = "id,handle,external_id"
    ) -> list[dict[str, Any]]:
        return list(self.iter_by_external_id(external_ids, fields))

    def iter_by_external_id(
        self, external_ids: Iterable[str], fields: str = "id,handle,external_id"
    ) -> Iterator[dict[str, Any]]:
        """The products carrying these external ids, a page or a lookup at a time (a
        caller that keeps little of each row never holds them all)."""
        ids = list(dict.fromkeys(external_ids))
        scan = self._scan_cheaper(len(ids))
        if scan is None:
            return
        if scan:
            wanted = set(ids)
            for product in self.iter_products("external_id," + fields):
                if product.get("external_id") in wanted:
                    yield product
            return
        for chunk in lookup_chunks(ids, "external_id"):
            body = self._call(
                "GET",
                "/admin/products",
                params={"external_id[]": chunk, "fields": fields, "limit": len(chunk) * 4},
            )
            rows = body.get("products", [])
            check_filter(rows, "external_id", chunk)
            yield from rows

    def handles_in_use(self, handles: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(handles))
        scanned = self._scan_instead(len(wanted), "id,handle")
        if scanned is not None:
            return {p["handle"] for p in scanned} & set(wanted)
        in_use: set[str] = set()
        for chunk in lookup_chunks(wanted, "handle"):
            body = self._call(
                "GET",
                "/admin/products",
                params={"handle[]": chunk, "fields": "id,handle", "limit": len(chunk)},
            )
            rows = body.get("products", [])
            check_filter(rows, "handle", chunk)
            in_use.update(r["handle"] for r in rows)
        return in_use

    def _scan_instead(self, lookups: int, fields: str) -> list[dict[str, Any]] | None:
        """The whole store's listing, when reading it is cheaper than looking `lookups`
        values up a chunk at a time; None when the lookups are cheaper."""
        scan = self._scan_cheaper(lookups)
        if scan is None:
            return []
        return list(self.iter_products(fields)) if scan else None

    def _scan_cheaper(self, lookups: int) -> bool | None:
        """Is one listing of the store cheaper than `lookups` lookups? None: the store is
        empty, there is nothing to look up.

        A first sync of 10k products checked its creates with 200 filtered GETs against an
        empty store (Medusa's time 11.9 s); one count now says there is nothing to find.
        Up to one request's worth, the lookup costs what the count would: a 10k range's
        cold load counted the store before each batch's handle check (~100 counts).
        """
        if lookups <= LOOKUP_MAX:
            return False
        stored = self.product_count()
        if stored == 0:
            return None
        return listing_is_cheaper(stored, lookups, LOOKUP_MAX)


def with_links(
    product: dict[str, Any], by_product: dict[str, dict[str, tuple[str, ...]]]
) -> dict[str, Any]:
    """The row as if it had listed `categories.id` and `tags.id`."""
    links = by_product.get(product["id"], {})
    for relation in RELATIONS:
        product[relation] = [{"id": g} for g in links.get(relation, ())]
    return product
