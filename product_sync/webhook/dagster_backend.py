"""The webhook's view of Dagster, behind a small interface (``SyncBackend``) so the HTTP
layer can be tested with a fake. ``GraphQLSyncBackend`` is the real one: plain GraphQL
POSTs to the webserver, so a run goes through the instance's run coordinator (the queue
that allows one sync at a time) exactly like a run launched from the UI."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from product_sync.names import (
    DELIVERY_TAG,
    SYNC_ASSET,
    SYNC_JOB,
    run_config_product_ids,
    targeted_run_config,
)

_MESSAGE_LIMIT = 300


class DagsterUnavailable(Exception):
    """Dagster cannot be reached, or ``sync_job`` is not loaded right now (503)."""


class DagsterRequestFailed(Exception):
    """Dagster answered but refused or failed the request (502)."""


@dataclass(frozen=True)
class LaunchedRun:
    run_id: str
    status: str


@dataclass(frozen=True)
class SyncRun:
    """One run of ``sync_job`` as the status endpoint reports it. Times are unix seconds."""

    run_id: str
    status: str
    created_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    product_ids: list[int] = field(default_factory=list)  # [] = full sync
    # The numeric metadata of the run's SYNC_ASSET materialization, if it has one.
    numbers: Mapping[str, int | float | bool] | None = None


class SyncBackend(Protocol):
    def launch_sync(self, product_ids: list[int], tags: Mapping[str, str]) -> LaunchedRun:
        """Submit a run of sync_job (targeted at ``product_ids``; [] = everything)."""
        ...

    def recent_runs(self, limit: int) -> list[SyncRun]:
        """The newest ``limit`` runs of sync_job, newest first."""
        ...

    def get_run(self, run_id: str) -> SyncRun | None:
        """One run of sync_job, or None if there is no such run."""
        ...

    def find_delivery(self, delivery_id: str) -> SyncRun | None:
        """The run of sync_job launched for this webhook delivery (its ``DELIVERY_TAG``),
        or None if none was."""
        ...

    def ping(self) -> str:
        """Dagster's version; raises DagsterUnavailable when it cannot be reached."""
        ...


_REPOSITORIES = """
query SyncJobLocations {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } jobs { name } } }
    ... on PythonError { message }
  }
}
"""

_LOCATION_ERRORS = """
query LocationErrors {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
}
"""

_LAUNCH = """
mutation LaunchSync($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}
"""

_RUNS = """
query SyncRuns($filter: RunsFilter!, $limit: Int) {
  runsOrError(filter: $filter, limit: $limit) {
    __typename
    ... on Runs {
      results {
        runId
        status
        creationTime
        startTime
        endTime
        tags { key value }
        runConfig
        assetMaterializations {
          assetKey { path }
          metadataEntries {
            __typename
            label
            ... on IntMetadataEntry { intValue intRepr }
            ... on FloatMetadataEntry { floatValue }
            ... on BoolMetadataEntry { boolValue }
          }
        }
      }
    }
    ... on Error { message }
  }
}
"""

_VERSION = "query Version { version }"


def _first_line(message: Any) -> str:
    text = str(message or "").strip().splitlines()
    line = text[0] if text else "no message"
    return line if len(line) <= _MESSAGE_LIMIT else line[: _MESSAGE_LIMIT - 1] + "…"


