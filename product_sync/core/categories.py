"""Source categories vs Medusa product categories -> what to create or rename. Pure."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Set

from pydantic import BaseModel, ConfigDict


class StoreCategory(BaseModel):
    id: str
    handle: str
    name: str


class CategoryPlan(BaseModel):
    # slug -> Medusa id for categories that already exist under the right handle
    existing: dict[str, str] = {}
    create: list[dict[str, str]] = []  # {"name", "handle"}
    rename: list[dict[str, str]] = []  # {"id", "name"}


def display_name(slug: str) -> str:
    return " ".join(word.capitalize() for word in slug.split("-"))


def plan_categories(
    slugs: Iterable[str], names: Mapping[str, str], store: Iterable[StoreCategory]
) -> CategoryPlan:
    """Match by handle (= slug); create what is missing; rename what changed name."""
    by_handle = {c.handle: c for c in store}
    plan = CategoryPlan()
    for slug in dict.fromkeys(slugs):
        name = names.get(slug) or display_name(slug)
        found = by_handle.get(slug)
        if found is None:
            plan.create.append({"name": name, "handle": slug})
            continue
        plan.existing[slug] = found.id
        if found.name != name:
            plan.rename.append({"id": found.id, "name": name})
    return plan


class CategoryLinks(BaseModel):
    """Which store products each category holds, as one listing of the categories reads
    them: the cheap way to know every product's categories (joined into each product row
    of a listing, the same links cost Medusa ~10× as much: benchmarks/README.md).

    Kept packed per category (the product ids, zlib'd), so a 100k store's links are a few
    hundred KB to hold or hand to the ranges of a scaled-out sync; `of` unpacks them.
    """

    model_config = ConfigDict(frozen=True)

    packed: dict[str, bytes] = {}  # category id -> zlib("\n".join(product ids))

    @classmethod
    def of_categories(cls, rows: Iterable[tuple[str, Iterable[str]]]) -> CategoryLinks:
        """From (category id, its product ids) pairs."""
        return cls(
            packed={
                category: zlib.compress("\n".join(products).encode(), 1)
                for category, products in rows
            }
        )

    def by_product(self, product_ids: Set[str] | None = None) -> dict[str, tuple[str, ...]]:
        """Product id -> its category ids (sorted), for `product_ids` (None: every product).
        Products that share their categories share one tuple."""
        found: dict[str, list[str]] = {}
        for category, blob in sorted(self.packed.items()):
            for product_id in zlib.decompress(blob).decode().split("\n"):
                if product_id and (product_ids is None or product_id in product_ids):
                    found.setdefault(product_id, []).append(category)
        shared: dict[tuple[str, ...], tuple[str, ...]] = {}
        return {p: shared.setdefault(tuple(c), tuple(c)) for p, c in found.items()}
