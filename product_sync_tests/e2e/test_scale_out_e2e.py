"""The scaled-out sync (ranges in parallel processes) against the real store."""

import dagster as dg
import pytest

from devstack.catalog.server import CatalogServer
from product_sync import names
from product_sync.core.ranges import IdRange
from product_sync.defs.scale_out.jobs import EXECUTION_CONFIG, reconstruct_sync_partitioned_job
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.medusa import MedusaResource
from product_sync.sync import SyncOptions, SyncScope, sync_scope

pytestmark = pytest.mark.e2e

SAME_TITLE = "Same Title In Every Range"
FIELDS = "id,handle,external_id,status,title,variants.prices.amount,variants.prices.currency_code"


def run_partitioned_job(catalog, info, monkeypatch, range_size=100, max_concurrent=3, **config):
    monkeypatch.setenv("DUMMYJSON_BASE_URL", catalog.base_url)
    monkeypatch.setenv("MEDUSA_BACKEND_URL", info.backend_url)
    monkeypatch.setenv("MEDUSA_API_KEY", info.api_key)
    with dg.instance_for_test() as instance:
        result = dg.execute_job(
            dg.reconstructable(reconstruct_sync_partitioned_job),
            instance=instance,
            run_config={
                "ops": {"id_ranges_op": {"config": {"range_size": range_size, **config}}},
                "execution": {"config": {**EXECUTION_CONFIG, "max_concurrent": max_concurrent}},
            },
        )
        assert result.success
        steps = {
            e.step_key
            for e in instance.all_logs(result.run_id)
            if e.dagster_event and e.dagster_event.event_type_value == "STEP_SUCCESS"
        }
        (event,) = [
            e
            for e in instance.all_logs(result.run_id)
            if e.dagster_event and e.dagster_event.event_type_value == "ASSET_MATERIALIZATION"
        ]
        materialization = event.dagster_event.materialization
        # The scaled-out job is a way to run the one sync asset, not an asset of its own.
        assert materialization.asset_key == dg.AssetKey(names.SYNC_ASSET)
        metadata = {k: v.value for k, v in materialization.metadata.items()}
    return steps, metadata


def assert_store_matches(store, catalog, skip=()):
    """The independent judge finds the store exactly the catalog (`skip`: ids of products
    the test made itself, as another range would)."""
    assert store.compare(catalog.base_url, skip=skip) == []
    return store.ours(FIELDS)


def test_ranges_run_in_parallel_processes_and_sync_every_product_once(
    empty_store, store, monkeypatch
):
    with CatalogServer(seed=42, count=300) as catalog:
        # Same-titled new products in three ranges at once: they all want one handle.
        catalog.mutate("title", ids=[40, 140, 240], value=SAME_TITLE)
        steps, metadata = run_partitioned_job(catalog, empty_store, monkeypatch)
        assert len([s for s in steps if s.startswith("sync_id_range_op[")]) == 3
        assert metadata["ranges"] == 3
        assert metadata["created"] == 300 and metadata["errors"] == 0
        ours = assert_store_matches(store, catalog)
        same = {ours[i]["handle"] for i in (40, 140, 240)}
        assert len(same) == 3 and all(h.startswith("same-title-in-every-range") for h in same)

        # Again: nothing to write. Then a change in one range and a removal in another.
        _, again = run_partitioned_job(catalog, empty_store, monkeypatch)
        assert again["created"] + again["updated"] + again["archived"] == 0
        assert again["unchanged"] == 300
        catalog.mutate("price", ids=[5, 205])
        catalog.mutate("remove", ids=[150])
        _, changed = run_partitioned_job(catalog, empty_store, monkeypatch)
        assert (changed["updated"], changed["archived"], changed["created"]) == (2, 1, 0)
        after = assert_store_matches(store, catalog)
        assert after[150]["status"] == "draft"
        assert {k: p["handle"] for k, p in after.items()} == {
            k: p["handle"] for k, p in ours.items()
        }


