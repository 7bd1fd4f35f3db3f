import json
import re

import pytest
import responses

from product_sync.resources.dummyjson import DummyJSONResource, SourceUnavailable
from product_sync_tests.factories import record

BASE = "http://dummyjson.test"


def source(**kwargs):
    kwargs.setdefault("page_size", 10)
    return DummyJSONResource(base_url=BASE, initial_backoff_s=0, max_backoff_s=0, **kwargs)


def serve(total_for_skip):
    """Answer /products pages from a catalog of `total_for_skip(skip)` products."""

    def callback(request):
        params = dict(re.findall(r"(\w+)=(\d+)", request.url.split("?", 1)[1]))
        skip, limit = int(params["skip"]), int(params["limit"])
        total = total_for_skip(skip)
        items = [record(id=i) for i in range(skip + 1, min(skip + limit, total) + 1)]
        return (
            200,
            {},
            json.dumps({"products": items, "total": total, "skip": skip, "limit": len(items)}),
        )

    responses.add_callback(responses.GET, f"{BASE}/products", callback=callback)


@responses.activate
def test_reads_every_page():
    serve(lambda skip: 35)
    read = source().read_catalog()
    assert [r["id"] for r in read.records] == list(range(1, 36))
    assert read.pages == 4 and read.total == 35 and read.consistent
    skips = sorted(int(re.search(r"skip=(\d+)", c.request.url).group(1)) for c in responses.calls)
    assert skips == [0, 10, 20, 30]


@responses.activate
def test_each_page_is_parsed_as_it_arrives_and_only_the_parsed_form_is_kept():
    serve(lambda skip: 35)
    page_sizes = []

    def parse(records):
        page_sizes.append(len(records))
        return sum(r["id"] for r in records)

    read = source().read_catalog(parse=parse)
    assert sorted(page_sizes) == [5, 10, 10, 10]
    assert read.records == [55, 155, 255, 165]  # one per page, in catalog order
    assert read.consistent and read.total == 35


@responses.activate
def test_total_changing_mid_read_is_reported_as_inconsistent():
    serve(lambda skip: 35 if skip == 0 else 30)
    read = source(max_consistent_reads=2).read_catalog()
    assert not read.consistent
    assert read.pages == 8  # read twice


@responses.activate
def test_unreachable_source_is_a_job_level_failure():
    responses.get(f"{BASE}/products", status=503)
    with pytest.raises(SourceUnavailable, match="503"):
        source(max_retries=1).read_catalog()


@responses.activate
def test_non_envelope_answer_is_refused():
    responses.get(f"{BASE}/products", json=["not", "an", "envelope"])
    with pytest.raises(SourceUnavailable, match="envelope"):
        source().read_catalog()


@responses.activate
def test_targeted_read_reports_unknown_ids():
    responses.get(f"{BASE}/products/1", json=record(id=1))
    responses.get(
        f"{BASE}/products/2", status=404, json={"message": "Product with id '2' not found"}
    )
    read = source().read_products([2, 1, 1])
    assert [r["id"] for r in read.records] == [1]
    assert read.missing_ids == [2]


def test_an_id_range_is_read_by_bisection_and_pages_despite_gaps():
    from devstack.catalog.server import CatalogServer

    with CatalogServer(seed=7, count=400) as catalog:
        catalog.mutate("remove", ids=[1, 2, 50, 99, 100, 101, 300])
        catalog.mutate("add", count=3)  # ids 401-403, after the last
        every = [r["id"] for r in catalog.catalog.records()]
        resource = DummyJSONResource(base_url=catalog.base_url, page_size=30)
        for lo, hi in [(1, 100), (101, 250), (251, None), (500, None), (120, 120)]:
            read = resource.read_id_range(lo, hi)
            assert [r["id"] for r in read.records] == [
                i for i in every if i >= lo and (hi is None or i <= hi)
            ]
            assert read.consistent and read.total == len(every)
        assert resource.max_id() == 403


@responses.activate
def test_a_large_catalog_is_read_in_bulk_pages_after_its_first():
    serve(lambda skip: 2500)
    read = source(page_size=30, bulk_page_size=500).read_catalog()
    assert [r["id"] for r in read.records] == list(range(1, 2501))
    limits = [int(re.search(r"limit=(\d+)", c.request.url).group(1)) for c in responses.calls]
    assert sorted(limits) == [30, *[500] * 5] and read.pages == 6 and read.consistent


@responses.activate
def test_a_small_catalog_keeps_its_page_size():
    serve(lambda skip: 194)
    read = source(page_size=30, bulk_page_size=500).read_catalog()
    assert len(read.records) == 194 and read.pages == 7


@responses.activate
def test_a_range_is_parsed_page_by_page():
    serve(lambda skip: 60)
    kept = []

    def parse(records):
        kept.append([r["id"] for r in records])
        return len(records)

    read = source().read_id_range(15, 34, parse=parse)
    assert sorted(i for page in kept for i in page) == list(range(15, 35))
    assert sum(read.records) == 20 and read.consistent
