"""What a new store holds before any test or sync touches it, set up through Medusa's
admin API — and the hook point for more.

Baked into the template database (:mod:`devstack.template`) while a Medusa runs on it, so
every store cloned from the template, and every reset, starts with it at no cost:

* the admin user's secret API key (``sk_…``), sent as HTTP Basic;
* a region "United States" (currency usd, country us), the store's default region;
* usd as the store's default currency.

Hook point: store setup after the store DB is ready
--------------------------------------------------
``STORE_SETUP`` lists callables ``hook(admin: AdminClient, meta: Mapping[str, str]) ->
Mapping[str, str] | None``, called in order after the steps above, with a logged-in admin
client and what is known so far (``api_key``, ``region_id``, ``sales_channel_id``,
``store_id`` and the values earlier hooks returned). What a hook returns is merged into
the template's record and shows up in ``StackInfo.setup`` after every ``up`` and ``reset``;
keys spelled like environment variables (``MEDUSA_PUBLISHABLE_KEY``) are also written to
``.devstack/env`` and ``StackInfo.env()``.

A hook runs when the template is built (then resets restore its result with the rest of
the store) and again on ``up`` when the store was migrated in place instead of re-cloned
(a Medusa upgrade keeps the store's data), so it must be idempotent: look up, create only
what is missing. Editing a hook's module rebuilds the template on the next ``up``/``reset``
(its source is part of the template's fingerprint).
"""

from __future__ import annotations

import hashlib
import inspect
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests

from devstack.errors import DevstackError
from devstack.medusa import session
from devstack.shop import setup_shop

log = logging.getLogger("devstack")


class AdminClient:
    """Medusa's admin API as the admin user (bearer token), for setup steps."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.http = session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    @classmethod
    def login(cls, base_url: str, email: str, password: str) -> AdminClient:
        resp = session().post(
            f"{base_url}/auth/user/emailpass",
            json={"email": email, "password": password},
            timeout=30,
        )
        _expect(resp, "admin login")
        return cls(base_url, resp.json()["token"])

    def get(self, path: str, **params: Any) -> dict:
        resp = self.http.get(f"{self.base_url}{path}", params=params, timeout=30)
        _expect(resp, f"GET {path}")
        return resp.json()

    def post(self, path: str, body: Mapping[str, Any]) -> dict:
        resp = self.http.post(f"{self.base_url}{path}", json=dict(body), timeout=30)
        _expect(resp, f"POST {path}")
        return resp.json()


SetupHook = Callable[[AdminClient, Mapping[str, str]], Mapping[str, str] | None]

# The shop (devstack/shop.py): region payment, publishable key, location, shipping option.
STORE_SETUP: tuple[SetupHook, ...] = (setup_shop,)


def setup_fingerprint(hooks: tuple[SetupHook, ...] | None = None) -> str:
    """Changes whenever this module or a hook's module changes (forces a template rebuild)."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for hook in STORE_SETUP if hooks is None else hooks:
        source = inspect.getsourcefile(hook)
        digest.update(Path(source).read_bytes() if source else hook.__qualname__.encode())
    return digest.hexdigest()[:12]


def bake(base_url: str, email: str, password: str) -> dict:
    """The template's admin-API setup; returns its record (credentials, ids, hook results)."""
    admin = AdminClient.login(base_url, email, password)
    key = admin.post("/admin/api-keys", {"title": "devstack", "type": "secret"})["api_key"]
    region_id = ensure_usd_region(admin)
    store = admin.get("/admin/stores")["stores"][0]
    others = [
        {"currency_code": c["currency_code"], "is_default": False}
        for c in store.get("supported_currencies") or []
        if c["currency_code"] != "usd"
    ]
    admin.post(
        f"/admin/stores/{store['id']}",
        {
            "supported_currencies": [{"currency_code": "usd", "is_default": True}, *others],
            "default_region_id": region_id,
        },
    )
    meta = {
        "admin_email": email,
        "admin_password": password,
        "api_key": key["token"],
        "api_key_id": key["id"],
        "region_id": region_id,
        "sales_channel_id": store.get("default_sales_channel_id") or "",
        "store_id": store["id"],
    }
    meta["setup"] = run_setup_hooks(admin, meta)
    return meta


def run_setup_hooks(admin: AdminClient, meta: Mapping[str, Any]) -> dict[str, str]:
    """Run every STORE_SETUP hook in order; returns what they recorded."""
    recorded: dict[str, str] = {}
    for hook in STORE_SETUP:
        known = {k: v for k, v in meta.items() if isinstance(v, str)} | recorded
        result = hook(admin, known) or {}
        recorded.update({str(k): str(v) for k, v in result.items()})
        log.info("store setup %s done", getattr(hook, "__qualname__", hook))
    return recorded


def ensure_usd_region(admin: AdminClient) -> str:
    regions = admin.get("/admin/regions", currency_code="usd")["regions"]
    if regions:
        return regions[0]["id"]
    body = {"name": "United States", "currency_code": "usd", "countries": ["us"]}
    return admin.post("/admin/regions", body)["region"]["id"]


def key_works(base_url: str, key: str) -> bool:
    if not key:
        return False
    try:
        resp = session().get(
            f"{base_url}/admin/stores", params={"fields": "id"}, auth=(key, ""), timeout=10
        )
    except requests.RequestException:
        return False
    return resp.status_code == 200


def mint_key(base_url: str, email: str, password: str) -> str:
    """A new secret API key for the admin user (the stored one no longer authenticates)."""
    try:
        admin = AdminClient.login(base_url, email, password)
    except DevstackError as exc:
        raise DevstackError(
            "the store database has neither the devstack API key nor its admin user; "
            "run `scripts/devstack reset` (empties the store)"
        ) from exc
    return admin.post("/admin/api-keys", {"title": "devstack", "type": "secret"})["api_key"][
        "token"
    ]


def _expect(resp: requests.Response, what: str) -> None:
    if resp.status_code != 200:
        raise DevstackError(f"{what} failed: HTTP {resp.status_code} {resp.text[:300]}")
