"""Unit tests of the GraphQL backend against mocked Dagster answers: what it sends (the
job, run config and tag names from ``product_sync.names``) and how it reads the answers."""

import json

import pytest
import requests
import responses

from product_sync import names
from product_sync.webhook.dagster_backend import (
    DagsterRequestFailed,
    DagsterUnavailable,
    GraphQLSyncBackend,
    LaunchedRun,
    SyncRun,
)

RUN_ID = "b8d61a4c-31f7-4de3-b834-164a3778ab29"
GRAPHQL = "http://dagster.test/graphql"


def graphql_body(call) -> dict:
    return json.loads(call.request.body)


REPOSITORIES = {
    "data": {
        "repositoriesOrError": {
            "__typename": "RepositoryConnection",
            "nodes": [
                {
                    "name": "__repository__",
                    "location": {"name": "product_sync.definitions"},
                    "jobs": [{"name": "__ASSET_JOB"}, {"name": names.SYNC_JOB}],
                },
                {"name": "other", "location": {"name": "other"}, "jobs": [{"name": "x"}]},
            ],
        }
    }
}


@responses.activate
def test_graphql_launch():
    responses.post(GRAPHQL, json=REPOSITORIES)
    responses.post(
        GRAPHQL,
        json={
            "data": {
                "launchRun": {
                    "__typename": "LaunchRunSuccess",
                    "run": {"runId": RUN_ID, "status": "QUEUED"},
                }
            }
        },
    )
    run = GraphQLSyncBackend(GRAPHQL).launch_sync([1, 2], {"product_sync/trigger": "webhook"})
    assert run == LaunchedRun(RUN_ID, "QUEUED")
    params = graphql_body(responses.calls[1])["variables"]["params"]
    assert params == {
        "selector": {
            "repositoryLocationName": "product_sync.definitions",
            "repositoryName": "__repository__",
            "jobName": names.SYNC_JOB,
        },
        "runConfigData": names.targeted_run_config([1, 2]),
        "executionMetadata": {"tags": [{"key": "product_sync/trigger", "value": "webhook"}]},
    }


@responses.activate
def test_graphql_launch_python_error_on_http_500_is_request_failed():
    responses.post(GRAPHQL, json=REPOSITORIES)
    message = "dagster._core.errors.DagsterInvalidConfigError: Error in config\n  Stack..."
    responses.post(
        GRAPHQL,
        status=500,
        json={"data": {"launchRun": {"__typename": "PythonError", "message": message}}},
    )
    with pytest.raises(DagsterRequestFailed, match="DagsterInvalidConfigError") as error:
        GraphQLSyncBackend(GRAPHQL).launch_sync([], {})
    assert "Stack" not in str(error.value)


@responses.activate
def test_graphql_job_not_loaded_is_unavailable():
    empty = {"data": {"repositoriesOrError": {"__typename": "RepositoryConnection", "nodes": []}}}
    responses.post(GRAPHQL, json=empty)
    workspace = {
        "data": {
            "workspaceOrError": {
                "__typename": "Workspace",
                "locationEntries": [
                    {
                        "name": "product_sync.definitions",
                        "loadStatus": "LOADED",
                        "locationOrLoadError": {
                            "__typename": "PythonError",
                            "message": "ImportError: no module\ntrace",
                        },
                    }
                ],
            }
        }
    }
    responses.post(GRAPHQL, json=workspace)
    with pytest.raises(DagsterUnavailable, match=r"product_sync\.definitions: ImportError"):
        GraphQLSyncBackend(GRAPHQL).launch_sync([], {})


@responses.activate
def test_graphql_code_location_setting_picks_the_location():
    responses.post(GRAPHQL, json=REPOSITORIES)
    responses.post(GRAPHQL, json={"data": {"workspaceOrError": {"__typename": "PythonError"}}})
    with pytest.raises(DagsterUnavailable, match="in code location 'elsewhere'"):
        GraphQLSyncBackend(GRAPHQL, code_location="elsewhere").launch_sync([], {})


@responses.activate
def test_graphql_gateway_errors_are_unavailable_other_answers_are_failures():
    responses.post(GRAPHQL, status=502, body="Bad Gateway")
    with pytest.raises(DagsterUnavailable, match="HTTP 502"):
        GraphQLSyncBackend(GRAPHQL).recent_runs(1)
    responses.replace(responses.POST, GRAPHQL, status=404, body="<html>not here</html>")
    with pytest.raises(DagsterRequestFailed, match="DAGSTER_GRAPHQL_URL"):
        GraphQLSyncBackend(GRAPHQL).recent_runs(1)
    responses.replace(responses.POST, GRAPHQL, json={"errors": [{"message": "Cannot query x"}]})
    with pytest.raises(DagsterRequestFailed, match="Cannot query x"):
        GraphQLSyncBackend(GRAPHQL).recent_runs(1)
    partial = {"data": {"runsOrError": None}, "errors": [{"message": "resolver failed"}]}
    responses.replace(responses.POST, GRAPHQL, json=partial)
    with pytest.raises(DagsterRequestFailed, match="resolver failed"):
        GraphQLSyncBackend(GRAPHQL).recent_runs(1)


