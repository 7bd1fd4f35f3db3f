"""End-to-end fixtures: the real local Medusa store (reset per test), the local catalog
server in-process, and a way to run the real assets and checks against both."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import requests

from devstack.catalog.process import PORT as CATALOG_PORT
from devstack.catalog.server import CatalogServer
from devstack.stack import Stack, StackInfo
from product_sync.defs.catalog_sync import assets, checks, storefront_checks
from product_sync.defs.catalog_sync.settings import SyncSettings
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.medusa import MedusaResource
from product_sync_tests.conftest import _worker_index
from product_sync_tests.judges.store_reader import Difference, StoreReader, our_source_id

pytestmark = pytest.mark.e2e


class Store(StoreReader):
    """The independent reader (judges/store_reader.py), plus what tests need to poke the
    store: writes, our products by source id, a product's USD price."""

    def __init__(self, info: StackInfo):
        super().__init__(info.backend_url, info.api_key)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.session.post(self.url + path, json=body, timeout=30)
        assert response.ok, f"POST {path} -> {response.status_code}: {response.text[:300]}"
        return response.json()

    def delete(self, path: str) -> dict[str, Any]:
        response = self.session.delete(self.url + path, timeout=30)
        assert response.ok, f"DELETE {path} -> {response.status_code}: {response.text[:300]}"
        return response.json()

    def products(self, fields: str = "id,handle,external_id,status,title") -> list[dict]:
        return super().products(fields)

    def ours(self, fields: str = "id,handle,external_id,status,title") -> dict[int, dict]:
        owned = {}
        for p in self.products(fields):
            source_id = our_source_id(p.get("external_id"))
            if source_id is not None:
                assert source_id not in owned, f"duplicate external id {p['external_id']}"
                owned[source_id] = p
        return owned

    @staticmethod
    def usd(product: dict) -> Decimal:
        (variant,) = product["variants"]
        (price,) = [p for p in variant["prices"] if p["currency_code"] == "usd"]
        return Decimal(str(price["amount"]))


@dataclass
class SyncRun:
    result: dg.ExecuteInProcessResult
    metadata: dict[str, Any]
    checks: dict[str, bool]
    # Each check's metadata, by check name (empty where a caller does not collect it).
    check_metadata: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return self.result.run_id

    @property
    def writes(self) -> int:
        m = self.metadata
        return m["created"] + m["updated"] + m["archived"]


