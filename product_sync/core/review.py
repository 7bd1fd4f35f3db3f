"""A plan a person can read, and the proof that it still applies. Pure: no I/O.

Every run's plan is written out as a `PlanRecord`: one row per product and action with
every field it changes (old -> new), the stock levels it sets, and the content hashes of
what it was planned against — each source product, each store product of ours, the
category map, the settings. A later run asked to apply a dry run's plan hashes its own
inputs the same way: equal hashes mean equal inputs, so the (pure) planner plans the same
writes; any difference is listed (`moved`) and nothing is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, TypeAdapter

from product_sync.core.journal import State, changes, planned_state, shown_fields
from product_sync.core.mapping import CURRENCY, price_amount
from product_sync.core.models import SourceProduct
from product_sync.core.planning import IndexedProduct, ProductIndex, SyncPlan
from product_sync.core.sale_journal import SalePriceChange, prices_by_variant
from product_sync.core.sale_prices import HeldPrice

# `stock` and `sale_price`: rows of products the run writes nothing else of.
ACTIONS = (
    "create",
    "update",
    "unarchive",
    "archive",
    "retire_duplicate",
    "stock",
    "sale_price",
)
ROW_ONLY = ("stock", "sale_price")  # not product writes (the plan gate compares those)
# The fields shown old -> new in the UI's tables (the file holds every field).
HEADLINE = ("price", "sale_price", "title", "stock", "status", "category")
SALE_KEY = "sale_price.usd"
MONEY = ("price", "sale_price")
CATEGORY_KEY = "metadata.source_category"
# Mirrors of other fields, not worth naming in the "changed" column.
_UNSHOWN = {CATEGORY_KEY, "metadata.sync_category_id"}

_SOURCE = TypeAdapter(SourceProduct)
_INDEXED = TypeAdapter(IndexedProduct)


class Change(BaseModel):
    old: Any = None
    new: Any = None


class PlanRow(BaseModel):
    action: str
    source_id: int | None = None
    external_id: str | None = None
    handle: str | None = None
    product_id: str | None = None
    changes: dict[str, Change] = {}

    @property
    def key(self) -> tuple[str, str]:
        return _key(self.action, self.source_id, self.product_id)

    def changed(self) -> list[str]:
        """The changed fields' names, headline fields first."""
        names = [
            n.split(".", 1)[0] if n.startswith(("price.", "sale_price.")) else n
            for n in shown_fields(self.changes)
            if n not in _UNSHOWN
        ]
        if "category" in names:  # the link follows the category: one change, named once
            names = [n for n in names if n != "categories"]
        ordered = [h for h in HEADLINE if h in names]
        return ordered + [n for n in dict.fromkeys(names) if n not in HEADLINE]

    def headline(self) -> dict[str, str | None]:
        """'old → new' (a new product: its value) for each headline field it changes."""
        shown: dict[str, str | None] = {}
        for name in HEADLINE:
            change = self.changes.get(f"{name}.usd" if name in MONEY else name)
            if change is None:
                shown[name] = None
            elif self.action == "create":
                shown[name] = _text(change.new, name)
            else:
                shown[name] = f"{_text(change.old, name)} → {_text(change.new, name)}"
        return shown


def _key(action: str, source_id: int | None, product_id: str | None) -> tuple[str, str]:
    # Extra copies share their source id: they are told apart by product id.
    return (action, str(product_id if action == "retire_duplicate" else source_id))


def _text(value: Any, field: str = "") -> str:
    if value is None:
        return "—"
    if field in MONEY and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{Decimal(str(value)):.2f}"  # money as money: 5.40, not 5.4
    return str(value)


class StockRow(BaseModel):
    source_id: int | None = None
    inventory_item_id: str
    old: int | None = None  # None: no level at the location yet
    new: int | None = None


