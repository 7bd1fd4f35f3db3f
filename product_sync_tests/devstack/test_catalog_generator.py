"""The synthetic catalog: shape, quirks, determinism, laziness, and mutation overlays."""

from __future__ import annotations

import math
import re
import struct
import zlib
from collections import Counter
from urllib.parse import unquote, urlsplit

import pytest
from slugify import slugify

from devstack.catalog import DELETE_MARKER, Catalog, CatalogGenerator, MutationError
from devstack.catalog.images import PNG_SIGNATURE, png_bytes
from devstack.catalog.jsquery import ApiError, ListQuery, parse_int, parse_list_query, to_number

SCHEMA = {
    "id": int,
    "title": str,
    "description": str,
    "category": str,
    "price": (int, float),
    "discountPercentage": (int, float),
    "rating": (int, float),
    "stock": int,
    "tags": list,
    "sku": str,
    "weight": (int, float),
    "dimensions": dict,
    "warrantyInformation": str,
    "shippingInformation": str,
    "availabilityStatus": str,
    "reviews": list,
    "returnPolicy": str,
    "minimumOrderQuantity": int,
    "meta": dict,
    "images": list,
    "thumbnail": str,
}
BASE = "http://catalog.test:9"


@pytest.fixture(scope="module")
def products() -> list[dict]:
    return list(CatalogGenerator(seed=42, base_url=BASE).products())


def test_default_catalog_has_194_products_in_24_contiguous_categories(products):
    assert [p["id"] for p in products] == list(range(1, 195))
    sizes = Counter(p["category"] for p in products)
    assert len(sizes) == 24
    assert all(3 <= size <= 30 for size in sizes.values())
    # Categories are contiguous blocks, so first-seen order is block order.
    boundaries = [p["category"] for i, p in enumerate(products) if i == 0 or p != products[i - 1]]
    assert list(dict.fromkeys(boundaries)) == list(sizes)


def test_every_product_has_the_dummyjson_schema_in_order(products):
    for product in products:
        assert [k for k in product if k != "brand"] == list(SCHEMA), product["id"]
        for key, kind in SCHEMA.items():
            assert isinstance(product[key], kind), (product["id"], key)
        assert set(product["dimensions"]) == {"width", "height", "depth"}
        assert set(product["meta"]) == {"createdAt", "updatedAt", "barcode", "qrCode"}
        for review in product["reviews"]:
            assert list(review) == ["rating", "comment", "date", "reviewerName", "reviewerEmail"]


def test_brand_key_is_absent_on_roughly_half(products):
    with_brand = sum("brand" in p for p in products)
    assert 0.3 * len(products) < with_brand < 0.7 * len(products)
    for product in products:
        if "brand" in product:  # absent, never null, and in its schema place
            keys = list(product)
            assert isinstance(product["brand"], str)
            assert keys.index("brand") == keys.index("tags") + 1


def test_titles_include_duplicates_slug_twins_and_awkward_characters(products):
    titles = [p["title"] for p in products]
    assert any(count > 1 for count in Counter(titles).values())
    by_slug: dict[str, set[str]] = {}
    for title in titles:
        by_slug.setdefault(slugify(title), set()).add(title)
    assert any(len(variants) > 1 for variants in by_slug.values())
    for char in "'&.":
        assert any(char in title for title in titles), char
    assert any(not title.isascii() for title in titles)


def test_descriptions_carry_non_ascii_and_emoji(products):
    descriptions = " ".join(p["description"] for p in products)
    for text in ("é", "ü", "—"):
        assert text in descriptions
    assert re.search(r"[\U0001F300-\U0001FAFF]", descriptions)


def test_numbers_look_like_a_shop_with_javascript_ints(products):
    prices = [p["price"] for p in products]
    assert any(isinstance(p, int) for p in prices)
    assert any(isinstance(p, float) for p in prices)
    assert all(round(p, 2) == p and 0 < p < 100_000 for p in prices)
    assert max(prices) >= 10_000
    assert any(isinstance(p["weight"], int) for p in products)
    assert any(isinstance(p["rating"], int) for p in products)
    assert any(p["stock"] == 0 for p in products)
    for product in products:
        status = product["availabilityStatus"]
        assert (status == "Out of Stock") == (product["stock"] == 0)


def test_skus_follow_the_category_brand_title_number_pattern(products):
    for product in products:
        assert re.fullmatch(r"[A-Z]{3}-[A-Z]{3}-[A-Z]{3}-\d{3,}", product["sku"])
        assert product["sku"].endswith(f"-{product['id']:03d}")
    assert len({p["sku"] for p in products}) == len(products)


