from decimal import Decimal

import pytest

from product_sync.core.sale_prices import (
    HeldPrice,
    plan_sale_prices,
    sale_amount,
    wanted_sale_amounts,
)
from product_sync_tests.factories import product


@pytest.mark.parametrize(
    ("price", "discount", "expected"),
    [
        ("9.99", 12.5, "8.74"),  # 8.74125
        ("10.05", 50, "5.03"),  # 5.025: half-up, where half-even would give 5.02
        ("0.10", 15, "0.09"),  # 0.085
        ("40.39", 8, "37.16"),  # 37.1588
        ("19.99", 7.17, "18.56"),  # 18.556717
        ("100", 33.33, "66.67"),
        ("1", 0.5, None),  # 0.995 rounds back to the base price: no sale
        ("9.99", 0, None),
        ("9.99", None, None),
        ("9.99", -5, None),
        ("9.99", 100, None),
        ("9.99", 120, None),
        ("0", 10, None),
    ],
)
def test_sale_amount_is_the_discounted_price_rounded_half_up_to_the_cent(price, discount, expected):
    got = sale_amount(Decimal(price), discount)
    assert got == (Decimal(expected) if expected else None)
    if got is not None:
        assert got.as_tuple().exponent == -2


def test_the_discount_reads_as_its_decimal_text_not_its_binary_float():
    # 0.1 + 0.2 style drift would put 8.745 below the half and round it down.
    assert sale_amount(Decimal("9.99"), 12.46) == Decimal("8.75")  # 8.745246 -> 8.75
    assert sale_amount(Decimal("11.00"), 20.5) == Decimal("8.75")  # 8.745 exactly -> 8.75


def test_wanted_sale_amounts_need_a_variant_and_apply_on():
    products = [
        product(id=1, price=9.99, discountPercentage=12.5),
        product(id=2, price=5, discountPercentage=0),
        product(id=3, price=5, discountPercentage=10),  # no variant yet
    ]
    variants = {1: "variant_1", 2: "variant_2"}
    assert wanted_sale_amounts(products, variants) == {"variant_1": Decimal("8.74")}
    assert wanted_sale_amounts(products, variants, apply=False) == {}


def held(id_, variant, amount, currency="usd"):
    return HeldPrice(id=id_, variant_id=variant, amount=Decimal(amount), currency_code=currency)


def test_plan_creates_updates_and_deletes_to_match_the_wanted_prices():
    wanted = {"v1": Decimal("8.74"), "v2": Decimal("4.50"), "v3": Decimal("3")}
    store = [held("p1", "v1", "8.74"), held("p2", "v2", "4.75"), held("p4", "v4", "1.00")]
    plan = plan_sale_prices(wanted, store, {"v1", "v2", "v3", "v4"})
    assert plan.create == [{"variant_id": "v3", "amount": 3, "currency_code": "usd"}]
    assert plan.update == [{"id": "p2", "variant_id": "v2", "amount": 4.5, "currency_code": "usd"}]
    assert plan.delete == ["p4"]  # v4's discount was removed upstream
    assert plan.written == 2


def test_a_list_that_holds_the_wanted_prices_is_left_alone():
    wanted = {"v1": Decimal("8.74")}
    plan = plan_sale_prices(wanted, [held("p1", "v1", "8.740")], {"v1", "v2"})
    assert plan.is_noop


def test_prices_of_variants_outside_the_scope_are_never_touched():
    store = [held("p9", "v9", "1.00"), held("px", None, "2.00")]
    assert plan_sale_prices({}, store, {"v1"}).is_noop


def test_a_doubled_price_keeps_the_right_one_and_deletes_the_rest():
    store = [held("p1", "v1", "9.00"), held("p2", "v1", "8.74"), held("p3", "v1", "8.74")]
    plan = plan_sale_prices({"v1": Decimal("8.74")}, store, {"v1"})
    assert (plan.create, plan.update, plan.delete) == ([], [], ["p1", "p3"])


def test_a_price_in_another_currency_is_replaced_by_the_usd_one():
    plan = plan_sale_prices({"v1": Decimal("2")}, [held("p1", "v1", "2", "eur")], {"v1"})
    assert plan.update == [{"id": "p1", "variant_id": "v1", "amount": 2, "currency_code": "usd"}]
