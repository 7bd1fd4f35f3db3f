"""The journal of sale prices, and what a revert of them writes (pure)."""

from __future__ import annotations

from decimal import Decimal

from product_sync.core.sale_journal import (
    SaleListEntry,
    SalePriceChange,
    amount_text,
    created_prices,
    list_changes,
    merge_entries,
    plan_sale_revert,
    prices_by_variant,
)
from product_sync.core.sale_prices import HeldPrice


def held(price_id: str, variant: str, amount: str) -> HeldPrice:
    return HeldPrice(id=price_id, variant_id=variant, amount=Decimal(amount), currency_code="usd")


def usd(amount: str) -> list[list[str]]:
    return [["usd", amount]]


def test_amounts_compare_by_value_not_by_how_they_are_written():
    assert amount_text(Decimal("9.00")) == amount_text(9) == amount_text("9.0") == "9"
    assert amount_text(Decimal("100")) == "100"  # not 1E+2
    assert amount_text(8.75) == "8.75"


def test_the_changes_are_the_variants_whose_prices_differ_with_both_sides():
    before = prices_by_variant([held("p1", "v1", "8.75"), held("p2", "v2", "9.00")])
    after = {"v1": usd("8"), "v2": usd("9"), "v3": usd("7.5")}
    changes = list_changes(before, after, {"v1": 1, "v3": 3})
    assert [(c.variant_id, c.source_id, c.before, c.after) for c in changes] == [
        ("v1", 1, usd("8.75"), usd("8")),
        ("v3", 3, [], usd("7.5")),
    ]


def test_a_revert_puts_each_variant_back_reusing_its_price():
    entry = SaleListEntry(
        price_list_id="pl",
        prices=list_changes(
            {"v1": usd("8.75"), "v2": usd("9")}, {"v1": usd("8"), "v3": usd("7")}, {}
        ),
    )
    now = [held("p1", "v1", "8.00"), held("p3", "v3", "7")]
    revert = plan_sale_revert(entry, now)
    assert revert.action == "write"
    assert revert.writes.update == [
        {"id": "p1", "variant_id": "v1", "amount": 8.75, "currency_code": "usd"}
    ]
    assert revert.writes.create == [{"variant_id": "v2", "amount": 9, "currency_code": "usd"}]
    assert revert.writes.delete == ["p3"]
    assert revert.verdicts == {"v1": "revert", "v2": "revert", "v3": "revert"}


def test_prices_back_at_their_state_before_are_done_and_others_changed_since():
    entry = SaleListEntry(
        price_list_id="pl",
        prices=[
            SalePriceChange(variant_id="v1", before=usd("8.75"), after=usd("8")),
            SalePriceChange(variant_id="v2", source_id=2, before=[], after=usd("5")),
        ],
    )
    now = [held("p1", "v1", "8.75"), held("p2", "v2", "4.50")]  # v2 edited since
    revert = plan_sale_revert(entry, now)
    assert revert.verdicts == {"v1": "done", "v2": "changed"}
    assert revert.action == "none" and [c.variant_id for c in revert.changed] == ["v2"]
    forced = plan_sale_revert(entry, now, force=True)
    assert forced.writes.delete == ["p2"] and forced.action == "write"


def test_a_write_of_unknown_outcome_is_reverted_unless_already_back():
    entry = SaleListEntry(
        price_list_id="pl",
        prices=[SalePriceChange(variant_id="v1", before=usd("8.75"), after=None)],
    )
    assert plan_sale_revert(entry, [held("p1", "v1", "1")]).verdicts == {"v1": "revert"}
    assert plan_sale_revert(entry, [held("p1", "v1", "8.75")]).verdicts == {"v1": "done"}


def test_a_list_the_run_created_is_deleted_unless_prices_were_added_to_it_since():
    entry = SaleListEntry(
        price_list_id="pl",
        created=True,
        prices=[SalePriceChange(variant_id="v1", before=[], after=usd("8"))],
    )
    assert plan_sale_revert(entry, [held("p1", "v1", "8")]).action == "delete_list"
    added = plan_sale_revert(entry, [held("p1", "v1", "8"), held("p9", "v9", "1")])
    assert added.action == "none" and [c.variant_id for c in added.changed] == ["v9"]
    assert entry.prices[-1].variant_id == "v1"  # the journal itself is left as it was
    assert plan_sale_revert(entry, None).verdicts == {"v1": "done"}  # deleted already


def test_a_list_the_run_deleted_is_made_again_once_with_its_prices():
    entry = SaleListEntry(
        price_list_id="pl_old",
        deleted=True,
        prices=list_changes({"v1": usd("8.75"), "v2": usd("5")}, {}),
    )
    revert = plan_sale_revert(entry, None)
    assert revert.action == "create_list"
    assert created_prices(entry) == [
        {"variant_id": "v1", "amount": 8.75, "currency_code": "usd"},
        {"variant_id": "v2", "amount": 5, "currency_code": "usd"},
    ]
    again = plan_sale_revert(entry, None, restored=True)
    assert again.action == "none" and again.verdicts == {"v1": "done", "v2": "done"}


def test_a_list_written_into_that_is_gone_now_is_left_alone():
    entry = SaleListEntry(price_list_id="pl", prices=[SalePriceChange(variant_id="v1")])
    revert = plan_sale_revert(entry, None)
    assert revert.gone and revert.action == "none"


def test_the_parts_of_a_scaled_out_run_merge_into_one_entry_per_list():
    part_a = SaleListEntry(
        price_list_id="pl",
        created=True,
        prices=[SalePriceChange(variant_id="v1", after=usd("8"))],
    )
    part_b = SaleListEntry(
        price_list_id="pl", prices=[SalePriceChange(variant_id="v2", after=usd("5"))]
    )
    (merged,) = merge_entries([part_a, part_b])
    assert merged.created and [p.variant_id for p in merged.prices] == ["v1", "v2"]
    now = [held("p1", "v1", "8"), held("p2", "v2", "5")]
    assert plan_sale_revert(merged, now).action == "delete_list"
    assert part_a.prices == [SalePriceChange(variant_id="v1", after=usd("8"))]