def test_image_urls_keep_title_raw_except_spaces_and_thumbnail_is_separate(products):
    for product in products:
        assert 1 <= len(product["images"]) <= 6
        assert product["thumbnail"] not in product["images"]
        for url in [*product["images"], product["thumbnail"]]:
            assert url.startswith(f"{BASE}/product-images/{product['category']}/")
            assert " " not in url
            assert unquote(urlsplit(url).path).split("/")[3] == product["title"]
    awkward = [p for p in products if "'" in p["title"] or "&" in p["title"]]
    assert awkward
    for product in awkward:
        raw = product["images"][0]
        assert ("'" in raw) == ("'" in product["title"])
        assert ("&" in raw) == ("&" in product["title"])
        assert "%27" not in raw and "%26" not in raw


def test_same_seed_same_catalog_other_seed_other_catalog(products):
    again = list(CatalogGenerator(seed=42, base_url=BASE).products())
    assert again == products
    other = list(CatalogGenerator(seed=43, base_url=BASE).products())
    assert [p["title"] for p in other] != [p["title"] for p in products]


def test_product_is_a_pure_function_of_seed_and_id():
    generator = CatalogGenerator(seed=9, count=500)
    assert generator.product(321) == CatalogGenerator(seed=9, count=500).product(321)
    # Generating other products first changes nothing: there is no shared RNG stream.
    list(generator.products(1, 50))
    assert generator.product(321) == CatalogGenerator(seed=9, count=500).product(321)


@pytest.mark.parametrize("count", [0, 1, 10, 100, 10_000, 100_000])
def test_any_size_splits_into_blocks_that_add_up(count):
    generator = CatalogGenerator(seed=5, count=count)
    sizes = generator.category_sizes
    assert sum(sizes.values()) == count
    assert all(size >= 1 for size in sizes.values())
    if count >= 72:
        assert len(sizes) == 24 and min(sizes.values()) >= 3
    for slug in sizes:
        block = generator.category_range(slug)
        assert {generator.category_of(i) for i in (block.start, block.stop - 1)} == {slug}


def test_a_page_of_a_100k_catalog_generates_only_that_page(monkeypatch):
    catalog = Catalog(seed=1, count=100_000)
    calls = []
    original = catalog.generator.product
    monkeypatch.setattr(
        catalog.generator, "product", lambda i, c=None: calls.append(i) or original(i, c)
    )
    envelope = catalog.list_products(ListQuery(limit=30, skip=99_950))
    assert [p["id"] for p in envelope["products"]] == list(range(99_951, 99_981))
    assert envelope["total"] == 100_000
    assert sorted(calls) == list(range(99_951, 99_981))
    assert len(catalog.category_slugs()) == 24
    assert len(calls) == 30  # categories come from the block layout, not from products


def test_png_is_valid_deterministic_and_versioned():
    png = png_bytes("/product-images/a/B & C's/1.png")
    assert png == png_bytes("/product-images/a/B & C's/1.png")
    assert png != png_bytes("/product-images/a/B & C's/1.png", version=1)
    assert png.startswith(PNG_SIGNATURE)
    chunks, offset = [], len(PNG_SIGNATURE)
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, data = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + data) == crc
        chunks.append((kind, data))
        offset += 12 + length
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height = struct.unpack(">II", chunks[0][1][:8])
    assert len(zlib.decompress(chunks[1][1])) == height * (1 + 3 * width)
    sizes = [len(png_bytes(f"/product-images/x/{n}.png")) for n in range(50)]
    assert min(sizes) > 100 and max(sizes) < 8_000


# ----------------------------------------------------------------------- JS semantics


@pytest.mark.parametrize(
    ("text", "number", "integer"),
    [
        ("30", 30, 30),
        ("1.9", 1.9, 1),
        ("1e2", 100, 1),
        ("", 0, None),
        ("  ", 0, None),
        ("-5", -5, -5),
        ("0x10", 16, 0),
        ("Infinity", float("inf"), None),
        ("abc", None, None),
        ("12abc", None, 12),
    ],
)
def test_number_and_parse_int_match_javascript(text, number, integer):
    # None stands for NaN.
    assert math.isnan(to_number(text)) if number is None else to_number(text) == number
    assert math.isnan(parse_int(text)) if integer is None else parse_int(text) == integer


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": ["x"]}, "Invalid 'limit' - must be a number"),
        ({"skip": ["x"]}, "Invalid 'skip' - must be a number"),
        ({"limit": ["1", "2"]}, "Invalid 'limit' - must be a number"),
        ({"q": ["a", "b"]}, "Invalid 'q' - must be a string"),
        ({"sortBy": ["price"], "order": ["up"]}, "Order can be: 'asc' or 'desc'"),
        ({"delay": ["soon"]}, "Delay must be a number in milliseconds"),
        ({"delay": ["5001"]}, "Delay cannot be greater than 5 seconds"),
        ({"delay": ["-1"]}, "Delay cannot be less than 0"),
    ],
)
def test_invalid_parameters_raise_dummyjson_messages(params, message):
    with pytest.raises(ApiError) as caught:
        parse_list_query(params)
    assert (caught.value.status, caught.value.message) == (400, message)


