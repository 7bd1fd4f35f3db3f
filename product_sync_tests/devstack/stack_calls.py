"""Requests to a dev stack's Medusa, shared by the stack's test modules."""

from __future__ import annotations

from pathlib import Path

import requests

from devstack.stack import StackInfo

REPO_ROOT = Path(__file__).resolve().parents[2]
BAD_KEY = "sk_" + "0" * 64


def session() -> requests.Session:
    http = requests.Session()
    http.trust_env = False  # never send loopback traffic through a proxy
    return http


def get(info: StackInfo, path: str, auth=None, **params) -> requests.Response:
    return session().get(
        f"{info.backend_url}{path}", auth=info.auth if auth is None else auth, params=params,
        timeout=30,
    )  # fmt: skip


def product_count(info: StackInfo) -> int:
    resp = get(info, "/admin/products", limit=0)
    assert resp.status_code == 200, resp.text
    return resp.json()["count"]
