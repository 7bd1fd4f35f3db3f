"""The sync against the real Medusa v2 store and the local catalog server."""

from decimal import Decimal

import pytest
import requests

from product_sync.core.handles import base_handle

pytestmark = pytest.mark.e2e

PRODUCT_FIELDS = (
    "id,handle,external_id,status,title,thumbnail,images.url,categories.id,"
    "categories.handle,sales_channels.id,variants.sku,variants.prices.amount,"
    "variants.prices.currency_code,metadata"
)


def source_products(catalog):
    return requests.get(f"{catalog.base_url}/products", params={"limit": 0}, timeout=30).json()[
        "products"
    ]


def test_cold_sync_then_no_op(sync, store, catalog, judge):
    first = sync()
    assert first.metadata["created"] == 194
    assert first.metadata["errors"] == 0
    assert judge() == []
    assert all(first.checks.values()), first.checks

    source = {p["id"]: p for p in source_products(catalog)}
    ours = store.ours(PRODUCT_FIELDS)
    listed = store.get("/admin/product-categories", limit=100, fields="handle,rank")
    ranks = [c["rank"] for c in listed["product_categories"]]
    assert len(set(ranks)) == len(ranks)  # the admin shows them in one defined order
    for source_id, product in ours.items():
        assert product["handle"].startswith(base_handle(source_id, source[source_id]["title"]))

    second = sync()
    assert second.writes == 0
    assert second.metadata["unchanged"] == 194
    assert judge() == []
    assert all(second.checks.values()), second.checks


def test_changes_upstream_make_exactly_those_writes(sync, store, catalog, judge):
    sync.cold()
    before = store.ours(PRODUCT_FIELDS)
    priced = catalog.mutate("price", ids=[3, 4, 5])
    catalog.mutate(
        "move_category",
        ids=[6],
        category="audio" if before[6]["categories"][0]["handle"] != "audio" else "bakeware",
    )
    catalog.mutate("remove", ids=[7])
    added = catalog.mutate("add", count=2)

    run = sync()
    assert run.metadata["created"] == 2
    assert run.metadata["updated"] == 4
    assert run.metadata["archived"] == 1
    assert run.metadata["errors"] == 0
    assert judge() == []
    assert all(run.checks.values()), run.checks

    after = store.ours(PRODUCT_FIELDS)
    for change in priced["changes"]:
        assert store.usd(after[change["id"]]) == Decimal(str(change["new"]))
    assert after[7]["status"] == "draft"
    assert after[7]["metadata"]["sync_archived_at"]
    assert {c["id"] for c in added["changes"]} <= set(after)
    # Nothing else was rewritten: handles are stable.
    assert {k: p["handle"] for k, p in before.items()} == {
        k: p["handle"] for k, p in after.items() if k in before
    }
    assert sync().writes == 0

    catalog.reset()  # product 7 is back: republished
    back = sync()
    assert store.ours(PRODUCT_FIELDS)[7]["status"] == "published"
    assert back.metadata["updated"] >= 1
    assert judge() == []


def test_products_outside_our_namespace_are_never_touched(sync, store, catalog, judge):
    title = source_products(catalog)[0]["title"]
    taken = base_handle(1, title)
    options = [{"title": "Size", "values": ["M"]}]
    foreign = [
        store.post("/admin/products", {"title": title, "handle": taken, "options": options}),
        store.post(
            "/admin/products",
            {"title": "Mine", "handle": "mine", "external_id": "shopify:1", "options": options},
        ),
    ]
    foreign = [f["product"] for f in foreign]
    snapshot = store.snapshot_foreign()
    sync()
    assert judge(foreign=snapshot) == []
    products = {p["id"]: p for p in store.products()}
    for product in foreign:
        assert products[product["id"]]["handle"] == product["handle"]
        assert products[product["id"]]["title"] == product["title"]
        assert products[product["id"]]["status"] == product["status"]
    ours = store.ours()
    assert ours[1]["handle"] != taken and ours[1]["handle"].startswith(taken)


