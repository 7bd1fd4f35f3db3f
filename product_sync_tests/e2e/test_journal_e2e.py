"""Any run can be undone: the journal each writing run keeps in the Dagster instance, and
`revert_sync_run`, against the real store. The store is judged with the Admin API read
here (`Store`), never with the pipeline's own reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import requests

from product_sync import names
from product_sync.defs.revert.jobs import revert_sync_run
from product_sync.defs.scale_out.jobs import reconstruct_sync_partitioned_job
from product_sync.resources.medusa import MedusaResource
from product_sync_tests.e2e.conftest import step_failure
from product_sync_tests.judges.storefront import Storefront, price_of

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
FIELDS = (
    "id,external_id,status,title,metadata,categories.id,variants.prices.amount,"
    "variants.prices.currency_code,variants.inventory_items.inventory_item_id"
)


def snapshot(store) -> dict[int, dict[str, Any]]:
    """Each of our products as the store holds it: status, USD price, categories, title,
    and the stock at the sync's location."""
    (location,) = store.get("/admin/stock-locations", name=names.STOCK_LOCATION_NAME, fields="id")[
        "stock_locations"
    ]
    levels = store.stock_levels(location["id"])
    taken = {}
    for source_id, product in store.ours(FIELDS).items():
        (variant,) = product["variants"]
        (link,) = variant["inventory_items"]
        taken[source_id] = {
            "status": product["status"],
            "price": store.usd(product),
            "categories": sorted(c["id"] for c in product["categories"]),
            "title": product["title"],
            "stock": levels.get(link["inventory_item_id"]),
        }
    return taken


def shop(store, empty_store) -> dict[str, Any]:
    """What a shopper and the admin see of the sale prices, tags and brands: per SKU the
    storefront's price (`calculated_amount`, `original_amount`), per product of ours its
    collection and tag values (Admin API), and the sync's sale price list's prices."""
    storefront = Storefront.of(empty_store)
    prices = {
        variant["sku"]: (price_of(variant).calculated, price_of(variant).original)
        for product in storefront.products()
        for variant in product["variants"]
    }
    taxonomy = {
        source_id: (p["collection_id"], sorted(t["value"] for t in p["tags"]))
        for source_id, p in store.ours("id,external_id,collection_id,tags.value").items()
    }
    return {"storefront": prices, "taxonomy": taxonomy, "sale_list": sale_list(store)}


def sale_list(store) -> dict[str, Decimal]:
    """Variant id -> amount in the sync's price list(s) (read by its marker)."""
    lists = [
        row
        for row in store.listing("/admin/price-lists", "price_lists", fields="id,metadata")
        if (row.get("metadata") or {}).get("product_sync_sale_prices") == "dummyjson:"
    ]
    held: dict[str, Decimal] = {}
    for row in lists:
        for price in store.listing(
            f"/admin/price-lists/{row['id']}/prices",
            "prices",
            fields="id,amount,price_set.variant.id",
        ):
            variant = ((price.get("price_set") or {}).get("variant") or {}).get("id")
            assert variant not in held, f"variant {variant} has two sale prices"
            held[variant] = Decimal(str(price["amount"]))
    return held


def edit_sale_price(store, source_id: int, amount: float) -> None:
    """A merchant's edit in the admin: product `source_id`'s price in the sync's sale list."""
    (price_list,) = [
        r
        for r in store.listing("/admin/price-lists", "price_lists", fields="id,metadata")
        if (r.get("metadata") or {}).get("product_sync_sale_prices") == "dummyjson:"
    ]
    variant = store.ours("id,external_id,variants.id")[source_id]["variants"][0]["id"]
    (price,) = [
        p
        for p in store.listing(
            f"/admin/price-lists/{price_list['id']}/prices",
            "prices",
            fields="id,price_set.variant.id",
        )
        if p["price_set"]["variant"]["id"] == variant
    ]
    store.post(
        f"/admin/price-lists/{price_list['id']}/prices/batch",
        {
            "update": [
                {"id": price["id"], "variant_id": variant, "amount": amount, "currency_code": "usd"}
            ]
        },
    )


def revert(empty_store, instance, run_id: str, *, force: bool = False) -> dg.ExecuteInProcessResult:
    medusa = MedusaResource(backend_url=empty_store.backend_url, api_key=empty_store.api_key)
    return revert_sync_run.execute_in_process(
        run_config=names.revert_run_config(run_id, force=force),
        instance=instance,
        resources={"medusa": medusa},
        raise_on_error=False,
    )


def revert_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    (event,) = result.asset_materializations_for_node(names.REVERT_OP)
    return {k: v.value for k, v in event.metadata.items()}


