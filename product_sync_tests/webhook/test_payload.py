"""Unit tests of the request body parser (pure: raw bytes in, product ids out)."""

import json

import pytest

from product_sync.webhook.errors import WebhookError
from product_sync.webhook.payload import MAX_PRODUCT_IDS, parse_product_ids


@pytest.mark.parametrize(
    ("body", "ids"),
    [
        (b"", []),
        (b"  \n", []),
        (b"{}", []),
        (b'{"product_ids": []}', []),
        (b'{"product_ids": [2, 1, 2]}', [1, 2]),
        (b'{"product_ids": [2147483647]}', [2147483647]),
    ],
)
def test_parse_product_ids(body, ids):
    assert parse_product_ids(body) == ids


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{", "invalid_json"),
        (b"product_ids=1", "invalid_json"),
        (b'{"product_ids": [NaN]}', "invalid_json"),
        (b"\xff\xfe{}", "invalid_json"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
        (b"[1, 2]", "invalid_body"),
        (b'"1"', "invalid_body"),
        (b"null", "invalid_body"),
        (b'{"product_id": 1}', "unknown_field"),
        (b'{"product_ids": [1], "dry_run": true}', "unknown_field"),
        (b'{"product_ids": null}', "invalid_product_ids"),
        (b'{"product_ids": 1}', "invalid_product_ids"),
        (b'{"product_ids": "1,2"}', "invalid_product_ids"),
        (b'{"product_ids": ["1"]}', "invalid_product_ids"),
        (b'{"product_ids": [1.0]}', "invalid_product_ids"),
        (b'{"product_ids": [1.5]}', "invalid_product_ids"),
        (b'{"product_ids": [true]}', "invalid_product_ids"),
        (b'{"product_ids": [null]}', "invalid_product_ids"),
        (b'{"product_ids": [0]}', "invalid_product_ids"),
        (b'{"product_ids": [-3]}', "invalid_product_ids"),
        (b'{"product_ids": [2147483648]}', "invalid_product_ids"),
        (b'{"product_ids": [[1]]}', "invalid_product_ids"),
    ],
)
def test_parse_rejects(body, code):
    with pytest.raises(WebhookError) as error:
        parse_product_ids(body)
    assert (error.value.status, error.value.code) == (400, code)


def test_too_many_ids():
    ids = list(range(1, MAX_PRODUCT_IDS + 1))
    assert parse_product_ids(json.dumps({"product_ids": ids}).encode()) == ids
    with pytest.raises(WebhookError) as error:
        parse_product_ids(json.dumps({"product_ids": [*ids, MAX_PRODUCT_IDS + 1]}).encode())
    assert (error.value.status, error.value.code) == (400, "too_many_product_ids")
