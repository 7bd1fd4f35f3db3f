"""The one HTTP client both resources share: pooled session, timeouts, retries, counters.

Retries follow the brief: exponential backoff 1 s -> 2 s -> 4 s (capped at 30 s), at most
3 retries, on connection errors, timeouts, truncated bodies, 5xx and 429 — honouring a
`Retry-After` the server sends, within the same cap. Other 4xx are never retried: asking
again will not make a bad request good.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import pydantic_core
import requests
import tenacity
from requests.adapters import HTTPAdapter


class HTTPError(Exception):
    """A request that failed for good. Messages name the method and path, never credentials."""

    def __init__(self, method: str, path: str, status: int | None, message: str):
        self.method, self.path, self.status = method, path, status
        super().__init__(f"{method} {path} -> {status if status else 'no response'}: {message}")
        self.detail = message


class TransientError(HTTPError):
    """Worth asking again: 5xx, 429, a dropped connection, a timeout, a cut-off body."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None,
        message: str,
        retry_after: float | None = None,
    ):
        super().__init__(method, path, status, message)
        self.retry_after = retry_after


class ClientError(HTTPError):
    """A 4xx other than 401/403/429: the request itself is wrong."""


class AuthError(HTTPError):
    """401/403: credentials missing or rejected. Fails the run."""


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date).

    None when absent, unparseable, zero, negative or in the past: the caller then falls
    back to its own backoff rather than hammering the server.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return seconds if seconds > 0 else None


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    initial_backoff_s: float = 1.0
    max_backoff_s: float = 30.0

    def backoff(self, retry_number: int) -> float:
        return min(self.initial_backoff_s * 2 ** (retry_number - 1), self.max_backoff_s)

    def wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        asked = getattr(error, "retry_after", None)
        if asked is not None:
            return min(asked, self.max_backoff_s)
        return self.backoff(state.attempt_number)

    def retrying(
        self,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[tenacity.RetryCallState], None] | None = None,
    ) -> tenacity.Retrying:
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_retries + 1),
            wait=self.wait,
            retry=tenacity.retry_if_exception_type(TransientError),
            sleep=sleep,
            before_sleep=on_retry,
            reraise=True,
        )


@dataclass
class HTTPStats:
    requests: int = 0
    retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count_request(self) -> None:
        with self._lock:
            self.requests += 1

    def count_retry(self) -> None:
        with self._lock:
            self.retries += 1


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason or "").strip()[:300]
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        kind = body.get("type")
        return f"{kind}: {body['message']}" if kind else body["message"]
    return str(body)[:300]


def _decode(response: requests.Response) -> Any:
    """The body as JSON. pydantic-core's parser shares one str object among equal short
    strings (categories, brands, policies, URLs' repeated parts...), which makes a 10k-product
    catalog about 18 MB smaller in memory than `json` does, and parses faster. Bodies it
    refuses (a byte-order mark, UTF-16) go through `json`, which detects those."""
    try:
        return pydantic_core.from_json(response.content, cache_strings="all")
    except ValueError:
        return json.loads(response.content)


class JSONClient:
    """JSON over HTTP against one base URL, with the shared retry rules."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: tuple[str, str] | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 30.0,
        policy: RetryPolicy | None = None,
        pool_size: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.policy = policy or RetryPolicy()
        self.stats = HTTPStats()
        self._sleep = sleep
        self.session = requests.Session()
        self.session.auth = auth
        self.session.headers["Accept"] = "application/json"
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def send_once(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json_body: Any = None,
        files: Any = None,
        timeout: tuple[float, float] | None = None,
    ) -> Any:
        """One attempt. Raises TransientError / AuthError / ClientError, or returns JSON."""
        self.stats.count_request()
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=params,
                data=None if json_body is None else json.dumps(json_body, allow_nan=False),
                headers=None if json_body is None else {"Content-Type": "application/json"},
                files=files,
                timeout=timeout or self.timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            raise TransientError(method, path, None, type(error).__name__) from None
        except requests.exceptions.ChunkedEncodingError:
            raise TransientError(method, path, None, "response body cut off") from None
        status = response.status_code
        if status == 429 or status >= 500:
            raise TransientError(
                method,
                path,
                status,
                _message(response),
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if status in (401, 403):
            raise AuthError(method, path, status, _message(response))
        if status >= 400:
            raise ClientError(method, path, status, _message(response))
        try:
            return _decode(response)
        except ValueError:
            # A 2xx whose body does not parse was cut off on the way: asking again helps.
            raise TransientError(method, path, status, "response body is not valid JSON") from None

    def request(self, method: str, path: str, *, retry: bool = True, **kwargs: Any) -> Any:
        """Send with retries. `retry=False` for calls that are unsafe to repeat blindly."""
        if not retry:
            return self.send_once(method, path, **kwargs)
        for attempt in self.policy.retrying(sleep=self._sleep, on_retry=self._counted):
            with attempt:
                return self.send_once(method, path, **kwargs)
        raise AssertionError("unreachable")  # pragma: no cover

    def _counted(self, _state: tenacity.RetryCallState) -> None:
        self.stats.count_retry()

    def retrying(self) -> tenacity.Retrying:
        return self.policy.retrying(sleep=self._sleep, on_retry=self._counted)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)
