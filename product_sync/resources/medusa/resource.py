"""`MedusaResource`: the one Dagster resource for the store, assembled from its parts."""

from __future__ import annotations

from pydantic import Field

from product_sync.resources.medusa.inventory import Inventory
from product_sync.resources.medusa.taxonomy import Taxonomy
from product_sync.resources.medusa.uploads import Uploads
from product_sync.resources.medusa.writes import ProductWrites


class MedusaResource(ProductWrites, Inventory, Taxonomy, Uploads):
    """A Medusa v2 store's Admin API, authenticated with a secret API key.

    Connection settings live in `MedusaClient`; these are the pipeline's own."""

    external_id_prefix: str = Field(
        default="dummyjson:",
        min_length=2,
        description="namespace of the products this pipeline owns; it never touches others",
    )
    stock_location_name: str = Field(
        default="DummyJSON Warehouse",
        description="stock location that holds the source's stock (created if missing)",
    )
    sync_stock: bool = Field(default=True, description="set inventory levels from `stock`")
    upload_images: bool = Field(
        default=False,
        description="copy source images into the store's file storage and link the copies",
    )

    def default_sales_channel_id(self) -> str | None:
        stores = self._call(
            "GET", "/admin/stores", params={"fields": "id,default_sales_channel_id"}
        )
        for store in stores.get("stores", []):
            if store.get("default_sales_channel_id"):
                return store["default_sales_channel_id"]
        return None
