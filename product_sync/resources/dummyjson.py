"""DummyJSON products API: read the whole catalog, in parallel pages, consistently."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from product_sync.resources.downloads import Download, fetch_image
from product_sync.resources.http import ClientError, HTTPError
from product_sync.resources.http_resource import HTTPClientResource

DEFAULT_BASE_URL = "https://dummyjson.com"


class SourceUnavailable(Exception):
    """The source could not be read: a job-level failure, never a partial catalog."""


PageParser = Callable[[list[Any]], Any]

# Above this many products a read switches to `bulk_page_size` after its first page: the
# real DummyJSON (194 products) keeps its own default of 30.
BULK_THRESHOLD = 1000
BULK_PAGE_SIZE = 200


@dataclass
class CatalogRead:
    records: list[Any]  # as the source sent them, or what `parse` made of each page
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


class DummyJSONResource(HTTPClientResource):
    """The DummyJSON products API (or anything that speaks it, like the local catalog)."""

    base_url: str = Field(default=DEFAULT_BASE_URL, description="API root, no trailing /products")
    page_size: int = Field(
        default=30,
        gt=0,
        le=1000,
        description=(
            "products per page; 30 is the API's own default and the issue's. DummyJSON serves "
            "any limit, and 100 reads a 10k catalog about twice as fast (benchmarks/README.md)"
        ),
    )
    bulk_page_size: int = Field(
        default=BULK_PAGE_SIZE,
        ge=0,
        le=1000,
        description=(
            f"products per page after the first, for a catalog (or range) of more than "
            f"{BULK_THRESHOLD} products; 0: always `page_size`. Fewer, larger pages cost "
            "the source less (and count less against a rate limit); measured in "
            "benchmarks/README.md"
        ),
    )
    concurrency: int = Field(default=4, gt=0, le=32, description="pages fetched at once")
    max_consistent_reads: int = Field(
        default=3, gt=0, description="re-reads of the catalog while `total` keeps changing"
    )

    def _base_url(self) -> str:
        return self.base_url

    def _pool_size(self) -> int:
        return self.concurrency

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        try:
            return self.client.get(path, params=params)
        except HTTPError as error:
            raise SourceUnavailable(f"source {self.base_url}: {error}") from None

    def _page(self, skip: int, limit: int) -> tuple[list[Any], int]:
        body = self._get("/products", {"limit": limit, "skip": skip})
        return _envelope(body, "/products")

    def _rest_page_size(self, products: int) -> int:
        """The page size for the rest of a read of `products` products."""
        if products > BULK_THRESHOLD and self.bulk_page_size > self.page_size:
            return self.bulk_page_size
        return self.page_size

    def _read_once(self, parse: PageParser | None) -> tuple[list[Any], int, int, bool]:
        keep = parse or (lambda records: records)

        def page(skip: int, limit: int) -> tuple[Any, int, int]:
            page_records, page_total = self._page(skip, limit)
            return keep(page_records), len(page_records), page_total

        first = page(0, self.page_size)
        total = first[2]
        size = self._rest_page_size(total)
        skips = range(self.page_size, total, size)
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            pages = [first, *pool.map(lambda skip: page(skip, size), skips)]
        # Fewer records than `total` means a page came back short: the catalog moved.
        consistent = sum(p[1] for p in pages) == total and all(p[2] == total for p in pages)
        kept = [p[0] for p in pages]
        records = kept if parse else [record for page_records in kept for record in page_records]
        return records, total, len(pages), consistent

    def read_catalog(self, parse: PageParser | None = None) -> CatalogRead:
        """Every product, page by page. If the catalog changes while we read (its `total`
        moves), read again, up to `max_consistent_reads` times; the last read is returned
        with `consistent=False` so the caller can refuse to archive on it.

        With `parse`, each page is handed to it in the fetching thread as it arrives, and
        `records` holds what it returned, one item per page: the run never holds more than
        a page of raw JSON per thread.
        """
        pages = 0
        for _ in range(self.max_consistent_reads):
            records, total, page_count, consistent = self._read_once(parse)
            pages += page_count
            if consistent:
                break
        return CatalogRead(records, total, pages, consistent, missing_ids=[])

    def read_id_range(
        self, lo: int, hi: int | None, parse: PageParser | None = None
    ) -> CatalogRead:
        """The products whose ids lie in [lo, hi] (hi None: no upper end), for one
        partition of a scaled-out sync. Like `read_catalog`, a read during which the
        catalog moved is repeated, and the last one comes back `consistent=False`; with
        `parse`, each page's records in the range are handed to it as they arrive."""
        pages = 0
        for _ in range(self.max_consistent_reads):
            records, total, requests, consistent = self._read_range_once(lo, hi, parse)
            pages += requests
            if consistent:
                break
        return CatalogRead(records, total, pages, consistent, missing_ids=[])

    def max_id(self) -> int:
        """The highest id among the last products listed (the listing is in id order), or
        0 for an empty catalog: where a scaled-out sync draws its ranges up to."""
        _, total, _ = self._id_near(0)
        body = self._get("/products", {"limit": 20, "skip": max(0, total - 20), "select": "id"})
        records, _ = _envelope(body, "/products")
        ids = [r.get("id") for r in records if isinstance(r, dict)]
        return max((i for i in ids if isinstance(i, int) and not isinstance(i, bool)), default=0)

    def _id_near(self, position: int) -> tuple[int | None, int, int]:
        """The first integer id at or after `position` (a few records ahead, in case one is
        malformed), the listing's total, and the position that id was found at."""
        body = self._get("/products", {"limit": 5, "skip": position, "select": "id"})
        records, total = _envelope(body, "/products")
        for offset, record in enumerate(records):
            found = record.get("id") if isinstance(record, dict) else None
            if isinstance(found, int) and not isinstance(found, bool):
                return found, total, position + offset
        return None, total, position + len(records)

    def _first_position_above(self, bound: int, low: int, high: int) -> tuple[int, set[int], int]:
        """The first position in [low, high] whose id is > `bound`, by bisection: the
        listing is in ascending id order. Returns it, the totals seen and the requests."""
        totals: set[int] = set()
        requests = 0
        while low < high:
            middle = (low + high) // 2
            found, total, _ = self._id_near(middle)
            totals.add(total)
            requests += 1
            if found is None or found > bound:
                high = middle
            else:
                low = middle + 1
        return low, totals, requests

    def _read_range_once(
        self, lo: int, hi: int | None, parse: PageParser | None
    ) -> tuple[list[Any], int, int, bool]:
        keep = parse or (lambda records: records)
        _, total, _ = self._id_near(0)
        requests = 1
        # Ids are distinct positive integers in ascending order, so id x sits at a position
        # <= x - 1: the window [start, stop) is found in about log2(x) one-id requests.
        start, totals, n = self._first_position_above(lo - 1, 0, min(lo - 1, total))
        requests += n
        stop = total
        if hi is not None:
            stop, more, n = self._first_position_above(hi, start, min(hi, total))
            totals |= more
            requests += n
        size = self._rest_page_size(stop - start)
        skips = range(start, stop, size)

        def page(skip: int) -> tuple[Any, int, list[int]]:
            body = self._get("/products", {"limit": min(size, stop - skip), "skip": skip})
            page_records, page_total = _envelope(body, "/products")
            records, ids = [], []
            for record in page_records:
                found = record.get("id") if isinstance(record, dict) else None
                if not isinstance(found, int) or isinstance(found, bool):
                    records.append(record)  # malformed: validation quarantines it
                    continue
                ids.append(found)
                if found >= lo and (hi is None or found <= hi):
                    records.append(record)
            return keep(records), page_total, ids

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            read = list(pool.map(page, skips))
        requests += len(read)
        consistent = totals <= {total}
        last = lo - 1
        for _, page_total, ids in read:
            consistent &= page_total == total
            for found in ids:
                # Out of order or out of range: the catalog moved under the bisection.
                consistent &= last < found and (hi is None or found <= hi)
                last = max(last, found)
        kept = [p[0] for p in read]
        records = kept if parse else [record for page_records in kept for record in page_records]
        return records, total, requests, consistent

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

    def download_image(self, url: str, etag: str | None = None) -> Download:
        """An image from the source's CDN (any host), conditional on `etag`."""
        return fetch_image(self.client, url, etag)

    def categories(self) -> Any:
        return self._get("/products/categories")
