import pytest
import responses

from product_sync.resources.medusa import StoreRejected
from product_sync_tests.resources.medusa.support import BASE, KEY, medusa

PROFILES = f"{BASE}/admin/shipping-profiles"
STORE_PROFILES = [
    {"id": "sp_b", "name": "Bulky", "type": "custom"},
    {"id": "sp_a", "name": "Default Shipping Profile", "type": "default"},
]


@responses.activate
def test_products_get_the_stores_default_shipping_profile_unless_one_is_named():
    responses.get(PROFILES, json={"shipping_profiles": STORE_PROFILES, "count": 2})
    assert medusa().shipping_profile_id() == "sp_a"
    assert medusa().shipping_profile_id("Bulky") == "sp_b"
    assert medusa().shipping_profile_id("sp_b") == "sp_b"


@responses.activate
def test_a_store_without_a_default_profile_gives_none():
    responses.get(PROFILES, json={"shipping_profiles": STORE_PROFILES[:1], "count": 1})
    assert medusa().shipping_profile_id() is None


@responses.activate
def test_a_shipping_profile_setting_that_names_no_profile_fails_clearly():
    responses.get(PROFILES, json={"shipping_profiles": STORE_PROFILES, "count": 2})
    with pytest.raises(StoreRejected) as raised:
        medusa().shipping_profile_id("Fragile")
    message = str(raised.value)
    assert "'Fragile'" in message and "'Bulky'" in message and KEY not in message
