"""DummyJSON products API: read the whole catalog, in parallel pages, consistently."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from product_sync.resources.http import ClientError, HTTPError, JSONClient, RetryPolicy

DEFAULT_BASE_URL = "https://dummyjson.com"


class SourceUnavailable(Exception):
    """The source could not be read: a job-level failure, never a partial catalog."""


@dataclass
class CatalogRead:
    records: list[Any]
    total: int
    pages: int
    consistent: bool
    missing_ids: list[int]


def _envelope(body: Any, path: str) -> tuple[list[Any], int]:
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("products"), list)
        or not isinstance(body.get("total"), int)
    ):
        raise SourceUnavailable(f"GET {path}: not a products envelope ({str(body)[:120]!r})")
    return body["products"], body["total"]


class DummyJSONResource(dg.ConfigurableResource):
    """The DummyJSON products API (or anything that speaks it, like the local catalog)."""

    base_url: str = Field(default=DEFAULT_BASE_URL, description="API root, no trailing /products")
    page_size: int = Field(
        default=100,
        gt=0,
        le=1000,
        description="products per page (DummyJSON serves any limit; 30 is only its default)",
    )
    concurrency: int = Field(default=4, gt=0, le=32, description="pages fetched at once")
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    max_retries: int = Field(default=3, ge=0)
    initial_backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    max_consistent_reads: int = Field(
        default=3, gt=0, description="re-reads of the catalog while `total` keeps changing"
    )

    _client: JSONClient | None = PrivateAttr(default=None)

    @property
    def client(self) -> JSONClient:
        if self._client is None:
            self._client = JSONClient(
                self.base_url,
                connect_timeout_s=self.connect_timeout_s,
                read_timeout_s=self.read_timeout_s,
                policy=RetryPolicy(self.max_retries, self.initial_backoff_s, self.max_backoff_s),
                pool_size=self.concurrency,
            )
        return self._client

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        try:
            return self.client.get(path, params=params)
        except HTTPError as error:
            raise SourceUnavailable(f"source {self.base_url}: {error}") from None

    def _page(self, skip: int) -> tuple[list[Any], int]:
        body = self._get("/products", {"limit": self.page_size, "skip": skip})
        return _envelope(body, "/products")

    def _read_once(self) -> tuple[list[Any], int, int, bool]:
        first, total = self._page(0)
        skips = range(self.page_size, total, self.page_size)
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            pages = list(pool.map(self._page, skips))
        records = list(first)
        consistent = True
        for page_records, page_total in pages:
            records.extend(page_records)
            consistent &= page_total == total
        # Fewer records than `total` means a page came back short: the catalog moved.
        consistent &= len(records) == total
        return records, total, 1 + len(pages), consistent

    def read_catalog(self) -> CatalogRead:
        """Every product, page by page. If the catalog changes while we read (its `total`
        moves), read again, up to `max_consistent_reads` times; the last read is returned
        with `consistent=False` so the caller can refuse to archive on it."""
        pages = 0
        for _ in range(self.max_consistent_reads):
            records, total, page_count, consistent = self._read_once()
            pages += page_count
            if consistent:
                break
        return CatalogRead(records, total, pages, consistent, missing_ids=[])

    def read_products(self, ids: Iterable[int]) -> CatalogRead:
        """Only the given products (a targeted sync). Ids the source does not know are
        reported as missing, not treated as removals."""
        wanted = sorted(set(ids))

        def one(source_id: int) -> Any | None:
            try:
                return self.client.get(f"/products/{source_id}")
            except ClientError as error:
                if error.status == 404:
                    return None
                raise SourceUnavailable(f"source {self.base_url}: {error}") from None
            except HTTPError as error:
                raise SourceUnavailable(f"source {self.base_url}: {error}") from None

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            found = list(pool.map(one, wanted))
        records = [r for r in found if r is not None]
        missing = [i for i, r in zip(wanted, found, strict=True) if r is None]
        return CatalogRead(records, len(records), len(wanted), True, missing)

    def categories(self) -> Any:
        return self._get("/products/categories")

    @property
    def requests_made(self) -> int:
        return self._client.stats.requests if self._client else 0

    @property
    def retries_made(self) -> int:
        return self._client.stats.retries if self._client else 0
