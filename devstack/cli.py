"""``scripts/devstack up|down|reset|env|status|logs`` (``python -m devstack.stack``)."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from devstack.errors import DevstackError


def main(argv: list[str] | None = None) -> int:
    from devstack.stack import Stack

    parser = argparse.ArgumentParser(
        prog="scripts/devstack", description="Local Medusa v2 + PostgreSQL dev stack"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start or reuse the stack; prints export lines")
    down = sub.add_parser("down", help="stop the processes the stack started")
    down.add_argument("--purge", action="store_true", help="also delete .devstack/ (all data)")
    reset = sub.add_parser("reset", help="empty the store, keep the credentials; prints exports")
    reset.add_argument(
        "--restart",
        action="store_true",
        help="re-clone the store DB and restart Medusa (default: restore in place)",
    )
    sub.add_parser("env", help="print the export lines of the running stack")
    sub.add_parser("status", help="JSON status (pids, ports, health)")
    sub.add_parser("logs", help="print the log file paths")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="devstack: %(message)s", force=True
    )
    stack = Stack()
    try:
        if args.command == "up":
            sys.stdout.write(stack.up().exports())
        elif args.command == "reset":
            sys.stdout.write(stack.reset(restart=args.restart).exports())
        elif args.command == "down":
            stack.down(purge=args.purge)
        elif args.command == "env":
            sys.stdout.write(stack.info().exports())
        elif args.command == "status":
            status = stack.status()
            print(json.dumps(status, indent=2))
            return 0 if status["running"] else 3
        elif args.command == "logs":
            for name, path in stack.log_files().items():
                print(f"{name}\t{path}")
    except DevstackError as exc:
        print(f"devstack: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
