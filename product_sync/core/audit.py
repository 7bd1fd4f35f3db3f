"""What the asset checks assert about the store, as pure functions over a listing of the
store's products in our namespace (plain dicts as the Admin API returns them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from product_sync.core.mapping import ARCHIVED_KEY, source_id_of
from product_sync.core.models import SourceProduct

MAX_LISTED = 50  # offending ids shown in check metadata; the count is always complete


@dataclass
class Finding:
    passed: bool
    count: int = 0
    offending: list[Any] = field(default_factory=list)

    def metadata(self) -> dict[str, Any]:
        return {"count": self.count, "offending": self.offending[:MAX_LISTED]}


def finding(offending: list[Any]) -> Finding:
    return Finding(passed=not offending, count=len(offending), offending=sorted(offending, key=str))


def duplicate_values(products: Iterable[Mapping[str, Any]], key: str) -> Finding:
    counts = Counter(p.get(key) for p in products)
    return finding([value for value, n in counts.items() if n > 1])


def _by_source_id(prefix: str, products: Iterable[Mapping[str, Any]]) -> dict[int, list[Mapping]]:
    grouped: dict[int, list[Mapping[str, Any]]] = {}
    for product in products:
        source_id = source_id_of(prefix, product.get("external_id"))
        if source_id is not None:
            grouped.setdefault(source_id, []).append(product)
    return grouped


def present_exactly_once(
    prefix: str,
    source: Iterable[SourceProduct],
    products: Iterable[Mapping[str, Any]],
    *,
    merchant_status: bool = False,
) -> Finding:
    """Every valid source product is in the store once, published. `merchant_status`: the
    merchant owns the status, so a draft counts too, unless the sync archived it (then the
    sync should have published it again)."""
    grouped = _by_source_id(prefix, products)
    offending = []

    def live(product: Mapping[str, Any]) -> bool:
        if product.get("status") == "published":
            return True
        return merchant_status and not (product.get("metadata") or {}).get(ARCHIVED_KEY)

    for src in source:
        held = [p for p in grouped.get(src.id, []) if live(p)]
        if len(held) != 1:
            offending.append(src.id)
    return finding(offending)


def categories_linked(
    prefix: str,
    source: Iterable[SourceProduct],
    category_ids: Mapping[str, str],
    products: Iterable[Mapping[str, Any]],
) -> Finding:
    """Every product whose category exists in the store is linked to it."""
    grouped = _by_source_id(prefix, products)
    offending = []
    for src in source:
        wanted = category_ids.get(src.category)
        if wanted is None:
            continue
        for product in grouped.get(src.id, []):
            linked = {c.get("id") for c in product.get("categories") or []}
            if wanted not in linked:
                offending.append(src.id)
    return finding(offending)


def usd_prices(product: Mapping[str, Any]) -> list[Decimal]:
    return [
        Decimal(str(price["amount"]))
        for variant in product.get("variants") or []
        for price in variant.get("prices") or []
        if price.get("currency_code") == "usd"
    ]


def prices_match(
    prefix: str, source: Iterable[SourceProduct], products: Iterable[Mapping[str, Any]]
) -> Finding:
    """The store's USD price of every product equals the source price, to the cent."""
    grouped = _by_source_id(prefix, products)
    offending = []
    for src in source:
        for product in grouped.get(src.id, []):
            if usd_prices(product) != [src.price]:
                offending.append(src.id)
    return finding(offending)
