"""`storefront_ready`: can a shopper buy what the sync wrote? A warning that says, in plain
words, what in the store's selling setup would stop a purchase. It only reads: regions,
payment, keys and shipping are the merchant's setup, which the sync never creates."""

import dagster as dg

from product_sync import names
from product_sync.core.mapping import CURRENCY
from product_sync.core.readiness import Problem, readiness_problems
from product_sync.defs.catalog_sync.metadata import table
from product_sync.defs.catalog_sync.settings import SyncSettings
from product_sync.resources.medusa import MedusaResource, StoreRejected


@dg.asset_check(
    asset=names.SYNC_ASSET,
    name="storefront_ready",
    description=(
        f"A shopper can buy the synced products: a region in {CURRENCY.upper()} with a "
        "payment provider, a publishable key on the sales channel, the stock location "
        "linked to it, and a shipping option for the products' shipping profile there."
    ),
)
def storefront_ready(medusa: MedusaResource, sync_settings: SyncSettings) -> dg.AssetCheckResult:
    problems: list[Problem] = []
    try:
        profile = medusa.shipping_profile_id(sync_settings.shipping_profile)
    except StoreRejected as error:
        profile = None
        problems.append(Problem(problem="shipping profile not found", detail=str(error)))
    setup = medusa.store_setup(
        currency=CURRENCY,
        sales_channel_id=medusa.default_sales_channel_id(),
        location_name=medusa.stock_location_name,
        shipping_profile_id=profile,
    )
    found = readiness_problems(setup)
    if profile is None and problems:  # said already, by name
        found = [p for p in found if p.problem != "no shipping profile"]
    problems += found
    summary = (
        "a shopper can find, pay for and ship the synced products"
        if not problems
        else "shoppers cannot buy the synced products: " + "; ".join(p.problem for p in problems)
    )
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.WARN,
        description=summary,
        metadata={
            "problems": len(problems),
            "problem_list": table(
                [("problem", "string"), ("detail", "string")],
                (p.model_dump() for p in problems),
            ),
            "regions_in_currency": len(setup.regions),
            "publishable_keys": len(setup.publishable_keys),
            "shipping_options_at_location": len(setup.shipping_options),
        },
    )
