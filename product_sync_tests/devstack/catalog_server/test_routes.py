"""The catalog server's DummyJSON routes and quirks over HTTP: envelope, paging, select,
sort, search, categories, redirects, ETags, gzip and images."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest
import requests

from devstack.catalog.images import PNG_SIGNATURE
from product_sync_tests.devstack.catalog_server.calls import JSON_TYPE, TIMEOUT, control, get, ids

# ----------------------------------------------------------------------- envelope and paging


def test_default_page_is_the_first_30_in_an_envelope(server):
    response = get(server, "/products")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == JSON_TYPE
    body = response.json()
    assert list(body) == ["products", "total", "skip", "limit"]
    assert ids(response) == list(range(1, 31))
    assert (body["total"], body["skip"], body["limit"]) == (194, 0, 30)


@pytest.mark.parametrize(
    ("query", "expected_ids", "skip_field"),
    [
        ("limit=0", list(range(1, 195)), 0),
        ("limit=1000", list(range(1, 195)), 0),
        ("skip=190&limit=30", [191, 192, 193, 194], 190),
        ("limit=-5", list(range(1, 190)), 0),
        ("skip=10&limit=-180", [11, 12, 13, 14], 10),
        ("limit=", [], 0),
        ("limit=1.9", [1], 0),
        ("limit=1e2", [1], 0),
        ("skip=194", [], 194),
        ("skip=5000&limit=0", [], 5000),
        ("skip=-3&limit=2", [1, 2], -3),
        ("skip=&limit=2", [1, 2], None),
        ("skip=2.7&limit=2", [3, 4], 2),
    ],
)
def test_limit_and_skip_quirks(server, query, expected_ids, skip_field):
    body = get(server, f"/products?{query}").json()
    assert [p["id"] for p in body["products"]] == expected_ids
    assert body["total"] == 194
    assert body["skip"] == skip_field
    assert body["limit"] == len(expected_ids)  # what came back, not what was asked


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=ten", "Invalid 'limit' - must be a number"),
        ("skip=ten", "Invalid 'skip' - must be a number"),
        ("sortBy=price&order=up", "Order can be: 'asc' or 'desc'"),
        ("delay=6000", "Delay cannot be greater than 5 seconds"),
        ("delay=-1", "Delay cannot be less than 0"),
        ("q=a&q=b", "Invalid 'q' - must be a string"),
    ],
)
def test_invalid_parameters_are_400_with_dummyjson_message(server, query, message):
    for path in ("/products", "/products/1", "/products/categories"):
        response = get(server, f"{path}?{query}")
        assert response.status_code == 400
        assert response.headers["Content-Type"] == JSON_TYPE
        assert response.json() == {"message": message}


def test_valid_delay_and_order_without_sort_by_are_accepted(server):
    assert get(server, "/products?delay=1&order=sideways&limit=1").status_code == 200


def test_select_always_starts_with_id_and_drops_unknown_keys(server):
    body = get(server, "/products?limit=3&select=title,price,nope").json()
    for product in body["products"]:
        assert list(product) == ["id", "title", "price"]
    spaced = get(server, "/products?limit=1&select=title, price").json()["products"][0]
    assert list(spaced) == ["id", "title"]  # " price" is not a key
    single = get(server, "/products/7?select=brand,id,stock").json()
    assert list(single)[:1] == ["id"] and "stock" in single and "title" not in single


def test_sort_is_global_and_applied_before_skip_and_limit(server, everything):
    by_price = sorted(everything, key=lambda p: -p["price"])
    page = get(server, "/products?sortBy=price&order=DESC&skip=10&limit=5&select=price")
    assert [p["price"] for p in page.json()["products"]] == [p["price"] for p in by_price[10:15]]
    titles = get(server, "/products?sortBy=title&limit=0&select=title").json()["products"]
    keys = [p["title"].encode("utf-16-be") for p in titles]
    assert keys == sorted(keys)  # JavaScript string order (UTF-16 code units)
    unknown = get(server, "/products?sortBy=nothing&order=desc&limit=5")
    assert ids(unknown) == [1, 2, 3, 4, 5]


def test_product_by_id_is_an_exact_string_match(server, everything):
    assert get(server, "/products/42").json() == everything[41]
    assert get(server, "/product/42").json() == everything[41]  # the alias
    for raw, shown in [("01", "01"), ("1.0", "1.0"), ("%201", " 1"), ("abc", "abc")]:
        response = get(server, f"/products/{raw}")
        assert response.status_code == 404
        assert response.json() == {"message": f"Product with id '{shown}' not found"}
    bare = get(server, "/products/category")
    assert bare.json() == {"message": "Product with id 'category' not found"}


def test_search_matches_title_or_description_and_turns_hyphens_into_spaces(server, everything):
    def expected(q: str) -> list[int]:
        return [
            p["id"] for p in everything if q in p["title"].lower() or q in p["description"].lower()
        ]

    body = get(server, "/products/search?q=  LOOFAH &limit=0").json()
    assert [p["id"] for p in body["products"]] == expected("loofah") != []
    assert body["total"] == len(expected("loofah"))
    assert expected("non-stick")  # present in the data, hyphenated...
    hyphenated = get(server, "/products/search?q=non-stick&limit=0").json()
    assert [p["id"] for p in hyphenated["products"]] == expected("non stick")  # ...not found
    assert get(server, "/products/search").json()["total"] == 194
    assert get(server, "/products/search?q=").json()["limit"] == 30  # default limit applies
    brand = next(p["brand"] for p in everything if p.get("brand", "").isalpha())
    assert expected(brand.lower()) == []
    assert ids(get(server, f"/products/search?q={brand}")) == []  # brands are not searched


def test_categories_are_objects_in_first_seen_order(server, everything):
    slugs = list(dict.fromkeys(p["category"] for p in everything))
    categories = get(server, "/products/categories").json()
    assert [c["slug"] for c in categories] == slugs and len(slugs) == 24
    for category in categories:
        assert list(category) == ["slug", "name", "url"]
        assert category["url"] == f"{server.base_url}/products/category/{category['slug']}"
        words = category["slug"].split("-")
        assert category["name"] == " ".join(w[:1].upper() + w[1:] for w in words)
    assert get(server, "/products/category-list").json() == slugs


def test_category_route_is_case_insensitive_and_unknown_is_an_empty_200(server, everything):
    slug = everything[-1]["category"]
    members = [p["id"] for p in everything if p["category"] == slug]
    body = get(server, f"/products/category/{slug.upper()}?limit=0").json()
    assert [p["id"] for p in body["products"]] == members
    assert body["total"] == len(members)
    unknown = get(server, "/products/category/no-such-thing")
    assert unknown.status_code == 200
    assert unknown.json() == {"products": [], "total": 0, "skip": 0, "limit": 0}


def test_trailing_slash_redirects_and_unmatched_paths_are_html_404(server):
    response = get(server, "/products/?limit=5", allow_redirects=False)
    assert response.status_code == 301
    assert response.headers["Location"] == "/products?limit=5"
    for path in ("/products/1/extra", "/products/category/a/b", "/elsewhere"):
        missing = get(server, path)
        assert missing.status_code == 404
        assert missing.headers["Content-Type"].startswith("text/html")


def test_etag_revalidation_and_gzip(server):
    first = get(server, "/products?limit=5")
    assert first.headers["Content-Encoding"] == "gzip"  # requests asks for gzip
    again = get(server, "/products?limit=5", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    small = get(server, "/products/1?select=id", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in small.headers


# ----------------------------------------------------------------------- images


def test_image_urls_with_raw_quotes_and_ampersands_are_served_as_png(server, everything):
    awkward = [p for p in everything if "'" in p["title"] or "&" in p["title"]]
    assert awkward
    for product in awkward[:5]:
        for url in [product["images"][0], product["thumbnail"]]:
            assert url.startswith(server.base_url)
            response = requests.get(url, timeout=TIMEOUT)
            assert response.status_code == 200
            assert response.headers["Content-Type"] == "image/png"
            assert response.content.startswith(PNG_SIGNATURE)
            # requests sent the URL unchanged: the server saw the raw title.
            assert unquote(urlsplit(response.url).path).split("/")[3] == product["title"]
    assert get(server, "/product-images/qr-code.png").content.startswith(PNG_SIGNATURE)
    assert get(server, "/product-images/nothing.gif").status_code == 404


def test_images_op_changes_the_bytes_behind_the_same_url(server):
    product = get(server, "/products/3").json()
    before = requests.get(product["images"][0], timeout=TIMEOUT).content
    assert requests.get(product["images"][0], timeout=TIMEOUT).content == before
    control(server, "mutate", {"op": "images", "ids": [3]})
    assert get(server, "/products/3").json()["images"] == product["images"]
    assert requests.get(product["images"][0], timeout=TIMEOUT).content != before
