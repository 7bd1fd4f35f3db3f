"""End to end: a signed webhook call -> a real Dagster (webserver + daemon, run queue from
the repo's dagster.yaml) -> sync_job against the local catalog server and the real local
Medusa store -> the new price in the store and the run's numbers in GET /sync/status.

Needs the dev stack (the ``medusa_stack``/``empty_store`` fixtures start or reuse it).
Takes about a minute: Dagster's start, then three queued runs of a few seconds each.
"""

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}
START_TIMEOUT_S = 180
RUN_TIMEOUT_S = 240


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    log: Path

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(
                f"{self.name} exited with {self.process.returncode}:\n{tail(self.log)}",
                pytrace=False,
            )

    def stop(self) -> None:
        """Stop the process group this test started (the server and its children: code
        servers, run workers)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # Children left behind after a clean exit of the leader.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def start(name: str, command: list[str], env: dict[str, str], logs: Path) -> Service:
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Service(name, process, log)


def write_instance_yaml(home: Path) -> None:
    """The repo's dagster.yaml (same run queue and tag limit), with its relative storage
    paths moved under ``home``."""
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())

    def moved(value: str) -> str:
        parts = Path(value).parts
        if parts and parts[0] == ".dagster_home":
            parts = parts[1:]
        return str(home.joinpath(*parts))

    def absolute(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: moved(value)
                if key == "base_dir" and isinstance(value, str) and not Path(value).is_absolute()
                else absolute(value)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [absolute(item) for item in node]
        return node

    config = absolute(config)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    # Create the sqlite stores now: the webserver and the daemon starting together on an
    # empty home would both migrate them, and the loser fails with an alembic error.
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)):
        pass


def wait_until(what: str, probe, services: list[Service], timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        for service in services:
            service.check_alive()
        try:
            value = probe()
        except requests.RequestException as exc:
            value, last = None, exc
        if value:
            return value
        time.sleep(0.5)
    logs = "\n\n".join(f"--- {s.name}:\n{tail(s.log)}" for s in services)
    pytest.fail(f"timed out waiting for {what} (last: {last!r})\n{logs}", pytrace=False)


@pytest.fixture(scope="module")
def catalog():
    from devstack.catalog.server import CatalogServer

    with CatalogServer() as server:
        yield server


@pytest.fixture(scope="module")
def dagster(medusa_stack, catalog, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """dagster-webserver + dagster-daemon on a temporary instance, run from the repo root
    with the store's and the catalog's addresses in the environment."""
    home = tmp_path_factory.mktemp("dagster_home")
    write_instance_yaml(home)
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "MEDUSA_BACKEND_URL": medusa_stack.backend_url,
        "MEDUSA_API_KEY": medusa_stack.api_key,
        "DUMMYJSON_BASE_URL": catalog.base_url,
    }
    started = time.monotonic()
    services = [
        start(
            "dagster-webserver",
            [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port)],
            env,
            home,
        ),
        start("dagster-daemon", [str(BIN / "dagster-daemon"), "run"], env, home),
    ]
    graphql = f"http://127.0.0.1:{port}/graphql"
    query = "{ repositoriesOrError { ... on RepositoryConnection { nodes { jobs { name } } } } }"

    def sync_job_loaded() -> bool:
        data = requests.post(graphql, json={"query": query}, timeout=5).json()["data"]
        nodes = data["repositoriesOrError"].get("nodes", [])
        return any(job["name"] == "sync_job" for n in nodes for job in n["jobs"])

    try:
        wait_until("Dagster to load sync_job", sync_job_loaded, services, START_TIMEOUT_S)
        print(f"Dagster ready in {time.monotonic() - started:.1f} s")
        yield {"graphql_url": graphql, "home": home, "services": services}
    finally:
        for service in reversed(services):
            service.stop()


@pytest.fixture(scope="module")
def webhook(dagster, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """The service as operators start it: the console script, configured by env."""
    secret = secrets.token_hex(32)
    port = free_port()
    env = {
        **os.environ,
        "WEBHOOK_SECRET": secret,
        "WEBHOOK_HOST": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "DAGSTER_GRAPHQL_URL": dagster["graphql_url"],
    }
    for name in ("WEBHOOK_SECRET_PREVIOUS", "DAGSTER_UI_URL", "DAGSTER_CODE_LOCATION"):
        env.pop(name, None)
    env.pop("WEBHOOK_PUBLIC_URL", None)
    script = BIN / "product-sync-webhook"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "product_sync.webhook"]
    service = start("webhook", command, env, tmp_path_factory.mktemp("webhook"))
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        return requests.get(f"{url}/healthz?dagster=1", timeout=5).status_code == 200

    try:
        wait_until("the webhook service", ready, [service, *dagster["services"]], 60)
        yield {"url": url, "secret": secret, "service": service}
    finally:
        service.stop()
        assert secret not in service.log.read_text(errors="replace"), "the secret was logged"


def deliver(webhook: dict[str, Any], product_ids: list[int]) -> dict[str, Any]:
    body = json.dumps({"product_ids": product_ids}).encode()
    timestamp = str(int(time.time()))
    digest = hmac.new(
        webhook["secret"].encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    response = requests.post(
        f"{webhook['url']}/webhooks/product-update",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Webhook-Timestamp": timestamp,
            "X-Webhook-Signature": f"sha256={digest}",
        },
        timeout=30,
    )
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["product_ids"] == sorted(set(product_ids))
    return answer


def wait_for_run(answer: dict[str, Any], dagster: dict[str, Any]) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        response = requests.get(answer["status_url"], timeout=30)
        if response.status_code != 200:
            return None
        run = response.json()
        return run if run["status"] in TERMINAL else None

    run = wait_until(f"run {answer['run_id']}", finished, dagster["services"], RUN_TIMEOUT_S)
    assert run["status"] == "SUCCESS", (
        f"{json.dumps(run, indent=1)}\n--- daemon:\n{tail(dagster['services'][1].log)}"
    )
    return run


def store_prices(info, product_id: int) -> list[Decimal]:
    response = requests.get(
        f"{info.backend_url}/admin/products",
        params={"external_id[]": f"dummyjson:{product_id}", "fields": "id,variants.prices.amount"},
        auth=(info.api_key, ""),
        timeout=30,
    )
    response.raise_for_status()
    products = response.json()["products"]
    assert len(products) == 1, f"dummyjson:{product_id} in the store: {products}"
    (product,) = products
    return [Decimal(str(p["amount"])) for v in product["variants"] for p in v["prices"]]


def test_signed_webhook_syncs_the_product_into_the_store(empty_store, catalog, dagster, webhook):
    started = time.monotonic()
    product_id, other_id = 7, 8

    # Two deliveries at once: both queue, and the tag limit runs them one after the other.
    first, second = deliver(webhook, [product_id]), deliver(webhook, [other_id])
    assert first["run_id"] != second["run_id"]
    runs = [wait_for_run(first, dagster), wait_for_run(second, dagster)]
    assert runs[0]["synced_products"]["created"] == 1
    (early, late) = sorted(runs, key=lambda r: r["started_at"])
    assert early["ended_at"] <= late["started_at"], "two syncs ran at the same time"

    # The price changes at the source; the webhook for that product brings it over.
    old_price = Decimal(
        str(requests.get(f"{catalog.base_url}/products/{product_id}", timeout=30).json()["price"])
    )
    assert store_prices(empty_store, product_id) == [old_price]
    new_price = old_price + Decimal("3.21")
    mutated = requests.post(
        f"{catalog.base_url}/__control/mutate",
        json={"op": "price", "ids": [product_id], "value": float(new_price)},
        timeout=30,
    )
    assert mutated.status_code == 200, mutated.text
    update = deliver(webhook, [product_id])
    wait_for_run(update, dagster)

    assert store_prices(empty_store, product_id) == [new_price]

    status = requests.get(f"{webhook['url']}/sync/status", params={"limit": 5}, timeout=30)
    assert status.status_code == 200
    listed = {run["run_id"]: run for run in status.json()["runs"]}
    assert set(listed) >= {first["run_id"], second["run_id"], update["run_id"]}
    run = listed[update["run_id"]]
    assert run["status"] == "SUCCESS"
    assert run["trigger"] == "webhook"
    assert run["product_ids"] == [product_id] and run["full_sync"] is False
    numbers = run["synced_products"]
    assert numbers["updated"] == 1
    assert (numbers["created"], numbers["archived"], numbers["errors"]) == (0, 0, 0)
    assert numbers["quarantined"] == 0 and numbers["duration_s"] > 0
    assert run["dagster_url"] == dagster["graphql_url"].removesuffix("graphql") + (
        f"runs/{update['run_id']}"
    )
    print(f"webhook e2e: {time.monotonic() - started:.1f} s after Dagster was up")
