"""The source's discounts as sale prices in one price list of the store's. Pure.

The base price stays the variant's own price (what `prices_match_source` checks); a
discounted product also gets a price in the sync's price list of type `sale`, which a
storefront shows as the price to pay (`calculated_amount`) with the base price struck
through (`original_amount`). Amounts are exact decimals in major units, like base prices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel
from pydantic.dataclasses import dataclass

from product_sync.core.mapping import CURRENCY, price_amount
from product_sync.core.models import SourceProduct

CENT = Decimal("0.01")
HUNDRED = Decimal(100)

# How the sync recognises its price list (it never touches another): this metadata key
# holds the external-id prefix of the products whose sale prices it carries.
PRICE_LIST_KEY = "product_sync_sale_prices"
# A list a revert made again (one a run had deleted) holds the deleted list's id here,
# so a second revert finds it instead of making another.
RESTORED_KEY = "product_sync_restores"
PRICE_LIST_TITLE = "DummyJSON sale prices"
PRICE_LIST_DESCRIPTION = (
    "Sale prices from the source's discountPercentage, kept by product_sync: "
    "edits to this list's prices are overwritten by the next sync."
)


def sale_amount(price: Decimal, discount: float | int | None) -> Decimal | None:
    """price × (1 − discount/100), rounded half-up to the cent; None when there is no
    sale: no discount, one outside (0, 100), or one too small to change the price."""
    if discount is None or not 0 < discount < 100:
        return None
    # str(): the decimal the JSON number reads as (7.17, not 7.1699999…).
    amount = (price * (1 - Decimal(str(discount)) / HUNDRED)).quantize(CENT, ROUND_HALF_UP)
    return amount if Decimal(0) < amount < price else None


def wanted_sale_amounts(
    products: Iterable[SourceProduct], variant_ids: Mapping[int, str], *, apply: bool = True
) -> dict[str, Decimal]:
    """Variant id -> sale amount for the discounted products whose variant is known
    (`variant_ids`: source id -> variant id). None at all when discounts are not applied."""
    if not apply:
        return {}
    wanted: dict[str, Decimal] = {}
    for src in products:
        amount = sale_amount(src.price, src.discountPercentage)
        variant = variant_ids.get(src.id)
        if amount is not None and variant:
            wanted[variant] = amount
    return wanted


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldPrice:
    """One price of the sync's price list, as the store holds it (slotted: a run holds
    one per discounted product)."""

    id: str
    variant_id: str | None
    amount: Decimal
    currency_code: str


class SalePricePlan(BaseModel):
    create: list[dict[str, Any]] = []  # {variant_id, amount, currency_code}
    update: list[dict[str, Any]] = []  # {id, variant_id, amount, currency_code}
    delete: list[str] = []  # price ids

    @property
    def is_noop(self) -> bool:
        return not (self.create or self.update or self.delete)

    @property
    def written(self) -> int:
        return len(self.create) + len(self.update)


def plan_sale_prices(
    wanted: Mapping[str, Decimal], held: Iterable[HeldPrice], scope: Set[str]
) -> SalePricePlan:
    """The writes that make the list hold exactly `wanted` for the variants in `scope`.

    Prices of variants outside `scope` (other products, other ranges of a scaled-out run)
    are left alone. A variant with several prices (two runs writing at once) keeps one,
    the one of the right amount if there is one, so the rest are deleted.
    """
    plan = SalePricePlan()
    scope = set(scope) | set(wanted)
    by_variant: dict[str, list[HeldPrice]] = {}
    for price in sorted(held, key=lambda p: p.id):
        if price.variant_id in scope:
            by_variant.setdefault(price.variant_id, []).append(price)
    for variant in sorted(scope):
        amount = wanted.get(variant)
        prices = by_variant.get(variant, [])
        if amount is None:
            plan.delete.extend(p.id for p in prices)
            continue
        body = {"variant_id": variant, "amount": price_amount(amount), "currency_code": CURRENCY}
        keep = next((p for p in prices if p.currency_code == CURRENCY and p.amount == amount), None)
        if keep is None and prices:
            keep = prices[0]
            plan.update.append({"id": keep.id, **body})
        elif keep is None:
            plan.create.append(body)
        plan.delete.extend(p.id for p in prices if p is not keep)
    return plan


def price_list_body(
    prefix: str, prices: list[dict[str, Any]], restores: str | None = None
) -> dict[str, Any]:
    """The create body of the sync's price list for the products of `prefix` (`restores`:
    the id of the deleted list a revert makes again)."""
    metadata = {PRICE_LIST_KEY: prefix, **({RESTORED_KEY: restores} if restores else {})}
    return {
        "title": PRICE_LIST_TITLE,
        "description": PRICE_LIST_DESCRIPTION,
        "type": "sale",
        "status": "active",
        "metadata": metadata,
        "prices": prices,
    }
