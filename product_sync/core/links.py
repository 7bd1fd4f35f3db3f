"""Which products each category and tag holds: the store's many-to-many product links,
as listings of the categories and tags read them. Pure.

Joined into each product row of a listing (`categories.id`, `tags.id`), the same links
cost Medusa ~1.2-1.9 ms a row, more than every other field together, and the cost grows
with the page (benchmarks/README.md); one listing of the categories has them all for
~1.5 s per 10k products.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Set

from pydantic import BaseModel, ConfigDict

# The product row fields the links stand for.
RELATIONS = ("categories", "tags")


class ProductLinks(BaseModel):
    """Relation ("categories", "tags") -> group id -> its product ids, packed (zlib'd), so
    a 100k store's links are a few hundred KB to hold or hand to the ranges of a
    scaled-out sync; `by_product` unpacks them."""

    model_config = ConfigDict(frozen=True)

    packed: dict[str, dict[str, bytes]] = {}

    @classmethod
    def of(cls, relations: dict[str, Iterable[tuple[str, Iterable[str]]]]) -> ProductLinks:
        """From, per relation, (group id, its product ids) pairs."""
        return cls(
            packed={
                relation: {
                    group: zlib.compress("\n".join(products).encode(), 1)
                    for group, products in groups
                }
                for relation, groups in relations.items()
            }
        )

    def by_product(self, product_ids: Set[str] | None = None) -> dict[str, dict[str, tuple]]:
        """Product id -> relation -> its group ids (sorted), for `product_ids` (None: every
        product); a product in no group of a relation is left out of it. Equal tuples
        are shared."""
        found: dict[str, dict[str, list[str]]] = {}
        for relation, groups in sorted(self.packed.items()):
            for group, blob in sorted(groups.items()):
                for product_id in zlib.decompress(blob).decode().split("\n"):
                    if product_id and (product_ids is None or product_id in product_ids):
                        found.setdefault(product_id, {}).setdefault(relation, []).append(group)
        shared: dict[tuple[str, ...], tuple[str, ...]] = {}
        return {
            product: {r: shared.setdefault(tuple(g), tuple(g)) for r, g in relations.items()}
            for product, relations in found.items()
        }
