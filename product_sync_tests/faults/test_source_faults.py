"""Source faults: the catalog server misbehaves (seeded rules) while the real sync reads it.

A run either converges despite the faults (retries) or fails at job level — the source
unreachable after retries — with nothing written; the next run then converges.
"""

import pytest

from product_sync_tests.faults.conftest import (
    assert_converged,
    assert_no_duplicates,
    snapshot_foreign,
    store_is_empty,
)

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

# Small pages make many requests (21 a read), so a 20 % rate meets every kind of request.
PAGED = {"page_size": 5}

PAGES_OF_10 = {"page_size": 10}  # enough for the scenarios that fail or move on purpose

SOURCE_FAULTS = {
    "5xx_20pct": ([{"kind": "error", "rate": 0.2}], {}),
    "429_retry_after": ([{"kind": "rate_limit", "rate": 0.25, "retry_after": 1}], {}),
    "slow_beyond_timeout": (
        [{"kind": "slow", "rate": 0.2, "seconds": 1.0}],
        {"read_timeout_s": 0.5},
    ),
    "truncated_json_honest": ([{"kind": "truncate", "mode": "honest", "rate": 0.2}], {}),
    "truncated_json_cut": ([{"kind": "truncate", "mode": "cut", "rate": 0.2}], {}),
    "connection_reset": ([{"kind": "reset", "rate": 0.2}], {}),
    "all_of_them": (
        [
            {"kind": "error", "rate": 0.08, "statuses": [500, 502, 503, 504]},
            {"kind": "rate_limit", "rate": 0.05},
            {"kind": "truncate", "rate": 0.05, "mode": "cut"},
            {"kind": "truncate", "rate": 0.05},
            {"kind": "reset", "rate": 0.05},
        ],
        {},
    ),
}


def failed_cleanly_at_the_source(run) -> bool:
    """A job-level failure: the source step failed, with a message naming the source."""
    failed = [e.step_key for e in run.result.all_events if e.is_step_failure]
    return failed == ["dummyjson_products"] and "source" in run.errors[0]


def updated_at(store) -> dict[str, str]:
    return {p["id"]: p["updated_at"] for p in store.products("id,updated_at")}


def test_source_faults(run_sync, store, source, matrix):
    """One store, one kind of fault after the other: a cold sync under the first, then
    for each next kind a catalog with changes (prices, additions, a removal) to sync
    under it, so every kind meets creates, updates and archives. Each step converges."""
    for step, (kind, (rules, settings)) in enumerate(SOURCE_FAULTS.items()):
        row = matrix.step(f"source: {kind}")
        if step:
            source.mutate("price", count=5)
            source.mutate("add", count=2)
            source.mutate("remove", count=1)
        before = updated_at(store)
        source.set_faults(rules, seed=step)
        run = run_sync(dummyjson={**PAGED, **settings})
        assert sum(source.state()["faults"]["injected"].values()) > 0, "the rules never fired"
        if run.success:
            assert run.metadata["errors"] == 0, run.metadata
            row.note = f"{run.metadata['retries']} retries"
        else:
            row.note = "1st run failed at job level"
            assert failed_cleanly_at_the_source(run), run.errors
            assert updated_at(store) == before, "a failed read must not write anything"
            source.set_faults([])
            assert run_sync(dummyjson=PAGED).success
        assert_converged(store, source, row=row)
    source.set_faults([])


def test_source_unreachable_fails_the_run_without_writes(run_sync, store, source, matrix):
    matrix.scenario = "source: unreachable (100 % 5xx)"
    source.set_faults([{"kind": "error", "rate": 1.0}])
    run = run_sync(dummyjson=PAGES_OF_10)
    assert failed_cleanly_at_the_source(run), run.errors
    assert "503" in run.errors[0] or "500" in run.errors[0] or "502" in run.errors[0]
    assert store_is_empty(store)
    source.set_faults([])
    assert run_sync(dummyjson=PAGES_OF_10).success
    assert_converged(store, source, row=matrix)


def test_source_dies_mid_read_on_a_synced_store(run_sync, store, source, matrix):
    """Half a catalog must never archive (or touch) the other half."""
    matrix.scenario = "source: dies mid-read, warm store"
    assert run_sync(dummyjson=PAGES_OF_10).success
    before = snapshot_foreign(store)  # nothing foreign; used as a sentinel below
    synced = {p["id"]: p["updated_at"] for p in store.products("id,updated_at")}
    source.set_faults([{"kind": "error", "after": 4, "rate": 1.0}])
    run = run_sync(dummyjson=PAGES_OF_10)
    assert failed_cleanly_at_the_source(run), run.errors
    assert {p["id"]: p["updated_at"] for p in store.products("id,updated_at")} == synced
    source.set_faults([])
    run = run_sync(dummyjson=PAGES_OF_10)
    assert run.writes == 0
    assert_converged(store, source, before, row=matrix)


def test_total_changes_between_pages(run_sync, store, source, matrix):
    """Products added and removed while pages are read: the read is repeated until it
    is consistent, then the additions are created and the removal archived."""
    matrix.scenario = "source: total changes mid-read"
    assert run_sync(dummyjson=PAGES_OF_10).success
    source.set_faults(
        [
            {"kind": "mutate", "requests": [3], "mutation": {"op": "add", "count": 2}},
            {"kind": "mutate", "requests": [5], "mutation": {"op": "remove", "ids": [50]}},
        ]
    )
    run = run_sync(dummyjson=PAGES_OF_10)
    assert source.state()["faults"]["injected"]["mutate"] == 2
    dummyjson = run.step_metadata("dummyjson_products")
    assert dummyjson["consistent"] is True
    one_read = -(-source.catalog.total // PAGES_OF_10["page_size"])
    assert dummyjson["pages_fetched"] > one_read  # read more than once
    assert run.metadata["created"] == 2 and run.metadata["archived"] == 1
    assert {p["external_id"]: p["status"] for p in store.products()}["dummyjson:50"] == "draft"
    assert_converged(store, source, row=matrix)
    assert_no_duplicates(store, matrix)


def test_total_keeps_changing(run_sync, store, source, matrix):
    """A catalog that never holds still: the sync writes what it read but archives
    nothing on an inconsistent read; the next calm run finishes the job."""
    matrix.scenario = "source: total never settles"
    assert run_sync(dummyjson=PAGES_OF_10).success
    source.mutate("remove", ids=[20])
    source.set_faults([{"kind": "mutate", "every": 4, "mutation": {"op": "add", "count": 1}}])
    run = run_sync(dummyjson=PAGES_OF_10)
    assert run.success
    assert run.step_metadata("dummyjson_products")["consistent"] is False
    assert run.metadata["archived"] == 0
    assert {p["external_id"]: p["status"] for p in store.products()}["dummyjson:20"] == "published"
    assert_no_duplicates(store, matrix)
    source.set_faults([])
    calm = run_sync(dummyjson=PAGES_OF_10)
    assert calm.metadata["archived"] == 1
    assert_converged(store, source, row=matrix)
