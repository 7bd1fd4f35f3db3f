"""Raw source records -> validated products plus a quarantine. Pure."""

from __future__ import annotations

import json
import pickle
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from product_sync.core.models import (
    Category,
    Quarantined,
    SourceProduct,
    describe_validation_error,
)

MAX_KEPT_RECORD_CHARS = 2_000


class PackedProducts(BaseModel):
    """Validated products kept compressed (a zlib'd pickle) until someone iterates them.

    A 10k-product catalog is ~35 MB as Python objects and ~3 MB packed. The run holds the
    catalog from the first step to the last, and every step that reads it gets its own
    copy from the IO manager, so it is unpacked a chunk at a time, never whole.
    """

    model_config = ConfigDict(frozen=True)

    ids: list[int]
    data: bytes = Field(exclude=True)  # not JSON: never shown, never logged

    @classmethod
    def pack(cls, products: list[SourceProduct]) -> PackedProducts:
        blob = zlib.compress(pickle.dumps(products, pickle.HIGHEST_PROTOCOL), 1)
        return cls(ids=[p.id for p in products], data=blob)

    def unpack(self) -> list[SourceProduct]:
        return pickle.loads(zlib.decompress(self.data))  # our own bytes, from this run


class ValidatedPage(BaseModel):
    """One source page after validation: its products packed, its refusals as they are."""

    products: PackedProducts
    quarantined: list[Quarantined] = []
    records: int = 0


def validate_page(records: list[Any]) -> ValidatedPage:
    """A page's records validated and packed as soon as it arrives (in the fetching
    thread), so a run never holds the catalog's raw JSON, nor all its products unpacked."""
    products, quarantined = [], []
    for record in records:
        item = validate_record(record)
        (quarantined if isinstance(item, Quarantined) else products).append(item)
    return ValidatedPage(
        products=PackedProducts.pack(products), quarantined=quarantined, records=len(records)
    )


class SourceCatalog(BaseModel):
    """Everything read from the source in one run.

    Products are packed in chunks (`PackedProducts`) in the order the source listed
    them; iterate `catalog.products_view` to stream them, or read `catalog.products` for
    a list of all. A repeated id keeps its first valid record: pages can overlap when the
    source shifts under a paged read.

    `product_ids` is set for a targeted sync: only those products were read, so nothing
    else may be archived.
    """

    chunks: list[PackedProducts] = []
    quarantined: list[Quarantined] = []
    categories: list[Category] = []
    duplicate_ids: list[int] = []
    product_ids: list[int] | None = None
    missing_ids: list[int] = []  # asked for by a targeted sync, unknown to the source
    total_reported: int = 0
    pages_fetched: int = 0
    consistent: bool = True
    http_requests: int = 0
    retries: int = 0

    @model_validator(mode="before")
    @classmethod
    def _pack_products(cls, data: Any) -> Any:
        """`SourceCatalog(products=[...])` packs them (sorted by id, first of each id)."""
        if isinstance(data, dict) and "products" in data:
            data = dict(data)
            unique = {p.id: p for p in reversed(data.pop("products"))}
            data["chunks"] = [PackedProducts.pack(sorted(unique.values(), key=lambda p: p.id))]
        return data

    @classmethod
    def from_pages(cls, pages: Iterable[ValidatedPage], **fields: Any) -> SourceCatalog:
        """Collect validated pages: repeated ids are counted, and a record refused once but
        valid in another copy is not lost (its quarantine is dropped)."""
        chunks: list[PackedProducts] = []
        quarantined: list[Quarantined] = []
        seen: set[int] = set()
        duplicate_ids: set[int] = set()
        for page in pages:
            chunks.append(page.products)
            quarantined.extend(page.quarantined)
            for source_id in page.products.ids:
                (duplicate_ids if source_id in seen else seen).add(source_id)
        return cls(
            chunks=chunks,
            quarantined=[q for q in quarantined if q.source_id not in seen],
            duplicate_ids=sorted(duplicate_ids),
            **fields,
        )

    @property
    def products_view(self) -> ProductsView:
        return ProductsView(self.chunks)

    @property
    def products(self) -> list[SourceProduct]:
        """Every product, unpacked, in id order."""
        return sorted(self.products_view, key=lambda p: p.id)

    @property
    def source_ids(self) -> set[int]:
        """The ids of the catalog's products, read from the packs without unpacking them."""
        return {i for chunk in self.chunks for i in chunk.ids}

    @property
    def product_count(self) -> int:
        return len(self.source_ids)

    @property
    def full_catalog(self) -> bool:
        return self.product_ids is None

    @property
    def quarantined_ids(self) -> set[int]:
        return {q.source_id for q in self.quarantined if isinstance(q.source_id, int)}

    def category_slugs(self) -> list[str]:
        """Listed categories first (in the source's order), then any seen only on products."""
        slugs = [c.slug for c in self.categories]
        known = set(slugs)
        for product in self.products_view:
            if product.category not in known:
                known.add(product.category)
                slugs.append(product.category)
        return slugs


