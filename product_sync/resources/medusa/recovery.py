"""Recovering product writes the store did not simply accept.

`POST /admin/products/batch` is all-or-nothing, and a request that failed may have been
applied. A refused product alone goes to step 4; a refused batch of several to the first
of steps 1-3 that applies (`_recover_refused`):

1. a create batch whose products exist already (a concurrent run, or an earlier request
   that timed out, made them): count them as recovered, send the rest again at once;
2. a refusal that names the product at fault: set that one aside, send the rest again;
3. otherwise split the batch in halves, until the bad product is alone;
4. a product refused alone: made already? half-created (rebuild it, then update)? Else
   it is reported with Medusa's message.

Two more run around the write itself: before a create is retried, its products are looked
up (`_create_with_lookup`), and an update answered over a half-created variant has that
variant rebuilt (`_rebuild_answered`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from product_sync.resources.http import HTTPError, TransientError
from product_sync.resources.medusa.client import check_filter
from product_sync.resources.medusa.reads import ProductReads
from product_sync.resources.medusa.rows import (
    CREATE_RESULT_FIELDS,
    UPDATE_RESULT_FIELDS,
    WRITE_RESULT_FIELDS,
    answered_items,
    ext_id,
    variant_complete,
)
from product_sync.resources.medusa.write_report import Batch, BatchOutcome, WriteError, WriteReport

# "Product with handle: x, already exists." / "Product variant with sku: x, already exists."
_TAKEN = re.compile(r"with (handle|sku|barcode): (.+?), already exists")


class WriteRecovery(ProductReads):
    # -- around the write --------------------------------------------------------------

    def _create_with_lookup(self, items: Batch) -> WriteReport:
        """Create a batch; before every retry, look up which of its products landed anyway
        (a timed-out request may have been applied) and only send the rest again."""
        pending = list(items)
        recovered = 0
        inventory: dict[str, str] = {}
        for attempt in self.client.retrying():
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    landed = self._in_store(pending)
                    recovered += sum(1 for i in pending if ext_id(i) in landed)
                    pending = [i for i in pending if ext_id(i) not in landed]
                if pending:
                    inventory = answered_items(self._send_creates(pending))
        return WriteReport(
            created=len(items) - recovered, recovered=recovered, inventory_items=inventory
        )

    def _send_creates(self, items: Batch) -> list[dict[str, Any]]:
        """One create request, not retried here; the products the store answered with."""
        body = self._send_once(
            "POST",
            "/admin/products/batch",
            json_body={"create": list(items)},
            params={"fields": CREATE_RESULT_FIELDS},
        )
        return body.get("created") or []

    def _rebuild_answered(
        self, items: Batch, answered: dict[str, dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The items of an accepted update whose variant the answer shows half-created,
        each rebuilt (see `_rebuild_half_created`)."""
        return [
            item
            for item in items
            if item.get("id") in answered and self._rebuild_half_created(item, answered[item["id"]])
        ]

    # -- a refused batch ---------------------------------------------------------------

    def _recover_refused(self, kind: str, items: Batch, error: HTTPError) -> BatchOutcome:
        if len(items) == 1:
            return BatchOutcome(self._refused_alone(kind, items[0], error))
        if kind == "create":
            skipped = self._skip_landed(items)
            if skipped is not None:
                return skipped
        set_aside = self._set_aside_named(kind, items, error)
        if set_aside is not None:
            return set_aside
        return split_in_halves(items)

    def _skip_landed(self, items: Batch) -> BatchOutcome | None:
        """A refused create batch usually holds products that exist already: their handles
        are taken by our own products. One lookup finds them all, where splitting would
        cost two requests per product; only the rest is sent again."""
        landed = self._landed(items)
        if not landed:
            return None
        rest = [i for i in items if ext_id(i) not in landed]
        return BatchOutcome(WriteReport(recovered=len(items) - len(rest)), [rest] if rest else [])

    def _set_aside_named(self, kind: str, items: Batch, error: HTTPError) -> BatchOutcome | None:
        """Medusa named the product it refused (a handle, SKU or barcode another product
        holds): settle that one alone and send the rest at once, instead of bisecting
        (which re-sends about twice the batch before it is alone)."""
        named = named_in(error.detail, items)
        if not named or len(named) >= len(items):
            return None
        report = WriteReport()
        for position in sorted(named):
            report.merge(self._refused_alone(kind, items[position], error))
        rest = [item for i, item in enumerate(items) if i not in named]
        return BatchOutcome(report, [rest])

    def _refused_alone(self, kind: str, item: dict[str, Any], error: HTTPError) -> WriteReport:
        external_id = ext_id(item)
        # The usual cause of a refused create is a concurrent run (or an earlier timed-out
        # request) that created this product first: its handle is then taken by our own.
        if kind == "create" and self.products_by_external_id([external_id]):
            return WriteReport(recovered=1)
        if kind == "update":
            rebuilt = self._update_after_rebuild(item)
            if rebuilt is not None:
                return rebuilt
        return WriteReport(errors=[WriteError([external_id], error.detail)])

    def _landed(self, items: Batch) -> set[str]:
        """`_in_store`, or empty if the store cannot say right now (the caller then splits
        the batch as usual)."""
        try:
            return self._in_store(items)
        except TransientError:
            return set()

    def _in_store(self, items: Batch) -> set[str]:
        """External ids of these items that exist in the store."""
        return {p["external_id"] for p in self.products_by_external_id(ext_id(i) for i in items)}

    # -- a half-created product --------------------------------------------------------

    def _update_after_rebuild(self, item: dict[str, Any]) -> WriteReport | None:
        """A refused single update: if its variant was half-created, rebuild it and send
        the rest of the update again. None when that was not the problem."""
        if not item.get("variants"):
            return None
        try:
            product = self._call(
                "GET", f"/admin/products/{item['id']}", params={"fields": UPDATE_RESULT_FIELDS}
            )["product"]
            if not self._rebuild_half_created(item, product):
                return None
            self._call(
                "POST",
                "/admin/products/batch",
                json_body={"update": [{k: v for k, v in item.items() if k != "variants"}]},
                params={"fields": WRITE_RESULT_FIELDS},
            )
        except HTTPError:
            return None
        return WriteReport(updated=1, repaired=1)

    def _rebuild_half_created(self, item: dict[str, Any], product: dict[str, Any]) -> bool:
        """Re-create the variant of an update that Medusa could not complete.

        Medusa creates a product in steps that commit separately (product and variant,
        inventory item, its link, price set). Killed in between, it leaves a variant
        without a price set or without its inventory item (which may exist unlinked), and
        then a batch update either answers 200 while silently dropping the prices, or is
        refused because the inventory item "already exists": every later run would try
        the same update again and never fix the product. So the variant is deleted and
        created anew through the variant route, which makes its price set and links the
        left-over inventory item (or makes one; the stock step then sets its level).

        `product` is the store's product as an update answered it (or as read after a
        refusal). Returns whether a variant was rebuilt.
        """
        found = variant_to_rebuild(item, product)
        if found is None:
            return False
        wanted, held = found
        left_over: list[str] = []
        if wanted.get("manage_inventory") and wanted.get("sku"):
            left_over = self._unlinked_inventory_items(wanted["sku"])
        self._replace_variant(item["id"], held, rebuilt_variant(wanted, left_over))
        return True

    def _replace_variant(
        self, product_id: str, held: dict[str, Any] | None, variant: dict[str, Any]
    ) -> None:
        if held:
            self._call("DELETE", f"/admin/products/{product_id}/variants/{held['id']}")
        self._call(
            "POST",
            f"/admin/products/{product_id}/variants",
            json_body=variant,
            params={"fields": "id"},
        )

    def _unlinked_inventory_items(self, sku: str) -> list[str]:
        """Inventory items with this SKU that no variant uses (left by a crash)."""
        body = self._call(
            "GET",
            "/admin/inventory-items",
            params={"sku": sku, "fields": "id,sku,variants.id"},
        )
        rows = body.get("inventory_items", [])
        check_filter(rows, "sku", [sku])
        return [r["id"] for r in rows if not r.get("variants")]