def test_a_create_refused_for_a_handle_another_range_just_took_is_planned_again(
    empty_store, store, monkeypatch
):
    """Deterministic version of the race: between this range's check of the store and its
    write, another range's product takes the handle."""
    with CatalogServer(seed=42, count=20) as catalog:
        catalog.mutate("title", ids=[3], value=SAME_TITLE)
        medusa = MedusaResource(
            backend_url=empty_store.backend_url,
            api_key=empty_store.api_key,
            initial_backoff_s=0.05,
            max_backoff_s=0.2,
        )
        original = MedusaResource.write_products
        raced = []

        def write_after_another_range(self, creates, updates, *args, **kwargs):
            if creates and not raced:
                options = [{"title": "Default", "values": ["Default Option"]}]
                raced.append(
                    store.post(
                        "/admin/products",
                        {
                            "title": SAME_TITLE,
                            "handle": "same-title-in-every-range",
                            "external_id": "dummyjson:9999",  # another range's product
                            "options": options,
                        },
                    )
                )
            return original(self, creates, updates, *args, **kwargs)

        monkeypatch.setattr(MedusaResource, "write_products", write_after_another_range)
        report = sync_scope(
            SyncScope(id_range=IdRange(lo=1, hi=100)),
            DummyJSONResource(base_url=catalog.base_url),
            medusa,
            SyncOptions(),
        ).report
        assert raced
        assert report.handle_replans == 1
        assert (report.created, report.errors) == (20, 0)
        ours = assert_store_matches(store, catalog, skip={9999})
        assert set(ours) == set(range(1, 21)) | {9999}
        assert ours[3]["handle"] == "same-title-in-every-range-1"
        assert ours[9999]["handle"] == "same-title-in-every-range"


def test_a_long_run_of_handles_other_ranges_took_is_skipped_in_few_rounds(empty_store, store):
    """At 100k products one title can have dozens of handles taken by other ranges; a range
    does not know them (its index is its own products) and must still find a free one."""
    options = [{"title": "Default", "values": ["Default Option"]}]
    taken = ["same-title-in-every-range"] + [f"same-title-in-every-range-{n}" for n in range(1, 45)]
    store.post(
        "/admin/products/batch",
        {
            "create": [
                {
                    "title": SAME_TITLE,
                    "handle": h,
                    "external_id": f"dummyjson:{9000 + i}",
                    "options": options,
                }
                for i, h in enumerate(taken)
            ]
        },
    )
    with CatalogServer(seed=42, count=20) as catalog:
        catalog.mutate("title", ids=[3], value=SAME_TITLE)
        medusa = MedusaResource(backend_url=empty_store.backend_url, api_key=empty_store.api_key)
        report = sync_scope(
            SyncScope(id_range=IdRange(lo=1, hi=100)),
            DummyJSONResource(base_url=catalog.base_url),
            medusa,
            SyncOptions(),
        ).report
        assert (report.created, report.errors) == (20, 0)
        ours = assert_store_matches(store, catalog, skip=range(9000, 9000 + len(taken)))
    assert ours[3]["handle"] == "same-title-in-every-range-45"


def test_a_scaled_out_dry_run_writes_nothing(empty_store, store, monkeypatch):
    """Dry run is a mode of the scaled-out sync too: no products, no categories, no stock
    location (beyond the shop's own), yet the counts say what it would do."""
    locations = store.get("/admin/stock-locations", fields="id")["stock_locations"]
    with CatalogServer(seed=42, count=120) as catalog:
        _, metadata = run_partitioned_job(catalog, empty_store, monkeypatch, dry_run=True)
        differences = store.compare(catalog.base_url)
    assert metadata["created"] == 120 and metadata["dry_run"] is True
    assert store.ours() == {}
    assert {d.what for d in differences} == {"missing"} and len(differences) == 120
    assert store.get("/admin/product-categories", limit=1)["count"] == 0
    assert store.get("/admin/stock-locations", fields="id")["stock_locations"] == locations
