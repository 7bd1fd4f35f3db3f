"""The live catalog: the generated base plus overlays of mutations, and DummyJSON's query
operations over it.

Products live at *positions* (their place in DummyJSON's file order): ``1..count`` are the
generated base, later positions are products added or raw records injected, in the order
they arrived. Mutations never copy the base; they record removed positions, per-position
field patches and image versions, so memory grows with the number of mutations only.
"""

from __future__ import annotations

import bisect
import copy
import functools
import itertools
import random
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from devstack.catalog.generator import (
    DEFAULT_BASE_URL,
    DEFAULT_CATEGORIES,
    DEFAULT_COUNT,
    DEFAULT_SEED,
    CatalogGenerator,
    availability_for,
    image_url,
    js_number,
)
from devstack.catalog.images import png_bytes
from devstack.catalog.jsquery import (
    UNDEFINED,
    ListQuery,
    js_value,
    to_js_string,
    value_comparator,
)
from devstack.catalog.vocabulary import TITLE_EDITS

IMAGE_PREFIX = "/product-images/"
# Each op and the extra parameters it accepts (besides ids / id / count).
_OP_PARAMS: dict[str, frozenset[str]] = {
    "price": frozenset({"value"}),
    "stock": frozenset({"value"}),
    "title": frozenset({"value"}),
    "remove": frozenset(),
    "add": frozenset({"category"}),
    "move_category": frozenset({"value", "category"}),
    "images": frozenset({"mode"}),
    "corrupt": frozenset({"patch"}),
    "raw": frozenset({"record"}),
}
MUTATION_OPS = tuple(_OP_PARAMS)
# {"$delete": true} in a corrupt patch removes the key instead of setting it.
DELETE_MARKER = {"$delete": True}


class MutationError(ValueError):
    """A mutation request that cannot be applied (unknown op or id, bad arguments)."""


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_DELETED = _Marker("deleted")
_UNPATCHED = _Marker("unpatched")


@dataclass
class _Extra:
    """A position after the generated base: an added product or an injected raw record."""

    product_id: int | None = None
    category: str | None = None
    record: Any = None

    @property
    def is_raw(self) -> bool:
        return self.product_id is None


def category_name(slug: str) -> str:
    return " ".join(word[:1].upper() + word[1:] for word in slug.split("-"))


