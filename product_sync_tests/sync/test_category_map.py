import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from product_sync.core.catalog import SourceCatalog
from product_sync.resources.dummyjson import DummyJSONResource
from product_sync.resources.medusa import MedusaResource, StoreRejected
from product_sync.sync import build_category_map
from product_sync_tests.factories import product

SRC, STORE = "http://src.test", "http://store.test"


def resources():
    fast = {"initial_backoff_s": 0, "max_backoff_s": 0, "max_retries": 1}
    return (
        DummyJSONResource(base_url=SRC, **fast),
        MedusaResource(backend_url=STORE, api_key="sk_x", **fast),
    )


def catalog():
    return SourceCatalog(
        products=[product(id=1, category="beauty"), product(id=2, category="audio")]
    )


@responses.activate
def test_missing_categories_are_created_and_existing_ones_reused():
    responses.get(
        f"{SRC}/products/categories", json=[{"slug": "beauty", "name": "Beauty", "url": "u"}]
    )
    responses.get(
        f"{STORE}/admin/product-categories",
        json={"product_categories": [{"id": "pcat_b", "handle": "beauty", "name": "Beauty"}]},
    )
    responses.post(
        f"{STORE}/admin/product-categories",
        json={"product_category": {"id": "pcat_a", "handle": "audio"}},
    )
    result = build_category_map(catalog(), *resources())
    assert result.ids == {"beauty": "pcat_b", "audio": "pcat_a"}
    assert result.created == ["audio"] and result.error is None
    created = json.loads(responses.calls[-1].request.body)
    assert created == {"name": "Audio", "handle": "audio", "is_active": True}


@responses.activate
def test_a_store_failure_is_reported_not_raised():
    responses.get(f"{SRC}/products/categories", json=[])
    responses.get(f"{STORE}/admin/product-categories", status=503)
    result = build_category_map(catalog(), *resources())
    assert result.ids == {} and "503" in result.error


@responses.activate
def test_source_listing_failure_still_maps_the_products_categories():
    responses.get(f"{SRC}/products/categories", status=500)
    responses.get(
        f"{STORE}/admin/product-categories",
        json={
            "product_categories": [
                {"id": "pcat_b", "handle": "beauty", "name": "Beauty"},
                {"id": "pcat_a", "handle": "audio", "name": "Audio"},
            ]
        },
    )
    result = build_category_map(catalog(), *resources())
    assert result.ids == {"beauty": "pcat_b", "audio": "pcat_a"}
    assert "500" in result.error


@responses.activate
def test_one_category_that_cannot_be_created_does_not_stop_the_others():
    responses.get(f"{SRC}/products/categories", json=[])
    responses.get(f"{STORE}/admin/product-categories", json={"product_categories": []})
    responses.post(
        f"{STORE}/admin/product-categories",
        status=400,
        json={"type": "invalid_data", "message": "nope"},
    )
    responses.post(
        f"{STORE}/admin/product-categories",
        json={"product_category": {"id": "pcat_a", "handle": "audio"}},
    )
    result = build_category_map(catalog(), *resources())
    assert result.ids == {"audio": "pcat_a"}
    assert "nope" in result.failed["beauty"]


@responses.activate
def test_rejected_key_is_not_swallowed():
    responses.get(f"{SRC}/products/categories", json=[])
    responses.get(f"{STORE}/admin/product-categories", status=401)
    with pytest.raises(StoreRejected):
        build_category_map(catalog(), *resources())


def _store_with_categories(landed: dict[str, str], post):
    """The store's category routes: GET answers from `landed` (handle -> id) for the
    handles asked for; POST is `post(body) -> (status, json)`."""

    def listing(request):
        asked = parse_qs(urlsplit(request.url).query).get("handle[]", [])
        rows = [{"id": landed[h], "handle": h, "name": h.title()} for h in asked if h in landed]
        return 200, {}, json.dumps({"product_categories": rows})

    def create(request):
        status, body = post(json.loads(request.body))
        return status, {}, json.dumps(body)

    responses.add_callback(responses.GET, f"{STORE}/admin/product-categories", callback=listing)
    responses.add_callback(responses.POST, f"{STORE}/admin/product-categories", callback=create)


def _listed(slugs):
    responses.get(
        f"{SRC}/products/categories",
        json=[{"slug": s, "name": s.title(), "url": "u"} for s in slugs],
    )


