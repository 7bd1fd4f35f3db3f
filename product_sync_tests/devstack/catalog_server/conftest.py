"""One catalog server per test module (seed 42, 194 products), reset before every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.catalog import CatalogServer
from product_sync_tests.devstack.catalog_server.calls import get


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
