import json

import pytest
import requests
import responses
from responses import matchers

from product_sync.resources.medusa import FilterIgnored, MedusaResource, StoreRejected

BASE = "http://medusa.test"
BATCH = f"{BASE}/admin/products/batch"


def medusa(**kwargs):
    kwargs.setdefault("batch_size", 4)
    return MedusaResource(
        backend_url=BASE, api_key="sk_test_key", initial_backoff_s=0, max_backoff_s=0, **kwargs
    )


def item(n, bad=False):
    return {"external_id": f"dummyjson:{n}", "handle": f"h-{n}", "title": "x", "bad": bad}


def batch_callback(request):
    body = json.loads(request.body)
    items = body.get("create") or body.get("update")
    if any(i.get("bad") for i in items):
        return 400, {}, json.dumps({"type": "invalid_data", "message": "bad one"})
    return 200, {}, json.dumps({"created": [], "updated": []})


@responses.activate
def test_rejected_batch_is_bisected_down_to_the_bad_record():
    responses.add_callback(responses.POST, BATCH, callback=batch_callback)
    responses.get(f"{BASE}/admin/products", json={"products": [], "count": 0})
    items = [item(n, bad=(n == 6)) for n in range(1, 9)]
    report = medusa().write_products(items, [])
    assert report.created == 7
    assert report.error_count == 1
    assert report.errors[0].external_ids == ["dummyjson:6"]
    assert "bad one" in report.errors[0].message


@responses.activate
def test_batches_follow_batch_size():
    responses.add_callback(responses.POST, BATCH, callback=batch_callback)
    report = medusa(batch_size=3).write_products([item(n) for n in range(1, 8)], [])
    assert report.created == 7
    sizes = [len(json.loads(c.request.body)["create"]) for c in responses.calls]
    assert sizes == [3, 3, 1]


@responses.activate
def test_timed_out_create_is_looked_up_before_it_is_sent_again():
    responses.post(BATCH, body=requests.ReadTimeout("slow"))
    # The timed-out request landed for product 1 only.
    responses.get(
        f"{BASE}/admin/products",
        json={"products": [{"id": "prod_1", "external_id": "dummyjson:1"}], "count": 1},
    )
    responses.post(BATCH, json={"created": []})
    report = medusa().write_products([item(1), item(2)], [])
    assert report.created == 1 and report.recovered == 1 and report.error_count == 0
    resent = json.loads(responses.calls[-1].request.body)["create"]
    assert [i["external_id"] for i in resent] == ["dummyjson:2"]


@responses.activate
def test_batch_failing_after_retries_is_counted_and_the_run_goes_on():
    responses.post(BATCH, status=503, json={"message": "down"})
    responses.get(f"{BASE}/admin/products", json={"products": [], "count": 0})
    report = medusa(max_retries=1).write_products([], [{"id": "prod_1"}, {"id": "prod_2"}])
    assert report.updated == 0 and report.error_count == 2


@responses.activate
def test_refused_create_of_a_product_that_exists_counts_as_recovered():
    responses.post(BATCH, status=400, json={"type": "invalid_data", "message": "handle exists"})
    responses.get(
        f"{BASE}/admin/products",
        json={"products": [{"id": "p", "external_id": "dummyjson:1"}], "count": 1},
    )
    report = medusa().write_products([item(1)], [])
    assert report.recovered == 1 and report.error_count == 0


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
def test_rejected_key_fails_fast_with_a_clear_message_and_no_secret():
    responses.get(f"{BASE}/admin/stores", status=401, json={"message": "Unauthorized"})
    with pytest.raises(StoreRejected) as error:
        medusa().default_sales_channel_id()
    assert "MEDUSA_API_KEY" in str(error.value)
    assert "sk_test_key" not in str(error.value)
    assert len(responses.calls) == 1


@responses.activate
def test_key_is_sent_as_basic_auth_username():
    responses.get(f"{BASE}/admin/stores", json={"stores": [{"default_sales_channel_id": "sc"}]})
    assert medusa().default_sales_channel_id() == "sc"
    auth = responses.calls[0].request.headers["Authorization"]
    assert auth.startswith("Basic ")


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


