"""The source's discounts -> sale prices in the sync's price list, after the products are
written (a new product's variant exists only then).

The list is found by its metadata marker (`core.sale_prices.PRICE_LIST_KEY` = the
external-id prefix), read while the products are planned and written (the engine starts
`read_sale_prices_ahead` first thing: the product writes do not touch the list), and
created with the first sale price it needs. Medusa does not keep price lists unique, so
two runs at once (the ranges of a scaled-out sync) may each create one: after creating,
a run reads the lists again, keeps the oldest, and a run whose new list is not it deletes
its own and writes into the oldest instead; a later run deletes any further list of ours
it finds. Price writes that timed out may have landed, so they are read back and planned
again before they are sent again.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from product_sync.core.catalog import SourceCatalog
from product_sync.core.mapping import CURRENCY, external_id, source_id_of
from product_sync.core.ownership import CREATE_ONLY, IGNORE, SOURCE, Ownership, OwnershipPolicy
from product_sync.core.planning import ProductIndex, SyncPlan
from product_sync.core.sale_journal import (
    SaleListEntry,
    SalePriceChange,
    list_changes,
    prices_by_variant,
    wanted_pairs,
)
from product_sync.core.sale_prices import (
    PRICE_LIST_KEY,
    HeldPrice,
    SalePricePlan,
    plan_sale_prices,
    price_list_body,
    sale_amount,
    wanted_sale_amounts,
)
from product_sync.resources.http import ClientError, HTTPError, TransientError
from product_sync.resources.medusa import MedusaResource

FIRST_PRICES = 500  # prices sent with the list's create; the rest go through the batch route


class SaleAhead(BaseModel):
    """The sync's price lists (oldest first) and the prices of the oldest, read before the
    product writes (which do not touch them)."""

    lists: list[str] = []
    held: list[HeldPrice] = []
    error: str | None = None


class SalePriceReport(BaseModel):
    written: int = 0  # prices created or updated (planned, in a dry run)
    removed: int = 0  # prices deleted
    price_list_id: str | None = None
    error: str | None = None
    changes: list[SaleListEntry] = []  # per list, the variants' prices before and after


def read_sale_prices_ahead(
    medusa: MedusaResource, policy: OwnershipPolicy | None = None
) -> SaleAhead:
    """The sync's price lists and the oldest one's prices (nothing, when the `policy`
    leaves sale prices alone)."""
    if policy is not None and policy.sale_price is IGNORE:
        return SaleAhead()
    try:
        lists = [r["id"] for r in medusa.price_lists_marked(*_marker(medusa))]
        held = medusa.price_list_prices(lists[0]) if lists else []
    except HTTPError as error:
        return SaleAhead(error=f"reading the sale price list failed: {error}")
    return SaleAhead(lists=lists, held=held)


def make_sale_list(medusa: MedusaResource) -> SaleListEntry | None:
    """Create the sync's sale price list, empty, if the store has none: the journal entry
    of the list made (None: there was one). A scaled-out run makes it before its ranges
    start: made by the first range that needed it, each later range of a first load read
    every price the earlier ones had written (100k: 225 reads, 96 s of Medusa's time)."""
    if medusa.price_lists_marked(*_marker(medusa)):
        return None
    list_id, landed = _create_list(medusa, [])
    return SaleListEntry(price_list_id=list_id, created=True) if landed else None


def sync_sale_prices(
    ahead: SaleAhead,
    catalog: SourceCatalog,
    index: ProductIndex,
    plan: SyncPlan,
    medusa: MedusaResource,
    *,
    apply: bool,
    dry_run: bool,
    ownership: Ownership = SOURCE,
) -> SalePriceReport:
    """Make the list hold exactly the sale prices of the discounted products in scope
    (none at all when `apply` is off), and write nothing when it already does. The
    report's `changes` say, per variant, the prices before and after (what a dry run
    would write), for the run's journal and its plan.

    `ownership` of the sale prices: `source` (the above), `create_only` (only products
    created this run get theirs; the merchant's from then on), `ignore` (never written)."""
    if ownership is IGNORE:
        return SalePriceReport()
    if ahead.error:
        return SalePriceReport(error=ahead.error)
    variants = (
        {}
        if ownership is CREATE_ONLY
        else {sid: p.variant_id for sid, p in index.products.items() if p.variant_id}
    )
    created = [w.source_id for w in plan.creates]
    report = SalePriceReport()
    try:
        if created and not dry_run:
            variants.update(_new_variants(medusa, created))
        wanted = wanted_sale_amounts(catalog.products_view, variants, apply=apply)
        scope = set(variants.values())
        sources = {variant: sid for sid, variant in variants.items()}
        planned = plan_sale_prices(wanted, ahead.held, scope)
        if dry_run:
            # The products still to be created have no variant yet: their sale prices
            # would be created with them.
            new = _new_sales(catalog, set(created) - set(variants), apply)
            changes = _changes(ahead.held, wanted, scope, sources) + new
            list_id = ahead.lists[0] if ahead.lists else ""
            return SalePriceReport(
                written=planned.written + len(new),
                removed=len(planned.delete),
                price_list_id=list_id or None,
                changes=[SaleListEntry(price_list_id=list_id, prices=changes)] if changes else [],
            )
        return _write(report, ahead, wanted, scope, sources, planned, medusa)
    except HTTPError as error:
        # What was written before the failure stays in the journal (`after` unknown).
        return SalePriceReport(error=f"sale prices not synced: {error}", changes=report.changes)


def _changes(
    held: list[HeldPrice], wanted: dict[str, Any], scope: set[str], sources: dict[str, int]
) -> list[SalePriceChange]:
    """Per variant in scope whose prices change: before (`held`) and after (`wanted`)."""
    after = {variant: wanted_pairs(wanted.get(variant), CURRENCY) for variant in scope}
    return list_changes(prices_by_variant(held, scope), after, sources)


def _new_sales(catalog: SourceCatalog, source_ids: set[int], apply: bool) -> list[SalePriceChange]:
    """The sale prices products still to be created would get (a dry run's plan shows
    them; their variants have no id yet)."""
    if not apply:
        return []
    return [
        SalePriceChange(
            variant_id=f"new:{src.id}",
            source_id=src.id,
            after=wanted_pairs(sale_amount(src.price, src.discountPercentage), CURRENCY),
        )
        for src in catalog.products_view
        if src.id in source_ids and sale_amount(src.price, src.discountPercentage) is not None
    ]


def _write(
    report: SalePriceReport,
    ahead: SaleAhead,
    wanted: dict[str, Any],
    scope: set[str],
    sources: dict[str, int],
    planned: SalePricePlan,
    medusa: MedusaResource,
) -> SalePriceReport:
    held = ahead.held
    created = False
    if ahead.lists:
        list_id = ahead.lists[0]
        for extra in ahead.lists[1:]:  # left by two runs that created one each
            extra_prices = prices_by_variant(medusa.price_list_prices(extra))
            _delete_list(medusa, extra)
            report.changes.append(
                SaleListEntry(
                    price_list_id=extra, deleted=True, prices=list_changes(extra_prices, {})
                )
            )
    elif planned.create:
        first, rest = planned.create[:FIRST_PRICES], planned.create[FIRST_PRICES:]
        list_id, landed = _create_list(medusa, first)
        if landed:
            created, held = True, []
            report.written += len(first)
            planned = planned.model_copy(update={"create": rest})
        else:  # another run's list, or one whose create timed out: plan against it
            held = medusa.price_list_prices(list_id)
            planned = plan_sale_prices(wanted, held, scope)
    else:
        return report  # nothing to write, and no list to write it to
    report.price_list_id = list_id
    entry = SaleListEntry(price_list_id=list_id, created=created)
    changes = _changes(held, wanted, scope, sources)
    if changes:
        report.changes.append(entry)
    if planned.is_noop:
        entry.prices = changes
        return report
    # Until the writes are confirmed, what the list holds after them is unknown.
    entry.prices = [c.model_copy(update={"after": None}) for c in changes]
    try:
        _send(medusa, list_id, planned)
    except TransientError:
        planned = plan_sale_prices(wanted, medusa.price_list_prices(list_id), scope)
        _send(medusa, list_id, planned)
    entry.prices = changes
    report.written += planned.written
    report.removed += len(planned.delete)
    return report


def _create_list(medusa: MedusaResource, prices: list[dict[str, Any]]) -> tuple[str, bool]:
    """(the list to write into, whether it holds `prices` already)."""
    key, value = _marker(medusa)
    body = price_list_body(value, prices)
    try:
        made: str | None = medusa.create_price_list(body)
    except TransientError:
        made = None  # it may have landed: the listing below says
    lists = [r["id"] for r in medusa.price_lists_marked(key, value)]
    if not lists:
        if made is None:
            raise TransientError("POST", "/admin/price-lists", None, "create not confirmed")
        return made, True
    if made is not None and lists[0] != made:
        _delete_list(medusa, made)  # another run's is older: this one goes
        return lists[0], False
    return lists[0], made is not None and lists[0] == made


def _send(medusa: MedusaResource, list_id: str, planned: SalePricePlan) -> None:
    medusa.write_price_list_prices(list_id, planned.create, planned.update, planned.delete)


def _delete_list(medusa: MedusaResource, list_id: str) -> None:
    try:
        medusa.delete_price_list(list_id)
    except ClientError as error:
        if error.status != 404:  # already deleted by a run beside this one
            raise


def _new_variants(medusa: MedusaResource, source_ids: list[int]) -> dict[int, str]:
    """Source id -> variant id of the products just created (the oldest, if doubled)."""
    prefix = medusa.external_id_prefix
    rows = medusa.products_by_external_id(
        (external_id(prefix, i) for i in source_ids), fields="id,external_id,variants.id"
    )
    found: dict[int, str] = {}
    for row in sorted(rows, key=lambda r: r["id"]):
        source_id = source_id_of(prefix, row.get("external_id"))
        variants = row.get("variants") or []
        if source_id is not None and variants and source_id not in found:
            found[source_id] = variants[0]["id"]
    return found


def _marker(medusa: MedusaResource) -> tuple[str, str]:
    return PRICE_LIST_KEY, medusa.external_id_prefix
