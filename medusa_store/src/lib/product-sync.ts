/**
 * Server-side client of the product_sync webhook service (product_sync/webhook, see
 * docs/webhook.md), used by the admin routes under /admin/product-sync. The secret stays in
 * the store's environment: the browser only ever talks to the admin routes.
 *
 * Deliveries are signed the Standard Webhooks way (https://www.standardwebhooks.com/), with
 * node's own crypto: the scheme is one HMAC, not worth a dependency.
 *
 * Environment:
 *   PRODUCT_SYNC_WEBHOOK_URL  base URL of the service, default http://127.0.0.1:8787
 *   WEBHOOK_SECRET            the service's secret, whsec_<base64> (needed to request a sync)
 */
import { createHmac, randomUUID } from "node:crypto"

export const DEFAULT_WEBHOOK_URL = "http://127.0.0.1:8787"
const REQUEST_TIMEOUT_MS = 10_000
const SECRET_PREFIX = "whsec_"
// The service refuses shorter keys (the standard's advice: 24 to 64 random bytes).
const MIN_KEY_BYTES = 24
const BASE64 = /^[A-Za-z0-9+/]*$/

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

/** The HMAC key of a `whsec_<base64>` secret; a 503 that says what is wrong otherwise
 * (never quoting the secret). */
export function secretKey(secret: string): Buffer {
  const problem = (what: string) =>
    new SyncServiceError(
      503,
      "sync_not_configured",
      `WEBHOOK_SECRET in the store's environment ${what}; it must be the product sync ` +
        "service's secret, whsec_<base64>"
    )
  if (!secret.startsWith(SECRET_PREFIX)) {
    throw problem(`does not start with ${SECRET_PREFIX}`)
  }
  // Padding is optional, as for the service.
  const encoded = secret.slice(SECRET_PREFIX.length).replace(/=+$/, "")
  if (!BASE64.test(encoded) || encoded.length % 4 === 1) {
    throw problem(`is not valid base64 after ${SECRET_PREFIX}`)
  }
  const key = Buffer.from(encoded, "base64")
  if (key.length < MIN_KEY_BYTES) {
    throw problem(`is too short (a ${key.length}-byte key, at least ${MIN_KEY_BYTES} needed)`)
  }
  return key
}

/** The three Standard Webhooks headers of `body`, delivered as `id` at `timestamp` (unix
 * seconds): `webhook-signature` is `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. */
export function signDelivery(
  key: Buffer,
  id: string,
  timestamp: number,
  body: string
): Record<string, string> {
  const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": `v1,${signature}`,
  }
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
  const key = secretKey(secret)
  const body = "{}"
  // Every click is a new request for a sync, so a new delivery id.
  const id = `medusa-admin-${randomUUID()}`
  const { status, payload } = await callService("/webhooks/product-update", {
    method: "POST",
    body,
    headers: {
      "Content-Type": "application/json",
      ...signDelivery(key, id, Math.floor(Date.now() / 1000), body),
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
