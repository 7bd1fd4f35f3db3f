"""What a writing run changed in the sync's sale price list, and how to put it back. Pure.

A variant's sale prices are held as a sorted list of `[currency, amount]` pairs (amounts
as exact decimal text, so "9" and "9.00" compare equal): usually one pair, none when the
variant has no sale price, two when racing runs doubled it. A run journals, per list it
wrote, each variant whose prices it changed with its prices just before and just after,
and whether it created the list or deleted it (a double left by two runs at once). A
revert restores `before` wherever the list still holds `after`; anything else was changed
since (it needs `force`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from product_sync.core.mapping import price_amount
from product_sync.core.sale_prices import HeldPrice, SalePricePlan

Pairs = list[list[str]]  # sorted [currency, amount text]


def amount_text(amount: Decimal | str | float) -> str:
    """An amount as canonical decimal text: 9 and 9.00 both read "9"."""
    return format(Decimal(str(amount)).normalize(), "f")


def prices_by_variant(
    held: Iterable[HeldPrice], variants: Set[str] | None = None
) -> dict[str, Pairs]:
    """Variant id -> its prices in the list (`variants`: only these; the others left out)."""
    found: dict[str, Pairs] = {}
    for price in held:
        if price.variant_id is None or (variants is not None and price.variant_id not in variants):
            continue
        found.setdefault(price.variant_id, []).append(
            [price.currency_code, amount_text(price.amount)]
        )
    return {variant: sorted(pairs) for variant, pairs in found.items()}


def wanted_pairs(amount: Decimal | None, currency: str) -> Pairs:
    return [] if amount is None else [[currency, amount_text(amount)]]


class SalePriceChange(BaseModel):
    """One variant's sale prices before and after a run (`after` None: not known, the
    write failed part-way)."""

    variant_id: str
    source_id: int | None = None
    before: Pairs = []
    after: Pairs | None = []


class SaleListEntry(BaseModel):
    """One price list a run wrote. `created`: the run made it (a revert deletes it);
    `deleted`: the run deleted it (a revert makes it again with each variant's `before`)."""

    price_list_id: str
    created: bool = False
    deleted: bool = False
    prices: list[SalePriceChange] = []


def list_changes(
    before: Mapping[str, Pairs],
    after: Mapping[str, Pairs],
    sources: Mapping[str, int] | None = None,
) -> list[SalePriceChange]:
    """A change for each variant (of either side) whose prices differ."""
    sources = sources or {}
    return [
        SalePriceChange(
            variant_id=variant,
            source_id=sources.get(variant),
            before=list(before.get(variant, [])),
            after=list(after.get(variant, [])),
        )
        for variant in sorted(set(before) | set(after))
        if sorted(before.get(variant, [])) != sorted(after.get(variant, []))
    ]


def merge_entries(entries: Iterable[SaleListEntry]) -> list[SaleListEntry]:
    """One entry per list: the parts of a scaled-out run each journal the variants they
    wrote into the same list (one of them may have created it)."""
    merged: dict[str, SaleListEntry] = {}
    for entry in entries:
        held = merged.get(entry.price_list_id)
        if held is None:
            merged[entry.price_list_id] = entry.model_copy(deep=True)
            continue
        held.created = held.created or entry.created
        held.deleted = held.deleted or entry.deleted
        known = {p.variant_id for p in held.prices}
        held.prices += [p for p in entry.prices if p.variant_id not in known]
    return list(merged.values())


Verdict = Literal["revert", "done", "changed"]


@dataclass
class SaleRevert:
    """What a revert does to one list: delete it, make it again, or write its prices."""

    entry: SaleListEntry
    action: Literal["none", "delete_list", "create_list", "write"] = "none"
    writes: SalePricePlan = field(default_factory=SalePricePlan)
    # Per variant: what the judge found, and the prices the list holds now.
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    now: dict[str, Pairs] = field(default_factory=dict)
    gone: bool = False  # a list the run wrote into, not in the store any more: left alone

    def count(self, verdict: Verdict) -> int:
        return sum(1 for v in self.verdicts.values() if v == verdict)

    @property
    def changed(self) -> list[SalePriceChange]:
        return [p for p in self.entry.prices if self.verdicts.get(p.variant_id) == "changed"]

    @property
    def reverted(self) -> list[SalePriceChange]:
        return [p for p in self.entry.prices if self.verdicts.get(p.variant_id) == "revert"]


def judge_price(change: SalePriceChange, now: Pairs) -> Verdict:
    if now == change.before:
        return "done"
    if change.after is None or now == change.after:
        return "revert"
    return "changed"


def plan_sale_revert(
    entry: SaleListEntry,
    now: Iterable[HeldPrice] | None,
    *,
    restored: bool = False,
    force: bool = False,
) -> SaleRevert:
    """What putting `entry`'s list back takes, given its prices now (`now` None: the
    list is not in the store) and, for a list the run deleted, whether a revert made it
    again already (`restored`). With `force`, changed prices are put back too."""
    held = list(now or [])
    entry = entry.model_copy(deep=True)  # prices added since are listed in it
    revert = SaleRevert(entry=entry)
    if entry.deleted:
        verdict: Verdict = "done" if now is not None or restored else "revert"
        revert.verdicts = {p.variant_id: verdict for p in entry.prices}
        revert.action = "create_list" if verdict == "revert" else "none"
        return revert
    if now is None:  # a list the run created and a revert deleted, or one deleted since
        if entry.created:
            revert.verdicts = {p.variant_id: "done" for p in entry.prices}
        else:
            revert.gone = True
        return revert
    revert.now = prices_by_variant(held)
    if entry.created:
        # Its prices are all the run's, unless some were added or changed since.
        journaled = {p.variant_id for p in entry.prices}
        for change in entry.prices:
            now_pairs = revert.now.get(change.variant_id, [])
            ok = change.after is None or now_pairs == change.after
            revert.verdicts[change.variant_id] = "revert" if ok else "changed"
        for variant in sorted(set(revert.now) - journaled):
            revert.verdicts[variant] = "changed"
            entry.prices.append(SalePriceChange(variant_id=variant, before=[], after=[]))
        if force or "changed" not in revert.verdicts.values():
            revert.action = "delete_list"
        return revert
    by_variant: dict[str, list[HeldPrice]] = {}
    for price in sorted(held, key=lambda p: p.id):
        if price.variant_id is not None:
            by_variant.setdefault(price.variant_id, []).append(price)
    for change in entry.prices:
        verdict = judge_price(change, revert.now.get(change.variant_id, []))
        revert.verdicts[change.variant_id] = verdict
        if verdict == "revert" or (verdict == "changed" and force):
            _restore(revert.writes, change, by_variant.get(change.variant_id, []))
    revert.action = "none" if revert.writes.is_noop else "write"
    return revert


def _restore(writes: SalePricePlan, change: SalePriceChange, held: list[HeldPrice]) -> None:
    """The writes that make a variant's prices `change.before` again: its prices now
    reused (updated) one for one, the rest deleted or created."""
    wanted = list(change.before)
    unmatched = []
    for price in held:
        pair = [price.currency_code, amount_text(price.amount)]
        if pair in wanted:
            wanted.remove(pair)
        else:
            unmatched.append(price)
    for price in unmatched:
        if wanted:
            currency, amount = wanted.pop(0)
            writes.update.append(_body(change.variant_id, currency, amount, price.id))
        else:
            writes.delete.append(price.id)
    writes.create += [_body(change.variant_id, c, a) for c, a in wanted]


def _body(variant: str, currency: str, amount: str, price_id: str | None = None) -> dict:
    body = {
        "variant_id": variant,
        "amount": price_amount(Decimal(amount)),
        "currency_code": currency,
    }
    return body if price_id is None else {"id": price_id, **body}


def created_prices(entry: SaleListEntry) -> list[dict]:
    """The prices to make a deleted list with again (each variant's `before`)."""
    return [
        _body(change.variant_id, currency, amount)
        for change in entry.prices
        for currency, amount in change.before
    ]
