import time
from email.utils import formatdate

import pytest
import requests
import responses

from product_sync.resources.http import (
    AuthError,
    ClientError,
    JSONClient,
    RetryPolicy,
    TransientError,
    retry_after_seconds,
)

BASE = "http://api.test"


@pytest.fixture
def slept():
    return []


@pytest.fixture
def client(slept):
    return JSONClient(BASE, sleep=slept.append)


@responses.activate
def test_5xx_then_200_is_retried_with_exponential_backoff(client, slept):
    for status in (500, 502, 503):
        responses.get(f"{BASE}/x", status=status, json={"message": "down"})
    responses.get(f"{BASE}/x", json={"ok": True})
    assert client.get("/x") == {"ok": True}
    assert slept == [1.0, 2.0, 4.0]
    assert client.stats.requests == 4 and client.stats.retries == 3


@responses.activate
def test_gives_up_after_three_retries(client, slept):
    for _ in range(5):
        responses.get(f"{BASE}/x", status=503)
    with pytest.raises(TransientError) as error:
        client.get("/x")
    assert error.value.status == 503
    assert len(responses.calls) == 4 and slept == [1.0, 2.0, 4.0]


@responses.activate
def test_429_honours_retry_after(client, slept):
    responses.get(f"{BASE}/x", status=429, headers={"Retry-After": "7"})
    responses.get(f"{BASE}/x", json=[])
    assert client.get("/x") == []
    assert slept == [7.0]


@responses.activate
def test_retry_after_is_capped(slept):
    client = JSONClient(BASE, sleep=slept.append, policy=RetryPolicy(max_backoff_s=30))
    responses.get(f"{BASE}/x", status=429, headers={"Retry-After": "3600"})
    responses.get(f"{BASE}/x", json=[])
    client.get("/x")
    assert slept == [30]


# A fixed past date: a date computed at collection differs between xdist workers.
@pytest.mark.parametrize("header", ["0", "-5", "soon", "Wed, 01 Jan 2020 00:00:00 GMT"])
@responses.activate
def test_useless_retry_after_falls_back_to_backoff(client, slept, header):
    responses.get(f"{BASE}/x", status=429, headers={"Retry-After": header})
    responses.get(f"{BASE}/x", json=[])
    client.get("/x")
    assert slept == [1.0]


def test_retry_after_as_http_date():
    now = time.time()
    assert retry_after_seconds(formatdate(now + 10, usegmt=True), now=now) == pytest.approx(
        10, abs=1
    )


@responses.activate
def test_400_is_not_retried_and_carries_medusas_message(client, slept):
    responses.post(f"{BASE}/x", status=400, json={"type": "invalid_data", "message": "bad"})
    with pytest.raises(ClientError) as error:
        client.request("POST", "/x", json_body={})
    assert "invalid_data: bad" in str(error.value)
    assert len(responses.calls) == 1 and slept == []


@responses.activate
def test_401_is_an_auth_error_without_the_key(slept):
    client = JSONClient(BASE, auth=("sk_secret_value", ""), sleep=slept.append)
    responses.get(f"{BASE}/x", status=401, json={"message": "Unauthorized"})
    with pytest.raises(AuthError) as error:
        client.get("/x")
    assert "sk_secret_value" not in str(error.value)
    assert slept == []


@responses.activate
def test_connection_errors_and_timeouts_are_retried(client, slept):
    responses.get(f"{BASE}/x", body=requests.ConnectionError("reset"))
    responses.get(f"{BASE}/x", body=requests.ReadTimeout("slow"))
    responses.get(f"{BASE}/x", json={"ok": 1})
    assert client.get("/x") == {"ok": 1}
    assert slept == [1.0, 2.0]


@responses.activate
def test_truncated_json_is_retried(client, slept):
    responses.get(f"{BASE}/x", body='{"products": [{"id": 1', content_type="application/json")
    responses.get(f"{BASE}/x", json={"products": []})
    assert client.get("/x") == {"products": []}
    assert slept == [1.0]


@responses.activate
def test_equal_strings_in_a_body_share_one_object(client):
    # What keeps a large catalog small in memory: every product's "beauty" is one str.
    body = '[{"category": "beauty", "id": 1}, {"category": "beauty", "id": 2}]'
    responses.get(f"{BASE}/x", body=body, content_type="application/json")
    first, second = client.get("/x")
    assert first["category"] is second["category"]


@responses.activate
def test_a_body_with_a_byte_order_mark_still_reads(client, slept):
    body = "\ufeff" + '{"title": "Crème brûlée", "price": 9.99}'
    responses.get(f"{BASE}/x", body=body.encode("utf-8"), content_type="application/json")
    assert client.get("/x") == {"title": "Crème brûlée", "price": 9.99}
    assert slept == []


@responses.activate
def test_no_retry_when_asked(client, slept):
    responses.post(f"{BASE}/x", status=503)
    with pytest.raises(TransientError):
        client.request("POST", "/x", retry=False, json_body={})
    assert len(responses.calls) == 1


@responses.activate
def test_nan_is_never_sent(client):
    with pytest.raises(ValueError):
        client.request("POST", "/x", json_body={"amount": float("nan")})
