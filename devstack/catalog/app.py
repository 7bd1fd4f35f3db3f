"""The catalog server's application: routing of the products API and the control API,
fault-triggered mutations and request counters, shared by every handler thread."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from typing import Any
from urllib.parse import unquote

from devstack.catalog.catalog import Catalog, MutationError
from devstack.catalog.faults import FaultConfigError, FaultInjector
from devstack.catalog.jsquery import parse_list_query
from devstack.catalog.responses import Response

API_PATH = re.compile(r"^/products?(?=/|$)")


class CatalogApp:
    """Routing, fault decisions and counters, shared by every handler thread."""

    def __init__(self, catalog: Catalog, faults: FaultInjector) -> None:
        self.catalog = catalog
        self.faults = faults
        self.stopping = threading.Event()
        self.log_requests = False
        self._lock = threading.Lock()
        self._by_route: Counter[str] = Counter()
        self._by_status: Counter[int] = Counter()
        self._mutation_errors: list[str] = []

    def count(self, route: str) -> None:
        with self._lock:
            self._by_route[route] += 1

    def count_status(self, status: int) -> None:
        with self._lock:
            self._by_status[status] += 1

    def reset_counters(self) -> None:
        with self._lock:
            self._by_route.clear()
            self._by_status.clear()
            self._mutation_errors.clear()

    def sleep(self, seconds: float) -> None:
        """Interruptible, so stopping the server never waits on a slow response."""
        self.stopping.wait(seconds)

    def state(self) -> dict[str, Any]:
        with self._lock:
            requests = {
                "total": sum(self._by_route.values()),
                "by_route": dict(self._by_route),
                "by_status": {str(k): v for k, v in sorted(self._by_status.items())},
            }
            errors = list(self._mutation_errors)
        faults = self.faults.state()
        faults["mutation_errors"] = errors
        return {"catalog": self.catalog.state(), "requests": requests, "faults": faults}

    # ------------------------------------------------------------------ faults

    def apply_fault_mutations(self, mutations: list[dict[str, Any]]) -> None:
        for mutation in mutations:
            try:
                self.catalog.mutate(**mutation)
            except (MutationError, TypeError) as error:
                with self._lock:
                    self._mutation_errors.append(str(error))

    # ------------------------------------------------------------------ API routes

    def api(self, path: str, params: dict[str, list[str]]) -> tuple[str, Response]:
        """Route a /products (or /product) path: ``(route name, response)``."""
        rest = API_PATH.sub("", path, count=1)
        segments = rest.split("/")[1:] if rest else []
        if len(segments) > 2 or (len(segments) == 2 and segments[0] != "category"):
            return "not_found", Response.not_found_html(path)
        if any(not s for s in segments):
            return "not_found", Response.not_found_html(path)

        query = parse_list_query(params)  # validated for every route, as DummyJSON does
        if query.delay_ms:
            self.sleep(query.delay_ms / 1000)

        if not segments:
            return "products", Response.json(200, self.catalog.list_products(query))
        if len(segments) == 2:
            slug = unquote(segments[1])
            envelope = self.catalog.list_products(query, category=slug)
            return "category", Response.json(200, envelope)
        name = segments[0]
        if name == "search":
            envelope = self.catalog.list_products(query, search=query.q or "")
            return "search", Response.json(200, envelope)
        if name == "categories":
            return "categories", Response.json(200, self.catalog.categories())
        if name == "category-list":
            return "category_list", Response.json(200, self.catalog.category_slugs())
        product_id = unquote(name)
        record = self.catalog.get(product_id)
        if record is None:
            return "product", Response.message(404, f"Product with id '{product_id}' not found")
        return "product", Response.json(200, query.project(record))

    def image(self, path: str) -> Response:
        png = self.catalog.image(unquote(path))
        if png is None:
            return Response.not_found_html(path)
        return Response(200, png, "image/png", {"Cache-Control": "public, max-age=3600"})

    # ------------------------------------------------------------------ control routes

    def control(self, method: str, path: str, body: bytes) -> Response:
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError:
            return Response.message(400, "body is not valid JSON")
        route = (method, path.removeprefix("/__control"))
        try:
            if route == ("GET", "/state"):
                return Response.json(200, self.state())
            if route == ("GET", "/faults"):
                return Response.json(200, self.faults.config())
            if route == ("POST", "/faults"):
                self.faults.configure(payload)
                return Response.json(200, self.faults.config())
            if route == ("POST", "/mutate"):
                if not isinstance(payload, dict) or "op" not in payload:
                    return Response.message(400, "mutate needs an object with an 'op'")
                return Response.json(200, self.catalog.mutate(**payload))
            if route == ("POST", "/reset"):
                if not isinstance(payload, dict):
                    return Response.message(400, "reset takes an object")
                self.reset(**payload)
                return Response.json(200, self.state())
        except (MutationError, FaultConfigError, TypeError, ValueError) as error:
            return Response.message(400, str(error))
        return Response.message(404, f"no control route {method} {path}")

    def reset(
        self, seed: int | None = None, count: int | None = None, categories: int | None = None
    ) -> None:
        """Back to the freshly generated catalog: no mutations, no faults, zero counters."""
        self.catalog.reset(seed=seed, count=count, categories=categories)
        self.faults.configure({})
        self.reset_counters()
