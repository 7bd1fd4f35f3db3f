"""Changes at the edges, end to end on the real store, judged by the independent reader:
a price to 0 and back, stock to 0, the archive guardrail exactly at and just over its
limit, unarchiving, a renamed category, a move into a brand-new category, image URLs
that change or go away."""

from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests

from devstack.catalog import catalog as catalog_module
from devstack.catalog.server import CatalogServer
from product_sync_tests.e2e.conftest import serve_catalog

pytestmark = pytest.mark.e2e

COUNT = 20  # small, and a round number for the guardrail: 4 of 20 is exactly 20 %
FIELDS = (
    "id,handle,external_id,status,thumbnail,images.url,categories.id,categories.handle,"
    "variants.prices.amount,variants.prices.currency_code,"
    "variants.inventory_items.inventory_item_id,metadata"
)
DELETE = {"$delete": True}


@pytest.fixture
def catalog() -> Iterator[CatalogServer]:
    with serve_catalog(COUNT) as server:
        yield server


def source(catalog) -> dict[int, dict]:
    listed = requests.get(f"{catalog.base_url}/products", params={"limit": 0}, timeout=30)
    return {p["id"]: p for p in listed.json()["products"]}


def test_price_to_zero_and_back(sync, store, catalog, judge):
    sync.cold()
    (change,) = catalog.mutate("price", ids=[3], value=0)["changes"]
    assert change["old"] > 0

    free = sync()
    assert (free.metadata["updated"], free.metadata["errors"]) == (1, 0)
    assert store.usd(store.ours(FIELDS)[3]) == 0
    assert judge() == []
    assert all(free.checks.values()), free.checks

    catalog.mutate("price", ids=[3], value=change["old"])
    back = sync()
    assert (back.metadata["updated"], back.metadata["errors"]) == (1, 0)
    assert store.usd(store.ours(FIELDS)[3]) == Decimal(str(change["old"]))
    assert judge() == []
    assert all(back.checks.values()), back.checks


def test_stock_to_zero(sync, store, catalog, judge):
    sync.cold()
    in_stock = next(k for k, p in sorted(source(catalog).items()) if p["stock"] >= 10)
    assert source(catalog)[in_stock]["availabilityStatus"] == "In Stock"
    catalog.mutate("stock", ids=[in_stock], value=0)  # the catalog says "Out of Stock" too

    run = sync()
    assert run.metadata["stock_updated"] == 1
    assert run.metadata["updated"] == 1  # the availability in its metadata changed
    product = store.ours(FIELDS)[in_stock]
    assert product["metadata"]["availability_status"] == "Out of Stock"
    (location,) = store.stock_locations()
    item = product["variants"][0]["inventory_items"][0]["inventory_item_id"]
    assert store.stock_levels(location["id"])[item] == 0
    assert judge() == []
    assert all(run.checks.values()), run.checks
    assert sync().writes == 0


def test_archive_guardrail_at_its_boundary_then_unarchive(sync, store, catalog, judge):
    sync.cold()
    # Just over: 5 of 20 (25 %) would go. Nothing is archived, and the run says why.
    catalog.mutate("remove", ids=[1, 2, 3, 4, 5])
    over = sync()
    assert over.metadata["archived"] == 0 and over.metadata["archive_blocked"] == 1
    reason = over.result.output_for_node("synced_products").archive_blocked_reason
    assert "5 of 20" in reason and "max_archive_fraction" in reason and "archived none" in reason
    assert [(d.source_id, d.what) for d in judge()] == [
        (n, "published, not in the source") for n in (1, 2, 3, 4, 5)
    ]
    assert {store.ours()[n]["status"] for n in (1, 2, 3, 4, 5)} == {"published"}

    # Exactly at: 4 of 20 (20 %) go, all of them.
    catalog.reset()
    catalog.mutate("remove", ids=[1, 2, 3, 4])
    at = sync()
    assert at.metadata["archived"] == 4 and at.metadata["archive_blocked"] == 0
    assert at.result.output_for_node("synced_products").archive_blocked_reason is None
    assert judge() == []  # archived: draft, with the flag
    archived = store.ours(FIELDS)
    for n in (1, 2, 3, 4):
        assert archived[n]["status"] == "draft" and archived[n]["metadata"]["sync_archived_at"]

    # Back in the source: published again, and the flag is gone.
    catalog.reset()
    back = sync()
    assert back.metadata["updated"] == 4 and back.metadata["archived"] == 0
    assert judge() == []
    again = store.ours(FIELDS)
    for n in (1, 2, 3, 4):
        assert again[n]["status"] == "published"
        assert again[n]["metadata"]["sync_archived_at"] is None
    assert sync().writes == 0


def test_category_renamed_and_a_move_into_a_brand_new_category(
    sync, store, catalog, judge, monkeypatch
):
    sync.cold()
    before = store.ours(FIELDS)
    slug = before[6]["categories"][0]["handle"]
    category_id = before[6]["categories"][0]["id"]
    named = catalog_module.category_name

    def renamed(value: str) -> str:
        return f"{named(value)} & More" if value == slug else named(value)

    # The catalog server runs in this process: its category listing now says the new name.
    monkeypatch.setattr(catalog_module, "category_name", renamed)
    mover = next(k for k, p in sorted(before.items()) if p["categories"][0]["handle"] != slug)
    catalog.mutate("move_category", ids=[mover], category="brand-new-shelf")

    run = sync()
    assert (run.metadata["categories_renamed"], run.metadata["categories_created"]) == (1, 1)
    assert run.metadata["updated"] == 1  # the mover; a rename rewrites no product
    assert judge() == []  # names, links and the mover's new category
    names = {c["handle"]: c["name"] for c in store.categories()}
    assert names[slug] == f"{named(slug)} & More"
    assert names["brand-new-shelf"] == "Brand New Shelf"
    after = store.ours(FIELDS)
    assert [c["id"] for c in after[6]["categories"]] == [category_id]  # same category
    assert [c["handle"] for c in after[mover]["categories"]] == ["brand-new-shelf"]
    assert all(run.checks.values()), run.checks
    assert sync().writes == 0


def test_image_urls_change_and_images_go_away(sync, store, catalog, judge):
    sync.cold()
    several = [k for k, p in sorted(source(catalog).items()) if len(p["images"]) >= 2]
    moved, fewer, none = several[:3]
    (change,) = catalog.mutate("images", ids=[moved], mode="urls")["changes"]
    kept = source(catalog)[fewer]["images"][:1]
    catalog.mutate("corrupt", id=fewer, patch={"images": kept})
    catalog.mutate("corrupt", id=none, patch={"images": [], "thumbnail": DELETE})

    run = sync()
    assert (run.metadata["updated"], run.metadata["errors"]) == (3, 0)
    assert judge() == []
    ours = store.ours(FIELDS)
    assert sorted(i["url"] for i in ours[moved]["images"]) == sorted(
        source(catalog)[moved]["images"]
    )
    assert ours[moved]["thumbnail"] in change["urls"]
    assert [i["url"] for i in ours[fewer]["images"]] == kept
    assert ours[none]["images"] == [] and ours[none]["thumbnail"] is None
    assert all(run.checks.values()), run.checks
    assert sync().writes == 0
