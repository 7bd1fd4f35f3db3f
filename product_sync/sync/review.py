"""Review, then apply: the plan of a run as a file, and the check that a dry run's plan
still applies (`core.review` says how; this reads and writes the files and gathers the
inputs). A run asked to apply a plan checks its inputs against the plan's hashes before
it writes anything, then checks that it plans the same product writes (`PlanGate`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from product_sync.core.catalog import SourceCatalog
from product_sync.core.inventory import plan_stock
from product_sync.core.planning import ProductIndex, SyncPlan
from product_sync.core.review import (
    Moved,
    PlanHashes,
    PlanRecord,
    StockRow,
    action_keys,
    digest,
    moved,
    sale_hashes,
    source_hashes,
    store_hashes,
)
from product_sync.resources.http import HTTPError
from product_sync.sync.categories import CategoryMap
from product_sync.sync.journal import write_json
from product_sync.sync.sale_prices import SaleAhead
from product_sync.sync.stock import StockAhead

PLAN_NAME = "plan.json"


class PlanMoved(Exception):
    """The store or the source is not what the plan was made against: nothing written."""

    def __init__(self, run_id: str, found: list[Moved]) -> None:
        self.run_id, self.moved = run_id, found
        shown = "; ".join(f"{m.part} {m.key}: {m.change}" for m in found[:20])
        more = f" (and {len(found) - 20} more)" if len(found) > 20 else ""
        super().__init__(
            f"the plan of run {run_id} no longer applies, nothing was written: "
            f"{len(found)} things moved since it was made: {shown}{more}"
        )


def settings_of(options: Any) -> dict[str, Any]:
    """The sync options a plan depends on (all but `dry_run`), JSON-able."""
    values = dataclasses.asdict(options) if dataclasses.is_dataclass(options) else dict(options)
    values.pop("dry_run", None)
    return json.loads(json.dumps(values, default=_jsonable))


def _jsonable(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if dump else str(value)


def input_hashes(
    catalog: SourceCatalog,
    index: ProductIndex,
    categories: CategoryMap,
    options: Any,
    sale_prices: Mapping[str, str] | None = None,
) -> PlanHashes:
    """What a plan is made against, hashed (`categories`: the map before it is applied;
    `sale_prices`: `sale_state`'s hashes of the sale price list)."""
    return PlanHashes(
        source=source_hashes(catalog.products_view),
        store=store_hashes(index),
        sale_prices=dict(sale_prices or {}),
        categories=digest(
            {
                "ids": categories.ids,
                "to_create": categories.to_create,
                "to_rename": categories.to_rename,
            }
        ),
        settings=digest(settings_of(options)),
    )


def sale_state(ahead: SaleAhead, index: ProductIndex) -> dict[str, str]:
    """The sale price list as read before the run's writes, hashed per product in scope."""
    if ahead.error:  # unread: equal only to another unread list
        return {"lists": digest("unread")}
    sources = {p.variant_id: sid for sid, p in index.products.items() if p.variant_id}
    return sale_hashes(ahead.lists, ahead.held, sources)


def stock_rows(levels: Iterable[Mapping[str, Any]], sources: Mapping[str, int]) -> list[StockRow]:
    """Levels as written (`StockReport.written`) as plan rows; `sources`: item -> source id."""
    return [
        StockRow(
            source_id=sources.get(level["inventory_item_id"]),
            inventory_item_id=level["inventory_item_id"],
            old=level.get("before"),
            new=level.get("stocked_quantity"),
        )
        for level in levels
    ]


def preview_stock(
    catalog: SourceCatalog,
    index: ProductIndex,
    plan: SyncPlan,
    ahead: Future[StockAhead],
    *,
    missing_only: bool = False,
) -> list[StockRow]:
    """The levels a run would set, from what was read ahead, writing nothing (a dry run).
    A product still to be created has no inventory item yet: its row has none.
    `missing_only`: only levels not at the location yet (stock owned `create_only`)."""
    try:
        read = ahead.result()
    except HTTPError:  # a preview that cannot read the stock shows none
        return []
    items = {
        sid: p.inventory_item_id
        for sid, p in index.products.items()
        if p.inventory_item_id and sid in catalog.source_ids
    }
    wanted = {items[p.id]: p.stock for p in catalog.products_view if p.id in items}
    levels = read.levels if read.locations else dict.fromkeys(wanted)
    location = read.locations[0]["id"] if read.locations else ""
    stock = plan_stock(wanted, {i: levels.get(i) for i in wanted}, location)
    sources = {item: sid for sid, item in items.items()}
    rows = [
        StockRow(
            source_id=sources[str(level["inventory_item_id"])],
            inventory_item_id=str(level["inventory_item_id"]),
            old=stock.before.get(str(level["inventory_item_id"])),
            new=int(level["stocked_quantity"]),  # type: ignore[call-overload]
        )
        for level in [*stock.create, *([] if missing_only else stock.update)]
    ]
    stock_of = {p.id: p.stock for p in catalog.products_view}
    rows += [
        StockRow(source_id=c.source_id, inventory_item_id="", new=stock_of.get(c.source_id))
        for c in plan.creates
    ]
    return rows


def write_record(directory: Path, record: PlanRecord) -> Path:
    # Indented: it is the file a person downloads to read the plan.
    return write_json(directory / PLAN_NAME, record.model_dump(mode="json"), indent=1)


def load_record(directory: Path, run_id: str) -> PlanRecord:
    path = directory / PLAN_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"run {run_id} has no plan in the instance's storage ({path}): "
            "is it a run of synced_products in this Dagster instance?"
        )
    return PlanRecord.model_validate_json(path.read_text())