class GraphQLSyncBackend:
    """``SyncBackend`` over Dagster's GraphQL API at ``url`` (…/graphql).

    ``code_location`` picks the location when several have a ``sync_job``; by default
    the one location that has it is found on every launch (cheap, and survives reloads).
    """

    def __init__(
        self,
        url: str,
        *,
        code_location: str | None = None,
        timeout: tuple[float, float] = (3.05, 20.0),
        session: requests.Session | None = None,
    ) -> None:
        self.url = url
        self.code_location = code_location
        self.timeout = timeout
        self._session = session or requests.Session()

    # -- SyncBackend ---------------------------------------------------------------------

    def launch_sync(self, product_ids: list[int], tags: Mapping[str, str]) -> LaunchedRun:
        location, repository = self._job_selector()
        params = {
            "selector": {
                "repositoryLocationName": location,
                "repositoryName": repository,
                "jobName": SYNC_JOB,
            },
            "runConfigData": targeted_run_config(product_ids),
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
        }
        result = self._query(_LAUNCH, {"params": params}, "launchRun")
        kind = result.get("__typename")
        if kind == "LaunchRunSuccess":
            run = result["run"]
            return LaunchedRun(run_id=run["runId"], status=run["status"])
        if kind == "RunConfigValidationInvalid":
            errors = "; ".join(_first_line(e.get("message")) for e in result.get("errors", []))
            raise DagsterRequestFailed(f"Dagster rejected the run config: {_first_line(errors)}")
        if kind in ("PipelineNotFoundError", "RepositoryNotFoundError"):
            raise DagsterUnavailable(
                f"{SYNC_JOB} is not loaded in Dagster right now: "
                f"{_first_line(result.get('message'))}"
            )
        raise DagsterRequestFailed(
            f"Dagster did not launch the run ({kind}): {_first_line(result.get('message'))}"
        )

    def recent_runs(self, limit: int) -> list[SyncRun]:
        return self._runs({"pipelineName": SYNC_JOB}, limit)

    def get_run(self, run_id: str) -> SyncRun | None:
        runs = self._runs({"pipelineName": SYNC_JOB, "runIds": [run_id]}, 1)
        return runs[0] if runs else None

    def find_delivery(self, delivery_id: str) -> SyncRun | None:
        # Dagster's run storage is the record of accepted deliveries: it outlives this
        # process, and needs no database of our own.
        tag = {"key": DELIVERY_TAG, "value": delivery_id}
        runs = self._runs({"pipelineName": SYNC_JOB, "tags": [tag]}, 1)
        return runs[0] if runs else None

    def ping(self) -> str:
        return str(self._query(_VERSION, {}, "version"))

    # -- internals -----------------------------------------------------------------------

    def _query(self, query: str, variables: dict[str, Any], field: str) -> Any:
        """``data[field]`` of the answer, or the reason there is none."""
        try:
            response = self._session.post(
                self.url, json={"query": query, "variables": variables}, timeout=self.timeout
            )
        except requests.Timeout as exc:
            raise DagsterUnavailable(f"Dagster at {self.url} did not answer in time") from exc
        except requests.RequestException as exc:
            raise DagsterUnavailable(
                f"Dagster is not reachable at {self.url} ({type(exc).__name__})"
            ) from exc
        try:
            payload = response.json()
        except ValueError:
            payload = None
        # Dagster answers some errors (a PythonError from launchRun) with HTTP 500 and a
        # normal GraphQL body, so the body decides, not the status.
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
            errors = payload.get("errors") if isinstance(payload, dict) else None
            if errors:
                message = _first_line(errors[0].get("message"))
                raise DagsterRequestFailed(f"Dagster GraphQL error: {message}")
            if response.status_code in (502, 503, 504):
                raise DagsterUnavailable(
                    f"Dagster at {self.url} answered HTTP {response.status_code}"
                )
            raise DagsterRequestFailed(
                f"{self.url} answered HTTP {response.status_code} without a GraphQL result; "
                "is DAGSTER_GRAPHQL_URL right?"
            )
        value = payload["data"].get(field)
        if value is None:
            errors = payload.get("errors") or [{}]
            raise DagsterRequestFailed(
                f"Dagster GraphQL error: {_first_line(errors[0].get('message'))}"
            )
        return value

    def _job_selector(self) -> tuple[str, str]:
        result = self._query(_REPOSITORIES, {}, "repositoriesOrError")
        if result.get("__typename") != "RepositoryConnection":
            raise DagsterRequestFailed(
                f"Dagster could not list its code: {_first_line(result.get('message'))}"
            )
        found = [
            (repo["location"]["name"], repo["name"])
            for repo in result.get("nodes", [])
            if any(job.get("name") == SYNC_JOB for job in repo.get("jobs", []))
        ]
        if self.code_location:
            found = [f for f in found if f[0] == self.code_location]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(sorted(location for location, _ in found))
            raise DagsterRequestFailed(
                f"several code locations have {SYNC_JOB} ({names}); set DAGSTER_CODE_LOCATION"
            )
        where = f" in code location {self.code_location!r}" if self.code_location else ""
        raise DagsterUnavailable(
            f"{SYNC_JOB} is not loaded in Dagster{where} right now{self._location_problems()}"
        )

    def _location_problems(self) -> str:
        try:
            result = self._query(_LOCATION_ERRORS, {}, "workspaceOrError")
        except (DagsterUnavailable, DagsterRequestFailed):
            return ""
        problems = []
        for entry in result.get("locationEntries", []) or []:
            error = entry.get("locationOrLoadError") or {}
            if entry.get("loadStatus") == "LOADING":
                problems.append(f"{entry.get('name')} is still loading")
            elif error.get("__typename") == "PythonError":
                problems.append(f"{entry.get('name')}: {_first_line(error.get('message'))}")
        return f" ({'; '.join(problems)})" if problems else ""

    def _runs(self, run_filter: dict[str, Any], limit: int) -> list[SyncRun]:
        result = self._query(_RUNS, {"filter": run_filter, "limit": limit}, "runsOrError")
        if result.get("__typename") != "Runs":
            raise DagsterRequestFailed(
                f"Dagster could not list runs: {_first_line(result.get('message'))}"
            )
        return [parse_run(run) for run in result.get("results", [])]


def parse_run(run: Mapping[str, Any]) -> SyncRun:
    """A ``SyncRun`` from one GraphQL ``Run`` (as selected by the runs query)."""
    return SyncRun(
        run_id=run["runId"],
        status=run["status"],
        created_at=run.get("creationTime"),
        started_at=run.get("startTime"),
        ended_at=run.get("endTime"),
        tags={t["key"]: t["value"] for t in run.get("tags") or []},
        product_ids=run_config_product_ids(run.get("runConfig")),
        numbers=_report_numbers(run.get("assetMaterializations") or []),
    )


def _report_numbers(
    materializations: list[Mapping[str, Any]],
) -> dict[str, int | float | bool] | None:
    reports = [m for m in materializations if (m.get("assetKey") or {}).get("path") == [SYNC_ASSET]]
    if not reports:
        return None
    numbers: dict[str, int | float | bool] = {}
    for entry in reports[-1].get("metadataEntries") or []:
        kind, label = entry.get("__typename"), entry.get("label")
        if kind == "IntMetadataEntry":
            # intValue is null beyond 32 bits; intRepr always holds the number.
            value = entry.get("intValue")
            numbers[label] = value if value is not None else int(entry["intRepr"])
        elif kind == "FloatMetadataEntry" and entry.get("floatValue") is not None:
            numbers[label] = entry["floatValue"]
        elif kind == "BoolMetadataEntry" and entry.get("boolValue") is not None:
            numbers[label] = entry["boolValue"]
    return numbers
