"""The "Product sync" widget in the real Medusa admin, driven by a real browser.

The store is built with its admin (``devstack.admin.build_admin``: ``medusa build``, about
30 s, skipped while the store's sources are unchanged) and served from ``.medusa/server``
on its own port against the dev stack's database. Behind it: the webhook service (the
console script) and a real Dagster (webserver + daemon on a temporary instance), reusing
the webhook end-to-end test's fixtures, with a small in-process catalog.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright`` package (dev
dependency; no browser download: Playwright drives the system Chromium); ``scripts/test``
installs chromium when missing. Without them the tests fail, saying what is missing. Saves
a screenshot under pytest's tmp dir, or refreshes ``docs/admin-widget.png`` when
``PRODUCT_SYNC_UPDATE_SCREENSHOTS=1``.
"""

import importlib.util
import os
import re
import socket
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

CHROMIUM = Path("/usr/bin/chromium")
_missing = [
    what
    for what, present in (
        (f"{CHROMIUM} (apt-get install chromium)", CHROMIUM.exists()),
        ("the playwright package (scripts/setup)", importlib.util.find_spec("playwright")),
    )
    if not present
]
_message = "the admin browser test needs " + " and ".join(_missing)
if not _missing:
    from playwright.sync_api import expect, sync_playwright

