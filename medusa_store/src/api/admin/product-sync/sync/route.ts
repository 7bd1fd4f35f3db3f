/**
 * POST /admin/product-sync/sync (admin session or token required): queues a full product
 * sync through the webhook service's signed POST /webhooks/product-update. The store signs
 * the call with WEBHOOK_SECRET, so the secret never reaches the browser.
 *
 * 202 {run_id, status, dagster_url, duplicate}; 503 sync_not_configured without a secret;
 * 502 when the service is down or refuses the call.
 */
import type { MedusaRequest, MedusaResponse } from "@medusajs/framework/http"

import { requestFullSync, SyncServiceError } from "../../../../lib/product-sync"

export async function POST(req: MedusaRequest, res: MedusaResponse) {
  try {
    res.status(202).json(await requestFullSync())
  } catch (error) {
    if (error instanceof SyncServiceError) {
      req.scope.resolve("logger").warn(`product sync request failed: ${error.message}`)
      res.status(error.status).json(error.toJSON())
      return
    }
    throw error
  }
}
