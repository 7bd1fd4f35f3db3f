/**
 * "Product sync" card on the product list: the last sync's time, status and numbers, a
 * link to its logs in the Dagster UI, and a "Sync now" button. Data comes from the store's
 * own admin routes (src/api/admin/product-sync), which call the webhook service
 * server-side, so this page never sees the webhook secret.
 *
 * Note: Medusa 2.21's product list renders "before" widgets below the table.
 */
import { defineWidgetConfig } from "@medusajs/admin-sdk"
import { Button, Container, Heading, StatusBadge, Text } from "@medusajs/ui"
import { useCallback, useEffect, useState } from "react"

const STATUS_URL = "/admin/product-sync/status?limit=5"
const SYNC_URL = "/admin/product-sync/sync"
const POLL_MS = 2000
const FINISHED = new Set(["SUCCESS", "FAILURE", "CANCELED"])

type Numbers = Record<string, number | boolean | undefined>

type SyncRun = {
  run_id: string
  status: string
  trigger: string
  full_sync: boolean
  created_at: string | null
  started_at: string | null
  ended_at: string | null
  failure_reason: string | null
  synced_products: Numbers | null
  dagster_url: string | null
}

type StatusAnswer = { runs: SyncRun[] }

type BadgeColor = "green" | "red" | "orange" | "grey" | "blue"

const STATUS_LABELS: Record<string, [string, BadgeColor]> = {
  SUCCESS: ["Succeeded", "green"],
  FAILURE: ["Failed", "red"],
  CANCELED: ["Canceled", "grey"],
  CANCELING: ["Canceling", "grey"],
  QUEUED: ["Queued", "blue"],
  NOT_STARTED: ["Queued", "blue"],
  STARTING: ["Starting", "orange"],
  STARTED: ["Running", "orange"],
}

async function readJson<T>(response: Response): Promise<T> {
  const body = await response.json().catch(() => null)
  if (!response.ok) {
    throw new Error(body?.message || `HTTP ${response.status}`)
  }
  return body as T
}

function count(numbers: Numbers | null, key: string): number {
  const value = numbers?.[key]
  return typeof value === "number" ? value : 0
}

function formatTime(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : "—"
}

