"""``python -m devstack.catalog``: run the local DummyJSON-compatible catalog server."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from devstack.catalog.generator import DEFAULT_CATEGORIES, DEFAULT_COUNT, DEFAULT_SEED
from devstack.catalog.server import CatalogServer


def _faults(value: str) -> dict:
    """Inline JSON, or @path to a JSON file."""
    text = Path(value[1:]).read_text() if value.startswith("@") else value
    return json.loads(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.catalog", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default loopback)")
    parser.add_argument("--port", type=int, default=8700, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="number of products")
    parser.add_argument("--categories", type=int, default=DEFAULT_CATEGORIES)
    parser.add_argument(
        "--public-url", help="base URL written into image URLs (default: the bound address)"
    )
    parser.add_argument(
        "--faults", type=_faults, help="fault config JSON, e.g. '{\"rules\": [...]}', or @file"
    )
    parser.add_argument("--quiet", action="store_true", help="no per-request access log")
    args = parser.parse_args(argv)

    server = CatalogServer(
        seed=args.seed,
        count=args.count,
        categories=args.categories,
        host=args.host,
        port=args.port,
        faults=args.faults,
        public_url=args.public_url,
        log_requests=not args.quiet,
    )
    # Serve from a worker thread and park the main thread on an event: a signal handler
    # may then stop the server, which it could not do from inside serve_forever().
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    print(
        f"catalog server ready at {server.base_url} (seed={args.seed}, count={args.count})",
        flush=True,
    )
    try:
        stop.wait()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