class PlanHashes(BaseModel):
    source: dict[str, str] = {}  # source id -> hash of the validated source record
    store: dict[str, str] = {}  # source id (or "<source id>/<product id>") -> index hash
    categories: str = ""
    settings: str = ""
    # Source id -> hash of its sale prices in the sync's list; "lists": the lists' ids.
    sale_prices: dict[str, str] = {}


class Moved(BaseModel):
    part: str  # "source", "store", "sale_prices", "categories", "settings", "plan"
    key: str
    change: str


class PlanRecord(BaseModel):
    version: int = 1
    run_id: str
    dry_run: bool
    scope: str = "catalog"
    product_ids: list[int] = []
    settings: dict[str, Any] = {}
    counts: dict[str, int] = {}
    categories_to_create: list[str] = []
    categories_to_rename: list[dict[str, str]] = []
    archive_blocked_reason: str | None = None
    rows: list[PlanRow] = []
    stock: list[StockRow] = []
    hashes: PlanHashes = PlanHashes()

    def action_keys(self) -> set[tuple[str, str]]:
        return {row.key for row in self.rows if row.action not in ROW_ONLY}

    def by_action(self) -> dict[str, list[PlanRow]]:
        grouped: dict[str, list[PlanRow]] = {action: [] for action in ACTIONS}
        for row in self.rows:
            grouped.setdefault(row.action, []).append(row)
        return grouped


def _change_map(found: Mapping[str, tuple[Any, Any]]) -> dict[str, Change]:
    result = {name: Change(old=old, new=new) for name, (old, new) in found.items()}
    if CATEGORY_KEY in result:
        result["category"] = result[CATEGORY_KEY]
    return result


_CREATE_FIELDS = ("title", "handle", "status", "price.usd", "variant.sku", CATEGORY_KEY)


def plan_rows(
    plan: SyncPlan,
    index: ProductIndex,
    before: Mapping[str, State],
    stock: Iterable[StockRow] = (),
) -> list[PlanRow]:
    """One row per product the plan writes, each with its field changes; `before`: the
    store's states of the products it updates (by product id); `stock`: the levels set."""
    rows: list[PlanRow] = []
    for write in plan.creates:
        found = changes(None, planned_state(None, write.payload))
        rows.append(
            PlanRow(
                action="create",
                source_id=write.source_id,
                external_id=write.external_id,
                handle=write.handle,
                changes=_change_map({k: v for k, v in found.items() if k in _CREATE_FIELDS}),
            )
        )
    for write in plan.updates:
        payload = write.payload
        held = before.get(payload["id"])
        indexed = index.products.get(write.source_id)
        rows.append(
            PlanRow(
                action="unarchive" if indexed and indexed.archived else "update",
                source_id=write.source_id,
                external_id=write.external_id,
                handle=write.handle,
                product_id=payload["id"],
                changes=_change_map(changes(held, planned_state(held, payload))),
            )
        )
    for archive in plan.archives:
        held = before.get(archive.product_id) or {}
        rows.append(
            PlanRow(
                action="archive",
                source_id=archive.source_id,
                handle=archive.handle,
                product_id=archive.product_id,
                external_id=held.get("external_id"),
                changes={"status": Change(old=held.get("status", "published"), new="draft")},
            )
        )
    for duplicate in plan.duplicate_repairs:
        held = before.get(duplicate.id) or {}
        rows.append(
            PlanRow(
                action="retire_duplicate",
                source_id=duplicate.source_id,
                handle=duplicate.handle,
                product_id=duplicate.id,
                external_id=held.get("external_id"),
                changes={"status": Change(old=duplicate.status, new="draft")},
            )
        )
    by_source = {row.source_id: row for row in rows if row.action != "retire_duplicate"}
    for level in stock:
        change = Change(old=level.old, new=level.new)
        row = by_source.get(level.source_id)
        if row is None:
            indexed = index.products.get(level.source_id) if level.source_id else None
            row = PlanRow(
                action="stock",
                source_id=level.source_id,
                handle=indexed.handle if indexed else None,
                product_id=indexed.id if indexed else None,
            )
            rows.append(row)
        row.changes["stock"] = change
    return rows


