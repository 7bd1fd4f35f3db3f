"""The sync's switches: what the sync does, as opposed to how it talks to the store
(`MedusaResource`) or the source (`DummyJSONResource`). One resource, so the assets, the
checks and the scaled-out ops all read the same answer, editable per run in the launchpad.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field, model_validator

from product_sync.core.ownership import CREATE_ONLY, SOURCE, Ownership, OwnershipPolicy
from product_sync.sync.engine import SyncOptions

_OWNED = (
    "`source`: the source wins on every run; `create_only`: set when the product is "
    "created, then the merchant's; `ignore`: never written"
)


def _owner(default: Ownership, what: str) -> Ownership:
    return Field(default=default, description=f"{what}. {_OWNED}")


class FieldOwnership(dg.Config):
    """Who owns each field group of the products the sync creates (docs/ownership.md).
    An edit made in the store to a field the source owns is overwritten and reported; one
    to a `create_only` field is kept and reported as kept."""

    title: Ownership = _owner(SOURCE, "title (`ignore` is refused: Medusa needs a title)")
    description: Ownership = _owner(SOURCE, "description")
    images: Ownership = _owner(SOURCE, "images and thumbnail")
    price: Ownership = _owner(SOURCE, "the variant's USD price")
    sale_price: Ownership = _owner(
        SOURCE, "the sale price in the sync's sale price list (from discountPercentage)"
    )
    category: Ownership = _owner(SOURCE, "the product category link")
    tags: Ownership = _owner(SOURCE, "the product's tags (the source's `tags`)")
    collection: Ownership = _owner(SOURCE, "the product's collection (its brand's)")
    status: Ownership = _owner(
        CREATE_ONLY,
        "published/draft; default `create_only`: a product the merchant drafted stays "
        "drafted (the sync still archives products gone from the source and restores them)",
    )
    stock: Ownership = _owner(SOURCE, "inventory level at the sync's stock location")
    metadata: Ownership = _owner(SOURCE, "the source's metadata keys (brand, rating, …)")

    @model_validator(mode="after")
    def _valid(self) -> FieldOwnership:
        self.policy()  # refuses what cannot work (a title never written) when configured
        return self

    def policy(self) -> OwnershipPolicy:
        return OwnershipPolicy(
            **{name: getattr(self, name) for name in OwnershipPolicy.model_fields}
        )


class SyncSettings(dg.ConfigurableResource):
    sync_stock: bool = Field(default=True, description="set inventory levels from `stock`")
    upload_images: bool = Field(
        default=False,
        description="copy source images into the store's file storage and link the copies",
    )
    shipping_profile: str | None = Field(
        default=None,
        description=(
            "shipping profile every product gets, by id (sp_…) or name; default: the store's"
            " profile of type `default` (a cart cannot be completed without one)"
        ),
    )
    allow_backorder: bool = Field(
        default=False, description="let shoppers buy variants whose stock is 0"
    )
    ownership: FieldOwnership = Field(
        default_factory=FieldOwnership,
        description="who owns each field group: the source, or the merchant after create",
    )
    apply_discounts: bool = Field(
        default=True,
        description=(
            "the source's discountPercentage as a sale price in the sync's price list (type"
            " `sale`); off: the sync removes the sale prices it wrote"
        ),
    )

    def options(self, *, dry_run: bool, max_archive_fraction: float) -> SyncOptions:
        return SyncOptions(
            dry_run=dry_run,
            max_archive_fraction=max_archive_fraction,
            sync_stock=self.sync_stock,
            upload_images=self.upload_images,
            shipping_profile=self.shipping_profile,
            allow_backorder=self.allow_backorder,
            ownership=self.ownership.policy(),
            apply_discounts=self.apply_discounts,
        )
