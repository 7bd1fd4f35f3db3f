"""Raw source records -> validated products plus a quarantine. Pure."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from product_sync.core.models import (
    Category,
    Quarantined,
    SourceProduct,
    describe_validation_error,
)

MAX_KEPT_RECORD_CHARS = 2_000


class SourceCatalog(BaseModel):
    """Everything read from the source in one run.

    `product_ids` is set for a targeted sync: only those products were read, so nothing
    else may be archived.
    """

    products: list[SourceProduct] = []
    quarantined: list[Quarantined] = []
    categories: list[Category] = []
    duplicate_ids: list[int] = []
    product_ids: list[int] | None = None
    total_reported: int = 0
    pages_fetched: int = 0
    consistent: bool = True
    http_requests: int = 0
    retries: int = 0

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
        for product in self.products:
            if product.category not in known:
                known.add(product.category)
                slugs.append(product.category)
        return slugs


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
            record=_excerpt(record),
        )


def validate_page(records: Iterable[Any]) -> list[SourceProduct | Quarantined]:
    """A page's records validated as soon as it arrives, so a run never holds the whole
    catalog's raw JSON (4.5 KB per product as parsed) next to the products."""
    return [validate_record(record) for record in records]


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
    return collect_validated(validate_page(records))


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
