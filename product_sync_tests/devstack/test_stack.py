"""End-to-end tests of the shared local Medusa dev stack (real Medusa 2.21 + PostgreSQL):
reuse, auth, the shop it is set up as, the CLI, loopback, resets and uploads."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from devstack import template
from devstack.stack import Stack, StackInfo
from product_sync_tests.devstack.stack_calls import BAD_KEY, REPO_ROOT, get, product_count, session

pytestmark = pytest.mark.e2e


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
    resp = session().post(
        f"{info.backend_url}/admin/products", json=body, auth=info.auth, timeout=30
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["product"]


def test_up_reuses_the_running_stack(medusa_stack: StackInfo) -> None:
    running = Stack().info()
    again = Stack().up()

    assert again.reused
    assert again.medusa_pid == running.medusa_pid  # not restarted
    assert again.pg_pid == running.pg_pid
    assert again.backend_url == medusa_stack.backend_url
    assert again.api_key == medusa_stack.api_key
    assert get(again, "/admin/products", limit=1).status_code == 200


def test_api_key_authenticates_and_bad_key_gets_401(medusa_stack: StackInfo) -> None:
    assert medusa_stack.api_key.startswith("sk_")
    ok = get(medusa_stack, "/admin/products", limit=1)
    assert ok.status_code == 200
    assert "products" in ok.json()

    assert get(medusa_stack, "/admin/products", auth=(BAD_KEY, "")).status_code == 401
    no_auth = session().get(f"{medusa_stack.backend_url}/admin/products", timeout=30)
    assert no_auth.status_code == 401


def test_keys_still_authenticate_exactly_with_the_scrypt_memo(empty_store: StackInfo) -> None:
    """The dev stack's Medusa memoises its per-request scrypt (devstack/scrypt_memo.cjs).
    Catches a memo that answers for the wrong input or outlives a key's revocation: a key
    sharing the real key's redacted form (so Medusa hashes it against the real key's row)
    must still be refused, and a key that worked must stop working once revoked."""
    assert "scrypt memo loaded" in Path(empty_store.medusa_log).read_text()
    real = empty_store.api_key
    near_miss = real[:6] + ("1" if real[6] != "1" else "2") + real[7:]
    assert get(empty_store, "/admin/products", limit=1).status_code == 200
    assert get(empty_store, "/admin/products", auth=(near_miss, "")).status_code == 401

    created = session().post(
        f"{empty_store.backend_url}/admin/api-keys",
        json={"title": "memo-revoke", "type": "secret"},
        auth=empty_store.auth,
        timeout=30,
    )
    assert created.status_code == 200, created.text
    key = created.json()["api_key"]
    for _ in range(2):  # the second answer comes from the memo
        assert get(empty_store, "/admin/regions", auth=(key["token"], "")).status_code == 200
    revoked = session().post(
        f"{empty_store.backend_url}/admin/api-keys/{key['id']}/revoke",
        json={},
        auth=empty_store.auth,
        timeout=30,
    )
    assert revoked.status_code == 200, revoked.text
    assert get(empty_store, "/admin/regions", auth=(key["token"], "")).status_code == 401


def test_admin_user_can_log_in(medusa_stack: StackInfo) -> None:
    resp = session().post(
        f"{medusa_stack.backend_url}/auth/user/emailpass",
        json={"email": medusa_stack.admin_email, "password": medusa_stack.admin_password},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["token"]


def test_default_sales_channel_exists(medusa_stack: StackInfo) -> None:
    store = get(medusa_stack, "/admin/stores").json()["stores"][0]
    assert store["default_sales_channel_id"] == medusa_stack.sales_channel_id
    resp = get(medusa_stack, f"/admin/sales-channels/{medusa_stack.sales_channel_id}")
    assert resp.status_code == 200
    assert resp.json()["sales_channel"]["name"] == "Default Sales Channel"


def test_usd_region_and_store_currency(medusa_stack: StackInfo) -> None:
    resp = get(medusa_stack, "/admin/regions", currency_code="usd", fields="id,name,*countries")
    assert resp.status_code == 200
    regions = resp.json()["regions"]
    assert [r["id"] for r in regions] == [medusa_stack.region_id]
    assert regions[0]["name"] == "United States"
    assert [c["iso_2"] for c in regions[0]["countries"]] == ["us"]

    store = get(medusa_stack, "/admin/stores").json()["stores"][0]
    currencies = {c["currency_code"]: c["is_default"] for c in store["supported_currencies"]}
    assert currencies.get("usd") is True
    assert store["default_region_id"] == medusa_stack.region_id


def test_env_file_and_cli_commands(medusa_stack: StackInfo) -> None:
    env_file = Path(medusa_stack.env_file)
    # The checkout's stack, or this pytest-xdist worker's sibling (devstack/siblings.py).
    assert env_file == Stack().root / ".devstack" / "env"
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
    assert data["medusa"]["pid"] == Stack().info().medusa_pid
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


def _count(info: StackInfo, path: str, **params) -> int:
    resp = get(info, path, limit=0, **params)
    assert resp.status_code == 200, resp.text
    return resp.json()["count"]


def _dirty_the_store(info: StackInfo) -> dict[str, int]:
    """A product, a category, a stock location, a sales channel, a second secret key and a
    used sequence; returns the counts a fresh store has of each."""
    fresh = {
        "stock_locations": _count(info, "/admin/stock-locations"),
        "sales_channels": _count(info, "/admin/sales-channels"),
        "api_keys": _count(info, "/admin/api-keys"),
        "regions": _count(info, "/admin/regions"),
    }
    _create_product(info)
    http = session()
    for path, body in (
        ("/admin/product-categories", {"name": f"probe {uuid.uuid4().hex[:6]}"}),
        ("/admin/stock-locations", {"name": "probe location"}),
        ("/admin/sales-channels", {"name": "probe channel"}),
        ("/admin/api-keys", {"title": "probe", "type": "secret"}),
    ):
        resp = http.post(f"{info.backend_url}{path}", json=body, auth=info.auth, timeout=30)
        assert resp.status_code == 200, (path, resp.text)
    return fresh


def _next_display_id(stack: Stack) -> str:
    pg = stack.postgres()
    assert pg is not None
    return pg.psql("SELECT nextval('order_display_id_seq')", "medusa")


def test_reset_restores_the_store_in_place_and_keeps_the_key(medusa_stack: StackInfo) -> None:
    stack = Stack()
    before = stack.reset()
    first_display_id = _next_display_id(stack)
    fresh = _dirty_the_store(before)
    assert product_count(before) == 1

    info = stack.reset()

    assert info.medusa_pid == before.medusa_pid  # restored under the running Medusa
    assert info.api_key == medusa_stack.api_key
    assert info.backend_url == medusa_stack.backend_url
    assert product_count(info) == 0
    assert _count(info, "/admin/product-categories") == 0
    assert _count(info, "/admin/stock-locations") == fresh["stock_locations"]
    assert _count(info, "/admin/sales-channels") == fresh["sales_channels"]
    assert _count(info, "/admin/api-keys") == fresh["api_keys"]
    assert get(info, "/admin/regions", currency_code="usd").json()["count"] == 1
    assert _next_display_id(stack) == first_display_id  # sequences rewound too
    # Medusa keeps working on the restored tables: writes land and read back.
    _create_product(info)
    assert product_count(info) == 1


def test_reset_with_restart_recreates_the_store_under_a_fresh_medusa(
    medusa_stack: StackInfo,
) -> None:
    stack = Stack()
    before = stack.info()
    _create_product(before)
    assert stack.save_snapshot("before_restart")

    info = stack.reset(restart=True)

    assert info.medusa_pid not in (0, before.medusa_pid)
    assert info.api_key == medusa_stack.api_key
    assert product_count(info) == 0
    # The store DB was cloned anew: the snapshots kept in it went with it.
    assert not stack.load_snapshot("before_restart")
    assert product_count(info) == 0


def test_reset_of_a_busy_store_recreates_it(
    medusa_stack: StackInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction left open on the store DB: restoring in place would wait on its locks
    (or race it), so reset re-clones the store under a fresh Medusa instead."""
    monkeypatch.setattr(template, "QUIET_TIMEOUT", 0.5)
    stack = Stack()
    before = stack.info()
    _create_product(before)
    pg = stack.postgres()
    assert pg is not None
    holder = subprocess.Popen(
        [str(pg.bin_dir / "psql"), "-X", "-q", "-h", "127.0.0.1", "-p", str(pg.port),
         "-U", "postgres", "-d", "medusa"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
        env={"PGPASSWORD": pg.password, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    try:
        assert holder.stdin is not None
        holder.stdin.write("BEGIN; SELECT count(*) FROM product;\n")
        holder.stdin.flush()
        busy = "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'"
        deadline = time.monotonic() + 30
        while pg.psql(busy) == "0":
            assert time.monotonic() < deadline, "the open transaction never showed up"
            time.sleep(0.05)

        info = stack.reset()
    finally:
        holder.kill()
        holder.wait()

    assert info.medusa_pid not in (0, before.medusa_pid)
    assert product_count(info) == 0


def test_empty_store_fixture(empty_store: StackInfo) -> None:
    assert product_count(empty_store) == 0
    _create_product(empty_store)
    assert product_count(empty_store) == 1


def test_uploaded_file_is_served_from_backend_url(empty_store: StackInfo) -> None:
    payload = b"devstack upload probe " + uuid.uuid4().hex.encode()
    resp = session().post(
        f"{empty_store.backend_url}/admin/uploads",
        files={"files": ("probe.txt", payload, "text/plain")},
        auth=empty_store.auth,
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    url = resp.json()["files"][0]["url"]
    assert url.startswith(f"{empty_store.backend_url}/static/")
    served = session().get(url, timeout=30)
    assert served.status_code == 200
    assert served.content == payload

    Stack().reset()  # uploads belong to the store and go with it
    assert session().get(url, timeout=30).status_code == 404


def test_a_snapshot_brings_back_the_store_and_its_files_after_resets(
    empty_store: StackInfo,
) -> None:
    stack = Stack()
    product = _create_product(empty_store)
    upload = session().post(
        f"{empty_store.backend_url}/admin/uploads",
        files={"files": ("kept.txt", b"kept with the snapshot", "text/plain")},
        auth=empty_store.auth,
        timeout=30,
    )
    assert upload.status_code == 200, upload.text
    url = upload.json()["files"][0]["url"]
    assert stack.save_snapshot("one_product")
    display_id = _next_display_id(stack)

    info = stack.reset()
    assert product_count(info) == 0
    assert session().get(url, timeout=30).status_code == 404
    _create_product(info)  # a different store by now
    assert not stack.load_snapshot("never_saved")
    assert product_count(info) == 1

    assert stack.load_snapshot("one_product")
    (back,) = get(info, "/admin/products", fields="id,title").json()["products"]
    assert back == {"id": product["id"], "title": product["title"]}
    assert session().get(url, timeout=30).content == b"kept with the snapshot"
    assert _next_display_id(stack) == display_id  # sequences as they were when saved
    stack.reset()
    assert stack.load_snapshot("one_product")  # resets in place keep the snapshots
    assert product_count(info) == 1
    with pytest.raises(ValueError, match="snapshot name"):
        stack.save_snapshot("Not-A-Name")
