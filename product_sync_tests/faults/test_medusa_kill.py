"""Medusa SIGKILLed at many points of a run, restarted, run again: converged, no duplicates.

The kill is triggered from inside the sync's own HTTP client (a wrapper around
`JSONClient.send_once` that counts requests to Medusa): at the n-th request matching a
point, Medusa is killed

* ``before`` the request is sent (it never arrives),
* ``after`` it was answered, and the answer is dropped (the write landed, the client
  never learns it: the classic crash between commit and reply), or
* ``during`` it, from a timer a few milliseconds into the request (whatever Medusa had
  committed by then stays, the rest is rolled back by PostgreSQL).

A small catalog (60 products, batches of 5: 12 create batches) keeps each point quick.

Medusa creates a product in steps that commit separately (product and variants, inventory
items, their links, price sets), so a kill *during* a create can leave half-created
products; which state depends on timing (a window of a few tens of milliseconds), so
`test_half_created_products` also builds each state seen that way exactly, in SQL.
"""

import threading
from dataclasses import dataclass

import pytest

from product_sync.names import STOCK_LOCATION_NAME
from product_sync.resources.http import JSONClient, TransientError
from product_sync_tests.faults.conftest import (
    assert_converged,
    assert_no_duplicates,
    measure_convergence,
    restart_medusa,
)

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

# One retry: with Medusa dead, more only make the killed run longer.
MEDUSA = {"batch_size": 5, "max_retries": 1}
BATCH = "/admin/products/batch"


@pytest.fixture
def catalog_size() -> int:
    return 60


@dataclass(frozen=True)
class KillPoint:
    name: str
    method: str
    path: str  # a prefix of the request path
    nth: int  # the n-th matching request of the run
    mode: str  # before | after | during
    warm: bool = False  # a second run (updates and archives) rather than a cold sync
    delay_s: float = 0.03  # for "during": how far into the request


POINTS = [
    KillPoint("category create 1", "POST", "/admin/product-categories", 1, "after"),
    KillPoint("create batch 1", "POST", BATCH, 1, "after"),
    KillPoint("create batch 3", "POST", BATCH, 3, "during"),
    KillPoint("create batch 4, late", "POST", BATCH, 4, "during", delay_s=0.12),
    KillPoint("create batch 9, later", "POST", BATCH, 9, "during", delay_s=0.25),
    KillPoint("stock location create", "POST", "/admin/stock-locations", 1, "after"),
    KillPoint("stock levels batch", "POST", "/admin/inventory-items/location", 1, "during"),
    # The 4th product read of a cold run: index, create checks (external ids, handles),
    # then the checks' listing.
    KillPoint("asset checks read", "GET", "/admin/products", 4, "before"),
    KillPoint("update batch 2", "POST", BATCH, 2, "after", warm=True),
    KillPoint("archive batch", "POST", BATCH, 5, "during", warm=True),
]


class Killer:
    """Kills Medusa once, at the configured point of the run."""

    def __init__(self, point: KillPoint, backend_url: str, stack):
        self.point, self.backend_url, self.stack = point, backend_url, stack
        self.seen = 0
        self.fired = False
        self.armed = False

    def install(self, monkeypatch) -> None:
        original = JSONClient.send_once
        killer = self

        def send_once(client, method, path, **kwargs):
            if not killer.armed or client.base_url != killer.backend_url:
                return original(client, method, path, **kwargs)
            point = killer.point
            if method == point.method and path.startswith(point.path):
                killer.seen += 1
                if killer.seen == point.nth:
                    killer.armed, killer.fired = False, True
                    if point.mode == "before":
                        killer.stack.kill_medusa()
                    elif point.mode == "during":
                        threading.Timer(point.delay_s, killer.stack.kill_medusa).start()
                    else:
                        original(client, method, path, **kwargs)
                        killer.stack.kill_medusa()
                        raise TransientError(method, path, None, "ConnectionError")
            return original(client, method, path, **kwargs)

        monkeypatch.setattr(JSONClient, "send_once", send_once)


