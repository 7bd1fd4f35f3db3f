"""The local store set up like a real shop, so a storefront can buy what the sync writes.

A fresh Medusa can list products but not sell them. This adds, through the Admin API and
only where missing (every step looks before it creates, so it is safe to run again on a
store that has it). It is a store setup hook, baked into the template once:

- a US region in USD with the system payment provider (``pp_system_default``);
- a publishable API key on the default sales channel (Medusa's own default key, if any);
- the sync's stock location (found by name, as the sync finds it), linked to that channel
  and to the manual fulfillment provider, with a shipping fulfillment set, a US service
  zone and a flat-rate shipping option for the store's default shipping profile.

In a real store this is the merchant's setup; the sync never creates any of it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from devstack.errors import DevstackError
from product_sync.names import STOCK_LOCATION_NAME

log = logging.getLogger("devstack.shop")

REGION_NAME = "United States"
CURRENCY = "usd"
COUNTRY = "us"
PAYMENT_PROVIDER = "pp_system_default"
FULFILLMENT_PROVIDER = "manual_manual"
PUBLISHABLE_KEY_TITLE = "Storefront"
SHIPPING_OPTION_NAME = "Standard Shipping"
SHIPPING_PRICE = 8  # USD, major units
SHIPPING_TYPE = {"label": "Standard", "description": "Ships in 3-5 days", "code": "standard"}
# Shown to shoppers (enabled_in_store) and for outbound shipping, not returns.
SHIPPING_RULES = [
    {"attribute": "enabled_in_store", "value": "true", "operator": "eq"},
    {"attribute": "is_return", "value": "false", "operator": "eq"},
]
TIMEOUT_S = 30


@dataclass(frozen=True)
class Shop:
    """What a storefront (and a test acting as one) needs to know about the shop."""

    publishable_key: str
    region_id: str
    sales_channel_id: str
    stock_location_id: str
    shipping_profile_id: str
    shipping_option_id: str


class _Admin:
    """The Admin API with the stack's secret key; every failure is a DevstackError."""

    def __init__(self, backend_url: str, api_key: str) -> None:
        self.base = backend_url.rstrip("/")
        self.http = requests.Session()
        self.http.trust_env = False  # loopback: no proxies
        self.http.auth = (api_key, "")

    def call(self, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        try:
            resp = self.http.request(method, self.base + path, timeout=TIMEOUT_S, **kwargs)
        except requests.RequestException as error:
            raise DevstackError(f"shop setup: {what} failed: {error}") from None
        if resp.status_code != 200:
            raise DevstackError(
                f"shop setup: {what} failed: HTTP {resp.status_code} {resp.text[:300]}"
            )
        return resp.json()

    def get(self, path: str, what: str, **params: Any) -> dict[str, Any]:
        return self.call("GET", path, what, params=params)

    def post(self, path: str, what: str, body: dict[str, Any]) -> dict[str, Any]:
        log.info("shop: %s", what)
        return self.call("POST", path, what, json=body)


def open_shop(
    backend_url: str, api_key: str, *, stock_location_name: str = STOCK_LOCATION_NAME
) -> Shop:
    """Set the store up to sell (idempotent) and say where a storefront finds it."""
    admin = _Admin(backend_url, api_key)
    channel = _default_channel(admin)
    region = _region(admin)
    key = _publishable_key(admin, channel)
    profile = _default_profile(admin)
    location = _stock_location(admin, stock_location_name, channel)
    zone = _service_zone(admin, location)
    option = _shipping_option(admin, zone, profile)
    return Shop(
        publishable_key=key,
        region_id=region,
        sales_channel_id=channel,
        stock_location_id=location["id"],
        shipping_profile_id=profile,
        shipping_option_id=option,
    )


def setup_shop(admin: Any, meta: Mapping[str, str]) -> dict[str, str]:
    """Store setup hook (devstack.store_setup.STORE_SETUP): the shop, baked into the
    template, so every reset starts with it; the storefront's key and region go to the env."""
    shop = open_shop(admin.base_url, meta["api_key"])
    return {"MEDUSA_PUBLISHABLE_KEY": shop.publishable_key, "MEDUSA_REGION_ID": shop.region_id}


def _default_channel(admin: _Admin) -> str:
    stores = admin.get("/admin/stores", "read the store", fields="id,default_sales_channel_id")
    for store in stores.get("stores", []):
        if store.get("default_sales_channel_id"):
            return store["default_sales_channel_id"]
    raise DevstackError("shop setup: the store has no default sales channel")


def _region(admin: _Admin) -> str:
    """The USD region that ships to the US, with the system payment provider."""
    rows = admin.get(
        "/admin/regions",
        "list regions",
        currency_code=CURRENCY,
        fields="id,currency_code,*countries,*payment_providers",
        limit=100,
    )["regions"]
    region = next(
        (
            r
            for r in sorted(rows, key=lambda r: r["id"])
            if r.get("currency_code") == CURRENCY
            and COUNTRY in {c.get("iso_2") for c in r.get("countries") or []}
        ),
        None,
    )
    if region is None:
        body = {
            "name": REGION_NAME,
            "currency_code": CURRENCY,
            "countries": [COUNTRY],
            "payment_providers": [PAYMENT_PROVIDER],
        }
        return admin.post("/admin/regions", "create the US region", body)["region"]["id"]
    providers = [p["id"] for p in region.get("payment_providers") or []]
    if PAYMENT_PROVIDER not in providers:
        admin.post(
            f"/admin/regions/{region['id']}",
            f"add {PAYMENT_PROVIDER} to the US region",
            {"payment_providers": [*providers, PAYMENT_PROVIDER]},
        )
    return region["id"]


def _publishable_key(admin: _Admin, channel: str) -> str:
    """A live publishable key on the channel: one that is already there (Medusa makes a
    default one), else a new one linked to it."""
    rows = admin.get(
        "/admin/api-keys",
        "list publishable keys",
        type="publishable",
        fields="id,token,type,revoked_at,created_at,*sales_channels",
        order="created_at",
        limit=100,
    )["api_keys"]
    live = [r for r in rows if r.get("type") == "publishable" and not r.get("revoked_at")]
    for row in live:
        if channel in {c.get("id") for c in row.get("sales_channels") or []}:
            return row["token"]
    if live:
        key = live[0]
    else:
        body = {"title": PUBLISHABLE_KEY_TITLE, "type": "publishable"}
        key = admin.post("/admin/api-keys", "create a publishable key", body)["api_key"]
    admin.post(
        f"/admin/api-keys/{key['id']}/sales-channels",
        "link the publishable key to the default sales channel",
        {"add": [channel]},
    )
    return key["token"]


def _default_profile(admin: _Admin) -> str:
    rows = admin.get(
        "/admin/shipping-profiles", "list shipping profiles", fields="id,type", limit=100
    )["shipping_profiles"]
    defaults = sorted(r["id"] for r in rows if r.get("type") == "default")
    if not defaults:
        raise DevstackError("shop setup: the store has no default shipping profile")
    return defaults[0]


LOCATION_FIELDS = (
    "id,name,created_at,*sales_channels,*fulfillment_providers,"
    "*fulfillment_sets,*fulfillment_sets.service_zones"
)


def _stock_location(admin: _Admin, name: str, channel: str) -> dict[str, Any]:
    """The location called `name` (the oldest, as the sync picks it), created if missing,
    linked to the channel and the manual fulfillment provider."""

    def find() -> list[dict[str, Any]]:
        rows = admin.get(
            "/admin/stock-locations", "list stock locations", name=name, fields=LOCATION_FIELDS
        )["stock_locations"]
        rows = [r for r in rows if r.get("name") == name]
        return sorted(rows, key=lambda r: (str(r.get("created_at") or ""), r["id"]))

    rows = find()
    if not rows:
        admin.post("/admin/stock-locations", f"create stock location {name!r}", {"name": name})
        rows = find()
    location = rows[0]
    path = f"/admin/stock-locations/{location['id']}"
    if channel not in {c.get("id") for c in location.get("sales_channels") or []}:
        admin.post(
            f"{path}/sales-channels",
            f"link {name!r} to the default sales channel",
            {"add": [channel]},
        )
    if FULFILLMENT_PROVIDER not in {
        p.get("id") for p in location.get("fulfillment_providers") or []
    }:
        admin.post(
            f"{path}/fulfillment-providers",
            f"let {name!r} ship with {FULFILLMENT_PROVIDER}",
            {"add": [FULFILLMENT_PROVIDER]},
        )
    if not any(s.get("type") == "shipping" for s in location.get("fulfillment_sets") or []):
        admin.post(
            f"{path}/fulfillment-sets",
            f"add a shipping fulfillment set to {name!r}",
            {"name": f"{name} shipping", "type": "shipping"},
        )
        location = find()[0]
    return location


def _service_zone(admin: _Admin, location: dict[str, Any]) -> str:
    shipping = sorted(
        (s for s in location.get("fulfillment_sets") or [] if s.get("type") == "shipping"),
        key=lambda s: s["id"],
    )[0]
    zones = sorted(shipping.get("service_zones") or [], key=lambda z: z["id"])
    if zones:
        return zones[0]["id"]
    body = {"name": REGION_NAME, "geo_zones": [{"type": "country", "country_code": COUNTRY}]}
    answer = admin.post(
        f"/admin/fulfillment-sets/{shipping['id']}/service-zones", "add a US service zone", body
    )
    created = answer["fulfillment_set"]["service_zones"]
    return sorted(created, key=lambda z: z["id"])[0]["id"]


def _shipping_option(admin: _Admin, zone: str, profile: str) -> str:
    rows = admin.get(
        "/admin/shipping-options",
        "list shipping options",
        service_zone_id=zone,
        shipping_profile_id=profile,
        fields="id,name,service_zone_id,shipping_profile_id",
        limit=100,
    )["shipping_options"]
    ours = sorted(
        r["id"]
        for r in rows
        if r.get("service_zone_id") == zone and r.get("shipping_profile_id") == profile
    )
    if ours:
        return ours[0]
    body = {
        "name": SHIPPING_OPTION_NAME,
        "service_zone_id": zone,
        "shipping_profile_id": profile,
        "price_type": "flat",
        "provider_id": FULFILLMENT_PROVIDER,
        "type": SHIPPING_TYPE,
        "prices": [{"currency_code": CURRENCY, "amount": SHIPPING_PRICE}],
        "rules": SHIPPING_RULES,
    }
    answer = admin.post("/admin/shipping-options", "create a flat-rate shipping option", body)
    return answer["shipping_option"]["id"]