def _level_row(item_id, **quantities):
    levels = [{"location_id": loc, "stocked_quantity": q} for loc, q in quantities.items()]
    return {"id": item_id, "location_levels": levels}


@responses.activate
def test_few_stock_levels_are_asked_for_by_id():
    responses.get(
        f"{BASE}/admin/inventory-items",
        json={"inventory_items": [_level_row("i1", sloc=5, other=9), _level_row("i2", other=1)]},
    )
    levels = medusa().stock_levels("sloc", ["i1", "i2"])
    assert levels == {"i1": 5, "i2": None}
    assert "id%5B%5D=i1" in responses.calls[0].request.url


@responses.activate
def test_many_stock_levels_are_read_as_a_paged_listing_of_the_location():
    wanted = [f"i{n}" for n in range(1100)]  # 11 lookups cost more than 2 pages
    # 2100 rows at the location over two pages: ours (i1099 has no level there) and others.
    stocked = [_level_row(f"i{n}", sloc=n) for n in range(1099)] + [_level_row("foreign", sloc=1)]
    others = [_level_row(f"x{n}", sloc=0) for n in range(1000)]
    responses.get(
        f"{BASE}/admin/inventory-items",
        match=[matchers.query_param_matcher({"limit": "0"}, strict_match=False)],
        json={"inventory_items": [], "count": 2100},
    )
    responses.get(
        f"{BASE}/admin/inventory-items",
        json={"inventory_items": stocked + others[:900], "count": 2100},
    )
    responses.get(
        f"{BASE}/admin/inventory-items",
        json={"inventory_items": others[900:], "count": 2100},
    )
    levels = medusa().stock_levels("sloc", wanted)
    assert levels == {**{f"i{n}": n for n in range(1099)}, "i1099": None}
    assert len(responses.calls) == 3  # a count, two pages
    first = responses.calls[1].request.url
    assert "location_levels%5Blocation_id%5D=sloc" in first and "offset=0" in first
    assert "offset=2000" in responses.calls[2].request.url


@responses.activate
def test_stock_levels_of_a_part_of_a_large_location_are_asked_for_by_id():
    responses.get(
        f"{BASE}/admin/inventory-items",
        match=[matchers.query_param_matcher({"limit": "0"}, strict_match=False)],
        json={"inventory_items": [], "count": 100_000},
    )
    responses.get(
        f"{BASE}/admin/inventory-items",
        json={"inventory_items": [_level_row(f"i{n}", sloc=1) for n in range(100)]},
    )
    responses.get(
        f"{BASE}/admin/inventory-items",
        json={"inventory_items": [_level_row(f"i{n}", sloc=1) for n in range(100, 150)]},
    )
    levels = medusa().stock_levels("sloc", [f"i{n}" for n in range(150)])
    assert levels == {f"i{n}": 1 for n in range(150)}
    assert "id%5B%5D=i0" in responses.calls[1].request.url


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


@responses.activate
def test_a_product_medusa_names_as_the_cause_is_set_aside_without_bisecting():
    def named_callback(request):
        items = json.loads(request.body)["create"]
        if any(i["handle"] == "h-6" for i in items):
            message = "Product with handle: h-6, already exists."
            return 400, {}, json.dumps({"type": "invalid_data", "message": message})
        return 200, {}, json.dumps({"created": []})

    responses.add_callback(responses.POST, BATCH, callback=named_callback)
    responses.get(f"{BASE}/admin/products", json={"products": [], "count": 0})
    report = medusa(batch_size=8).write_products([item(n) for n in range(1, 9)], [])
    assert report.created == 7
    assert [e.external_ids for e in report.errors] == [["dummyjson:6"]]
    posts = [
        json.loads(c.request.body)["create"] for c in responses.calls if c.request.method == "POST"
    ]
    assert [len(p) for p in posts] == [8, 7]  # bisecting would have sent 8, 4, 4, 2, 2, 1, 1
