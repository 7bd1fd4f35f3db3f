"""Requests to a catalog server under test, shared by its test modules."""

from __future__ import annotations

from pathlib import Path

import requests

from devstack.catalog import CatalogServer

TIMEOUT = 5
JSON_TYPE = "application/json; charset=utf-8"
REPO_ROOT = Path(__file__).resolve().parents[3]


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


def statuses(server: CatalogServer, n: int) -> list[int]:
    return [get(server, "/products?limit=1").status_code for _ in range(n)]
