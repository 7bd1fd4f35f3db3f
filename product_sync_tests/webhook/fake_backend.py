"""A ``SyncBackend`` for the HTTP layer's unit tests."""

from product_sync import names
from product_sync.webhook.dagster_backend import LaunchedRun, SyncRun


class FakeBackend:
    """Dagster as the webhook sees it: launched runs are stored with their tags and run
    config's ids, and found again by tag. ``fail`` makes every call raise it."""

    def __init__(self, runs: list[SyncRun] | None = None) -> None:
        self.launches: list[tuple[list[int], dict[str, str]]] = []
        self.runs = list(runs or [])
        self.fail: Exception | None = None
        self.limits: list[int] = []

    def launch_sync(self, product_ids, tags):
        if self.fail:
            raise self.fail
        self.launches.append((list(product_ids), dict(tags)))
        run_id = f"00000000-0000-4000-8000-{len(self.launches):012d}"
        self.runs.insert(
            0, SyncRun(run_id, "QUEUED", tags=dict(tags), product_ids=list(product_ids))
        )
        return LaunchedRun(run_id=run_id, status="QUEUED")

    def recent_runs(self, limit):
        if self.fail:
            raise self.fail
        self.limits.append(limit)
        return self.runs[:limit]

    def get_run(self, run_id):
        if self.fail:
            raise self.fail
        return next((r for r in self.runs if r.run_id == run_id), None)

    def find_delivery(self, delivery_id):
        if self.fail:
            raise self.fail
        return next((r for r in self.runs if r.tags.get(names.DELIVERY_TAG) == delivery_id), None)

    def ping(self):
        if self.fail:
            raise self.fail
        return "1.13.27"
