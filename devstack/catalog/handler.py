"""The catalog server's HTTP layer: one request handler (faults applied on the wire:
resets, slow answers, truncation, gzip, ETags) and a threading server that can reset or
wake its connections."""

from __future__ import annotations

import contextlib
import gzip
import logging
import socket
import struct
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from devstack.catalog.app import API_PATH, CatalogApp
from devstack.catalog.faults import FaultRule
from devstack.catalog.jsquery import ApiError
from devstack.catalog.responses import (
    JSON_TYPE,
    RATE_LIMIT_MESSAGE,
    Response,
    error_response,
    weak_etag,
)

log = logging.getLogger(__name__)

# Express's compression middleware leaves bodies under 1 kB alone.
GZIP_THRESHOLD = 1024


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

        is_api = bool(API_PATH.match(path))
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
            response = error_response(decision.status)
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
            etag = weak_etag(body)
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
