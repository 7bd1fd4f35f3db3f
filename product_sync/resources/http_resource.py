"""What every resource that talks to an HTTP API shares: timeout and retry settings, one
pooled `JSONClient` made on first use and closed after the run, and its counters."""

from __future__ import annotations

import dagster as dg
from pydantic import Field, PrivateAttr

from product_sync.resources.http import JSONClient, RetryPolicy


class HTTPClientResource(dg.ConfigurableResource):
    """A Dagster resource backed by one `JSONClient`. Subclasses say where it points
    (`_base_url`), how it authenticates (`_auth`) and how many connections it pools."""

    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    max_retries: int = Field(default=3, ge=0)
    initial_backoff_s: float = 1.0
    max_backoff_s: float = 30.0

    _client: JSONClient | None = PrivateAttr(default=None)

    def _base_url(self) -> str:
        raise NotImplementedError

    def _auth(self) -> tuple[str, str] | None:
        return None

    def _pool_size(self) -> int:
        raise NotImplementedError

    @property
    def client(self) -> JSONClient:
        if self._client is None:
            self._client = JSONClient(
                self._base_url(),
                auth=self._auth(),
                connect_timeout_s=self.connect_timeout_s,
                read_timeout_s=self.read_timeout_s,
                policy=RetryPolicy(self.max_retries, self.initial_backoff_s, self.max_backoff_s),
                pool_size=self._pool_size(),
            )
        return self._client

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()

    @property
    def requests_made(self) -> int:
        return self._client.stats.requests if self._client else 0

    @property
    def retries_made(self) -> int:
        return self._client.stats.retries if self._client else 0
