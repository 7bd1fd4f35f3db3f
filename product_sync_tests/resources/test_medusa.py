import json
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from product_sync.resources.medusa import (
    FilterIgnored,
    MedusaResource,
    StoreRejected,
    indexed_product,
)

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


LOCATIONS = f"{BASE}/admin/stock-locations"


@responses.activate
def test_existing_stock_location_left_unlinked_by_a_crash_is_linked_now():
    # A run died between creating the location and linking it to the sales channel.
    responses.get(
        LOCATIONS,
        json={"stock_locations": [{"id": "sloc_1", "name": "W", "sales_channels": []}]},
    )
    link = responses.post(f"{LOCATIONS}/sloc_1/sales-channels", json={"stock_location": {}})
    assert medusa().ensure_stock_location("W", "sc_1") == "sloc_1"
    assert link.call_count == 1
    assert json.loads(link.calls[0].request.body) == {"add": ["sc_1"]}


@responses.activate
def test_linked_stock_location_is_used_as_is():
    responses.get(
        LOCATIONS,
        json={"stock_locations": [{"id": "sloc_1", "name": "W", "sales_channels": [{"id": "sc"}]}]},
    )
    assert medusa().ensure_stock_location("W", "sc") == "sloc_1"
    assert len(responses.calls) == 1


@responses.activate
def test_missing_stock_location_is_created_and_linked():
    responses.get(LOCATIONS, json={"stock_locations": []})
    responses.post(LOCATIONS, json={"stock_location": {"id": "sloc_2"}})
    link = responses.post(f"{LOCATIONS}/sloc_2/sales-channels", json={"stock_location": {}})
    assert medusa().ensure_stock_location("W", "sc") == "sloc_2"
    assert link.call_count == 1


@responses.activate
def test_refused_batch_whose_products_exist_is_not_split_but_looked_up_once():
    # A concurrent run created products 1 and 3 first: the batch is refused (their handles
    # are taken); one lookup finds them and only 2 and 4 are sent again, in one request.
    refused = {"type": "invalid_data", "message": "Product with handle: h-1, already exists."}
    responses.post(BATCH, status=400, json=refused)
    responses.post(BATCH, json={"created": []})
    landed = [
        {"id": "p1", "external_id": "dummyjson:1"},
        {"id": "p3", "external_id": "dummyjson:3"},
    ]
    responses.get(f"{BASE}/admin/products", json={"products": landed, "count": 2})
    report = medusa().write_products([item(n) for n in range(1, 5)], [])
    assert (report.created, report.recovered, report.error_count) == (2, 2, 0)
    posts = [c for c in responses.calls if c.request.method == "POST"]
    assert len(posts) == 2
    assert [i["external_id"] for i in json.loads(posts[1].request.body)["create"]] == [
        "dummyjson:2",
        "dummyjson:4",
    ]


@responses.activate
def test_two_runs_creating_the_stock_location_at_once_keep_the_oldest():
    # Medusa does not keep names unique: the other run created one a moment earlier.
    responses.get(LOCATIONS, json={"stock_locations": []})
    responses.post(LOCATIONS, json={"stock_location": {"id": "sloc_mine"}})
    both = [
        {"id": "sloc_mine", "name": "W", "created_at": "2026-01-01T00:00:00.200Z"},
        {"id": "sloc_theirs", "name": "W", "created_at": "2026-01-01T00:00:00.100Z"},
    ]
    responses.get(LOCATIONS, json={"stock_locations": both})
    dropped = responses.delete(f"{LOCATIONS}/sloc_mine", json={"deleted": True})
    link = responses.post(f"{LOCATIONS}/sloc_theirs/sales-channels", json={})
    assert medusa().ensure_stock_location("W", "sc") == "sloc_theirs"
    assert dropped.call_count == 1 and link.call_count == 1


@pytest.mark.parametrize(
    "key", ["sk_\u2026pasted", "sk_abc\n", "sk_abc\u00a0", "", "sk_a b", "sk_\x07"]
)
@responses.activate
def test_unusable_key_fails_before_any_request_naming_the_setting_not_the_key(key):
    resource = MedusaResource(backend_url=BASE, api_key=key)
    with pytest.raises(StoreRejected) as error:
        resource.default_sales_channel_id()
    assert "MEDUSA_API_KEY" in str(error.value)
    if key.strip():
        assert key.strip() not in str(error.value)
    assert len(responses.calls) == 0


def update_item(pid, vid, price=9.99):
    variant = {"id": vid, "sku": "S", "manage_inventory": True, "prices": []}
    variant["prices"] = [{"amount": price, "currency_code": "usd"}]
    return {"id": pid, "external_id": "dummyjson:1", "variants": [variant]}