from devstack.admin import AdminServer, build_admin, start_admin  # noqa: E402
from devstack.catalog.server import CatalogServer  # noqa: E402
from devstack.stack import Stack, StackInfo  # noqa: E402
from product_sync_tests.webhook.test_webhook_e2e import (  # noqa: E402
    RUN_TIMEOUT_S,
    dagster,  # noqa: F401  (fixture)
    tail,
    wait_for_run,
    webhook,  # noqa: F401  (fixture)
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS_SCREENSHOT = REPO_ROOT / "docs" / "admin-widget.png"
CATALOG_SIZE = 12
RUN_ID = re.compile(r"Sync queued: ([0-9a-f-]{36})")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def browser_available() -> None:
    """A missing browser fails these tests (first, before any build), not the run."""
    if _missing:
        pytest.fail(_message, pytrace=False)


@pytest.fixture(scope="session")
def admin_build(medusa_stack):
    """``medusa build`` with the admin (needs the stack's node_modules)."""
    build = build_admin(REPO_ROOT)
    print(f"admin build: {'reused' if build.reused else f'{build.seconds:.1f} s'}")
    return build


@pytest.fixture(scope="module")
def catalog() -> Iterator[CatalogServer]:
    """Overrides the webhook test's catalog (the ``dagster`` fixture syncs from it)."""
    with CatalogServer(seed=7, count=CATALOG_SIZE) as server:
        yield server


@pytest.fixture(scope="module")
def store(medusa_stack) -> StackInfo:
    """An empty store, before any admin server connects to its database."""
    return Stack().reset()


def serve_admin(store: StackInfo, env: dict[str, str]) -> AdminServer:
    return start_admin(store, free_port(), env=env, root=REPO_ROOT)


@pytest.fixture(scope="module")
def admin(admin_build, store, webhook) -> Iterator[AdminServer]:  # noqa: F811
    server = serve_admin(
        store,
        {"PRODUCT_SYNC_WEBHOOK_URL": webhook["url"], "WEBHOOK_SECRET": webhook["secret"]},
    )
    try:
        yield server
    finally:
        server.stop()
        assert webhook["secret"] not in server.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        yield chromium
        chromium.close()


def logged_in_page(browser, server: AdminServer, store: StackInfo):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{server.admin_url}/login")
    page.fill("input[name=email]", store.admin_email)
    page.fill("input[name=password]", store.admin_password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{server.admin_url}/products")
    expect(page.get_by_test_id("product-sync-widget")).to_be_visible()
    # The widget sits below the product table, which moves it when the products arrive:
    # let the page settle before clicking anything.
    page.wait_for_load_state("networkidle")
    return page


def admin_token(server: AdminServer, store: StackInfo) -> dict[str, str]:
    response = requests.post(
        f"{server.url}/auth/user/emailpass",
        json={"email": store.admin_email, "password": store.admin_password},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def sync_status(webhook_service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    response = requests.get(f"{webhook_service['url']}/sync/status", timeout=30)
    assert response.status_code == 200, response.text
    return {run["run_id"]: run for run in response.json()["runs"]}


def finished_run(run_id: str, webhook_service, dagster_services) -> dict[str, Any]:
    status_url = f"{webhook_service['url']}/sync/runs/{run_id}"
    return wait_for_run({"run_id": run_id, "status_url": status_url}, dagster_services)


def test_widget_shows_the_last_sync_and_sync_now_queues_a_run(
    store,
    catalog,
    dagster,  # noqa: F811
    webhook,  # noqa: F811
    admin,
    browser,
    tmp_path,
):
    # The store's routes are admin-only, like every /admin route.
    assert requests.get(f"{admin.url}/admin/product-sync/status", timeout=30).status_code == 401
    assert requests.post(f"{admin.url}/admin/product-sync/sync", timeout=30).status_code == 401

    # A first full sync, requested through the store's route (it signs the webhook call).
    auth = admin_token(admin, store)
    queued = requests.post(f"{admin.url}/admin/product-sync/sync", headers=auth, timeout=30)
    assert queued.status_code == 202, queued.text
    first = finished_run(queued.json()["run_id"], webhook, dagster)
    assert first["trigger"] == "webhook" and first["full_sync"] is True
    assert first["synced_products"]["created"] == CATALOG_SIZE
    proxied = requests.get(f"{admin.url}/admin/product-sync/status", headers=auth, timeout=30)
    assert proxied.status_code == 200
    assert proxied.json()["runs"][0]["run_id"] == first["run_id"]

    # The widget shows that run's numbers and links to it in the Dagster UI.
    page = logged_in_page(browser, admin, store)
    expect(page.get_by_test_id("product-sync-status")).to_have_text("Succeeded")
    expect(page.get_by_test_id("product-sync-synced")).to_have_text(str(CATALOG_SIZE))
    expect(page.get_by_test_id("product-sync-created")).to_have_text(str(CATALOG_SIZE))
    expect(page.get_by_test_id("product-sync-updated")).to_have_text("0")
    expect(page.get_by_test_id("product-sync-errors")).to_have_text("0")
    expect(page.get_by_test_id("product-sync-duration")).to_have_text(re.compile(r"^\d+ s$"))
    expect(page.get_by_test_id("product-sync-logs")).to_have_attribute("href", first["dagster_url"])
    title = requests.get(f"{catalog.base_url}/products/1", timeout=30).json()["title"]
    expect(page.get_by_text(title, exact=True).first).to_be_visible()

    # The catalog changes; "Sync now" queues a full sync and the card follows it to the end.
    for product_id in (2, 3):
        record = requests.get(f"{catalog.base_url}/products/{product_id}", timeout=30).json()
        new_price = Decimal(str(record["price"])) + Decimal("123.45")
        catalog.mutate("price", ids=[product_id], value=float(new_price))
    page.get_by_role("button", name="Sync now").click()
    queued_text = page.get_by_test_id("product-sync-queued")
    expect(queued_text).to_have_text(RUN_ID)
    run_id = RUN_ID.search(queued_text.inner_text()).group(1)
    assert run_id != first["run_id"]
    assert sync_status(webhook)[run_id]["full_sync"] is True

    second = finished_run(run_id, webhook, dagster)
    assert second["synced_products"]["updated"] == 2
    expect(page.get_by_test_id("product-sync-logs")).to_have_attribute(
        "href", second["dagster_url"], timeout=RUN_TIMEOUT_S * 1000
    )
    expect(page.get_by_test_id("product-sync-status")).to_have_text("Succeeded")
    expect(page.get_by_test_id("product-sync-updated")).to_have_text("2")
    expect(page.get_by_test_id("product-sync-created")).to_have_text("0")
    expect(page.get_by_test_id("product-sync-synced")).to_have_text(str(CATALOG_SIZE))
    expect(page.get_by_test_id("product-sync-queued")).to_have_count(0)
    expect(page.get_by_test_id("product-sync-active-status")).to_have_count(0)
    assert webhook["secret"] not in page.content()

    # The admin scrolls inside its own pane: a tall window shows the table and the card.
    page.set_viewport_size({"width": 1280, "height": 1180})
    refresh_docs = os.environ.get("PRODUCT_SYNC_UPDATE_SCREENSHOTS") == "1"
    page.screenshot(path=str(DOCS_SCREENSHOT if refresh_docs else tmp_path / "admin-widget.png"))
    page.context.close()


def test_widget_explains_an_unconfigured_or_unreachable_sync_service(
    admin_build, store, browser, tmp_path
):
    # No secret, and nothing listens where the service should be.
    server = serve_admin(
        store, {"PRODUCT_SYNC_WEBHOOK_URL": f"http://127.0.0.1:{free_port()}", "WEBHOOK_SECRET": ""}
    )
    try:
        auth = admin_token(server, store)
        status = requests.get(f"{server.url}/admin/product-sync/status", headers=auth, timeout=30)
        assert status.status_code == 502, status.text
        assert status.json()["error"] == "sync_service_unreachable"
        sync = requests.post(f"{server.url}/admin/product-sync/sync", headers=auth, timeout=30)
        assert sync.status_code == 503, sync.text
        assert sync.json()["error"] == "sync_not_configured"

        page = logged_in_page(browser, server, store)
        error = page.get_by_test_id("product-sync-error")
        expect(error).to_contain_text("did not answer")
        page.get_by_role("button", name="Sync now").click()
        expect(error).to_contain_text("WEBHOOK_SECRET is not set")
        expect(page.get_by_test_id("product-sync-queued")).to_have_count(0)
        page.context.close()
    except AssertionError:
        print(tail(server.log_path))
        raise
    finally:
        server.stop()
