"""Can a shopper buy what the sync wrote? The store's selling setup -> what stops it. Pure.

A storefront lists a sales channel's products through a publishable key, prices them for a
region, and checks out with a payment provider of that region and a shipping option for
the products' shipping profile from a stock location of that channel. Each missing link is
one problem, said in words a merchant can act on. The sync never creates any of this (it
is the merchant's setup); it only reports.
"""

from __future__ import annotations

from pydantic import BaseModel


class Region(BaseModel):
    id: str
    name: str = ""
    payment_providers: list[str] = []  # enabled ones


class Location(BaseModel):
    id: str
    name: str
    sales_channel_ids: list[str] = []


class ShippingOption(BaseModel):
    id: str
    name: str = ""
    shipping_profile_id: str | None = None
    # Shown at checkout: not a return option, not hidden from the store by its rules.
    in_store: bool = True


class StoreSetup(BaseModel):
    """What the store holds of the setup the sync's products need to be bought."""

    currency: str
    sales_channel_id: str | None
    regions: list[Region] = []  # regions in `currency`
    publishable_keys: list[str] = []  # ids of live publishable keys on the channel
    location_name: str
    location: Location | None = None
    shipping_profile_id: str | None = None
    shipping_options: list[ShippingOption] = []  # options from the location


class Problem(BaseModel):
    problem: str
    detail: str


def readiness_problems(setup: StoreSetup) -> list[Problem]:
    """Everything that would stop a shopper from buying the synced products."""
    problems: list[Problem] = []
    currency = setup.currency.upper()
    if not setup.regions:
        problems.append(
            Problem(
                problem=f"no region in {currency}",
                detail=f"prices are in {currency}, but no region uses it: a storefront "
                f"cannot price or sell the products (add a region with currency {currency})",
            )
        )
    for region in setup.regions:
        if not region.payment_providers:
            problems.append(
                Problem(
                    problem=f"region {region.name or region.id} has no payment provider",
                    detail=f"shoppers in region {region.name!r} ({region.id}) cannot pay: "
                    "enable a payment provider for it (e.g. pp_system_default)",
                )
            )
    channel = setup.sales_channel_id
    if channel is None:
        problems.append(
            Problem(
                problem="no default sales channel",
                detail="the store has no default sales channel, so the products are in none "
                "and no storefront lists them",
            )
        )
    elif not setup.publishable_keys:
        problems.append(
            Problem(
                problem="no publishable key on the sales channel",
                detail=f"no live publishable API key is linked to sales channel {channel}: "
                "a storefront cannot list its products (link one to the channel)",
            )
        )
    location = setup.location
    if location is None:
        problems.append(
            Problem(
                problem=f"no stock location {setup.location_name!r}",
                detail=f"the products' stock is kept at {setup.location_name!r}, which the "
                "store does not have: nothing can be shipped from it",
            )
        )
    elif channel is not None and channel not in location.sales_channel_ids:
        problems.append(
            Problem(
                problem="stock location not linked to the sales channel",
                detail=f"{location.name!r} ({location.id}) is not linked to sales channel "
                f"{channel}: its stock is not for sale there (link the location to it)",
            )
        )
    if setup.shipping_profile_id is None:
        problems.append(
            Problem(
                problem="no shipping profile",
                detail="the store has no shipping profile for the products: no cart holding "
                "them can be completed",
            )
        )
    elif location is not None:
        usable = [
            o
            for o in setup.shipping_options
            if o.shipping_profile_id == setup.shipping_profile_id and o.in_store
        ]
        if not usable:
            problems.append(
                Problem(
                    problem="no shipping option for the products",
                    detail=f"no shipping option from {location.name!r} serves shipping "
                    f"profile {setup.shipping_profile_id}: checkout cannot offer shipping "
                    "(add a shipping option for that profile at the location)",
                )
            )
    return problems
