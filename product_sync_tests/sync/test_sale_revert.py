"""What the sale-price step journals, and its revert, against the in-memory price-list
store of `test_sale_prices` (served by `responses`)."""

from __future__ import annotations

from decimal import Decimal

import responses

from product_sync.core.journal import Journal
from product_sync.core.planning import PlannedWrite, SyncPlan
from product_sync.core.sale_prices import PRICE_LIST_KEY, RESTORED_KEY
from product_sync.sync.revert import RevertReport
from product_sync.sync.sale_revert import changed_rows, judge_sale_prices, write_sale_reverts
from product_sync_tests.sync.test_sale_prices import (
    PREFIX,
    catalog,
    index,
    medusa,
    run,
)


def usd(amount: str) -> list[list[str]]:
    return [["usd", amount]]


def revert(entries, *, force=False, run_id="run_1"):
    """Revert these journal entries as `revert_sync_run` does: judge all, then write."""
    m = medusa()
    report = RevertReport(run_id=run_id, forced=force)
    judged = judge_sale_prices([Journal(run_id=run_id, sale_prices=entries)], m, force=force)
    report.changed += changed_rows(judged, PREFIX)
    if report.changed and not force:
        return report, []
    return report, write_sale_reverts(judged, m, report)


def ours(store, created_at="2026-01-01T00:00:00Z"):
    return store.add_list({PRICE_LIST_KEY: PREFIX}, created_at)


def test_the_journal_holds_each_changed_variant_before_and_after(store):
    list_id = ours(store)
    store.add_price(list_id, "variant_1", "8.75")  # 12.5 % → 20 %: updated
    store.add_price(list_id, "variant_2", "9.00")  # discount removed: deleted
    store.add_price(list_id, "variant_4", "5")  # unchanged: not journaled
    report = run(store, catalog(20, None, 10, 50), index(1, 2, 3, 4))
    (entry,) = report.changes
    assert (entry.price_list_id, entry.created, entry.deleted) == (list_id, False, False)
    assert [(c.variant_id, c.source_id, c.before, c.after) for c in entry.prices] == [
        ("variant_1", 1, usd("8.75"), usd("8")),
        ("variant_2", 2, usd("9"), []),
        ("variant_3", 3, [], usd("9")),
    ]


def test_a_revert_restores_updated_removed_and_created_prices_and_is_idempotent(store):
    list_id = ours(store)
    store.add_price(list_id, "variant_1", "8.75")
    store.add_price(list_id, "variant_2", "9.00")
    store.add_price(list_id, "variant_4", "5")
    before = store.held(list_id)
    entries = run(store, catalog(20, None, 10, 50), index(1, 2, 3, 4)).changes
    assert store.held(list_id) != before

    report, own = revert(entries)
    assert store.held(list_id) == before
    assert (report.sale_prices_restored, report.changed, report.errors) == (3, [], 0)
    (undone,) = own  # the revert's own journal: it can be reverted too
    assert {c.variant_id: (c.before, c.after) for c in undone.prices} == {
        "variant_1": (usd("8"), usd("8.75")),
        "variant_2": ([], usd("9")),
        "variant_3": (usd("9"), []),
    }

    again, _ = revert(entries)
    assert (again.sale_prices_restored, again.already_reverted) == (0, 3)
    assert store.held(list_id) == before

    revert(own, run_id="revert_1")  # undoing the revert: the run's prices are back
    assert store.held(list_id) == {
        "variant_1": Decimal("8"),
        "variant_3": Decimal("9"),
        "variant_4": Decimal("5"),
    }