@responses.activate
def test_categories_are_created_several_at_once_and_reported_in_plan_order():
    slugs = [f"cat-{n}" for n in range(8)]
    _listed(slugs)
    dummyjson, medusa = resources()
    medusa = medusa.model_copy(update={"category_concurrency": 4})
    # The first four creates only answer once all four are in flight (one request at a
    # time would break the barrier), and then in reverse order.
    together = threading.Barrier(4, timeout=10)
    finished = {s: threading.Event() for s in slugs}
    landed: dict[str, str] = {}

    def post(body):
        handle = body["handle"]
        position = slugs.index(handle)
        if position < 4:
            together.wait()
            if position < 3:
                finished[slugs[position + 1]].wait(timeout=10)
        landed[handle] = f"pcat_{handle}"
        finished[handle].set()
        return 200, {"product_category": {"id": landed[handle], "handle": handle}}

    _store_with_categories(landed, post)
    result = build_category_map(SourceCatalog(), dummyjson, medusa)
    assert result.ids == {s: f"pcat_{s}" for s in slugs}
    assert result.created == slugs and list(result.ids) == slugs
    assert result.failed == {} and result.error is None
    posts = [c for c in responses.calls if c.request.method == "POST"]
    assert len(posts) == len(slugs)


@responses.activate
def test_by_default_categories_are_created_one_at_a_time_so_their_ranks_differ():
    # Medusa ranks a new category by counting its siblings: two creates in flight at once
    # get the same rank, and the admin's category order becomes undefined.
    slugs = [f"cat-{n}" for n in range(6)]
    _listed(slugs)
    dummyjson, medusa = resources()
    in_flight, most = [0], [0]
    lock = threading.Lock()
    landed: dict[str, str] = {}

    def post(body):
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.01)
        handle = body["handle"]
        landed[handle] = f"pcat_{handle}"
        with lock:
            in_flight[0] -= 1
        return 200, {"product_category": {"id": landed[handle], "handle": handle, "rank": 0}}

    _store_with_categories(landed, post)
    result = build_category_map(SourceCatalog(), dummyjson, medusa)
    assert result.created == slugs
    assert most[0] == 1


@responses.activate
def test_a_failing_category_among_concurrent_creates_leaves_the_others_created():
    slugs = ["a", "b", "c", "d", "e", "f"]
    _listed(slugs)
    landed: dict[str, str] = {}

    def post(body):
        if body["handle"] in ("b", "e"):
            return 400, {"type": "invalid_data", "message": f"refused {body['handle']}"}
        landed[body["handle"]] = f"pcat_{body['handle']}"
        return 200, {"product_category": {"id": landed[body["handle"]]}}

    _store_with_categories(landed, post)
    result = build_category_map(SourceCatalog(), *resources())
    assert result.created == ["a", "c", "d", "f"]
    assert list(result.failed) == ["b", "e"] and "refused b" in result.failed["b"]
    assert set(result.ids) == {"a", "c", "d", "f"}


@responses.activate
def test_a_timed_out_category_create_is_looked_up_before_it_is_sent_again():
    _listed(["audio"])
    landed: dict[str, str] = {}

    def post(body):
        # The first request lands, but its answer is lost (Medusa answers 503).
        landed[body["handle"]] = "pcat_audio"
        return 503, {"message": "gone"}

    _store_with_categories(landed, post)
    result = build_category_map(SourceCatalog(), *resources())
    assert result.ids == {"audio": "pcat_audio"} and result.failed == {}
    assert [c.request.method for c in responses.calls[1:]] == ["GET", "POST", "GET"]


@responses.activate
def test_a_category_created_meanwhile_by_another_run_is_used():
    _listed(["audio"])
    landed: dict[str, str] = {}

    def post(body):
        landed[body["handle"]] = "pcat_theirs"  # the other run's create won
        return 400, {"type": "duplicate_error", "message": "already exists"}

    _store_with_categories(landed, post)
    result = build_category_map(SourceCatalog(), *resources())
    assert result.ids == {"audio": "pcat_theirs"}
    assert result.created == [] and result.failed == {}


@responses.activate
def test_a_category_whose_lookup_fails_after_a_refused_create_is_reported_not_raised():
    _listed(["audio", "beauty"])
    lookups = []

    def listing(request):
        lookups.append(request.url)
        if len(lookups) == 1:
            return 200, {}, json.dumps({"product_categories": []})
        return 503, {}, json.dumps({"message": "down"})

    def create(request):
        body = json.loads(request.body)
        if body["handle"] == "audio":
            return 400, {}, json.dumps({"message": "refused"})
        return 200, {}, json.dumps({"product_category": {"id": "pcat_beauty"}})

    responses.add_callback(responses.GET, f"{STORE}/admin/product-categories", callback=listing)
    responses.add_callback(responses.POST, f"{STORE}/admin/product-categories", callback=create)
    result = build_category_map(SourceCatalog(), *resources())
    assert result.ids == {"beauty": "pcat_beauty"}
    assert "refused" in result.failed["audio"] and "looking it up failed" in result.failed["audio"]
