"""Malformed source records, injected through the catalog's `corrupt` and `raw` mutations:
each is quarantined with a reason (in the run's metadata and log), the rest is synced.

JSON has no NaN or Infinity: the catalog server writes them as `null`, as JavaScript's
JSON.stringify does, so a NaN price reaches the sync as a missing number (and a NaN
weight as no weight, which is valid).
"""

import pytest
import requests

from product_sync_tests.faults.conftest import assert_converged

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

DELETE = {"$delete": True}

# source id -> (patch, what the reason must say)
CORRUPTIONS = {
    1: ({"title": DELETE}, "title: Field required"),
    2: ({"title": ""}, "title: String should have at least 1 character"),
    3: ({"title": "   "}, "title is blank"),
    4: ({"title": 12345}, "title: Input should be a valid string"),
    5: ({"price": -5}, "price is negative"),
    6: ({"price": float("nan")}, "price must be a number, got NoneType"),
    7: ({"price": 1e12}, "implausibly large"),
    8: ({"price": "12.50"}, "price must be a number, got str"),
    9: ({"price": DELETE}, "price: Field required"),
    10: ({"price": True}, "price must be a number, got bool"),
    11: ({"price": 9.999}, "more than two decimals"),
    12: ({"images": "http://img.test/a.png"}, "images: Input should be a valid list"),
    13: ({"images": ["not a url"]}, "not an http(s) URL"),
    14: ({"thumbnail": "ftp://img.test/t.png"}, "thumbnail: Value error, not an http(s) URL"),
    15: ({"description": "x" * 10_000}, "description: String should have at most 5000"),
    16: ({"title": "Bad\x00Title"}, "title contains control characters"),
    17: ({"description": "bell \x07 here"}, "description contains control characters"),
    18: ({"category": "Not A Slug!"}, "category is not a slug"),
    19: ({"category": DELETE}, "category: Field required"),
    20: ({"stock": -1}, "stock: Input should be greater than or equal to 0"),
    21: ({"stock": "5"}, "stock: Input should be a valid integer"),
    22: ({"tags": "a,b"}, "tags: Input should be a valid list"),
    23: ({"dimensions": "10x20x30"}, "dimensions: Input should be a dictionary"),
    24: ({"rating": "five"}, "rating"),
    25: ({"sku": ""}, "sku: String should have at least 1 character"),
    26: ({"title": "T" * 300}, "title: String should have at most 255"),
    27: ({"images": [f"http://img.test/{n}.png" for n in range(25)]}, "at most 20 items"),
    28: ({"meta": "none"}, "meta: Input should be a dictionary"),
    29: ({"id": "abc"}, "id: Input should be a valid integer"),
    30: ({"id": 0}, "id: Input should be greater than 0"),
}
# Records appended as they are: (record, what the reason must say)
RAW = [
    ({"title": "No id", "price": 5, "category": "audio"}, "id: Field required"),
    ("just a string", "record is not a JSON object"),
    (None, "record is not a JSON object"),
    ([1, 2], "record is not a JSON object"),
]


@pytest.fixture
def catalog_size() -> int:
    return 60


def quarantine_of(run) -> list[dict]:
    """The quarantine table of the source step's metadata, one dict a row."""
    return [row.data for row in run.step_metadata("dummyjson_products")["quarantine"].records]


