"""The README's first command: the local store and catalog up, one full sync, a summary.

    scripts/demo            # = python -m devstack.demo

Starts (or reuses) the Medusa + PostgreSQL stack and the local DummyJSON-compatible catalog
server on 127.0.0.1:8700 (DEVSTACK_CATALOG_PORT), runs the sync as the daily schedule
does, `dg launch --job sync_job` (so the run carries the queue tag and shows in the webhook's
`/sync/status` and the admin card), prints what the sync did and how to open the Dagster
UI, and ends with the store's publishable key and a `curl` of its storefront catalog (the
Store API, priced for the US region: devstack/shop.py sets the shop up). It also builds the
store's admin dashboard with the "Product sync" card (``devstack.admin``, skipped while the
store's sources are unchanged), so it can be opened at once and the admin's browser test
finds it built.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from devstack.admin import build_admin
from devstack.catalog.process import ensure_catalog
from devstack.errors import DevstackError
from devstack.stack import REPO_ROOT, Stack
from product_sync import names
from product_sync.core.alerts import COUNT_KEYS

log = logging.getLogger("devstack.demo")

STATE_DIR = REPO_ROOT / ".devstack"


def sync_env(stack_env: dict[str, str], catalog_url: str) -> dict[str, str]:
    return {
        **os.environ,
        **stack_env,
        "DUMMYJSON_BASE_URL": catalog_url,
        "DAGSTER_HOME": str(REPO_ROOT),
        # The offline demo copies images into the store (the catalog serves them too).
        "PRODUCT_SYNC_UPLOAD_IMAGES": os.environ.get("PRODUCT_SYNC_UPLOAD_IMAGES", "true"),
    }


def summary(dagster_home: Path) -> str:
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    import dagster as dg

    instance = dg.DagsterInstance.get()
    event = instance.get_latest_materialization_event(dg.AssetKey(names.SYNC_ASSET))
    if event is None or event.asset_materialization is None:
        return "no materialization of synced_products was recorded"
    meta = {k: getattr(v, "value", v) for k, v in event.asset_materialization.metadata.items()}
    keys = [*COUNT_KEYS, "duration_s", "products_per_s"]
    return "  ".join(f"{k}={meta[k]}" for k in keys if k in meta)


def storefront_curl(backend_url: str, publishable_key: str, region_id: str) -> str:
    """One command that lists the storefront's catalog with the region's prices."""
    return (
        f"curl -sG {backend_url}/store/products"
        f" -H 'x-publishable-api-key: {publishable_key}'"
        f" --data-urlencode region_id={region_id}"
        " --data-urlencode 'fields=title,*variants.calculated_price,+variants.inventory_quantity'"
        " --data-urlencode limit=5"
    )


def main() -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="demo: %(message)s")
    logging.getLogger("devstack").setLevel(logging.INFO)
    try:
        info = Stack().up()
        catalog_url = ensure_catalog()
    except DevstackError as error:
        print(f"demo: error: {error}", file=sys.stderr)
        return 1
    env = sync_env(info.env(), catalog_url)
    log.info("syncing %s -> %s", catalog_url, info.backend_url)
    started = time.monotonic()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dg"), "launch", "--job", names.SYNC_JOB],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    run_log = STATE_DIR / "logs" / "demo-sync.log"
    run_log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        print(f"demo: the sync failed; full log in {run_log}", file=sys.stderr)
        return done.returncode
    print(f"\nSynced the local catalog into Medusa in {time.monotonic() - started:.1f}s")
    print(f"  {summary(REPO_ROOT)}")
    print(f"  store:   {info.backend_url} (API key in .devstack/env)")
    print(f"  catalog: {catalog_url}")
    print(f"  log:     {run_log}")
    try:
        build = build_admin()
    except DevstackError as error:
        print(f"demo: error: building the store's admin failed: {error}", file=sys.stderr)
        return 1
    built = "current" if build.reused else f"built in {build.seconds:.0f}s"
    print(f"\nThe store's admin with the Product sync card ({built}):")
    print("  .venv/bin/python -m devstack.admin serve --port 9100   # http://127.0.0.1:9100/app")
    print("\nOpen the Dagster UI (assets, checks, schedule, run history and charts):")
    print("  scripts/ui        # then browse http://127.0.0.1:3000")
    print(f"\nThe storefront (Store API), with the publishable key {info.publishable_key}:")
    print(f"  {storefront_curl(info.backend_url, info.publishable_key, info.region_id)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
