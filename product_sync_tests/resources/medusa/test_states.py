"""Reading products' states for the journal: the links joined for a few, read apart for
many, from the store's link listings or looked up by product, whichever costs less."""

import json
from urllib.parse import parse_qs, urlsplit

import responses

from product_sync_tests.resources.medusa.support import BASE, medusa


def _serve_products(count, held=lambda external_id: None):
    """`/admin/products` of a store of `count` products: its count, lookups by id (with
    `categories.id` joined as "joined" when asked), and by external id (`held` says which
    product holds one, if any). Returns the queries it answered."""
    asked = []

    def answer(request):
        query = parse_qs(urlsplit(request.url).query)
        asked.append(query)
        if query.get("limit") == ["0"]:
            return 200, {}, json.dumps({"products": [], "count": count})
        if "external_id[]" in query:
            found = [(held(e), e) for e in query["external_id[]"]]
            rows = [{"id": pid, "external_id": e} for pid, e in found if pid]
        else:
            joined = "categories.id" in query["fields"][0]
            link = {"categories": [{"id": "joined"}]} if joined else {}
            rows = [{"id": i, **link} for i in query["id[]"]]
        return 200, {}, json.dumps({"products": rows, "count": len(rows)})

    responses.add_callback(responses.GET, f"{BASE}/admin/products", callback=answer)
    return asked


def _serve_links(categories, tags):
    for route, key, groups in (
        ("product-categories", "product_categories", categories),
        ("product-tags", "product_tags", tags),
    ):
        rows = [{"id": g, "products": [{"id": p} for p in ps]} for g, ps in groups.items()]
        responses.get(f"{BASE}/admin/{route}", json={key: rows, "count": len(rows)})


def _joined(asked):
    return [q for q in asked if "categories.id" in q.get("fields", [""])[0]]


def _listed_links():
    return [c for c in responses.calls if "product-categories" in c.request.url]


@responses.activate
def test_a_few_states_are_read_with_their_links_joined():
    _serve_products(count=10)
    states = medusa().product_states(["p1", "p2"])
    assert states["p1"]["categories"] == [{"id": "joined"}] and len(responses.calls) == 1


@responses.activate
def test_many_states_of_a_small_store_get_the_links_from_its_link_listings():
    """600 of a 1000-product store (a first load): the categories' and tags' listings
    hold every link for less than looking 600 products' up."""
    asked = _serve_products(count=1000)
    _serve_links({"pcat_1": ["p7"]}, {"ptag_1": ["p7"]})
    states = medusa().product_states([f"p{n}" for n in range(600)])
    assert len(states) == 600
    assert states["p7"]["categories"] == [{"id": "pcat_1"}]
    assert states["p7"]["tags"] == [{"id": "ptag_1"}] and states["p8"]["tags"] == []
    assert len([q for q in asked if "id[]" in q]) == 3 and not _joined(asked)  # 250 a request


@responses.activate
def test_many_states_of_a_big_store_get_their_links_looked_up_not_the_whole_stores():
    """A 1 % change of 100k products: its products' links looked up with the joins, not
    every link of the store read (twice a run, for the journal: ~16 s of Medusa's time
    each at 100k)."""
    asked = _serve_products(count=100_000)
    states = medusa().product_states([f"p{n}" for n in range(600)])
    assert len(states) == 600 and states["p7"]["categories"] == [{"id": "joined"}]
    assert not _listed_links()
    joined = _joined(asked)
    assert len(joined) == 3 and sum(len(q["id[]"]) for q in joined) == 600


@responses.activate
def test_many_states_by_external_id_of_a_small_store_get_the_links_from_its_listings():
    asked = _serve_products(count=1000, held=lambda e: "p1" if e.endswith(":1") else None)
    _serve_links({"pcat_1": ["p1"]}, {})
    (row,) = medusa().product_states_by_external_id([f"dummyjson:{n}" for n in range(600)])
    assert row["categories"] == [{"id": "pcat_1"}] and row["tags"] == []
    lookups = [q for q in asked if "external_id[]" in q]
    assert len(lookups) == 3 and not _joined(asked)


@responses.activate
def test_many_states_by_external_id_of_a_big_store_get_their_links_a_page_at_a_time():
    asked = _serve_products(count=100_000, held=lambda e: e.replace("dummyjson:", "p"))
    rows = list(medusa().product_states_by_external_id([f"dummyjson:{n}" for n in range(600)]))
    assert len(rows) == 600 and all(r["categories"] == [{"id": "joined"}] for r in rows)
    assert not _listed_links()
    assert [len(q["id[]"]) for q in _joined(asked)] == [250, 250, 100]
