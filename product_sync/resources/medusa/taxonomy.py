"""How the store groups products: product categories (tags and collections belong here
too when the pipeline maps them)."""

from __future__ import annotations

from collections.abc import Sequence

from product_sync.core.categories import StoreCategory
from product_sync.resources.medusa.client import LOOKUP_CHUNK, MedusaClient, check_filter, chunks


class Taxonomy(MedusaClient):
    def categories_by_handle(self, handles: Sequence[str]) -> list[StoreCategory]:
        found: list[StoreCategory] = []
        for chunk in chunks(list(handles), LOOKUP_CHUNK):
            body = self._call(
                "GET",
                "/admin/product-categories",
                params={"handle[]": list(chunk), "fields": "id,handle,name", "limit": len(chunk)},
            )
            rows = body.get("product_categories", [])
            check_filter(rows, "handle", chunk)
            found.extend(
                StoreCategory(id=r["id"], handle=r["handle"], name=r["name"]) for r in rows
            )
        return found

    def create_category(self, name: str, handle: str) -> str:
        """Create a category; before every retry, look its handle up (a request that timed
        out may have been applied) and return the one that landed instead of sending again.
        """
        for attempt in self.client.retrying():
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    landed = self.categories_by_handle([handle])
                    if landed:
                        return landed[0].id
                body = self._call(
                    "POST",
                    "/admin/product-categories",
                    json_body={"name": name, "handle": handle, "is_active": True},
                    params={"fields": "id,handle"},
                    retry=False,
                )
                return body["product_category"]["id"]
        raise AssertionError("unreachable")  # pragma: no cover

    def rename_category(self, category_id: str, name: str) -> None:
        self._call(
            "POST",
            f"/admin/product-categories/{category_id}",
            json_body={"name": name},
            params={"fields": "id"},
        )
