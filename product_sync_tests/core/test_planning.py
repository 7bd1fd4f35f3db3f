import copy
from dataclasses import replace
from decimal import Decimal

import pytest

from product_sync.core import ownership
from product_sync.core.categories import StoreCategory, plan_categories
from product_sync.core.mapping import ARCHIVED_KEY, HASH_KEY, to_medusa_product
from product_sync.core.models import SourceProduct
from product_sync.core.ownership import OwnershipPolicy
from product_sync.core.planning import IndexedProduct, ProductIndex, plan_sync
from product_sync_tests.factories import product, record

PREFIX = "dummyjson:"
CATEGORIES = {"beauty": "pcat_beauty", "laptops": "pcat_laptops"}


def indexed(
    src,
    *,
    handle=None,
    status="published",
    archived=False,
    content_hash=None,
    price=None,
    pid=None,
    policy=None,
    **store,
):
    """What the index holds for a product this pipeline created from `src`, as the store
    holds it now: `status`, `price` and `store` (payload keys: title, …) as edited there."""
    handle = handle or f"handle-{src.id}"
    written = ownership.for_create(
        to_medusa_product(
            src,
            handle=handle,
            external_id_prefix=PREFIX,
            category_id=CATEGORIES.get(src.category),
            sales_channel_id="sc",
        ),
        policy or OwnershipPolicy(),
    )
    row = {**copy.deepcopy(written), "status": status, **store}
    if archived:
        row["metadata"][ARCHIVED_KEY] = "2024-01-01T00:00:00+00:00"
    if price is not None:
        row["variants"][0]["prices"] = [{"amount": float(price), "currency_code": "usd"}]
    return IndexedProduct(
        id=pid or f"prod_{src.id}",
        source_id=src.id,
        handle=handle,
        status=status,
        content_hash=written["metadata"][HASH_KEY] if content_hash is None else content_hash,
        category_id=CATEGORIES.get(src.category),
        variant_id=f"variant_{src.id}",
        sku=written["variants"][0]["sku"],
        barcode=written["variants"][0]["barcode"],
        price=src.price if price is None else price,
        archived=archived,
        field_record=ownership.pack_record(ownership.parse_record(written["metadata"])),
        edits=ownership.store_edits(row),
    )


def plan(source, index_items=(), **kwargs):
    index = ProductIndex.build(PREFIX, index_items)
    kwargs.setdefault("sales_channel_id", "sc")
    return plan_sync(source, index, CATEGORIES, **kwargs)


def test_cold_store_creates_everything():
    source = [product(id=i, title=f"P {i}") for i in (1, 2, 3)]
    result = plan(source)
    assert [c.source_id for c in result.creates] == [1, 2, 3]
    assert [c.handle for c in result.creates] == ["p-1", "p-2", "p-3"]
    assert not result.updates and not result.archives


def test_unchanged_products_are_not_written():
    source = [product(id=i) for i in (1, 2)]
    result = plan(source, [indexed(p) for p in source])
    assert result.unchanged == [1, 2]
    assert not (result.creates or result.updates or result.archives or result.duplicate_repairs)


# Every field the store holds from the source, one at a time: each change alone must plan
# an update. The index entries are written from the old record, so a content hash that
# left a field out (or did not depend on the content at all) would plan nothing.
WRITTEN_FIELDS = {
    "title": "Renamed Mascara",
    "description": "Now waterproof.",
    "category": "laptops",
    "images": ["https://cdn.example.test/beauty/new/1.png"],
    "thumbnail": "https://cdn.example.test/beauty/new/thumbnail.png",
    "tags": ["beauty"],
    "brand": "Other Brand",
    "sku": "OTHER-SKU",
    "weight": 3,
    "dimensions": {"width": 1.0, "height": 2.0, "depth": 3.0},
    "rating": 4.1,
    "discountPercentage": 1.5,
    "warrantyInformation": "No warranty",
    "shippingInformation": "Ships tomorrow",
    "availabilityStatus": "Out of Stock",
    "returnPolicy": "No returns",
    "minimumOrderQuantity": 1,
}
# Fields the product itself does not hold (stock lives in inventory levels, reviews nowhere).
NOT_WRITTEN = {"stock": 77, "reviews": []}


