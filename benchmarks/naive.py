"""The seed-faithful baseline: how the original brief's sync goes about it, on purpose.

- pages of the source fetched one after another (`limit=30`);
- categories looked up and created one by one;
- products handled in batches of 15, but each one written with its own request
  (`POST /admin/products` to create, `POST /admin/products/{id}` to update);
- every product is updated on every run: nothing remembers what was written before.

It writes the same payloads as the product (`product_sync.core.mapping`), so the store ends
up the same and the comparison is about the method, not the data. It sets no stock levels
(the product does: the baseline is favoured there) and has no retries.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

import requests

from product_sync.core.catalog import validate_records
from product_sync.core.categories import display_name
from product_sync.core.handles import base_handle
from product_sync.core.mapping import external_id, to_medusa_product, to_medusa_update

PREFIX = "dummyjson:"


class SeedFaithfulSync:
    def __init__(
        self,
        source_url: str,
        backend_url: str,
        api_key: str,
        *,
        page_size: int = 30,
        batch_size: int = 15,
    ) -> None:
        self.source_url = source_url.rstrip("/")
        self.backend_url = backend_url.rstrip("/")
        self.page_size = page_size
        self.batch_size = batch_size
        self.session = requests.Session()
        self.session.auth = (api_key, "")
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _send(self, method: str, url: str, **kwargs: Any) -> Any:
        with self._lock:
            target = "medusa" if url.startswith(self.backend_url) else "source"
            self.requests[f"{target} {method}"] += 1
        body = kwargs.pop("json", None)
        response = self.session.request(
            method,
            url,
            data=None if body is None else json.dumps(body),
            headers={"Content-Type": "application/json"} if body is not None else None,
            timeout=60,
            **kwargs,
        )
        if not response.ok:
            raise RuntimeError(f"{method} {url} -> {response.status_code}: {response.text[:300]}")
        return response.json()

    def _admin(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._send(method, self.backend_url + path, **kwargs)

    def read_source(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        skip = 0
        while True:
            body = self._send(
                "GET", f"{self.source_url}/products", params={"limit": self.page_size, "skip": skip}
            )
            records.extend(body["products"])
            skip += self.page_size
            if skip >= body["total"] or not body["products"]:
                return records

    def category_ids(self, slugs: list[str]) -> dict[str, str]:
        ids = {}
        for slug in slugs:
            found = self._admin(
                "GET", "/admin/product-categories", params={"handle": slug, "fields": "id"}
            )["product_categories"]
            if found:
                ids[slug] = found[0]["id"]
            else:
                ids[slug] = self._admin(
                    "POST",
                    "/admin/product-categories",
                    json={"name": display_name(slug), "handle": slug, "is_active": True},
                )["product_category"]["id"]
        return ids

    def run(self) -> dict[str, Any]:
        products, _quarantined, _ = validate_records(self.read_source())
        categories = self.category_ids(sorted({p.category for p in products}))
        stores = self._admin("GET", "/admin/stores", params={"fields": "default_sales_channel_id"})
        channel = stores["stores"][0]["default_sales_channel_id"]
        used_handles: set[str] = set()
        created = updated = 0
        for start in range(0, len(products), self.batch_size):
            batch = products[start : start + self.batch_size]
            existing = {
                p["external_id"]: p
                for p in self._admin(
                    "GET",
                    "/admin/products",
                    params={
                        "external_id[]": [external_id(PREFIX, p.id) for p in batch],
                        "fields": "id,external_id,handle,variants.id",
                        "limit": len(batch),
                    },
                )["products"]
            }
            for src in batch:
                current = existing.get(external_id(PREFIX, src.id))
                handle = current["handle"] if current else base_handle(src.id, src.title)
                if handle in used_handles:
                    handle = f"{handle}-{src.id}"
                used_handles.add(handle)
                payload = to_medusa_product(
                    src,
                    handle=handle,
                    external_id_prefix=PREFIX,
                    category_id=categories.get(src.category),
                    sales_channel_id=channel,
                )
                if current is None:
                    self._admin("POST", "/admin/products", json=payload, params={"fields": "id"})
                    created += 1
                else:
                    variants = current.get("variants") or [{}]
                    update = to_medusa_update(
                        payload, product_id=current["id"], variant_id=variants[0].get("id")
                    )
                    del update["id"]
                    self._admin(
                        "POST",
                        f"/admin/products/{current['id']}",
                        json=update,
                        params={"fields": "id"},
                    )
                    updated += 1
        return {
            "products": len(products),
            "created": created,
            "updated": updated,
            "writes": created + updated,
            "requests": sum(self.requests.values()),
            "requests_by": dict(self.requests),
        }
