"""`synced_products`' plan, in Dagster terms: the plan file and journal in the run's
artifact storage, the UI's view of them, and `apply_plan` (a dry run's plan, applied
only if nothing moved since; otherwise the run fails, writing nothing)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import dagster as dg

from product_sync import names
from product_sync.core.catalog import SourceCatalog
from product_sync.core.planning import ProductIndex
from product_sync.defs.catalog_sync.metadata import table
from product_sync.defs.catalog_sync.plan_metadata import plan_metadata
from product_sync.defs.run_files import known_run_dir
from product_sync.sync import CategoryMap, SyncOptions, SyncOutcome
from product_sync.sync.review import PlanGate, PlanMoved, check_plan, load_record, plan_record
from product_sync.sync.review import write_record as write_plan_file


def approved(
    instance: dg.DagsterInstance,
    run_id: str,
    catalog: SourceCatalog,
    categories: CategoryMap,
    index: ProductIndex,
    options: SyncOptions,
) -> tuple[SyncOptions, PlanGate]:
    """The options the dry run `run_id` planned with, and the gate that holds this run
    to its plan; fails the run (nothing written) if the plan no longer applies."""
    field = f"{names.SYNC_ASSET}.{names.APPLY_PLAN_FIELD}"
    try:
        record = load_record(known_run_dir(instance, run_id, field), run_id)
    except FileNotFoundError as error:
        raise dg.Failure(f"{field}: {error}") from None
    # The plan's guardrail is part of the plan (the settings resource must match too).
    fraction = record.settings.get("max_archive_fraction", options.max_archive_fraction)
    options = dataclasses.replace(options, max_archive_fraction=fraction)
    try:
        return options, check_plan(record, catalog, index, categories, options)
    except PlanMoved as moved:
        raise refusal(moved) from None
    except ValueError as error:
        raise dg.Failure(f"{field}: {error}") from None


def refusal(moved: PlanMoved) -> dg.Failure:
    return dg.Failure(
        description=str(moved),
        metadata={
            "moved": table(
                [("part", "string"), ("key", "string"), ("change", "string")],
                (m.model_dump() for m in moved.moved),
            ),
            "moved_count": len(moved.moved),
        },
    )


def plan_output(
    run_id: str,
    directory: Path,
    outcome: SyncOutcome,
    catalog: SourceCatalog,
    categories: CategoryMap,
    index: ProductIndex,
    options: SyncOptions,
    journal_file: Path,
) -> dict[str, Any]:
    """Write the run's plan file; the metadata that shows it (and the journal, if any)."""
    record = plan_record(
        run_id,
        plan=outcome.plan,
        rows=outcome.rows,
        stock=outcome.stock,
        catalog=catalog,
        index=index,
        categories=categories,
        options=options,
        scope=outcome.report.scope,
        sale_prices=outcome.sale_hashes,
    )
    plan_file = write_plan_file(directory, record)
    return plan_metadata(record, plan_file, journal_file if journal_file.is_file() else None)
