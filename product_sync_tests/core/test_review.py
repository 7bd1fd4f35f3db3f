from decimal import Decimal

from product_sync.core.journal import product_state
from product_sync.core.planning import ProductIndex, plan_sync
from product_sync.core.review import (
    Change,
    PlanHashes,
    PlanRecord,
    StockRow,
    action_keys,
    add_sale_rows,
    moved,
    plan_rows,
    sale_hashes,
    source_hashes,
    store_hashes,
)
from product_sync.core.sale_journal import SalePriceChange
from product_sync.core.sale_prices import HeldPrice
from product_sync_tests.core.test_journal import row
from product_sync_tests.core.test_planning import CATEGORIES, PREFIX, indexed
from product_sync_tests.factories import product


def planned(source, items):
    index = ProductIndex.build(PREFIX, items)
    plan = plan_sync(source, index, CATEGORIES, sales_channel_id="sc", max_archive_fraction=1)
    return plan, index


def store_row(src, **overrides):
    """The product `indexed(src)` stands for, as the store lists it."""
    variant = {**row()["variants"][0], "id": f"variant_{src.id}", "sku": src.sku}
    variant["prices"] = [{"amount": float(src.price), "currency_code": "usd"}]
    fields = {
        "id": f"prod_{src.id}",
        "title": src.title,
        "external_id": f"{PREFIX}{src.id}",
        "metadata": {"sync_hash": "old", "source_category": src.category},
        "variants": [variant],
    }
    return row(**{**fields, **overrides})


def test_rows_show_each_action_with_its_fields_old_to_new():
    kept, repriced, gone, back = (product(id=i) for i in (1, 2, 3, 4))
    items = [indexed(kept), indexed(gone), indexed(back, archived=True, status="draft")]
    items.append(indexed(repriced, price=Decimal("9.99")))
    source = [kept, product(id=2, price=12.5, title="Bigger"), back, product(id=5)]
    plan, index = planned(source, items)
    before = {
        "prod_2": product_state(store_row(repriced)),
        "prod_3": product_state(store_row(gone)),
        "prod_4": product_state(store_row(back, status="draft")),
    }
    stock = [
        StockRow(source_id=1, inventory_item_id="iitem_1", old=5, new=0),
        StockRow(source_id=2, inventory_item_id="iitem_2", old=5, new=6),
    ]
    rows = {(r.action, r.source_id): r for r in plan_rows(plan, index, before, stock)}
    assert set(rows) == {
        ("update", 2),
        ("unarchive", 4),
        ("archive", 3),
        ("create", 5),
        ("stock", 1),
    }
    update = rows[("update", 2)].headline()
    assert update["price"] == "9.99 → 12.50"
    assert update["title"] == f"{repriced.title} → Bigger"
    assert update["stock"] == "5 → 6" and update["status"] is None
    assert rows[("update", 2)].changed()[:3] == ["price", "title", "stock"]
    assert rows[("unarchive", 4)].headline()["status"] == "draft → published"
    assert rows[("archive", 3)].headline()["status"] == "published → draft"
    created = rows[("create", 5)].headline()
    assert created["price"] == "9.99" and created["category"] == "beauty"
    assert rows[("stock", 1)].headline()["stock"] == "5 → 0"
    assert action_keys(plan, index) == {r.key for r in rows.values() if r.action != "stock"}


def test_moved_lists_every_changed_added_and_removed_input():
    one, two = product(id=1), product(id=2)
    then = PlanHashes(
        source=source_hashes([one, two]),
        store=store_hashes(ProductIndex.build(PREFIX, [indexed(one)])),
        categories="c",
        settings="s",
    )
    assert moved(then, then) == []
    now = PlanHashes(
        source=source_hashes([product(id=1, price=1.0), product(id=3)]),
        store=store_hashes(ProductIndex.build(PREFIX, [indexed(one, status="draft")])),
        categories="c",
        settings="other",
    )
    found = {(m.part, m.key, m.change) for m in moved(then, now)}
    assert found == {
        ("source", "1", "changed"),
        ("source", "2", "removed"),
        ("source", "3", "added"),
        ("store", "1", "changed"),
        ("settings", "*", "changed"),
    }


def test_sale_price_changes_show_on_their_products_row_or_a_row_of_their_own():
    repriced, discounted = product(id=2, price=12.5), product(id=5)
    plan, index = planned([repriced, discounted], [indexed(product(id=2)), indexed(discounted)])
    rows = plan_rows(plan, index, {"prod_2": product_state(store_row(product(id=2)))})
    found = [
        SalePriceChange(variant_id="variant_2", source_id=2, before=[["usd", "8.75"]], after=[]),
        SalePriceChange(variant_id="variant_5", source_id=5, before=[], after=[["usd", "7.5"]]),
        SalePriceChange(variant_id="variant_9", source_id=None, after=[["usd", "1"]]),
    ]
    by_key = {r.key: r for r in add_sale_rows(rows, found, index)}
    update = by_key[("update", "2")]
    assert update.changes["sale_price.usd"] == Change(old=8.75, new=None)
    assert update.headline()["sale_price"] == "8.75 → —"
    assert "sale_price" in update.changed()
    only = by_key[("sale_price", "5")]
    assert (only.handle, only.product_id) == (indexed(discounted).handle, indexed(discounted).id)
    assert only.headline()["sale_price"] == "— → 7.50"
    record = PlanRecord(run_id="r", dry_run=True, rows=list(by_key.values()))
    assert record.action_keys() == {("update", "2")}  # a sale price is no product write


def test_a_sale_price_that_moved_is_listed_by_its_product():
    held = [
        HeldPrice(id="p1", variant_id="v1", amount=Decimal("8.75"), currency_code="usd"),
        HeldPrice(id="p2", variant_id="v2", amount=Decimal("5"), currency_code="usd"),
        HeldPrice(id="p3", variant_id="v_other", amount=Decimal("1"), currency_code="usd"),
    ]
    sources = {"v1": 1, "v2": 2}
    then = PlanHashes(sale_prices=sale_hashes(["pl"], held, sources))
    assert set(then.sale_prices) == {"1", "2", "lists"}  # out of scope: not hashed
    assert moved(then, PlanHashes(sale_prices=sale_hashes(["pl"], held[::-1], sources))) == []
    edited = HeldPrice(id="p1", variant_id="v1", amount=Decimal("8.70"), currency_code="usd")
    now = PlanHashes(sale_prices=sale_hashes(["pl", "pl2"], [edited], sources))
    found = {(m.part, m.key, m.change) for m in moved(then, now)}
    assert found == {
        ("sale_prices", "1", "changed"),
        ("sale_prices", "2", "removed"),
        ("sale_prices", "lists", "changed"),
    }