def test_a_reverted_run_leaves_the_store_as_the_run_before_it_and_the_next_sync_redoes_it(
    sync, store, catalog, instance, empty_store
):
    first = sync(instance=instance)
    assert first.metadata["created"] == 194
    after_first = snapshot(store)
    catalog.mutate("price", ids=[1, 2, 3])
    catalog.mutate("stock", ids=[4], value=0)  # its availability (metadata) changes too
    catalog.mutate("remove", ids=[9])
    second = sync(instance=instance)
    assert (second.metadata["updated"], second.metadata["archived"]) == (4, 1)
    assert second.metadata["stock_updated"] == 1
    after_second = snapshot(store)
    assert after_second != after_first

    undone = revert(empty_store, instance, second.run_id)
    assert undone.success, step_failure(undone)
    shown = revert_metadata(undone)
    assert (shown["products_restored"], shown["stock_restored"]) == (5, 1)
    assert snapshot(store) == after_first

    again = revert(empty_store, instance, second.run_id)  # idempotent
    assert again.success, step_failure(again)
    assert revert_metadata(again)["products_restored"] == 0
    # 5 products, 1 stock level, and the sale prices the price changes moved.
    assert revert_metadata(again)["already_reverted"] == 6 + shown["sale_prices_restored"]
    assert snapshot(store) == after_first

    redone = sync(instance=instance)
    assert (redone.metadata["updated"], redone.metadata["archived"]) == (4, 1)
    assert snapshot(store) == after_second


def test_a_revert_refuses_when_a_product_changed_since_and_force_puts_it_back(
    sync, store, catalog, instance, empty_store
):
    sync(instance=instance)
    after_first = snapshot(store)
    catalog.mutate("price", ids=[1, 2])
    second = sync(instance=instance)
    assert second.metadata["updated"] == 2
    edited = store.ours()[1]
    store.post(f"/admin/products/{edited['id']}", {"title": "Fixed by the merchant"})
    before = snapshot(store)

    refused = revert(empty_store, instance, second.run_id)
    assert not refused.success
    message = step_failure(refused)
    assert "dummyjson:1" in message and "title" in message and "dummyjson:2" not in message
    assert snapshot(store) == before  # nothing written, product 2 included

    forced = revert(empty_store, instance, second.run_id, force=True)
    assert forced.success, step_failure(forced)
    assert revert_metadata(forced)["changed_since"] == 1
    assert snapshot(store) == after_first


def test_the_command_line_reverts_a_run(sync, store, catalog, instance, empty_store, home):
    """`dagster job execute -m product_sync.definitions -j revert_sync_run` with the
    contract's run config. Dagster 1.13's `job execute` takes run config only as a file
    (`-c`; it has no `--config-json`, which `dg launch --job` has), so the JSON goes in one."""
    sync(instance=instance)
    after_first = snapshot(store)
    catalog.mutate("price", ids=[5])
    second = sync(instance=instance)
    assert second.metadata["updated"] == 1
    config = home / "revert.json"
    config.write_text(json.dumps({"ops": {"revert_run": {"config": {"run_id": second.run_id}}}}))
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "job",
            "execute",
            "-m",
            "product_sync.definitions",
            "-j",
            "revert_sync_run",
            "-c",
            str(config),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, **empty_store.env(), "DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "RUN_SUCCESS" in output
    assert snapshot(store) == after_first
    assert snapshot(store)[5]["price"] != second_price(catalog, 5)


def second_price(catalog, source_id: int) -> Decimal:
    """The source's price now (read from the catalog server, not through the pipeline)."""
    body = requests.get(f"{catalog.base_url}/products/{source_id}", timeout=10).json()
    return Decimal(str(body["price"]))


@pytest.fixture
def scaled_out(catalog, instance, empty_store, monkeypatch):
    """Runs `sync_partitioned_job` in ranges of 100; returns the run's id."""
    monkeypatch.setenv("DUMMYJSON_BASE_URL", catalog.base_url)
    monkeypatch.setenv("MEDUSA_BACKEND_URL", empty_store.backend_url)
    monkeypatch.setenv("MEDUSA_API_KEY", empty_store.api_key)

    def run() -> str:
        result = dg.execute_job(
            dg.reconstructable(reconstruct_sync_partitioned_job),
            instance=instance,
            run_config={"ops": {"id_ranges_op": {"config": {"range_size": 100}}}},
        )
        failures = [
            str(e.dagster_event.step_failure_data.error)
            for e in instance.all_logs(result.run_id)
            if e.dagster_event and e.dagster_event.is_step_failure
        ]
        assert result.success, failures
        return result.run_id

    return run


def test_a_scaled_out_run_is_reverted_across_its_ranges(
    store, catalog, instance, empty_store, scaled_out
):
    scaled_out()
    after_first = snapshot(store)
    catalog.mutate("price", ids=[5, 150])  # one change in each range
    second = scaled_out()
    assert snapshot(store) != after_first
    undone = revert(empty_store, instance, second)
    assert undone.success, step_failure(undone)
    assert revert_metadata(undone)["products_restored"] == 2
    assert snapshot(store) == after_first


def test_a_scaled_out_first_load_is_reverted_with_the_sale_list_made_for_its_ranges(
    store, catalog, instance, empty_store, scaled_out
):
    """The sale price list a scaled-out first load makes before its ranges (journaled
    apart from them) holds every range's sale prices, once, and goes with a revert."""
    first = scaled_out()
    discounted = sum(1 for r in records(catalog).values() if r.get("discountPercentage"))
    assert len(sale_list(store)) == discounted > 100  # prices from more than one range
    undone = revert(empty_store, instance, first)
    assert undone.success, step_failure(undone)
    shown = revert_metadata(undone)
    assert shown["price_lists_removed"] == 1, shown
    assert sale_list(store) == {}
    assert {p["status"] for p in snapshot(store).values()} == {"draft"}


