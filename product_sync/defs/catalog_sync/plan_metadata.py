"""The plan of a run as the Dagster UI shows it on `synced_products`' materialization: a
markdown summary, one table per action with the changed fields (old → new for price,
sale price, title, stock, status and category), and the path of the complete plan file."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import dagster as dg

from product_sync import names
from product_sync.core.review import ACTIONS, PlanRecord, PlanRow
from product_sync.defs.catalog_sync.metadata import TABLE_ROWS_SHOWN, table

COLUMNS = [
    ("source_id", "int"),
    ("handle", "string"),
    ("changed", "string"),
    ("price", "string"),
    ("sale_price", "string"),
    ("title", "string"),
    ("stock", "string"),
    ("status", "string"),
    ("category", "string"),
]


def _cells(row: PlanRow) -> dict[str, Any]:
    return {
        "source_id": row.source_id,
        "handle": row.handle,
        "changed": ", ".join(row.changed()),
        **row.headline(),
    }


def plan_metadata(
    record: PlanRecord, plan_file: Path, journal_file: Path | None = None
) -> dict[str, Any]:
    grouped = record.by_action()
    shown: dict[str, Any] = {
        "plan_summary": dg.MetadataValue.md(summary(record, written=journal_file is not None)),
        "plan_file": dg.MetadataValue.path(str(plan_file)),
    }
    if journal_file is not None:
        shown["journal_file"] = dg.MetadataValue.path(str(journal_file))
    for action in ACTIONS:
        if grouped[action]:
            shown[f"plan_{action}"] = table(COLUMNS, (_cells(r) for r in grouped[action]))
    return shown


def summary(record: PlanRecord, *, written: bool = False) -> str:
    grouped = record.by_action()
    if record.dry_run:
        apply = {"ops": {names.SYNC_ASSET: {"config": {names.APPLY_PLAN_FIELD: record.run_id}}}}
        head = (
            "**Dry run: nothing was written.** To apply exactly this plan, materialize "
            f"`{names.SYNC_ASSET}` (and its inputs, with the same `product_ids`) with\n\n"
            f"```\n{json.dumps(apply)}\n```\n\nIt is refused, writing nothing, if the source or "
            "the store moved since."
        )
    elif written and (record.rows or record.categories_to_create or record.categories_to_rename):
        undo = names.revert_run_config(record.run_id)
        head = (
            f"**Written.** To undo what this run changed, launch `{names.REVERT_JOB}` with"
            f"\n\n```\n{json.dumps(undo)}\n```"
        )
    else:
        head = "**Nothing was written**: the store already matched the source."
    lines = [head, "", "| action | products |", "|---|---:|"]
    lines += [f"| {action} | {len(grouped[action])} |" for action in ACTIONS]
    fields = Counter(name for row in record.rows for name in row.changed())
    if fields:
        lines += ["", "Fields changing: " + ", ".join(f"{n} ×{c}" for n, c in fields.most_common())]
    if record.categories_to_create:
        lines += ["", "Categories to create: " + ", ".join(record.categories_to_create)]
    if record.categories_to_rename:
        renames = (f"{r['id']} → {r['name']}" for r in record.categories_to_rename)
        lines += ["", "Categories to rename: " + ", ".join(renames)]
    if record.archive_blocked_reason:
        lines += ["", f"Archiving blocked: {record.archive_blocked_reason}"]
    if not record.rows:
        lines += ["", "Nothing to change."]
    largest = max((len(rows) for rows in grouped.values()), default=0)
    capped = f"first {TABLE_ROWS_SHOWN} rows of each; " if largest > TABLE_ROWS_SHOWN else ""
    lines += [
        "",
        f"The tables `plan_<action>` show {capped}price, sale price, title, stock, status and "
        "category old → new; every field changed, old → new, is in the JSON file `plan_file` (this "
        "run's folder in the Dagster instance's artifact storage).",
    ]
    return "\n".join(lines)