@pytest.mark.parametrize("point", POINTS, ids=[p.name.replace(" ", "_") for p in POINTS])
def test_medusa_killed(point, run_sync, store, source, stack, empty_store, matrix, monkeypatch):
    matrix.scenario = f"medusa SIGKILL: {point.name} ({point.mode})"
    killer = Killer(point, empty_store.backend_url, stack)
    killer.install(monkeypatch)
    if point.path == "/admin/stock-locations":
        # The dev store's shop has the location already; a store without it makes the
        # run create one (and link it), which is where this point kills.
        (location,) = store.get("/admin/stock-locations", name=STOCK_LOCATION_NAME, fields="id")[
            "stock_locations"
        ]
        deleted = store.session.delete(f"{store.url}/admin/stock-locations/{location['id']}")
        assert deleted.ok, deleted.text
    if point.warm:
        assert run_sync(medusa=MEDUSA).success
        source.mutate("price", ids=list(range(1, 21)))
        source.mutate("remove", ids=[30, 31])

    killer.armed = True
    killed = run_sync(medusa=MEDUSA)
    assert killer.fired, f"the run never reached {point}"
    failed = [e.step_key for e in killed.result.all_events if e.is_step_failure]
    matrix.note = f"killed run failed at {failed[0]}" if failed else "killed run finished"

    restart_medusa(stack)
    assert_no_duplicates(store, matrix)
    again = run_sync(medusa=MEDUSA)
    assert again.success, again.errors
    assert again.metadata["errors"] == 0, again.metadata
    checks = dict(again.checks)
    if point.path == "/admin/stock-locations":
        # The location the run made has no shipping option from it (that is the
        # merchant's setup), and storefront_ready says so; the store is otherwise whole.
        assert checks.pop("storefront_ready") is False, again.checks
    assert all(checks.values()), again.checks
    assert_converged(store, source, row=matrix)


# What a kill inside Medusa's create workflow left, as observed (source id -> SQL).
VARIANTS = "SELECT v.id FROM product_variant v JOIN product p ON p.id = v.product_id"
HALF_CREATED = {
    # Killed after the product, before its variant.
    11: """
        UPDATE inventory_item SET deleted_at = now() WHERE id IN (SELECT inventory_item_id
            FROM product_variant_inventory_item WHERE variant_id IN ({variants}));
        DELETE FROM product_variant_inventory_item WHERE variant_id IN ({variants});
        DELETE FROM product_variant_price_set WHERE variant_id IN ({variants});
        UPDATE product_variant SET deleted_at = now() WHERE id IN ({variants});
    """,
    # Killed after the inventory item, before linking it and before the price set.
    12: """
        DELETE FROM product_variant_inventory_item WHERE variant_id IN ({variants});
        DELETE FROM product_variant_price_set WHERE variant_id IN ({variants});
    """,
    # Killed after the inventory link, before the price set.
    13: "DELETE FROM product_variant_price_set WHERE variant_id IN ({variants});",
}


def test_half_created_products(run_sync, store, source, stack, matrix):
    """A batch update cannot mend these (it answers 200 and drops the prices, or is refused
    because the left-over inventory item "already exists"): the sync rebuilds the variant."""
    matrix.scenario = "medusa SIGKILL: half-created products (exact states)"
    assert run_sync(medusa=MEDUSA).success
    pg = stack.postgres()
    for source_id, sql in HALF_CREATED.items():
        variants = f"{VARIANTS} WHERE p.external_id = 'dummyjson:{source_id}'"
        pg.psql(sql.format(variants=variants), database="medusa")
    broken = measure_convergence(store, source)
    assert set(broken.wrong) == set(HALF_CREATED), broken.wrong

    run = run_sync(medusa=MEDUSA)
    assert run.success, run.errors
    assert run.metadata["errors"] == 0 and run.metadata["updated"] == len(HALF_CREATED)
    assert all(run.checks.values()), run.checks
    assert_converged(store, source, row=matrix)
    assert run_sync(medusa=MEDUSA).writes == 0
