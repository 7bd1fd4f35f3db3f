import json
from decimal import Decimal

import pytest

from product_sync.core.mapping import (
    HASH_KEY,
    content_hash,
    external_id,
    price_amount,
    source_id_of,
    to_medusa_product,
    to_medusa_update,
)
from product_sync_tests.factories import product


def mapped(**overrides):
    return to_medusa_product(
        product(**overrides),
        handle="essence-mascara",
        external_id_prefix="dummyjson:",
        category_id="pcat_1",
        sales_channel_id="sc_1",
    )


def test_core_fields():
    p = mapped()
    assert p["title"] == "Essence Mascara Lash Princess"
    assert p["handle"] == "essence-mascara"
    assert p["status"] == "published"
    assert p["external_id"] == "dummyjson:1"
    assert p["categories"] == [{"id": "pcat_1"}]
    assert p["sales_channels"] == [{"id": "sc_1"}]
    assert p["options"] == [{"title": "Default", "values": ["Default Option"]}]


def test_images_and_thumbnail_keep_their_exact_urls():
    p = mapped()
    assert p["images"] == [{"url": "https://cdn.example.test/beauty/Men's Tee & Co/1.png"}]
    assert p["thumbnail"].endswith("Men's Tee & Co/thumbnail.png")


def test_default_variant():
    (variant,) = mapped()["variants"]
    assert variant["title"] == "Default"
    assert variant["sku"] == "BEA-ESS-ESS-001"
    assert variant["barcode"] == "9164035109868"
    assert variant["options"] == {"Default": "Default Option"}
    assert variant["manage_inventory"] is True
    assert (variant["width"], variant["height"], variant["length"]) == (23.17, 14.43, 28.01)
    assert variant["weight"] == 2


@pytest.mark.parametrize(
    ("price", "amount"),
    [(9.99, "9.99"), (0.1, "0.1"), (15, "15"), (24999.99, "24999.99"), (1234.5, "1234.5")],
)
def test_price_is_usd_major_units_exactly_on_the_wire(price, amount):
    (variant,) = mapped(price=price)["variants"]
    assert variant["prices"][0]["currency_code"] == "usd"
    # What is sent is the JSON text: it must read back as the exact source price.
    wire = json.dumps(variant["prices"][0]["amount"])
    assert wire == amount
    assert Decimal(wire) == Decimal(str(price))


def test_price_amount_never_multiplies_by_100():
    assert price_amount(Decimal("9.99")) == 9.99
    assert price_amount(Decimal("100")) == 100


def test_rest_of_the_source_record_goes_to_metadata():
    meta = mapped()["metadata"]
    assert meta["brand"] == "Essence"
    assert meta["tags"] == ["beauty", "mascara"]
    assert meta["rating"] == 4.94
    assert meta["discount_percentage"] == 7.17
    assert meta["warranty_information"] == "1 month warranty"
    assert meta["shipping_information"] == "Ships in 1 month"
    assert meta["return_policy"] == "30 days return policy"
    assert meta["minimum_order_quantity"] == 24
    assert meta["availability_status"] == "Low Stock"
    assert meta["dummyjson_id"] == 1


def test_missing_brand_maps_to_none():
    assert mapped(brand=...)["metadata"]["brand"] is None


def test_hash_is_stable_and_sensitive_to_content():
    assert mapped()["metadata"][HASH_KEY] == mapped()["metadata"][HASH_KEY]
    assert mapped()["metadata"][HASH_KEY] != mapped(price=9.98)["metadata"][HASH_KEY]
    assert mapped()["metadata"][HASH_KEY] != mapped(title="Renamed")["metadata"][HASH_KEY]


def test_hash_ignores_its_own_key():
    p = mapped()
    assert content_hash(p) == p["metadata"][HASH_KEY]


def test_no_category_and_no_channel_give_empty_lists():
    p = to_medusa_product(
        product(), handle="h", external_id_prefix="dj:", category_id=None, sales_channel_id=None
    )
    assert p["categories"] == [] and p["sales_channels"] == []
    assert p["external_id"] == "dj:1"


def test_update_keeps_handle_out_and_targets_the_existing_variant():
    update = to_medusa_update(mapped(), product_id="prod_1", variant_id="variant_1")
    assert update["id"] == "prod_1"
    assert "handle" not in update and "options" not in update
    assert update["variants"][0]["id"] == "variant_1"
    assert update["variants"][0]["prices"][0]["amount"] == 9.99


@pytest.mark.parametrize(
    ("ext", "expected"),
    [
        ("dummyjson:12", 12),
        ("dummyjson:012", None),
        ("dummyjson:", None),
        ("shopify:12", None),
        (None, None),
        ("dummyjson:12x", None),
        ("dummyjson:duplicate-of-3:prod_1", None),
    ],
)
def test_only_our_namespace_is_ours(ext, expected):
    assert source_id_of("dummyjson:", ext) == expected
    if expected is not None:
        assert external_id("dummyjson:", expected) == ext


def test_shipping_profile_goes_with_the_product_when_the_store_has_one():
    src = product()
    common = dict(handle="h", external_id_prefix="dj:", category_id=None, sales_channel_id="sc")
    with_profile = to_medusa_product(src, shipping_profile_id="sp_1", **common)
    without = to_medusa_product(src, **common)
    assert with_profile["shipping_profile_id"] == "sp_1"
    # Medusa's create body refuses a null profile: no profile means no key at all.
    assert "shipping_profile_id" not in without
    assert with_profile["metadata"][HASH_KEY] != without["metadata"][HASH_KEY]
    update = to_medusa_update(with_profile, product_id="prod_1", variant_id="variant_1")
    assert update["shipping_profile_id"] == "sp_1"


def test_backorder_is_always_sent_so_turning_it_off_is_written_too():
    assert mapped()["variants"][0]["allow_backorder"] is False
    on = to_medusa_product(
        product(stock=0),
        handle="h",
        external_id_prefix="dj:",
        category_id=None,
        sales_channel_id=None,
        allow_backorder=True,
    )
    assert on["variants"][0]["allow_backorder"] is True
    # Availability and minimum order quantity stay information, not rules.
    assert on["metadata"]["availability_status"] is not None
    assert on["metadata"]["minimum_order_quantity"] == 24
    assert on["metadata"][HASH_KEY] != mapped()["metadata"][HASH_KEY]
