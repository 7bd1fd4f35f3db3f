"""Two sync runs at once, bypassing the run queue (two threads, each its own
`dg.materialize`): still no duplicates, and one more run converges.

Barriers inside the HTTP client make the race as bad as it gets: both runs read the store
and plan before either creates a category, and both plan their products before either
writes a batch, so both try to create everything.
"""

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from product_sync.resources.http import JSONClient
from product_sync_tests.faults.conftest import assert_converged, assert_no_duplicates

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

ORIGINAL_SEND = JSONClient.send_once
RACE_POINTS = (("POST", "/admin/product-categories"), ("POST", "/admin/products/batch"))


def line_up_at_writes(monkeypatch, backend_url: str) -> dict[int, list[tuple[float, float]]]:
    """Each run waits for the other at its first category create and first batch write.
    Returns, per run (its HTTP client), when each of its product batch writes was in
    flight: (sent, answered), on one monotonic clock."""
    barriers = {point: threading.Barrier(2, timeout=30) for point in RACE_POINTS}
    passed: set[tuple[int, tuple[str, str]]] = set()
    lock = threading.Lock()
    writes: dict[int, list[tuple[float, float]]] = {}

    def send_once(client, method, path, **kwargs):
        point = (method, path)
        if client.base_url != backend_url:
            return ORIGINAL_SEND(client, method, path, **kwargs)
        if point in barriers:
            with lock:
                first = (id(client), point) not in passed
                passed.add((id(client), point))
            if first:
                # If the other run never gets here (nothing to create), go on alone.
                with contextlib.suppress(threading.BrokenBarrierError):
                    barriers[point].wait()
        if point != RACE_POINTS[1]:
            return ORIGINAL_SEND(client, method, path, **kwargs)
        sent = time.monotonic()
        try:
            return ORIGINAL_SEND(client, method, path, **kwargs)
        finally:
            with lock:
                writes.setdefault(id(client), []).append((sent, time.monotonic()))

    monkeypatch.setattr(JSONClient, "send_once", send_once)
    return writes


def assert_both_wrote_at_once(writes: dict[int, list[tuple[float, float]]]) -> None:
    """The race happened: a batch write of one run was in flight while one of the other
    run's was (their intervals intersect), not one run after the other."""
    assert len(writes) == 2, f"{len(writes)} runs wrote products"
    first, second = writes.values()
    overlapping = [(a, b) for a in first for b in second if a[0] < b[1] and b[0] < a[1]]
    assert overlapping, writes


def two_at_once(run_sync):
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda _: run_sync(), range(2)))


def assert_racing_runs_sound(runs) -> None:
    """Both runs wrote everything without errors and never saw a duplicate. Their other
    checks read the store while the other run may still be writing it (a price being
    replaced), so they may fail; the run after them must pass them all."""
    for run in runs:
        assert run.metadata, run.errors  # synced_products itself succeeded
        assert run.metadata["errors"] == 0, run.metadata
        assert run.checks["no_duplicate_external_ids"] and run.checks["no_duplicate_handles"]


def test_two_runs_at_once(run_sync, store, source, empty_store, matrix, monkeypatch):
    matrix.scenario = "two runs at once (cold, then changes)"
    writes = line_up_at_writes(monkeypatch, empty_store.backend_url)
    runs = two_at_once(run_sync)
    assert_both_wrote_at_once(writes)
    assert_racing_runs_sound(runs)
    assert_no_duplicates(store, matrix)
    matrix.note = "created " + " + ".join(str(r.metadata.get("created")) for r in runs)
    final = run_sync()
    assert final.writes == 0, final.metadata
    assert all(final.checks.values()), final.checks
    assert_converged(store, source, row=matrix)

    # And on a synced store: new, changed and removed products, both runs at once.
    source.mutate("price", ids=list(range(1, 16)))
    source.mutate("add", count=10)
    source.mutate("remove", ids=[40, 41])
    writes = line_up_at_writes(monkeypatch, empty_store.backend_url)
    runs = two_at_once(run_sync)
    assert_both_wrote_at_once(writes)
    assert_racing_runs_sound(runs)
    assert_no_duplicates(store, matrix)
    failed = sorted({name for r in runs for name, ok in r.checks.items() if not ok})
    if failed:
        matrix.note += f"; racing checks failed: {', '.join(failed)}"
    final = run_sync()
    assert all(final.checks.values()), final.checks
    assert_converged(store, source, row=matrix)
