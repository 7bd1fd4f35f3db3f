"""The in-memory price-list store (`test_sale_prices.PriceListStore`, served by
`responses`) that the sale-price step's tests and its revert's tests both run against."""

import pytest
import responses

from product_sync_tests.sync.test_sale_prices import PriceListStore


@pytest.fixture
def store() -> PriceListStore:
    responses.start()
    fake = PriceListStore()
    fake.serve()
    try:
        yield fake
    finally:
        responses.stop()
        responses.reset()
