"""Undo a writing run from its journal: products it created archived (never deleted),
products it updated, archived or retired put back field by field, stock levels and sale
prices set back (`sale_revert`).

It first looks at every journaled product and level as the store holds it now
(`core.journal.judge_product` / `judge_stock`): one that holds what the run left is
reverted; one already back to its state before is left (so a revert can run twice); one
that something else changed since stops the whole revert before any write, naming what
changed, unless `force` (then the state before the run is put back over the change).
The revert keeps a journal of its own, so it can be undone too.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from product_sync.core.journal import (
    Journal,
    ProductEntry,
    State,
    StockEntry,
    changes,
    judge_product,
    judge_stock,
    product_state,
    restore_update,
    shown_fields,
)
from product_sync.core.planning import PlannedArchive, archive_update
from product_sync.resources.http import HTTPError
from product_sync.resources.medusa import MedusaResource
from product_sync.sync.journal import RunJournal, read_states
from product_sync.sync.sale_revert import changed_rows, judge_sale_prices, write_sale_reverts

DETAILS_KEPT = 200


class RevertRefused(Exception):
    """The revert would overwrite changes made since the run: nothing was written."""

    def __init__(self, run_id: str, message: str, changed: list[dict[str, Any]]) -> None:
        self.run_id, self.changed = run_id, changed
        super().__init__(message)


class RevertReport(BaseModel):
    run_id: str
    products_restored: int = 0
    products_archived: int = 0
    stock_restored: int = 0
    sale_prices_restored: int = 0  # sale prices removed, changed back or made again
    price_lists_removed: int = 0  # the sale price list, when the run created it
    price_lists_restored: int = 0  # a sale price list the run deleted, made again
    already_reverted: int = 0
    changed_since: int = 0  # products, levels, sale prices changed since (overwritten: force)
    gone: int = 0  # journaled products no longer in the store (left alone)
    categories_kept: int = 0  # categories the run created: a revert leaves them
    forced: bool = False
    errors: int = 0
    error_details: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []  # what was put back, one row per product or level
    changed: list[dict[str, Any]] = []

    def numbers(self) -> dict[str, int | bool]:
        return {k: v for k, v in self.model_dump().items() if isinstance(v, int | bool)}


def revert_run(
    run_id: str,
    journals: list[tuple[Journal, list[str]]],
    medusa: MedusaResource,
    *,
    force: bool = False,
    journal: RunJournal | None = None,
) -> RevertReport:
    """Put back what the run `run_id` changed (`journals`: one per part of it, each with
    the creates it had not confirmed, see `load_journals`)."""
    if not journals:
        raise LookupError(
            f"run {run_id} left no journal in this Dagster instance: it wrote nothing "
            "(a dry run, or it failed before writing), or it is not a sync run"
        )
    incomplete = [j.part for j, _ in journals if not j.complete]
    if incomplete and not force:
        raise RevertRefused(
            run_id,
            f"run {run_id} stopped before it finished writing ({', '.join(incomplete)}): its "
            "journal holds the products' states before it, not after, so changes made since "
            "cannot be told apart; set force to put the states before it back",
            [],
        )
    entries, pending = _entries(journals)
    complete = not incomplete
    now = read_states(medusa, [e.product_id for e in entries])
    if pending:  # creates an unfinished run may have made
        for row in medusa.product_states_by_external_id(pending):
            if row["id"] not in now:
                now[row["id"]] = product_state(row)
                entries.append(
                    ProductEntry(
                        product_id=row["id"], external_id=row.get("external_id"), after=None
                    )
                )
    report = RevertReport(run_id=run_id, forced=force)
    report.categories_kept = sum(len(j.categories_created) for j, _ in journals)
    to_revert: list[ProductEntry] = []
    for entry in entries:
        verdict = judge_product(entry, now.get(entry.product_id), complete)
        if verdict == "done":
            report.already_reverted += 1
        elif verdict == "gone":
            report.gone += 1
        elif verdict == "changed":
            found = changes(entry.after, now[entry.product_id])
            report.changed.append(_changed_row(entry, shown_fields(found) or list(found)))
            if force:
                to_revert.append(entry)
        else:
            to_revert.append(entry)
    levels = _stock_now(journals, medusa)
    stock_back: list[tuple[StockEntry, int | None]] = []
    for level, held in levels:
        verdict = judge_stock(level, held)
        if verdict == "done":
            report.already_reverted += 1
            continue
        if verdict == "changed":
            report.changed.append(
                {
                    "kind": "stock",
                    "id": level.inventory_item_id,
                    "source_id": level.source_id,
                    "fields": f"stock {level.after} → {held} since",
                }
            )
            if not force:
                continue
        stock_back.append((level, held))
    sales = judge_sale_prices([j for j, _ in journals], medusa, force=force)
    report.changed += changed_rows(sales, medusa.external_id_prefix)
    report.changed_since = len(report.changed)
    if report.changed and not force:
        shown = "; ".join(f"{c['kind']} {c['id']} ({c['fields']})" for c in report.changed[:20])
        raise RevertRefused(
            run_id,
            f"{len(report.changed)} of run {run_id}'s products, stock levels or sale prices "
            "changed since it "
            f"ran, nothing was written: {shown}. Set force to put its states before back anyway",
            report.changed,
        )
    _write_products(to_revert, now, medusa, report, journal)
    _write_stock(stock_back, medusa, report)
    sale_written = write_sale_reverts(sales, medusa, report)
    if journal is not None:
        journal.finish(
            medusa,
            stock=[
                {
                    "inventory_item_id": level.inventory_item_id,
                    "location_id": level.location_id,
                    "before": held,
                    "stocked_quantity": level.before,
                }
                for level, held in stock_back
            ],
            stock_sources={
                level.inventory_item_id: level.source_id
                for level, _ in stock_back
                if level.source_id is not None
            },
            sale_prices=sale_written,
        )
    report.rows = report.rows[:DETAILS_KEPT]
    report.changed = report.changed[:DETAILS_KEPT]
    return report


def _entries(journals: list[tuple[Journal, list[str]]]) -> tuple[list[ProductEntry], list[str]]:
    entries: dict[str, ProductEntry] = {}
    pending: list[str] = []
    for part, creates in journals:
        for entry in part.products:
            entries.setdefault(entry.product_id, entry)
        pending.extend(creates)
    return list(entries.values()), pending


def _changed_row(entry: ProductEntry, fields: list[str]) -> dict[str, Any]:
    return {
        "kind": "product",
        "id": entry.external_id or entry.product_id,
        "handle": entry.handle,
        "fields": ", ".join(fields[:12]) or "(state)",
    }


def _write_products(
    entries: list[ProductEntry],
    now: dict[str, State],
    medusa: MedusaResource,
    report: RevertReport,
    journal: RunJournal | None,
) -> None:
    at = datetime.now(UTC).isoformat(timespec="seconds")
    updates: list[dict[str, Any]] = []
    for entry in entries:
        if entry.created:
            archive = PlannedArchive(
                product_id=entry.product_id, source_id=0, handle=entry.handle or ""
            )
            updates.append(archive_update(archive, at))
            report.rows.append(_row(entry, "archive (created by the run)", ["status"]))
            report.products_archived += 1
            continue
        assert entry.before is not None
        item = restore_update(entry.product_id, now[entry.product_id], entry.before)
        if item is None:
            continue
        fields = shown_fields(changes(now[entry.product_id], entry.before))
        report.rows.append(_row(entry, "restore", fields))
        updates.append(item)
        report.products_restored += 1
    if journal is not None:
        journal.begin(now, [e.model_copy(update={"after": None}) for e in entries])
    if not updates:
        return
    written = medusa.write_products([], updates)
    failed = {ext for error in written.errors for ext in error.external_ids}
    for error in written.errors:
        ids, message = error.external_ids, error.message
        report.error_details.append({"ids": ids[:20], "count": len(ids), "message": message})
    report.errors += len(failed)
    report.products_restored -= sum(1 for e in entries if not e.created and e.product_id in failed)
    report.products_archived -= sum(1 for e in entries if e.created and e.product_id in failed)


def _row(entry: ProductEntry, action: str, fields: list[str]) -> dict[str, Any]:
    return {
        "kind": "product",
        "id": entry.external_id or entry.product_id,
        "handle": entry.handle,
        "action": action,
        "fields": ", ".join(fields[:12]),
    }


def _stock_now(
    journals: list[tuple[Journal, list[str]]], medusa: MedusaResource
) -> list[tuple[StockEntry, int | None]]:
    by_location: dict[str, list[StockEntry]] = defaultdict(list)
    for part, _ in journals:
        for level in part.stock:
            by_location[level.location_id].append(level)
    found = []
    for location_id, levels in by_location.items():
        held = medusa.stock_levels(location_id, [lv.inventory_item_id for lv in levels])
        found += [(lv, held.get(lv.inventory_item_id)) for lv in levels]
    return found


def _write_stock(
    levels: list[tuple[StockEntry, int | None]], medusa: MedusaResource, report: RevertReport
) -> None:
    """Each level back to its quantity before; a level the run created is removed."""
    create, update = [], []
    remove: dict[str, list[str]] = defaultdict(list)
    for level, held in levels:
        key = {"inventory_item_id": level.inventory_item_id, "location_id": level.location_id}
        if level.before is None:
            if held is not None:
                remove[level.location_id].append(level.inventory_item_id)
        elif held is None:
            create.append({**key, "stocked_quantity": level.before})
        else:
            update.append({**key, "stocked_quantity": level.before})
        report.rows.append(
            {
                "kind": "stock",
                "id": level.inventory_item_id,
                "handle": None,
                "action": "remove level" if level.before is None else "set stock",
                "fields": f"stock {_shown(held)} → {_shown(level.before)}",
            }
        )
    try:
        report.stock_restored += medusa.write_stock_levels(create, update)
        for location_id, items in remove.items():
            ids = medusa.level_ids(location_id, items)
            report.stock_restored += medusa.delete_stock_levels(list(ids.values()))
    except HTTPError as error:
        report.errors += 1
        report.error_details.append({"ids": [], "count": 1, "message": f"stock: {error}"})


def _shown(value: int | None) -> str:
    return "—" if value is None else str(value)
