"""The HTTP layer: a thin Starlette app over the pure pieces (``signing``, ``payload``)
and a ``SyncBackend`` (Dagster's GraphQL API in production, a fake in tests).

Routes:

- ``POST /webhooks/product-update``: ``{"product_ids": [...]}`` signed the Standard Webhooks
  way -> 202 with the launched (queued) run of ``sync_job``, or with the run already launched
  for that ``webhook-id``
- ``GET /sync/status?limit=N``: the last N runs of ``sync_job`` with their numbers
- ``GET /sync/runs/{run_id}``: one of them (the ``status_url`` of a 202)
- ``GET /healthz`` (``?dagster=1`` also checks that Dagster answers)

Every error is ``{"error": "<code>", "message": "<text>"}`` with a matching status.
"""

import argparse
import asyncio
import logging
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from product_sync.names import DELIVERY_TAG, PRODUCT_IDS_TAG, SYNC_JOB, SYNC_QUEUE_TAG
from product_sync.webhook.dagster_backend import (
    DagsterRequestFailed,
    DagsterUnavailable,
    GraphQLSyncBackend,
    LaunchedRun,
    SyncBackend,
    SyncRun,
)
from product_sync.webhook.errors import WebhookError
from product_sync.webhook.payload import parse_product_ids
from product_sync.webhook.settings import Settings, SettingsError, load_settings
from product_sync.webhook.signing import check_headers, verify_signature

log = logging.getLogger("product_sync.webhook")

# Only this service writes and reads it (the status's "trigger" field).
TRIGGER_TAG = "product_sync/trigger"
DEFAULT_STATUS_LIMIT = 10
MAX_STATUS_LIMIT = 50
_TAG_VALUE_LIMIT = 200
_RETRY_AFTER_S = "10"

T = TypeVar("T")


