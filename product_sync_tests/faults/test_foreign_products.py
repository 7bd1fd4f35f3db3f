"""Products made by hand in the store (no external id, someone else's, look-alikes of
ours, the same titles as ours, holding the handles ours would get): never touched, never
archived, and their handles never taken."""

import pytest

from product_sync.core.handles import base_handle
from product_sync_tests.faults.conftest import Store, assert_converged, snapshot_foreign
from product_sync_tests.judges.store_reader import PREFIX, our_source_id

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

OPTIONS = [{"title": "Size", "values": ["M"]}]


@pytest.fixture
def catalog_size() -> int:
    return 60


def hand_made(store: Store, title: str, **fields) -> dict:
    body = {"title": title, "status": "published", "options": OPTIONS, **fields}
    return store.post("/admin/products", body)["product"]


def with_sku(sku: str) -> dict:
    variant = {
        "title": "M",
        "sku": sku,
        "options": {"Size": "M"},
        "prices": [{"amount": 1, "currency_code": "usd"}],
    }
    return {"variants": [variant]}


def test_hand_made_products_are_never_touched(run_sync, store, source, matrix):
    matrix.scenario = "hand-made products in the store"
    src = {n: source.catalog.get(n) for n in range(1, 8)}
    base = {n: base_handle(n, src[n]["title"]) for n in src}
    # Same title as ours, holding the very handle product 1 would get; no external id.
    hand_made(store, src[1]["title"], handle=base[1])
    # Someone else's namespace, same title as product 2 (Medusa derives its handle).
    hand_made(store, src[2]["title"], external_id="shopify:2")
    # Both the handle of product 3 and its first fallback are taken.
    hand_made(store, "Mine", handle=base[3])
    hand_made(store, "Mine too", handle=f"{base[3]}-1", status="draft")
    # Look-alikes of our external ids that are not ours.
    for n, ext in enumerate(
        ["dummyjson", PREFIX, f"{PREFIX}04", f"{PREFIX}abc", "DUMMYJSON:4", f"{PREFIX}4x"]
    ):
        hand_made(store, src[4]["title"], external_id=ext, handle=f"look-alike-{n}")
    # Our metadata keys copied by hand, no external id.
    hand_made(
        store, src[6]["title"], handle="copied", metadata={"sync_hash": "x", "dummyjson_id": 6}
    )
    # A hand-made product already holds product 7's SKU (Medusa keeps SKUs unique).
    hand_made(store, "Has a SKU", handle="has-a-sku", **with_sku(src[7]["sku"]))
    foreign = snapshot_foreign(store)
    assert len(foreign) == 12

    run = run_sync()
    assert run.success, run.errors
    # Product 7 cannot exist next to the hand-made one: reported with Medusa's reason.
    assert run.metadata["errors"] == 1
    assert any("dummyjson:7" in line and "sku" in line.lower() for line in run.logs)
    found = assert_converged(store, source, foreign, quarantined={7}, row=matrix)
    assert found.present == 59
    ours = {our_source_id(p["external_id"]): p for p in store.products()}
    assert ours[1]["handle"] == f"{base[1]}-1"
    assert ours[3]["handle"] == f"{base[3]}-2"
    taken = {f["handle"] for f in foreign}
    assert not taken & {p["handle"] for k, p in ours.items() if k is not None}

    # Again, and once more with product 1 and 2 gone upstream: only ours are archived.
    assert run_sync().writes == 0
    source.mutate("remove", ids=[1, 2])
    run = run_sync()
    assert run.metadata["archived"] == 2
    assert_converged(store, source, foreign, quarantined={7}, row=matrix)


def test_non_ascii_digit_look_alikes_are_not_ours(run_sync, store, source, matrix):
    matrix.scenario = "hand-made: non-ASCII digit look-alikes"
    hand_made(store, "Arabic one", external_id=f"{PREFIX}\u0661", handle="arabic-one")
    hand_made(store, "Superscript two", external_id=f"{PREFIX}\u00b2", handle="sup-two")
    foreign = snapshot_foreign(store)
    run = run_sync()
    assert run.success, run.errors
    assert_converged(store, source, foreign, row=matrix)
