import json
from urllib.parse import parse_qs, urlsplit

import responses

from product_sync_tests.resources.medusa.support import BASE, medusa


def _rows(request):
    query = parse_qs(urlsplit(request.url).query)
    ids = query["id[]"]
    joined = "categories.id" in query["fields"][0]
    rows = [{"id": i, **({"categories": [{"id": "joined"}]} if joined else {})} for i in ids]
    return 200, {}, json.dumps({"products": rows, "count": len(rows)})


@responses.activate
def test_a_few_states_are_read_with_their_links_joined():
    responses.add_callback(responses.GET, f"{BASE}/admin/products", callback=_rows)
    states = medusa().product_states(["p1", "p2"])
    assert states["p1"]["categories"] == [{"id": "joined"}] and len(responses.calls) == 1


@responses.activate
def test_many_states_are_read_without_the_joins_and_get_the_links_apart():
    responses.get(
        f"{BASE}/admin/products",
        match=[responses.matchers.query_param_matcher({"limit": "0", "fields": "id"})],
        json={"products": [], "count": 100_000},
    )
    responses.get(
        f"{BASE}/admin/product-categories",
        json={"product_categories": [{"id": "pcat_1", "products": [{"id": "p7"}]}], "count": 1},
    )
    responses.get(
        f"{BASE}/admin/product-tags",
        json={"product_tags": [{"id": "ptag_1", "products": [{"id": "p7"}]}], "count": 1},
    )
    responses.add_callback(responses.GET, f"{BASE}/admin/products", callback=_rows)
    ids = [f"p{n}" for n in range(600)]
    states = medusa().product_states(ids)
    assert len(states) == 600
    assert states["p7"]["categories"] == [{"id": "pcat_1"}]
    assert states["p7"]["tags"] == [{"id": "ptag_1"}] and states["p8"]["tags"] == []
    lookups = [c for c in responses.calls if "id%5B%5D" in c.request.url]
    assert len(lookups) == 3  # 250 a request


@responses.activate
def test_many_states_by_external_id_are_read_without_the_joins_too():
    ids = [f"dummyjson:{n}" for n in range(600)]
    responses.get(
        f"{BASE}/admin/products",
        match=[responses.matchers.query_param_matcher({"limit": "0", "fields": "id"})],
        json={"products": [], "count": 100_000},
    )
    responses.get(
        f"{BASE}/admin/product-categories",
        json={"product_categories": [{"id": "pcat_1", "products": [{"id": "p1"}]}], "count": 1},
    )
    responses.get(f"{BASE}/admin/product-tags", json={"product_tags": [], "count": 0})
    asked = []

    def lookup(request):
        query = parse_qs(urlsplit(request.url).query)
        asked.append(query["fields"][0])
        held = [{"id": "p1", "external_id": e} for e in query["external_id[]"] if e.endswith(":1")]
        return 200, {}, json.dumps({"products": held, "count": len(held)})

    responses.add_callback(responses.GET, f"{BASE}/admin/products", callback=lookup)
    (row,) = medusa().product_states_by_external_id(ids)
    assert row["categories"] == [{"id": "pcat_1"}] and row["tags"] == []
    assert len(asked) == 3 and not any("categories" in f or "tags.id" in f for f in asked)
