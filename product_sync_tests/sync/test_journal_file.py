"""The journal file: written an entry at a time, read back as the journal it was."""

import json

import pytest

from product_sync.core.journal import Journal, ProductEntry, StockEntry
from product_sync.core.sale_journal import SaleListEntry, SalePriceChange
from product_sync.sync.journal import load_journals, write_journal


def journal(products=3):
    return Journal(
        run_id="run-1",
        part="ids_1_10000",
        complete=True,
        products=[
            ProductEntry(
                product_id=f"prod_{n}",
                external_id=f"dummyjson:{n}",
                handle=f"h-{n}",
                before=None if n % 2 else {"title": f"Tée «{n}»", "status": "published"},
                after={"title": f"Tée «{n}» — new", "tags": ["a", "b"]},
            )
            for n in range(products)
        ],
        stock=[StockEntry(inventory_item_id="iitem_1", location_id="sloc_1", before=None)],
        categories_created={"beauty": "pcat_1"},
        sale_prices=[
            SaleListEntry(
                price_list_id="plist_1",
                prices=[SalePriceChange(variant_id="variant_1", source_id=1, after=[])],
            )
        ],
    )


def test_the_file_holds_the_journal_and_the_extra_keys(tmp_path):
    written = journal()
    path = write_journal(tmp_path / "journal.json", written, {"pending_creates": ["dummyjson:9"]})
    raw = json.loads(path.read_text())
    assert raw == {**written.model_dump(mode="json"), "pending_creates": ["dummyjson:9"]}
    ((loaded, pending),) = load_journals(tmp_path)
    assert loaded == written and pending == ["dummyjson:9"]


def test_empty_lists_make_a_valid_file(tmp_path):
    empty = Journal(run_id="run-2")
    path = write_journal(tmp_path / "journal.json", empty, {})
    assert json.loads(path.read_text()) == empty.model_dump(mode="json")
    assert not list(tmp_path.glob("*.partial"))


def test_a_write_that_fails_leaves_the_journal_it_had(tmp_path):
    path = write_journal(tmp_path / "journal.json", journal(1), {})
    before = path.read_text()
    looped: list = []
    looped.append(looped)  # a value JSON cannot hold
    with pytest.raises(ValueError, match="Circular"):
        write_journal(path, journal(2), {"pending_creates": looped})
    assert path.read_text() == before
    assert not list(tmp_path.glob("*.partial"))


def test_entries_made_while_writing_follow_the_journals_own(tmp_path):
    """A first load's created products are read back as the file is written (`more`),
    never all held: the file must hold them after the journal's own entries."""
    own = journal(2)
    made = (ProductEntry(product_id=f"prod_new_{n}", after={"title": "new"}) for n in range(3))
    write_journal(tmp_path / "journal.json", own, {}, {"products": made})
    ((loaded, _),) = load_journals(tmp_path)
    assert [e.product_id for e in loaded.products] == [
        "prod_0",
        "prod_1",
        "prod_new_0",
        "prod_new_1",
        "prod_new_2",
    ]
    assert loaded.stock == own.stock and loaded.sale_prices == own.sale_prices


def test_a_failed_read_while_writing_leaves_the_journal_it_had(tmp_path):
    """Reading the created products back fails midway: the file keeps what `begin`
    wrote (a run that died between the two), not half a journal."""
    path = write_journal(tmp_path / "journal.json", journal(1), {"pending_creates": ["x:1"]})
    before = path.read_text()

    def made():
        yield ProductEntry(product_id="prod_new_0")
        raise ConnectionError("store went away")

    with pytest.raises(ConnectionError):
        write_journal(path, journal(2), {}, {"products": made()})
    assert path.read_text() == before and not list(tmp_path.glob("*.partial"))
