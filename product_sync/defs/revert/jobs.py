"""`revert_sync_run`: undo a writing run from its journal (`product_sync.sync.revert`).

    dagster job execute -m product_sync.definitions -j revert_sync_run \\
      --config-json '{"ops": {"revert_run": {"config": {"run_id": "<run id>"}}}}'

or from the launchpad. It carries the sync's one-at-a-time tag, so it never runs while a
sync writes; it records its result as a materialization of `synced_products` (the store's
catalog changed) and keeps a journal of its own, so a revert can be reverted too.
"""

import dagster as dg
from pydantic import Field

from product_sync import names
from product_sync.defs.catalog_sync.metadata import admin_products_url, table
from product_sync.defs.run_files import known_run_dir, run_dir
from product_sync.resources.medusa import MedusaResource
from product_sync.sync import revert as undo
from product_sync.sync.journal import RunJournal, load_journals

ROW_COLUMNS = [
    ("kind", "string"),
    ("id", "string"),
    ("handle", "string"),
    ("action", "string"),
    ("fields", "string"),
]
CHANGED_COLUMNS = [("kind", "string"), ("id", "string"), ("handle", "string"), ("fields", "string")]


class RevertConfig(dg.Config):
    run_id: str = Field(description="Id of the run to undo (a sync, or a revert).")
    force: bool = Field(
        default=False,
        description=(
            "Also put back products and stock levels changed since that run (their later"
            " changes are lost), and revert a run that stopped half-way."
        ),
    )


@dg.op(name=names.REVERT_OP)
def revert_run(
    context: dg.OpExecutionContext, config: RevertConfig, medusa: MedusaResource
) -> undo.RevertReport:
    """Put back what the run changed: its created products archived, its updated fields
    and stock levels restored. Refuses, writing nothing, when something changed since."""
    field = f"{names.REVERT_OP}.{names.REVERT_RUN_ID_FIELD}"
    journals = load_journals(known_run_dir(context.instance, config.run_id, field))
    own = RunJournal(
        run_dir(context.instance, context.run.run_id), context.run.run_id, reverts=config.run_id
    )
    try:
        report = undo.revert_run(config.run_id, journals, medusa, force=config.force, journal=own)
    except undo.RevertRefused as refused:
        raise dg.Failure(
            description=str(refused),
            metadata={
                "changed_since": table(CHANGED_COLUMNS, refused.changed),
                "changed_count": len(refused.changed),
            },
        ) from None
    except LookupError as error:
        raise dg.Failure(str(error)) from None
    for detail in report.error_details[:20]:
        context.log.warning(f"revert write failed for {detail['ids']}: {detail['message']}")
    shown = {
        **report.numbers(),
        "reverted_run": config.run_id,
        "reverted": table(ROW_COLUMNS, report.rows),
        "changed_since_run": table(CHANGED_COLUMNS, report.changed),
        "journal_file": dg.MetadataValue.path(str(own.path)),
        "store": admin_products_url(medusa.backend_url),
    }
    context.log_event(
        dg.AssetMaterialization(
            asset_key=names.SYNC_ASSET,
            description=f"{names.REVERT_JOB}: reverted run {config.run_id}",
            metadata=shown,
        )
    )
    context.add_output_metadata(shown)
    return report


@dg.job(
    name=names.REVERT_JOB,
    description="Undo a sync run from its journal (config: run_id, force).",
    tags=names.SYNC_QUEUE_TAG,
)
def revert_sync_run():
    revert_run()
