"""Every fault kind the catalog server injects, and its counters."""

from __future__ import annotations

import pytest
import requests

from product_sync_tests.devstack.catalog_server.calls import control, faults, get, statuses


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
