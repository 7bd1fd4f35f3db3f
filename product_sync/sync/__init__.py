"""The sync's steps, doing I/O only through the resources; `engine` runs them in order.

Assets and ops call these so each body stays a few lines, and the asset checks can re-run
the exact planning the sync used (the idempotency check plans again after writing).
"""

from product_sync.sync.categories import (
    CategoryMap,
    apply_category_map,
    build_category_map,
    plan_category_map,
)
from product_sync.sync.engine import SyncOptions, SyncOutcome, sync_products, sync_scope
from product_sync.sync.images import ImageReport, known_images, resolve_images
from product_sync.sync.planning import plan_against_store
from product_sync.sync.report import SyncReport
from product_sync.sync.sale_prices import (
    SaleAhead,
    SalePriceReport,
    read_sale_prices_ahead,
    sync_sale_prices,
)
from product_sync.sync.scope import SyncScope, read_index, read_source
from product_sync.sync.stock import (
    StockAhead,
    StockItems,
    StockReport,
    read_stock_ahead,
    stock_items,
    stock_plan,
    sync_stock,
)
from product_sync.sync.taxonomy import TaxonomyMap, prepare_taxonomy, record_taxonomy
from product_sync.sync.writing import WRITE_GROUP_BATCHES, apply_plan, write_plan

__all__ = [
    "WRITE_GROUP_BATCHES",
    "CategoryMap",
    "ImageReport",
    "SaleAhead",
    "SalePriceReport",
    "StockAhead",
    "StockItems",
    "StockReport",
    "SyncOptions",
    "SyncOutcome",
    "SyncReport",
    "SyncScope",
    "TaxonomyMap",
    "apply_category_map",
    "apply_plan",
    "build_category_map",
    "known_images",
    "plan_against_store",
    "plan_category_map",
    "prepare_taxonomy",
    "read_index",
    "read_sale_prices_ahead",
    "read_source",
    "read_stock_ahead",
    "record_taxonomy",
    "resolve_images",
    "stock_items",
    "stock_plan",
    "sync_products",
    "sync_sale_prices",
    "sync_scope",
    "sync_stock",
    "write_plan",
]
