"""The catalog's state: the generated base and the overlays of mutations over it,
addressed by *position*.

Products live at positions (their place in DummyJSON's file order): ``1..count`` are the
generated base, later positions are products added or raw records injected, in the order
they arrived. Mutations never copy the base; they record removed positions, per-position
field patches and image versions, so memory grows with the number of mutations only.
"""

from __future__ import annotations

import bisect
import copy
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from devstack.catalog.generator import (
    DEFAULT_BASE_URL,
    DEFAULT_CATEGORIES,
    DEFAULT_COUNT,
    DEFAULT_SEED,
    CatalogGenerator,
)
from devstack.catalog.jsquery import UNDEFINED, js_value, to_js_string


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


DELETED = _Marker("deleted")
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


class CatalogOverlay:
    """The generated base plus the overlays, addressed by position. Subclasses take
    ``self._lock`` in every public method."""

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
                if value is DELETED:
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
        return UNDEFINED if value is DELETED else value

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
