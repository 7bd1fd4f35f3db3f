import pytest
import responses
from responses import matchers

from product_sync.resources.medusa import (
    FilterIgnored,
)
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
    responses.get(f"{BASE}/admin/products", json={"products": page1, "count": 3})
    responses.get(f"{BASE}/admin/products", json={"products": page2, "count": 3})
    items = list(medusa().index("dummyjson:"))
    assert [(i.id, i.source_id, str(i.price)) for i in items] == [("p1", 1, "9.99")]
    assert len(responses.calls) == 2


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
    ids = [f"dummyjson:{n}" for n in range(1, 1001)]  # 10 lookups
    assert [p["id"] for p in medusa().products_by_external_id(ids)] == ["p1"]
    assert medusa().handles_in_use(f"h-{n}" for n in range(1000)) == {"h-1", "h-2"}
    assert len(responses.calls) == 4  # a count and one page, twice
