"""What a writing run changed, and how to put it back. Pure: no I/O.

A product's *state* is the part of it the sync writes (`STATE_FIELDS`), normalised so
two reads of an unchanged product compare equal and a restore can be built from it:
id lists sorted, images in rank order, numbers as int where integral, prices as
(currency, amount) pairs. The journal keeps each written product's state just before the
run wrote it and just after; a revert restores `before` wherever the store still holds
`after` (anything else was changed since, and needs `force`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel

from product_sync.core.mapping import ARCHIVED_KEY, HASH_KEY
from product_sync.core.sale_journal import SaleListEntry

# Top-level values written as they are (None included).
SCALARS = ("status", "title", "description", "thumbnail", "handle", "external_id")
# Links written as [{"id": ...}]: compared as sorted id lists.
ID_LISTS = ("categories", "tags", "sales_channels")
VARIANT_SCALARS = (
    "sku",
    "barcode",
    "weight",
    "length",
    "width",
    "height",
    "manage_inventory",
    "allow_backorder",
)
# The product fields a state is read from (the Admin API's `fields`). The collection is
# optional in the state: a product written without one (no brand) leaves it as it was.
STATE_FIELDS = ",".join(
    [
        "id",
        *SCALARS,
        "collection_id",
        "metadata",
        "images.url",
        "images.rank",
        *(f"{key}.id" for key in ID_LISTS),
        *(f"variants.{key}" for key in ("id", *VARIANT_SCALARS)),
        "variants.prices.amount",
        "variants.prices.currency_code",
    ]
)

State = dict[str, Any]


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    as_decimal = Decimal(str(value))
    return int(as_decimal) if as_decimal == as_decimal.to_integral_value() else float(value)


def _prices(prices: Iterable[Mapping[str, Any]] | None) -> list[list[Any]]:
    return sorted(
        [p.get("currency_code"), _number(p.get("amount"))]
        for p in prices or []
        if p.get("amount") is not None
    )


def _variant(row: Mapping[str, Any]) -> dict[str, Any]:
    held = {key: _number(row.get(key)) for key in VARIANT_SCALARS}
    held["prices"] = _prices(row.get("prices"))
    return held


def product_state(row: Mapping[str, Any]) -> State:
    """A product row read with `STATE_FIELDS`, normalised."""
    images = sorted(row.get("images") or [], key=lambda i: i.get("rank") or 0)
    state: State = {key: row.get(key) for key in SCALARS}
    state["collection_id"] = row.get("collection_id")
    state["images"] = [i.get("url") for i in images]
    for key in ID_LISTS:
        state[key] = sorted(link["id"] for link in row.get(key) or [] if link.get("id"))
    state["metadata"] = dict(row.get("metadata") or {})
    state["variants"] = {v["id"]: _variant(v) for v in row.get("variants") or [] if v.get("id")}
    return state


def planned_state(before: State | None, payload: Mapping[str, Any]) -> State:
    """The state a create or update payload leaves, given the state before it (None for a
    create): written keys replaced, metadata merged as Medusa merges it ("" removes)."""
    state: State = {key: None for key in SCALARS} if before is None else dict(before)
    if before is None:
        state.update(collection_id=None, images=[], metadata={}, variants={})
        state.update({key: [] for key in ID_LISTS})
    for key in (*SCALARS, "collection_id"):
        if key in payload:
            state[key] = payload[key]
    if "images" in payload:
        state["images"] = [i.get("url") for i in payload["images"]]
    for key in ID_LISTS:
        if key in payload:
            state[key] = sorted(link["id"] for link in payload[key] if link.get("id"))
    if "metadata" in payload:
        merged = dict(state["metadata"])
        for key, value in payload["metadata"].items():
            if value == "":
                merged.pop(key, None)
            else:
                merged[key] = value
        state["metadata"] = merged
    if "variants" in payload:
        variants = dict(state["variants"])
        for sent in payload["variants"]:
            key = sent.get("id") or "new"
            held = dict(variants.get(key) or _variant({}))
            for field in VARIANT_SCALARS:
                if field in sent:
                    held[field] = _number(sent[field])
            if "prices" in sent:
                held["prices"] = _prices(sent["prices"])
            variants[key] = held
        state["variants"] = variants
    return state


def changes(old: State | None, new: State) -> dict[str, tuple[Any, Any]]:
    """Field -> (old, new) for every field that differs, flattened: `metadata.<key>`,
    `variant.<field>`, `price.<currency>` (a product's one variant; `variant:<id>.…` when
    it has several). A create (old None) lists every field it sets."""
    old = old or {}
    found: dict[str, tuple[Any, Any]] = {}
    for key in (*SCALARS, "collection_id", "images", *ID_LISTS):
        if old.get(key) != new.get(key) and (old or new.get(key) not in (None, [])):
            found[key] = (old.get(key), new.get(key))
    old_meta, new_meta = old.get("metadata") or {}, new.get("metadata") or {}
    for key in sorted(set(old_meta) | set(new_meta)):
        if old_meta.get(key) != new_meta.get(key):
            found[f"metadata.{key}"] = (old_meta.get(key), new_meta.get(key))
    old_vars, new_vars = old.get("variants") or {}, new.get("variants") or {}
    single = len(new_vars) == 1
    for key, variant in new_vars.items():
        before = old_vars.get(key)
        if before is None and len(old_vars) == 1 and single:
            before = next(iter(old_vars.values()))  # the variant was rebuilt: a new id
        before = before or {}
        label = "variant" if single else f"variant:{key}"
        for field in VARIANT_SCALARS:
            if before.get(field) != variant.get(field):
                found[f"{label}.{field}"] = (before.get(field), variant.get(field))
        old_prices, new_prices = dict(before.get("prices") or []), dict(variant["prices"])
        for currency in sorted(set(old_prices) | set(new_prices)):
            if old_prices.get(currency) != new_prices.get(currency):
                name = "price" if single else f"{label}.price"
                found[f"{name}.{currency}"] = (old_prices.get(currency), new_prices.get(currency))
    return found


def restore_update(product_id: str, now: State, before: State) -> dict[str, Any] | None:
    """The batch-update item that puts `before` back over `now` (None: nothing differs).

    Only what differs is sent. Metadata keys that were not there before are removed
    (Medusa removes a key sent as ""); a variant that no longer exists is left alone.
    """
    item: dict[str, Any] = {"id": product_id}
    for key in (*SCALARS, "collection_id"):
        if now.get(key) != before.get(key):
            item[key] = before.get(key)
    if now.get("images") != before.get("images"):
        item["images"] = [{"url": url} for url in before.get("images") or []]
    for key in ID_LISTS:
        if now.get(key) != before.get(key):
            item[key] = [{"id": i} for i in before.get(key) or []]
    old_meta, new_meta = before.get("metadata") or {}, now.get("metadata") or {}
    metadata = {
        key: old_meta.get(key, "")
        for key in sorted(set(old_meta) | set(new_meta))
        if old_meta.get(key) != new_meta.get(key) or (key in new_meta) != (key in old_meta)
    }
    if metadata:
        item["metadata"] = metadata
    variants = []
    for key, held in (now.get("variants") or {}).items():
        old = (before.get("variants") or {}).get(key)
        if old is None:
            continue
        sent: dict[str, Any] = {
            field: old[field] for field in VARIANT_SCALARS if held.get(field) != old.get(field)
        }
        if held.get("prices") != old.get("prices"):
            sent["prices"] = [{"currency_code": c, "amount": a} for c, a in old["prices"]]
        if sent:
            variants.append({"id": key, **sent})
    if variants:
        item["variants"] = variants
    return item if len(item) > 1 else None


def is_archived_by_sync(state: State | None) -> bool:
    return (
        bool(state)
        and state.get("status") == "draft"
        and bool((state.get("metadata") or {}).get(ARCHIVED_KEY))
    )


def shown_fields(found: Mapping[str, Any]) -> list[str]:
    """The changed fields worth naming to a person (the content hash changes with any)."""
    return [name for name in found if name != f"metadata.{HASH_KEY}"]


class ProductEntry(BaseModel):
    """One product a run wrote: its state before (None: the run created it) and after."""

    product_id: str
    external_id: str | None = None
    handle: str | None = None
    before: State | None = None
    after: State | None = None  # None: the write did not land (or was not read back)

    @property
    def created(self) -> bool:
        return self.before is None


class StockEntry(BaseModel):
    """One stock level a run set (None: no level at the location)."""

    inventory_item_id: str
    location_id: str
    source_id: int | None = None
    before: int | None = None
    after: int | None = None


class Journal(BaseModel):
    """What one run (or one part of a scaled-out run) changed in the store."""

    version: int = 1
    run_id: str
    part: str = "catalog"
    # False until the run's writes are done and read back: a run that died half-way
    # left only the states before it (reverting it needs `force`).
    complete: bool = False
    products: list[ProductEntry] = []
    stock: list[StockEntry] = []
    categories_created: dict[str, str] = {}  # handle -> id (kept by a revert)
    sale_prices: list[SaleListEntry] = []  # the sync's sale price list(s), as written
    reverts: str | None = None  # the run this one reverted, if it is a revert


Verdict = Literal["revert", "done", "changed", "gone"]


def judge_product(entry: ProductEntry, now: State | None, complete: bool) -> Verdict:
    """What to do with one journaled product, given its state now.

    `revert`: the store holds what the run left (or, for an incomplete journal, anything
    but the state before), `done`: it holds the state before already (a revert ran), for
    a created product that it is archived; `changed`: something else wrote it since;
    `gone`: it is not in the store any more.
    """
    if now is None:
        return "gone"
    if entry.created:
        if is_archived_by_sync(now):
            return "done"
        return "revert" if not complete or now == entry.after else "changed"
    if now == entry.before:
        return "done"
    if not complete:
        return "revert"
    return "revert" if now == entry.after else "changed"


def judge_stock(entry: StockEntry, now: int | None) -> Verdict:
    if now == entry.before:
        return "done"
    return "revert" if now == entry.after else "changed"
