import json

import pytest
import responses

from product_sync.core.catalog import SourceCatalog
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.medusa import MedusaResource, StoreRejected
from product_sync.sync import build_category_map
from product_sync_tests.factories import product

SRC, STORE = "http://src.test", "http://store.test"


def resources():
    fast = {"initial_backoff_s": 0, "max_backoff_s": 0, "max_retries": 1}
    return (
        DummyJSONResource(base_url=SRC, **fast),
        MedusaResource(backend_url=STORE, api_key="sk_x", **fast),
    )


def catalog():
    return SourceCatalog(
        products=[product(id=1, category="beauty"), product(id=2, category="audio")]
    )


@responses.activate
def test_missing_categories_are_created_and_existing_ones_reused():
    responses.get(
        f"{SRC}/products/categories", json=[{"slug": "beauty", "name": "Beauty", "url": "u"}]
    )
    responses.get(
        f"{STORE}/admin/product-categories",
        json={"product_categories": [{"id": "pcat_b", "handle": "beauty", "name": "Beauty"}]},
    )
    responses.post(
        f"{STORE}/admin/product-categories",
        json={"product_category": {"id": "pcat_a", "handle": "audio"}},
    )
    result = build_category_map(catalog(), *resources())
    assert result.ids == {"beauty": "pcat_b", "audio": "pcat_a"}
    assert result.created == ["audio"] and result.error is None
    created = json.loads(responses.calls[-1].request.body)
    assert created == {"name": "Audio", "handle": "audio", "is_active": True}


@responses.activate
def test_a_store_failure_is_reported_not_raised():
    responses.get(f"{SRC}/products/categories", json=[])
    responses.get(f"{STORE}/admin/product-categories", status=503)
    result = build_category_map(catalog(), *resources())
    assert result.ids == {} and "503" in result.error


@responses.activate
def test_source_listing_failure_still_maps_the_products_categories():
    responses.get(f"{SRC}/products/categories", status=500)
    responses.get(
        f"{STORE}/admin/product-categories",
        json={
            "product_categories": [
                {"id": "pcat_b", "handle": "beauty", "name": "Beauty"},
                {"id": "pcat_a", "handle": "audio", "name": "Audio"},
            ]
        },
    )
    result = build_category_map(catalog(), *resources())
    assert result.ids == {"beauty": "pcat_b", "audio": "pcat_a"}
    assert "500" in result.error


@responses.activate
def test_one_category_that_cannot_be_created_does_not_stop_the_others():
    responses.get(f"{SRC}/products/categories", json=[])
    responses.get(f"{STORE}/admin/product-categories", json={"product_categories": []})
    responses.post(
        f"{STORE}/admin/product-categories",
        status=400,
        json={"type": "invalid_data", "message": "nope"},
    )
    responses.post(
        f"{STORE}/admin/product-categories",
        json={"product_category": {"id": "pcat_a", "handle": "audio"}},
    )
    result = build_category_map(catalog(), *resources())
    assert result.ids == {"audio": "pcat_a"}
    assert "nope" in result.failed["beauty"]


@responses.activate
def test_rejected_key_is_not_swallowed():
    responses.get(f"{SRC}/products/categories", json=[])
    responses.get(f"{STORE}/admin/product-categories", status=401)
    with pytest.raises(StoreRejected):
        build_category_map(catalog(), *resources())
