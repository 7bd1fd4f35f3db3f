"""Creating and updating products through `POST /admin/products/batch`.

Each batch is sent, and what the store refused is handed to the recovery steps
(`recovery.py`), which settle part of it and name smaller batches to send again; those
go out depth first, so a batch's leftovers are sent before the next batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from product_sync.resources.http import ClientError, TransientError
from product_sync.resources.medusa.client import chunks
from product_sync.resources.medusa.recovery import WriteRecovery
from product_sync.resources.medusa.rows import UPDATE_RESULT_FIELDS, answered_items, ext_id
from product_sync.resources.medusa.write_report import Batch, BatchOutcome, WriteError, WriteReport


class ProductWrites(WriteRecovery):
    def write_products(
        self,
        creates: Sequence[dict[str, Any]],
        updates: Sequence[dict[str, Any]],
    ) -> WriteReport:
        """Send creates and updates in batches through `POST /admin/products/batch`.

        The endpoint is all-or-nothing, so a rejected batch is split in halves until the
        bad product is alone; everything else is written and the bad one is reported with
        Medusa's message. A batch that still fails after retries is counted, not fatal.
        """
        batches: list[tuple[str, Batch]] = [
            ("create", chunk) for chunk in chunks(list(creates), self.batch_size)
        ] + [("update", chunk) for chunk in chunks(list(updates), self.batch_size)]
        report = WriteReport()

        def run(batch: tuple[str, Batch]) -> WriteReport:
            kind, items = batch
            return self._write_batch(kind, items)

        if self.write_concurrency == 1:
            for result in map(run, batches):
                report.merge(result)
        else:
            with ThreadPoolExecutor(max_workers=self.write_concurrency) as pool:
                for result in pool.map(run, batches):
                    report.merge(result)
        return report

    def _write_batch(self, kind: str, items: Batch) -> WriteReport:
        """One batch, and whatever its recovery sends again, until nothing is left."""
        report = WriteReport()
        pending = [items]
        while pending:
            outcome = self._attempt(kind, pending.pop())
            report.merge(outcome.report)
            pending.extend(reversed(outcome.resend))
        return report

    def _attempt(self, kind: str, items: Batch) -> BatchOutcome:
        """Send one batch: written, refused (recovery decides), or failed after retries
        (counted against its products)."""
        try:
            if kind == "create":
                return BatchOutcome(self._create_with_lookup(items))
            return BatchOutcome(self._update(items))
        except ClientError as error:
            return self._recover_refused(kind, items, error)
        except TransientError as error:
            failed = WriteError([ext_id(i) for i in items], str(error))
            return BatchOutcome(WriteReport(errors=[failed]))

    def _update(self, items: Batch) -> WriteReport:
        body = self._call(
            "POST",
            "/admin/products/batch",
            json_body={"update": list(items)},
            params={"fields": UPDATE_RESULT_FIELDS},
        )
        answered = {p.get("id"): p for p in body.get("updated") or []}
        rebuilt = self._rebuild_answered(items, answered)
        inventory = answered_items(answered.values())
        for item in rebuilt:  # a new variant: its item is no longer the one answered
            inventory.pop(ext_id(item), None)
        return WriteReport(updated=len(items), repaired=len(rebuilt), inventory_items=inventory)