def test_order_is_only_validated_with_sort_by():
    assert parse_list_query({"order": ["sideways"]}).sort_by is None
    assert parse_list_query({"sortBy": ["title"], "order": ["DESC"]}).ascending is False


# ----------------------------------------------------------------------- mutations


def page_ids(catalog: Catalog, **query) -> list:
    return [p["id"] for p in catalog.list_products(ListQuery(limit=0, **query))["products"]]


def test_price_stock_title_changes_are_deterministic_overlays():
    first, second = Catalog(seed=3, count=60), Catalog(seed=3, count=60)
    for op in ("price", "stock", "title"):
        changes = first.mutate(op, count=4)["changes"]
        assert changes == second.mutate(op, count=4)["changes"]
        assert len(changes) == 4
        for change in changes:
            assert change["old"] != change["new"]
            assert first.get(change["id"])[op] == change["new"]
    first.mutate("stock", ids=[7], value=0)
    assert first.get(7)["stock"] == 0
    assert first.get(7)["availabilityStatus"] == "Out of Stock"
    # Overlays hold the touched products only.
    assert first.state()["patched"] <= 13


def test_remove_and_add_keep_file_order_and_move_ids_past_the_max():
    catalog = Catalog(seed=3, count=20)
    catalog.mutate("remove", ids=[2, 20])
    assert catalog.total == 18 and catalog.get(2) is None
    added = catalog.mutate("add", count=2)["changes"]
    assert [c["id"] for c in added] == [21, 22]  # ids are never reused
    assert page_ids(catalog) == [1, *range(3, 20), 21, 22]
    assert catalog.get(21)["title"] == added[0]["title"]
    assert catalog.list_products(ListQuery(skip=17, limit=2))["products"][0]["id"] == 19


def test_move_category_updates_category_routes_and_category_list():
    catalog = Catalog(seed=3, count=40)
    first_category = catalog.category_slugs()[0]
    block = list(catalog.generator.category_range(first_category))
    for product_id in block:
        catalog.mutate("move_category", ids=[product_id], category="brand-new")
    assert first_category not in catalog.category_slugs()
    assert catalog.category_slugs()[0] == "brand-new"  # first seen at position 1
    assert page_ids(catalog) == list(range(1, 41))
    moved = catalog.list_products(ListQuery(limit=0), category="BRAND-NEW")
    assert [p["id"] for p in moved["products"]] == block


def test_images_op_changes_bytes_or_urls():
    catalog = Catalog(seed=3, count=10, base_url=BASE)
    product = catalog.get(4)
    path = unquote(urlsplit(product["images"][0]).path)
    before = catalog.image(path)
    change = catalog.mutate("images", ids=[4])["changes"][0]
    assert catalog.image(path) != before and catalog.get(4)["images"] == product["images"]
    assert product["thumbnail"] in change["urls"]
    catalog.mutate("images", ids=[4], mode="urls")
    assert set(catalog.get(4)["images"]).isdisjoint(product["images"])


def test_corrupt_and_raw_records_are_served_as_given():
    catalog = Catalog(seed=3, count=10)
    catalog.mutate("corrupt", id=5, patch={"price": "abc", "title": DELETE_MARKER})
    record = catalog.get(5)
    assert record["price"] == "abc" and "title" not in record
    catalog.mutate("raw", record={"id": "x-1", "category": "weird", "tags": None})
    assert catalog.get("x-1") == {"id": "x-1", "category": "weird", "tags": None}
    assert "weird" in catalog.category_slugs()
    assert catalog.total == 11
    assert catalog.mutate("add")["changes"][0]["id"] == 11


def test_bad_mutations_are_rejected():
    catalog = Catalog(seed=3, count=10)
    with pytest.raises(MutationError):
        catalog.mutate("explode")
    with pytest.raises(MutationError):
        catalog.mutate("price", ids=[999])
    with pytest.raises(MutationError):
        catalog.mutate("corrupt", id=1)
    with pytest.raises(MutationError):
        catalog.mutate("price", ids=[1], vaule=3)  # a typo is an error, not a no-op
    assert catalog.state()["mutations"] == []


def test_records_iterates_the_listing_with_overlays():
    catalog = Catalog(seed=3, count=15)
    catalog.mutate("remove", ids=[1])
    catalog.mutate("corrupt", id=2, patch={"stock": -1})
    catalog.mutate("raw", record=[1, 2])
    records = list(catalog.records())
    assert records == catalog.list_products(ListQuery(limit=0))["products"]
    assert len(records) == 15 and records[0]["stock"] == -1 and records[-1] == [1, 2]


def test_reset_drops_overlays_and_can_reseed():
    catalog = Catalog(seed=3, count=10)
    catalog.mutate("remove", count=3)
    catalog.reset()
    assert catalog.total == 10 and catalog.state()["mutations"] == []
    catalog.reset(seed=4, count=12)
    assert catalog.total == 12 and catalog.get(1) == CatalogGenerator(seed=4, count=12).product(1)