@responses.activate
def test_graphql_timeout_is_unavailable():
    responses.post(GRAPHQL, body=requests.Timeout())
    with pytest.raises(DagsterUnavailable, match="did not answer in time"):
        GraphQLSyncBackend(GRAPHQL).ping()


@responses.activate
def test_graphql_runs_are_parsed():
    def entry(kind, label, **value):
        return {"__typename": kind, "label": label, **value}

    run = {
        "runId": RUN_ID,
        "status": "SUCCESS",
        "creationTime": 1.0,
        "startTime": 2.0,
        "endTime": 3.0,
        "tags": [{"key": "product_sync/trigger", "value": "webhook"}],
        "runConfig": names.targeted_run_config([7]),
        "assetMaterializations": [
            {
                "assetKey": {"path": [names.SOURCE_ASSET]},
                "metadataEntries": [entry("IntMetadataEntry", "products", intValue=1, intRepr="1")],
            },
            {
                "assetKey": {"path": [names.SYNC_ASSET]},
                "metadataEntries": [
                    entry("IntMetadataEntry", "updated", intValue=1, intRepr="1"),
                    entry("IntMetadataEntry", "big", intValue=None, intRepr="9999999999"),
                    entry("FloatMetadataEntry", "duration_s", floatValue=0.5),
                    entry("BoolMetadataEntry", "dry_run", boolValue=False),
                    entry("JsonMetadataEntry", "products_by_category"),
                ],
            },
        ],
    }
    unmaterialized = {**run, "runId": "x", "assetMaterializations": [], "runConfig": {}}
    responses.post(
        GRAPHQL,
        json={"data": {"runsOrError": {"__typename": "Runs", "results": [run, unmaterialized]}}},
    )
    runs = GraphQLSyncBackend(GRAPHQL).recent_runs(2)
    assert runs[0] == SyncRun(
        run_id=RUN_ID,
        status="SUCCESS",
        created_at=1.0,
        started_at=2.0,
        ended_at=3.0,
        tags={"product_sync/trigger": "webhook"},
        product_ids=[7],
        numbers={"updated": 1, "big": 9999999999, "duration_s": 0.5, "dry_run": False},
    )
    assert runs[1].numbers is None and runs[1].product_ids == []
    variables = graphql_body(responses.calls[0])["variables"]
    assert variables == {"filter": {"pipelineName": names.SYNC_JOB}, "limit": 2}


def runs_answer(*runs: dict) -> dict:
    return {"data": {"runsOrError": {"__typename": "Runs", "results": list(runs)}}}


@responses.activate
def test_graphql_find_delivery_filters_runs_by_the_delivery_tag():
    run = {
        "runId": RUN_ID,
        "status": "STARTED",
        "tags": [{"key": names.DELIVERY_TAG, "value": "msg_1"}],
        "runConfig": names.targeted_run_config([4]),
        "assetMaterializations": [],
    }
    responses.post(GRAPHQL, json=runs_answer(run))
    found = GraphQLSyncBackend(GRAPHQL).find_delivery("msg_1")
    assert found is not None
    assert (found.run_id, found.status, found.product_ids) == (RUN_ID, "STARTED", [4])
    variables = graphql_body(responses.calls[0])["variables"]
    assert variables == {
        "filter": {
            "pipelineName": names.SYNC_JOB,
            "tags": [{"key": names.DELIVERY_TAG, "value": "msg_1"}],
        },
        "limit": 1,
    }
    responses.replace(responses.POST, GRAPHQL, json=runs_answer())
    assert GraphQLSyncBackend(GRAPHQL).find_delivery("msg_2") is None


@responses.activate
def test_graphql_find_delivery_when_dagster_cannot_list_runs_is_a_failure():
    # Launching anyway could run a delivery twice: the lookup failing stops the request.
    error = {"data": {"runsOrError": {"__typename": "PythonError", "message": "db locked"}}}
    responses.post(GRAPHQL, json=error)
    with pytest.raises(DagsterRequestFailed, match="db locked"):
        GraphQLSyncBackend(GRAPHQL).find_delivery("msg_1")
