"""The stock step: which inventory items it sets, and which requests it needs for that."""

import json
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import responses

from product_sync.core.catalog import SourceCatalog
from product_sync.core.planning import IndexedProduct, PlannedWrite, ProductIndex, SyncPlan
from product_sync.resources.http import HTTPError
from product_sync.resources.medusa import MedusaResource
from product_sync.sync import StockAhead, StockItems, read_stock_ahead, stock_items, sync_stock
from product_sync_tests.factories import product

STORE = "http://store.test"
PREFIX = "dummyjson:"
LOCATIONS = f"{STORE}/admin/stock-locations"
ITEMS = f"{STORE}/admin/inventory-items"
LEVELS = f"{STORE}/admin/inventory-items/location-levels/batch"
PRODUCTS = f"{STORE}/admin/products"


def medusa():
    return MedusaResource(
        backend_url=STORE, api_key="sk_x", initial_backoff_s=0, max_backoff_s=0, max_retries=1
    )


def catalog(*stocks):
    """Products 1..n with the given stock each."""
    return SourceCatalog(
        products=[product(id=n, stock=s, sku=f"S-{n}") for n, s in enumerate(stocks, 1)]
    )


def indexed(source_id, item=None):
    return IndexedProduct(
        id=f"prod_{source_id}",
        source_id=source_id,
        handle=f"h-{source_id}",
        status="published",
        inventory_item_id=item,
    )


def write(source_id):
    return PlannedWrite(
        source_id=source_id, external_id=f"{PREFIX}{source_id}", handle=f"h-{source_id}", payload={}
    )


def test_items_come_from_the_index_and_the_write_answers():
    source = catalog(1, 2, 3, 4, 5, 6)
    index = ProductIndex.build(
        PREFIX, [indexed(1, "iitem_1"), indexed(2, "iitem_2_old"), indexed(5)]
    )
    plan = SyncPlan(
        unchanged=[1, 5],
        updates=[write(2)],
        creates=[write(3), write(4)],  # 4's create timed out: no answer names its item
    )  # 6 was refused at planning: never created, not in the store
    answers = {f"{PREFIX}2": "iitem_2", f"{PREFIX}3": "iitem_3"}
    items = stock_items(source, index, plan, answers)
    assert items.known == {1: "iitem_1", 2: "iitem_2", 3: "iitem_3"}
    assert items.unknown == [4, 5]


def _location(rsps):
    rsps.get(
        LOCATIONS,
        json={"stock_locations": [{"id": "sloc", "name": "DummyJSON Warehouse"}]},
    )


def _levels(rsps, held):
    """Answer level lookups by id from `held` (item id -> quantity at sloc); returns the
    list of the ids each lookup asked for, filled as they come."""
    asked = []

    def answer(request):
        ids = parse_qs(urlsplit(request.url).query)["id[]"]
        asked.append(ids)
        rows = [
            {
                "id": i,
                "location_levels": [{"location_id": "sloc", "stocked_quantity": held[i]}]
                if i in held
                else [],
            }
            for i in ids
        ]
        return 200, {}, json.dumps({"inventory_items": rows})

    rsps.add_callback(responses.GET, ITEMS, callback=answer)
    return asked


def _written(rsps):
    return [json.loads(c.request.body) for c in rsps.calls if c.request.url == LEVELS]


@responses.activate
def test_known_items_are_set_without_listing_the_store_s_products():
    _location(responses)
    _levels(responses, {"iitem_1": 5, "iitem_2": 0})
    responses.post(LEVELS, json={})
    items = StockItems(known={1: "iitem_1", 2: "iitem_2", 3: "iitem_3"})
    report = sync_stock(catalog(5, 7, 9), medusa(), None, items)
    assert report.error is None
    assert report.stock_updated == 2 and report.stock_unchanged == 1
    assert not [c for c in responses.calls if c.request.url.startswith(PRODUCTS)]
    assert _written(responses) == [
        {
            "create": [
                {"inventory_item_id": "iitem_3", "location_id": "sloc", "stocked_quantity": 9}
            ]
        },
        {
            "update": [
                {"inventory_item_id": "iitem_2", "location_id": "sloc", "stocked_quantity": 7}
            ]
        },
    ]


@responses.activate
def test_a_stock_change_alone_is_written_although_the_product_is_unchanged():
    _location(responses)
    _levels(responses, {"iitem_1": 5})
    responses.post(LEVELS, json={})
    report = sync_stock(catalog(4), medusa(), None, StockItems(known={1: "iitem_1"}))
    assert report.stock_updated == 1
    assert _written(responses) == [
        {"update": [{"inventory_item_id": "iitem_1", "location_id": "sloc", "stocked_quantity": 4}]}
    ]


