"""Seeded synthetic product catalog with DummyJSON's product schema and data quirks.

Every product is a pure function of ``(seed, id)``: a page of a 100k catalog is produced by
generating just that page, and nothing is cached. Categories are contiguous blocks of ids
(like DummyJSON's own file, which is sorted by category) whose sizes are computed from the
seed alone, so ``category_of(id)`` is a bisect, not a scan.
"""

from __future__ import annotations

import bisect
import random
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from devstack.catalog.vocabulary import (
    ACCENTED_WORDS,
    BRANDS,
    CATEGORY_POOL,
    DESCRIPTION_CLOSERS,
    DESCRIPTION_MIDDLES,
    DESCRIPTION_OPENERS,
    FIRST_NAMES,
    LAST_NAMES,
    RETURN_POLICIES,
    REVIEW_COMMENTS,
    SHIPPING,
    TITLE_PREFIXES,
    TITLE_SUFFIXES,
    WARRANTIES,
)

DEFAULT_SEED = 42
DEFAULT_COUNT = 194
DEFAULT_CATEGORIES = 24
DEFAULT_BASE_URL = "http://127.0.0.1:8700"

# DummyJSON's older image URLs carried the title as is: spaces encoded, but the
# apostrophes, ampersands and dots left raw. Clients must cope with exactly that.
_RAW_URL_CHARS = "'&.,!()-_~"
_MIN_PER_CATEGORY = 3
_MAX_PER_CATEGORY = 30
_DUPLICATE_TITLE_RATE = 0.04
_SLUG_TWIN_RATE = 0.04
_BRAND_RATE = 0.5
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
_DAY = 86_400


def image_url(base_url: str, category: str, title: str, name: str) -> str:
    return f"{base_url}/product-images/{category}/{quote(title, safe=_RAW_URL_CHARS)}/{name}"


def availability_for(stock: Any) -> str:
    if not isinstance(stock, int) or stock <= 0:
        return "Out of Stock"
    return "Low Stock" if stock < 10 else "In Stock"


def js_number(value: float) -> int | float:
    """JSON from JavaScript has no 15.0: an integral float is written as 15."""
    return int(value) if float(value).is_integer() else value


def _slug_twin(title: str) -> str:
    """A different title with the same slug: "Lamp Red" <-> "Lamp & Red"."""
    if " & " in title:
        return title.replace(" & ", " ", 1)
    first, _, rest = title.partition(" ")
    return f"{first} & {rest}" if rest else f"{title}."


def _code(text: str) -> str:
    letters = re.sub(r"[^A-Z]", "", text.upper())
    return (letters + "XXX")[:3]


