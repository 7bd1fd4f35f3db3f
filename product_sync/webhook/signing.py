"""Request signatures: the Standard Webhooks scheme (https://www.standardwebhooks.com/).

A sender sends ``webhook-id`` (the delivery's id, the same on every retry),
``webhook-timestamp`` (unix seconds) and ``webhook-signature: v1,<base64 HMAC-SHA256 of
"<id>.<timestamp>.<raw body>">`` (several space-separated entries are allowed, so a sender
can sign with an old and a new secret while rotating). The key is the base64 part of a
``whsec_<base64>`` secret.

The HMAC itself is checked by the ``standardwebhooks`` package. The header checks here come
first so an unsigned or stale request is refused before its body is read, with an error code
that says what is wrong (the package's own errors do not).
"""

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from product_sync.webhook.errors import WebhookError

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"
# The standard's advice: 24 to 64 random bytes.
MIN_KEY_BYTES = 24
# The same tolerance the package applies; checked here for a clear error code.
TOLERANCE_S = 300
# The id becomes a Dagster run tag; bounded and printable so it stays a readable tag.
MAX_ID_LENGTH = 128
# Unix seconds have 10 digits until the year 2286; more is not a timestamp.
_MAX_TIMESTAMP_DIGITS = 12
# One entry of the signature header: "<version>,<base64>" ("v1a" is the asymmetric scheme).
_SIGNATURE_ENTRY = re.compile(
    r"v[0-9a-z]+,(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
)


class SecretError(ValueError):
    """A secret that is not ``whsec_<base64 of at least MIN_KEY_BYTES bytes>``. The message
    never contains the secret."""


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_…`` secret. Strict: the package alone would also take a
    bare or mistyped secret and quietly drop the characters that are not base64."""
    example = 'for example `echo "whsec_$(openssl rand -base64 32)"`'
    if not secret.startswith(SECRET_PREFIX):
        raise SecretError(f"must start with {SECRET_PREFIX!r} followed by base64 ({example})")
    # Padding is optional, as in the package (some senders' secrets have none).
    encoded = secret[len(SECRET_PREFIX) :].rstrip("=")
    try:
        if len(encoded) % 4 == 1:
            raise ValueError("a base64 text is never 4n+1 characters long")
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SecretError(
            f"is not valid base64 after {SECRET_PREFIX!r} (standard alphabet A-Z a-z 0-9 + /; "
            f"{example})"
        ) from exc
    if len(key) < MIN_KEY_BYTES:
        raise SecretError(
            f"is too short: its key is {len(key)} bytes, use at least {MIN_KEY_BYTES} ({example})"
        )
    return key


@dataclass(frozen=True)
class SignedHeaders:
    """The three headers of a delivery, checked for form and age (not yet for the HMAC)."""

    delivery_id: str
    timestamp: int
    signature: str = field(repr=False)


def _header(headers: Mapping[str, str], name: str, code: str) -> str:
    value = (headers.get(name) or "").strip()
    if not value:
        raise WebhookError(401, code, f"the {name} header is missing")
    return value


def check_headers(headers: Mapping[str, str], now: float) -> SignedHeaders:
    """The delivery's headers, if present, well formed and (the timestamp) within
    ``TOLERANCE_S`` of ``now`` either way; else a 401 ``WebhookError``."""
    delivery_id = _header(headers, ID_HEADER, "missing_webhook_id")
    if (
        len(delivery_id) > MAX_ID_LENGTH
        or not delivery_id.isascii()
        or not all(33 <= ord(c) <= 126 for c in delivery_id)
    ):
        raise WebhookError(
            401,
            "invalid_webhook_id",
            f"{ID_HEADER} must be 1 to {MAX_ID_LENGTH} printable ASCII characters, no spaces",
        )
    text = _header(headers, TIMESTAMP_HEADER, "missing_timestamp")
    if not text.isascii() or not text.isdigit() or len(text) > _MAX_TIMESTAMP_DIGITS:
        raise WebhookError(
            401, "invalid_timestamp", f"{TIMESTAMP_HEADER} must be whole unix seconds"
        )
    timestamp = int(text)
    if timestamp < now - TOLERANCE_S:
        raise WebhookError(
            401,
            "stale_timestamp",
            f"{TIMESTAMP_HEADER} is more than {TOLERANCE_S} s old; sign the delivery again "
            "(and check the sender's clock)",
        )
    if timestamp > now + TOLERANCE_S:
        raise WebhookError(
            401,
            "future_timestamp",
            f"{TIMESTAMP_HEADER} is more than {TOLERANCE_S} s in the future; check the "
            "sender's clock",
        )
    signature = _header(headers, SIGNATURE_HEADER, "missing_signature")
    # The package would stumble on a malformed entry (or quietly read bad base64 as empty).
    entries = signature.split(" ")
    if not all(_SIGNATURE_ENTRY.fullmatch(entry) for entry in entries):
        raise WebhookError(
            401,
            "invalid_signature",
            f"{SIGNATURE_HEADER} must be space-separated v1,<base64> entries",
        )
    if not any(entry.startswith("v1,") for entry in entries):
        raise WebhookError(401, "invalid_signature", f"{SIGNATURE_HEADER} has no v1,<base64> entry")
    return SignedHeaders(delivery_id, timestamp, signature)


def verify_signature(keys: Sequence[bytes], body: str, signed: SignedHeaders) -> None:
    """Accept when one ``v1`` entry of the signature header is the HMAC of
    ``id.timestamp.body`` under one of ``keys`` (the current key and, while rotating, the
    previous one); else a 401. ``body`` is the raw body, decoded as UTF-8."""
    headers = {
        ID_HEADER: signed.delivery_id,
        TIMESTAMP_HEADER: str(signed.timestamp),
        SIGNATURE_HEADER: signed.signature,
    }
    for key in keys:
        try:
            Webhook(key).verify(body, headers, json_parse=False)
        except WebhookVerificationError:
            continue
        return
    raise WebhookError(
        401,
        "invalid_signature",
        f"no {SIGNATURE_HEADER} entry matches the body, {ID_HEADER} and {TIMESTAMP_HEADER} "
        "under the configured secret",
    )
