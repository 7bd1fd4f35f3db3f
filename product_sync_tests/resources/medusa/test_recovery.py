import json

import requests
import responses

from product_sync_tests.resources.medusa.support import (
    BASE,
    BATCH,
    INVENTORY,
    item,
    medusa,
    update_item,
)


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
def test_refused_create_of_a_product_that_exists_counts_as_recovered():
    responses.post(BATCH, status=400, json={"type": "invalid_data", "message": "handle exists"})
    responses.get(
        f"{BASE}/admin/products",
        json={"products": [{"id": "p", "external_id": "dummyjson:1"}], "count": 1},
    )
    report = medusa().write_products([item(1)], [])
    assert report.recovered == 1 and report.error_count == 0


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