def records(catalog) -> dict[int, dict[str, Any]]:
    body = requests.get(f"{catalog.base_url}/products", params={"limit": 0}, timeout=30).json()
    return {r["id"]: r for r in body["products"]}


def test_a_revert_puts_back_sale_prices_brand_and_tags(sync, store, catalog, instance, empty_store):
    """Issue 12 §3 with the taxonomy: discounts removed, changed and added upstream, a
    brand and a tag changed; reverting the second run brings the storefront's prices,
    the product's collection and tags and the price list back; the next sync redoes it."""
    source = records(catalog)
    discounted = [r for _, r in sorted(source.items()) if (r.get("discountPercentage") or 0) > 1]
    removed, changed, plain = discounted[:3]
    catalog.mutate("corrupt", ids=[plain["id"]], patch={"discountPercentage": 0})  # no sale yet
    taken = {removed["id"], changed["id"], plain["id"]}
    branded = [r for _, r in sorted(source.items()) if r.get("brand")]
    rebranded = next(r for r in branded if r["id"] not in taken)
    new_brand = next(r["brand"] for r in branded if r["brand"] != rebranded["brand"])
    taken.add(rebranded["id"])
    retagged = next(r for _, r in sorted(source.items()) if r.get("tags") and r["id"] not in taken)
    first = sync(instance=instance)
    assert first.metadata["sale_prices_written"] > 0
    after_first, shop_first = snapshot(store), shop(store, empty_store)
    base = Decimal(str(plain["price"]))
    assert shop_first["storefront"][plain["sku"]] == (base, base)
    catalog.mutate("corrupt", ids=[removed["id"]], patch={"discountPercentage": 0})
    new_discount = round(changed["discountPercentage"] + 5, 2)
    catalog.mutate("corrupt", ids=[changed["id"]], patch={"discountPercentage": new_discount})
    catalog.mutate("corrupt", ids=[plain["id"]], patch={"discountPercentage": 25})
    catalog.mutate("corrupt", ids=[rebranded["id"]], patch={"brand": new_brand})
    catalog.mutate("corrupt", ids=[retagged["id"]], patch={"tags": [*retagged["tags"][1:], "x"]})

    second = sync(instance=instance)
    assert second.metadata["updated"] == 5, second.metadata
    assert (second.metadata["sale_prices_written"], second.metadata["sale_prices_removed"]) == (
        2,
        1,
    )
    shop_second = shop(store, empty_store)
    # The independent readers see the change: the storefront's price, the collection, tags.
    for record in (removed, changed, plain):
        assert shop_second["storefront"][record["sku"]] != shop_first["storefront"][record["sku"]]
    assert shop_second["storefront"][removed["sku"]] == (
        Decimal(str(removed["price"])),
        Decimal(str(removed["price"])),
    )
    assert shop_second["taxonomy"][rebranded["id"]][0] != shop_first["taxonomy"][rebranded["id"]][0]
    assert "x" in shop_second["taxonomy"][retagged["id"]][1]

    undone = revert(empty_store, instance, second.run_id)
    assert undone.success, step_failure(undone)
    shown = revert_metadata(undone)
    assert (shown["products_restored"], shown["sale_prices_restored"]) == (5, 3), shown
    assert snapshot(store) == after_first
    assert shop(store, empty_store) == shop_first

    again = revert(empty_store, instance, second.run_id)
    assert again.success, step_failure(again)
    assert (
        revert_metadata(again)["products_restored"],
        revert_metadata(again)["sale_prices_restored"],
    ) == (0, 0)
    assert shop(store, empty_store) == shop_first

    redone = sync(instance=instance)
    assert redone.metadata["updated"] == 5, redone.metadata
    assert shop(store, empty_store) == shop_second


def test_a_revert_refuses_when_a_sale_price_changed_since(
    sync, store, catalog, instance, empty_store
):
    sync(instance=instance)
    shop_first = shop(store, empty_store)
    source = records(catalog)
    record = next(r for _, r in sorted(source.items()) if (r.get("discountPercentage") or 0) > 1)
    catalog.mutate("corrupt", ids=[record["id"]], patch={"discountPercentage": 50})
    second = sync(instance=instance)
    assert second.metadata["sale_prices_written"] == 1
    # The merchant edits that sale price in the admin.
    edit_sale_price(store, record["id"], 1.23)
    edited = shop(store, empty_store)

    refused = revert(empty_store, instance, second.run_id)
    assert not refused.success
    message = step_failure(refused)
    assert f"dummyjson:{record['id']}" in message and "sale price" in message
    assert shop(store, empty_store) == edited  # nothing written, the product included

    forced = revert(empty_store, instance, second.run_id, force=True)
    assert forced.success, step_failure(forced)
    assert shop(store, empty_store) == shop_first
