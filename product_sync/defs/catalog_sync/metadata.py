"""What the Dagster UI shows of a sync: numbers it can plot per run, tables it can read,
links into the store. Pure functions of the run's results."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg

from product_sync.core.catalog import SourceCatalog
from product_sync.core.identifiers import DroppedIdentifier
from product_sync.core.models import Quarantined
from product_sync.core.ownership import MerchantEdit
from product_sync.sync import SyncOutcome

TABLE_ROWS_SHOWN = 200


def table(
    columns: Sequence[tuple[str, str]], rows: Iterable[Mapping[str, Any]]
) -> dg.TableMetadataValue:
    """A table of at most `TABLE_ROWS_SHOWN` rows; `columns` are (name, type) pairs."""
    records = []
    for row in rows:
        if len(records) == TABLE_ROWS_SHOWN:
            break
        records.append(dg.TableRecord({name: _cell(row.get(name)) for name, _ in columns}))
    return dg.MetadataValue.table(
        records=records,
        schema=dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in columns]),
    )


def _cell(value: Any) -> str | int | float | bool | None:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def quarantine_table(quarantined: Iterable[Quarantined]) -> dg.TableMetadataValue:
    return table(
        [("source_id", "int"), ("field", "string"), ("reason", "string")],
        ({"source_id": q.source_id, "field": q.field, "reason": q.reason} for q in quarantined),
    )


def merchant_edits_table(edits: Iterable[MerchantEdit]) -> dg.TableMetadataValue:
    """Fields of our products edited in the store, and whether the sync overwrote them."""
    return table(
        [
            ("external_id", "string"),
            ("handle", "string"),
            ("field", "string"),
            ("store_value", "string"),
            ("source_value", "string"),
            ("action", "string"),
        ],
        (e.model_dump() for e in edits),
    )


def identifiers_dropped_table(dropped: Iterable[DroppedIdentifier]) -> dg.TableMetadataValue:
    """Products synced without a barcode another product holds."""
    return table(
        [("source_id", "int"), ("field", "string"), ("value", "string"), ("held_by", "int")],
        (d.model_dump() for d in dropped),
    )


def admin_products_url(backend_url: str) -> dg.UrlMetadataValue:
    return dg.MetadataValue.url(f"{backend_url.rstrip('/')}/app/products")


def category_counts(catalog: SourceCatalog) -> dict[str, int]:
    return dict(sorted(Counter(p.category for p in catalog.products_view).items()))


def sync_metadata(outcome: SyncOutcome, catalog: SourceCatalog, backend_url: str) -> dict[str, Any]:
    report, plan = outcome.report, outcome.plan
    return {
        **report.numbers(),
        "dagster/row_count": report.created + report.updated + report.unchanged,
        "archive_blocked": 1 if report.archive_blocked_reason else 0,
        "quarantine": quarantine_table([*catalog.quarantined, *plan.quarantined]),
        "merchant_edits": merchant_edits_table(plan.merchant_edits),
        "dropped_identifiers": identifiers_dropped_table(plan.identifiers_dropped),
        "write_errors": table(
            [("external_ids", "string"), ("count", "int"), ("message", "string")],
            (
                {
                    "external_ids": ", ".join(d["ids"]),
                    "count": d.get("count"),
                    "message": d["message"],
                }
                for d in report.error_details
            ),
        ),
        "products_by_category": dg.MetadataValue.json(category_counts(catalog)),
        "store": admin_products_url(backend_url),
    }
