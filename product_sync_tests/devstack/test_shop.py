"""The dev store is set up like a real shop (devstack/shop.py), read back through the Admin
and Store APIs, and setting it up again creates nothing new but puts back what is missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.shop import open_shop
from devstack.stack import StackInfo
from product_sync.names import STOCK_LOCATION_NAME

pytestmark = pytest.mark.e2e


class Admin:
    def __init__(self, info: StackInfo) -> None:
        self.url = info.backend_url
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.auth = info.auth

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        resp = self.http.get(self.url + path, params=params, timeout=30)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        resp = self.http.request(method, self.url + path, json=body, timeout=30)
        assert resp.status_code == 200, resp.text


def shop_as_stored(admin: Admin) -> dict[str, Any]:
    """Everything the shop consists of, as the Admin API shows it."""
    (store,) = admin.get("/admin/stores", fields="id,default_sales_channel_id")["stores"]
    regions = admin.get("/admin/regions", fields="id,currency_code,*countries,*payment_providers")[
        "regions"
    ]
    keys = admin.get(
        "/admin/api-keys", type="publishable", fields="id,token,revoked_at,*sales_channels"
    )["api_keys"]
    locations = admin.get(
        "/admin/stock-locations",
        fields="id,name,*sales_channels,*fulfillment_providers,*fulfillment_sets,"
        "*fulfillment_sets.service_zones,*fulfillment_sets.service_zones.geo_zones",
    )["stock_locations"]
    options = admin.get(
        "/admin/shipping-options",
        fields="id,price_type,provider_id,service_zone_id,shipping_profile_id,*prices,*rules",
    )["shipping_options"]
    profiles = admin.get("/admin/shipping-profiles", fields="id,type")["shipping_profiles"]
    return {
        "channel": store["default_sales_channel_id"],
        "regions": regions,
        "keys": keys,
        "locations": locations,
        "options": options,
        "default_profile": [p["id"] for p in profiles if p["type"] == "default"],
    }


def test_the_reset_store_is_a_shop_a_storefront_can_use(empty_store: StackInfo) -> None:
    admin = Admin(empty_store)
    shop = shop_as_stored(admin)
    channel = shop["channel"]

    (region,) = [r for r in shop["regions"] if r["currency_code"] == "usd"]
    assert region["id"] == empty_store.region_id
    assert [c["iso_2"] for c in region["countries"]] == ["us"]
    assert "pp_system_default" in {p["id"] for p in region["payment_providers"]}

    (key,) = [k for k in shop["keys"] if k["token"] == empty_store.publishable_key]
    assert key["token"].startswith("pk_") and key["revoked_at"] is None
    assert channel in {c["id"] for c in key["sales_channels"]}

    (location,) = [loc for loc in shop["locations"] if loc["name"] == STOCK_LOCATION_NAME]
    assert channel in {c["id"] for c in location["sales_channels"]}
    assert "manual_manual" in {p["id"] for p in location["fulfillment_providers"]}
    (shipping,) = [s for s in location["fulfillment_sets"] if s["type"] == "shipping"]
    (zone,) = shipping["service_zones"]
    assert [(g["type"], g["country_code"]) for g in zone["geo_zones"]] == [("country", "us")]

    (option,) = [o for o in shop["options"] if o["service_zone_id"] == zone["id"]]
    assert option["shipping_profile_id"] == shop["default_profile"][0]
    assert (option["price_type"], option["provider_id"]) == ("flat", "manual_manual")
    assert [(p["currency_code"], p["amount"]) for p in option["prices"]] == [("usd", 8)]
    rules = {(r["attribute"], r["value"]) for r in option["rules"]}
    assert rules == {("enabled_in_store", "true"), ("is_return", "false")}

    # The storefront's side: the publishable key opens the Store API and the region.
    store_api = requests.Session()
    store_api.trust_env = False
    resp = store_api.get(
        f"{empty_store.backend_url}/store/regions/{empty_store.region_id}",
        headers={"x-publishable-api-key": empty_store.publishable_key},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["region"]["currency_code"] == "usd"
    lines = Path(empty_store.env_file).read_text().splitlines()
    env = dict(line.split("=", 1) for line in lines)
    assert env["MEDUSA_PUBLISHABLE_KEY"] == empty_store.publishable_key
    assert env["MEDUSA_REGION_ID"] == empty_store.region_id


def test_setting_the_shop_up_again_adds_nothing_and_mends_what_is_missing(
    empty_store: StackInfo,
) -> None:
    admin = Admin(empty_store)
    before = shop_as_stored(admin)
    again = open_shop(empty_store.backend_url, empty_store.api_key)
    assert shop_as_stored(admin) == before
    assert (again.publishable_key, again.region_id) == (
        empty_store.publishable_key,
        empty_store.region_id,
    )

    # Someone removed the payment provider and the shipping option by hand.
    admin.send("POST", f"/admin/regions/{again.region_id}", {"payment_providers": []})
    admin.send("DELETE", f"/admin/shipping-options/{again.shipping_option_id}")
    mended = open_shop(empty_store.backend_url, empty_store.api_key)
    after = shop_as_stored(admin)
    (region,) = [r for r in after["regions"] if r["id"] == again.region_id]
    assert [p["id"] for p in region["payment_providers"]] == ["pp_system_default"]
    assert [o["id"] for o in after["options"]] == [mended.shipping_option_id]
    assert mended.shipping_option_id != again.shipping_option_id
    assert mended.stock_location_id == again.stock_location_id