@pytest.mark.parametrize("field", list(WRITTEN_FIELDS))
def test_a_change_to_any_written_field_alone_is_an_update(field):
    old = product(id=1)
    new = product(id=1, **{field: WRITTEN_FIELDS[field]})
    result = plan([new], [indexed(old)])
    assert [u.source_id for u in result.updates] == [1], field
    assert result.unchanged == []


@pytest.mark.parametrize("field", list(NOT_WRITTEN))
def test_a_change_the_product_does_not_hold_is_no_write(field):
    old = product(id=1)
    new = product(id=1, **{field: NOT_WRITTEN[field]})
    assert plan([new], [indexed(old)]).unchanged == [1]


def test_the_same_record_read_again_in_another_key_order_is_unchanged():
    written = product(id=1)
    again = SourceProduct.model_validate(dict(reversed(list(record(id=1).items()))))
    assert plan([again], [indexed(written)]).unchanged == [1]


def test_a_stored_hash_that_is_not_this_content_is_an_update():
    src = product(id=1)
    for stored in ("", "0" * 32, "stale"):
        assert [u.source_id for u in plan([src], [indexed(src, content_hash=stored)]).updates] == [
            1
        ], stored


def test_changed_product_is_updated_with_its_existing_handle_and_variant():
    old = product(id=1, price=9.99)
    new = product(id=1, price=10.49)
    result = plan([new], [indexed(old, handle="keep-me")])
    (update,) = result.updates
    assert update.payload["id"] == "prod_1"
    assert update.handle == "keep-me" and "handle" not in update.payload
    assert update.payload["variants"][0]["id"] == "variant_1"
    assert update.payload["variants"][0]["prices"][0]["amount"] == 10.49


def test_hand_edited_price_in_the_store_is_put_right():
    src = product(id=1)
    result = plan([src], [indexed(src, price=Decimal("1.00"))])
    assert [u.source_id for u in result.updates] == [1]


def test_archived_product_that_returns_is_republished():
    src = product(id=1)
    result = plan([src], [indexed(src, status="draft", archived=True)])
    (update,) = result.updates
    assert update.payload["status"] == "published"
    assert update.payload["metadata"]["sync_archived_at"] is None


def test_products_removed_upstream_are_archived():
    source = [product(id=i) for i in range(1, 11)]
    result = plan(source[:-1], [indexed(p) for p in source])
    assert [a.source_id for a in result.archives] == [10]
    assert result.archive_blocked_reason is None


def test_guardrail_blocks_mass_archive():
    source = [product(id=i) for i in range(1, 11)]
    result = plan(source[:5], [indexed(p) for p in source])
    assert result.archives == []
    assert "5 of 10" in result.archive_blocked_reason


def test_targeted_sync_never_archives():
    source = [product(id=i) for i in range(1, 11)]
    result = plan(source[:1], [indexed(p) for p in source], full_catalog=False)
    assert result.archives == [] and result.archive_blocked_reason is None


def test_quarantined_products_are_not_archived():
    source = [product(id=i) for i in range(1, 11)]
    result = plan(source[:-1], [indexed(p) for p in source], quarantined_ids={10})
    assert result.archives == []


def test_already_archived_products_are_not_archived_again():
    source = [product(id=i) for i in range(1, 11)]
    items = [indexed(p) for p in source[:-1]] + [indexed(source[-1], status="draft", archived=True)]
    assert plan(source[:-1], items).archives == []


def test_new_product_never_takes_a_handle_in_use():
    existing = product(id=1, title="Lamp Red")
    new = product(id=2, title="Lamp & Red")
    result = plan(
        [existing, new], [indexed(existing, handle="lamp-red")], taken_handles={"lamp-red-1"}
    )
    assert [c.handle for c in result.creates] == ["lamp-red-2"]