def variant_to_rebuild(
    item: dict[str, Any], product: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """The variant an update sends and the store's half-created one it replaces (None
    when the product holds none); None when there is nothing to rebuild: no variant sent,
    several held (not ours to guess), or the held one complete."""
    wanted = (item.get("variants") or [None])[0]
    if not wanted:
        return None
    held = product.get("variants") or []
    if wanted.get("id"):
        held = [v for v in held if v.get("id") == wanted["id"]]
    if len(held) > 1 or (held and variant_complete(held[0], wanted)):
        return None
    return wanted, (held[0] if held else None)


def rebuilt_variant(wanted: dict[str, Any], left_over: Sequence[str]) -> dict[str, Any]:
    """The variant to create in place of a half-created one, linked to the inventory item
    the crash left behind, if any (else Medusa makes one)."""
    body = {k: v for k, v in wanted.items() if k != "id"}
    if left_over:
        body["inventory_items"] = [{"inventory_item_id": left_over[0], "required_quantity": 1}]
    return body


def split_in_halves(items: Batch) -> BatchOutcome:
    """Nothing settled: send each half on its own, the first half first."""
    middle = len(items) // 2
    return BatchOutcome(WriteReport(), [items[:middle], items[middle:]])


def named_in(message: str, items: Batch) -> set[int]:
    """Positions of the items holding the value Medusa's error message says is taken."""
    found = _TAKEN.search(message or "")
    if not found:
        return set()
    key, value = found.groups()
    if key == "handle":
        return {i for i, item in enumerate(items) if item.get("handle") == value}
    return {
        i
        for i, item in enumerate(items)
        if any(v.get(key) == value for v in item.get("variants") or [])
    }