def test_bad_records_are_quarantined_and_the_rest_synced(sync, store, catalog, judge):
    catalog.mutate("corrupt", id=10, patch={"price": "free"})
    catalog.mutate("corrupt", id=11, patch={"title": {"$delete": True}})
    catalog.mutate("raw", record={"id": 9999, "title": "No price", "category": "audio"})
    run = sync()
    assert run.metadata["quarantined"] == 3
    assert run.metadata["created"] == 192
    assert run.checks["no_quarantined_records"] is False
    assert run.checks["every_source_product_present_once"] is True
    assert 10 not in store.ours() and 11 not in store.ours()
    assert judge(skip={10, 11, 9999}) == []


def test_targeted_sync_touches_only_the_given_ids(sync, store, catalog, judge):
    sync.cold()
    catalog.mutate("price", ids=[1, 2])
    run = sync(product_ids=[1])
    assert run.metadata["updated"] == 1 and run.metadata["unchanged"] == 0
    assert run.metadata["archived"] == 0
    ours = store.ours(PRODUCT_FIELDS)
    prices = {p["id"]: Decimal(str(p["price"])) for p in source_products(catalog)}
    assert store.usd(ours[1]) == prices[1]
    assert store.usd(ours[2]) != prices[2]
    assert [(d.source_id, d.what) for d in judge()] == [(2, "price")]


def test_dry_run_writes_nothing(sync, store, judge):
    run = sync(dry_run=True)
    assert run.metadata["created"] == 194  # planned
    assert store.ours() == {}
    assert_nothing_written(judge())


def assert_nothing_written(differences) -> None:
    """The judge finds every product missing, and nothing else wrong."""
    missing = [d.source_id for d in differences if d.what == "missing"]
    assert missing == list(range(1, 195))
    assert {d.what for d in differences} == {"missing"}, differences


def test_wrong_api_key_fails_fast_without_writes_or_leaks(sync, store, capfd, judge):
    run = sync(api_key="sk_wrong_0123456789", raise_on_error=False)
    assert not run.result.success
    failure = next(e for e in run.result.all_events if e.is_step_failure)
    message = failure.step_failure_data.error.to_string()
    assert "rejected the API key" in message
    assert "sk_wrong_0123456789" not in str([e.message for e in run.result.all_events])
    assert "sk_wrong_0123456789" not in capfd.readouterr().err
    assert store.ours() == {}
    assert_nothing_written(judge())


def test_larger_batches_and_concurrent_writers_give_the_same_store(sync, judge):
    run = sync(batch_size=50, write_concurrency=2)
    assert run.metadata["created"] == 194
    assert judge() == []
    assert all(run.checks.values()), run.checks


def test_images_are_copied_into_the_store_once(sync, store, catalog, judge):
    first = sync(upload_images=True)
    assert first.metadata["images_uploaded"] > 0
    assert first.metadata["images_failed"] == 0
    assert judge(copied_images=True) == []
    assert all(first.checks.values()), first.checks
    ours = store.ours("id,external_id,thumbnail,images.url,metadata")
    source = {p["id"]: p for p in source_products(catalog)}
    product = ours[5]
    urls = [i["url"] for i in product["images"]] + [product["thumbnail"]]
    assert all("/static/" in u for u in urls), urls
    served = requests.get(product["images"][0]["url"], timeout=10)
    original = requests.get(source[5]["images"][0], timeout=10)
    assert served.status_code == 200 and served.content == original.content

    second = sync(upload_images=True)
    assert second.metadata["images_uploaded"] == 0
    assert second.writes == 0

    catalog.mutate("images", ids=[5])  # same URLs, new bytes
    third = sync(upload_images=True)
    assert third.metadata["images_uploaded"] >= 1
    assert third.metadata["updated"] >= 1
    changed = store.ours("id,external_id,images.url,metadata")[5]
    assert changed["images"][0]["url"] != product["images"][0]["url"]
    assert judge(copied_images=True) == []
    assert all(third.checks.values()), third.checks
