import json
import threading
from urllib.parse import parse_qs, urlsplit

import responses
from responses import matchers

from product_sync_tests.resources.medusa.support import (
    BASE,
    LOCATIONS,
    medusa,
)


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
    wanted = [f"i{n}" for n in range(2600)]  # 11 lookups of 250 cost more than 2 pages
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
    assert levels == {
        **{f"i{n}": n for n in range(1099)},
        **{f"i{n}": None for n in range(1099, 2600)},
    }
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
    assert [len(a) for a in asked] == [250, 200]  # long chunks: a range's 10k in 40


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
