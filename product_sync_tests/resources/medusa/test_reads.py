from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers

from product_sync.core.links import ProductLinks
from product_sync.core.mapping import FIELDS_KEY
from product_sync.core.ownership import value_hash
from product_sync.resources.medusa import (
    FilterIgnored,
)
from product_sync.resources.medusa.rows import LISTING_FIELDS
from product_sync_tests.resources.medusa.support import (
    BASE,
    medusa,
)


@responses.activate
def test_ignored_filter_is_detected():
    # Medusa ignores unknown query params: if the filter did not apply, we get everything.
    responses.get(
        f"{BASE}/admin/products",
        json={"products": [{"id": "p9", "external_id": "someone-else"}], "count": 1},
    )
    with pytest.raises(FilterIgnored):
        medusa().products_by_external_id(["dummyjson:1"])


@responses.activate
def test_filter_is_sent_as_repeated_array_params():
    responses.get(
        f"{BASE}/admin/products",
        match=[
            matchers.query_param_matcher(
                {
                    "external_id[]": ["dummyjson:1", "dummyjson:2"],
                    "fields": "id,handle,external_id",
                    "limit": "8",
                }
            )
        ],
        json={"products": [], "count": 0},
    )
    assert medusa().products_by_external_id(["dummyjson:1", "dummyjson:2"]) == []


@responses.activate
def test_index_keeps_only_our_namespace_and_pages_through():
    page1 = [
        {
            "id": "p1",
            "external_id": "dummyjson:1",
            "handle": "a",
            "status": "published",
            "metadata": {"sync_hash": "h"},
            "variants": [{"id": "v1", "prices": [{"amount": 9.99, "currency_code": "usd"}]}],
        },
        {"id": "p2", "external_id": None, "handle": "b", "status": "published"},
    ]
    page2 = [{"id": "p3", "external_id": "other:3", "handle": "c", "status": "published"}]
    responses.get(f"{BASE}/admin/product-categories", json={"product_categories": [], "count": 0})
    responses.get(f"{BASE}/admin/product-tags", json={"product_tags": [], "count": 0})
    responses.get(f"{BASE}/admin/products", json={"products": page1, "count": 3})
    responses.get(f"{BASE}/admin/products", json={"products": page2, "count": 3})
    items = list(medusa().index("dummyjson:"))
    assert [(i.id, i.source_id, str(i.price)) for i in items] == [("p1", 1, "9.99")]
    assert len(responses.calls) == 4


def listed(product_id, source_id, recorded_category, recorded_tags=()):
    """A product row as the index listing has it, its category and tags recorded."""
    record = {
        "category": value_hash([recorded_category]),
        "tags": value_hash(sorted(recorded_tags)),
        "title": value_hash("A"),
    }
    return {
        "id": product_id,
        "external_id": f"dummyjson:{source_id}",
        "handle": f"h-{source_id}",
        "status": "published",
        "title": "A",
        "metadata": {FIELDS_KEY: record},
        "variants": [],
    }


@responses.activate
def test_index_reads_links_apart_and_sees_a_moved_category_and_a_removed_tag():
    """The links come from one listing of the categories and one of the tags, not a
    join in every product row; a product the merchant moved to another category, or
    took a tag from, shows the edit."""
    categories = responses.get(
        f"{BASE}/admin/product-categories",
        json={
            "product_categories": [
                {"id": "pcat_1", "products": [{"id": "p1"}]},
                {"id": "pcat_2", "products": [{"id": "p2"}, {"id": "p3"}]},
            ],
            "count": 2,
        },
    )
    tags = responses.get(
        f"{BASE}/admin/product-tags",
        json={"product_tags": [{"id": "ptag_1", "products": [{"id": "p1"}]}], "count": 1},
    )
    rows = [
        listed("p1", 1, "pcat_1", ["ptag_1"]),
        listed("p2", 2, "pcat_1"),
        listed("p3", 3, "pcat_2", ["ptag_1"]),
    ]
    listing = responses.get(f"{BASE}/admin/products", json={"products": rows, "count": 3})
    kept, moved, untagged = medusa().index("dummyjson:")
    assert kept.edits is None
    assert set(moved.edits) == {"category"} and moved.edits["category"].shown == "pcat_2"
    assert set(untagged.edits) == {"tags"}
    fields = parse_qs(urlsplit(listing.calls[0].request.url).query)["fields"][0]
    assert "categories" not in fields and "tags" not in fields
    assert categories.call_count == 1 and tags.call_count == 1


