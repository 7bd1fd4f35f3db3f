"""A 100k catalog served lazily, and the ``python -m devstack.catalog`` command line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import requests

from devstack.catalog import CatalogServer
from product_sync_tests.devstack.catalog_server.calls import REPO_ROOT, TIMEOUT, get


def test_a_100k_catalog_serves_pages_without_generating_the_rest():
    with CatalogServer(seed=1, count=100_000) as big:
        body = get(big, "/products?skip=99990&limit=5&select=title").json()
        assert [p["id"] for p in body["products"]] == list(range(99_991, 99_996))
        assert body["total"] == 100_000
        assert len(get(big, "/products/category-list").json()) == 24
        assert get(big, "/products/77777").json()["id"] == 77_777
        generated = get(big, "/__control/state").json()["catalog"]["products_generated"]
        assert generated == 6


def test_cli_prints_the_url_and_stops_on_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.catalog", "--port", "0", "--count", "20", "--quiet"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        base_url = line.split(" ready at ")[1].split()[0]
        assert base_url.startswith("http://127.0.0.1:")
        body = requests.get(f"{base_url}/products?limit=1", timeout=TIMEOUT).json()
        assert body["total"] == 20
        assert body["products"][0]["thumbnail"].startswith(base_url)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_faults_can_be_given_on_the_command_line(tmp_path):
    config = tmp_path / "faults.json"
    config.write_text(json.dumps({"rules": [{"kind": "error", "statuses": [503]}]}))
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.catalog", "--port", "0", "--faults", f"@{config}"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        base_url = process.stdout.readline().split(" ready at ")[1].split()[0]
        assert requests.get(f"{base_url}/products", timeout=TIMEOUT).status_code == 503
        assert requests.get(f"{base_url}/__control/state", timeout=TIMEOUT).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
