"""The request body, as a pure function: raw bytes in, product ids out.

Accepted: an empty body, ``{}``, ``{"product_ids": []}`` (all three: a full sync) or
``{"product_ids": [1, 2, ...]}`` (a targeted sync of those DummyJSON ids). Anything else
is a 400: a typo such as ``{"product_id": 1}`` must not quietly become a full sync.
"""

import json
from typing import Any

from product_sync.webhook.errors import WebhookError

MAX_PRODUCT_IDS = 1000
# Dagster's config Int and GraphQL's Int are 32-bit.
MAX_PRODUCT_ID = 2**31 - 1
FIELDS = ("product_ids",)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_product_ids(body: bytes) -> list[int]:
    """Sorted, de-duplicated product ids; ``[]`` means a full sync."""
    if not body.strip():
        return []
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise WebhookError(400, "invalid_json", "the body is not UTF-8 encoded") from exc
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise WebhookError(400, "invalid_json", f"the body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise WebhookError(400, "invalid_json", "the body is nested too deeply") from exc
    if not isinstance(data, dict):
        raise WebhookError(
            400,
            "invalid_body",
            f'the body must be a JSON object like {{"product_ids": [1, 2]}}, '
            f"not a JSON {_json_type(data)}",
        )
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise WebhookError(
            400,
            "unknown_field",
            f"unknown field(s) {', '.join(map(repr, unknown))}; the only field is 'product_ids'",
        )
    ids = data.get("product_ids", [])
    if not isinstance(ids, list):
        raise WebhookError(
            400,
            "invalid_product_ids",
            f"product_ids must be a list of positive integers, not a JSON {_json_type(ids)}",
        )
    if len(ids) > MAX_PRODUCT_IDS:
        raise WebhookError(
            400,
            "too_many_product_ids",
            f"at most {MAX_PRODUCT_IDS} product ids per request ({len(ids)} given); "
            "send an empty list for a full sync",
        )
    for index, value in enumerate(ids):
        # bool is a subclass of int, and true is not product 1.
        if not isinstance(value, int) or isinstance(value, bool):
            raise WebhookError(
                400,
                "invalid_product_ids",
                f"product_ids[{index}] is {json.dumps(value)[:40]}, not an integer",
            )
        if not 0 < value <= MAX_PRODUCT_ID:
            raise WebhookError(
                400,
                "invalid_product_ids",
                f"product_ids[{index}] is {value}; ids are integers from 1 to {MAX_PRODUCT_ID}",
            )
    return sorted(set(ids))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