def test_a_price_changed_since_the_run_refuses_the_revert_unless_forced(store):
    list_id = ours(store)
    store.add_price(list_id, "variant_1", "8.75")
    entries = run(store, catalog(20, 50), index(1, 2)).changes
    (edited,) = [k for k, p in store.prices.items() if p["variant"] == "variant_2"]
    store.prices[edited]["amount"] = Decimal("4.44")  # the merchant's edit
    held = store.held(list_id)
    responses.calls.reset()

    refused, _ = revert(entries)
    assert [(c["id"], c["fields"]) for c in refused.changed] == [
        ("dummyjson:2", "sale price 5 usd → 4.44 usd since")
    ]
    assert store.held(list_id) == held
    assert [c.request.method for c in responses.calls] == ["GET", "GET"]  # nothing written

    forced, _ = revert(entries, force=True)
    assert store.held(list_id) == {"variant_1": Decimal("8.75")}
    assert forced.sale_prices_restored == 2


def test_a_list_the_run_created_is_deleted_and_made_again_by_reverting_the_revert(store):
    entries = run(store, catalog(12.5, None, 50), index(1, 2, 3)).changes
    (entry,) = entries
    assert entry.created and [c.before for c in entry.prices] == [[], []]
    (list_id,) = store.lists
    made = store.held(list_id)

    report, own = revert(entries)
    assert store.lists == {} and report.price_lists_removed == 1
    assert report.sale_prices_restored == 2
    (deleted,) = own
    assert deleted.deleted and deleted.price_list_id == list_id
    assert {c.variant_id: c.before for c in deleted.prices} == {
        "variant_1": usd("8.75"),
        "variant_3": usd("5"),
    }
    assert revert(entries)[0].already_reverted == 2 and store.lists == {}

    back, _ = revert(own, run_id="revert_1")
    (again,) = store.lists
    assert back.price_lists_restored == 1 and store.held(again) == made
    assert store.lists[again]["metadata"] == {PRICE_LIST_KEY: PREFIX, RESTORED_KEY: list_id}
    revert(own, run_id="revert_1")  # idempotent: the list made again is found, not doubled
    assert list(store.lists) == [again]


def test_a_double_list_the_run_deleted_is_journaled_with_its_prices_and_made_again(store):
    ours(store)
    extra = ours(store, "2026-01-02T00:00:00Z")
    store.add_price(extra, "variant_1", "8.75")
    store.add_price(extra, "variant_2", "3")
    entries = run(store, catalog(12.5, None), index(1, 2)).changes
    (deleted,) = [e for e in entries if e.deleted]
    assert deleted.price_list_id == extra and extra not in store.lists
    assert {c.variant_id: (c.before, c.after) for c in deleted.prices} == {
        "variant_1": (usd("8.75"), []),
        "variant_2": (usd("3"), []),
    }
    revert(entries)
    (made,) = [k for k, v in store.lists.items() if v["metadata"].get(RESTORED_KEY) == extra]
    assert store.held(made) == {"variant_1": Decimal("8.75"), "variant_2": Decimal("3")}


def test_a_dry_run_lists_the_changes_it_would_make_and_writes_nothing(store):
    list_id = ours(store)
    store.add_price(list_id, "variant_1", "8.75")
    created = PlannedWrite(source_id=3, external_id="dummyjson:3", handle="p-3", payload={})
    report = run(store, catalog(20, 50, 30), index(1, 2), SyncPlan(creates=[created]), dry_run=True)
    (entry,) = report.changes
    assert [(c.source_id, c.before, c.after) for c in entry.prices] == [
        (1, usd("8.75"), usd("8")),
        (2, [], usd("5")),
        (3, [], usd("7")),  # a product still to be created: its sale price with it
    ]
    assert report.written == 3
    assert store.held(list_id) == {"variant_1": Decimal("8.75")}


def test_a_failed_write_leaves_the_journal_saying_the_outcome_is_unknown(store):
    list_id = ours(store)
    store.add_price(list_id, "variant_1", "8.75")
    store.fail_next_batch = 2  # each applied, but neither answer arrives: the run fails
    report = run(store, catalog(20, 50), index(1, 2))
    assert report.error
    (entry,) = report.changes
    assert [(c.before, c.after) for c in entry.prices] == [(usd("8.75"), None), ([], None)]
    revert(report.changes)
    assert store.held(list_id) == {"variant_1": Decimal("8.75")}
