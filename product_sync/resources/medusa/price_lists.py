"""The sync's sale price list: found by a metadata marker, its prices listed and written.

Medusa keeps price-list prices apart from a variant's own prices (an admin product listing
shows only the latter, and replacing a variant's prices leaves the list's alone), so the
base price and the sale price are written independently.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from product_sync.core.sale_prices import HeldPrice
from product_sync.resources.medusa.client import PAGE_SIZE, MedusaClient, chunks

PRICE_LIST_FIELDS = "id,title,type,status,created_at,metadata"
PRICE_FIELDS = "id,amount,currency_code,price_set.variant.id"
PRICE_BATCH = 1000  # prices per batch request


class PriceLists(MedusaClient):
    def price_lists_marked(self, key: str, value: str) -> list[dict[str, Any]]:
        """The store's price lists whose metadata has `key` = `value`, oldest first.

        Medusa cannot filter on metadata, so every list is read (a store has few)."""
        rows = self._iter_listing(
            "/admin/price-lists", "price_lists", {"fields": PRICE_LIST_FIELDS}, PAGE_SIZE
        )
        marked = [r for r in rows if (r.get("metadata") or {}).get(key) == value]
        return sorted(marked, key=lambda r: (str(r.get("created_at") or ""), r["id"]))

    def create_price_list(self, body: dict[str, Any]) -> str:
        """Create a price list. Not retried: a request that timed out may have made it, and
        the caller finds what landed by its marker (see `sync.sale_prices`)."""
        answer = self._call(
            "POST", "/admin/price-lists", json_body=body, params={"fields": "id"}, retry=False
        )
        return answer["price_list"]["id"]

    def delete_price_list(self, price_list_id: str) -> None:
        self._call("DELETE", f"/admin/price-lists/{price_list_id}")

    def price_list_prices(self, price_list_id: str) -> list[HeldPrice]:
        rows = self._iter_listing(
            f"/admin/price-lists/{price_list_id}/prices",
            "prices",
            {"fields": PRICE_FIELDS, "order": "id"},
            PAGE_SIZE,
        )
        return [
            HeldPrice(
                id=r["id"],
                variant_id=((r.get("price_set") or {}).get("variant") or {}).get("id"),
                amount=Decimal(str(r["amount"])),
                currency_code=r.get("currency_code") or "",
            )
            for r in rows
            if r.get("amount") is not None
        ]

    def write_price_list_prices(
        self,
        price_list_id: str,
        create: Sequence[dict[str, Any]],
        update: Sequence[dict[str, Any]],
        delete: Sequence[str],
    ) -> None:
        """Create, update and delete prices of the list, `PRICE_BATCH` of each at a time.

        Not retried: a batch that timed out may have been applied, and sent again it would
        add a second price per variant; the next run's plan removes such a double."""
        path = f"/admin/price-lists/{price_list_id}/prices/batch"
        for kind, items in (("delete", delete), ("update", update), ("create", create)):
            for chunk in chunks(list(items), PRICE_BATCH):
                self._call(
                    "POST",
                    path,
                    json_body={kind: list(chunk)},
                    params={"fields": "id"},
                    retry=False,
                )
