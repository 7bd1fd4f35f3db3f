"""What the asset checks assert, on store listings written out by hand (as the Admin API
returns them): each finding passes on a sound listing and fails on a broken one."""

from product_sync.core import audit
from product_sync_tests.factories import product

PREFIX = "dummyjson:"


def listed(source_id, *, status="published", handle=None, usd=(9.99,), category="pcat_1"):
    return {
        "id": f"prod_{source_id}_{status}_{handle}",
        "external_id": f"{PREFIX}{source_id}",
        "handle": handle or f"handle-{source_id}",
        "status": status,
        "categories": [{"id": category}] if category else [],
        "variants": [{"prices": [{"amount": a, "currency_code": "usd"} for a in usd]}],
    }


SOURCE = [product(id=i, price=9.99, category="beauty") for i in (1, 2, 3)]
SOUND = [listed(1), listed(2), listed(3)]


def test_a_sound_listing_passes_every_finding():
    assert audit.duplicate_values(SOUND, "external_id").passed
    assert audit.duplicate_values(SOUND, "handle").passed
    assert audit.present_exactly_once(PREFIX, SOURCE, SOUND).passed
    assert audit.categories_linked(PREFIX, SOURCE, {"beauty": "pcat_1"}, SOUND).passed
    assert audit.prices_match(PREFIX, SOURCE, SOUND).passed


def test_an_external_id_held_twice_is_a_duplicate():
    found = audit.duplicate_values([*SOUND, listed(2, handle="copy")], "external_id")
    assert (found.passed, found.offending) == (False, ["dummyjson:2"])


def test_a_handle_held_twice_is_a_duplicate():
    found = audit.duplicate_values([*SOUND, listed(4, handle="handle-1")], "handle")
    assert (found.passed, found.offending) == (False, ["handle-1"])


def test_missing_unpublished_and_doubled_products_are_not_present_once():
    broken = [listed(2, status="draft"), listed(3), listed(3, handle="again")]
    found = audit.present_exactly_once(PREFIX, SOURCE, broken)
    assert (found.passed, found.offending, found.count) == (False, [1, 2, 3], 3)


def test_a_product_without_its_category_is_not_linked():
    broken = [listed(1), listed(2, category=None), listed(3, category="pcat_other")]
    found = audit.categories_linked(PREFIX, SOURCE, {"beauty": "pcat_1"}, broken)
    assert (found.passed, found.offending) == (False, [2, 3])
    # A category the store does not have yet is nobody's fault here.
    assert audit.categories_linked(PREFIX, SOURCE, {}, broken).passed


def test_a_price_off_by_a_cent_or_doubled_or_missing_does_not_match():
    broken = [listed(1, usd=(9.98,)), listed(2, usd=(9.99, 9.99)), listed(3, usd=())]
    found = audit.prices_match(PREFIX, SOURCE, broken)
    assert (found.passed, found.offending) == (False, [1, 2, 3])


def test_prices_match_to_the_cent_whatever_the_json_number_looks_like():
    source = [product(id=1, price=15), product(id=2, price=0.1)]
    as_sent = [listed(1, usd=(15.0,)), listed(2, usd=(0.1,))]
    assert audit.prices_match(PREFIX, source, as_sent).passed
    assert not audit.prices_match(PREFIX, source, [listed(1, usd=(1500,))]).passed


def test_products_outside_the_namespace_are_not_judged():
    foreign = {**listed(1, usd=(1.0,)), "external_id": "shopify:1"}
    assert audit.prices_match(PREFIX, SOURCE, [foreign, *SOUND]).passed