def test_malformed_records(run_sync, store, source, matrix):
    matrix.scenario = f"malformed records ({len(CORRUPTIONS) + len(RAW) + 2} kinds)"
    for source_id, (patch, _) in CORRUPTIONS.items():
        source.mutate("corrupt", id=source_id, patch=patch)
    for record, _ in RAW:
        source.mutate("raw", record=record)
    # Repeated id: a second copy of 40 later in the listing; the first copy wins.
    source.mutate("raw", record={**source.catalog.get(40), "title": "Second copy of 40"})
    # A category nobody listed, but a valid slug: created and linked, not refused.
    source.mutate("corrupt", id=43, patch={"category": "space-lasers"})
    sent = requests.get(f"{source.base_url}/products/6", timeout=10).json()
    assert sent["price"] is None  # what the source sends for NaN

    run = run_sync()
    assert run.success, run.errors
    quarantine = quarantine_of(run)
    reasons = {str(q["source_id"]): q["reason"] for q in quarantine if q["source_id"] is not None}
    for source_id, (_, why) in CORRUPTIONS.items():
        key = {29: "abc", 30: "0"}.get(source_id, str(source_id))
        assert why in reasons.get(key, ""), (source_id, reasons.get(key))
    anonymous = sorted(q["reason"] for q in quarantine if q["source_id"] is None)
    assert anonymous == sorted(why for _, why in RAW)
    assert len(quarantine) == len(CORRUPTIONS) + len(RAW)
    for item in quarantine[:20]:  # the log names the first 20; the table holds them all
        assert f"quarantined source product {item['source_id']}: {item['reason']}" in run.logs
    assert any("source repeated ids [40]" in line for line in run.logs)
    assert run.metadata["quarantined"] == len(quarantine)
    assert run.checks["no_quarantined_records"] is False
    assert run.checks["every_source_product_present_once"] is True

    refused = set(CORRUPTIONS) - {29, 30}
    assert not refused & set(store.ours())
    found = assert_converged(store, source, quarantined=refused, row=matrix)
    assert found.present == 60 - len(CORRUPTIONS)

    # The source is repaired: everything refused comes in, nothing else is written.
    source.reset()
    repaired = run_sync()
    assert (
        repaired.metadata["created"] == len(CORRUPTIONS) and repaired.metadata["quarantined"] == 0
    )
    assert_converged(store, source, row=matrix)


def test_records_corrupted_after_sync_are_left_as_they_were(run_sync, store, source, matrix):
    """A product whose record turns bad is neither updated nor archived (even when many
    turn bad at once: quarantine never counts as removal)."""
    matrix.scenario = "malformed records on a synced store"
    assert run_sync().success
    before = {p["external_id"]: p for p in store.products("id,external_id,status,updated_at")}
    bad = list(range(1, 31))  # 30 % of the catalog: far over the archive guardrail
    for source_id in bad:
        patch, _ = CORRUPTIONS[source_id if source_id not in (29, 30) else 5]
        source.mutate("corrupt", id=source_id, patch=patch)
    source.mutate("price", ids=[50, 51])

    run = run_sync()
    assert run.metadata["quarantined"] == len(bad)
    assert run.metadata["updated"] == 2 and run.metadata["archived"] == 0
    assert run.metadata["archive_blocked"] == 0  # nothing was even planned for archiving
    after = {p["external_id"]: p for p in store.products("id,external_id,status,updated_at")}
    for source_id in bad:
        assert after[f"dummyjson:{source_id}"] == before[f"dummyjson:{source_id}"]
    assert_converged(store, source, quarantined=bad, row=matrix)


def test_sku_clash_is_refused_with_a_reason(run_sync, store, source, matrix):
    """Medusa requires SKUs unique: of two records claiming one, the second is refused at
    planning. Refused like any quarantined record, it must say why, where operators look."""
    matrix.scenario = "malformed: two records, one SKU"
    source.mutate("corrupt", id=41, patch={"sku": source.catalog.get(42)["sku"]})
    run = run_sync()
    assert run.success, run.errors
    assert run.metadata["quarantined"] == 1 and run.metadata["errors"] == 0
    assert 41 in store.ours() and 42 not in store.ours()
    assert_converged(store, source, quarantined={42}, row=matrix)
    said = [line for line in run.logs if "42" in line and "sku" in line.lower()]
    assert said, "no log line gives the reason product 42 was refused"
    assert run.checks["every_source_product_present_once"] is True  # refused, not missing