def check_plan(
    record: PlanRecord,
    catalog: SourceCatalog,
    index: ProductIndex,
    categories: CategoryMap,
    options: Any,
) -> PlanGate:
    """Refuse (`PlanMoved`) unless this run's inputs are those `record` was planned
    against; the gate then holds the run to the same product writes."""
    if not record.dry_run:
        raise ValueError(f"run {record.run_id} was not a dry run: its plan was applied when it ran")
    current = input_hashes(catalog, index, categories, options)
    # The sale price list is read by the run itself: the gate checks it before any write.
    current.sale_prices = record.hashes.sale_prices
    found = moved(record.hashes, current)
    if found:
        raise PlanMoved(record.run_id, found)
    return PlanGate(record, index)


class PlanGate:
    """Called with the run's plan just before its first product write: the writes must be
    the reviewed plan's (the same products, the same actions)."""

    def __init__(self, record: PlanRecord, index: ProductIndex) -> None:
        self.record, self.index = record, index

    def check_sale_prices(self, hashes: Mapping[str, str]) -> None:
        """Called before the run's first write (categories included): the sale price
        list must be as the plan found it."""
        then = PlanHashes(sale_prices=self.record.hashes.sale_prices)
        found = moved(then, PlanHashes(sale_prices=dict(hashes)))
        if found:
            raise PlanMoved(self.record.run_id, found)

    def __call__(self, plan: SyncPlan) -> None:
        wanted, planned = self.record.action_keys(), action_keys(plan, self.index)
        if wanted == planned:
            return
        found = [
            Moved(part="plan", key=f"{action} {key}", change="reviewed, not planned now")
            for action, key in sorted(wanted - planned)
        ] + [
            Moved(part="plan", key=f"{action} {key}", change="planned now, not reviewed")
            for action, key in sorted(planned - wanted)
        ]
        raise PlanMoved(self.record.run_id, found)


def plan_record(
    run_id: str,
    *,
    plan: SyncPlan,
    rows: list[Any],
    stock: list[StockRow],
    catalog: SourceCatalog,
    index: ProductIndex,
    categories: CategoryMap,
    options: Any,
    scope: str,
    sale_prices: Mapping[str, str] | None = None,
) -> PlanRecord:
    """The plan file of a run: its rows, and the hashes of what it was planned against
    (`categories`: the map the run was given, before any category was created)."""
    return PlanRecord(
        run_id=run_id,
        dry_run=bool(getattr(options, "dry_run", False)),
        scope=scope,
        product_ids=list(catalog.product_ids or []),
        settings=settings_of(options),
        counts=plan.counts(),
        categories_to_create=[c["handle"] for c in categories.to_create],
        categories_to_rename=list(categories.to_rename),
        archive_blocked_reason=plan.archive_blocked_reason,
        rows=rows,
        stock=stock,
        hashes=input_hashes(catalog, index, categories, options, sale_prices),
    )
