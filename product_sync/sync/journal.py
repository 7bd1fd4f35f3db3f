"""The journal of a writing run: what it changed, kept where the run's other artifacts are.

Before its first product write a run records the state of every product it is about to
update, archive or retire, and the external ids it is about to create (`begin`); after its
writes it reads those products back and records their states after, with the stock
levels it set, the sale prices it wrote and the categories it created (`finish`). A run
that dies in between leaves the first half (`complete` false), which still says what the
products were before it.

The journal is a JSON file in a directory the caller gives (the run's folder in the
Dagster instance's artifact storage); nothing here knows about Dagster.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel

from product_sync.core.journal import Journal, ProductEntry, State, StockEntry, product_state
from product_sync.core.planning import SyncPlan
from product_sync.core.sale_journal import SaleListEntry
from product_sync.resources.medusa import MedusaResource

JOURNAL_NAME = "journal"


def read_states(medusa: MedusaResource, product_ids: Iterable[str]) -> dict[str, State]:
    """Product id -> its state now (products not in the store are left out)."""
    ids = list(dict.fromkeys(product_ids))
    if not ids:
        return {}
    return {pid: product_state(row) for pid, row in medusa.product_states(ids).items()}


def plan_product_ids(plan: SyncPlan) -> list[str]:
    """The store products a plan writes other than its creates."""
    return [
        *(w.payload["id"] for w in plan.updates),
        *(a.product_id for a in plan.archives),
        *(d.id for d in plan.duplicate_repairs),
    ]


def journal_path(directory: Path, part: str | None = None) -> Path:
    return directory / (f"{JOURNAL_NAME}-{part}.json" if part else f"{JOURNAL_NAME}.json")


@contextmanager
def atomic_file(path: Path) -> Iterator[TextIO]:
    """A file written in full or not at all: a reader never sees half of it, a crash never
    leaves one (written beside it, then moved into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w") as out:
            yield out
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)


def write_json(path: Path, value: Any, *, indent: int | None = None) -> Path:
    """Write atomically (`atomic_file`)."""
    separators = (",", ":") if indent is None else None
    with atomic_file(path) as out:
        json.dump(value, out, ensure_ascii=False, indent=indent, separators=separators, default=str)
    return path


# The journal's lists, written an entry at a time: a first load of 10k products journals
# every product it created, and the whole journal as one dict, then as one string, took
# ~290 MB at once (cold 10k peaked at 470 MB in one process, 486 MB in a range).
STREAMED = ("products", "stock", "sale_prices")


def write_journal(
    path: Path,
    journal: Journal,
    extra: dict[str, Any],
    more: Mapping[str, Iterable[BaseModel]] | None = None,
) -> Path:
    """`write_json` of the journal (plus `extra` keys), its lists serialized an entry at a
    time, each followed by the entries `more` has for it (made while they are written);
    the same JSON, read back by `load_journals`."""
    head = {**journal.model_dump(mode="json", exclude=set(STREAMED)), **extra}
    more = more or {}
    with atomic_file(path) as out:
        out.write(json.dumps(head, ensure_ascii=False, separators=(",", ":"), default=str)[:-1])
        for name in STREAMED:
            out.write(f',"{name}":[')
            for number, entry in enumerate(chain(getattr(journal, name), more.get(name, ()))):
                out.write(("," if number else "") + entry.model_dump_json())
            out.write("]")
        out.write("}")
    return path


class RunJournal:
    """Records one run's (or one range's) journal in `directory`."""

    def __init__(
        self, directory: Path, run_id: str, part: str | None = None, reverts: str | None = None
    ) -> None:
        self.path = journal_path(directory, part)
        self.journal = Journal(run_id=run_id, part=part or "catalog", reverts=reverts)
        self._pending_creates: list[str] = []

    def begin(
        self,
        before: Mapping[str, State],
        entries: Iterable[ProductEntry],
        creates: Iterable[str] = (),
    ) -> None:
        """Record the products about to be written (`entries`, their states in `before`
        by product id) and the external ids about to be created."""
        self.journal.products = [
            e.model_copy(update={"before": before[e.product_id]})
            for e in entries
            if e.product_id in before
        ]
        self._pending_creates = list(dict.fromkeys(creates))
        self.journal.complete = False
        self._save(pending_creates=self._pending_creates)

    def begin_sync(self, plan: SyncPlan, before: Mapping[str, State]) -> None:
        entries = [
            *(
                ProductEntry(product_id=w.payload["id"], external_id=w.external_id, handle=w.handle)
                for w in plan.updates
            ),
            *(ProductEntry(product_id=a.product_id, handle=a.handle) for a in plan.archives),
            *(ProductEntry(product_id=d.id, handle=d.handle) for d in plan.duplicate_repairs),
        ]
        self.begin(before, entries, (c.external_id for c in plan.creates))

    def finish(
        self,
        medusa: MedusaResource,
        *,
        stock: Iterable[Mapping[str, Any]] = (),
        stock_sources: Mapping[str, int] | None = None,
        categories_created: Mapping[str, str] | None = None,
        sale_prices: Iterable[SaleListEntry] = (),
    ) -> None:
        """Read the written products back; keep those that changed, the stock levels
        set (`stock`: levels as written, each with its `before`) and the sale prices
        written (`sale_prices`: per list, each variant's prices before and after). The
        products created are read back as the journal is written, a page at a time: a
        first load of 10k held them all at once (+56 MB in a range)."""
        known = {e.product_id for e in self.journal.products}
        after = read_states(medusa, known)
        kept = []
        for entry in self.journal.products:
            state = after.get(entry.product_id)
            if state != entry.before:
                kept.append(entry.model_copy(update={"after": state}))
        created = (
            ProductEntry(
                product_id=row["id"],
                external_id=row.get("external_id"),
                handle=row.get("handle"),
                after=product_state(row),
            )
            for row in medusa.product_states_by_external_id(self._pending_creates)
            if row["id"] not in known
        )
        sources = stock_sources or {}
        self.journal.products = kept
        self.journal.stock = [
            StockEntry(
                inventory_item_id=level["inventory_item_id"],
                location_id=level["location_id"],
                source_id=sources.get(level["inventory_item_id"]),
                before=level.get("before"),
                after=level.get("stocked_quantity"),
            )
            for level in stock
        ]
        self.journal.categories_created = dict(categories_created or {})
        self.journal.sale_prices = [e for e in sale_prices if e.prices or e.created or e.deleted]
        self.journal.complete = True
        write_journal(self.path, self.journal, {}, {"products": created})

    def _save(self, **extra: Any) -> None:
        write_journal(self.path, self.journal, extra)


def load_journals(directory: Path) -> list[tuple[Journal, list[str]]]:
    """Every journal a run left in its directory (one per part), each with the external
    ids it was about to create when it stopped (for an incomplete one)."""
    found = []
    for path in sorted(directory.glob(f"{JOURNAL_NAME}*.json")):
        raw = json.loads(path.read_text())
        pending = raw.pop("pending_creates", [])
        found.append((Journal.model_validate(raw), list(pending)))
    return found
