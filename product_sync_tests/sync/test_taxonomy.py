"""The tags-and-collections step against a store answered by `responses`."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import responses

from product_sync.core.catalog import SourceCatalog
from product_sync.resources.medusa import MedusaResource
from product_sync.sync import prepare_taxonomy
from product_sync_tests.factories import product

STORE = "http://store.test"


def medusa() -> MedusaResource:
    fast = {"initial_backoff_s": 0, "max_backoff_s": 0, "max_retries": 1}
    return MedusaResource(backend_url=STORE, api_key="sk_x", **fast)


def catalog() -> SourceCatalog:
    return SourceCatalog(
        products=[
            product(id=1, tags=["beauty", "mascara"], brand="Essence"),
            product(id=2, tags=["beauty"], brand="Zephyr"),
            product(id=3, tags=[], brand=None),
        ]
    )


def tags_found(*rows: dict[str, str]) -> None:
    responses.get(f"{STORE}/admin/product-tags", json={"product_tags": list(rows)})


def collections_found(*rows: dict[str, str]) -> None:
    responses.get(f"{STORE}/admin/collections", json={"collections": list(rows)})


def posts(path: str) -> list[dict]:
    return [
        json.loads(c.request.body)
        for c in responses.calls
        if c.request.method == "POST" and urlsplit(c.request.url).path == path
    ]


def workflow_runs(status: int = 200, finished: bool = True) -> None:
    """Answers to running Medusa's create workflows (tags, collections) through the API."""
    for workflow in ("create-product-tags", "create-collections"):
        ack = {"workflowId": workflow, "hasFinished": finished, "hasFailed": False}
        body = {"acknowledgement": ack} if status == 200 else {"message": "nope"}
        responses.post(
            f"{STORE}/admin/workflows-executions/{workflow}/run", status=status, json=body
        )


def workflow_inputs(workflow: str) -> list[dict]:
    return [
        json.loads(c.request.body)["input"]
        for c in responses.calls
        if urlsplit(c.request.url).path == f"/admin/workflows-executions/{workflow}/run"
    ]


@responses.activate
def test_missing_tags_and_collections_are_created_at_once_and_existing_ones_reused():
    tags_found({"id": "ptag_b", "value": "beauty"})
    tags_found({"id": "ptag_m", "value": "mascara"})  # looked up after the create
    collections_found({"id": "pcol_e", "handle": "essence"})
    collections_found({"id": "pcol_z", "handle": "zephyr"})
    workflow_runs()

    result = prepare_taxonomy(catalog(), medusa(), dry_run=False)

    assert result.ids.tag_ids == {"beauty": "ptag_b", "mascara": "ptag_m"}
    assert result.ids.collection_ids == {"essence": "pcol_e", "zephyr": "pcol_z"}
    assert (result.tags_created, result.collections_created) == (["mascara"], ["zephyr"])
    assert workflow_inputs("create-product-tags") == [{"product_tags": [{"value": "mascara"}]}]
    assert workflow_inputs("create-collections") == [
        {"collections": [{"title": "Zephyr", "handle": "zephyr"}]}
    ]
    assert not posts("/admin/product-tags") and not posts("/admin/collections")
    # Looked up by value, all at once.
    first = next(
        c
        for c in responses.calls
        if c.request.method == "GET" and "/admin/product-tags" in c.request.url
    )
    assert parse_qs(urlsplit(first.request.url).query)["value[]"] == ["beauty", "mascara"]


@responses.activate
def test_a_store_that_does_not_run_workflows_gets_them_one_at_a_time():
    tags_found({"id": "ptag_b", "value": "beauty"})
    tags_found()  # mascara: still not there
    collections_found({"id": "pcol_e", "handle": "essence"})
    collections_found()
    workflow_runs(status=404)
    responses.post(f"{STORE}/admin/product-tags", json={"product_tag": {"id": "ptag_m"}})
    responses.post(f"{STORE}/admin/collections", json={"collection": {"id": "pcol_z"}})

    result = prepare_taxonomy(catalog(), medusa(), dry_run=False)

    assert result.ids.tag_ids == {"beauty": "ptag_b", "mascara": "ptag_m"}
    assert result.ids.collection_ids == {"essence": "pcol_e", "zephyr": "pcol_z"}
    assert (result.tags_created, result.collections_created) == (["mascara"], ["zephyr"])
    assert posts("/admin/product-tags") == [{"value": "mascara"}]
    assert posts("/admin/collections") == [{"title": "Zephyr", "handle": "zephyr"}]