@responses.activate
def test_unknown_items_alone_are_looked_up_by_external_id():
    _location(responses)
    responses.get(
        PRODUCTS,
        json={
            "products": [
                {
                    "id": "prod_2",
                    "external_id": f"{PREFIX}2",
                    "variants": [{"inventory_items": [{"inventory_item_id": "iitem_2"}]}],
                }
            ]
        },
    )
    _levels(responses, {"iitem_1": 1, "iitem_2": 2})
    report = sync_stock(
        catalog(1, 2), medusa(), None, StockItems(known={1: "iitem_1"}, unknown=[2])
    )
    assert report.error is None and report.stock_unchanged == 2
    (lookup,) = [c for c in responses.calls if c.request.url.startswith(PRODUCTS)]
    assert parse_qs(urlsplit(lookup.request.url).query)["external_id[]"] == [f"{PREFIX}2"]


@responses.activate
def test_a_refused_level_write_plans_again_from_a_listing_of_our_products():
    # The index named an item deleted since: creating its level is refused.
    _location(responses)
    _levels(responses, {})
    responses.post(LEVELS, status=400, json={"type": "not_found", "message": "no such item"})
    responses.get(
        PRODUCTS,
        json={
            "products": [
                {
                    "id": "prod_1",
                    "external_id": f"{PREFIX}1",
                    "variants": [{"inventory_items": [{"inventory_item_id": "iitem_new"}]}],
                }
            ],
            "count": 1,
        },
    )
    responses.post(LEVELS, json={})
    report = sync_stock(catalog(3), medusa(), None, StockItems(known={1: "iitem_gone"}))
    assert report.error is None and report.stock_updated == 1
    assert _written(responses)[-1]["create"][0]["inventory_item_id"] == "iitem_new"


def _done(value=None, error=None):
    future = Future()
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
    return future


@responses.activate
def test_location_and_levels_read_ahead_are_used_and_only_new_items_read_after():
    asked = _levels(responses, {})
    responses.post(LEVELS, json={})
    ahead = StockAhead(
        locations=[{"id": "sloc", "sales_channels": [{"id": "sc"}]}], levels={"iitem_1": 5}
    )
    items = StockItems(known={1: "iitem_1", 2: "iitem_new"})
    report = sync_stock(catalog(5, 3), medusa(), "sc", items, _done(ahead))
    assert report.error is None and report.stock_unchanged == 1 and report.stock_updated == 1
    assert asked == [["iitem_new"]]
    assert not [c for c in responses.calls if c.request.url.startswith(LOCATIONS)]


@responses.activate
def test_items_made_by_this_run_s_creates_are_not_asked_for_levels():
    asked = _levels(responses, {})
    responses.post(LEVELS, json={})
    ahead = StockAhead(locations=[{"id": "sloc", "sales_channels": [{"id": "sc"}]}], levels={})
    items = StockItems(
        known={1: "iitem_1", 2: "iitem_new", 3: "iitem_updated"}, created={"iitem_new"}
    )
    report = sync_stock(catalog(5, 3, 4), medusa(), "sc", items, _done(ahead))
    assert report.error is None and report.stock_updated == 3
    assert sorted(asked[0]) == ["iitem_1", "iitem_updated"] and len(asked) == 1
    assert _written(responses)[0]["create"][1] == {
        "inventory_item_id": "iitem_new",
        "location_id": "sloc",
        "stocked_quantity": 3,
    }


@responses.activate
def test_at_a_location_made_by_this_run_no_level_is_read():
    responses.get(LOCATIONS, json={"stock_locations": []})
    responses.post(LOCATIONS, json={"stock_location": {"id": "sloc_new"}})
    responses.post(f"{LOCATIONS}/sloc_new/sales-channels", json={})
    responses.post(LEVELS, json={})
    ahead = StockAhead(locations=[], levels={})
    items = StockItems(known={1: "iitem_1", 2: "iitem_2"})
    report = sync_stock(catalog(5, 0), medusa(), "sc", items, _done(ahead))
    assert report.error is None and report.stock_updated == 2
    assert not [c for c in responses.calls if c.request.url.startswith(ITEMS + "?")]
    assert [lvl["location_id"] for lvl in _written(responses)[0]["create"]] == ["sloc_new"] * 2


@responses.activate
def test_a_failed_read_ahead_is_read_again_after_the_writes():
    _location(responses)
    _levels(responses, {"iitem_1": 5})
    ahead = _done(error=HTTPError("GET", "/admin/stock-locations", 503, "busy"))
    report = sync_stock(catalog(5), medusa(), None, StockItems(known={1: "iitem_1"}), ahead)
    assert report.error is None and report.stock_unchanged == 1


@responses.activate
def test_read_ahead_reads_the_location_then_the_levels_of_the_index_s_items():
    _location(responses)
    asked = _levels(responses, {})
    index = ProductIndex.build(
        PREFIX, [indexed(1, "iitem_1"), indexed(2), indexed(9, "iitem_9_not_in_source")]
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = read_stock_ahead(catalog(1, 2), index, medusa(), pool).result()
    assert ahead.locations[0]["id"] == "sloc"
    assert ahead.levels == {"iitem_1": None} and asked == [["iitem_1"]]
