/**
 * Server-side client of the product_sync webhook service (product_sync/webhook, see
 * docs/webhook.md), used by the admin routes under /admin/product-sync. The HMAC secret
 * stays in the store's environment: the browser only ever talks to the admin routes.
 *
 * Environment:
 *   PRODUCT_SYNC_WEBHOOK_URL  base URL of the service, default http://127.0.0.1:8787
 *   WEBHOOK_SECRET            the service's HMAC key (needed to request a sync)
 */
import { createHmac } from "node:crypto"

export const DEFAULT_WEBHOOK_URL = "http://127.0.0.1:8787"
const REQUEST_TIMEOUT_MS = 10_000

/** An error the admin routes answer as `{ error, message }` with `status`. */
export class SyncServiceError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string
  ) {
    super(message)
  }

  toJSON() {
    return { error: this.code, message: this.message }
  }
}

export type QueuedSync = {
  run_id: string
  status: string
  dagster_url: string | null
  duplicate: boolean
}

export function webhookBaseUrl(): string {
  return (process.env.PRODUCT_SYNC_WEBHOOK_URL || DEFAULT_WEBHOOK_URL).replace(/\/+$/, "")
}

/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, the service's signature header. */
export function signDelivery(secret: string, timestamp: string, body: string): string {
  const digest = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")
  return `sha256=${digest}`
}

/** The last `limit` runs of the sync, as the service's `GET /sync/status` returns them. */
export async function fetchSyncStatus(limit: number): Promise<unknown> {
  const { status, payload } = await callService(`/sync/status?limit=${limit}`, { method: "GET" })
  if (status !== 200) {
    throw upstreamError(status, payload)
  }
  return payload
}

/** Queues a full sync through a signed `POST /webhooks/product-update` (empty object). */
export async function requestFullSync(): Promise<QueuedSync> {
  const secret = process.env.WEBHOOK_SECRET
  if (!secret) {
    throw new SyncServiceError(
      503,
      "sync_not_configured",
      "WEBHOOK_SECRET is not set in the store's environment, so the store cannot ask the " +
        "product sync service for a run"
    )
  }
  const body = "{}"
  const timestamp = String(Math.floor(Date.now() / 1000))
  const { status, payload } = await callService("/webhooks/product-update", {
    method: "POST",
    body,
    headers: {
      "Content-Type": "application/json",
      "X-Webhook-Timestamp": timestamp,
      "X-Webhook-Signature": signDelivery(secret, timestamp, body),
    },
  })
  if (status !== 202 || typeof payload.run_id !== "string") {
    throw upstreamError(status, payload)
  }
  return {
    run_id: payload.run_id,
    status: String(payload.status ?? "QUEUED"),
    dagster_url: typeof payload.dagster_url === "string" ? payload.dagster_url : null,
    duplicate: payload.duplicate === true,
  }
}

type ServiceAnswer = { status: number; payload: Record<string, unknown> }

async function callService(path: string, init: RequestInit): Promise<ServiceAnswer> {
  const base = webhookBaseUrl()
  let response: Response
  try {
    response = await fetch(`${base}${path}`, {
      ...init,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
  } catch (error) {
    // fetch() reports "fetch failed" and puts the reason (ECONNREFUSED, ...) in `cause`.
    const failure = error as { message?: string; cause?: { message?: string } }
    const reason = failure?.cause?.message || failure?.message
    throw new SyncServiceError(
      502,
      "sync_service_unreachable",
      `the product sync service at ${base} did not answer (${reason || "no response"}); ` +
        "is product-sync-webhook running?"
    )
  }
  let payload: unknown
  try {
    payload = await response.json()
  } catch {
    payload = null
  }
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    throw new SyncServiceError(
      502,
      "sync_service_bad_response",
      `the product sync service at ${base} answered HTTP ${response.status} without a JSON object`
    )
  }
  return { status: response.status, payload: payload as Record<string, unknown> }
}

function upstreamError(status: number, payload: Record<string, unknown>): SyncServiceError {
  const code = typeof payload.error === "string" ? payload.error : `http_${status}`
  const detail = typeof payload.message === "string" ? payload.message : "no details"
  return new SyncServiceError(
    502,
    "sync_service_error",
    `the product sync service answered HTTP ${status} (${code}): ${detail}`
  )
}
