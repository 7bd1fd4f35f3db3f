"""A DummyJSON-compatible HTTP server over a ``Catalog``, with fault injection and a
control API. Standard library only (``http.server``).

Routes (``/product`` is an alias of ``/products``, as in DummyJSON):

- ``GET /products``, ``/products/search``, ``/products/categories``,
  ``/products/category-list``, ``/products/category/{slug}``, ``/products/{id}``
- ``GET /product-images/...png``: generated PNGs for the catalog's image URLs
- ``GET /__control/state``, ``GET|POST /__control/faults``, ``POST /__control/mutate``,
  ``POST /__control/reset``: never faulted

The parts: :mod:`~devstack.catalog.app` routes, :mod:`~devstack.catalog.handler` speaks HTTP
(and the wire-level faults), :mod:`~devstack.catalog.responses` shapes what DummyJSON sends;
this module runs them in a background thread.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from devstack.catalog.app import CatalogApp
from devstack.catalog.catalog import Catalog
from devstack.catalog.faults import FaultInjector
from devstack.catalog.generator import DEFAULT_CATEGORIES, DEFAULT_COUNT, DEFAULT_SEED
from devstack.catalog.handler import CatalogHTTPServer


class CatalogServer:
    """The catalog server in a background thread.

    >>> with CatalogServer(seed=42, count=194) as server:
    ...     requests.get(f"{server.base_url}/products")
    """

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        count: int = DEFAULT_COUNT,
        *,
        categories: int = DEFAULT_CATEGORIES,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: dict[str, Any] | None = None,
        public_url: str | None = None,
        log_requests: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.public_url = public_url
        self.catalog = Catalog(seed=seed, count=count, categories=categories)
        self.faults = FaultInjector(faults)
        self.app = CatalogApp(self.catalog, self.faults)
        self.app.log_requests = log_requests
        self._httpd: CatalogHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return self.catalog.base_url

    def start(self) -> CatalogServer:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._httpd = CatalogHTTPServer((self.host, self.port), self.app, family)
        self.port = self._httpd.server_address[1]
        host = f"[{self.host}]" if family == socket.AF_INET6 else self.host
        self.catalog.base_url = self.public_url or f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name=f"catalog-server-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self.app.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        if self._thread is not None:
            self._thread.join()
        self._httpd = None

    def __enter__(self) -> CatalogServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def mutate(self, op: str, **params: Any) -> dict[str, Any]:
        return self.catalog.mutate(op, **params)

    def set_faults(self, rules: list[dict[str, Any]] | None = None, seed: int = 0) -> None:
        self.faults.configure({"seed": seed, "rules": list(rules or [])})

    def reset(self, **settings: Any) -> None:
        self.app.reset(**settings)

    def state(self) -> dict[str, Any]:
        return self.app.state()
