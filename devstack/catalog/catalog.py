"""The live catalog: the generated base plus overlays of mutations
(:mod:`devstack.catalog.overlay`, :mod:`devstack.catalog.mutations`), and DummyJSON's query
operations over it.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from typing import Any

from devstack.catalog.images import png_bytes
from devstack.catalog.jsquery import ListQuery, js_value, value_comparator
from devstack.catalog.mutations import DELETE_MARKER, MUTATION_OPS, CatalogMutations, MutationError

__all__ = ["DELETE_MARKER", "IMAGE_PREFIX", "MUTATION_OPS", "Catalog", "MutationError"]

IMAGE_PREFIX = "/product-images/"


def category_name(slug: str) -> str:
    return " ".join(word[:1].upper() + word[1:] for word in slug.split("-"))


class Catalog(CatalogMutations):
    """Thread-safe. Every public method takes the lock, so a mutation never lands in the
    middle of a page being assembled."""

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
