"""Writing a plan to the store: creates and updates in batches, then archives and repairs,
with new products' handles kept clear of whatever else wrote meanwhile.

Handles. A plan's creates were checked against the store when it was planned, but a large
plan is written over minutes, and in a scaled-out run other ranges create products at the
same time: two same-titled products in two ranges plan the same handle, neither seeing the
other's. So creates go out a few batches at a time, each group's handles checked against the
store just before it is sent, and those taken meanwhile are planned again; when two writes
still cross (within the moment between check and write), Medusa's unique index on
`product.handle` refuses the second create, which is then planned again the same way (the
handle is now in the store, so marked taken), at most `MAX_CLASH_ROUNDS` times. Handles stay
unique and, once given, never change; only which of two same-titled products gets the bare
slug depends on which is written first. A range-specific suffix would have avoided the
coordination but changed the handle rule itself, and handles are URLs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from product_sync.core.mapping import source_id_of
from product_sync.core.planning import SyncPlan, archive_update, retire_duplicate_update
from product_sync.resources.medusa import MedusaResource, WriteError, WriteReport
from product_sync.sync.report import SyncReport

WRITE_GROUP_BATCHES = 8  # batches handed to the writer at once (it may run them in parallel)
CHECKED_BATCHES = 2  # create batches sent per check of their handles against the store
MAX_CLASH_ROUNDS = 3

# Plans these source ids again against the store as it is now (never archiving).
Replanner = Callable[[set[int]], SyncPlan]


def apply_plan(
    plan: SyncPlan,
    medusa: MedusaResource,
    *,
    dry_run: bool,
    inventory_items: dict[str, str] | None = None,
) -> SyncReport:
    """Write the plan: creates and updates in batches, then archives and repairs.

    `inventory_items`, if given, is filled with external id -> inventory item id of the
    created and updated products, as the store's answers named them (for `stock_items`).
    """
    report = SyncReport(
        unchanged=len(plan.unchanged),
        quarantined=len(plan.quarantined),
        archive_blocked_reason=plan.archive_blocked_reason,
        dry_run=dry_run,
    )
    if dry_run:
        report.created, report.updated = len(plan.creates), len(plan.updates)
        report.archived, report.duplicates_retired = len(plan.archives), len(plan.duplicate_repairs)
        return report

    # Payloads are unpacked a group of batches at a time, never all at once.
    group = medusa.batch_size * WRITE_GROUP_BATCHES
    writes = WriteReport()
    for kind, planned in (("create", plan.creates), ("update", plan.updates)):
        for start in range(0, len(planned), group):
            payloads = [w.payload for w in planned[start : start + group]]
            writes.merge(
                medusa.write_products(payloads, [])
                if kind == "create"
                else medusa.write_products([], payloads)
            )
    if inventory_items is not None:
        inventory_items.update(writes.inventory_items)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    retired = medusa.write_products(
        [],
        [archive_update(a, now) for a in plan.archives]
        + [retire_duplicate_update(d, medusa.external_id_prefix) for d in plan.duplicate_repairs],
    )
    errors: list[WriteError] = writes.errors + retired.errors
    failed = {e for err in retired.errors for e in err.external_ids}
    report.created, report.updated, report.recovered = (
        writes.created,
        writes.updated,
        writes.recovered,
    )
    report.archived = sum(1 for a in plan.archives if a.product_id not in failed)
    report.duplicates_retired = sum(1 for d in plan.duplicate_repairs if d.id not in failed)
    report.error_details = [
        {"ids": e.external_ids[:20], "count": len(e.external_ids), "message": e.message}
        for e in errors
    ]
    report.errors = _error_count(report)
    return report


def write_plan(
    plan: SyncPlan,
    medusa: MedusaResource,
    replan: Replanner,
    *,
    dry_run: bool,
    inventory_items: dict[str, str] | None = None,
) -> SyncReport:
    """Write `plan`, creates checked for handles taken meanwhile (see the module
    docstring); `replan` plans again the products whose handle was taken."""
    if dry_run:
        return apply_plan(plan, medusa, dry_run=True)
    report = apply_plan(
        plan.model_copy(update={"creates": []}),
        medusa,
        dry_run=False,
        inventory_items=inventory_items,
    )
    late: set[int] = set()
    group = medusa.batch_size * CHECKED_BATCHES
    for start in range(0, len(plan.creates), group):
        creates = plan.creates[start : start + group]
        taken = medusa.handles_in_use(c.handle for c in creates) if start else set()
        late |= {c.source_id for c in creates if c.handle in taken}
        ready = SyncPlan(creates=[c for c in creates if c.handle not in taken])
        _add_writes(
            report, apply_plan(ready, medusa, dry_run=False, inventory_items=inventory_items)
        )
    prefix = medusa.external_id_prefix
    late |= _clashed_handles(report, prefix)
    for _ in range(MAX_CLASH_ROUNDS + 1):
        if not late:
            break
        report.handle_replans += len(late)
        # A refused create planned again is an error only if it fails again.
        report.error_details = [
            d
            for d in report.error_details
            if not {source_id_of(prefix, e) for e in d["ids"]} <= late
        ]
        again = replan(late).model_copy(update={"archives": [], "duplicate_repairs": []})
        fresh = apply_plan(again, medusa, dry_run=False, inventory_items=inventory_items)
        _add_writes(report, fresh)
        late = _clashed_handles(fresh, prefix)
    return report


def _add_writes(report: SyncReport, more: SyncReport) -> None:
    """Fold in what another write of the same run wrote (not what it found unchanged)."""
    for name in ("created", "updated", "archived", "duplicates_retired", "recovered"):
        setattr(report, name, getattr(report, name) + getattr(more, name))
    report.error_details = [*report.error_details, *more.error_details]
    report.errors = _error_count(report)


def _error_count(report: SyncReport) -> int:
    return sum(d.get("count", len(d["ids"])) for d in report.error_details)


def _clashed_handles(report: SyncReport, prefix: str) -> set[int]:
    """Source ids whose create Medusa refused for a handle another product now holds."""
    return {
        source_id
        for detail in report.error_details
        if "handle" in detail["message"].lower()
        for ext_id in detail["ids"]
        if (source_id := source_id_of(prefix, ext_id)) is not None
    }