INVENTORY = f"{BASE}/admin/inventory-items"


@responses.activate
def test_update_that_medusa_could_not_apply_to_a_half_created_variant_recreates_it():
    # Killed mid-create, Medusa left variant v1 without a price set: a batch update answers
    # 200 yet drops the prices. The variant is deleted and created anew (prices + item).
    half = {"id": "p1", "variants": [{"id": "v1", "inventory_items": [{"inventory_item_id": "i"}]}]}
    half["external_id"] = "dummyjson:1"
    responses.post(BATCH, json={"updated": [half]})
    responses.get(INVENTORY, json={"inventory_items": [{"id": "i", "sku": "S", "variants": [{}]}]})
    deleted = responses.delete(f"{BASE}/admin/products/p1/variants/v1", json={"deleted": True})
    created = responses.post(f"{BASE}/admin/products/p1/variants", json={"product": {}})
    report = medusa().write_products([], [update_item("p1", "v1")])
    assert (report.updated, report.repaired, report.error_count) == (1, 1, 0)
    assert report.inventory_items == {}  # the answer named the variant deleted since
    assert deleted.call_count == 1 and created.call_count == 1
    body = json.loads(created.calls[0].request.body)
    assert "id" not in body and "inventory_items" not in body
    assert body["prices"] == [{"amount": 9.99, "currency_code": "usd"}]


@responses.activate
def test_update_refused_for_a_left_over_inventory_item_rebuilds_the_variant_with_it():
    # Killed mid-create: the variant has neither prices nor its inventory item, which
    # exists unlinked, so the update is refused. The variant is rebuilt around that item,
    # then the rest of the update is sent again.
    refused = {"type": "invalid_data", "message": "Inventory item with sku: S, already exists."}
    responses.post(BATCH, status=400, json=refused)
    responses.post(BATCH, json={"updated": []})
    responses.get(
        f"{BASE}/admin/products/p1", json={"product": {"id": "p1", "variants": [{"id": "v1"}]}}
    )
    responses.get(
        INVENTORY, json={"inventory_items": [{"id": "iitem_x", "sku": "S", "variants": []}]}
    )
    deleted = responses.delete(f"{BASE}/admin/products/p1/variants/v1", json={"deleted": True})
    created = responses.post(f"{BASE}/admin/products/p1/variants", json={"product": {}})
    report = medusa().write_products([], [update_item("p1", "v1")])
    assert (report.updated, report.repaired, report.error_count) == (1, 1, 0)
    assert deleted.call_count == 1
    assert json.loads(created.calls[0].request.body)["inventory_items"] == [
        {"inventory_item_id": "iitem_x", "required_quantity": 1}
    ]
    resent = json.loads(responses.calls[-1].request.body)["update"]
    assert resent == [{"id": "p1", "external_id": "dummyjson:1"}]


@responses.activate
def test_update_applied_in_full_needs_no_repair():
    whole = {
        "id": "p1",
        "variants": [
            {
                "id": "v1",
                "prices": [{"amount": 9.99, "currency_code": "usd"}],
                "inventory_items": [{"inventory_item_id": "i"}],
            }
        ],
    }
    responses.post(BATCH, json={"updated": [whole]})
    report = medusa().write_products([], [update_item("p1", "v1"), {"id": "p2", "status": "draft"}])
    assert (report.updated, report.repaired) == (2, 0)
    assert len(responses.calls) == 1


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


def _levels_by_id(asked_log=None, together=None):
    """Answer level lookups by id: every asked item has 1 at sloc."""

    def answer(request):
        query = parse_qs(urlsplit(request.url).query)
        if together is not None:
            together.wait()
        if asked_log is not None:
            asked_log.append(query["id[]"])
        rows = [_level_row(i, sloc=1) for i in query["id[]"]]
        return 200, {}, json.dumps({"inventory_items": rows})

    return answer


@responses.activate
def test_stock_levels_of_a_part_of_a_large_location_are_asked_for_by_id():
    responses.get(
        f"{BASE}/admin/inventory-items",
        match=[matchers.query_param_matcher({"limit": "0"}, strict_match=False)],
        json={"inventory_items": [], "count": 100_000},
    )
    asked = []
    responses.add_callback(
        responses.GET, f"{BASE}/admin/inventory-items", callback=_levels_by_id(asked)
    )
    levels = medusa().stock_levels("sloc", [f"i{n}" for n in range(450)])
    assert levels == {f"i{n}": 1 for n in range(450)}
    assert "limit=0" in responses.calls[0].request.url
    assert [len(a) for a in asked] == [100, 100, 100, 100, 50]


