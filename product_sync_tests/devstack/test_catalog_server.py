"""The catalog server over HTTP: DummyJSON's routes and quirks, images, the control API,
mutations and every fault kind."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import requests

from devstack.catalog import CatalogControl, CatalogServer, ControlError
from devstack.catalog.images import PNG_SIGNATURE

TIMEOUT = 5
JSON_TYPE = "application/json; charset=utf-8"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server() -> Iterator[CatalogServer]:
    with CatalogServer(seed=42, count=194) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(server: CatalogServer) -> None:
    server.reset()


@pytest.fixture(scope="module")
def everything(server: CatalogServer) -> list[dict]:
    return get(server, "/products?limit=0").json()["products"]


def get(server: CatalogServer, path: str, **kwargs) -> requests.Response:
    kwargs.setdefault("timeout", TIMEOUT)
    return requests.get(f"{server.base_url}{path}", **kwargs)


def ids(response: requests.Response) -> list:
    return [p["id"] for p in response.json()["products"]]


def control(server: CatalogServer, route: str, payload: dict) -> requests.Response:
    return requests.post(f"{server.base_url}/__control/{route}", json=payload, timeout=TIMEOUT)


def faults(server: CatalogServer, *rules: dict, seed: int = 0) -> None:
    response = control(server, "faults", {"seed": seed, "rules": list(rules)})
    assert response.status_code == 200, response.text


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


# ----------------------------------------------------------------------- mutations over HTTP


def test_field_mutations_show_up_in_the_api(server):
    for op, field in [("price", "price"), ("stock", "stock"), ("title", "title")]:
        result = control(server, "mutate", {"op": op, "count": 3}).json()
        assert result["op"] == op and len(result["changes"]) == 3
        for change in result["changes"]:
            assert change["old"] != change["new"]
            assert get(server, f"/products/{change['id']}").json()[field] == change["new"]
    moved = control(server, "mutate", {"op": "move_category", "ids": [1], "category": "misc"})
    assert moved.json()["changes"] == [{"id": 1, "old": "audio", "new": "misc"}]
    assert ids(get(server, "/products/category/misc")) == [1]


def test_remove_and_add_change_total_and_listing(server):
    removed = control(server, "mutate", {"op": "remove", "ids": [5, 6]}).json()
    assert removed["total"] == 192
    assert get(server, "/products/5").status_code == 404
    added = control(server, "mutate", {"op": "add", "count": 2}).json()
    assert [c["id"] for c in added["changes"]] == [195, 196]
    body = get(server, "/products?skip=190").json()
    assert [p["id"] for p in body["products"]] == [193, 194, 195, 196]
    assert body["total"] == 194
    assert get(server, "/products/196").json()["category"] == added["changes"][1]["category"]


def test_corrupt_and_raw_records_for_quarantine_tests(server):
    patch = {"price": "abc", "brand": {"$delete": True}, "images": None}
    control(server, "mutate", {"op": "corrupt", "id": 8, "patch": patch})
    record = get(server, "/products/8").json()
    assert record["price"] == "abc" and record["images"] is None and "brand" not in record
    raw = {"id": 9999, "title": 12, "extra": [1, {"x": None}]}
    control(server, "mutate", {"op": "raw", "record": raw})
    last = get(server, "/products?skip=194").json()
    assert last["products"] == [raw] and last["total"] == 195
    assert control(server, "mutate", {"op": "raw", "record": "not even an object"}).ok
    assert get(server, "/products?skip=195").json()["products"] == ["not even an object"]


def test_bad_control_requests_are_400_and_state_reports_mutations(server):
    assert control(server, "mutate", {"op": "price", "ids": [4040]}).status_code == 400
    assert control(server, "mutate", {"op": "melt"}).status_code == 400
    assert control(server, "faults", {"rules": [{"kind": "boom"}]}).status_code == 400
    control(server, "mutate", {"op": "remove", "ids": [9]})
    state = get(server, "/__control/state").json()
    assert state["catalog"]["total"] == 193
    assert state["catalog"]["mutations"] == [{"seq": 0, "op": "remove", "ids": [9]}]


def test_reset_over_http_can_regenerate(server):
    control(server, "mutate", {"op": "remove", "count": 10})
    state = control(server, "reset", {"seed": 7, "count": 50}).json()
    assert state["catalog"]["total"] == 50 and state["catalog"]["seed"] == 7
    assert get(server, "/products").json()["total"] == 50
    control(server, "reset", {"seed": 42, "count": 194})


def test_control_client_drives_a_server(server):
    client = CatalogControl(server.base_url)
    assert client.mutate("remove", ids=[1])["total"] == 193
    client.set_faults([{"kind": "error", "statuses": [503]}])
    assert get(server, "/products").status_code == 503
    assert client.state()["faults"]["injected"]["error"] == 1
    client.clear_faults()
    with pytest.raises(ControlError):
        client.mutate("price", ids=[1])  # removed
    client.reset()
    assert get(server, "/products/1").status_code == 200


# ----------------------------------------------------------------------- faults


def statuses(server: CatalogServer, n: int) -> list[int]:
    return [get(server, "/products?limit=1").status_code for _ in range(n)]


def test_error_fault_rate_is_deterministic_under_seed(server):
    rule = {"kind": "error", "rate": 0.4}
    faults(server, rule, seed=11)
    first = statuses(server, 25)
    faults(server, rule, seed=11)
    assert statuses(server, 25) == first
    assert set(first) - {200} <= {500, 502, 503} and 200 in first and len(set(first)) > 1
    faults(server, rule, seed=12)
    assert statuses(server, 25) != first


def test_error_responses_look_like_express_or_a_proxy(server):
    faults(server, {"kind": "error", "requests": [1], "statuses": [500]})
    failed = get(server, "/products")
    assert failed.status_code == 500 and failed.json() == {"message": "Internal Server Error"}
    faults(server, {"kind": "error", "requests": [1], "statuses": [502]})
    proxy = get(server, "/products")
    assert proxy.status_code == 502 and "Bad Gateway" in proxy.text
    assert get(server, "/products").status_code == 200  # only request 1


def test_rate_limit_fault_sends_retry_after(server):
    faults(server, {"kind": "rate_limit", "times": 2, "retry_after": 3})
    limited = get(server, "/products")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"
    assert limited.json() == {"message": "request limit exceeded, please wait a few seconds"}
    assert statuses(server, 2) == [429, 200]


def test_slow_fault_outlasts_a_client_timeout(server):
    faults(server, {"kind": "slow", "seconds": 3, "times": 1})
    with pytest.raises(requests.exceptions.ReadTimeout):
        get(server, "/products", timeout=0.3)
    assert get(server, "/products").status_code == 200


def test_honest_truncation_is_a_complete_200_that_is_not_json(server):
    faults(server, {"kind": "truncate", "requests": [1]})
    response = get(server, "/products?limit=5")
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) > 0
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()
    assert get(server, "/products?limit=5").json()["total"] == 194


def test_cut_truncation_breaks_the_read(server):
    faults(server, {"kind": "truncate", "mode": "cut", "requests": [1]})
    with pytest.raises(
        (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    ):
        get(server, "/products?limit=5")


def test_reset_fault_is_a_connection_error(server):
    faults(server, {"kind": "reset", "requests": [1]})
    with pytest.raises(requests.exceptions.ConnectionError):
        get(server, "/products")
    assert get(server, "/products").status_code == 200
    assert get(server, "/__control/state").json()["faults"]["injected"]["reset"] == 1


def test_total_drifts_between_pages(server):
    faults(server, {"kind": "mutate", "requests": [2], "mutation": {"op": "add", "count": 1}})
    first = get(server, "/products?limit=100").json()
    second = get(server, "/products?skip=100&limit=100").json()
    assert (first["total"], second["total"]) == (194, 195)
    assert second["products"][-1]["id"] == 195
    faults(server, {"kind": "mutate", "requests": [1], "mutation": {"op": "remove", "ids": [1]}})
    assert get(server, "/products?limit=1").json()["products"][0]["id"] == 2


def test_faults_target_paths_and_never_control_routes(server):
    faults(
        server,
        {"kind": "error", "statuses": [500], "path": "/products/category/"},
        {"kind": "reset", "target": "images"},
    )
    assert get(server, "/products/category/audio").status_code == 500
    assert get(server, "/products").status_code == 200
    with pytest.raises(requests.exceptions.ConnectionError):
        get(server, "/product-images/qr-code.png")
    faults(server, {"kind": "reset"}, {"kind": "error"})
    state = get(server, "/__control/state")
    assert state.status_code == 200
    assert control(server, "mutate", {"op": "price"}).status_code == 200
    body = state.json()
    assert body["requests"]["by_route"] == {
        "category": 1,
        "products": 1,
        "control": body["requests"]["by_route"]["control"],
    }
    assert body["faults"]["requests"] == {"api": 0, "images": 0}  # restarted by configure


def test_counters_by_route_status_and_fault(server):
    faults(server, {"kind": "rate_limit", "requests": [3]})
    get(server, "/products")
    get(server, "/products/1")
    get(server, "/products/search?q=x")
    get(server, "/products/categories")
    body = get(server, "/__control/state").json()
    assert body["requests"]["by_route"]["products"] == 1
    assert body["requests"]["by_route"]["product"] == 1
    assert body["requests"]["by_route"]["search"] == 1
    assert body["requests"]["by_status"]["429"] == 1
    assert body["faults"]["injected"]["rate_limit"] == 1
    assert body["faults"]["requests"]["api"] == 4
    assert body["faults"]["fired"] == [1]


# ----------------------------------------------------------------------- scale and CLI


def test_a_100k_catalog_serves_pages_without_generating_the_rest():
    with CatalogServer(seed=1, count=100_000) as big:
        body = get(big, "/products?skip=99990&limit=5&select=title").json()
        assert [p["id"] for p in body["products"]] == list(range(99_991, 99_996))
        assert body["total"] == 100_000
        assert len(get(big, "/products/category-list").json()) == 24
        assert get(big, "/products/77777").json()["id"] == 77_777
        generated = get(big, "/__control/state").json()["catalog"]["products_generated"]
        assert generated == 6


def test_cli_prints_the_url_and_stops_on_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.catalog", "--port", "0", "--count", "20", "--quiet"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        base_url = line.split(" ready at ")[1].split()[0]
        assert base_url.startswith("http://127.0.0.1:")
        body = requests.get(f"{base_url}/products?limit=1", timeout=TIMEOUT).json()
        assert body["total"] == 20
        assert body["products"][0]["thumbnail"].startswith(base_url)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_faults_can_be_given_on_the_command_line(tmp_path):
    config = tmp_path / "faults.json"
    config.write_text(json.dumps({"rules": [{"kind": "error", "statuses": [503]}]}))
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.catalog", "--port", "0", "--faults", f"@{config}"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        base_url = process.stdout.readline().split(" ready at ")[1].split()[0]
        assert requests.get(f"{base_url}/products", timeout=TIMEOUT).status_code == 503
        assert requests.get(f"{base_url}/__control/state", timeout=TIMEOUT).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