@responses.activate
def test_a_part_of_the_store_is_read_by_its_external_ids_in_long_chunks():
    """600 ids: 3 lookups (not 6 of 100), none of them a listing of the whole store;
    links given by the caller are not read again, and a product they do not name (made
    after they were read) has its categories looked up."""
    responses.get(
        f"{BASE}/admin/products",
        match=[matchers.query_param_matcher({"limit": "0", "fields": "id"})],
        json={"products": [], "count": 100_000},
    )
    found = responses.get(
        f"{BASE}/admin/products",
        match=[
            matchers.query_param_matcher(
                {"external_id[]": [f"dummyjson:{n}" for n in range(501, 601)]},
                strict_match=False,
            )
        ],
        json={"products": [listed("p1", 501, "pcat_1"), listed("p9", 502, "pcat_1")]},
    )
    fresh = responses.get(
        f"{BASE}/admin/products",
        match=[matchers.query_param_matcher({"id[]": "p9"}, strict_match=False)],
        json={"products": [{"id": "p9", "categories": [{"id": "pcat_1"}], "tags": []}]},
    )
    lookups = responses.get(
        f"{BASE}/admin/products",
        match=[matchers.query_param_matcher({"fields": LISTING_FIELDS}, strict_match=False)],
        json={"products": [], "count": 0},
    )
    links = ProductLinks.of({"categories": [("pcat_1", ["p1"]), ("pcat_2", ["p4"])]})
    ids = [f"dummyjson:{n}" for n in range(1, 601)]
    items = medusa().index_of("dummyjson:", ids, links)
    assert [(i.id, i.edits) for i in items] == [("p1", None), ("p9", None)]
    assert lookups.call_count + found.call_count == 3 and fresh.call_count == 1
    sizes = [
        len(parse_qs(urlsplit(c.request.url).query).get("external_id[]", []))
        for c in responses.calls
    ]
    assert sizes == [0, 250, 250, 100, 0]
    assert all(len(c.request.url) < 12_000 for c in responses.calls)


@responses.activate
def test_many_lookups_in_an_empty_store_cost_one_count():
    responses.get(
        f"{BASE}/admin/products",
        match=[matchers.query_param_matcher({"limit": "0", "fields": "id"})],
        json={"products": [], "count": 0},
    )
    ids = [f"dummyjson:{n}" for n in range(1, 301)]
    assert medusa().products_by_external_id(ids) == []
    assert medusa().handles_in_use(f"h-{n}" for n in range(300)) == set()
    assert len(responses.calls) == 2


@responses.activate
def test_lookups_that_fit_one_request_are_sent_without_counting_the_store_first():
    """A batch's handle check (up to 250 handles) costs one lookup: a count before it
    cost as much again (a cold 10k range counted the store ~100 times)."""
    responses.get(f"{BASE}/admin/products", json={"products": [], "count": 0})
    assert medusa().handles_in_use(f"h-{n}" for n in range(250)) == set()
    (call,) = responses.calls
    assert len(parse_qs(urlsplit(call.request.url).query)["handle[]"]) == 250


@responses.activate
def test_many_lookups_in_a_small_store_read_the_listing_instead():
    stored = [
        {"id": "p1", "handle": "h-1", "external_id": "dummyjson:1"},
        {"id": "p2", "handle": "h-2", "external_id": "other:2"},
        {"id": "p3", "handle": "h-5000", "external_id": "dummyjson:5000"},
    ]
    responses.get(
        f"{BASE}/admin/products",
        match=[matchers.query_param_matcher({"limit": "0", "fields": "id"})],
        json={"products": [], "count": 3},
    )
    responses.get(f"{BASE}/admin/products", json={"products": stored, "count": 3})
    ids = [f"dummyjson:{n}" for n in range(1, 2001)]  # 8 lookups
    assert [p["id"] for p in medusa().products_by_external_id(ids)] == ["p1"]
    assert medusa().handles_in_use(f"h-{n}" for n in range(2000)) == {"h-1", "h-2"}
    assert len(responses.calls) == 4  # a count and one page, twice
