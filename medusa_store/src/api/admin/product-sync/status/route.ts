/**
 * GET /admin/product-sync/status?limit=N (admin session or token required, like every
 * /admin route): the last N runs of the product sync (default 5, at most 50), proxied
 * from the webhook service's GET /sync/status.
 */
import type { MedusaRequest, MedusaResponse } from "@medusajs/framework/http"

import { fetchSyncStatus, SyncServiceError } from "../../../../lib/product-sync"

const DEFAULT_LIMIT = 5
const MAX_LIMIT = 50

export async function GET(req: MedusaRequest, res: MedusaResponse) {
  const raw = req.query.limit
  const limit = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : DEFAULT_LIMIT
  try {
    res.json(await fetchSyncStatus(Math.min(Math.max(limit, 1), MAX_LIMIT)))
  } catch (error) {
    if (error instanceof SyncServiceError) {
      res.status(error.status).json(error.toJSON())
      return
    }
    throw error
  }
}
