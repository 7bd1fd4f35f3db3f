"""The store around the measured runs: the warm-up every contender gets and a census of our
products afterwards."""

from __future__ import annotations

from typing import Any

import requests

from devstack.stack import StackInfo

PREFIX = "dummyjson:"


def warm_up(info: StackInfo) -> None:
    """Create and delete 45 throwaway draft products, so Medusa's write path is warm."""
    session = requests.Session()
    session.auth = info.auth
    option = [{"title": "Default", "values": ["Default Option"]}]
    for round_ in range(3):
        body = {
            "create": [
                {
                    "title": f"bench warm-up {round_}-{i}",
                    "handle": f"bench-warm-up-{round_}-{i}",
                    "status": "draft",
                    "options": option,
                    "variants": [
                        {
                            "title": "Default",
                            "sku": f"BENCH-WARM-UP-{round_}-{i}",
                            "manage_inventory": True,
                            "prices": [{"amount": 1, "currency_code": "usd"}],
                            "options": {"Default": "Default Option"},
                        }
                    ],
                }
                for i in range(15)
            ]
        }
        response = session.post(
            f"{info.backend_url}/admin/products/batch", json=body, params={"fields": "id"}
        )
        response.raise_for_status()
        ids = [p["id"] for p in response.json()["created"]]
        session.post(
            f"{info.backend_url}/admin/products/batch", json={"delete": ids}
        ).raise_for_status()


def store_census(info: StackInfo) -> dict[str, int]:
    """Our products in the store: how many, how many distinct external ids and handles."""
    session = requests.Session()
    session.auth = info.auth
    ours: list[dict[str, Any]] = []
    offset = 0
    while True:
        body = session.get(
            f"{info.backend_url}/admin/products",
            params={"fields": "id,handle,external_id", "limit": 1000, "offset": offset},
            timeout=120,
        ).json()
        rows = body["products"]
        ours += [p for p in rows if (p.get("external_id") or "").startswith(PREFIX)]
        offset += len(rows)
        if not rows or offset >= body["count"]:
            break
    return {
        "products": len(ours),
        "external_ids": len({p["external_id"] for p in ours}),
        "handles": len({p["handle"] for p in ours}),
    }
