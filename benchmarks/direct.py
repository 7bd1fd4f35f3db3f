"""The Medusa-direct floor: the product's own final create payloads, posted straight to
`POST /admin/products/batch` one batch after another, and nothing else.

Preparing them (reading the source, creating the categories, tags and brand collections,
assigning handles, mapping) is not timed: what is timed is the least any client must
spend to get these products into this store at this batch size. No lookups, no stock
levels, no sale prices, no retries, no bisecting. The payloads are the sellable ones the
sync sends (sales channel, shipping profile, tags, brand collection): a product without
them is not the same product (measured: 10k took 81 s either way).
"""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from product_sync.core.catalog import SourceCatalog, validate_records
from product_sync.core.handles import assign_handles
from product_sync.core.mapping import to_medusa_product
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.medusa import WRITE_RESULT_FIELDS, MedusaResource
from product_sync.sync import build_category_map
from product_sync.sync.taxonomy import prepare_taxonomy

PREFIX = "dummyjson:"


def prepare_payloads(source_url: str, backend_url: str) -> list[dict[str, Any]]:
    import os

    source = DummyJSONResource(base_url=source_url)
    medusa = MedusaResource(backend_url=backend_url, api_key=os.environ["MEDUSA_API_KEY"])
    read = source.read_catalog()
    products, _, _ = validate_records(read.records)
    catalog = SourceCatalog(products=products)
    categories = build_category_map(catalog, source, medusa)
    taxonomy = prepare_taxonomy(catalog, medusa, dry_run=False).ids
    channel = medusa.default_sales_channel_id()
    profile = medusa.shipping_profile_id(None)
    handles = assign_handles(((p.id, p.title) for p in products), set())
    return [
        to_medusa_product(
            p,
            handle=handles[p.id],
            external_id_prefix=PREFIX,
            category_id=categories.ids.get(p.category),
            sales_channel_id=channel,
            shipping_profile_id=profile,
            links=taxonomy.links(p),
        )
        for p in products
    ]


def post_payloads(
    backend_url: str, api_key: str, payloads: list[dict[str, Any]], batch_size: int
) -> dict[str, Any]:
    session = requests.Session()
    session.auth = (api_key, "")
    url = backend_url.rstrip("/") + "/admin/products/batch"
    requests_made = 0
    began = time.perf_counter()
    for start in range(0, len(payloads), batch_size):
        body = json.dumps({"create": payloads[start : start + batch_size]}, allow_nan=False)
        response = session.post(
            url,
            data=body,
            params={"fields": WRITE_RESULT_FIELDS},
            headers={"Content-Type": "application/json"},
            timeout=120,
        )
        requests_made += 1
        if not response.ok:
            raise RuntimeError(f"batch -> {response.status_code}: {response.text[:300]}")
    seconds = time.perf_counter() - began
    return {
        "products": len(payloads),
        "created": len(payloads),
        "writes": len(payloads),
        "assets_s": round(seconds, 3),
        "requests": requests_made,
        "requests_by": {"medusa POST": requests_made},
    }