def add_sale_rows(
    rows: list[PlanRow], found: Iterable[SalePriceChange], index: ProductIndex
) -> list[PlanRow]:
    """Each sale price change (old -> new, USD) on its product's row; a product the run
    writes nothing else of gets a `sale_price` row."""
    by_source = {row.source_id: row for row in rows if row.action != "retire_duplicate"}
    for change in found:
        old, new = _usd(change.before), _usd(change.after or [])
        if old == new or change.source_id is None:
            continue
        row = by_source.get(change.source_id)
        if row is None:
            indexed = index.products.get(change.source_id)
            row = PlanRow(
                action="sale_price",
                source_id=change.source_id,
                handle=indexed.handle if indexed else None,
                product_id=indexed.id if indexed else None,
            )
            rows.append(row)
            by_source[change.source_id] = row
        row.changes[SALE_KEY] = Change(old=old, new=new)
    return rows


def _usd(pairs: Iterable[list[str]]) -> Any:
    amounts = [price_amount(Decimal(a)) for currency, a in pairs if currency == CURRENCY]
    return amounts[0] if len(amounts) == 1 else (amounts or None)


def sale_hashes(
    lists: Iterable[str], held: Iterable[HeldPrice], sources: Mapping[str, int]
) -> dict[str, str]:
    """The sale prices of the products in scope (`sources`: their variant -> source id),
    hashed per product, and the ids of the sync's lists (key "lists")."""
    grouped = prices_by_variant(held, set(sources))
    hashes = {str(sources[variant]): digest(pairs) for variant, pairs in grouped.items()}
    hashes["lists"] = digest(list(lists))
    return hashes


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def source_hashes(products: Iterable[SourceProduct]) -> dict[str, str]:
    return {str(p.id): _digest(_SOURCE.dump_json(p)) for p in products}


def store_hashes(index: ProductIndex) -> dict[str, str]:
    hashes = {str(sid): _digest(_INDEXED.dump_json(p)) for sid, p in index.products.items()}
    for extra in index.duplicates:
        hashes[f"{extra.source_id}/{extra.id}"] = _digest(_INDEXED.dump_json(extra))
    return hashes


def digest(value: Any) -> str:
    """The hash of any JSON-able value (the category map, the settings)."""
    return _digest(_canonical(value))


def moved(recorded: PlanHashes, current: PlanHashes) -> list[Moved]:
    """Everything that differs between what a plan was made against and now."""
    found: list[Moved] = []
    for part in ("source", "store", "sale_prices"):
        then, now = getattr(recorded, part), getattr(current, part)
        for key in sorted(set(then) | set(now), key=_id_order):
            if key not in now:
                found.append(Moved(part=part, key=key, change="removed"))
            elif key not in then:
                found.append(Moved(part=part, key=key, change="added"))
            elif then[key] != now[key]:
                found.append(Moved(part=part, key=key, change="changed"))
    for part in ("categories", "settings"):
        if getattr(recorded, part) != getattr(current, part):
            found.append(Moved(part=part, key="*", change="changed"))
    return found


def _id_order(key: str) -> tuple[int, str]:
    head = key.split("/", 1)[0]
    return (int(head), key) if head.isdigit() else (0, key)


def action_keys(plan: SyncPlan, index: ProductIndex) -> set[tuple[str, str]]:
    """(action, id) of every product write a plan makes, as `PlanRow.key`s."""
    keys = {_key("create", w.source_id, None) for w in plan.creates}
    for write in plan.updates:
        indexed = index.products.get(write.source_id)
        action = "unarchive" if indexed and indexed.archived else "update"
        keys.add(_key(action, write.source_id, None))
    keys |= {_key("archive", a.source_id, a.product_id) for a in plan.archives}
    keys |= {_key("retire_duplicate", d.source_id, d.id) for d in plan.duplicate_repairs}
    return keys
