"""Reading products as a run's journal needs them (every field the sync writes), and the
stock-level calls a revert needs besides setting levels (which levels exist, removing
the ones a run created)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from product_sync.core.journal import STATE_FIELDS
from product_sync.resources.medusa.client import (
    LOOKUP_CHUNK,
    LOOKUP_MAX,
    check_filter,
    chunks,
)
from product_sync.resources.medusa.inventory import Inventory
from product_sync.resources.medusa.reads import with_links
from product_sync.resources.medusa.rows import LINK_FIELDS

LEVEL_ID_FIELDS = "id,location_levels.id,location_levels.location_id"


class ProductStates(Inventory):
    def product_states(self, product_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Product id -> its row with `STATE_FIELDS`; ids not in the store are left out.

        Many products (a first load's creates) are read without the category and tag
        joins, their links attached apart (`links_of`): joined to every state field, a
        10k run's states took Medusa 25-37 s a page of 2000 (benchmarks/README.md)."""
        wanted = list(dict.fromkeys(product_ids))
        many = len(wanted) > LOOKUP_MAX
        fields = ",".join(f for f in STATE_FIELDS.split(",") if not (many and f in LINK_FIELDS))
        scanned = self._scan_instead(len(wanted), fields)
        found: dict[str, dict[str, Any]] = {}
        if scanned is not None:
            chosen = set(wanted)
            found = {row["id"]: row for row in scanned if row["id"] in chosen}
        else:
            found = {row["id"]: row for row in self.products_by_id(wanted, fields)}
        if many and found:
            by_product = self.links_of(set(found))
            for row in found.values():
                with_links(row, by_product)
        return found

    def product_states_by_external_id(
        self, external_ids: Iterable[str]
    ) -> Iterator[dict[str, Any]]:
        """Rows with `STATE_FIELDS` of the products carrying these external ids. Many (a
        first load's creates) are read without the joins, as `product_states` reads
        them, and handed out a page at a time: held at once, a 10k load's rows took
        the process to 457 MB."""
        wanted = list(dict.fromkeys(external_ids))
        if len(wanted) <= LOOKUP_MAX:
            yield from self.products_by_external_id(wanted, fields=STATE_FIELDS)
            return
        fields = ",".join(f for f in STATE_FIELDS.split(",") if f not in LINK_FIELDS)
        rows = self.iter_by_external_id(wanted, fields=fields)
        if not self.joins_cheaper(len(wanted)):
            by_product = self.product_links().by_product()
            for row in rows:
                yield with_links(row, by_product)
            return
        while page := list(islice(rows, LOOKUP_MAX)):
            by_product = self._links_of([r["id"] for r in page])
            yield from (with_links(r, by_product) for r in page)

    def level_ids(self, location_id: str, item_ids: Sequence[str]) -> dict[str, str]:
        """Inventory item id -> the id of its level at the location (items without one
        are left out)."""
        found: dict[str, str] = {}
        for chunk in chunks(list(dict.fromkeys(item_ids)), LOOKUP_CHUNK):
            body = self._call(
                "GET",
                "/admin/inventory-items",
                params={"id[]": list(chunk), "fields": LEVEL_ID_FIELDS, "limit": len(chunk)},
            )
            rows = body.get("inventory_items", [])
            check_filter(rows, "id", chunk)
            for row in rows:
                for level in row.get("location_levels") or []:
                    if level.get("location_id") == location_id and level.get("id"):
                        found[row["id"]] = level["id"]
        return found

    def delete_stock_levels(self, level_ids: Sequence[str]) -> int:
        """Remove levels (those a run created). `force`: a level holding stock goes too;
        Medusa still refuses one with reserved or incoming items."""
        removed = 0
        for chunk in chunks(list(level_ids), LOOKUP_CHUNK):
            self._call(
                "POST",
                "/admin/inventory-items/location-levels/batch",
                json_body={"delete": list(chunk), "force": True},
            )
            removed += len(chunk)
        return removed
