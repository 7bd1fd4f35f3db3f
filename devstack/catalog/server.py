"""A DummyJSON-compatible HTTP server over a ``Catalog``, with fault injection and a
control API. Standard library only (``http.server``).

Routes (``/product`` is an alias of ``/products``, as in DummyJSON):

- ``GET /products``, ``/products/search``, ``/products/categories``,
  ``/products/category-list``, ``/products/category/{slug}``, ``/products/{id}``
- ``GET /product-images/...png``: generated PNGs for the catalog's image URLs
- ``GET /__control/state``, ``GET|POST /__control/faults``, ``POST /__control/mutate``,
  ``POST /__control/reset``: never faulted
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import json
import logging
import re
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from devstack.catalog.catalog import Catalog, MutationError
from devstack.catalog.faults import FaultConfigError, FaultInjector, FaultRule
from devstack.catalog.generator import DEFAULT_CATEGORIES, DEFAULT_COUNT, DEFAULT_SEED
from devstack.catalog.jsquery import ApiError, dumps, parse_list_query

log = logging.getLogger(__name__)

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
# Express's compression middleware leaves bodies under 1 kB alone.
GZIP_THRESHOLD = 1024
_API_PATH = re.compile(r"^/products?(?=/|$)")
_NOT_FOUND_HTML = (
    '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>404 | Not Found'
    "</title></head>\n<body><h1>404</h1><p>Page not found: {path}</p></body>\n</html>\n"
)
_PROXY_HTML = (
    "<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n<center><h1>{status} "
    "{phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
RATE_LIMIT_MESSAGE = "request limit exceeded, please wait a few seconds"


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, value: Any) -> Response:
        return cls(status, dumps(value))

    @classmethod
    def message(cls, status: int, message: str) -> Response:
        return cls.json(status, {"message": message})

    @classmethod
    def not_found_html(cls, path: str) -> Response:
        safe = path.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return cls(404, _NOT_FOUND_HTML.format(path=safe).encode(), HTML_TYPE)


def _weak_etag(body: bytes) -> str:
    """The ``etag`` package's weak tag, which Express sets on every ``res.send``."""
    digest = base64.b64encode(hashlib.sha1(body).digest()).decode()[:27]
    return f'W/"{len(body):x}-{digest}"'


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
        rest = _API_PATH.sub("", path, count=1)
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


class CatalogRequestHandler(BaseHTTPRequestHandler):
    server: CatalogHTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, so pooled clients reuse connections
    server_version = "catalog-devstack"
    timeout = 120  # idle keep-alive connections give their thread back eventually

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes; with Nagle on, the body waits for the
        # client's delayed ACK (~40 ms a response), which real servers do not make you pay.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def version_string(self) -> str:
        return self.server_version

    @property
    def app(self) -> CatalogApp:
        return self.server.app

    def log_message(self, format: str, *args: Any) -> None:
        if self.app.log_requests:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        try:
            self._route()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            # The client gave up (often on purpose: a timeout against a slow fault).
            self.close_connection = True
        except Exception:
            log.exception("unhandled error for %s %s", self.command, self.path)
            self._send(Response.message(500, "Internal Server Error"))

    def _route(self) -> None:
        body = self._read_body()
        split = urlsplit(self.path)
        path = split.path
        if path.startswith("/__control/"):
            self.app.count("control")
            self._send(self.app.control(self.command, path, body))
            return

        is_api = bool(_API_PATH.match(path))
        is_image = path.startswith("/product-images/")
        if not (is_api or is_image):
            self.app.count("not_found")
            self._send(Response.not_found_html(path))
            return
        decision = self.app.faults.decide("api" if is_api else "images", path)
        self.app.apply_fault_mutations(decision.mutations)
        fault = decision.fault
        if fault and fault.kind == "reset":
            self._reset_connection()
            return
        if fault and fault.kind == "slow":
            self.app.sleep(fault.seconds)

        route, response = self._answer(path, split.query, is_api)
        self.app.count(route)
        if fault and fault.kind == "error":
            assert decision.status is not None
            response = _error_response(decision.status)
        elif fault and fault.kind == "rate_limit":
            response = Response.message(429, RATE_LIMIT_MESSAGE)
            response.headers.update(
                {
                    "Retry-After": str(fault.retry_after),
                    "X-RateLimit-Limit": "100",
                    "X-RateLimit-Remaining": "0",
                }
            )
        self._send(response, truncate=fault if fault and fault.kind == "truncate" else None)

    def _answer(self, path: str, query: str, is_api: bool) -> tuple[str, Response]:
        if self.command not in ("GET", "HEAD"):
            # DummyJSON's simulated writes are not modelled: nothing here persists anyway.
            return "not_found", Response.not_found_html(path)
        if len(path) > 1 and path.endswith("/"):
            location = path[:-1] + (f"?{query}" if query else "")
            response = Response(301, f"Moved Permanently. Redirecting to {location}".encode())
            response.content_type = "text/plain; charset=utf-8"
            response.headers["Location"] = location
            return "redirect", response
        if not is_api:
            return "images", self.app.image(path)
        try:
            return self.app.api(path, parse_qs(query, keep_blank_values=True))
        except ApiError as error:
            return "bad_request", Response.message(error.status, error.message)

    def _reset_connection(self) -> None:
        # SO_LINGER with a zero timeout turns close() into an RST instead of a FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.server.mark_for_reset(self.connection)
        self.close_connection = True

    def _send(self, response: Response, truncate: FaultRule | None = None) -> None:
        body = response.body
        headers = dict(response.headers)
        if response.status == 200 and self.command in ("GET", "HEAD"):
            etag = _weak_etag(body)
            headers["ETag"] = etag
            if self.headers.get("If-None-Match") == etag and truncate is None:
                response = Response(304, b"", response.content_type, headers)
                body = b""
        if truncate is not None and truncate.mode == "honest":
            body = body[: int(len(body) * truncate.keep)]
        accepts_gzip = "gzip" in (self.headers.get("Accept-Encoding") or "")
        if accepts_gzip and len(body) >= GZIP_THRESHOLD and response.content_type == JSON_TYPE:
            body = gzip.compress(body, mtime=0)
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"

        self.send_response(response.status)
        if response.status != 304:  # a 304 has no body, so no body headers either
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        if truncate is not None and truncate.mode == "cut":
            self.send_header("Connection", "close")
            self.close_connection = True
            body = body[: int(len(body) * truncate.keep)]
        self.end_headers()
        self.app.count_status(response.status)
        if self.command != "HEAD":
            self.wfile.write(body)

    # BaseHTTPRequestHandler answers unknown methods with 501; Express would 404 them.
    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if code == HTTPStatus.NOT_IMPLEMENTED:
            self._send(Response.not_found_html(self.path))
            return
        super().send_error(code, message, explain)


def _error_response(status: int) -> Response:
    if status == 500:
        return Response.message(500, "Internal Server Error")
    # 502/503/504 come from the proxy in front, which speaks HTML.
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return Response(status, _PROXY_HTML.format(status=status, phrase=phrase).encode(), HTML_TYPE)


class CatalogHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Handler threads may be asleep in a slow fault or idle on keep-alive; stop() wakes
    # them instead of joining them.
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: CatalogApp, family: int) -> None:
        self.address_family = family
        self.app = app
        self._open: set[socket.socket] = set()
        self._reset: set[int] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, CatalogRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def mark_for_reset(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._reset.add(id(connection))

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._open.discard(request)
            reset = id(request) in self._reset
            self._reset.discard(id(request))
        if reset:
            # No shutdown(SHUT_WR) first: that would send a FIN before the RST.
            request.close()
        else:
            super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


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
