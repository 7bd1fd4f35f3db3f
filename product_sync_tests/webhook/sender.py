"""The sender side of the tests: deliveries signed by the ``standardwebhooks`` package (the
reference library of the standard), not by the service's own code."""

import base64
import secrets
import time
import uuid
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook


def new_secret(key_bytes: int = 32) -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(key_bytes)).decode()


def new_delivery_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def signed_headers(
    secret: str,
    body: bytes | str = b"",
    *,
    delivery_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The headers of a delivery of ``body``: ``webhook-id``, ``webhook-timestamp`` (now
    unless given) and ``webhook-signature``, plus the JSON content type."""
    text = body.decode() if isinstance(body, bytes) else body
    sent_at = int(time.time()) if timestamp is None else timestamp
    delivery_id = delivery_id or new_delivery_id()
    signature = Webhook(secret).sign(delivery_id, datetime.fromtimestamp(sent_at, UTC), text)
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(sent_at),
        "webhook-signature": signature,
        "Content-Type": "application/json",
    }
