"""Source stock -> Medusa inventory levels at one stock location. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel


class StockPlan(BaseModel):
    create: list[dict[str, object]] = []  # levels that do not exist yet at the location
    update: list[dict[str, object]] = []  # levels whose quantity differs
    unchanged: int = 0
    # Item id -> its quantity before, of the levels written (None: no level yet).
    before: dict[str, int | None] = {}


def plan_stock(
    wanted: Mapping[str, int], current: Mapping[str, int | None], location_id: str
) -> StockPlan:
    """`wanted`: inventory item id -> source stock; `current`: item id -> stocked quantity
    at the location, None where the item has no level there yet. Only differences are
    written (creating a level that exists is an error in Medusa, so the two are apart)."""
    plan = StockPlan()
    for item_id, quantity in sorted(wanted.items()):
        level = {
            "inventory_item_id": item_id,
            "location_id": location_id,
            "stocked_quantity": quantity,
        }
        have = current.get(item_id)
        if have is None:
            plan.create.append(level)
            plan.before[item_id] = None
        elif have != quantity:
            plan.update.append(level)
            plan.before[item_id] = have
        else:
            plan.unchanged += 1
    return plan