class ProductsView:
    """The catalog's products, unpacked one chunk at a time on each iteration (so it can be
    iterated more than once), first record of each id only."""

    def __init__(self, chunks: list[PackedProducts]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[SourceProduct]:
        seen: set[int] = set()
        for chunk in self._chunks:
            for product in chunk.unpack():
                if product.id not in seen:
                    seen.add(product.id)
                    yield product


def _excerpt(record: Any) -> dict[str, Any] | None:
    """The refused record, trimmed so one huge field cannot bloat run metadata."""
    if not isinstance(record, dict):
        return {"value": repr(record)[:MAX_KEPT_RECORD_CHARS]}
    text = json.dumps(record, ensure_ascii=False, default=repr)
    if len(text) <= MAX_KEPT_RECORD_CHARS:
        return record
    return {
        key: (value[:200] + "…" if isinstance(value, str) and len(value) > 200 else value)
        for key, value in record.items()
        if key not in ("reviews", "images")
    }


def validate_record(record: Any) -> SourceProduct | Quarantined:
    """One raw record -> a product, or its quarantine with the reason."""
    if not isinstance(record, dict):
        return Quarantined(reason="record is not a JSON object", record=_excerpt(record))
    try:
        return SourceProduct.model_validate(record)
    except ValidationError as error:
        return Quarantined(
            source_id=record.get("id"),
            reason=describe_validation_error(error),
            field=".".join(map(str, error.errors()[0]["loc"])) if error.errors() else None,
            record=_excerpt(record),
        )


def collect_validated(
    items: Iterable[SourceProduct | Quarantined],
) -> tuple[list[SourceProduct], list[Quarantined], list[int]]:
    """Products (by id) and quarantine from validated records; repeated ids collapse.

    Returns (products, quarantined, duplicate ids). A repeated id keeps its first valid
    record: pages can overlap when the source shifts under a paged read.
    """
    products: dict[int, SourceProduct] = {}
    quarantined: list[Quarantined] = []
    duplicate_ids: list[int] = []
    for item in items:
        if isinstance(item, Quarantined):
            quarantined.append(item)
        elif item.id in products:
            duplicate_ids.append(item.id)
        else:
            products[item.id] = item
    # A record refused once but valid in another copy is not lost: drop its quarantine.
    quarantined = [q for q in quarantined if q.source_id not in products]
    return sorted(products.values(), key=lambda p: p.id), quarantined, sorted(set(duplicate_ids))


def validate_records(
    records: Iterable[Any],
) -> tuple[list[SourceProduct], list[Quarantined], list[int]]:
    """Validate every record; refuse bad ones with a reason; collapse repeated ids."""
    return collect_validated(validate_record(record) for record in records)


def parse_categories(raw: Any) -> list[Category]:
    """`/products/categories` as objects (current API) or bare slugs (before 2024-05)."""
    if not isinstance(raw, list):
        raise ValueError("categories response is not a list")
    categories = []
    for item in raw:
        if isinstance(item, str):
            categories.append(Category(slug=item, name=item.replace("-", " ").title()))
        elif isinstance(item, dict) and isinstance(item.get("slug"), str):
            name = item.get("name") if isinstance(item.get("name"), str) else item["slug"]
            categories.append(Category(slug=item["slug"], name=name))
    return categories
