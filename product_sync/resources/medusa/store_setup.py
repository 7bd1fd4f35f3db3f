"""Reading the store's selling setup (regions, publishable keys, the stock location and its
shipping options) for the `storefront_ready` check. Reads only: that setup is the
merchant's. Publishable keys are read without their tokens."""

from __future__ import annotations

from typing import Any

from product_sync.core.readiness import Location, Region, ShippingOption, StoreSetup
from product_sync.resources.medusa.client import PAGE_SIZE, MedusaClient

REGION_FIELDS = "id,name,currency_code,payment_providers.id,payment_providers.is_enabled"
KEY_FIELDS = "id,type,revoked_at,sales_channels.id"
LOCATION_FIELDS = "id,name,created_at,sales_channels.id"
OPTION_FIELDS = "id,name,shipping_profile_id,rules.attribute,rules.operator,rules.value"


class StoreSetupReads(MedusaClient):
    def store_setup(
        self,
        *,
        currency: str,
        sales_channel_id: str | None,
        location_name: str,
        shipping_profile_id: str | None,
    ) -> StoreSetup:
        regions = [
            Region(
                id=r["id"],
                name=r.get("name") or "",
                payment_providers=[
                    p["id"] for p in r.get("payment_providers") or [] if p.get("is_enabled", True)
                ],
            )
            for r in self._listing(
                "/admin/regions", "regions", {"currency_code": currency, "fields": REGION_FIELDS}
            )
            if r.get("currency_code") == currency
        ]
        keys = [
            k["id"]
            for k in self._listing(
                "/admin/api-keys", "api_keys", {"type": "publishable", "fields": KEY_FIELDS}
            )
            if k.get("type") == "publishable"
            and not k.get("revoked_at")
            and sales_channel_id in {c.get("id") for c in k.get("sales_channels") or []}
        ]
        rows = self._call(
            "GET",
            "/admin/stock-locations",
            params={"name": location_name, "fields": LOCATION_FIELDS},
        ).get("stock_locations", [])
        # The oldest of that name, as the sync picks it.
        found = sorted(
            (r for r in rows if r.get("name") == location_name),
            key=lambda r: (str(r.get("created_at") or ""), r["id"]),
        )
        location = None
        options: list[ShippingOption] = []
        if found:
            row = found[0]
            location = Location(
                id=row["id"],
                name=row["name"],
                sales_channel_ids=[c["id"] for c in row.get("sales_channels") or []],
            )
            options = [
                ShippingOption(
                    id=o["id"],
                    name=o.get("name") or "",
                    shipping_profile_id=o.get("shipping_profile_id"),
                    in_store=_in_store(o.get("rules") or []),
                )
                for o in self._listing(
                    "/admin/shipping-options",
                    "shipping_options",
                    {"stock_location_id": row["id"], "fields": OPTION_FIELDS},
                )
            ]
        return StoreSetup(
            currency=currency,
            sales_channel_id=sales_channel_id,
            regions=regions,
            publishable_keys=keys,
            location_name=location_name,
            location=location,
            shipping_profile_id=shipping_profile_id,
            shipping_options=options,
        )

    def _listing(self, path: str, key: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self._iter_listing(path, key, params, PAGE_SIZE))


def _in_store(rules: list[dict[str, Any]]) -> bool:
    """A storefront's checkout lists the options whose rules hold for `enabled_in_store`
    = "true" and `is_return` = "false" (an option without such rules is listed too)."""
    context = {"enabled_in_store": "true", "is_return": "false"}
    for rule in rules:
        wanted = context.get(rule.get("attribute") or "")
        if wanted is None:
            continue
        value = rule.get("value")
        values = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        operator = rule.get("operator") or "eq"
        if operator in ("eq", "in") and wanted not in values:
            return False
        if operator in ("ne", "nin") and wanted in values:
            return False
    return True
