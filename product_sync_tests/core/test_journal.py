from product_sync.core.journal import (
    ProductEntry,
    StockEntry,
    changes,
    judge_product,
    judge_stock,
    planned_state,
    product_state,
    restore_update,
)


def row(**overrides):
    """A product as the Admin API lists it with `STATE_FIELDS`."""
    data = {
        "id": "prod_1",
        "status": "published",
        "title": "Mascara",
        "description": "Black.",
        "thumbnail": "https://img.test/t.png",
        "handle": "mascara",
        "external_id": "dummyjson:1",
        "collection_id": None,
        "metadata": {"sync_hash": "h1", "brand": "Essence", "merchant_note": "keep"},
        "images": [
            {"url": "https://img.test/2.png", "rank": 1},
            {"url": "https://img.test/1.png", "rank": 0},
        ],
        "categories": [{"id": "pcat_b"}, {"id": "pcat_a"}],
        "tags": [],
        "sales_channels": [{"id": "sc_1"}],
        "variants": [
            {
                "id": "variant_1",
                "sku": "SKU-1",
                "barcode": "123",
                "weight": 2.0,
                "length": None,
                "width": 23.17,
                "height": None,
                "manage_inventory": True,
                "allow_backorder": False,
                "prices": [{"amount": 9.99, "currency_code": "usd"}],
            }
        ],
    }
    data.update(overrides)
    return data


def test_a_state_is_normalised_so_two_reads_of_one_product_compare_equal():
    state = product_state(row())
    assert state["images"] == ["https://img.test/1.png", "https://img.test/2.png"]
    assert state["categories"] == ["pcat_a", "pcat_b"]
    assert state["variants"]["variant_1"]["weight"] == 2  # 2.0 and 2 are one weight
    assert state["variants"]["variant_1"]["prices"] == [["usd", 9.99]]
    shuffled = row(
        images=list(reversed(row()["images"])), categories=[{"id": "pcat_a"}, {"id": "pcat_b"}]
    )
    assert product_state(shuffled) == state


def test_an_update_payload_changes_only_what_it_sends_and_merges_metadata():
    before = product_state(row())
    payload = {
        "id": "prod_1",
        "title": "Mascara XL",
        "metadata": {"sync_hash": "h2", "sync_archived_at": None, "brand": ""},
        "variants": [{"id": "variant_1", "prices": [{"amount": 12.5, "currency_code": "usd"}]}],
    }
    after = planned_state(before, payload)
    assert after["description"] == "Black."  # not sent: as it was
    assert after["metadata"] == {
        "sync_hash": "h2",
        "merchant_note": "keep",
        "sync_archived_at": None,
    }
    found = changes(before, after)
    assert found["title"] == ("Mascara", "Mascara XL")
    assert found["price.usd"] == (9.99, 12.5)
    assert found["metadata.brand"] == ("Essence", None)
    assert "description" not in found and "metadata.merchant_note" not in found


def test_a_restore_sends_exactly_the_fields_that_differ_from_before():
    before = product_state(row())
    now = product_state(
        row(
            title="Mascara XL",
            status="draft",
            metadata={"sync_hash": "h2", "merchant_note": "keep", "sync_archived_at": "2026-01-01"},
            categories=[{"id": "pcat_c"}],
            variants=[
                {**row()["variants"][0], "prices": [{"amount": 12.5, "currency_code": "usd"}]}
            ],
        )
    )
    item = restore_update("prod_1", now, before)
    assert item == {
        "id": "prod_1",
        "title": "Mascara",
        "status": "published",
        "categories": [{"id": "pcat_a"}, {"id": "pcat_b"}],
        # a key the run added is removed ("" removes a key in Medusa), changed ones restored
        "metadata": {"brand": "Essence", "sync_archived_at": "", "sync_hash": "h1"},
        "variants": [{"id": "variant_1", "prices": [{"currency_code": "usd", "amount": 9.99}]}],
    }
    assert planned_state(now, item) == before  # applying it gives the state before back
    assert restore_update("prod_1", before, before) is None


def test_a_product_is_reverted_only_while_the_store_holds_what_the_run_left():
    before, after = product_state(row()), product_state(row(title="Mascara XL"))
    entry = ProductEntry(product_id="prod_1", before=before, after=after)
    assert judge_product(entry, after, complete=True) == "revert"
    assert judge_product(entry, before, complete=True) == "done"  # reverted already
    edited = product_state(row(title="Mascara (fixed by hand)"))
    assert judge_product(entry, edited, complete=True) == "changed"
    assert judge_product(entry, None, complete=True) == "gone"
    # a run that stopped half-way knows no state after: anything but before is its
    assert (
        judge_product(entry.model_copy(update={"after": None}), edited, complete=False) == "revert"
    )


def test_a_created_product_is_done_once_archived():
    after = product_state(row())
    entry = ProductEntry(product_id="prod_1", before=None, after=after)
    assert entry.created
    assert judge_product(entry, after, complete=True) == "revert"
    archived = product_state(row(status="draft", metadata={"sync_archived_at": "2026-01-01"}))
    assert judge_product(entry, archived, complete=True) == "done"
    assert judge_product(entry, product_state(row(title="Other")), complete=True) == "changed"


def test_a_stock_level_is_reverted_while_it_holds_what_the_run_set():
    level = StockEntry(inventory_item_id="iitem_1", location_id="sloc", before=5, after=0)
    assert [judge_stock(level, held) for held in (0, 5, 3)] == ["revert", "done", "changed"]
    created = StockEntry(inventory_item_id="iitem_2", location_id="sloc", before=None, after=7)
    assert [judge_stock(created, held) for held in (7, None)] == ["revert", "done"]


def test_a_brand_move_and_a_tag_change_are_journaled_and_restored():
    """The collection (brand) and the tags are part of a product's state: a run that
    moves a product to another brand's collection and relinks its tags is put back,
    a collection that was none before included (sent as null)."""
    before = product_state(row(tags=[{"id": "ptag_b"}, {"id": "ptag_a"}]))
    assert before["tags"] == ["ptag_a", "ptag_b"] and before["collection_id"] is None
    payload = {"id": "prod_1", "collection_id": "pcol_new", "tags": [{"id": "ptag_c"}]}
    after = planned_state(before, payload)
    found = changes(before, after)
    assert found["collection_id"] == (None, "pcol_new")
    assert found["tags"] == (["ptag_a", "ptag_b"], ["ptag_c"])
    now = product_state(row(collection_id="pcol_new", tags=[{"id": "ptag_c"}]))
    assert now == after
    assert restore_update("prod_1", now, before) == {
        "id": "prod_1",
        "collection_id": None,
        "tags": [{"id": "ptag_a"}, {"id": "ptag_b"}],
    }
