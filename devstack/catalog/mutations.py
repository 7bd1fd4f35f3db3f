"""The catalog's mutations (``POST /__control/mutate``): each op records overlays over the
generated base, never a copy of it."""

from __future__ import annotations

import bisect
import copy
import random
from typing import Any
from urllib.parse import unquote, urlsplit

from devstack.catalog.generator import availability_for, image_url, js_number
from devstack.catalog.jsquery import UNDEFINED, js_value, to_js_string
from devstack.catalog.overlay import DELETED, CatalogOverlay, _Extra
from devstack.catalog.vocabulary import TITLE_EDITS

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


class CatalogMutations(CatalogOverlay):
    """``mutate`` and its ops; every op runs under ``self._lock`` (taken by ``mutate``)."""

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
                self._set(position, key, DELETED if value == DELETE_MARKER else value)
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
