"""POST an alert to a chat webhook (Slack's incoming-webhook shape: `{"text": ...}`).

A webhook URL usually is the credential (Slack's embeds a token in its path), so no error or
log line here ever contains it: they say "the alert webhook" instead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests

from product_sync.core.alerts import payload
from product_sync.resources.http import (
    ClientError,
    RetryPolicy,
    TransientError,
    _message,
    retry_after_seconds,
)

TARGET = "the alert webhook"
# A sensor tick has about a minute: a few quick tries, then report and move on.
POLICY = RetryPolicy(max_retries=2, initial_backoff_s=0.5, max_backoff_s=5.0)
TIMEOUT_S = (3.0, 10.0)


class AlertConfigError(ValueError):
    """The webhook setting cannot be used; the message says why (never its value)."""


def check_url(url: str, env_name: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AlertConfigError(
            f"{env_name} must be an http(s) URL such as https://hooks.slack.com/services/…"
            " (the value is not shown: it may hold a token)"
        )
    return url.strip()


def post_alert(
    url: str,
    text: str,
    *,
    session: requests.Session | None = None,
    policy: RetryPolicy = POLICY,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Send one message; returns the receiver's status. Retries connection errors, timeouts,
    5xx and 429 (honouring Retry-After); raises TransientError / ClientError when it gave up."""
    http = session or requests.Session()
    try:
        for attempt in policy.retrying(sleep=sleep):
            with attempt:
                return _send_once(http, url, text)
    finally:
        if session is None:
            http.close()
    raise AssertionError("unreachable")  # pragma: no cover


def _send_once(http: requests.Session, url: str, text: str) -> int:
    try:
        response = http.post(
            url,
            data=json.dumps(payload(text)),
            headers={"Content-Type": "application/json"},
            timeout=TIMEOUT_S,
            allow_redirects=False,
        )
    except (requests.ConnectionError, requests.Timeout) as error:
        raise TransientError("POST", TARGET, None, type(error).__name__) from None
    status = response.status_code
    if status == 429 or status >= 500:
        raise TransientError(
            "POST",
            TARGET,
            status,
            _message(response),
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    if status >= 300:
        raise ClientError("POST", TARGET, status, _message(response))
    return status
