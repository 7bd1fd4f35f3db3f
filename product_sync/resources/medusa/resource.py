"""`MedusaResource`: the one Dagster resource for the store, assembled from its parts."""

from __future__ import annotations

from pydantic import Field

from product_sync.names import STOCK_LOCATION_NAME
from product_sync.resources.medusa.price_lists import PriceLists
from product_sync.resources.medusa.shipping import Shipping
from product_sync.resources.medusa.states import ProductStates
from product_sync.resources.medusa.store_setup import StoreSetupReads
from product_sync.resources.medusa.taxonomy import Taxonomy
from product_sync.resources.medusa.uploads import Uploads
from product_sync.resources.medusa.writes import ProductWrites


class MedusaResource(
    ProductWrites, ProductStates, Taxonomy, PriceLists, Uploads, Shipping, StoreSetupReads
):
    """A Medusa v2 store's Admin API, authenticated with a secret API key.

    Connection settings live in `MedusaClient`; these say which of the store's records
    are the pipeline's. What the sync does with them is `SyncSettings`."""

    external_id_prefix: str = Field(
        default="dummyjson:",
        min_length=2,
        description="namespace of the products this pipeline owns; it never touches others",
    )
    stock_location_name: str = Field(
        default=STOCK_LOCATION_NAME,
        description="stock location that holds the source's stock (created if missing)",
    )

    def default_sales_channel_id(self) -> str | None:
        stores = self._call(
            "GET", "/admin/stores", params={"fields": "id,default_sales_channel_id"}
        )
        for store in stores.get("stores", []):
            if store.get("default_sales_channel_id"):
                return store["default_sales_channel_id"]
        return None
