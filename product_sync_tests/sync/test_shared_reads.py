"""The store-wide listings a scaled-out run reads once (`SharedReads`): what each range
gets from them."""

import pickle
from decimal import Decimal

import responses

from product_sync.core.ownership import IGNORE, OwnershipPolicy
from product_sync.core.ranges import IdRange
from product_sync.core.sale_prices import PRICE_LIST_KEY
from product_sync.defs.scale_out.jobs import RangeTask
from product_sync.resources.medusa import MedusaResource
from product_sync.sync.sale_prices import make_sale_list
from product_sync.sync.shared_reads import SharedReads
from product_sync_tests.sync.test_sale_prices import PREFIX, STORE

LOCATION = {"id": "sloc_1", "name": "DummyJSON Warehouse", "created_at": "2026-01-01"}


def medusa():
    return MedusaResource(
        backend_url=STORE, api_key="sk_x", initial_backoff_s=0, max_backoff_s=0, max_retries=0
    )


def serve_store(levels):
    """The stock location with `levels` (item -> quantity), and no categories or tags."""
    responses.get(f"{STORE}/admin/stock-locations", json={"stock_locations": [LOCATION]})
    rows = [
        {"id": item, "location_levels": [{"location_id": "sloc_1", "stocked_quantity": qty}]}
        for item, qty in levels.items()
    ]
    responses.get(
        f"{STORE}/admin/inventory-items",
        json={"inventory_items": rows, "count": len(rows), "offset": 0},
    )
    for route, key in (
        ("product-categories", "product_categories"),
        ("product-tags", "product_tags"),
    ):
        responses.get(f"{STORE}/admin/{route}", json={key: [], "count": 0, "offset": 0})


def test_a_range_gets_only_its_own_variants_prices_and_its_own_items_levels(store):
    ours = store.add_list({PRICE_LIST_KEY: PREFIX}, "2026-01-01T00:00:00Z")
    store.add_price(ours, "variant_1", "9.50")
    store.add_price(ours, "variant_2", "19.00")
    store.add_price(ours, "variant_3", "29.99")
    serve_store({"iitem_1": 4, "iitem_2": 0})

    shared = SharedReads.read(medusa(), OwnershipPolicy(), stock=True)

    sale = shared.sale_for({"variant_1", "variant_3"})
    assert sale.lists == [ours]
    assert {(p.variant_id, p.amount) for p in sale.held} == {
        ("variant_1", Decimal("9.50")),
        ("variant_3", Decimal("29.99")),
    }
    stock = shared.stock_for(["iitem_2", "iitem_9"])
    assert stock.locations[0]["id"] == "sloc_1"
    # An item the location holds no level for is known to have none (not read again).
    assert stock.levels == {"iitem_2": 0, "iitem_9": None}


def test_the_packed_reads_survive_the_trip_to_a_range_process(store):
    """Ranges get them through the IO manager (pickled by the filesystem one): what the
    range unpacks is what was read."""
    ours = store.add_list({PRICE_LIST_KEY: PREFIX}, "2026-01-01T00:00:00Z")
    store.add_price(ours, "variant_1", "0.10")
    serve_store({"iitem_1": 7})
    shared = SharedReads.read(medusa(), OwnershipPolicy(), stock=True)

    again = pickle.loads(pickle.dumps(shared))

    assert again.sale_for({"variant_1"}).held[0].amount == Decimal("0.10")
    assert again.stock_for(["iitem_1"]).levels == {"iitem_1": 7}


def test_without_a_list_yet_each_range_reads_for_itself(store):
    """On a first run one range makes the list; a range after it must find that list, not
    make a second one from a read taken before it existed."""
    serve_store({})
    shared = SharedReads.read(medusa(), OwnershipPolicy(), stock=True)
    assert shared.sale_for({"variant_1"}) is None


def test_what_the_sync_does_not_own_is_not_read(store):
    serve_store({"iitem_1": 1})
    shared = SharedReads.read(medusa(), OwnershipPolicy(sale_price=IGNORE), stock=False)
    assert shared.sale is None and shared.stock is None
    assert shared.sale_for({"variant_1"}) is None and shared.stock_for(["iitem_1"]) is None
    asked = {c.request.url.split("?")[0] for c in responses.calls}
    assert not any("price-lists" in url or "inventory" in url for url in asked)


def test_a_failed_read_is_left_to_the_ranges(store):
    serve_store({})
    responses.replace(
        responses.GET, f"{STORE}/admin/stock-locations", status=400, json={"message": "no"}
    )
    shared = SharedReads.read(medusa(), OwnershipPolicy(), stock=True)
    assert shared.stock is None and shared.stock_for(["iitem_1"]) is None


def test_a_first_run_makes_the_list_before_its_ranges_and_they_use_it_unread(store):
    """`id_ranges_op` makes the list on a first run, so the ranges get it (empty) from
    the shared reads instead of each reading what earlier ranges wrote into it."""
    made = make_sale_list(medusa())
    assert made is not None and made.created
    assert list(store.lists) == [made.price_list_id] and not store.prices
    serve_store({})
    shared = SharedReads.read(medusa(), OwnershipPolicy(), stock=False)
    sale = shared.sale_for({"variant_1"})
    assert sale.lists == [made.price_list_id] and sale.held == []


def test_a_list_already_there_is_not_made_again(store):
    ours = store.add_list({PRICE_LIST_KEY: PREFIX}, "2026-01-01T00:00:00Z")
    assert make_sale_list(medusa()) is None
    assert list(store.lists) == [ours]


def test_a_reexecuted_range_reads_sale_prices_and_stock_again_but_keeps_the_links(store):
    """Re-executed from failure, a range gets `id_ranges_op`'s reads from before its first
    attempt, which may have written sale prices and levels since: taken as they were,
    its sale prices would be created a second time."""
    ours = store.add_list({PRICE_LIST_KEY: PREFIX}, "2026-01-01T00:00:00Z")
    store.add_price(ours, "variant_1", "9.50")
    serve_store({"iitem_1": 4})
    shared = SharedReads.read(medusa(), OwnershipPolicy(), stock=True)
    task = RangeTask(
        id_range=IdRange(lo=1, hi=10), dry_run=False, max_archive_fraction=0.2, shared=shared
    )

    assert task.shared_reads(reexecuted=False) == shared
    again = task.shared_reads(reexecuted=True)
    assert again.links == shared.links
    assert again.sale_for({"variant_1"}) is None and again.stock_for(["iitem_1"]) is None
