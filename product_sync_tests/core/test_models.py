from decimal import Decimal

import pytest

from product_sync.core.catalog import parse_categories, validate_records
from product_sync.core.models import SourceProduct
from product_sync_tests.factories import record

MALFORMED = {
    "title missing": record(title=...),
    "title empty": record(title=""),
    "title blank": record(title="   "),
    "title not a string": record(title=42),
    "title with control char": record(title="Lamp\x07Red"),
    "title with newline": record(title="Lamp\nRed"),
    "title too long": record(title="x" * 300),
    "description control chars": record(description="bad \x00 byte"),
    "description 10k chars": record(description="y" * 10_000),
    "price missing": record(price=...),
    "price negative": record(price=-1.5),
    "price NaN": record(price=float("nan")),
    "price infinite": record(price=float("inf")),
    "price huge": record(price=10**9),
    "price string": record(price="9.99"),
    "price bool": record(price=True),
    "price three decimals": record(price=9.999),
    "id missing": record(id=...),
    "id string": record(id="7"),
    "id zero": record(id=0),
    "id float": record(id=1.5),
    "images not a list": record(images="https://a.test/1.png"),
    "image bad url": record(images=["not a url"]),
    "image ftp url": record(images=["ftp://a.test/1.png"]),
    "thumbnail bad url": record(thumbnail="javascript:alert(1)"),
    "category missing": record(category=...),
    "category not a slug": record(category="Home Decor!"),
    "stock negative": record(stock=-3),
    "stock string": record(stock="5"),
    "tags not strings": record(tags=[1, 2]),
    "dimensions wrong type": record(dimensions="10x10"),
    "rating string": record(rating="high"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_record_is_quarantined_with_a_reason(case):
    good = record(id=99, title="Good Product")
    bad = MALFORMED[case]
    products, quarantined, _ = validate_records([good, bad])
    assert [p.id for p in products] == [99]
    assert len(quarantined) == 1
    assert quarantined[0].reason  # says what is wrong
    assert quarantined[0].record is not None  # and keeps what was refused


def test_reason_names_the_field():
    _, quarantined, _ = validate_records([record(price="abc")])
    assert quarantined[0].reason.startswith("price:")
    assert quarantined[0].source_id == 1


def test_non_object_record_is_quarantined():
    products, quarantined, _ = validate_records([record(), "oops", None])
    assert len(products) == 1
    assert len(quarantined) == 2


def test_huge_refused_record_is_trimmed_in_the_quarantine():
    _, quarantined, _ = validate_records([record(description="z" * 50_000)])
    kept = quarantined[0].record
    assert kept is not None and len(kept["description"]) < 300


def test_brand_may_be_absent_and_ints_stand_for_floats():
    p = SourceProduct.model_validate(record(brand=..., price=15, rating=4, weight=2))
    assert p.brand is None
    assert p.price == Decimal("15")
    assert p.rating == 4


def test_prices_are_exact_decimals():
    assert SourceProduct.model_validate(record(price=0.1)).price == Decimal("0.1")
    assert SourceProduct.model_validate(record(price=24999.99)).price == Decimal("24999.99")


def test_image_urls_are_kept_exactly():
    url = "https://cdn.example.test/x/Men's Tee & Co/1.png"
    assert SourceProduct.model_validate(record(images=[url])).images == [url]


def test_repeated_ids_collapse_to_the_first_with_a_report():
    first, second = record(id=5, title="First"), record(id=5, title="Second")
    products, quarantined, duplicates = validate_records([first, second])
    assert [p.title for p in products] == ["First"]
    assert duplicates == [5]
    assert quarantined == []


def test_a_refused_copy_is_forgiven_when_another_copy_of_the_id_is_valid():
    products, quarantined, _ = validate_records([record(id=5, price="x"), record(id=5)])
    assert [p.id for p in products] == [5]
    assert quarantined == []


def test_categories_parse_objects_and_legacy_strings():
    objs = parse_categories([{"slug": "home-decoration", "name": "Home Decoration", "url": "u"}])
    legacy = parse_categories(["home-decoration"])
    assert objs[0].name == legacy[0].name == "Home Decoration"
    with pytest.raises(ValueError):
        parse_categories({"not": "a list"})
