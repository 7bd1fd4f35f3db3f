"""Medusa v2 Admin API: the only place the pipeline talks to the store.

Two store behaviours shape this package: `external_id` is not unique, so creates are
always preceded by a lookup; and unknown query parameters are silently ignored, so every
filtered read checks that what came back matches the filter it asked for.

One module per concern: `client` (transport, auth, paging), `reads` (product listings and
lookups), `writes` and `recovery` (batch writes and how refused or timed-out ones are
recovered), `taxonomy` (categories), `inventory` (stock), `uploads` (files), `rows`
(reading the rows), `resource` (the Dagster resource that combines them).
"""

from product_sync.resources.medusa.client import FilterIgnored, MedusaClient, StoreRejected
from product_sync.resources.medusa.resource import MedusaResource
from product_sync.resources.medusa.rows import INDEX_FIELDS, WRITE_RESULT_FIELDS, indexed_product
from product_sync.resources.medusa.write_report import WriteError, WriteReport

__all__ = [
    "INDEX_FIELDS",
    "WRITE_RESULT_FIELDS",
    "FilterIgnored",
    "MedusaClient",
    "MedusaResource",
    "StoreRejected",
    "WriteError",
    "WriteReport",
    "indexed_product",
]