class Catalog:
    """Thread-safe. Every public method takes the lock, so a mutation never lands in the
    middle of a page being assembled."""

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        count: int = DEFAULT_COUNT,
        categories: int = DEFAULT_CATEGORIES,
        base_url: str = DEFAULT_BASE_URL,
    ) -> None:
        self._lock = threading.RLock()
        self._base_url = base_url.rstrip("/")
        self._settings = {"seed": seed, "count": count, "categories": categories}
        self.reset()

    # ----------------------------------------------------------------- lifecycle

    def reset(
        self, seed: int | None = None, count: int | None = None, categories: int | None = None
    ) -> None:
        """Drop every mutation; optionally regenerate with another seed, size or breadth."""
        with self._lock:
            changes = {"seed": seed, "count": count, "categories": categories}
            self._settings.update({k: v for k, v in changes.items() if v is not None})
            self.generator = CatalogGenerator(**self._settings, base_url=self._base_url)
            self._removed: set[int] = set()
            self._removed_sorted: list[int] = []
            self._extras: list[_Extra] = []
            self._added_by_id: dict[int, int] = {}
            self._patches: dict[int, dict[str, Any]] = {}
            self._image_versions: dict[str, int] = {}
            self._image_generation: dict[int, int] = {}
            self._max_id = self.generator.count
            self._log: list[dict[str, Any]] = []
            # How many products were generated since the reset: lets tests prove laziness.
            self.products_generated = 0

    @property
    def seed(self) -> int:
        return self.generator.seed

    @property
    def count(self) -> int:
        return self.generator.count

    @property
    def base_url(self) -> str:
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        with self._lock:
            self._base_url = value.rstrip("/")
            self.generator.base_url = self._base_url

    # ----------------------------------------------------------------- positions

    @property
    def _last_position(self) -> int:
        return self.generator.count + len(self._extras)

    @property
    def total(self) -> int:
        """Products currently listed (what ``total`` says for an unfiltered list)."""
        with self._lock:
            return self._last_position - len(self._removed)

    def _is_live(self, position: int) -> bool:
        return 1 <= position <= self._last_position and position not in self._removed

    def _nth_live(self, index: int) -> int:
        """Position of the ``index``-th (0-based) listed product, in O(log^2 removed)."""
        wanted = index + 1
        low, high = wanted, wanted + len(self._removed_sorted)
        while low < high:
            middle = (low + high) // 2
            if middle - bisect.bisect_right(self._removed_sorted, middle) >= wanted:
                high = middle
            else:
                low = middle + 1
        return low

    def _live_positions(self, start_index: int = 0) -> Iterator[int]:
        if start_index >= self._last_position - len(self._removed):
            return
        for position in range(self._nth_live(start_index), self._last_position + 1):
            if position not in self._removed:
                yield position

    def _extra(self, position: int) -> _Extra:
        return self._extras[position - self.generator.count - 1]

    def _record(self, position: int) -> Any:
        count = self.generator.count
        if position <= count:
            record: Any = self.generator.product(position)
            self.products_generated += 1
        else:
            extra = self._extra(position)
            if extra.is_raw:
                record = copy.deepcopy(extra.record)
            else:
                assert extra.product_id is not None
                record = self.generator.product(extra.product_id, extra.category)
                self.products_generated += 1
        patch = self._patches.get(position)
        if patch and isinstance(record, dict):
            for key, value in patch.items():
                if value is _DELETED:
                    record.pop(key, None)
                else:
                    record[key] = copy.deepcopy(value)
        return record

    def _is_object(self, position: int) -> bool:
        if position <= self.generator.count:
            return True
        extra = self._extra(position)
        return not extra.is_raw or isinstance(extra.record, dict)

    def _patched_value(self, position: int, key: str) -> Any:
        """A field as the overlays leave it, without generating the record, or
        ``_UNPATCHED`` when the base value stands (the caller then asks the generator)."""
        value = self._patches.get(position, {}).get(key, _UNPATCHED)
        return UNDEFINED if value is _DELETED else value

    def _category_at(self, position: int) -> Any:
        patched = self._patched_value(position, "category")
        if patched is not _UNPATCHED:
            return patched
        if position <= self.generator.count:
            return self.generator.category_of(position)
        extra = self._extra(position)
        return js_value(extra.record, "category") if extra.is_raw else extra.category

    def _id_at(self, position: int) -> Any:
        patched = self._patched_value(position, "id")
        if patched is not _UNPATCHED:
            return patched
        if position <= self.generator.count:
            return position
        extra = self._extra(position)
        return js_value(extra.record, "id") if extra.is_raw else extra.product_id

    def _irregular_positions(self) -> Iterable[int]:
        """Positions whose id or category the generator cannot tell: patched or raw."""
        patched = (p for p, patch in self._patches.items() if "id" in patch or "category" in patch)
        extras = range(self.generator.count + 1, self._last_position + 1)
        return sorted(set(patched).union(extras))

    def _find_position(self, product_id: str) -> int | None:
        """``products.find(p => p.id.toString() === id)``: the first in file order."""
        candidates = []
        if product_id.isascii() and product_id.isdigit() and not product_id.startswith("0"):
            number = int(product_id)
            position = number if number <= self.generator.count else self._added_by_id.get(number)
            if position is not None:
                candidates.append(position)
        candidates.extend(self._irregular_positions())
        for position in sorted(set(candidates)):
            if self._is_live(position) and to_js_string(self._id_at(position)) == product_id:
                return position
        return None

    # ----------------------------------------------------------------- queries

    def get(self, product_id: str | int) -> Any | None:
        """The record ``GET /products/{id}`` returns, or None for a 404."""
        with self._lock:
            position = self._find_position(str(product_id))
            return None if position is None else self._record(position)

    def records(self) -> Iterator[Any]:
        """Every listed record in file order. Lazy, but holds the lock per record only, so
        do not mutate while iterating if a consistent snapshot matters."""
        index = 0
        while True:
            with self._lock:
                position = next(self._live_positions(index), None)
                if position is None:
                    return
                record = self._record(position)
            yield record
            index += 1

    def list_products(
        self, query: ListQuery, *, search: str | None = None, category: str | None = None
    ) -> dict[str, Any]:
        """The envelope of ``/products``, ``/products/search?q=<search>`` and
        ``/products/category/<category>``: filter, total, sort, skip, limit, select."""
        with self._lock:
            filtered: list[int] | None = None
            if category is not None:
                filtered = self._category_positions(category)
            elif search:  # every string contains "", so an empty search filters nothing
                filtered = self._search_positions(search)
            total = self.total if filtered is None else len(filtered)
            start, stop = query.page_bounds(total)

            if query.sort_by:
                listed = self._live_positions() if filtered is None else filtered
                # Sort (value, position) pairs rather than records, so sorting a 100k
                # catalog holds 100k values, not 100k products.
                keyed = [(js_value(self._record(p), query.sort_by), p) for p in listed]
                compare = value_comparator(query.ascending)
                keyed.sort(key=functools.cmp_to_key(lambda a, b: compare(a[0], b[0])))
                page = [p for _, p in keyed[start:stop]]
            elif filtered is None:
                page = list(itertools.islice(self._live_positions(start), stop - start))
            else:
                page = filtered[start:stop]

            products = [query.project(self._record(p)) for p in page]
            return {
                "products": products,
                "total": total,
                "skip": query.skip_field,
                "limit": len(products),
            }

    def _category_positions(self, slug: str) -> list[int]:
        wanted = slug.lower()
        irregular = set(self._irregular_positions())
        found = []
        for base_category in self.generator.categories:
            if base_category.lower() == wanted:
                block = self.generator.category_range(base_category)
                found.extend(p for p in block if p not in self._removed and p not in irregular)
        for position in irregular:
            value = self._category_at(position)
            if self._is_live(position) and isinstance(value, str) and value.lower() == wanted:
                found.append(position)
        return sorted(found)

    def _search_positions(self, q: str) -> list[int]:
        found = []
        for position in self._live_positions():
            record = self._record(position)
            # Non-string titles (corrupted records) would make DummyJSON throw; here they
            # simply do not match.
            for key in ("title", "description"):
                value = js_value(record, key)
                if isinstance(value, str) and q in value.lower():
                    found.append(position)
                    break
        return found

    def category_slugs(self) -> list[str]:
        """Distinct categories in first-seen file order, computed from the block layout
        and the overlays without generating any product."""
        with self._lock:
            irregular = set(self._irregular_positions())
            first_seen: dict[str, int] = {}
            for base_category in self.generator.categories:
                for position in self.generator.category_range(base_category):
                    if position not in self._removed and position not in irregular:
                        first_seen[base_category] = position
                        break
            for position in sorted(irregular):
                value = self._category_at(position)
                if self._is_live(position) and isinstance(value, str):
                    first_seen[value] = min(first_seen.get(value, position), position)
            return sorted(first_seen, key=first_seen.__getitem__)

    def categories(self) -> list[dict[str, str]]:
        return [
            {
                "slug": slug,
                "name": category_name(slug),
                "url": f"{self.base_url}/products/category/{slug}",
            }
            for slug in self.category_slugs()
        ]

    def image(self, path: str) -> bytes | None:
        """PNG bytes for a decoded URL path under /product-images/, or None. Any such path
        is served, like a CDN that never deletes: removed products keep their images."""
        if not path.startswith(IMAGE_PREFIX) or not path.endswith(".png"):
            return None
        with self._lock:
            version = self._image_versions.get(path, 0)
        return png_bytes(path, version)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seed": self.seed,
                "count": self.count,
                "categories": len(self.generator.categories),
                "base_url": self.base_url,
                "total": self.total,
                "max_id": self._max_id,
                "removed": len(self._removed),
                "added": sum(not e.is_raw for e in self._extras),
                "raw": sum(e.is_raw for e in self._extras),
                "patched": len(self._patches),
                "image_versions": len(self._image_versions),
                "products_generated": self.products_generated,
                "mutations": list(self._log),
            }

    # ----------------------------------------------------------------- mutations

    def mutate(
        self,
        op: str,
        *,
        ids: list[int | str] | None = None,
        count: int | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """Apply one mutation and return ``{"op", "changes": [...], "total"}``.

        Targets are ``ids`` (product ids), else ``count`` products picked by a seeded RNG
        (the same sequence of calls picks the same products), else one product.
        Per op, ``params`` may hold:

        - price / stock / title / move_category: ``value`` (else a seeded new value;
          ``move_category`` also takes ``category``)
        - add: ``count`` new products with ids after the highest id; ``category``
        - images: ``mode`` "bytes" (same URLs, new PNG bytes; default) or "urls" (a new
          set of image URLs)
        - corrupt: ``id`` or ``ids`` and ``patch``, a dict of fields to set, where
          ``{"$delete": true}`` deletes the field
        - raw: ``record``, any JSON value appended to the listing as is
        """
        if op not in MUTATION_OPS:
            raise MutationError(f"unknown op {op!r}; expected one of {', '.join(MUTATION_OPS)}")
        if "id" in params:
            if ids is not None:
                raise MutationError("pass either 'id' or 'ids', not both")
            ids = [params.pop("id")]
        unknown = set(params) - _OP_PARAMS[op]
        if unknown:
            raise MutationError(f"{op} does not take {', '.join(sorted(unknown))}")
        with self._lock:
            rng = random.Random(f"{self.seed}:mutation:{len(self._log)}")
            if op == "add":
                changes = self._add(count if count is not None else 1, params)
            elif op == "raw":
                changes = self._raw(params)
            else:
                positions = self._targets(rng, ids, count)
                changes = getattr(self, f"_op_{op}")(rng, positions, params)
            changes = [{k: v for k, v in c.items() if v is not UNDEFINED} for c in changes]
            self._log.append(
                {"seq": len(self._log), "op": op, "ids": [c.get("id") for c in changes]}
            )
            return {"op": op, "changes": changes, "total": self.total}

    def _targets(self, rng: random.Random, ids: list[Any] | None, count: int | None) -> list[int]:
        if ids is not None:
            positions = []
            for product_id in ids:
                position = self._find_position(str(product_id))
                if position is None:
                    raise MutationError(f"no product with id {product_id!r}")
                positions.append(position)
            return positions
        total = self.total
        wanted = 1 if count is None else count
        if not isinstance(wanted, int) or wanted < 0:
            raise MutationError("count must be a non-negative integer")
        indexes = sorted(rng.sample(range(total), min(wanted, total)))
        return [self._nth_live(i) for i in indexes]

    def _set(self, position: int, key: str, value: Any) -> None:
        self._patches.setdefault(position, {})[key] = value

    def _op_price(self, rng: random.Random, positions: list[int], params: dict) -> list[dict]:
        changes = []
        for position in positions:
            record = self._record(position)
            old = js_value(record, "price")
            if "value" in params:
                new = params["value"]
            else:
                base = old if isinstance(old, int | float) and not isinstance(old, bool) else 10
                new = js_number(round(base * rng.choice((0.5, 0.8, 0.9, 1.1, 1.25, 1.5)), 2))
                if new == old:
                    new = js_number(round(new + 1, 2))
            self._set(position, "price", new)
            changes.append(_change(record, old, new))
        return changes

    def _op_stock(self, rng: random.Random, positions: list[int], params: dict) -> list[dict]:
        changes = []
        for position in positions:
            record = self._record(position)
            old = js_value(record, "stock")
            new = params["value"] if "value" in params else rng.choice((0, rng.randint(1, 250)))
            if new == old and "value" not in params:
                new = old + 1 if isinstance(old, int) else 0
            self._set(position, "stock", new)
            self._set(position, "availabilityStatus", availability_for(new))
            changes.append(_change(record, old, new))
        return changes

    def _op_title(self, rng: random.Random, positions: list[int], params: dict) -> list[dict]:
        changes = []
        for position in positions:
            record = self._record(position)
            old = js_value(record, "title")
            new = params.get("value", f"{to_js_string(old)} {rng.choice(TITLE_EDITS)}")
            # Image URLs keep the old title, as a CMS rename does not move stored files.
            self._set(position, "title", new)
            changes.append(_change(record, old, new))
        return changes

    def _op_move_category(
        self, rng: random.Random, positions: list[int], params: dict
    ) -> list[dict]:
        changes = []
        for position in positions:
            record = self._record(position)
            old = js_value(record, "category")
            new = params.get("value", params.get("category"))
            if new is None:
                choices = [c for c in self.generator.categories if c != old]
                if not choices:
                    raise MutationError("no other category to move to; pass 'category'")
                new = rng.choice(choices)
            self._set(position, "category", new)
            changes.append(_change(record, old, new))
        return changes

    def _op_remove(self, rng: random.Random, positions: list[int], params: dict) -> list[dict]:
        changes = []
        for position in positions:
            changes.append({"id": self._id_at(position)})
            if position not in self._removed:
                self._removed.add(position)
                bisect.insort(self._removed_sorted, position)
        return changes

    def _op_images(self, rng: random.Random, positions: list[int], params: dict) -> list[dict]:
        mode = params.get("mode", "bytes")
        if mode not in ("bytes", "urls"):
            raise MutationError("images mode must be 'bytes' or 'urls'")
        changes = []
        for position in positions:
            record = self._record(position)
            generation = self._image_generation.get(position, 0) + 1
            self._image_generation[position] = generation
            if mode == "urls":
                category = to_js_string(js_value(record, "category")) or "uncategorised"
                title = to_js_string(js_value(record, "title")) or "untitled"
                images = [
                    image_url(self.base_url, category, title, f"{n}-v{generation}.png")
                    for n in range(1, rng.randint(1, 6) + 1)
                ]
                thumbnail = image_url(self.base_url, category, title, f"thumb-v{generation}.png")
                self._set(position, "images", images)
                self._set(position, "thumbnail", thumbnail)
                urls = [*images, thumbnail]
            else:
                urls = _image_urls(record)
                for url in urls:
                    path = unquote(urlsplit(url).path)
                    self._image_versions[path] = self._image_versions.get(path, 0) + 1
            changes.append({"id": js_value(record, "id"), "mode": mode, "urls": urls})
        return changes

    def _op_corrupt(self, rng: random.Random, positions: list[int], params: dict) -> list[dict]:
        patch = params.get("patch")
        if not isinstance(patch, dict) or not patch:
            raise MutationError("corrupt needs a non-empty 'patch' object")
        changes = []
        for position in positions:
            record_id = self._id_at(position)
            if not self._is_object(position):
                raise MutationError(f"record at position {position} is not an object")
            for key, value in patch.items():
                self._set(position, key, _DELETED if value == DELETE_MARKER else value)
            self._note_id(patch.get("id"))
            changes.append({"id": record_id, "patch": patch})
        return changes

    def _add(self, count: int, params: dict) -> list[dict]:
        if not isinstance(count, int) or count < 0:
            raise MutationError("count must be a non-negative integer")
        category = params.get("category")
        changes = []
        for _ in range(count):
            self._max_id += 1
            product_id = self._max_id
            chosen = category or self.generator.category_of(product_id)
            self._extras.append(_Extra(product_id=product_id, category=chosen))
            self._added_by_id[product_id] = self._last_position
            title = self.generator.title_of(product_id, chosen)
            changes.append({"id": product_id, "category": chosen, "title": title})
        return changes

    def _raw(self, params: dict) -> list[dict]:
        if "record" not in params:
            raise MutationError("raw needs a 'record'")
        record = copy.deepcopy(params["record"])
        self._extras.append(_Extra(record=record))
        self._note_id(js_value(record, "id"))
        return [{"id": js_value(record, "id"), "position": self._last_position}]

    def _note_id(self, value: Any) -> None:
        """Keep added ids after every numeric id the catalog has ever shown."""
        if isinstance(value, int) and not isinstance(value, bool):
            self._max_id = max(self._max_id, value)


def _change(record: Any, old: Any, new: Any) -> dict[str, Any]:
    return {"id": js_value(record, "id"), "old": old, "new": new}


def _image_urls(record: Any) -> list[str]:
    images = js_value(record, "images")
    urls = [u for u in images if isinstance(u, str)] if isinstance(images, list) else []
    thumbnail = js_value(record, "thumbnail")
    if isinstance(thumbnail, str):
        urls.append(thumbnail)
    return list(dict.fromkeys(urls))
