"""A MedusaResource pointed at a store that `responses` plays, and products to write."""

from product_sync.resources.medusa import MedusaResource

BASE = "http://medusa.test"
BATCH = f"{BASE}/admin/products/batch"
INVENTORY = f"{BASE}/admin/inventory-items"
LOCATIONS = f"{BASE}/admin/stock-locations"
KEY = "sk_test_key"


def medusa(**kwargs):
    kwargs.setdefault("batch_size", 4)
    return MedusaResource(
        backend_url=BASE, api_key=KEY, initial_backoff_s=0, max_backoff_s=0, **kwargs
    )


def item(n, bad=False):
    return {"external_id": f"dummyjson:{n}", "handle": f"h-{n}", "title": "x", "bad": bad}


def update_item(pid, vid, price=9.99):
    variant = {"id": vid, "sku": "S", "manage_inventory": True, "prices": []}
    variant["prices"] = [{"amount": price, "currency_code": "usd"}]
    return {"id": pid, "external_id": "dummyjson:1", "variants": [variant]}


def answered_product(pid, ext_id, item_id):
    """A product as a write answers it: its variant linked to the inventory item."""
    return {
        "id": pid,
        "external_id": ext_id,
        "variants": [{"id": f"v-{pid}", "inventory_items": [{"inventory_item_id": item_id}]}],
    }
