"""The Admin API transport: authentication, one call, paged listings, filter checks.

Auth is a secret API key sent as the HTTP Basic username (Medusa rejects it as Bearer).
Medusa silently ignores unknown query parameters, so every filtered read checks that what
came back matches the filter it asked for (`check_filter`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote

from pydantic import Field

from product_sync.resources.http import AuthError
from product_sync.resources.http_resource import HTTPClientResource

LOOKUP_CHUNK = 100  # ids per filtered GET: keeps URLs well under server limits
# Values per filtered GET where the lookups are the bulk of a read (a range's index): a
# lookup's cost is largely per request (10k store: 100 external ids 0.14-0.19 s, 250 ids
# 0.24-0.25 s, a listing page 0.7-0.8 ms per row), bounded by the URL's length, which
# Node refuses above 16 KB of headers (`431`; 500 external ids are ~19 KB).
LOOKUP_MAX = 250
URL_BUDGET = 10_000  # characters of filter values per request
# Rows per page of a listing. Medusa's time is largely per request, not per row: the 10k
# store's index read took 3.3 s in pages of 500 and 2.1 s in pages of 2000; its inventory
# item ids 2.8 s and 1.2 s. A page of 2000 index rows is about 2 MB of JSON.
PAGE_SIZE = 2000
# A listing page costs Medusa about as much as this many 100-value lookups (measured on the
# 10k store: ~0.3 s for 2000 rows of a few fields, ~0.06 s per lookup).
SCAN_PAGE_COST = 5


class StoreRejected(Exception):
    """The store refused our credentials or its answers cannot be trusted: fail the run."""


class FilterIgnored(StoreRejected):
    """A filtered read returned records outside the filter (the store ignored it)."""


class MedusaClient(HTTPClientResource):
    """A Medusa v2 store's Admin API, authenticated with a secret API key: the settings of
    the connection and the calls every part of the resource makes through it."""

    backend_url: str = Field(description="e.g. http://127.0.0.1:9000")
    api_key: str = Field(description="secret API key (sk_…); set it with an EnvVar")
    batch_size: int = Field(
        default=100,
        gt=0,
        le=500,
        description="products per batch request (100 measured fastest: benchmarks/README.md)",
    )
    write_concurrency: int = Field(default=1, gt=0, le=8, description="batch requests at once")
    read_concurrency: int = Field(
        default=4,
        gt=0,
        le=8,
        description="lookups at once where a read takes several (stock levels by id)",
    )
    category_concurrency: int = Field(
        default=1,
        gt=0,
        le=8,
        description=(
            "category creates at once (one request each; Medusa has no batch route). Above 1,"
            " Medusa gives concurrently created siblings equal `rank`s (measured on 2.21.2,"
            " explicit ranks included), so their order in the admin is undefined; 4 saves"
            " ~0.6 s on a first run of 24 categories"
        ),
    )
    read_timeout_s: float = 60.0

    def _base_url(self) -> str:
        return self.backend_url

    def _auth(self) -> tuple[str, str]:
        check_key_usable(self.api_key)
        return (self.api_key, "")

    def _pool_size(self) -> int:
        # The stock read ahead (`read_concurrency` lookups) overlaps the writes.
        return max(4, self.category_concurrency) + self.write_concurrency + self.read_concurrency

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call, retried by the client's policy; a refused key fails the run."""
        try:
            return self.client.request(method, path, **kwargs)
        except AuthError as error:
            raise self._key_rejected(error) from None

    def _send_once(self, method: str, path: str, **kwargs: Any) -> Any:
        """One attempt, for callers that decide themselves what to do before a retry."""
        try:
            return self.client.send_once(method, path, **kwargs)
        except AuthError as error:
            raise self._key_rejected(error) from None

    def _key_rejected(self, error: AuthError) -> StoreRejected:
        return StoreRejected(
            f"Medusa at {self.backend_url} rejected the API key ({error.status}): "
            "check MEDUSA_API_KEY is a valid secret key for this store"
        )

    def _iter_listing(
        self, path: str, key: str, params: dict[str, Any], page_size: int
    ) -> Iterator[dict[str, Any]]:
        """Every row of a paged Admin API listing, a page at a time."""
        offset = 0
        while True:
            body = self._call("GET", path, params={**params, "limit": page_size, "offset": offset})
            rows = body.get(key, [])
            yield from rows
            offset += len(rows)
            if not rows or offset >= body.get("count", 0):
                return


def check_key_usable(key: str) -> None:
    """Refuse, before any request, a key that cannot be one: HTTP Basic sends it as
    Latin-1, so a pasted `…` or non-breaking space would otherwise surface as a
    UnicodeEncodeError deep in `requests`, naming neither the setting nor the cause.
    The message never repeats the key."""
    if not key or not key.isascii() or any(c.isspace() or not c.isprintable() for c in key):
        raise StoreRejected(
            "MEDUSA_API_KEY is not a usable secret key: it is empty or holds characters no "
            "key has (non-ASCII, whitespace or control characters); set it to the store's "
            "secret API key (sk_…)"
        )


def check_filter(rows: list[dict[str, Any]], key: str, wanted: Sequence[str]) -> None:
    """Fail when a filtered read returned rows the filter excludes (the store ignored it)."""
    allowed = set(wanted)
    stray = [r.get(key) for r in rows if r.get(key) not in allowed]
    if stray:
        raise FilterIgnored(
            f"the store ignored a `{key}` filter: asked for {len(allowed)} values, "
            f"got {len(stray)} other records (e.g. {stray[:3]!r})"
        )


def listing_is_cheaper(rows: int, lookups: int, per_lookup: int = LOOKUP_CHUNK) -> bool:
    """Is reading `rows` in pages cheaper than looking `lookups` values up by id,
    `per_lookup` values a request?"""
    pages = -(-rows // PAGE_SIZE)
    return pages * SCAN_PAGE_COST < -(-lookups // per_lookup)


def lookup_chunks(values: Sequence[str], param: str) -> Iterator[list[str]]:
    """`values` in chunks of at most `LOOKUP_MAX`, each short enough to send as repeated
    `param[]=` query parameters within `URL_BUDGET`."""
    chunk: list[str] = []
    used = 0
    for value in values:
        cost = len(quote(value, safe="")) + len(quote(param + "[]")) + 2
        if chunk and (len(chunk) >= LOOKUP_MAX or used + cost > URL_BUDGET):
            yield chunk
            chunk, used = [], 0
        chunk.append(value)
        used += cost
    if chunk:
        yield chunk


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
