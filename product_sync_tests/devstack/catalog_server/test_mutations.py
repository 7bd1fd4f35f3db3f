"""Mutations and the control API over HTTP, and the control client."""

from __future__ import annotations

import pytest

from devstack.catalog import CatalogControl, ControlError
from product_sync_tests.devstack.catalog_server.calls import control, get, ids


def test_field_mutations_show_up_in_the_api(server):
    for op, field in [("price", "price"), ("stock", "stock"), ("title", "title")]:
        result = control(server, "mutate", {"op": op, "count": 3}).json()
        assert result["op"] == op and len(result["changes"]) == 3
        for change in result["changes"]:
            assert change["old"] != change["new"]
            assert get(server, f"/products/{change['id']}").json()[field] == change["new"]
    moved = control(server, "mutate", {"op": "move_category", "ids": [1], "category": "misc"})
    assert moved.json()["changes"] == [{"id": 1, "old": "audio", "new": "misc"}]
    assert ids(get(server, "/products/category/misc")) == [1]


def test_remove_and_add_change_total_and_listing(server):
    removed = control(server, "mutate", {"op": "remove", "ids": [5, 6]}).json()
    assert removed["total"] == 192
    assert get(server, "/products/5").status_code == 404
    added = control(server, "mutate", {"op": "add", "count": 2}).json()
    assert [c["id"] for c in added["changes"]] == [195, 196]
    body = get(server, "/products?skip=190").json()
    assert [p["id"] for p in body["products"]] == [193, 194, 195, 196]
    assert body["total"] == 194
    assert get(server, "/products/196").json()["category"] == added["changes"][1]["category"]


def test_corrupt_and_raw_records_for_quarantine_tests(server):
    patch = {"price": "abc", "brand": {"$delete": True}, "images": None}
    control(server, "mutate", {"op": "corrupt", "id": 8, "patch": patch})
    record = get(server, "/products/8").json()
    assert record["price"] == "abc" and record["images"] is None and "brand" not in record
    raw = {"id": 9999, "title": 12, "extra": [1, {"x": None}]}
    control(server, "mutate", {"op": "raw", "record": raw})
    last = get(server, "/products?skip=194").json()
    assert last["products"] == [raw] and last["total"] == 195
    assert control(server, "mutate", {"op": "raw", "record": "not even an object"}).ok
    assert get(server, "/products?skip=195").json()["products"] == ["not even an object"]


def test_bad_control_requests_are_400_and_state_reports_mutations(server):
    assert control(server, "mutate", {"op": "price", "ids": [4040]}).status_code == 400
    assert control(server, "mutate", {"op": "melt"}).status_code == 400
    assert control(server, "faults", {"rules": [{"kind": "boom"}]}).status_code == 400
    control(server, "mutate", {"op": "remove", "ids": [9]})
    state = get(server, "/__control/state").json()
    assert state["catalog"]["total"] == 193
    assert state["catalog"]["mutations"] == [{"seq": 0, "op": "remove", "ids": [9]}]


def test_reset_over_http_can_regenerate(server):
    control(server, "mutate", {"op": "remove", "count": 10})
    state = control(server, "reset", {"seed": 7, "count": 50}).json()
    assert state["catalog"]["total"] == 50 and state["catalog"]["seed"] == 7
    assert get(server, "/products").json()["total"] == 50
    control(server, "reset", {"seed": 42, "count": 194})


def test_control_client_drives_a_server(server):
    client = CatalogControl(server.base_url)
    assert client.mutate("remove", ids=[1])["total"] == 193
    client.set_faults([{"kind": "error", "statuses": [503]}])
    assert get(server, "/products").status_code == 503
    assert client.state()["faults"]["injected"]["error"] == 1
    client.clear_faults()
    with pytest.raises(ControlError):
        client.mutate("price", ids=[1])  # removed
    client.reset()
    assert get(server, "/products/1").status_code == 200
