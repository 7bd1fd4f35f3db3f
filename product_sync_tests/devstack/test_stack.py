"""End-to-end tests of the local Medusa dev stack (real Medusa 2.21 + PostgreSQL)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devstack.stack import Stack, StackInfo

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
BAD_KEY = "sk_" + "0" * 64


def _http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # never send loopback traffic through a proxy
    return session


def _get(info: StackInfo, path: str, auth=None, **params) -> requests.Response:
    return _http().get(
        f"{info.backend_url}{path}", auth=info.auth if auth is None else auth, params=params,
        timeout=30,
    )  # fmt: skip


def _product_count(info: StackInfo) -> int:
    resp = _get(info, "/admin/products", limit=0)
    assert resp.status_code == 200, resp.text
    return resp.json()["count"]


def _create_product(info: StackInfo) -> dict:
    suffix = uuid.uuid4().hex[:8]
    body = {
        "title": f"Devstack probe {suffix}",
        "handle": f"devstack-probe-{suffix}",
        "status": "published",
        "options": [{"title": "Default", "values": ["Default Option"]}],
        "variants": [
            {
                "title": "Default",
                "sku": f"PROBE-{suffix}",
                "prices": [{"amount": 9.99, "currency_code": "usd"}],
                "options": {"Default": "Default Option"},
            }
        ],
        "sales_channels": [{"id": info.sales_channel_id}],
    }
    resp = _http().post(f"{info.backend_url}/admin/products", json=body, auth=info.auth, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()["product"]


def _health(info: StackInfo) -> bool:
    try:
        return _http().get(f"{info.backend_url}/health", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def test_up_is_idempotent_and_fast(medusa_stack: StackInfo) -> None:
    t0 = time.monotonic()
    again = Stack(REPO_ROOT).up()
    elapsed = time.monotonic() - t0

    assert again.reused
    assert elapsed < 10, f"second up took {elapsed:.1f}s"
    assert again.backend_url == medusa_stack.backend_url
    assert again.api_key == medusa_stack.api_key
    assert _get(again, "/admin/products", limit=1).status_code == 200


def test_api_key_authenticates_and_bad_key_gets_401(medusa_stack: StackInfo) -> None:
    assert medusa_stack.api_key.startswith("sk_")
    ok = _get(medusa_stack, "/admin/products", limit=1)
    assert ok.status_code == 200
    assert "products" in ok.json()

    assert _get(medusa_stack, "/admin/products", auth=(BAD_KEY, "")).status_code == 401
    no_auth = _http().get(f"{medusa_stack.backend_url}/admin/products", timeout=30)
    assert no_auth.status_code == 401


def test_admin_user_can_log_in(medusa_stack: StackInfo) -> None:
    resp = _http().post(
        f"{medusa_stack.backend_url}/auth/user/emailpass",
        json={"email": medusa_stack.admin_email, "password": medusa_stack.admin_password},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["token"]


def test_default_sales_channel_exists(medusa_stack: StackInfo) -> None:
    store = _get(medusa_stack, "/admin/stores").json()["stores"][0]
    assert store["default_sales_channel_id"] == medusa_stack.sales_channel_id
    resp = _get(medusa_stack, f"/admin/sales-channels/{medusa_stack.sales_channel_id}")
    assert resp.status_code == 200
    assert resp.json()["sales_channel"]["name"] == "Default Sales Channel"


def test_usd_region_and_store_currency(medusa_stack: StackInfo) -> None:
    resp = _get(medusa_stack, "/admin/regions", currency_code="usd", fields="id,name,*countries")
    assert resp.status_code == 200
    regions = resp.json()["regions"]
    assert [r["id"] for r in regions] == [medusa_stack.region_id]
    assert regions[0]["name"] == "United States"
    assert [c["iso_2"] for c in regions[0]["countries"]] == ["us"]

    store = _get(medusa_stack, "/admin/stores").json()["stores"][0]
    currencies = {c["currency_code"]: c["is_default"] for c in store["supported_currencies"]}
    assert currencies.get("usd") is True
    assert store["default_region_id"] == medusa_stack.region_id


def test_env_file_and_cli_commands(medusa_stack: StackInfo) -> None:
    env_file = Path(medusa_stack.env_file)
    assert env_file == REPO_ROOT / ".devstack" / "env"
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    assert values == medusa_stack.env()

    script = REPO_ROOT / "scripts" / "devstack"
    env = subprocess.run([script, "env"], capture_output=True, text=True, timeout=60)
    assert env.returncode == 0, env.stderr
    assert env.stdout == medusa_stack.exports()
    assert env.stdout.splitlines() == [
        f"export MEDUSA_BACKEND_URL={medusa_stack.backend_url}",
        f"export MEDUSA_API_KEY={medusa_stack.api_key}",
    ]

    status = subprocess.run([script, "status"], capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["running"] is True
    assert data["medusa"]["health"] is True
    assert data["medusa"]["pid"] == Stack(REPO_ROOT).info().medusa_pid
    assert data["postgres"]["ready"] is True
    assert data["postgres"]["port"] == medusa_stack.pg_port

    logs = subprocess.run([script, "logs"], capture_output=True, text=True, timeout=60)
    paths = dict(line.split("\t") for line in logs.stdout.splitlines())
    assert Path(paths["medusa"]).is_file()
    assert Path(paths["postgres"]).is_file()


def test_servers_listen_on_loopback_only(medusa_stack: StackInfo) -> None:
    psutil = pytest.importorskip("psutil")
    ports = {medusa_stack.medusa_port, medusa_stack.pg_port}
    listeners = [
        c
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port in ports
    ]
    assert {c.laddr.port for c in listeners} == ports
    assert {c.laddr.ip for c in listeners} == {"127.0.0.1"}


def test_reset_empties_products_and_keeps_the_key(medusa_stack: StackInfo) -> None:
    _create_product(medusa_stack)
    assert _product_count(medusa_stack) >= 1

    t0 = time.monotonic()
    info = Stack(REPO_ROOT).reset()
    elapsed = time.monotonic() - t0

    assert elapsed < 30, f"reset took {elapsed:.1f}s"
    assert info.api_key == medusa_stack.api_key
    assert info.backend_url == medusa_stack.backend_url
    assert _product_count(info) == 0
    assert _get(info, "/admin/regions", currency_code="usd").json()["count"] == 1


def test_empty_store_fixture(empty_store: StackInfo) -> None:
    assert _product_count(empty_store) == 0
    _create_product(empty_store)
    assert _product_count(empty_store) == 1


def test_uploaded_file_is_served_from_backend_url(empty_store: StackInfo) -> None:
    payload = b"devstack upload probe " + uuid.uuid4().hex.encode()
    resp = _http().post(
        f"{empty_store.backend_url}/admin/uploads",
        files={"files": ("probe.txt", payload, "text/plain")},
        auth=empty_store.auth,
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    url = resp.json()["files"][0]["url"]
    assert url.startswith(f"{empty_store.backend_url}/static/")
    served = _http().get(url, timeout=30)
    assert served.status_code == 200
    assert served.content == payload

    Stack(REPO_ROOT).reset()  # uploads belong to the store and go with it
    assert _http().get(url, timeout=30).status_code == 404


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tree(pid: int) -> set[int]:
    """pid and its descendants."""
    psutil = pytest.importorskip("psutil")
    try:
        proc = psutil.Process(pid)
        return {pid, *(c.pid for c in proc.children(recursive=True))}
    except psutil.NoSuchProcess:
        return set()


def _alive(pids: set[int]) -> list[str]:
    """`ps` lines of the given pids that still exist (zombies excluded)."""
    out = subprocess.run(["ps", "-eo", "pid=,stat=,args="], capture_output=True, text=True)
    rows = [line.split(None, 2) for line in out.stdout.splitlines()]
    return [" ".join(r) for r in rows if int(r[0]) in pids and not r[1].startswith("Z")]


@pytest.fixture(scope="module")
def scratch_stack(medusa_stack: StackInfo) -> Iterator[Stack]:
    """A second, private stack (scratch root under .devstack/, free ports) for fault tests.

    Killing Medusa on the shared stack would break other sessions using it, so crash and
    shutdown tests run here. It shares node_modules (symlink) and builds its own template.
    """
    root = REPO_ROOT / ".devstack" / f"scratch-{uuid.uuid4().hex[:8]}"  # git-ignored
    store = root / "medusa_store"
    store.mkdir(parents=True)
    for name in ("package.json", "package-lock.json", "medusa-config.ts", "tsconfig.json"):
        shutil.copy2(REPO_ROOT / "medusa_store" / name, store / name)
    (store / "node_modules").symlink_to(REPO_ROOT / "medusa_store" / "node_modules")
    stack = Stack(root, pg_port=_free_port(), medusa_port=_free_port())
    try:
        yield stack
    finally:
        stack.down()
        shutil.rmtree(root, ignore_errors=True)


def test_scratch_stack_cold_up(scratch_stack: Stack) -> None:
    info = scratch_stack.up()
    assert not info.reused
    assert info.backend_url == f"http://127.0.0.1:{scratch_stack.medusa_port}"
    assert _product_count(info) == 0
    assert _get(info, "/admin/products", auth=(BAD_KEY, "")).status_code == 401


def test_kill_medusa_then_start_medusa_recovers(scratch_stack: Stack) -> None:
    before = scratch_stack.up()
    old_pid = scratch_stack.kill_medusa()
    assert old_pid == before.medusa_pid
    assert not _health(before)
    assert scratch_stack.status()["running"] is False

    info = scratch_stack.start_medusa()
    assert info.medusa_pid not in (0, old_pid)
    assert _health(info)
    assert _product_count(info) == 0
    assert info.api_key == before.api_key


def test_up_restarts_a_crashed_medusa(scratch_stack: Stack) -> None:
    before = scratch_stack.up()
    old_pid = scratch_stack.kill_medusa()
    info = scratch_stack.up()
    assert not info.reused
    assert info.medusa_pid not in (0, old_pid)
    assert info.backend_url == before.backend_url
    assert info.api_key == before.api_key
    assert _get(info, "/admin/products", limit=1).status_code == 200


def test_down_leaves_no_process(scratch_stack: Stack) -> None:
    info = scratch_stack.up()
    started = _tree(info.medusa_pid) | _tree(info.pg_pid)
    assert {info.medusa_pid, info.pg_pid} <= started
    assert len(_alive(started)) >= 2

    scratch_stack.down()
    time.sleep(0.2)
    assert _alive(started) == []
    assert not _health(info)
    assert scratch_stack.status()["postgres"]["pid"] is None