function formatDuration(run: SyncRun): string {
  if (run.started_at && run.ended_at) {
    const seconds = Math.round((Date.parse(run.ended_at) - Date.parse(run.started_at)) / 1000)
    return seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`
  }
  return "—"
}

const RunStatus = ({ status, testId }: { status: string; testId: string }) => {
  const [label, color] = STATUS_LABELS[status] ?? [status, "grey"]
  return (
    <StatusBadge color={color} data-testid={testId}>
      {label}
    </StatusBadge>
  )
}

const Figure = ({ label, value, id }: { label: string; value: string; id: string }) => (
  <div className="flex flex-col gap-y-1">
    <Text size="xsmall" className="text-ui-fg-subtle">
      {label}
    </Text>
    <Text size="large" weight="plus" data-testid={`product-sync-${id}`}>
      {value}
    </Text>
  </div>
)

const LastSync = ({ run }: { run: SyncRun }) => {
  const numbers = run.synced_products
  const synced = count(numbers, "created") + count(numbers, "updated") + count(numbers, "unchanged")
  return (
    <div className="flex flex-col gap-y-4">
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <Text size="small" weight="plus">
          Last sync
        </Text>
        <Text size="small" data-testid="product-sync-time">
          {formatTime(run.ended_at ?? run.started_at ?? run.created_at)}
        </Text>
        <RunStatus status={run.status} testId="product-sync-status" />
        <Text size="small" className="text-ui-fg-subtle">
          {run.full_sync ? "full sync" : "selected products"} · {run.trigger}
        </Text>
      </div>
      {numbers ? (
        <div className="grid grid-cols-2 gap-4 sm:grid-cols-5">
          <Figure label="Products synced" value={String(synced)} id="synced" />
          <Figure label="Created" value={String(count(numbers, "created"))} id="created" />
          <Figure label="Updated" value={String(count(numbers, "updated"))} id="updated" />
          <Figure label="Errors" value={String(count(numbers, "errors"))} id="errors" />
          <Figure label="Duration" value={formatDuration(run)} id="duration" />
        </div>
      ) : (
        <Text size="small" className="text-ui-fg-subtle">
          This run recorded no numbers{run.failure_reason ? ` (${run.failure_reason})` : ""}.
        </Text>
      )}
      {run.dagster_url && (
        <a
          href={run.dagster_url}
          target="_blank"
          rel="noreferrer"
          className="txt-compact-small text-ui-fg-interactive hover:text-ui-fg-interactive-hover"
          data-testid="product-sync-logs"
        >
          View this run's logs in Dagster
        </a>
      )}
    </div>
  )
}

const ProductSyncStatusWidget = () => {
  const [runs, setRuns] = useState<SyncRun[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [queuedRunId, setQueuedRunId] = useState<string | null>(null)
  const [requesting, setRequesting] = useState(false)

  const refresh = useCallback(async () => {
    try {
      const answer = await readJson<StatusAnswer>(
        await fetch(STATUS_URL, { credentials: "include" })
      )
      setRuns(answer.runs)
      setError(null)
    } catch (e) {
      setError(`Sync status unavailable: ${(e as Error).message}`)
    }
  }, [])

  useEffect(() => {
    refresh()
  }, [refresh])

  const active = runs?.find((run) => !FINISHED.has(run.status))
  const lastFinished = runs?.find((run) => FINISHED.has(run.status))
  const queuedRun = runs?.find((run) => run.run_id === queuedRunId)
  // "Sync queued" stays until that run has finished (then it is the last sync below).
  const showQueued = Boolean(queuedRunId) && !(queuedRun && FINISHED.has(queuedRun.status))
  const waiting = Boolean(active) || showQueued

  // Poll while a run is queued or running, so the card shows its numbers when it ends.
  useEffect(() => {
    if (!waiting) {
      return
    }
    const timer = window.setInterval(refresh, POLL_MS)
    return () => window.clearInterval(timer)
  }, [waiting, refresh])

  const syncNow = async () => {
    setRequesting(true)
    try {
      const queued = await readJson<{ run_id: string }>(
        await fetch(SYNC_URL, { method: "POST", credentials: "include" })
      )
      setQueuedRunId(queued.run_id)
      setError(null)
      await refresh()
    } catch (e) {
      setError(`Sync not started: ${(e as Error).message}`)
    } finally {
      setRequesting(false)
    }
  }

  return (
    <Container className="divide-y p-0" data-testid="product-sync-widget">
      <div className="flex items-center justify-between px-6 py-4">
        <div>
          <Heading level="h2">Product sync</Heading>
          <Text size="small" className="text-ui-fg-subtle">
            DummyJSON catalog → this store, run by Dagster
          </Text>
        </div>
        <Button variant="secondary" size="small" isLoading={requesting} onClick={syncNow}>
          Sync now
        </Button>
      </div>
      <div className="flex flex-col gap-y-4 px-6 py-4">
        {error && (
          <Text size="small" className="text-ui-fg-error" data-testid="product-sync-error">
            {error}
          </Text>
        )}
        {showQueued ? (
          <div className="flex items-center gap-x-2">
            <Text size="small" data-testid="product-sync-queued">
              Sync queued: {queuedRunId}
            </Text>
            {queuedRun && (
              <RunStatus status={queuedRun.status} testId="product-sync-active-status" />
            )}
          </div>
        ) : (
          active && (
            <div className="flex items-center gap-x-2">
              <Text size="small">A sync is in progress</Text>
              <RunStatus status={active.status} testId="product-sync-active-status" />
            </div>
          )
        )}
        {lastFinished ? (
          <LastSync run={lastFinished} />
        ) : (
          runs && (
            <Text size="small" className="text-ui-fg-subtle">
              No sync has finished yet.
            </Text>
          )
        )}
      </div>
    </Container>
  )
}

export const config = defineWidgetConfig({
  zone: "product.list.before",
})

export default ProductSyncStatusWidget
