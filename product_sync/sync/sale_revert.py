"""Undo a run's writes to the sync's sale price list (`core.sale_journal` judges, this
reads the lists as the store holds them now and writes): a list the run created is
deleted, a list it deleted is made again, and prices it created, changed or removed in a
list are removed, changed back or made again. What the revert did is returned as journal
entries of its own, so a revert can be reverted too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from product_sync.core.journal import Journal
from product_sync.core.mapping import external_id
from product_sync.core.sale_journal import (
    SaleListEntry,
    SalePriceChange,
    SaleRevert,
    created_prices,
    list_changes,
    merge_entries,
    plan_sale_revert,
)
from product_sync.core.sale_prices import PRICE_LIST_KEY, RESTORED_KEY, price_list_body
from product_sync.resources.http import ClientError, HTTPError, TransientError
from product_sync.resources.medusa import MedusaResource

FIRST_PRICES = 500  # prices sent with a list's create; the rest through the batch route


def judge_sale_prices(
    journals: Iterable[Journal], medusa: MedusaResource, *, force: bool
) -> list[SaleRevert]:
    """Each journaled list, judged against the store now (reads only)."""
    entries = merge_entries(e for journal in journals for e in journal.sale_prices)
    if not entries:
        return []
    marked = medusa.price_lists_marked(PRICE_LIST_KEY, medusa.external_id_prefix)
    existing = {row["id"] for row in marked}
    restored = {(row.get("metadata") or {}).get(RESTORED_KEY) for row in marked}
    found = []
    for entry in entries:
        now = (
            medusa.price_list_prices(entry.price_list_id)
            if entry.price_list_id in existing
            else None
        )
        found.append(
            plan_sale_revert(entry, now, restored=entry.price_list_id in restored, force=force)
        )
    return found


def changed_rows(reverts: Iterable[SaleRevert], prefix: str) -> list[dict[str, Any]]:
    """A row per sale price changed since the run (as `RevertReport.changed` lists them)."""
    return [
        {
            "kind": "sale_price",
            "id": _name(change, prefix),
            "fields": f"sale price {_shown(change.after)} → {_now(revert, change)} since",
        }
        for revert in reverts
        for change in revert.changed
    ]


def write_sale_reverts(
    reverts: Iterable[SaleRevert], medusa: MedusaResource, report: Any
) -> list[SaleListEntry]:
    """Put each list back; count on `report` (a `RevertReport`); return what was written
    as the revert's own journal entries."""
    written: list[SaleListEntry] = []
    prefix = medusa.external_id_prefix
    for revert in reverts:
        report.already_reverted += revert.count("done")
        report.gone += len(revert.entry.prices) if revert.gone else 0
        if revert.action == "none":
            continue
        entry = revert.entry
        back = [
            c
            for c in entry.prices
            if revert.verdicts.get(c.variant_id) == "revert"
            or (revert.verdicts.get(c.variant_id) == "changed" and report.forced)
        ]
        try:
            if revert.action == "delete_list":
                _delete_list(medusa, entry.price_list_id)
                report.price_lists_removed += 1
                held = list_changes(revert.now, {})
                written.append(
                    SaleListEntry(price_list_id=entry.price_list_id, deleted=True, prices=held)
                )
            elif revert.action == "create_list":
                made = _create_list(medusa, entry)
                report.price_lists_restored += 1
                again = [
                    SalePriceChange(
                        variant_id=c.variant_id, source_id=c.source_id, before=[], after=c.before
                    )
                    for c in entry.prices
                ]
                written.append(SaleListEntry(price_list_id=made, created=True, prices=again))
            else:
                writes = revert.writes
                medusa.write_price_list_prices(
                    entry.price_list_id, writes.create, writes.update, writes.delete
                )
                undone = [
                    SalePriceChange(
                        variant_id=c.variant_id,
                        source_id=c.source_id,
                        before=revert.now.get(c.variant_id, []),
                        after=c.before,
                    )
                    for c in back
                ]
                written.append(SaleListEntry(price_list_id=entry.price_list_id, prices=undone))
        except HTTPError as error:
            report.errors += 1
            report.error_details.append(
                {"ids": [], "count": 1, "message": f"sale prices of {entry.price_list_id}: {error}"}
            )
            continue
        report.sale_prices_restored += len(back)
        report.rows += [
            {
                "kind": "sale_price",
                "id": _name(c, prefix),
                "handle": None,
                "action": _action(revert.action),
                "fields": (f"sale price {_now(revert, c)} → {_shown(c.before)}"),
            }
            for c in back
        ]
    return written


def _create_list(medusa: MedusaResource, entry: SaleListEntry) -> str:
    """Make the deleted list `entry` again with its prices; a create that timed out may
    have landed: the marked lists say."""
    prices = created_prices(entry)
    first, rest = prices[:FIRST_PRICES], prices[FIRST_PRICES:]
    body = price_list_body(medusa.external_id_prefix, first, restores=entry.price_list_id)
    try:
        made = medusa.create_price_list(body)
    except TransientError:
        marked = medusa.price_lists_marked(PRICE_LIST_KEY, medusa.external_id_prefix)
        landed = [
            r["id"]
            for r in marked
            if (r.get("metadata") or {}).get(RESTORED_KEY) == entry.price_list_id
        ]
        if not landed:
            raise
        made = landed[0]
    if rest:
        medusa.write_price_list_prices(made, rest, [], [])
    return made


def _delete_list(medusa: MedusaResource, price_list_id: str) -> None:
    try:
        medusa.delete_price_list(price_list_id)
    except ClientError as error:
        if error.status != 404:
            raise


def _action(action: str) -> str:
    return {
        "delete_list": "remove (list created by the run)",
        "create_list": "re-create (list deleted by the run)",
    }.get(action, "restore sale price")


def _name(change: SalePriceChange, prefix: str) -> str:
    if change.source_id is not None:
        return external_id(prefix, change.source_id)
    return change.variant_id


def _now(revert: SaleRevert, change: SalePriceChange) -> str:
    return _shown(revert.now.get(change.variant_id, []))


def _shown(pairs: list[list[str]] | None) -> str:
    if pairs is None:
        return "?"
    return ", ".join(f"{amount} {currency}" for currency, amount in pairs) or "—"