class SingleFlight:
    """Identical deliveries in flight at the same time share one lookup-and-launch: Dagster
    remembers a delivery only once its run exists, so without this two copies arriving
    together could both find nothing and both launch. Nothing is kept once a call is done."""

    def __init__(self) -> None:
        self._pending: dict[str, asyncio.Future[Any]] = {}

    async def once(self, key: str, work: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """``(work()'s answer, shared)``; ``shared`` when another caller's call was joined."""
        if key in self._pending:
            return await asyncio.shield(self._pending[key]), True
        task = asyncio.ensure_future(work())
        self._pending[key] = task

        def forget(finished: asyncio.Future[Any]) -> None:
            # Also runs when the caller went away mid-launch: the launch itself completes.
            self._pending.pop(key, None)
            if not finished.cancelled():
                finished.exception()  # retrieved, so an abandoned failure is not logged

        task.add_done_callback(forget)
        return await asyncio.shield(task), False


def error_response(error: WebhookError, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error.as_json(), status_code=error.status, headers=headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes whether or not the sender declared
    its length (Content-Length is checked first, the stream is counted as it arrives)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise WebhookError(400, "invalid_content_length", "Content-Length is not a number")
        if int(declared) > limit:
            raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> WebhookError:
    return WebhookError(
        413, "payload_too_large", f"the body is larger than {limit} bytes; send fewer ids"
    )


def iso_time(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def trigger_of(tags: Mapping[str, str]) -> str:
    """Who started a run: our trigger tag, else what Dagster's own tags say."""
    if tags.get(TRIGGER_TAG):
        return tags[TRIGGER_TAG]
    for tag, trigger in (
        ("dagster/schedule_name", "schedule"),
        ("dagster/sensor_name", "sensor"),
        ("dagster/backfill", "backfill"),
        ("dagster/from_automation_condition", "automation"),
    ):
        if tag in tags:
            return trigger
    return "manual"


def run_json(run: SyncRun, settings: Settings) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "status": run.status,
        "trigger": trigger_of(run.tags),
        "product_ids": list(run.product_ids),
        "full_sync": not run.product_ids,
        "created_at": iso_time(run.created_at),
        "started_at": iso_time(run.started_at),
        "ended_at": iso_time(run.ended_at),
        "failure_reason": run.tags.get("dagster/failure_reason"),
        "delivery_id": run.tags.get(DELIVERY_TAG),
        "synced_products": dict(run.numbers) if run.numbers is not None else None,
        "dagster_url": settings.run_url(run.run_id),
    }


def sync_tags(product_ids: Sequence[int], delivery_id: str) -> dict[str, str]:
    # The queue tag is the job's own too; set here as well so a webhook run is never
    # launched outside the one-at-a-time queue.
    tags = {**SYNC_QUEUE_TAG, TRIGGER_TAG: "webhook", DELIVERY_TAG: delivery_id}
    if product_ids:
        value = ",".join(map(str, product_ids))
        if len(value) > _TAG_VALUE_LIMIT:
            shown = value[: _TAG_VALUE_LIMIT - 30].rsplit(",", 1)[0]
            value = f"{shown},… ({len(product_ids)} ids)"
        tags[PRODUCT_IDS_TAG] = value
    return tags


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def create_app(settings: Settings, backend: SyncBackend | None = None) -> Starlette:
    """The ASGI app. ``backend`` defaults to Dagster's GraphQL API at
    ``settings.graphql_url``."""
    sync: SyncBackend = backend or GraphQLSyncBackend(
        settings.graphql_url, code_location=settings.code_location
    )
    keys = settings.keys
    in_flight = SingleFlight()

    async def call(function: Callable[..., T], *args: Any) -> T:
        try:
            return await run_in_threadpool(function, *args)
        except DagsterUnavailable as exc:
            raise WebhookError(503, "dagster_unavailable", str(exc)) from exc
        except DagsterRequestFailed as exc:
            raise WebhookError(502, "dagster_error", str(exc)) from exc

    def base_url(request: Request) -> str:
        return settings.public_url or str(request.base_url).rstrip("/")

    async def accept(
        delivery_id: str, product_ids: list[int]
    ) -> tuple[LaunchedRun | SyncRun, bool, list[int]]:
        """``(run, repeated, its product ids)``: the run already launched for this delivery,
        else a new one."""
        existing = await call(sync.find_delivery, delivery_id)
        if existing is None:
            tags = sync_tags(product_ids, delivery_id)
            return await call(sync.launch_sync, product_ids, tags), False, product_ids
        return existing, True, existing.product_ids

    async def product_update(request: Request) -> JSONResponse:
        # Cheap header checks first, so unsigned or stale requests are not even read.
        signed = check_headers(request.headers, time.time())
        raw = await read_body(request, settings.max_body_bytes)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WebhookError(400, "invalid_json", "the body is not UTF-8 encoded") from exc
        verify_signature(keys, body, signed)
        product_ids = parse_product_ids(raw)
        (run, repeated, run_ids), shared = await in_flight.once(
            signed.delivery_id, lambda: accept(signed.delivery_id, product_ids)
        )
        if run_ids != product_ids:
            # A sender that reuses ids would otherwise lose this change without a word.
            raise WebhookError(
                409,
                "delivery_id_reused",
                f"webhook-id {signed.delivery_id!r} was already delivered with other product "
                f"ids (run {run.run_id}); give every new delivery a new id",
            )
        repeated = repeated or shared
        scope = f"{len(product_ids)} product id(s)" if product_ids else "full sync"
        if repeated:
            log.info(
                "repeated delivery %s from %s: run %s (%s)",
                signed.delivery_id,
                _client(request),
                run.run_id,
                scope,
            )
        else:
            log.info(
                "launched run %s (%s) for delivery %s from %s",
                run.run_id,
                scope,
                signed.delivery_id,
                _client(request),
            )
        answer = {
            "run_id": run.run_id,
            "status": run.status,
            "product_ids": product_ids,
            "full_sync": not product_ids,
            "delivery_id": signed.delivery_id,
            "status_url": f"{base_url(request)}/sync/runs/{run.run_id}",
            "dagster_url": settings.run_url(run.run_id),
            "duplicate": repeated,
        }
        return JSONResponse(answer, status_code=202)

    async def status(request: Request) -> JSONResponse:
        text = request.query_params.get("limit", "").strip() or str(DEFAULT_STATUS_LIMIT)
        if not text.isdigit() or int(text) < 1:
            raise WebhookError(
                400, "invalid_limit", f"limit must be a whole number from 1 to {MAX_STATUS_LIMIT}"
            )
        limit = min(int(text), MAX_STATUS_LIMIT)
        runs = await call(sync.recent_runs, limit)
        return JSONResponse(
            {"job": SYNC_JOB, "limit": limit, "runs": [run_json(r, settings) for r in runs]}
        )

    async def run_status(request: Request) -> JSONResponse:
        run_id = request.path_params["run_id"]
        try:
            uuid.UUID(run_id)
        except ValueError:
            run = None
        else:
            run = await call(sync.get_run, run_id)
        if run is None:
            raise WebhookError(404, "run_not_found", f"no run of {SYNC_JOB} has id {run_id!r}")
        return JSONResponse(run_json(run, settings))

    async def healthz(request: Request) -> JSONResponse:
        if request.query_params.get("dagster") not in ("1", "true", "yes"):
            return JSONResponse({"status": "ok"})
        version = await call(sync.ping)
        return JSONResponse({"status": "ok", "dagster": {"reachable": True, "version": version}})

    async def on_webhook_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, WebhookError)
        level = logging.ERROR if exc.status >= 500 else logging.WARNING
        log.log(
            level,
            "%s %s -> %d %s: %s (client %s)",
            request.method,
            request.url.path,
            exc.status,
            exc.code,
            exc.message,
            _client(request),
        )
        headers = {"Retry-After": _RETRY_AFTER_S} if exc.status == 503 else None
        return error_response(exc, headers)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        codes = {404: "not_found", 405: "method_not_allowed"}
        error = WebhookError(
            exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail)
        )
        return error_response(error, exc.headers)

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return error_response(
            WebhookError(500, "internal_error", "the webhook service failed; see its log")
        )

    return Starlette(
        routes=[
            Route("/webhooks/product-update", product_update, methods=["POST"]),
            Route("/sync/status", status, methods=["GET"]),
            Route("/sync/runs/{run_id}", run_status, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        exception_handlers={
            WebhookError: on_webhook_error,
            HTTPException: on_http_error,
            Exception: on_crash,
        },
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``product-sync-webhook``: check the settings, then serve with uvicorn."""
    parser = argparse.ArgumentParser(
        prog="product-sync-webhook",
        description=(
            "Serve POST /webhooks/product-update (Standard Webhooks signature; launches "
            f"{SYNC_JOB} through Dagster's GraphQL API) and GET /sync/status. Configured by "
            "environment variables: WEBHOOK_SECRET (required, whsec_<base64>), "
            "WEBHOOK_SECRET_PREVIOUS, "
            "WEBHOOK_HOST, WEBHOOK_PORT, DAGSTER_GRAPHQL_URL, DAGSTER_UI_URL, "
            "DAGSTER_CODE_LOCATION, WEBHOOK_PUBLIC_URL. See docs/webhook.md."
        ),
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"product-sync-webhook: error: {exc}", file=sys.stderr)
        return 2

    import uvicorn

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not settings.is_loopback:
        log.warning(
            "listening on %s, reachable from other machines: put TLS in front, and note that "
            "GET /sync/status is not authenticated",
            settings.host,
        )
    log.info(
        "webhook on http://%s:%d -> Dagster %s (UI %s)",
        settings.host,
        settings.port,
        settings.graphql_url,
        settings.ui_url,
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=args.log_level,
        server_header=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