@responses.activate
def test_a_dry_run_creates_nothing_and_says_what_it_would():
    tags_found({"id": "ptag_b", "value": "beauty"})
    collections_found()
    result = prepare_taxonomy(catalog(), medusa(), dry_run=True)
    assert [c.request.method for c in responses.calls] == ["GET"] * 2
    assert result.pending.tags == ["mascara"]
    assert [c["handle"] for c in result.pending.collections] == ["essence", "zephyr"]
    assert result.tags_created == [] and result.ids.tag_ids == {"beauty": "ptag_b"}


@responses.activate
def test_a_tag_another_run_created_meanwhile_is_looked_up_not_duplicated():
    """The run of the workflow is refused as a whole (one value exists now) and rolled
    back; the lookup after it finds the other run's tag, and nothing is left to create."""
    tags_found({"id": "ptag_b", "value": "beauty"})
    tags_found({"id": "ptag_m2", "value": "mascara"})
    both = ({"id": "pcol_e", "handle": "essence"}, {"id": "pcol_z", "handle": "zephyr"})
    collections_found(*both)
    workflow_runs(status=400)
    result = prepare_taxonomy(catalog(), medusa(), dry_run=False)
    assert result.ids.tag_ids["mascara"] == "ptag_m2"
    assert result.tags_created == [] and result.failed == {}
    assert not posts("/admin/product-tags")


@responses.activate
def test_a_run_whose_answer_was_lost_is_looked_up_not_sent_again():
    tags_found({"id": "ptag_b", "value": "beauty"})
    tags_found({"id": "ptag_m", "value": "mascara"})  # it landed
    collections_found({"id": "pcol_e", "handle": "essence"})
    collections_found({"id": "pcol_z", "handle": "zephyr"})
    workflow_runs(status=504)
    result = prepare_taxonomy(catalog(), medusa(), dry_run=False)
    assert result.ids.tag_ids["mascara"] == "ptag_m"
    assert result.ids.collection_ids["zephyr"] == "pcol_z"
    assert len(workflow_inputs("create-product-tags")) == 1
    assert not posts("/admin/product-tags") and not posts("/admin/collections")


@responses.activate
def test_one_that_cannot_be_created_is_reported_and_the_rest_proceeds():
    tags = ({"id": "ptag_b", "value": "beauty"}, {"id": "ptag_m", "value": "mascara"})
    tags_found(*tags)
    collections_found({"id": "pcol_e", "handle": "essence"})
    collections_found()  # zephyr: not there after the refused run, nor after the refusal
    workflow_runs(status=400)
    responses.post(
        f"{STORE}/admin/collections",
        status=400,
        json={"type": "invalid_data", "message": "handle is invalid"},
    )
    result = prepare_taxonomy(catalog(), medusa(), dry_run=False)
    assert result.failed == {"collection zephyr": "invalid_data: handle is invalid"}
    assert result.pending.collections == [{"title": "Zephyr", "handle": "zephyr"}]
    # The product of that brand keeps the collection it has: its link is left out.
    zephyr = catalog().products[1]
    assert "collection_id" not in result.ids.links(zephyr)
    assert result.ids.links(catalog().products[0])["collection_id"] == "pcol_e"


@responses.activate
def test_a_store_failure_is_reported_not_raised():
    responses.get(f"{STORE}/admin/product-tags", status=503)
    collections_found()
    result = prepare_taxonomy(catalog(), medusa(), dry_run=False)
    assert "503" in result.error
    assert result.ids.tag_ids == {} and result.tags_created == []
    assert not posts("/admin/product-tags") and not posts("/admin/collections")
