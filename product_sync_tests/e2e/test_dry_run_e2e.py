"""A dry run writes nothing anywhere: judged by a snapshot of the whole store (every
product, category, tag, collection, price list, stock location and inventory level, and
the uploaded files), taken through the Admin API before and after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from product_sync import names

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
STATIC = REPO_ROOT / "medusa_store" / "static"

LISTINGS = {
    # path: (response key, fields); `updated_at` moves on any write to the record.
    "/admin/products": (
        "products",
        "id,handle,status,title,updated_at,*variants,*variants.prices,*categories,*tags",
    ),
    "/admin/product-categories": ("product_categories", "id,handle,name,updated_at"),
    "/admin/product-tags": ("product_tags", "id,value,updated_at"),
    "/admin/collections": ("collections", "id,handle,title,updated_at"),
    "/admin/price-lists": ("price_lists", "id,title,updated_at"),
    "/admin/stock-locations": ("stock_locations", "id,name,updated_at"),
    "/admin/inventory-items": (
        "inventory_items",
        "id,sku,updated_at,*location_levels",
    ),
}


def snapshot(store) -> dict[str, Any]:
    taken: dict[str, Any] = {}
    for path, (key, fields) in LISTINGS.items():
        rows, offset = [], 0
        while True:
            body = store.get(path, fields=fields, limit=200, offset=offset)
            rows += body[key]
            offset += len(body[key])
            if not body[key] or offset >= body["count"]:
                break
        taken[path] = sorted(rows, key=lambda r: r["id"])
    taken["files"] = sorted(p.name for p in STATIC.iterdir()) if STATIC.is_dir() else []
    return taken


def assert_same(before: dict[str, Any], after: dict[str, Any]) -> None:
    for part in before:
        assert after[part] == before[part], f"the dry run changed {part}"


def test_a_dry_run_on_an_empty_store_writes_nothing_anywhere(sync, store, judge):
    before = snapshot(store)
    run = sync(dry_run=True, upload_images=True)
    assert run.metadata["created"] == 194 and run.metadata["dry_run"] is True
    assert run.metadata["categories_created"] == 0
    assert_same(before, snapshot(store))
    missing = judge()
    assert {d.what for d in missing} == {"missing"} and len(missing) == 194


def test_a_dry_run_of_pending_changes_applies_none_of_them(sync, store, catalog, judge):
    assert sync.cold().metadata["created"] == 194
    catalog.mutate("price", ids=[1, 2, 3, 4, 5])
    catalog.mutate("stock", ids=[6, 7], value=987)
    catalog.mutate("move_category", ids=[8], value="brand-new-category")
    catalog.mutate("remove", ids=[9])
    before = snapshot(store)
    run = sync(dry_run=True)
    assert run.metadata["updated"] >= 6 and run.metadata["archived"] == 1
    assert_same(before, snapshot(store))
    # The same changes, applied for real, do land: the dry run's counts were what a real
    # run then does.
    real = sync()
    planned = (run.metadata["updated"], run.metadata["archived"])
    assert (real.metadata["updated"], real.metadata["archived"]) == planned
    assert real.metadata["categories_created"] == 1
    assert real.metadata["stock_updated"] == 2
    assert judge() == []


def test_materialize_all_with_the_contract_dry_run_config_writes_nothing(
    empty_store, store, catalog, tmp_path
):
    """The contract command, `dagster asset materialize -m product_sync.definitions
    --select '*'` with the dry-run config, runs one sync and writes nothing."""
    before = snapshot(store)
    env = {
        **os.environ,
        **empty_store.env(),
        "DUMMYJSON_BASE_URL": catalog.base_url,
        "DAGSTER_HOME": str(tmp_path),
        "PRODUCT_SYNC_UPLOAD_IMAGES": "true",
    }
    config = {"ops": {names.SYNC_ASSET: {"config": {names.DRY_RUN_FIELD: True}}}}
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "asset",
            "materialize",
            "-m",
            "product_sync.definitions",
            "--select",
            "*",
            "--config-json",
            json.dumps(config),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "RUN_SUCCESS" in output
    assert "sync_id_range_op" not in output  # one sync: the scaled-out job is not in '*'
    assert output.count('Started execution of step "synced_products"') == 1
    assert_same(before, snapshot(store))
