import json

import responses

from product_sync_tests.resources.medusa.support import (
    BASE,
    BATCH,
    answered_product,
    item,
    medusa,
    update_item,
)


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
def test_batch_failing_after_retries_is_counted_and_the_run_goes_on():
    responses.post(BATCH, status=503, json={"message": "down"})
    responses.get(f"{BASE}/admin/products", json={"products": [], "count": 0})
    report = medusa(max_retries=1).write_products([], [{"id": "prod_1"}, {"id": "prod_2"}])
    assert report.updated == 0 and report.error_count == 2


@responses.activate
def test_write_answers_name_the_inventory_items_of_created_and_updated_products():
    def answer(request):
        body = json.loads(request.body)
        fields = request.params["fields"]
        assert "variants.inventory_items.inventory_item_id" in fields
        created = [
            answered_product(f"p{i['external_id']}", i["external_id"], f"item-{i['external_id']}")
            for i in body.get("create") or []
        ]
        updated = [
            {
                **answered_product(u["id"], u["external_id"], f"item-{u['external_id']}"),
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
