"""`storefront_ready` against a store answered by `responses`: a shop set up like the dev
store passes; each missing piece of the selling setup fails it with its own reason."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import dagster as dg
import pytest
import responses

from product_sync.defs.catalog_sync.settings import SyncSettings
from product_sync.defs.catalog_sync.storefront_checks import storefront_ready
from product_sync.resources.medusa import MedusaResource

STORE = "http://store.test"
CHANNEL, PROFILE, LOCATION, ZONE = "sc_1", "sp_1", "sloc_1", "serzo_1"
IN_STORE_RULES = [
    {"attribute": "enabled_in_store", "operator": "eq", "value": "true"},
    {"attribute": "is_return", "operator": "eq", "value": "false"},
]


def shop() -> dict[str, Any]:
    """The listings of a store set up to sell (what devstack/shop.py makes)."""
    return {
        "shipping_profiles": [{"id": PROFILE, "name": "Default", "type": "default"}],
        "stores": [{"id": "store_1", "default_sales_channel_id": CHANNEL}],
        "regions": [
            {
                "id": "reg_us",
                "name": "United States",
                "currency_code": "usd",
                "payment_providers": [{"id": "pp_system_default", "is_enabled": True}],
            }
        ],
        "api_keys": [
            {
                "id": "apk_1",
                "type": "publishable",
                "revoked_at": None,
                "sales_channels": [{"id": CHANNEL}],
            }
        ],
        "stock_locations": [
            {
                "id": LOCATION,
                "name": "DummyJSON Warehouse",
                "created_at": "2026-01-01T00:00:00Z",
                "sales_channels": [{"id": CHANNEL}],
            }
        ],
        "shipping_options": [
            {
                "id": "so_1",
                "name": "Standard",
                "shipping_profile_id": PROFILE,
                "rules": IN_STORE_RULES,
            }
        ],
    }


ROUTES = {
    "/admin/shipping-profiles": "shipping_profiles",
    "/admin/stores": "stores",
    "/admin/regions": "regions",
    "/admin/api-keys": "api_keys",
    "/admin/stock-locations": "stock_locations",
    "/admin/shipping-options": "shipping_options",
}


def serve(listings: dict[str, Any]) -> None:
    for path, key in ROUTES.items():
        rows = listings[key]
        responses.get(
            f"{STORE}{path}", json={key: rows, "count": len(rows), "offset": 0, "limit": 2000}
        )


def run_check(**settings: Any) -> dg.AssetCheckResult:
    medusa = MedusaResource(
        backend_url=STORE, api_key="sk_test", initial_backoff_s=0, max_backoff_s=0
    )
    return storefront_ready(medusa=medusa, sync_settings=SyncSettings(**settings))


def problems(result: dg.AssetCheckResult) -> list[str]:
    return [r.data["problem"] for r in result.metadata["problem_list"].records]


@responses.activate
def test_a_shop_set_up_to_sell_passes():
    serve(shop())
    result = run_check()
    assert result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["problems"].value == 0 and problems(result) == []
    assert "can find, pay for and ship" in result.description
    # It only reads, and asks for shipping options from the sync's location.
    assert {c.request.method for c in responses.calls} == {"GET"}
    (options,) = [c for c in responses.calls if "/admin/shipping-options" in c.request.url]
    assert parse_qs(urlsplit(options.request.url).query)["stock_location_id"] == [LOCATION]
    # Publishable keys are read without their tokens.
    (keys,) = [c for c in responses.calls if "/admin/api-keys" in c.request.url]
    assert "token" not in parse_qs(urlsplit(keys.request.url).query)["fields"][0]


def broken(change) -> list[str]:
    listings = shop()
    change(listings)
    serve(listings)
    result = run_check()
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["problems"].value == len(problems(result))
    for problem in problems(result):
        assert problem in result.description
    return problems(result)


@responses.activate
def test_no_region_in_the_price_currency():
    def eur_only(s):
        s["regions"][0]["currency_code"] = "eur"

    assert broken(eur_only) == ["no region in USD"]


@responses.activate
def test_a_region_without_a_payment_provider():
    def no_payment(s):
        s["regions"][0]["payment_providers"] = []

    assert broken(no_payment) == ["region United States has no payment provider"]


@responses.activate
def test_a_disabled_payment_provider_does_not_count():
    def disabled(s):
        s["regions"][0]["payment_providers"][0]["is_enabled"] = False

    assert broken(disabled) == ["region United States has no payment provider"]


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.update(api_keys=[]),
        lambda s: s["api_keys"][0].update(revoked_at="2026-01-02T00:00:00Z"),
        lambda s: s["api_keys"][0].update(sales_channels=[{"id": "sc_other"}]),
    ],
    ids=["none", "revoked", "other-channel"],
)
@responses.activate
def test_no_publishable_key_on_the_sales_channel(change):
    assert broken(change) == ["no publishable key on the sales channel"]


@responses.activate
def test_the_stock_location_not_linked_to_the_channel():
    def unlinked(s):
        s["stock_locations"][0]["sales_channels"] = []

    assert broken(unlinked) == ["stock location not linked to the sales channel"]


@responses.activate
def test_no_stock_location_at_all():
    assert broken(lambda s: s.update(stock_locations=[])) == [
        "no stock location 'DummyJSON Warehouse'"
    ]


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.update(shipping_options=[]),
        lambda s: s["shipping_options"][0].update(shipping_profile_id="sp_other"),
        lambda s: s["shipping_options"][0].update(
            rules=[{"attribute": "enabled_in_store", "operator": "eq", "value": "false"}]
        ),
        lambda s: s["shipping_options"][0].update(
            rules=[{"attribute": "is_return", "operator": "eq", "value": "true"}]
        ),
    ],
    ids=["none", "other-profile", "admin-only", "return-only"],
)
@responses.activate
def test_no_shipping_option_for_the_products_profile_from_the_location(change):
    assert broken(change) == ["no shipping option for the products"]


@responses.activate
def test_several_problems_are_all_named():
    def bare(s):
        s["regions"] = []
        s["api_keys"] = []
        s["shipping_options"] = []

    assert broken(bare) == [
        "no region in USD",
        "no publishable key on the sales channel",
        "no shipping option for the products",
    ]


@responses.activate
def test_a_configured_shipping_profile_that_does_not_exist_is_named():
    serve(shop())
    result = run_check(shipping_profile="Oversized")
    assert not result.passed
    assert problems(result) == ["shipping profile not found"]
    (row,) = result.metadata["problem_list"].records
    assert "'Oversized'" in row.data["detail"]
