"""An independent judge for tests: read the store through the Admin API (plain `requests`)
and the source through the catalog's own JSON, and list every way the store differs from
what the source says it should hold.

Nothing here imports `product_sync`: the expectation comes from small rules written down
below, so a bug in the pipeline's mapping, planning or asset checks cannot make the store
look right to this judge too.

The rules, for every source record that is a JSON object with a positive integer `id`
(the first record of a repeated id; ids in `skip` are left out):

* one product in the store has external id `dummyjson:<id>`, status `published`, no
  `sync_archived_at` flag in its metadata, and a handle that is a slug held by no other
  product;
* its title is the source title (trimmed), its description the source description;
* it is linked to exactly one category, whose handle is the record's `category` and whose
  name is the one `/products/categories` lists for that slug;
* it is in the store's default sales channel;
* it has one variant, with the record's `sku` and one USD price equal to `price` exactly;
* that variant has one inventory item, stocked at the sync's stock location with `stock`;
* its images are the record's image URLs and its thumbnail the record's thumbnail (or,
  with `copied_images`, as many images, none of them a source URL);
* its metadata holds the record's `tags`, `brand` and `availabilityStatus`.

And for the store as a whole: no external id of ours twice, no handle twice, no category
handle twice, the stock location exists once and serves the default sales channel, every
product of ours the source no longer has is archived (`draft` with its
`sync_archived_at` flag), and the foreign products a test snapshotted are unchanged.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests

PREFIX = "dummyjson:"
STOCK_LOCATION = "DummyJSON Warehouse"
ARCHIVED_FLAG = "sync_archived_at"
PRODUCT_FIELDS = (
    "id,handle,external_id,status,title,description,thumbnail,images.url,"
    "categories.id,categories.handle,categories.name,sales_channels.id,"
    "variants.id,variants.sku,variants.prices.amount,variants.prices.currency_code,"
    "variants.inventory_items.inventory_item_id,metadata"
)
# What a test watches of products that are not ours (compare with `foreign=`).
FOREIGN_FIELDS = "id,handle,external_id,status,title,updated_at,metadata,variants.sku"
PAGE = 200
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class Difference:
    """One way the store differs from the source. `source_id` is None for store-wide ones."""

    what: str  # a short kind: "missing", "price", "duplicate handle", ...
    source_id: int | None = None
    detail: str = ""

    def __str__(self) -> str:
        where = f"product {self.source_id}" if self.source_id is not None else "store"
        return f"{where}: {self.what}" + (f" ({self.detail})" if self.detail else "")

    __repr__ = __str__


def our_source_id(external_id: Any, prefix: str = PREFIX) -> int | None:
    """Ours means our prefix followed by a canonical decimal id ("dummyjson:04" is not)."""
    if not isinstance(external_id, str) or not external_id.startswith(prefix):
        return None
    rest = external_id[len(prefix) :]
    if rest.isascii() and rest.isdigit() and not rest.startswith("0"):
        return int(rest)
    return None


@dataclass
class Source:
    """The catalog as its own API serves it: records by id, category names by slug."""

    records: dict[int, dict[str, Any]]
    category_names: dict[str, str]

    @classmethod
    def read(cls, base_url: str) -> Source:
        base = base_url.rstrip("/")
        listed = _json(requests.get(f"{base}/products", params={"limit": 0}, timeout=60))
        assert len(listed["products"]) == listed["total"], "the source listing is not whole"
        records: dict[int, dict[str, Any]] = {}
        for record in listed["products"]:
            if not isinstance(record, dict):
                continue
            source_id = record.get("id")
            if type(source_id) is int and source_id > 0:
                records.setdefault(source_id, record)
        categories = _json(requests.get(f"{base}/products/categories", timeout=30))
        names = {c["slug"]: c["name"] for c in categories if isinstance(c, dict)}
        return cls(records=records, category_names=names)


def _json(response: requests.Response) -> Any:
    assert response.ok, f"{response.request.method} {response.url} -> {response.status_code}"
    return response.json()


class StoreReader:
    """The store through the Admin API, paged, with the secret key as HTTP Basic."""

    def __init__(
        self,
        backend_url: str,
        api_key: str,
        *,
        prefix: str = PREFIX,
        stock_location: str = STOCK_LOCATION,
    ):
        self.url = backend_url.rstrip("/")
        self.prefix = prefix
        self.stock_location_name = stock_location
        self.session = requests.Session()
        self.session.auth = (api_key, "")

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.session.get(self.url + path, params=params, timeout=60)
        response.raise_for_status()
        return response.json()

    def listing(self, path: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            body = self.get(path, limit=PAGE, offset=offset, **params)
            yield from body[key]
            offset += len(body[key])
            if not body[key] or offset >= body["count"]:
                return

    def products(self, fields: str = PRODUCT_FIELDS) -> list[dict[str, Any]]:
        """Every product in the store (ours or not), in any state but deleted."""
        return list(self.listing("/admin/products", "products", fields=fields))

    def default_sales_channel_id(self) -> str:
        (store,) = self.get("/admin/stores", fields="default_sales_channel_id")["stores"]
        return store["default_sales_channel_id"]

    def categories(self) -> list[dict[str, Any]]:
        return list(
            self.listing("/admin/product-categories", "product_categories", fields="id,handle,name")
        )

    def stock_locations(self) -> list[dict[str, Any]]:
        rows = self.get(
            "/admin/stock-locations",
            name=self.stock_location_name,
            fields="id,name,sales_channels.id",
        )["stock_locations"]
        return [r for r in rows if r["name"] == self.stock_location_name]

    def stock_levels(self, location_id: str) -> dict[str, int]:
        """Inventory item id -> stocked quantity at the location, for every item."""
        levels: dict[str, int] = {}
        fields = "id,location_levels.location_id,location_levels.stocked_quantity"
        for item in self.listing("/admin/inventory-items", "inventory_items", fields=fields):
            for level in item.get("location_levels") or []:
                if level["location_id"] == location_id:
                    levels[item["id"]] = level["stocked_quantity"]
        return levels

    def snapshot_foreign(self) -> list[dict[str, Any]]:
        """Products outside our namespace as they are now, to pass later as `foreign`."""
        return [
            p
            for p in self.products(FOREIGN_FIELDS)
            if our_source_id(p.get("external_id"), self.prefix) is None
        ]

    # -- the comparison -------------------------------------------------------------------

    def compare(
        self,
        source: Source | str,
        *,
        skip: Iterable[int] = (),
        foreign: Iterable[dict[str, Any]] | None = None,
        copied_images: bool = False,
        stock: bool = True,
    ) -> list[Difference]:
        """Every difference between the store and `source` (a `Source`, or the catalog's
        base URL to read it from). `skip`: source ids the test knowingly leaves out (they
        are neither required nor counted as strays). `stock=False`: the run did not sync
        stock, so levels and the stock location are not judged."""
        if isinstance(source, str):
            source = Source.read(source)
        skipped = set(skip)
        wanted = {k: v for k, v in source.records.items() if k not in skipped}
        everything = self.products(PRODUCT_FIELDS)
        ours: dict[int, list[dict[str, Any]]] = {}
        for product in everything:
            source_id = our_source_id(product.get("external_id"), self.prefix)
            if source_id is not None:
                ours.setdefault(source_id, []).append(product)

        found: list[Difference] = []
        for handle, n in Counter(p["handle"] for p in everything).items():
            if n > 1:
                found.append(Difference("duplicate handle", None, f"{handle!r} x{n}"))
        handles = Counter(c["handle"] for c in self.categories())
        for handle, n in handles.items():
            if n > 1:
                found.append(Difference("duplicate category", None, f"{handle!r} x{n}"))
        channel = self.default_sales_channel_id()
        levels: dict[str, int] = {}
        if stock:
            locations = self.stock_locations()
            if len(locations) != 1:
                found.append(
                    Difference("stock location", None, f"{len(locations)} named so, not 1")
                )
            elif channel not in {c["id"] for c in locations[0].get("sales_channels") or []}:
                found.append(Difference("stock location", None, "not in the default channel"))
            if locations:
                levels = self.stock_levels(locations[0]["id"])

        for source_id, record in sorted(wanted.items()):
            held = ours.get(source_id, [])
            if not held:
                found.append(Difference("missing", source_id))
                continue
            if len(held) > 1:
                found.append(Difference("duplicate external id", source_id, f"x{len(held)}"))
            world = _World(channel, levels if stock else None, source.category_names)
            found += [
                Difference(what, source_id, detail)
                for what, detail in _product_differences(held[0], record, world, copied_images)
            ]

        for source_id, held in sorted(ours.items()):
            if source_id in wanted or source_id in skipped:
                continue
            for product in held:
                if product["status"] == "published":
                    found.append(Difference("published, not in the source", source_id))
                elif not (product.get("metadata") or {}).get(ARCHIVED_FLAG):
                    found.append(
                        Difference("archived without its flag", source_id, product["status"])
                    )

        if foreign is not None:
            now = {p["id"]: p for p in self.products(FOREIGN_FIELDS)}
            for before in foreign:
                after = now.get(before["id"])
                if after != before:
                    what = "foreign product gone" if after is None else "foreign product changed"
                    found.append(Difference(what, None, f"{before['id']} {before['handle']!r}"))
        return found


@dataclass
class _World:
    channel: str
    levels: dict[str, int] | None  # None: stock is not judged
    category_names: dict[str, str]


def _usd(variant: dict[str, Any]) -> list[Decimal]:
    return [
        Decimal(str(p["amount"]))
        for p in variant.get("prices") or []
        if p.get("currency_code") == "usd"
    ]


def _product_differences(
    product: dict[str, Any], src: dict[str, Any], world: _World, copied_images: bool
) -> Iterator[tuple[str, str]]:
    """(what, detail) for each field of one product that is not what `src` says."""

    def differs(what: str, store: Any, source: Any) -> Iterator[tuple[str, str]]:
        if store != source:
            yield what, f"store {store!r}, source {source!r}"

    meta = product.get("metadata") or {}
    yield from differs("status", product["status"], "published")
    if meta.get(ARCHIVED_FLAG):
        yield "archived flag still set", str(meta[ARCHIVED_FLAG])
    if not _SLUG.fullmatch(product["handle"] or ""):
        yield "handle", f"{product['handle']!r} is not a slug"
    title = src.get("title")
    wanted_title = title.strip() if isinstance(title, str) else title
    yield from differs("title", product["title"], wanted_title)
    yield from differs(
        "description", product.get("description") or "", src.get("description") or ""
    )
    categories = product.get("categories") or []
    yield from differs("category", [c["handle"] for c in categories], [src.get("category")])
    if len(categories) == 1 and src.get("category") in world.category_names:
        wanted_name = world.category_names[src["category"]]
        yield from differs("category name", categories[0].get("name"), wanted_name)
    channels = [c["id"] for c in product.get("sales_channels") or []]
    yield from differs("sales channel", channels, [world.channel])

    variants = product.get("variants") or []
    if len(variants) != 1:
        yield "variants", f"{len(variants)} variants, not 1"
    else:
        (variant,) = variants
        price = src.get("price")
        wanted_price = [Decimal(str(price))] if isinstance(price, int | float) else price
        yield from differs("price", _usd(variant), wanted_price)
        yield from differs("sku", variant.get("sku"), src.get("sku"))
        items = [i["inventory_item_id"] for i in variant.get("inventory_items") or []]
        if len(items) != 1:
            yield "inventory item", f"{len(items)} inventory items, not 1"
        elif world.levels is not None:
            yield from differs("stock", world.levels.get(items[0]), src.get("stock", 0))

    images = sorted(i["url"] for i in product.get("images") or [])
    wanted_images = sorted(src.get("images") or [])
    if not copied_images:
        yield from differs("images", images, wanted_images)
        yield from differs("thumbnail", product.get("thumbnail"), src.get("thumbnail"))
    else:
        if len(images) != len(wanted_images) or set(images) & set(wanted_images):
            yield "images", f"store {images!r} are not copies of {wanted_images!r}"
        if src.get("thumbnail") and product.get("thumbnail") in (None, src["thumbnail"]):
            yield "thumbnail", f"store {product.get('thumbnail')!r} is not a copy"

    yield from differs("tags", meta.get("tags"), src.get("tags", []))
    yield from differs("brand", meta.get("brand"), src.get("brand"))
    yield from differs(
        "availability", meta.get("availability_status"), src.get("availabilityStatus")
    )


def assert_store_matches(
    reader: StoreReader, source: Source | str, **options: Any
) -> list[Difference]:
    """`reader.compare` that fails with the differences, one a line (the first 60)."""
    found = reader.compare(source, **options)
    assert not found, f"{len(found)} differences:\n" + "\n".join(map(str, found[:60]))
    return found
