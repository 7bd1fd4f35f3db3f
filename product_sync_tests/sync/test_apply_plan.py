"""Writing a plan: every planned write reaches the store, a group of batches at a time."""

import pickle

from product_sync.core.catalog import SourceCatalog
from product_sync.core.planning import PlannedWrite, ProductIndex, SyncPlan, plan_sync
from product_sync.resources.medusa import MedusaResource, WriteReport
from product_sync.sync import WRITE_GROUP_BATCHES, apply_plan
from product_sync_tests.factories import product

PREFIX = "dummyjson:"


class RecordingMedusa(MedusaResource):
    """Takes the payloads it is handed instead of sending them."""

    def write_products(self, creates, updates):
        calls = self.__dict__.setdefault("_calls", [])
        calls.append((list(creates), list(updates)))
        return WriteReport(created=len(creates), updated=len(updates))


def test_a_planned_payload_reads_back_exactly():
    catalog = SourceCatalog(products=[product(id=n) for n in range(1, 51)])
    plan = plan_sync(
        catalog.products_view, ProductIndex(external_id_prefix=PREFIX), {}, sales_channel_id="sc"
    )
    payload = plan.creates[0].payload
    again = PlannedWrite(
        source_id=1, external_id=payload["external_id"], handle=payload["handle"], payload=payload
    )
    assert again.payload == payload and again == plan.creates[0]
    assert payload["variants"][0]["prices"] == [{"currency_code": "usd", "amount": 9.99}]
    assert pickle.loads(pickle.dumps(plan)) == plan  # how the IO manager and checks get it


def test_every_write_is_sent_in_groups_of_batches_creates_first():
    medusa = RecordingMedusa(backend_url="http://store.test", api_key="sk_x", batch_size=2)
    group = 2 * WRITE_GROUP_BATCHES
    creates = [
        PlannedWrite(source_id=n, external_id=f"{PREFIX}{n}", handle=f"h-{n}", payload={"n": n})
        for n in range(1, 2 * group + 3)
    ]
    updates = [
        PlannedWrite(source_id=n, external_id=f"{PREFIX}{n}", handle=f"h-{n}", payload={"u": n})
        for n in range(100, 103)
    ]
    report = apply_plan(SyncPlan(creates=creates, updates=updates), medusa, dry_run=False)
    calls = medusa.__dict__["_calls"]
    sent_creates = [p["n"] for c, _ in calls for p in c]
    sent_updates = [p["u"] for _, u in calls for p in u]
    assert sent_creates == list(range(1, 2 * group + 3))
    assert sent_updates == [100, 101, 102]
    assert max(len(c) + len(u) for c, u in calls) == group
    assert calls.index(([], [{"u": 100}, {"u": 101}, {"u": 102}])) > 0
    assert (report.created, report.updated) == (2 * group + 2, 3)
