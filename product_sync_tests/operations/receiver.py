"""A chat webhook on loopback for the alert tests: records every POST (path, headers, JSON
body) and answers with the statuses it is told to, then 200."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    content_type: str
    body: Any


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def texts(self) -> list[str]:
        with self.lock:
            return [r.body.get("text", "") for r in self.received if isinstance(r.body, dict)]

    def wait_for(self, predicate, timeout_s: float) -> list[str]:
        """The texts once one matches `predicate` (bounded wait for another process)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(predicate(text) for text in self.texts()):
                return self.texts()
            time.sleep(0.5)
        raise AssertionError(f"no matching alert within {timeout_s:.0f} s; got {self.texts()}")


@contextmanager
def alert_receiver(path: str = "/services/T000/B000/not-a-real-token") -> Iterator[Receiver]:
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            with receiver.lock:
                receiver.received.append(
                    Received(self.path, self.headers.get("Content-Type", ""), body)
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"invalid_payload")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
