import pickle

from product_sync.core.catalog import SourceCatalog, validate_page
from product_sync.core.planning import ProductIndex, plan_sync
from product_sync_tests.factories import product, record


def test_pages_become_one_catalog_with_the_first_copy_of_a_repeated_id():
    first = validate_page([record(id=1, title="Old"), record(id=2), record(id=3, price="x")])
    second = validate_page([record(id=2, title="Later copy"), record(id=3), "junk"])
    catalog = SourceCatalog.from_pages([first, second])
    assert [p.id for p in catalog.products] == [1, 2, 3]
    assert catalog.products[1].title == record(id=2)["title"] != "Later copy"
    assert catalog.product_count == 3
    assert catalog.duplicate_ids == [2]  # id 3 had one valid copy
    # Id 3 was refused on page one but valid on page two: not lost, not quarantined.
    assert [q.reason for q in catalog.quarantined] == ["record is not a JSON object"]


def test_a_catalog_streams_its_products_as_often_as_asked_and_pickles_small():
    catalog = SourceCatalog.from_pages(
        validate_page([record(id=i) for i in range(start, start + 50)]) for start in (1, 51)
    )
    view = catalog.products_view
    assert [p.id for p in view] == [p.id for p in view] == list(range(1, 101))
    restored = pickle.loads(pickle.dumps(catalog))
    assert restored.products == catalog.products
    assert len(pickle.dumps(catalog)) < len(pickle.dumps(catalog.products))


def test_a_catalog_built_from_products_keeps_the_first_of_each_id_in_id_order():
    catalog = SourceCatalog(products=[product(id=5), product(id=2, title="A"), product(id=2)])
    assert [(p.id, p.title) for p in catalog.products] == [(2, "A"), (5, product(id=5).title)]


def test_planning_reads_the_catalog_as_a_stream_and_gives_the_same_plan():
    products = [product(id=i, title=f"Lamp {i % 3}") for i in range(1, 40)]
    catalog = SourceCatalog.from_pages(
        validate_page([record(id=i, title=f"Lamp {i % 3}") for i in ids])
        for ids in (range(20, 40), range(1, 20))  # pages out of id order
    )
    index = ProductIndex(external_id_prefix="dummyjson:")
    from_list = plan_sync(products, index, {}, sales_channel_id=None)
    from_view = plan_sync(catalog.products_view, index, {}, sales_channel_id=None)
    assert from_view == from_list
    assert [c.handle for c in from_view.creates[:4]] == ["lamp-1", "lamp-2", "lamp-0", "lamp-1-1"]
