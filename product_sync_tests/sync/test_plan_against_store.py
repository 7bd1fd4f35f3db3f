"""Planning against the live store: a create is looked up once more before anyone writes,
unless the index was just read by those very external ids."""

import json
from urllib.parse import parse_qs, urlsplit

import responses

from product_sync.core.catalog import SourceCatalog
from product_sync.core.planning import ProductIndex
from product_sync.sync.categories import CategoryMap
from product_sync.sync.planning import plan_against_store
from product_sync_tests.factories import product
from product_sync_tests.resources.medusa.support import BASE, medusa

PREFIX = "dummyjson:"


def serve_store(holding: str):
    """A store where product `holding` exists (made since the index was read); answers
    external-id and handle lookups; returns the lookups' parameter names."""
    asked = []

    def answer(request):
        query = parse_qs(urlsplit(request.url).query)
        asked.append(next(k for k in query if k.endswith("[]")))
        found = [
            {"id": "prod_made", "external_id": holding, "handle": "made", "status": "published"}
            for e in query.get("external_id[]", [])
            if e == holding
        ]
        return 200, {}, json.dumps({"products": found, "count": len(found)})

    responses.add_callback(responses.GET, f"{BASE}/admin/products", callback=answer)
    return asked


def plan(index_fresh):
    catalog = SourceCatalog(products=[product(id=1), product(id=2)])
    return plan_against_store(
        catalog,
        CategoryMap(),
        ProductIndex.build(PREFIX, []),
        medusa(),
        sales_channel_id=None,
        max_archive_fraction=0.0,
        index_fresh=index_fresh,
    )


@responses.activate
def test_an_index_read_earlier_has_its_creates_looked_up_again():
    """The index asset may be older than this run: a product made since is updated, not
    created a second time."""
    asked = serve_store(holding=f"{PREFIX}1")
    planned = plan(index_fresh=False)
    assert [c.source_id for c in planned.creates] == [2]
    assert [u.source_id for u in planned.updates] == [1]
    assert "external_id[]" in asked


@responses.activate
def test_an_index_just_read_by_these_external_ids_is_not_looked_up_again():
    asked = serve_store(holding=f"{PREFIX}1")
    planned = plan(index_fresh=True)
    assert [c.source_id for c in planned.creates] == [1, 2]
    assert "external_id[]" not in asked and asked  # the handles are still checked
