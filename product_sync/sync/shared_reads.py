"""What a scaled-out sync reads once for all its ranges: the store-wide listings.

A range reads its own products, but the category and tag links, the sync's sale price
list and the stock levels at the sync's location are listings of the whole store: read
by every range, a 100k store's sale prices and levels cost each range what they cost the
whole run (measured at 6k in 3 ranges: the price list 9 requests and 4.8 s of Medusa's
time against 3 and 1.4 s read once; the levels 30 lookups and 11.9 s against 4 pages and
1.2 s). `id_ranges_op` reads them once, packed (zlib'd: a few MB at 100k), and each
range unpacks only what its own products need. Read at the start of the run like the
links: a change made while the run goes on is seen by the next run.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Iterable, Iterator, Set
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from itertools import chain
from typing import Any

from pydantic import BaseModel, ConfigDict

from product_sync.core.links import ProductLinks
from product_sync.core.ownership import IGNORE, OwnershipPolicy
from product_sync.core.sale_prices import HeldPrice
from product_sync.resources.http import HTTPError
from product_sync.resources.medusa import MedusaResource
from product_sync.sync.sale_prices import SaleAhead, read_sale_prices_ahead
from product_sync.sync.stock import StockAhead


def _pack(head: Any, rows: Iterable[Iterable[str]]) -> bytes:
    """`head` as JSON on the first line, then one tab-separated row a line, zlib'd: a
    range unpacks it a line at a time and holds only the rows it keeps. Unpacked whole
    (JSON of every row), a 100k store's sale prices took each range ~30 MB for a moment."""
    lines = chain([json.dumps(head, separators=(",", ":"))], ("\t".join(r) for r in rows))
    return zlib.compress("\n".join(lines).encode(), 1)


def _unpack(blob: bytes) -> tuple[Any, Iterator[list[str]]]:
    """The head, and the rows one at a time."""
    text = io.BytesIO(zlib.decompress(blob))
    head = json.loads(text.readline())
    return head, (line.decode().rstrip("\n").split("\t") for line in text)


def _read_sale(medusa: MedusaResource, policy: OwnershipPolicy) -> bytes | None:
    if policy.sale_price is IGNORE:
        return None
    ahead = read_sale_prices_ahead(medusa, policy)
    if ahead.error is not None:
        return None
    held = ((p.id, p.variant_id or "", str(p.amount), p.currency_code) for p in ahead.held)
    return _pack(ahead.lists, held)


def _read_stock(medusa: MedusaResource) -> bytes | None:
    try:
        locations = medusa.stock_locations(medusa.stock_location_name)
        levels = medusa.levels_at(locations[0]["id"]) if locations else ()
        return _pack(locations, ((item, json.dumps(level)) for item, level in levels))
    except HTTPError:
        return None


class SharedReads(BaseModel):
    """The store-wide reads of one scaled-out run, handed to each of its ranges."""

    model_config = ConfigDict(frozen=True)

    links: ProductLinks | None = None
    # SaleAhead: the lists, and every price of the oldest as (id, variant, amount, currency).
    sale: bytes | None = None
    # StockAhead: the sync's locations, and {inventory item id: level} at the first.
    stock: bytes | None = None

    @classmethod
    def read(cls, medusa: MedusaResource, policy: OwnershipPolicy, *, stock: bool) -> SharedReads:
        """Read the links, the sale price list (unless the `policy` ignores sale prices)
        and, with `stock`, the levels at the stock location. A failed sale price or stock
        read is left to the ranges, which read for themselves as before. The three are
        read side by side."""
        medusa.client  # noqa: B018 -- made here, in one thread, before three threads use it
        with ThreadPoolExecutor(max_workers=3) as pool:
            links = pool.submit(medusa.product_links)
            sale = pool.submit(_read_sale, medusa, policy)
            levels = pool.submit(_read_stock, medusa) if stock else None
            return cls(
                links=links.result(),
                sale=sale.result(),
                stock=levels.result() if levels else None,
            )

    def sale_for(self, variants: Set[str]) -> SaleAhead | None:
        """The sale price list as a range reads it, holding only its `variants`' prices
        (the only ones it plans: `core.sale_prices.plan_sale_prices`). None: the range
        reads it itself (not read, or no list yet: a range that runs after another made
        it would otherwise make a second one, to delete it again)."""
        if self.sale is None:
            return None
        lists, held = _unpack(self.sale)
        if not lists:
            return None
        return SaleAhead(
            lists=lists,
            held=[
                HeldPrice(id=i, variant_id=v, amount=Decimal(a), currency_code=c)
                for i, v, a, c in held
                if v in variants
            ],
        )

    def stock_for(self, items: Iterable[str]) -> StockAhead | None:
        """The location and the levels of these `items` (None: no level there yet), as
        `sync.stock.read_stock_ahead` reads them; None: not read."""
        if self.stock is None:
            return None
        locations, rows = _unpack(self.stock)
        if not locations:
            return StockAhead(locations=[], levels={})
        levels: dict[str, int | None] = dict.fromkeys(items)
        for item, level in rows:
            if item in levels:
                levels[item] = json.loads(level)
        return StockAhead(locations, levels)
