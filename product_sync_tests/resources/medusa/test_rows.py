from product_sync.resources.medusa import indexed_product
from product_sync_tests.resources.medusa.support import answered_product


def test_a_variant_with_two_usd_prices_has_no_price_in_the_index():
    # Left by two runs updating one product at once: planning must rewrite the prices.
    product = {
        "id": "p1",
        "external_id": "dummyjson:1",
        "handle": "a",
        "status": "published",
        "variants": [
            {
                "id": "v1",
                "prices": [
                    {"amount": 9.99, "currency_code": "usd"},
                    {"amount": 9.99, "currency_code": "usd"},
                    {"amount": 8, "currency_code": "eur"},
                ],
            }
        ],
    }
    assert indexed_product("dummyjson:", product).price is None
    product["variants"][0]["prices"].pop(0)
    assert str(indexed_product("dummyjson:", product).price) == "9.99"


def test_index_holds_the_variant_s_inventory_item():
    listed = answered_product("prod_1", "dummyjson:1", "iitem_1")
    listed.update(handle="h", status="published")
    assert indexed_product("dummyjson:", listed).inventory_item_id == "iitem_1"
    listed["variants"][0]["inventory_items"] = []
    assert indexed_product("dummyjson:", listed).inventory_item_id is None
