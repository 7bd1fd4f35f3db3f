"""Source faults: the catalog server misbehaves (seeded rules) while the real sync reads it.

With the retry policy as shipped (3 retries, backoff 1 s -> 2 s -> 4 s, `Retry-After`
honoured), a run under 20 % faults of each kind converges by itself. The same run with
retries off does not — so the faults really do break a run that does not retry. A source
that stays down fails the run at job level, with nothing written.
"""

import threading
import time
from dataclasses import dataclass

import pytest

from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.http import JSONClient, TransientError
from product_sync_tests.faults.conftest import (
    assert_converged,
    assert_no_duplicates,
    measure_convergence,
    snapshot_foreign,
    store_is_empty,
)

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

SHIPPED_RETRIES = {
    name: DummyJSONResource.model_fields[name].default
    for name in ("max_retries", "initial_backoff_s", "max_backoff_s")
}
# One page at a time: the catalog numbers requests as they arrive and a seed decides which
# numbers meet a fault, so reading in order makes each step the same run every time. (With
# pages in parallel, which request a retry is, and so whether one request meets four
# faults in a row and the run fails, would change from run to run.)
SERIAL_READ = {"page_size": 10, "concurrency": 1}

PAGES_OF_10 = {"page_size": 10}  # enough for the scenarios that fail or move on purpose

# Retry-After 2 s is longer than the first backoff (1 s): a wait of 2 s is the header's.
SOURCE_FAULTS = {
    "5xx_20pct": ([{"kind": "error", "rate": 0.2}], {}),
    "429_retry_after": ([{"kind": "rate_limit", "rate": 0.2, "retry_after": 2}], {}),
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


def with_a_sure_hit(rules: list[dict]) -> list[dict]:
    """The rules, plus their first kind once for certain on the 2nd request (a page read):
    a read of ~11 requests can miss a 20 % rate altogether, and then proves nothing."""
    sure = {k: v for k, v in rules[0].items() if k != "rate"}
    return [{**sure, "requests": [2]}, *rules]


@dataclass
class Attempt:
    key: tuple  # (thread, path, params): the same request asked again has the same key
    started: float
    ended: float
    status: int | None = None  # of a transient failure
    retry_after: float | None = None


def record_source_attempts(monkeypatch, base_url: str) -> list[Attempt]:
    """Every request the sync's HTTP client sends to the catalog, as it is sent."""
    attempts: list[Attempt] = []
    original = JSONClient.send_once

    def send_once(client, method, path, **kwargs):
        if client.base_url != base_url.rstrip("/"):
            return original(client, method, path, **kwargs)
        params = tuple(sorted((kwargs.get("params") or {}).items()))
        attempt = Attempt((threading.get_ident(), path, params), time.monotonic(), 0.0)
        attempts.append(attempt)
        try:
            return original(client, method, path, **kwargs)
        except TransientError as error:
            attempt.status, attempt.retry_after = error.status, error.retry_after
            raise
        finally:
            attempt.ended = time.monotonic()

    monkeypatch.setattr(JSONClient, "send_once", send_once)
    return attempts


def waits_after_429(attempts: list[Attempt]) -> list[tuple[float, float]]:
    """(Retry-After asked, seconds until the same request was sent again) per 429."""
    waits = []
    for n, attempt in enumerate(attempts):
        if attempt.status != 429:
            continue
        again = next(a for a in attempts[n + 1 :] if a.key == attempt.key)
        waits.append((attempt.retry_after, again.started - attempt.ended))
    return waits


def failed_cleanly_at_the_source(run) -> bool:
    """A job-level failure: the source step failed, with a message naming the source."""
    failed = [e.step_key for e in run.result.all_events if e.is_step_failure]
    return failed == ["dummyjson_products"] and "source" in run.errors[0]


def updated_at(store) -> dict[str, str]:
    return {p["id"]: p["updated_at"] for p in store.products("id,updated_at")}


def test_source_faults(run_sync, store, source, matrix, monkeypatch):
    """One store, one kind of fault after the other: a cold sync under the first, then
    for each next kind a catalog with changes (prices, additions, a removal) to sync
    under it, so every kind meets creates, updates and archives. In each step a run with
    retries off fails and writes nothing; the same run with the shipped retries, meeting
    the same faults, converges."""
    attempts = record_source_attempts(monkeypatch, source.base_url)
    honoured: list[tuple[float, float]] = []
    for step, (kind, (rates, settings)) in enumerate(SOURCE_FAULTS.items()):
        row = matrix.step(f"source: {kind}")
        rules = with_a_sure_hit(rates)
        if step:
            source.mutate("price", count=5)
            source.mutate("add", count=2)
            source.mutate("remove", count=1)
        before = updated_at(store)

        source.set_faults(rules, seed=step)
        unretried = run_sync(dummyjson={**SERIAL_READ, **settings, "max_retries": 0})
        source.set_faults([])
        assert failed_cleanly_at_the_source(unretried), unretried.errors
        assert updated_at(store) == before, "a failed read must not write anything"
        assert not measure_convergence(store, source).converged

        del attempts[:]
        source.set_faults(rules, seed=step)
        run = run_sync(dummyjson={**SERIAL_READ, **SHIPPED_RETRIES, **settings})
        injected = sum(source.state()["faults"]["injected"].values())
        source.set_faults([])
        assert injected > 0, "the rules never fired"
        assert run.success, run.errors
        assert run.metadata["errors"] == 0, run.metadata
        assert run.metadata["retries"] >= injected, run.metadata  # every fault was retried
        honoured += waits_after_429(attempts)
        row.note = f"{run.metadata['retries']} retries; without retries: failed"
        assert_converged(store, source, row=row)

    # The 429s said "Retry-After: 2" (or 1): each retry waited at least that long (a
    # lower bound on a sleep, which no slow machine can break; 10 ms for clock rounding).
    assert any(asked == 2 for asked, _ in honoured), honoured
    assert all(waited >= asked - 0.01 for asked, waited in honoured), honoured


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
