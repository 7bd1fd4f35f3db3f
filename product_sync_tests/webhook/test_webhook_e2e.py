"""End to end: a signed webhook call -> a real Dagster (webserver + daemon, run queue from
the repo's dagster.yaml) -> sync_job against the local catalog server and the real local
Medusa store -> the new price in the store and the run's numbers in GET /sync/status.

Also: deliveries are remembered in Dagster's run storage, so a delivery replayed to a
restarted webhook service gets the first run back; bad and old signatures are refused.
Deliveries are signed by the ``standardwebhooks`` package, as a sender would sign them.

Needs the dev stack (the ``medusa_stack``/``empty_store`` fixtures start or reuse it).
Takes about a minute and a half: Dagster's start, then four queued runs of a few seconds each.
"""

import contextlib
import json
import os
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

from product_sync import names
from product_sync_tests.webhook.sender import new_delivery_id, new_secret, signed_headers

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


def start_webhook(dagster: dict[str, Any], secret: str, logs: Path) -> dict[str, Any]:
    """The service as operators start it: the console script, configured by env."""
    port = free_port()
    env = {
        **os.environ,
        "WEBHOOK_SECRET": secret,
        "WEBHOOK_HOST": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "DAGSTER_GRAPHQL_URL": dagster["graphql_url"],
    }
    for name in (
        "WEBHOOK_SECRET_PREVIOUS",
        "DAGSTER_UI_URL",
        "DAGSTER_CODE_LOCATION",
        "WEBHOOK_PUBLIC_URL",
    ):
        env.pop(name, None)
    script = BIN / "product-sync-webhook"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "product_sync.webhook"]
    logs.mkdir(parents=True, exist_ok=True)
    service = start("webhook", command, env, logs)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        return requests.get(f"{url}/healthz?dagster=1", timeout=5).status_code == 200

    try:
        wait_until("the webhook service", ready, [service, *dagster["services"]], 60)
    except BaseException:
        service.stop()
        raise
    return {"url": url, "secret": secret, "service": service}


def stop_webhook(webhook: dict[str, Any]) -> None:
    webhook["service"].stop()
    log = webhook["service"].log.read_text(errors="replace")
    assert webhook["secret"].removeprefix("whsec_") not in log, "the secret was logged"


@pytest.fixture(scope="module")
def webhook(dagster, tmp_path_factory) -> Iterator[dict[str, Any]]:
    service = start_webhook(dagster, new_secret(), tmp_path_factory.mktemp("webhook"))
    try:
        yield service
    finally:
        stop_webhook(service)


def post_delivery(webhook: dict[str, Any], body: bytes, headers: dict[str, str]):
    return requests.post(
        f"{webhook['url']}/webhooks/product-update", data=body, headers=headers, timeout=30
    )


def deliver(webhook: dict[str, Any], product_ids: list[int]) -> dict[str, Any]:
    body = json.dumps({"product_ids": product_ids}).encode()
    response = post_delivery(webhook, body, signed_headers(webhook["secret"], body))
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["product_ids"] == sorted(set(product_ids))
    return answer


def dagster_runs(dagster: dict[str, Any], run_filter: dict[str, Any]) -> list[dict[str, Any]]:
    """Runs as Dagster itself lists them (not through the webhook service)."""
    query = """
    query Runs($filter: RunsFilter!) {
      runsOrError(filter: $filter) {
        __typename
        ... on Runs { results { runId jobName status tags { key value } } }
      }
    }"""
    response = requests.post(
        dagster["graphql_url"],
        json={"query": query, "variables": {"filter": run_filter}},
        timeout=30,
    )
    response.raise_for_status()
    result = response.json()["data"]["runsOrError"]
    assert result["__typename"] == "Runs", result
    return result["results"]


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


def test_a_delivery_replayed_after_a_restart_returns_the_first_run(medusa_stack, dagster, tmp_path):
    secret = new_secret()
    body = json.dumps({"product_ids": [9]}).encode()
    delivery_id = new_delivery_id()
    headers = signed_headers(secret, body, delivery_id=delivery_id)

    first_service = start_webhook(dagster, secret, tmp_path / "first")
    try:
        # Refused: a signature over other bytes, another secret, an old delivery.
        for refused, code in (
            (signed_headers(secret, b'{"product_ids": [10]}', delivery_id=delivery_id), None),
            (signed_headers(new_secret(), body, delivery_id=delivery_id), None),
            (signed_headers(secret, body, timestamp=int(time.time()) - 600), "stale_timestamp"),
            ({k: v for k, v in headers.items() if k != "webhook-signature"}, "missing_signature"),
        ):
            response = post_delivery(first_service, body, refused)
            assert response.status_code == 401, response.text
            assert response.json()["error"] == (code or "invalid_signature")
        first = post_delivery(first_service, body, headers)
        assert first.status_code == 202, first.text
        assert first.json()["duplicate"] is False
    finally:
        stop_webhook(first_service)

    # A new process: nothing of the first one's memory survives, Dagster's storage does.
    second_service = start_webhook(dagster, secret, tmp_path / "second")
    try:
        replayed = post_delivery(second_service, body, headers)
        assert replayed.status_code == 202, replayed.text
        assert replayed.json()["run_id"] == first.json()["run_id"]
        assert replayed.json()["duplicate"] is True
        # The sender's retry, signed anew, is the same delivery too.
        retried = post_delivery(
            second_service, body, signed_headers(secret, body, delivery_id=delivery_id)
        )
        assert (retried.json()["run_id"], retried.json()["duplicate"]) == (
            first.json()["run_id"],
            True,
        )
        runs = dagster_runs(dagster, {"tags": [{"key": names.DELIVERY_TAG, "value": delivery_id}]})
        assert [run["runId"] for run in runs] == [first.json()["run_id"]]
        (run,) = runs
        tags = {tag["key"]: tag["value"] for tag in run["tags"]}
        assert run["jobName"] == names.SYNC_JOB
        assert names.SYNC_QUEUE_TAG.items() <= tags.items()
        assert tags[names.PRODUCT_IDS_TAG] == "9"
        wait_for_run(replayed.json(), dagster)
    finally:
        stop_webhook(second_service)