@responses.activate
def test_a_few_hundred_stock_levels_are_looked_up_at_once_without_a_count():
    # Two lookups that only answer once both are in flight: one after the other would
    # break the barrier.
    asked = []
    responses.add_callback(
        responses.GET,
        f"{BASE}/admin/inventory-items",
        callback=_levels_by_id(asked, threading.Barrier(2, timeout=10)),
    )
    levels = medusa().stock_levels("sloc", [f"i{n}" for n in range(194)])
    assert levels == {f"i{n}": 1 for n in range(194)}
    assert sorted(len(a) for a in asked) == [94, 100]
    assert not [c for c in responses.calls if "limit=0" in c.request.url]


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


def test_a_variant_with_two_usd_prices_has_no_price_in_the_index():
    # Left by two runs updating one product at once: planning must rewrite the prices.
    product = {
        "id": "p1",
        "external_id": "dummyjson:1",
        "handle": "a",
        "status": "published",
        "variants": [
            {
                "id": "v1",
                "prices": [
                    {"amount": 9.99, "currency_code": "usd"},
                    {"amount": 9.99, "currency_code": "usd"},
                    {"amount": 8, "currency_code": "eur"},
                ],
            }
        ],
    }
    assert indexed_product("dummyjson:", product).price is None
    product["variants"][0]["prices"].pop(0)
    assert str(indexed_product("dummyjson:", product).price) == "9.99"


def _answer(pid, ext_id, item_id):
    return {
        "id": pid,
        "external_id": ext_id,
        "variants": [{"id": f"v-{pid}", "inventory_items": [{"inventory_item_id": item_id}]}],
    }


@responses.activate
def test_write_answers_name_the_inventory_items_of_created_and_updated_products():
    def answer(request):
        body = json.loads(request.body)
        fields = request.params["fields"]
        assert "variants.inventory_items.inventory_item_id" in fields
        created = [
            _answer(f"p{i['external_id']}", i["external_id"], f"item-{i['external_id']}")
            for i in body.get("create") or []
        ]
        updated = [
            {
                **_answer(u["id"], u["external_id"], f"item-{u['external_id']}"),
                "variants": [
                    {
                        "id": "v1",
                        "prices": [{"amount": 9.99, "currency_code": "usd"}],
                        "inventory_items": [{"inventory_item_id": f"item-{u['external_id']}"}],
                    }
                ],
            }
            for u in body.get("update") or []
        ]
        return 200, {}, json.dumps({"created": created, "updated": updated})

    responses.add_callback(responses.POST, BATCH, callback=answer)
    update = update_item("p1", "v1")
    update["external_id"] = "dummyjson:10"
    report = medusa().write_products([item(1), item(2)], [update])
    assert report.inventory_items == {
        "dummyjson:1": "item-dummyjson:1",
        "dummyjson:2": "item-dummyjson:2",
        "dummyjson:10": "item-dummyjson:10",
    }


def test_index_holds_the_variant_s_inventory_item():
    listed = _answer("prod_1", "dummyjson:1", "iitem_1")
    listed.update(handle="h", status="published")
    assert indexed_product("dummyjson:", listed).inventory_item_id == "iitem_1"
    listed["variants"][0]["inventory_items"] = []
    assert indexed_product("dummyjson:", listed).inventory_item_id is None


PROFILES = f"{BASE}/admin/shipping-profiles"
STORE_PROFILES = [
    {"id": "sp_b", "name": "Bulky", "type": "custom"},
    {"id": "sp_a", "name": "Default Shipping Profile", "type": "default"},
]


@responses.activate
def test_products_get_the_stores_default_shipping_profile_unless_one_is_named():
    responses.get(PROFILES, json={"shipping_profiles": STORE_PROFILES, "count": 2})
    assert medusa().shipping_profile_id() == "sp_a"
    assert medusa(shipping_profile="Bulky").shipping_profile_id() == "sp_b"
    assert medusa(shipping_profile="sp_b").shipping_profile_id() == "sp_b"


@responses.activate
def test_a_store_without_a_default_profile_gives_none():
    responses.get(PROFILES, json={"shipping_profiles": STORE_PROFILES[:1], "count": 1})
    assert medusa().shipping_profile_id() is None


@responses.activate
def test_a_shipping_profile_setting_that_names_no_profile_fails_clearly():
    responses.get(PROFILES, json={"shipping_profiles": STORE_PROFILES, "count": 2})
    with pytest.raises(StoreRejected) as raised:
        medusa(shipping_profile="Fragile").shipping_profile_id()
    message = str(raised.value)
    assert "'Fragile'" in message and "'Bulky'" in message and "sk_test_key" not in message
