"""A wrong or unusable API key fails the run fast, with a clear message and no writes;
no key, right or wrong, ever shows in logs, metadata, exceptions or captured output."""

import base64
import logging
import secrets

import pytest

from product_sync.resources.http import JSONClient
from product_sync_tests.faults.conftest import (
    FaultRun,
    assert_converged,
    store_is_empty,
)

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

ORIGINAL_SEND = JSONClient.send_once
MEDUSA_STEPS = {"medusa_product_index", "category_map"}


@pytest.fixture
def catalog_size() -> int:
    return 30


def count_medusa_requests(monkeypatch, backend_url: str) -> list[str]:
    sent: list[str] = []

    def send_once(client, method, path, **kwargs):
        if client.base_url == backend_url:
            sent.append(f"{method} {path}")
        return ORIGINAL_SEND(client, method, path, **kwargs)

    monkeypatch.setattr(JSONClient, "send_once", send_once)
    return sent


def assert_nowhere(key: str, run: FaultRun, *captured: str) -> None:
    """Neither the key nor its HTTP Basic encoding in anything the run left behind."""
    forms = [key, base64.b64encode(f"{key}:".encode()).decode()]
    if key.isascii():
        forms.append(base64.b64encode(key.encode()).decode().rstrip("="))
    texts = [run.serialized, *run.logs, *run.errors, *captured]
    for form in forms:
        for text in texts:
            assert form not in text


def failed_steps(run: FaultRun) -> set[str]:
    return {e.step_key for e in run.result.all_events if e.is_step_failure}


def test_wrong_api_key(run_sync, store, source, empty_store, matrix, monkeypatch, capfd, caplog):
    matrix.scenario = "wrong API key, then the right one"
    caplog.set_level(logging.DEBUG)
    locations = store.get("/admin/stock-locations", fields="id")["stock_locations"]
    sent = count_medusa_requests(monkeypatch, empty_store.backend_url)
    wrong = "sk_" + secrets.token_hex(32)  # looks exactly like a real one
    run = run_sync(api_key=wrong)
    assert not run.success
    assert failed_steps(run) and failed_steps(run) <= MEDUSA_STEPS
    assert not run.result.asset_materializations_for_node("synced_products")
    for error in run.errors:
        assert "rejected the API key (401)" in error and "MEDUSA_API_KEY" in error
    # Fast: one request per step that met the store, none retried.
    assert len(sent) == len(failed_steps(run)), sent
    assert store_is_empty(store)
    # The dev shop's location only (devstack/shop.py): the run made none.
    assert store.get("/admin/stock-locations", fields="id")["stock_locations"] == locations
    out, err = capfd.readouterr()
    assert "rejected the API key" in err and "rejected the API key" in run.serialized
    assert_nowhere(wrong, run, out, err, caplog.text)

    right = empty_store.api_key
    good = run_sync()
    assert good.success and all(good.checks.values()), good.checks
    out, err = capfd.readouterr()
    assert_nowhere(right, good, out, err, caplog.text)
    assert_converged(store, source, row=matrix)


UNUSABLE = {
    "ellipsis": "sk_\u2026" + "0f" * 16,  # as pasted from "sk_…" in docs
    "newline": "sk_" + "0f" * 16 + "\n",  # as read from a file written by echo
    "nbsp": "\u00a0sk_" + "0f" * 16,  # as copied from a web page
}


def test_unusable_api_key(run_sync, store, empty_store, matrix, monkeypatch, capfd):
    matrix.scenario = f"unusable API keys ({', '.join(UNUSABLE)})"
    sent = count_medusa_requests(monkeypatch, empty_store.backend_url)
    for key in UNUSABLE.values():
        run = run_sync(api_key=key)
        assert not run.success
        assert failed_steps(run) and failed_steps(run) <= MEDUSA_STEPS
        for error in run.errors:
            assert "MEDUSA_API_KEY is not a usable secret key" in error
        out, err = capfd.readouterr()
        assert "MEDUSA_API_KEY is not a usable secret key" in err  # the capture sees logs
        assert_nowhere(key.strip(), run, out, err)
    assert sent == []
    assert store_is_empty(store)
    matrix.duplicates = 0
