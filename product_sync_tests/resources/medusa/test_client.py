import base64

import pytest
import responses

from product_sync.resources.medusa import (
    MedusaResource,
    StoreRejected,
)
from product_sync_tests.resources.medusa.support import (
    BASE,
    KEY,
    medusa,
)


@responses.activate
def test_rejected_key_fails_fast_with_a_clear_message_and_no_secret():
    responses.get(f"{BASE}/admin/stores", status=401, json={"message": "Unauthorized"})
    with pytest.raises(StoreRejected) as error:
        medusa().default_sales_channel_id()
    assert "MEDUSA_API_KEY" in str(error.value)
    assert KEY not in str(error.value)
    assert len(responses.calls) == 1


@responses.activate
def test_key_is_sent_as_basic_auth_username_with_an_empty_password():
    responses.get(f"{BASE}/admin/stores", json={"stores": [{"default_sales_channel_id": "sc"}]})
    assert medusa().default_sales_channel_id() == "sc"
    scheme, _, credentials = responses.calls[0].request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(credentials, validate=True).decode("latin-1") == f"{KEY}:"


@responses.activate
def test_requests_and_retries_are_counted():
    # Through the client base both resources share: what run reports and benchmarks show.
    stores = f"{BASE}/admin/stores"
    responses.get(stores, status=503, json={"message": "busy"})
    responses.get(stores, json={"stores": []})
    resource = medusa()
    assert (resource.requests_made, resource.retries_made) == (0, 0)
    assert resource.default_sales_channel_id() is None
    assert (resource.requests_made, resource.retries_made) == (2, 1)


@pytest.mark.parametrize(
    "key", ["sk_\u2026pasted", "sk_abc\n", "sk_abc\u00a0", "", "sk_a b", "sk_\x07"]
)
@responses.activate
def test_unusable_key_fails_before_any_request_naming_the_setting_not_the_key(key):
    resource = MedusaResource(backend_url=BASE, api_key=key)
    with pytest.raises(StoreRejected) as error:
        resource.default_sales_channel_id()
    assert "MEDUSA_API_KEY" in str(error.value)
    if key.strip():
        assert key.strip() not in str(error.value)
    assert len(responses.calls) == 0