def test_a_barcode_another_record_holds_is_dropped_not_the_product():
    a, twin = product(id=1), record(id=2)
    twin["meta"]["barcode"] = a.meta.barcode
    b = SourceProduct.model_validate(twin)
    result = plan([b, a])
    assert [c.source_id for c in result.creates] == [1, 2]
    assert not result.quarantined
    barcodes = [c.payload["variants"][0]["barcode"] for c in result.creates]
    assert barcodes == [a.meta.barcode, None]
    (dropped,) = result.identifiers_dropped
    assert (dropped.source_id, dropped.field, dropped.held_by) == (2, "barcode", 1)
    assert dropped.value == a.meta.barcode


def test_duplicate_skus_in_the_source_are_quarantined():
    a, b = product(id=1, sku="SAME"), product(id=2, sku="SAME")
    result = plan([a, b])
    assert [c.source_id for c in result.creates] == [1]
    assert result.quarantined[0].source_id == 2
    assert "SAME" in result.quarantined[0].reason


def test_duplicates_in_the_store_are_planned_for_retirement():
    src = product(id=1)
    original, copy = indexed(src, pid="prod_a"), indexed(src, pid="prod_b", handle="other")
    result = plan([src], [original, copy])
    assert result.unchanged == [1]
    assert [d.id for d in result.duplicate_repairs] == ["prod_b"]


def test_unknown_category_keeps_the_existing_link():
    src = product(id=1, category="laptops")
    item = indexed(src)
    result = plan_sync([src], ProductIndex.build(PREFIX, [item]), {}, sales_channel_id="sc")
    assert result.unchanged == [1]


def test_category_move_is_an_update():
    before, after = product(id=1, category="beauty"), product(id=1, category="laptops")
    (update,) = plan([after], [indexed(before)]).updates
    assert update.payload["categories"] == [{"id": "pcat_laptops"}]


def test_plan_is_deterministic():
    source = [product(id=i, title="Same Title") for i in (5, 3, 9)]
    assert plan(source) == plan(list(reversed(source)))


def test_category_plan_matches_by_handle_creates_and_renames():
    store = [StoreCategory(id="pcat_1", handle="beauty", name="Old Name")]
    result = plan_categories(["beauty", "home-decoration", "beauty"], {"beauty": "Beauty"}, store)
    assert result.existing == {"beauty": "pcat_1"}
    assert result.rename == [{"id": "pcat_1", "name": "Beauty"}]
    assert result.create == [{"name": "Home Decoration", "handle": "home-decoration"}]


def test_stock_plan_writes_only_differences():
    from product_sync.core.inventory import plan_stock

    result = plan_stock({"i1": 5, "i2": 0, "i3": 7}, {"i1": 5, "i2": 3, "i3": None}, "sloc")
    assert result.unchanged == 1
    assert result.update == [
        {"inventory_item_id": "i2", "location_id": "sloc", "stocked_quantity": 0}
    ]
    assert [c["inventory_item_id"] for c in result.create] == ["i3"]


def test_products_written_without_the_shipping_profile_are_mended_once():
    source = [product(id=i) for i in (1, 2)]
    # What an earlier version wrote: no profile, so a hash without it.
    before = [indexed(p) for p in source]
    mend = plan(source, before, shipping_profile_id="sp_default")
    assert [u.source_id for u in mend.updates] == [1, 2] and not mend.creates
    assert {u.payload["shipping_profile_id"] for u in mend.updates} == {"sp_default"}

    after = [
        replace(i, content_hash=u.payload["metadata"][HASH_KEY])
        for i, u in zip(before, mend.updates, strict=True)
    ]
    again = plan(source, after, shipping_profile_id="sp_default")
    assert again.unchanged == [1, 2] and not (again.creates or again.updates)


def test_new_products_get_the_shipping_profile_and_the_backorder_setting():
    (create,) = plan([product(id=1)], shipping_profile_id="sp_1", allow_backorder=True).creates
    assert create.payload["shipping_profile_id"] == "sp_1"
    assert create.payload["variants"][0]["allow_backorder"] is True