def _iso(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _category_sizes(rng: random.Random, count: int, n: int) -> list[int]:
    """``n`` block sizes summing to ``count``: at least 3 and at most 30 each while that is
    possible (the DummyJSON shape), growing proportionally beyond that."""
    floor = min(_MIN_PER_CATEGORY, count // n)
    cap = max(_MAX_PER_CATEGORY, 2 * -(-count // n))
    sizes = [floor] * n
    # Squared weights make a few big categories and many small ones, as in real shops.
    weights = [rng.random() ** 2 + 0.05 for _ in range(n)]
    remaining = count - floor * n
    while remaining:
        room = [k for k in range(n) if sizes[k] < cap]
        total_weight = sum(weights[k] for k in room)
        quotas = {k: remaining * weights[k] / total_weight for k in room}
        granted = 0
        for k in room:
            grant = min(cap - sizes[k], int(quotas[k]))
            sizes[k] += grant
            granted += grant
        if not granted:
            # Every quota is below one item: hand out the rest by largest fraction.
            by_fraction = sorted(room, key=lambda k: quotas[k] - int(quotas[k]), reverse=True)
            for k in by_fraction[:remaining]:
                sizes[k] += 1
                granted += 1
        remaining -= granted
    return sizes


class CatalogGenerator:
    """Deterministic product factory. ``product(i)`` for ``1 <= i <= count`` is the base
    catalog; larger ids are products that can be "added" later and land in a seeded
    category."""

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        count: int = DEFAULT_COUNT,
        categories: int = DEFAULT_CATEGORIES,
        base_url: str = DEFAULT_BASE_URL,
    ) -> None:
        if count < 0:
            raise ValueError("count must be >= 0")
        if not 1 <= categories <= len(CATEGORY_POOL):
            raise ValueError(f"categories must be between 1 and {len(CATEGORY_POOL)}")
        self.seed = seed
        self.count = count
        self.base_url = base_url.rstrip("/")
        n = min(categories, max(1, count // _MIN_PER_CATEGORY)) if count else 0
        picker = self._rng("categories", n)
        self.categories: tuple[str, ...] = tuple(sorted(picker.sample(list(CATEGORY_POOL), n)))
        sizes = _category_sizes(self._rng("sizes", count), count, n) if n else []
        self._block_ends: list[int] = []
        end = 0
        for size in sizes:
            end += size
            self._block_ends.append(end)

    def _rng(self, purpose: str, key: int) -> random.Random:
        # String seeds go through SHA-512, so values are stable across processes and
        # Python versions, unlike hash()-based seeding.
        return random.Random(f"{self.seed}:{purpose}:{key}")

    @property
    def category_sizes(self) -> dict[str, int]:
        starts = [0, *self._block_ends][: len(self._block_ends)]
        return {
            slug: end - start
            for slug, start, end in zip(self.categories, starts, self._block_ends, strict=True)
        }

    def category_range(self, category: str) -> range:
        """The base ids of one category's block (empty for an unknown category)."""
        try:
            k = self.categories.index(category)
        except ValueError:
            return range(0)
        start = self._block_ends[k - 1] if k else 0
        return range(start + 1, self._block_ends[k] + 1)

    def category_of(self, product_id: int) -> str:
        if 1 <= product_id <= self.count:
            return self.categories[bisect.bisect_left(self._block_ends, product_id)]
        if not self.categories:
            return sorted(CATEGORY_POOL)[0]
        return self._rng("category", product_id).choice(self.categories)

    def _base_title(self, product_id: int, category: str) -> str:
        spec = CATEGORY_POOL[category]
        rng = self._rng("title", product_id)
        noun = rng.choice(spec.nouns)
        adjective = rng.choice(spec.adjectives)
        roll = rng.random()
        if roll < 0.08:
            return f"{rng.choice(TITLE_PREFIXES)} {noun}"
        if roll < 0.16:
            other = rng.choice([n for n in spec.nouns if n != noun])
            return f"{noun} & {other}"
        if roll < 0.21:
            return f"{rng.choice(ACCENTED_WORDS)} {adjective} {noun}"
        if roll < 0.45:
            return f"{adjective} {noun} {rng.choice(TITLE_SUFFIXES)}"
        if roll < 0.70:
            code = f"{rng.choice('ABCKMRSTVXZ')}{rng.randint(1, 99) * 10}"
            return f"{adjective} {noun} {code}"
        second = rng.choice([a for a in spec.adjectives if a != adjective])
        return f"{adjective} {second} {noun}"

    def title_of(self, product_id: int, category: str | None = None) -> str:
        category = category or self.category_of(product_id)
        previous = product_id - 1
        # Quirks copy the previous product's title, so both must be base products of the
        # same category (ids beyond count are "new" products and stay ordinary).
        if 1 < product_id <= self.count and self.category_of(previous) == category:
            roll = self._rng("quirk", product_id).random()
            if roll < _DUPLICATE_TITLE_RATE:
                return self.title_of(previous, category)
            if roll < _DUPLICATE_TITLE_RATE + _SLUG_TWIN_RATE:
                return _slug_twin(self.title_of(previous, category))
        return self._base_title(product_id, category)

    def products(self, start: int = 1, stop: int | None = None) -> Iterator[dict[str, Any]]:
        """Base products ``start..stop`` (inclusive, default: to the end), lazily."""
        last = self.count if stop is None else min(stop, self.count)
        for product_id in range(max(start, 1), last + 1):
            yield self.product(product_id)

    def product(self, product_id: int, category: str | None = None) -> dict[str, Any]:
        category = category or self.category_of(product_id)
        spec = CATEGORY_POOL[category]
        title = self.title_of(product_id, category)
        rng = self._rng("product", product_id)
        low, high = spec.price_range
        adjective = rng.choice(spec.adjectives)
        noun = rng.choice(spec.nouns)

        # Skewed towards cheap items, with shop-style endings and some bare integers.
        raw_price = low + (high - low) * rng.random() ** 3
        ending = rng.random()
        if ending < 0.08:
            price: int | float = max(1, round(raw_price))
        elif ending < 0.6:
            price = js_number(min(high, int(raw_price) + 0.99))
        else:
            price = js_number(round(raw_price, 2))
        discount = js_number(round(rng.uniform(0.5, 25.0), rng.choice((0, 2, 2, 2))))
        rating = rng.randint(1, 5) if rng.random() < 0.08 else round(rng.uniform(1.0, 5.0), 2)
        stock = 0 if rng.random() < 0.07 else min(250, int(rng.expovariate(1 / 45)) + 1)
        tags = rng.sample(spec.tags, rng.randint(1, len(spec.tags)))
        brand = rng.choice(BRANDS) if rng.random() < _BRAND_RATE else None
        sku = "-".join((_code(category), _code(brand or title), _code(title), f"{product_id:03d}"))
        weight = rng.randint(1, 10) if rng.random() < 0.12 else round(rng.uniform(0.1, 25.0), 2)
        dimensions = {
            axis: js_number(round(rng.uniform(5.0, 30.0), 2))
            for axis in ("width", "height", "depth")
        }
        created = _EPOCH + rng.uniform(0, 540 * _DAY)
        updated = created + rng.uniform(0, 60 * _DAY)

        values = {
            "title": title,
            "adj_lower": adjective.lower(),
            "noun_lower": noun.lower(),
        }
        sentences = [
            rng.choice(DESCRIPTION_OPENERS).format(**values),
            *rng.sample(DESCRIPTION_MIDDLES, rng.randint(1, 2)),
            rng.choice(DESCRIPTION_CLOSERS),
        ]
        description = " ".join(s for s in sentences if s)

        reviews = []
        for _ in range(rng.choice((0, 1, 2, 3, 3, 3, 4, 5))):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            ascii_name = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore")
            local = re.sub(r"[^a-z.]", "", ascii_name.decode().lower())
            reviews.append(
                {
                    "rating": rng.randint(1, 5),
                    "comment": rng.choice(REVIEW_COMMENTS),
                    "date": _iso(created + rng.uniform(0, 90 * _DAY)),
                    "reviewerName": f"{first} {last}",
                    "reviewerEmail": f"{local}@reviews.example",
                }
            )

        image_count = rng.randint(1, 6)
        product: dict[str, Any] = {
            "id": product_id,
            "title": title,
            "description": description,
            "category": category,
            "price": price,
            "discountPercentage": discount,
            "rating": rating,
            "stock": stock,
            "tags": tags,
            "brand": brand,
            "sku": sku,
            "weight": weight,
            "dimensions": dimensions,
            "warrantyInformation": rng.choice(WARRANTIES),
            "shippingInformation": rng.choice(SHIPPING),
            "availabilityStatus": availability_for(stock),
            "reviews": reviews,
            "returnPolicy": rng.choice(RETURN_POLICIES),
            "minimumOrderQuantity": rng.choice((1, 1, 1, 2, 5, 10, 12, 24, 48)),
            "meta": {
                "createdAt": _iso(created),
                "updatedAt": _iso(updated),
                "barcode": str(rng.randint(10**12, 10**13 - 1)),
                "qrCode": f"{self.base_url}/product-images/qr-code.png",
            },
            "images": [
                image_url(self.base_url, category, title, f"{n}.png")
                for n in range(1, image_count + 1)
            ],
            "thumbnail": image_url(self.base_url, category, title, "thumbnail.png"),
        }
        if brand is None:
            # DummyJSON omits the key rather than sending null.
            del product["brand"]
        return product