@pytest.fixture
def home(tmp_path) -> Path:
    """A Dagster home of its own (a test may run a CLI process in it). Telemetry off, as in
    the repo's dagster.yaml: Dagster would otherwise write its event log under the repo."""
    path = tmp_path / "dagster_home"
    path.mkdir()
    (path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return path


@pytest.fixture
def instance(home: Path) -> Iterator[dg.DagsterInstance]:
    """A persistent Dagster instance for the test: runs find each other's artifacts (a
    journal, a plan) by run id, as in a deployment."""
    with dg.DagsterInstance.local_temp(tempdir=str(home)) as instance:
        yield instance


def step_failure(result: dg.ExecuteInProcessResult) -> str:
    """What the failed step said (its Failure's description, or the error)."""
    texts = []
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            if data.user_failure_data and data.user_failure_data.description:
                texts.append(data.user_failure_data.description)
            if data.error:
                texts.append(data.error.message)
    return "\n".join(texts)


def _catalog_port() -> int:
    """The same port for every test of a worker, so the catalog's image URLs (and with
    them a cold sync's store, see `Sync.cold`) are the same from test to test."""
    return CATALOG_PORT + 50 + _worker_index()


@contextlib.contextmanager
def serve_catalog(count: int = 194) -> Iterator[CatalogServer]:
    """The catalog server (seed 42) on this worker's port when it is free."""
    try:
        server = CatalogServer(seed=42, count=count, port=_catalog_port()).start()
    except OSError:  # taken (another session's worker): any port, and no snapshot reuse
        server = CatalogServer(seed=42, count=count).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def catalog() -> Iterator[CatalogServer]:
    with serve_catalog() as server:
        yield server


@pytest.fixture
def store(empty_store: StackInfo) -> Store:
    return Store(empty_store)


@pytest.fixture
def judge(store: Store, catalog: CatalogServer):
    """The store against the catalog, by the independent judge: the differences found
    (`[]` when the store holds exactly the catalog). Options as `StoreReader.compare`."""

    def compare(**options: Any) -> list[Difference]:
        return store.compare(catalog.base_url, **options)

    return compare


# The cold syncs this worker ran (`Sync.cold`), by what they read: catalog and settings.
_COLD_RUNS: dict[str, SyncRun] = {}


@pytest.fixture
def sync(empty_store: StackInfo, catalog: CatalogServer) -> Sync:
    """Run the real sync (all four assets and the checks) in-process, like the job does."""
    return Sync(empty_store, catalog)


class Sync:
    def __init__(self, info: StackInfo, catalog: CatalogServer):
        self.info, self.catalog = info, catalog

    def __call__(
        self,
        *,
        product_ids: list[int] | None = None,
        dry_run: bool = False,
        max_archive_fraction: float | None = None,
        api_key: str | None = None,
        raise_on_error: bool = True,
        instance: dg.DagsterInstance | None = None,
        apply_plan: str | None = None,
        **settings: Any,
    ) -> SyncRun:
        """`settings`: fields of `SyncSettings` or of `MedusaResource`; `instance`: the
        Dagster instance to run in (default: a new ephemeral one per run)."""
        empty_store, catalog = self.info, self.catalog
        switches = {k: settings.pop(k) for k in list(settings) if k in SyncSettings.model_fields}
        resources = {
            "sync_settings": SyncSettings(**switches),
            "dummyjson": DummyJSONResource(
                base_url=catalog.base_url, initial_backoff_s=0.05, max_backoff_s=0.2
            ),
            "medusa": MedusaResource(
                backend_url=empty_store.backend_url,
                api_key=api_key or empty_store.api_key,
                initial_backoff_s=0.05,
                max_backoff_s=0.2,
                **settings,
            ),
        }
        sync_config: dict[str, Any] = {"dry_run": dry_run}
        if max_archive_fraction is not None:
            sync_config["max_archive_fraction"] = max_archive_fraction
        if apply_plan:
            sync_config["apply_plan"] = apply_plan
        result = dg.materialize(
            _assets_and_checks(),
            resources=resources,
            run_config={
                "ops": {
                    "dummyjson_products": {"config": {"product_ids": product_ids or []}},
                    "synced_products": {"config": sync_config},
                }
            },
            raise_on_error=raise_on_error,
            instance=instance,
        )
        metadata = {}
        if result.success:
            (event,) = result.asset_materializations_for_node("synced_products")
            metadata = {k: v.value for k, v in event.metadata.items()}
        evaluations = result.get_asset_check_evaluations()
        checks = {e.check_name: e.passed for e in evaluations}
        check_metadata = {
            e.check_name: {k: v.value for k, v in e.metadata.items()} for e in evaluations
        }
        return SyncRun(result, metadata, checks, check_metadata)

    def cold(self, **settings: Any) -> SyncRun:
        """The default sync of this catalog into the empty store, as a test's first write.

        The first such run in this worker (for this catalog's content and `settings`) is
        real, and the store it made is kept as a devstack snapshot (tables and uploaded
        files); a later test asking for the same gets that store back and the same run's
        record, instead of paying for the cold sync again. What it then judges is a store
        the real sync made in this session, from the same source."""
        assert self._store_is_empty(), "Sync.cold() must be the test's first write"
        served = requests.get(f"{self.catalog.base_url}/products", params={"limit": 0}, timeout=30)
        served.raise_for_status()
        what = json.dumps({"source": served.json(), "settings": settings}, sort_keys=True)
        key = hashlib.sha256(what.encode()).hexdigest()[:32]
        stack = Stack()
        if key in _COLD_RUNS and stack.load_snapshot(key):
            return _COLD_RUNS[key]
        run = self(**settings)
        if run.result.success and stack.save_snapshot(key):
            _COLD_RUNS[key] = run
        return run

    def _store_is_empty(self) -> bool:
        for path in ("/admin/products", "/admin/product-categories"):
            response = requests.get(
                self.info.backend_url + path,
                params={"limit": 1, "fields": "id"},
                auth=(self.info.api_key, ""),
                timeout=30,
            )
            response.raise_for_status()
            if response.json()["count"]:
                return False
        return True


def _assets_and_checks() -> list:
    return [
        assets.dummyjson_products,
        assets.category_map,
        assets.medusa_product_index,
        assets.synced_products,
        checks.synced_products_checks,
        storefront_checks.storefront_ready,
    ]
