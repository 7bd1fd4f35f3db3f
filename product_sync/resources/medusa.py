"""Medusa v2 Admin API: the only place the pipeline talks to the store.

Auth is a secret API key sent as the HTTP Basic username (Medusa rejects it as Bearer).
Two store behaviours shape this module: `external_id` is not unique, so creates are
always preceded by a lookup; and unknown query parameters are silently ignored, so every
filtered read checks that what came back matches the filter it asked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from product_sync.core.categories import StoreCategory
from product_sync.core.images import parse_stored
from product_sync.core.mapping import ARCHIVED_KEY, CATEGORY_KEY, HASH_KEY, source_id_of
from product_sync.core.planning import IndexedProduct
from product_sync.names import STOCK_LOCATION_NAME
from product_sync.resources.http import (
    AuthError,
    ClientError,
    HTTPError,
    JSONClient,
    RetryPolicy,
    TransientError,
)

LOOKUP_CHUNK = 100  # ids per filtered GET: keeps URLs well under server limits
# Rows per page of a listing. Medusa's time is largely per request, not per row: the 10k
# store's index read took 3.3 s in pages of 500 and 2.1 s in pages of 2000; its inventory
# item ids 2.8 s and 1.2 s. A page of 2000 index rows is about 2 MB of JSON.
PAGE_SIZE = 2000
# A listing page costs Medusa about as much as this many 100-value lookups (measured on the
# 10k store: ~0.3 s for 2000 rows of a few fields, ~0.06 s per lookup).
SCAN_PAGE_COST = 5
STOCK_CHUNK = 500  # levels per batch POST
LEVEL_FIELDS = "id,location_levels.location_id,location_levels.stocked_quantity"
# The inventory item id costs the 10k store's index ~0.07 s per page of 2000 and spares
# the stock step a listing of every product (~2 s).
INVENTORY_FIELD = "variants.inventory_items.inventory_item_id"
INDEX_FIELDS = (
    "id,handle,external_id,status,metadata,"
    "variants.id,variants.sku,variants.prices.amount,variants.prices.currency_code,"
    + INVENTORY_FIELD
)
WRITE_RESULT_FIELDS = "id,handle,external_id"
# A create's answer names the inventory items Medusa made for the new variants.
CREATE_RESULT_FIELDS = WRITE_RESULT_FIELDS + "," + INVENTORY_FIELD
# An update's answer shows whether the variant really holds what was sent (see
# `_rebuild_half_created`).
UPDATE_RESULT_FIELDS = (
    WRITE_RESULT_FIELDS
    + ",variants.id,variants.prices.amount,variants.prices.currency_code,"
    + INVENTORY_FIELD
)


class StoreRejected(Exception):
    """The store refused our credentials or its answers cannot be trusted: fail the run."""


class FilterIgnored(StoreRejected):
    """A filtered read returned records outside the filter (the store ignored it)."""


@dataclass
class WriteError:
    external_ids: list[str]
    message: str


@dataclass
class WriteReport:
    created: int = 0
    updated: int = 0
    errors: list[WriteError] = field(default_factory=list)
    # A create that landed although its request failed (e.g. timed out), found by lookup.
    recovered: int = 0
    # Variants left half-created by a crash inside Medusa, deleted and created again.
    repaired: int = 0
    # External id -> inventory item id of the written products' variants, as the write
    # answers named them (products whose variant was rebuilt afterwards are left out).
    inventory_items: dict[str, str] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return sum(len(e.external_ids) for e in self.errors)

    def merge(self, other: WriteReport) -> None:
        self.created += other.created
        self.updated += other.updated
        self.errors.extend(other.errors)
        self.recovered += other.recovered
        self.repaired += other.repaired
        self.inventory_items.update(other.inventory_items)


def _usd_price(variant: dict[str, Any]) -> Decimal | None:
    """The variant's one USD price; None when it has none or several.

    Several happen: two runs updating one product at once both add the new price (Medusa
    replaces a variant's prices in steps). Reading the first of them would make the
    product look right to planning while the prices check fails every run; None makes
    the next run rewrite the price list, which leaves exactly one.
    """
    amounts = [
        Decimal(str(price["amount"]))
        for price in variant.get("prices") or []
        if price.get("currency_code") == "usd" and price.get("amount") is not None
    ]
    return amounts[0] if len(amounts) == 1 else None


def _inventory_item(variant: dict[str, Any]) -> str | None:
    """The variant's (first) inventory item id, if an answer or listing included it."""
    for link in variant.get("inventory_items") or []:
        if link.get("inventory_item_id"):
            return link["inventory_item_id"]
    return None


def _answered_items(products: Iterable[dict[str, Any]]) -> dict[str, str]:
    """External id -> inventory item id of the first variant, from a write's answer."""
    items: dict[str, str] = {}
    for product in products:
        variants = product.get("variants") or []
        item = _inventory_item(variants[0]) if variants else None
        if item and product.get("external_id"):
            items[product["external_id"]] = item
    return items


def indexed_product(prefix: str, product: dict[str, Any]) -> IndexedProduct | None:
    source_id = source_id_of(prefix, product.get("external_id"))
    if source_id is None:
        return None
    metadata = product.get("metadata") or {}
    variants = product.get("variants") or []
    variant = variants[0] if variants else {}
    return IndexedProduct(
        id=product["id"],
        source_id=source_id,
        handle=product["handle"],
        status=product["status"],
        content_hash=metadata.get(HASH_KEY),
        category_id=metadata.get(CATEGORY_KEY),
        variant_id=variant.get("id"),
        sku=variant.get("sku"),
        price=_usd_price(variant),
        archived=bool(metadata.get(ARCHIVED_KEY)),
        images=parse_stored(metadata),
        inventory_item_id=_inventory_item(variant),
    )


def _level_at(item: dict[str, Any], location_id: str) -> int | None:
    here = [
        level["stocked_quantity"]
        for level in item.get("location_levels") or []
        if level.get("location_id") == location_id
    ]
    return here[0] if here else None


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class MedusaResource(dg.ConfigurableResource):
    """A Medusa v2 store's Admin API, authenticated with a secret API key."""

    backend_url: str = Field(description="e.g. http://127.0.0.1:9000")
    api_key: str = Field(description="secret API key (sk_…); set it with an EnvVar")
    external_id_prefix: str = Field(
        default="dummyjson:",
        min_length=2,
        description="namespace of the products this pipeline owns; it never touches others",
    )
    stock_location_name: str = Field(
        default=STOCK_LOCATION_NAME,
        description="stock location that holds the source's stock (created if missing)",
    )
    sync_stock: bool = Field(default=True, description="set inventory levels from `stock`")
    shipping_profile: str | None = Field(
        default=None,
        description=(
            "shipping profile every product gets, by id (sp_…) or name; default: the store's"
            " profile of type `default` (a cart cannot be completed without one)"
        ),
    )
    allow_backorder: bool = Field(
        default=False, description="let shoppers buy variants whose stock is 0"
    )
    upload_images: bool = Field(
        default=False,
        description="copy source images into the store's file storage and link the copies",
    )
    batch_size: int = Field(
        default=100,
        gt=0,
        le=500,
        description="products per batch request (100 measured fastest: benchmarks/README.md)",
    )
    write_concurrency: int = Field(default=1, gt=0, le=8, description="batch requests at once")
    read_concurrency: int = Field(
        default=4,
        gt=0,
        le=8,
        description="lookups at once where a read takes several (stock levels by id)",
    )
    category_concurrency: int = Field(
        default=1,
        gt=0,
        le=8,
        description=(
            "category creates at once (one request each; Medusa has no batch route). Above 1,"
            " Medusa gives concurrently created siblings equal `rank`s (measured on 2.21.2,"
            " explicit ranks included), so their order in the admin is undefined; 4 saves"
            " ~0.6 s on a first run of 24 categories"
        ),
    )
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 60.0
    max_retries: int = Field(default=3, ge=0)
    initial_backoff_s: float = 1.0
    max_backoff_s: float = 30.0

    _client: JSONClient | None = PrivateAttr(default=None)

    @property
    def client(self) -> JSONClient:
        if self._client is None:
            _check_key_usable(self.api_key)
            self._client = JSONClient(
                self.backend_url,
                auth=(self.api_key, ""),
                connect_timeout_s=self.connect_timeout_s,
                read_timeout_s=self.read_timeout_s,
                policy=RetryPolicy(self.max_retries, self.initial_backoff_s, self.max_backoff_s),
                # The stock read ahead (`read_concurrency` lookups) overlaps the writes.
                pool_size=max(4, self.category_concurrency)
                + self.write_concurrency
                + self.read_concurrency,
            )
        return self._client

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()

    @property
    def requests_made(self) -> int:
        return self._client.stats.requests if self._client else 0

    @property
    def retries_made(self) -> int:
        return self._client.stats.retries if self._client else 0

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return self.client.request(method, path, **kwargs)
        except AuthError as error:
            raise StoreRejected(
                f"Medusa at {self.backend_url} rejected the API key ({error.status}): "
                "check MEDUSA_API_KEY is a valid secret key for this store"
            ) from None

    # -- store -------------------------------------------------------------------------

    def default_sales_channel_id(self) -> str | None:
        stores = self._call(
            "GET", "/admin/stores", params={"fields": "id,default_sales_channel_id"}
        )
        for store in stores.get("stores", []):
            if store.get("default_sales_channel_id"):
                return store["default_sales_channel_id"]
        return None

    # -- files -------------------------------------------------------------------------

    def upload_files(self, files: Sequence[tuple[str, bytes, str]]) -> list[str]:
        """Upload (name, bytes, content type) files; returns their URLs in order.

        Retried like other calls: a repeated upload can only leave an unused copy behind.
        """
        body = self._call(
            "POST",
            "/admin/uploads",
            files=[("files", (name, content, kind)) for name, content, kind in files],
        )
        urls = [f["url"] for f in body.get("files", [])]
        if len(urls) != len(files):
            raise StoreRejected(f"uploaded {len(files)} files, the store returned {len(urls)}")
        return urls

    # -- inventory ---------------------------------------------------------------------

    def ensure_stock_location(
        self,
        name: str,
        sales_channel_id: str | None,
        found: Sequence[dict[str, Any]] | None = None,
    ) -> str:
        """The stock location called `name`, created if it does not exist yet, and made
        available to the sales channel (so storefronts see the stock).

        Medusa does not keep location names unique, so two runs at once could each create
        one and split the stock between them: after creating, every run reads the
        locations again and keeps the oldest; a run whose new location is not it deletes
        its own (still empty) one. The sales-channel link is checked on every call, not
        only after a create: a run that dies between the two must not leave it unlinked.

        `found`: `stock_locations(name)` as read earlier in the run (spares that read).
        """
        rows = list(found) if found is not None else self.stock_locations(name)
        if not rows:
            created = self._call(
                "POST",
                "/admin/stock-locations",
                json_body={"name": name},
                params={"fields": "id"},
            )["stock_location"]["id"]
            rows = self.stock_locations(name) or [{"id": created}]
            if rows[0]["id"] != created:
                self._call("DELETE", f"/admin/stock-locations/{created}")
        location = rows[0]
        linked = {c.get("id") for c in location.get("sales_channels") or []}
        if sales_channel_id and sales_channel_id not in linked:
            self._call(
                "POST",
                f"/admin/stock-locations/{location['id']}/sales-channels",
                json_body={"add": [sales_channel_id]},
                params={"fields": "id"},
            )
        return location["id"]

    def stock_locations(self, name: str) -> list[dict[str, Any]]:
        """Locations called `name`, oldest first (ties broken by id, so every run agrees)."""
        body = self._call(
            "GET",
            "/admin/stock-locations",
            params={"name": name, "fields": "id,name,created_at,sales_channels.id"},
        )
        rows = body.get("stock_locations", [])
        self._check_filter(rows, "name", [name])
        return sorted(rows, key=lambda r: (str(r.get("created_at") or ""), r["id"]))

    def inventory_items(self, prefix: str) -> dict[int, str]:
        """Source id -> inventory item id of its default variant, for our products."""
        items: dict[int, str] = {}
        for product in self.iter_owned(prefix, "variants.inventory_items.inventory_item_id"):
            source_id = source_id_of(prefix, product.get("external_id"))
            for variant in product.get("variants") or []:
                for link in variant.get("inventory_items") or []:
                    if source_id is not None and link.get("inventory_item_id"):
                        items[source_id] = link["inventory_item_id"]
        return items

    def inventory_items_for(self, prefix: str, source_ids: Iterable[int]) -> dict[int, str]:
        """`inventory_items` for some source ids only (a part of the catalog)."""
        items: dict[int, str] = {}
        rows = self.products_by_external_id(
            (f"{prefix}{i}" for i in source_ids),
            fields="id,external_id,variants.inventory_items.inventory_item_id",
        )
        for product in sorted(rows, key=lambda p: p["id"]):
            source_id = source_id_of(prefix, product.get("external_id"))
            for variant in product.get("variants") or []:
                for link in variant.get("inventory_items") or []:
                    if source_id is not None and link.get("inventory_item_id"):
                        items.setdefault(source_id, link["inventory_item_id"])
        return items

    def stock_levels(self, location_id: str, item_ids: Sequence[str]) -> dict[str, int | None]:
        """Stocked quantity at the location per item (None: no level there yet).

        A few items are asked for by id. Many are read as one listing of the items stocked
        at the location, a few large pages instead of one request per 100 items (10k items:
        5 requests instead of 100; Medusa's time 4.5-5.7 s -> 0.8-1.2 s).
        """
        wanted = list(dict.fromkeys(item_ids))
        if len(wanted) <= LOOKUP_CHUNK * self.read_concurrency:
            # A few lookups, sent at once: no count first (it would cost a round trip).
            return self._stock_levels_by_id(location_id, wanted, self.read_concurrency)
        # Only items with a level at the location. Were the filter ignored, the others
        # would be listed too and come out as None here: still right.
        at_location = {"location_levels[location_id]": location_id}
        stocked = self._call(
            "GET", "/admin/inventory-items", params={**at_location, "limit": 0, "fields": "id"}
        ).get("count")
        if not self._listing_is_cheaper(int(stocked or 0), len(wanted)):
            # A part of a large store (a scaled-out partition): by id after all.
            return self._stock_levels_by_id(location_id, wanted)
        levels: dict[str, int | None] = dict.fromkeys(wanted)
        listing = self._iter_listing(
            "/admin/inventory-items",
            "inventory_items",
            {**at_location, "fields": LEVEL_FIELDS, "order": "id"},
            PAGE_SIZE,
        )
        for row in listing:
            if row.get("id") in levels:
                levels[row["id"]] = _level_at(row, location_id)
        return levels

    def _stock_levels_by_id(
        self, location_id: str, item_ids: Sequence[str], at_once: int = 1
    ) -> dict[str, int | None]:
        def lookup(chunk: Sequence[str]) -> list[dict[str, Any]]:
            body = self._call(
                "GET",
                "/admin/inventory-items",
                params={"id[]": list(chunk), "fields": LEVEL_FIELDS, "limit": len(chunk)},
            )
            rows = body.get("inventory_items", [])
            self._check_filter(rows, "id", chunk)
            return rows

        chunks = list(_chunks(list(item_ids), LOOKUP_CHUNK))
        if at_once > 1 and len(chunks) > 1:
            with ThreadPoolExecutor(max_workers=min(at_once, len(chunks))) as pool:
                answers = list(pool.map(lookup, chunks))
        else:
            answers = [lookup(chunk) for chunk in chunks]
        levels: dict[str, int | None] = {}
        for rows in answers:
            for row in rows:
                levels[row["id"]] = _level_at(row, location_id)
        return levels

    def write_stock_levels(
        self, create: Sequence[dict[str, Any]], update: Sequence[dict[str, Any]]
    ) -> int:
        """Set levels in bulk; returns how many were written. Idempotent, so retried."""
        written = 0
        for kind, levels in (("create", create), ("update", update)):
            for chunk in _chunks(list(levels), STOCK_CHUNK):
                self._call(
                    "POST",
                    "/admin/inventory-items/location-levels/batch",
                    json_body={kind: list(chunk)},
                )
                written += len(chunk)
        return written

    # -- categories --------------------------------------------------------------------

    def categories_by_handle(self, handles: Sequence[str]) -> list[StoreCategory]:
        found: list[StoreCategory] = []
        for chunk in _chunks(list(handles), LOOKUP_CHUNK):
            body = self._call(
                "GET",
                "/admin/product-categories",
                params={"handle[]": list(chunk), "fields": "id,handle,name", "limit": len(chunk)},
            )
            rows = body.get("product_categories", [])
            self._check_filter(rows, "handle", chunk)
            found.extend(
                StoreCategory(id=r["id"], handle=r["handle"], name=r["name"]) for r in rows
            )
        return found

    def create_category(self, name: str, handle: str) -> str:
        """Create a category; before every retry, look its handle up (a request that timed
        out may have been applied) and return the one that landed instead of sending again.
        """
        for attempt in self.client.retrying():
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    landed = self.categories_by_handle([handle])
                    if landed:
                        return landed[0].id
                body = self._call(
                    "POST",
                    "/admin/product-categories",
                    json_body={"name": name, "handle": handle, "is_active": True},
                    params={"fields": "id,handle"},
                    retry=False,
                )
                return body["product_category"]["id"]
        raise AssertionError("unreachable")  # pragma: no cover

    def rename_category(self, category_id: str, name: str) -> None:
        self._call(
            "POST",
            f"/admin/product-categories/{category_id}",
            json_body={"name": name},
            params={"fields": "id"},
        )

    # -- products: reads ---------------------------------------------------------------

    def _iter_listing(
        self, path: str, key: str, params: dict[str, Any], page_size: int
    ) -> Iterator[dict[str, Any]]:
        """Every row of a paged Admin API listing, a page at a time."""
        offset = 0
        while True:
            body = self._call("GET", path, params={**params, "limit": page_size, "offset": offset})
            rows = body.get(key, [])
            yield from rows
            offset += len(rows)
            if not rows or offset >= body.get("count", 0):
                return

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
        self, prefix: str, fields: str = INDEX_FIELDS, page_size: int = PAGE_SIZE
    ) -> Iterator[dict[str, Any]]:
        """Products in our external-id namespace. Medusa cannot filter on a prefix, so
        the listing is paged with minimal fields and filtered here."""
        for product in self.iter_products("external_id," + fields, page_size):
            if source_id_of(prefix, product.get("external_id")) is not None:
                yield product

    def index(self, prefix: str) -> Iterator[IndexedProduct]:
        for product in self.iter_owned(prefix):
            item = indexed_product(prefix, product)
            if item is not None:
                yield item

    def products_by_external_id(
        self, external_ids: Iterable[str], fields: str = "id,handle,external_id"
    ) -> list[dict[str, Any]]:
        ids = list(dict.fromkeys(external_ids))
        scanned = self._scan_instead(len(ids), "external_id," + fields)
        if scanned is not None:
            wanted = set(ids)
            return [p for p in scanned if p.get("external_id") in wanted]
        found: list[dict[str, Any]] = []
        for chunk in _chunks(ids, LOOKUP_CHUNK):
            body = self._call(
                "GET",
                "/admin/products",
                params={"external_id[]": list(chunk), "fields": fields, "limit": len(chunk) * 4},
            )
            rows = body.get("products", [])
            self._check_filter(rows, "external_id", chunk)
            found.extend(rows)
        return found

    def handles_in_use(self, handles: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(handles))
        scanned = self._scan_instead(len(wanted), "id,handle")
        if scanned is not None:
            return {p["handle"] for p in scanned} & set(wanted)
        in_use: set[str] = set()
        for chunk in _chunks(wanted, LOOKUP_CHUNK):
            body = self._call(
                "GET",
                "/admin/products",
                params={"handle[]": list(chunk), "fields": "id,handle", "limit": len(chunk)},
            )
            rows = body.get("products", [])
            self._check_filter(rows, "handle", chunk)
            in_use.update(r["handle"] for r in rows)
        return in_use

    def _scan_instead(self, lookups: int, fields: str) -> list[dict[str, Any]] | None:
        """The whole store's listing, when reading it is cheaper than looking `lookups`
        values up 100 at a time; None when the lookups are cheaper.

        A first sync of 10k products checked its creates with 200 filtered GETs against an
        empty store (Medusa's time 11.9 s); one count now says there is nothing to find.
        """
        if lookups <= LOOKUP_CHUNK:
            return None
        count = self._call("GET", "/admin/products", params={"limit": 0, "fields": "id"})
        stored = int(count.get("count") or 0)
        if stored == 0:
            return []
        if not self._listing_is_cheaper(stored, lookups):
            return None
        return list(self.iter_products(fields))

    @staticmethod
    def _listing_is_cheaper(rows: int, lookups: int) -> bool:
        """Is reading `rows` in pages cheaper than looking `lookups` values up by id?"""
        pages = -(-rows // PAGE_SIZE)
        return pages * SCAN_PAGE_COST < -(-lookups // LOOKUP_CHUNK)

    @staticmethod
    def _check_filter(rows: list[dict[str, Any]], key: str, wanted: Sequence[str]) -> None:
        allowed = set(wanted)
        stray = [r.get(key) for r in rows if r.get(key) not in allowed]
        if stray:
            raise FilterIgnored(
                f"the store ignored a `{key}` filter: asked for {len(allowed)} values, "
                f"got {len(stray)} other records (e.g. {stray[:3]!r})"
            )

    # -- products: writes --------------------------------------------------------------

    def write_products(
        self,
        creates: Sequence[dict[str, Any]],
        updates: Sequence[dict[str, Any]],
        on_batch: Callable[[WriteReport], None] | None = None,
    ) -> WriteReport:
        """Send creates and updates in batches through `POST /admin/products/batch`.

        The endpoint is all-or-nothing, so a rejected batch is split in halves until the
        bad product is alone; everything else is written and the bad one is reported with
        Medusa's message. A batch that still fails after retries is counted, not fatal.
        """
        batches: list[tuple[str, Sequence[dict[str, Any]]]] = [
            ("create", chunk) for chunk in _chunks(list(creates), self.batch_size)
        ] + [("update", chunk) for chunk in _chunks(list(updates), self.batch_size)]
        report = WriteReport()

        def run(batch: tuple[str, Sequence[dict[str, Any]]]) -> WriteReport:
            kind, items = batch
            result = self._write_batch(kind, items)
            if on_batch:
                on_batch(result)
            return result

        if self.write_concurrency == 1:
            results = map(run, batches)
            for result in results:
                report.merge(result)
        else:
            with ThreadPoolExecutor(max_workers=self.write_concurrency) as pool:
                for result in pool.map(run, batches):
                    report.merge(result)
        return report

    def _write_batch(self, kind: str, items: Sequence[dict[str, Any]]) -> WriteReport:
        try:
            if kind == "create":
                return self._create_with_lookup(items)
            body = self._call(
                "POST",
                "/admin/products/batch",
                json_body={"update": list(items)},
                params={"fields": UPDATE_RESULT_FIELDS},
            )
            answered = {p.get("id"): p for p in body.get("updated") or []}
            rebuilt = [
                item
                for item in items
                if item.get("id") in answered
                and self._rebuild_half_created(item, answered[item["id"]])
            ]
            inventory = _answered_items(answered.values())
            for item in rebuilt:  # a new variant: its item is no longer the one answered
                inventory.pop(_ext_id(item), None)
            return WriteReport(updated=len(items), repaired=len(rebuilt), inventory_items=inventory)
        except ClientError as error:
            if len(items) == 1:
                return self._single_failure(kind, items[0], error)
            if kind == "create":
                # A refused create batch usually holds products that exist already (made by
                # a concurrent run, or by an earlier request that timed out): their handles
                # are taken by our own products. One lookup finds them all, where splitting
                # would cost two requests per product; only the rest is sent again.
                landed = self._landed(items)
                if landed:
                    rest = [i for i in items if _ext_id(i) not in landed]
                    report = WriteReport(recovered=len(items) - len(rest))
                    if rest:
                        report.merge(self._write_batch(kind, rest))
                    return report
            named = _named_in(error.detail, items)
            if named and len(named) < len(items):
                # Medusa named the product it refused (a handle, SKU or barcode another
                # product holds): set it aside and send the rest at once, instead of
                # bisecting (which re-sends about twice the batch before it is alone).
                report = WriteReport()
                for position in named:
                    report.merge(self._single_failure(kind, items[position], error))
                rest = [item for i, item in enumerate(items) if i not in named]
                report.merge(self._write_batch(kind, rest))
                return report
            middle = len(items) // 2
            report = self._write_batch(kind, items[:middle])
            report.merge(self._write_batch(kind, items[middle:]))
            return report
        except TransientError as error:
            return WriteReport(errors=[WriteError([_ext_id(i) for i in items], str(error))])

    def _create_with_lookup(self, items: Sequence[dict[str, Any]]) -> WriteReport:
        """Create a batch; before every retry, look up which of its products landed anyway
        (a timed-out request may have been applied) and only send the rest again."""
        pending = list(items)
        recovered = 0
        inventory: dict[str, str] = {}
        for attempt in self.client.retrying():
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    landed = {
                        p["external_id"]
                        for p in self.products_by_external_id(_ext_id(i) for i in pending)
                    }
                    recovered += sum(1 for i in pending if _ext_id(i) in landed)
                    pending = [i for i in pending if _ext_id(i) not in landed]
                if pending:
                    try:
                        body = self.client.send_once(
                            "POST",
                            "/admin/products/batch",
                            json_body={"create": pending},
                            params={"fields": CREATE_RESULT_FIELDS},
                        )
                    except AuthError as error:
                        raise StoreRejected(
                            f"Medusa at {self.backend_url} rejected the API key ({error.status})"
                        ) from None
                    inventory = _answered_items(body.get("created") or [])
        return WriteReport(
            created=len(items) - recovered, recovered=recovered, inventory_items=inventory
        )

    def _rebuild_half_created(self, item: dict[str, Any], product: dict[str, Any]) -> bool:
        """Re-create the variant of an update that Medusa could not complete.

        Medusa creates a product in steps that commit separately (product and variant,
        inventory item, its link, price set). Killed in between, it leaves a variant
        without a price set or without its inventory item (which may exist unlinked), and
        then a batch update either answers 200 while silently dropping the prices, or is
        refused because the inventory item "already exists": every later run would try
        the same update again and never fix the product. So the variant is deleted and
        created anew through the variant route, which makes its price set and links the
        left-over inventory item (or makes one; the stock step then sets its level).

        `product` is the store's product as an update answered it (or as read after a
        refusal). Returns whether a variant was rebuilt.
        """
        wanted = (item.get("variants") or [None])[0]
        if not wanted:
            return False
        held = product.get("variants") or []
        if wanted.get("id"):
            held = [v for v in held if v.get("id") == wanted["id"]]
        if len(held) > 1 or (held and _variant_complete(held[0], wanted)):
            return False
        body = {k: v for k, v in wanted.items() if k != "id"}
        if wanted.get("manage_inventory") and wanted.get("sku"):
            left_over = self._unlinked_inventory_items(wanted["sku"])
            if left_over:
                body["inventory_items"] = [
                    {"inventory_item_id": left_over[0], "required_quantity": 1}
                ]
        if held:
            self._call("DELETE", f"/admin/products/{item['id']}/variants/{held[0]['id']}")
        self._call(
            "POST",
            f"/admin/products/{item['id']}/variants",
            json_body=body,
            params={"fields": "id"},
        )
        return True

    def _unlinked_inventory_items(self, sku: str) -> list[str]:
        """Inventory items with this SKU that no variant uses (left by a crash)."""
        body = self._call(
            "GET",
            "/admin/inventory-items",
            params={"sku": sku, "fields": "id,sku,variants.id"},
        )
        rows = body.get("inventory_items", [])
        self._check_filter(rows, "sku", [sku])
        return [r["id"] for r in rows if not r.get("variants")]

    def _update_after_rebuild(self, item: dict[str, Any]) -> WriteReport | None:
        """A refused single update: if its variant was half-created, rebuild it and send
        the rest of the update again. None when that was not the problem."""
        if not item.get("variants"):
            return None
        try:
            product = self._call(
                "GET", f"/admin/products/{item['id']}", params={"fields": UPDATE_RESULT_FIELDS}
            )["product"]
            if not self._rebuild_half_created(item, product):
                return None
            self._call(
                "POST",
                "/admin/products/batch",
                json_body={"update": [{k: v for k, v in item.items() if k != "variants"}]},
                params={"fields": WRITE_RESULT_FIELDS},
            )
        except HTTPError:
            return None
        return WriteReport(updated=1, repaired=1)

    def _landed(self, items: Sequence[dict[str, Any]]) -> set[str]:
        """External ids of these items that exist in the store (empty if the store cannot
        say right now: the caller then splits the batch as usual)."""
        try:
            found = self.products_by_external_id(_ext_id(i) for i in items)
        except TransientError:
            return set()
        return {p["external_id"] for p in found}

    def _single_failure(self, kind: str, item: dict[str, Any], error: HTTPError) -> WriteReport:
        ext_id = _ext_id(item)
        # The usual cause of a refused create is a concurrent run (or an earlier timed-out
        # request) that created this product first: its handle is then taken by our own.
        if kind == "create" and self.products_by_external_id([ext_id]):
            return WriteReport(recovered=1)
        if kind == "update":
            rebuilt = self._update_after_rebuild(item)
            if rebuilt is not None:
                return rebuilt
        return WriteReport(errors=[WriteError([ext_id], error.detail)])

    # -- shipping ----------------------------------------------------------------------

    def shipping_profile_id(self) -> str | None:
        """The profile products are given: `shipping_profile` (an id or a name) when set,
        else the store's profile of type `default` (None if it has none).

        A setting that names no profile fails the run: products written without the
        profile the operator meant could not be bought.
        """
        rows = sorted(
            self._iter_listing(
                "/admin/shipping-profiles",
                "shipping_profiles",
                {"fields": "id,name,type", "order": "id"},
                PAGE_SIZE,
            ),
            key=lambda r: r["id"],
        )
        wanted = self.shipping_profile
        if not wanted:
            defaults = [r["id"] for r in rows if r.get("type") == "default"]
            return defaults[0] if defaults else None
        by_id = [r["id"] for r in rows if r["id"] == wanted]
        by_name = [r["id"] for r in rows if r.get("name") == wanted]
        if by_id or len(by_name) == 1:
            return (by_id or by_name)[0]
        names = ", ".join(repr(r.get("name")) for r in rows[:10]) or "none"
        why = "several profiles are" if by_name else "no profile is"
        raise StoreRejected(
            f"shipping_profile {wanted!r}: {why} called that in the store at "
            f"{self.backend_url} (its profiles: {names}); set an id (sp_…) or a unique name"
        )


def _variant_complete(held: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """The stored variant has every price sent and, if it manages inventory, an item."""
    prices = {
        (p.get("currency_code"), Decimal(str(p["amount"])))
        for p in held.get("prices") or []
        if p.get("amount") is not None
    }
    sent = {(p["currency_code"], Decimal(str(p["amount"]))) for p in wanted.get("prices") or []}
    if not sent <= prices:
        return False
    return not wanted.get("manage_inventory") or bool(held.get("inventory_items"))


def _check_key_usable(key: str) -> None:
    """Refuse, before any request, a key that cannot be one: HTTP Basic sends it as
    Latin-1, so a pasted `…` or non-breaking space would otherwise surface as a
    UnicodeEncodeError deep in `requests`, naming neither the setting nor the cause.
    The message never repeats the key."""
    if not key or not key.isascii() or any(c.isspace() or not c.isprintable() for c in key):
        raise StoreRejected(
            "MEDUSA_API_KEY is not a usable secret key: it is empty or holds characters no "
            "key has (non-ASCII, whitespace or control characters); set it to the store's "
            "secret API key (sk_…)"
        )


# "Product with handle: x, already exists." / "Product variant with sku: x, already exists."
_TAKEN = re.compile(r"with (handle|sku|barcode): (.+?), already exists")


def _named_in(message: str, items: Sequence[dict[str, Any]]) -> set[int]:
    """Positions of the items holding the value Medusa's error message says is taken."""
    found = _TAKEN.search(message or "")
    if not found:
        return set()
    key, value = found.groups()
    if key == "handle":
        return {i for i, item in enumerate(items) if item.get("handle") == value}
    return {
        i
        for i, item in enumerate(items)
        if any(v.get(key) == value for v in item.get("variants") or [])
    }


def _ext_id(item: dict[str, Any]) -> str:
    return item.get("external_id") or item.get("id") or "?"
