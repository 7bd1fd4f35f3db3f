"""Review, then apply: a dry run's plan in the Dagster UI and in its plan file, applied
exactly by a later run with `apply_plan`, and refused (nothing written) when the source
or the store moved since. The store is judged through the Admin API (`Store`, and the
whole-store snapshot of the dry-run tests), the source through the catalog server."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from product_sync_tests.e2e.conftest import step_failure
from product_sync_tests.e2e.test_dry_run_e2e import assert_same, snapshot
from product_sync_tests.e2e.test_journal_e2e import edit_sale_price, sale_list
from product_sync_tests.e2e.test_storefront_e2e import expected_price

pytestmark = pytest.mark.e2e

PRICE_FIELDS = "id,external_id,status,variants.prices.amount,variants.prices.currency_code"


def source_record(catalog, source_id: int) -> dict:
    return requests.get(f"{catalog.base_url}/products/{source_id}", timeout=10).json()


def source_price(catalog, source_id: int) -> Decimal:
    return Decimal(str(source_record(catalog, source_id)["price"]))


def plan_file(run) -> dict:
    return json.loads(Path(run.metadata["plan_file"]).read_text())


def rows_by_key(plan: dict) -> dict[tuple[str, int], dict]:
    return {(r["action"], r["source_id"]): r for r in plan["rows"]}


def test_a_dry_runs_plan_is_shown_and_applied_exactly_later(sync, store, catalog, instance):
    sync(instance=instance)
    old = {sid: store.usd(p) for sid, p in store.ours(PRICE_FIELDS).items()}
    variants = {
        sid: p["variants"][0]["id"] for sid, p in store.ours("id,external_id,variants.id").items()
    }
    held = sale_list(store)
    sold = {sid: held[v] for sid, v in variants.items() if v in held}
    catalog.mutate("price", ids=[1, 2, 3])
    catalog.mutate("stock", ids=[6], value=0)
    catalog.mutate("remove", ids=[9])
    dry = sync(dry_run=True, instance=instance)

    # The UI: a summary saying how to apply it, one table per action, old -> new.
    assert dry.run_id in dry.metadata["plan_summary"]
    updates = {r.data["source_id"]: r.data for r in dry.metadata["plan_update"].records}
    assert set(updates) == {1, 2, 3, 6}
    for sid in (1, 2, 3):
        assert updates[sid]["price"] == f"{old[sid]:.2f} → {source_price(catalog, sid):.2f}"
    assert updates[6]["stock"].endswith("→ 0") and updates[6]["price"] is None
    # A new price moves the sale price too: old -> new, as the storefront will show it.
    for sid in (1, 2, 3):
        old_sale, new_sale = updates[sid]["sale_price"].split(" → ")
        assert Decimal(new_sale) == expected_price(source_record(catalog, sid)).calculated
        assert Decimal(old_sale) == sold[sid]
    assert updates[6]["sale_price"] is None
    (archive,) = dry.metadata["plan_archive"].records
    assert (archive.data["source_id"], archive.data["status"]) == (9, "published → draft")
    # The file: the same plan, every field, with what it was planned against.
    planned = plan_file(dry)
    assert planned["dry_run"] is True and len(planned["hashes"]["source"]) == 193
    rows = rows_by_key(planned)
    assert rows[("update", 1)]["changes"]["price.usd"]["new"] == float(source_price(catalog, 1))
    assert "metadata.availability_status" in rows[("update", 6)]["changes"]

    before = snapshot(store)
    applied = sync(apply_plan=dry.run_id, instance=instance)
    assert (applied.metadata["updated"], applied.metadata["archived"]) == (4, 1)
    assert rows_by_key(plan_file(applied)).keys() == rows.keys()
    now = store.ours(PRICE_FIELDS)
    for sid in (1, 2, 3):
        assert store.usd(now[sid]) == source_price(catalog, sid) != old[sid]
    assert now[9]["status"] == "draft"
    # No product outside the plan was written.
    stamped = {p["id"]: p["updated_at"] for p in before["/admin/products"]}
    written = {
        p["id"] for p in snapshot(store)["/admin/products"] if stamped[p["id"]] != p["updated_at"]
    }
    assert written == {now[sid]["id"] for sid in (1, 2, 3, 6, 9)}
    # Exactly the plan: a normal run after it finds nothing left to do.
    after = sync(instance=instance)
    assert after.writes == 0 and after.metadata["stock_updated"] == 0


def test_apply_plan_refuses_when_the_source_or_the_store_moved(sync, store, catalog, instance):
    first = sync(instance=instance)
    catalog.mutate("price", ids=[1])
    dry = sync(dry_run=True, instance=instance)
    catalog.mutate("price", ids=[5])  # the source moved
    drafted = store.ours()[7]  # and so did the store
    store.post(f"/admin/products/{drafted['id']}", {"status": "draft"})
    before = snapshot(store)

    refused = sync(apply_plan=dry.run_id, instance=instance, raise_on_error=False)
    assert not refused.result.success
    message = step_failure(refused.result)
    assert "nothing was written" in message
    assert "source 5: changed" in message and "store 7: changed" in message
    assert "source 1:" not in message and "store 1:" not in message
    assert_same(before, snapshot(store))

    not_dry = sync(apply_plan=first.run_id, instance=instance, raise_on_error=False)
    assert "was not a dry run" in step_failure(not_dry.result)
    unknown = sync(
        apply_plan="00000000-0000-4000-8000-000000000000", instance=instance, raise_on_error=False
    )
    assert "has no run" in step_failure(unknown.result)
    assert_same(before, snapshot(store))


def test_apply_plan_refuses_when_a_sale_price_moved(sync, store, catalog, instance):
    sync(instance=instance)
    catalog.mutate("price", ids=[1])
    dry = sync(dry_run=True, instance=instance)
    assert plan_file(dry)["hashes"]["sale_prices"]
    # The merchant edits the sale price of product 4 in the sync's list.
    edit_sale_price(store, 4, 1.11)
    before, prices = snapshot(store), sale_list(store)

    refused = sync(apply_plan=dry.run_id, instance=instance, raise_on_error=False)
    assert not refused.result.success
    message = step_failure(refused.result)
    assert "nothing was written" in message and "sale_prices 4: changed" in message
    assert "source" not in message.split("moved since it was made:")[1]
    assert_same(before, snapshot(store))
    assert sale_list(store) == prices
