"""Source categories vs Medusa product categories -> what to create or rename. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import BaseModel


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
