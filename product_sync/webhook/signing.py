"""Request signatures, as pure functions.

A sender signs ``"<timestamp>.<raw body>"`` with HMAC-SHA256 and the shared secret and
sends ``X-Webhook-Timestamp: <unix seconds>`` and ``X-Webhook-Signature: sha256=<hex>``.
The timestamp is part of the signed bytes, so an old request cannot be replayed with a new
timestamp, and requests more than ``TOLERANCE_S`` away from our clock are refused.
"""

import hashlib
import hmac
from collections.abc import Iterable

from product_sync.webhook.errors import WebhookError

SIGNATURE_HEADER = "X-Webhook-Signature"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
SCHEME = "sha256="
TOLERANCE_S = 300
# Unix seconds have 10 digits until the year 2286; more is not a timestamp.
_MAX_TIMESTAMP_DIGITS = 12


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Webhook-Signature`` value for ``body`` sent at ``timestamp``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return SCHEME + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def check_timestamp(header: str | None, now: float, tolerance_s: int = TOLERANCE_S) -> int:
    """The timestamp header as an int, if present, well formed and within ``tolerance_s``
    of ``now`` either way; else a 401 ``WebhookError``."""
    if header is None or not header.strip():
        raise WebhookError(401, "missing_timestamp", f"the {TIMESTAMP_HEADER} header is missing")
    value = header.strip()
    if not value.isascii() or not value.isdigit() or len(value) > _MAX_TIMESTAMP_DIGITS:
        raise WebhookError(
            401, "invalid_timestamp", f"{TIMESTAMP_HEADER} must be whole unix seconds"
        )
    timestamp = int(value)
    if timestamp < now - tolerance_s:
        raise WebhookError(
            401,
            "stale_timestamp",
            f"{TIMESTAMP_HEADER} is more than {tolerance_s} s old; sign the request again "
            "(and check the sender's clock)",
        )
    if timestamp > now + tolerance_s:
        raise WebhookError(
            401,
            "future_timestamp",
            f"{TIMESTAMP_HEADER} is more than {tolerance_s} s in the future; check the "
            "sender's clock",
        )
    return timestamp


def parse_signature(header: str | None) -> str:
    """The lower-case hex digest from a ``sha256=<hex>`` header, or a 401."""
    if header is None or not header.strip():
        raise WebhookError(401, "missing_signature", f"the {SIGNATURE_HEADER} header is missing")
    value = header.strip()
    if not value.lower().startswith(SCHEME):
        raise WebhookError(
            401, "invalid_signature", f"{SIGNATURE_HEADER} must look like sha256=<hex digest>"
        )
    return value[len(SCHEME) :].lower()


def verify_signature(
    secrets: Iterable[str], timestamp: str, body: bytes, signature_header: str | None
) -> None:
    """Accept when the header is the HMAC of ``timestamp.body`` under one of ``secrets``
    (the current secret and, while rotating, the previous one); else a 401."""
    given = parse_signature(signature_header)
    # Compare every candidate, in constant time each, and only then decide.
    matched = False
    for secret in secrets:
        expected = sign(secret, timestamp, body)[len(SCHEME) :]
        matched |= hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8"))
    if not matched:
        raise WebhookError(
            401, "invalid_signature", "the signature does not match the body and timestamp"
        )
