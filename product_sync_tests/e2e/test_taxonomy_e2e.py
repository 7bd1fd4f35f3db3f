"""Tags, brand collections and the sale price list as the merchant sees them (Admin API):
each created once and reused, nothing of anyone else's touched, two runs at once leave no
double, and turning discounts off takes the sale prices away."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from product_sync.core.sale_prices import PRICE_LIST_KEY
from product_sync.resources.http import JSONClient
from product_sync_tests.e2e.test_storefront_e2e import expected_price, source_records
from product_sync_tests.judges.storefront import Storefront, price_of

pytestmark = pytest.mark.e2e

PREFIX = "dummyjson:"
RACE_POINTS = (
    # Tags and collections are created all at once by running Medusa's create workflows;
    # one at a time only for what a refused run leaves.
    ("POST", "/admin/workflows-executions/create-product-tags/run"),
    ("POST", "/admin/workflows-executions/create-collections/run"),
    ("POST", "/admin/product-tags"),
    ("POST", "/admin/collections"),
    ("POST", "/admin/price-lists"),
)


def listing(store, path: str, key: str, fields: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        body = store.get(path, fields=fields, limit=200, offset=len(rows))
        rows += body[key]
        if not body[key] or len(rows) >= body["count"]:
            return rows


def our_price_lists(store) -> list[dict[str, Any]]:
    rows = listing(store, "/admin/price-lists", "price_lists", "id,title,type,status,metadata")
    return [r for r in rows if (r.get("metadata") or {}).get(PRICE_LIST_KEY) == PREFIX]


def sale_prices(store, price_list_id: str) -> Counter[str]:
    """Variant id -> how many prices the list holds for it."""
    rows = listing(
        store, f"/admin/price-lists/{price_list_id}/prices", "prices", "id,price_set.variant.id"
    )
    return Counter(r["price_set"]["variant"]["id"] for r in rows)


def assert_no_doubles(store) -> None:
    tags = Counter(
        t["value"] for t in listing(store, "/admin/product-tags", "product_tags", "id,value")
    )
    collections = Counter(
        c["handle"] for c in listing(store, "/admin/collections", "collections", "id,handle")
    )
    assert [v for v, n in tags.items() if n > 1] == []
    assert [h for h, n in collections.items() if n > 1] == []
    assert len(our_price_lists(store)) == 1


def test_products_carry_their_source_tags_and_brand_in_the_admin(sync, catalog, store):
    run = sync.cold()
    assert run.result.success and all(run.checks.values()), run.checks
    records = source_records(catalog)
    ours = store.ours("id,external_id,collection.handle,collection.title,tags.value")
    for source_id, record in records.items():
        product = ours[source_id]
        assert sorted(t["value"] for t in product["tags"]) == sorted(set(record["tags"]))
        if record.get("brand"):
            assert product["collection"]["title"] == record["brand"]
        else:
            assert product.get("collection") is None
    (price_list,) = our_price_lists(store)
    assert (price_list["type"], price_list["status"]) == ("sale", "active")
    discounted = sum(1 for r in records.values() if expected_price(r).calculated < r["price"])
    assert sum(sale_prices(store, price_list["id"]).values()) == discounted
    # Base prices stay the source's (prices_match_source checks the same).
    products = store.ours("id,external_id,variants.prices.amount,variants.prices.currency_code")
    assert {i: store.usd(p) for i, p in products.items()} == {
        i: Decimal(str(r["price"])) for i, r in records.items()
    }

    again = sync()
    assert again.writes == 0, again.metadata
    assert again.metadata["tags_created"] == again.metadata["collections_created"] == 0


def test_tags_and_collections_of_other_products_are_reused_never_changed(sync, store):
    tag = store.post("/admin/product-tags", {"value": "beauty"})["product_tag"]
    collection = store.post("/admin/collections", {"title": "ACME (ours)", "handle": "acme"})
    collection = collection["collection"]
    foreign = store.post(
        "/admin/products",
        {
            "title": "Merchant's own product",
            "handle": "merchants-own-product",
            "options": [{"title": "Size", "values": ["One"]}],
            "tags": [{"id": tag["id"]}],
            "collection_id": collection["id"],
        },
    )["product"]

    run = sync()
    assert run.result.success and all(run.checks.values()), run.checks
    fields = "id,collection_id,tags.id,tags.value"
    after = store.get(f"/admin/products/{foreign['id']}", fields=fields)["product"]
    assert after["collection_id"] == collection["id"]
    assert [(t["id"], t["value"]) for t in after["tags"]] == [(tag["id"], "beauty")]
    same = store.get(f"/admin/collections/{collection['id']}", fields="id,title")["collection"]
    assert same["title"] == "ACME (ours)"  # reused by handle, not renamed
    beauty = store.get("/admin/product-tags", value="beauty", fields="id")["product_tags"]
    assert [t["id"] for t in beauty] == [tag["id"]]  # reused by value
    acme = store.ours("id,external_id,collection_id")
    assert collection["id"] in {p["collection_id"] for p in acme.values()}


def line_up_at_creates(monkeypatch, backend_url: str) -> Callable[[], None]:
    """Both runs wait for each other before their first create of tags, collections and
    the price list, so both have looked and found nothing: the worst race. Returns
    ``release``, which a run calls when it ends: the points it never reached (the
    one-at-a-time creates only a refused run makes) then no longer hold the other."""
    original = JSONClient.send_once
    barriers = {point: threading.Barrier(2, timeout=60) for point in RACE_POINTS}
    passed: set[tuple[int, tuple[str, str]]] = set()
    lock = threading.Lock()

    def send_once(client, method, path, **kwargs):
        point = (method, path)
        if client.base_url == backend_url and point in barriers:
            with lock:
                first = (id(client), point) not in passed
                passed.add((id(client), point))
            if first:
                with contextlib.suppress(threading.BrokenBarrierError):
                    barriers[point].wait()
        return original(client, method, path, **kwargs)

    monkeypatch.setattr(JSONClient, "send_once", send_once)

    def release() -> None:
        for barrier in barriers.values():
            barrier.abort()

    return release


def test_two_runs_at_once_leave_one_of_each(sync, store, empty_store, monkeypatch):
    release = line_up_at_creates(monkeypatch, empty_store.backend_url)

    def run_then_release(_: int):
        try:
            return sync(raise_on_error=False)
        finally:
            release()

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(run_then_release, range(2)))
    for run in runs:
        assert run.metadata and run.metadata["taxonomy_failed"] == 0, run.metadata
    assert_no_doubles(store)
    # Every tag was created once, by one run or the other.
    tags = len(listing(store, "/admin/product-tags", "product_tags", "id"))
    assert sum(r.metadata["tags_created"] for r in runs) == tags
    monkeypatch.undo()

    # The next run mends what racing writers may have doubled; the one after writes nothing.
    sync()
    (price_list,) = our_price_lists(store)
    assert max(sale_prices(store, price_list["id"]).values()) == 1
    final = sync()
    assert final.writes == 0 and final.metadata["sale_prices_written"] == 0, final.metadata
    assert final.metadata["sale_prices_removed"] == 0
    assert all(final.checks.values()), final.checks
    assert_no_doubles(store)


def test_with_discounts_off_the_sale_prices_go_and_the_base_price_shows(
    sync, catalog, store, empty_store
):
    assert sync.cold().metadata["sale_prices_written"] > 0
    off = sync(apply_discounts=False)
    assert off.writes == 0 and off.metadata["sale_prices_removed"] > 0, off.metadata
    (price_list,) = our_price_lists(store)
    assert sale_prices(store, price_list["id"]) == Counter()
    base = {r["sku"]: Decimal(str(r["price"])) for r in source_records(catalog).values()}
    shown = {
        variant["sku"]: price_of(variant)
        for product in Storefront.of(empty_store).products()
        for variant in product["variants"]
    }
    assert {sku: (p.calculated, p.original) for sku, p in shown.items()} == {
        sku: (amount, amount) for sku, amount in base.items()
    }
    assert sync(apply_discounts=False).metadata["sale_prices_removed"] == 0
