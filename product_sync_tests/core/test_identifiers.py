"""Who keeps a SKU or a barcode: a SKU clash quarantines, a barcode clash drops it."""

from product_sync.core.identifiers import settle_identifiers


def claims(sku, barcode=None):
    return {"sku": sku, "barcode": barcode}


def test_sku_clash_quarantines_the_later_record_with_its_field():
    refused, dropped = settle_identifiers([(2, claims("S")), (1, claims("S"))], [])
    assert [(q.source_id, q.field) for q in refused] == [(2, "sku")]
    assert "'S' is also used by product 1" in refused[0].reason
    assert dropped == []


def test_barcode_clash_keeps_the_product_and_drops_only_the_barcode():
    refused, dropped = settle_identifiers([(1, claims("A", "B1")), (2, claims("B", "B1"))], [])
    assert refused == []
    assert [(d.source_id, d.field, d.value, d.held_by) for d in dropped] == [
        (2, "barcode", "B1", 1)
    ]


def test_the_store_holder_keeps_its_barcode_whatever_its_id():
    refused, dropped = settle_identifiers(
        [(1, claims("A", "B1")), (2, claims("B", "B1"))], [(2, claims("B", "B1"))]
    )
    assert refused == [] and [(d.source_id, d.held_by) for d in dropped] == [(1, 2)]


def test_a_product_outside_the_scope_holds_what_it_holds_in_the_store():
    """A targeted sync (or a range) sees only some records; the others hold their values."""
    refused, dropped = settle_identifiers(
        [(5, claims("S", "B1"))], [(9, claims("S", "B9")), (8, claims("T", "B1"))]
    )
    assert [(q.source_id, q.field) for q in refused] == [(5, "sku")]
    refused, dropped = settle_identifiers([(5, claims("U", "B1"))], [(8, claims("T", "B1"))])
    assert refused == [] and [(d.source_id, d.held_by) for d in dropped] == [(5, 8)]


def test_a_value_a_planned_product_gives_up_is_free():
    refused, dropped = settle_identifiers(
        [(1, claims("NEW", "B-NEW")), (2, claims("OLD", "B-OLD"))], [(1, claims("OLD", "B-OLD"))]
    )
    assert refused == [] and dropped == []


def test_a_quarantined_record_claims_no_barcode():
    refused, dropped = settle_identifiers(
        [(1, claims("S", "B1")), (2, claims("S", "B2")), (3, claims("C", "B2"))], []
    )
    assert [q.source_id for q in refused] == [2]
    assert dropped == []
