"""The sync's switches: what the sync does, as opposed to how it talks to the store
(`MedusaResource`) or the source (`DummyJSONResource`). One resource, so the assets, the
checks and the scaled-out ops all read the same answer, editable per run in the launchpad.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from product_sync.sync.engine import SyncOptions


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

    def options(self, *, dry_run: bool, max_archive_fraction: float) -> SyncOptions:
        return SyncOptions(
            dry_run=dry_run,
            max_archive_fraction=max_archive_fraction,
            sync_stock=self.sync_stock,
            upload_images=self.upload_images,
            shipping_profile=self.shipping_profile,
            allow_backorder=self.allow_backorder,
        )
