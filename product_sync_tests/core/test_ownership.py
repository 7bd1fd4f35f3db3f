"""Who owns a field, and drift: what the sync wrote against what the store holds."""

import copy

import pytest
from pydantic import ValidationError

from product_sync.core import ownership
from product_sync.core.mapping import (
    ARCHIVED_KEY,
    FIELDS_KEY,
    HASH_KEY,
    SOURCE_METADATA_KEYS,
    content_hash,
    to_medusa_product,
    to_medusa_update,
)
from product_sync.core.ownership import OwnershipPolicy
from product_sync.core.planning import IndexedProduct, ProductIndex, plan_sync
from product_sync_tests.factories import product

PREFIX = "dummyjson:"


# A product's tags and collection, as `core.taxonomy` links them (every group then in it).
LINKS = {"tags": [{"id": "ptag_1"}], "collection_id": "pcol_1"}


def desired(src=None, links=None):
    """The source's full desired state of a product, as planning builds it."""
    return to_medusa_product(
        src or product(id=1),
        handle="h-1",
        external_id_prefix=PREFIX,
        category_id="pcat_1",
        sales_channel_id="sc",
        links=links,
    )


def created(src=None, policy=None, links=None):
    """The create payload the sync sends (its shape is also the Admin API row's)."""
    return ownership.for_create(desired(src, links), policy or OwnershipPolicy())


def row(payload, **edited):
    """The store's row of a product written with `payload`, with these fields edited."""
    held = copy.deepcopy(payload)
    held["images"] = [{"id": f"img_{n}", **i} for n, i in enumerate(held.get("images", []))]
    held["categories"] = [{"id": c["id"], "handle": "x"} for c in held.get("categories", [])]
    held.update(edited)
    return held


def reconcile(payload, store_row, policy=None, archived=False):
    """Plan an update of the product `store_row` shows; `payload` is what the sync wants."""
    full = desired() if payload is None else payload
    update = to_medusa_update(copy.deepcopy(full), product_id="prod_1", variant_id="v_1")
    return ownership.reconcile(
        update,
        policy or OwnershipPolicy(),
        source_id=1,
        handle="h-1",
        record=ownership.parse_record(store_row["metadata"]),
        edits=ownership.store_edits(store_row),
        archived=archived,
    )


def test_defaults_give_the_status_to_the_merchant_and_the_rest_to_the_source():
    policy = OwnershipPolicy()
    assert policy.status is ownership.CREATE_ONLY
    assert {policy.of(g) for g in ownership.FIELD_GROUPS if g != "status"} == {ownership.SOURCE}
    assert set(OwnershipPolicy.model_fields) == set(ownership.FIELD_GROUPS)


def test_a_title_that_is_never_written_is_refused():
    with pytest.raises(ValidationError, match="Medusa needs a title"):
        OwnershipPolicy(title="ignore")
    with pytest.raises(ValidationError):
        OwnershipPolicy(colour="source")


def test_the_store_as_written_shows_no_edits():
    payload = created(links=LINKS)
    assert set(payload["metadata"][FIELDS_KEY]) == set(ownership.GROUPS)
    assert ownership.store_edits(row(payload)) is None
    # The content hash does not depend on the record (written after it, carried forward).
    assert content_hash(payload) == payload["metadata"][HASH_KEY]


def test_each_edited_group_is_found_and_only_that_one():
    payload = created()
    metadata = {**payload["metadata"], "brand": "Merchant Brand", "merchant_note": "mine"}
    cases = {
        "title": {"title": "Merchant Title"},
        "description": {"description": "rewritten"},
        "images": {"thumbnail": "https://cdn.example.test/other.png"},
        "price": {
            "variants": [
                {**payload["variants"][0], "prices": [{"amount": 1.5, "currency_code": "usd"}]}
            ]
        },
        "category": {"categories": [{"id": "pcat_merchant"}]},
        "status": {"status": "draft"},
        "metadata": {"metadata": metadata},
    }
    for group, edit in cases.items():
        edits = ownership.store_edits(row(payload, **edit))
        assert edits is not None and set(edits) == {group}, group
    assert ownership.store_edits(row(payload, title="Merchant Title"))["title"].shown == (
        "Merchant Title"
    )


def test_merchant_metadata_of_their_own_and_blank_values_are_not_edits():
    payload = created(product(id=1, brand=""))
    metadata = {k: v for k, v in payload["metadata"].items() if k != "brand"}  # "" is dropped
    assert ownership.store_edits(row(payload, metadata={**metadata, "note": "x"})) is None
    assert set(SOURCE_METADATA_KEYS) <= set(payload["metadata"])


def test_a_status_the_sync_archived_and_fields_not_listed_are_not_judged():
    payload = created()
    archived = row(payload, status="draft")
    archived["metadata"][ARCHIVED_KEY] = "2024-01-01T00:00:00+00:00"
    assert ownership.store_edits(archived) is None
    narrow = {k: v for k, v in row(payload, title="Other").items() if k != "title"}
    assert ownership.store_edits(narrow) is None


def test_source_owned_edit_is_overwritten_and_reported():
    payload = created()
    result = reconcile(payload, row(payload, title="Merchant Title"))
    assert result.rewrite
    assert result.payload["title"] == payload["title"]
    (edit,) = result.edits
    assert (edit.field, edit.action) == ("title", "overwritten")
    assert (edit.store_value, edit.source_value) == ("Merchant Title", payload["title"])
    assert (edit.external_id, edit.handle) == ("dummyjson:1", "h-1")


def test_create_only_edit_is_kept_reported_and_not_a_write():
    policy = OwnershipPolicy(title="create_only")
    payload = created(policy=policy)
    store_row = row(payload, title="Merchant Title")
    result = reconcile(payload, store_row, policy)
    assert not result.rewrite
    assert "title" not in result.payload
    (edit,) = result.edits
    assert (edit.field, edit.action, edit.store_value) == ("title", "kept", "Merchant Title")
    # The record still says what the sync wrote on create: the edit stays an edit.
    record = result.payload["metadata"][FIELDS_KEY]
    assert record["title"] == store_row["metadata"][FIELDS_KEY]["title"]


def test_ignored_group_is_never_written_nor_reported():
    policy = OwnershipPolicy(description="ignore", price="ignore", metadata="ignore")
    payload = created(policy=policy)
    assert "description" not in payload
    assert payload["variants"][0]["prices"] == []  # Medusa requires the list on create
    assert "brand" not in payload["metadata"] and payload["metadata"]["dummyjson_id"] == 1
    assert not {"description", "price", "metadata"} & set(payload["metadata"][FIELDS_KEY])
    result = reconcile(None, row(payload, description="merchant's"), policy)
    assert result.edits == [] and not result.rewrite
    assert "description" not in result.payload
    assert "prices" not in result.payload["variants"][0]
    assert "brand" not in result.payload["metadata"]


def test_merchant_draft_is_kept_under_the_default_and_the_sync_archive_is_undone():
    payload = created()
    drafted = reconcile(payload, row(payload, status="draft"))
    assert "status" not in drafted.payload and not drafted.rewrite
    assert [(e.field, e.action, e.store_value) for e in drafted.edits] == [
        ("status", "kept", "draft")
    ]
    archived = row(payload, status="draft")
    archived["metadata"][ARCHIVED_KEY] = "2024-01-01T00:00:00+00:00"
    restored = reconcile(payload, archived, archived=True)
    assert restored.payload["status"] == "published" and restored.edits == []
    under_source = reconcile(
        payload, row(payload, status="draft"), OwnershipPolicy(status="source")
    )
    assert under_source.payload["status"] == "published"
    assert [e.action for e in under_source.edits] == ["overwritten"]


def test_a_product_without_a_record_is_rewritten_once_to_record_it():
    payload = created(links=LINKS)
    legacy = row(payload)
    legacy["metadata"].pop(FIELDS_KEY)
    result = reconcile(payload, legacy)
    assert result.rewrite and result.edits == []
    assert set(result.payload["metadata"][FIELDS_KEY]) == set(ownership.GROUPS) - {"status"}


def test_records_pack_small_and_junk_is_not_trusted():
    record = {"title": "abc123abc123", "status": "0123456789ab"}
    assert ownership.unpack_record(ownership.pack_record(record)) == record
    assert ownership.pack_record({}) is None and ownership.unpack_record(None) == {}
    junk = {FIELDS_KEY: {"title": "a;b=c", "colour": "abc", "price": 5, "status": "ok1"}}
    assert ownership.parse_record(junk) == {"status": "ok1"}
    assert ownership.parse_record({FIELDS_KEY: "title=x"}) == {}


def indexed_from(payload, store_row, source_id=1):
    """The index's view of `store_row` (what `rows.indexed_product` derives)."""
    metadata = store_row["metadata"]
    return IndexedProduct(
        id=f"prod_{source_id}",
        source_id=source_id,
        handle="h-1",
        status=store_row["status"],
        content_hash=metadata[HASH_KEY],
        category_id="pcat_1",
        variant_id="v_1",
        sku=payload["variants"][0]["sku"],
        price=product(id=source_id).price,
        archived=bool(metadata.get(ARCHIVED_KEY)),
        field_record=ownership.pack_record(ownership.parse_record(metadata)),
        edits=ownership.store_edits(store_row),
    )


def test_planning_keeps_kept_edits_out_of_the_writes():
    """The idempotency check plans like this: a kept edit is not a pending write."""
    src = product(id=1)
    index = ProductIndex.build(
        PREFIX, [indexed_from(created(src), row(created(src), status="draft"))]
    )
    kept = plan_sync([src], index, {"beauty": "pcat_1"}, sales_channel_id="sc")
    assert kept.unchanged == [1] and not (kept.creates or kept.updates or kept.archives)
    assert [(e.field, e.action) for e in kept.merchant_edits] == [("status", "kept")]

    policy = OwnershipPolicy(status="source")
    put_right = plan_sync([src], index, {"beauty": "pcat_1"}, sales_channel_id="sc", policy=policy)
    (update,) = put_right.updates
    assert update.payload["status"] == "published"
    assert [(e.field, e.action) for e in put_right.merchant_edits] == [("status", "overwritten")]


def test_an_ignored_status_is_never_set_not_even_by_archiving():
    policy = OwnershipPolicy(status="ignore")
    payload = created(policy=policy)
    assert "status" not in payload  # Medusa creates it as a draft, for the merchant
    source = [product(id=i) for i in range(1, 11)]
    index = ProductIndex.build(
        PREFIX, [indexed_from(created(p), row(created(p)), p.id) for p in source]
    )
    gone = plan_sync(source[:-1], index, {"beauty": "pcat_1"}, sales_channel_id="sc", policy=policy)
    assert gone.archives == [] and gone.archive_blocked_reason is None
    default = plan_sync(source[:-1], index, {"beauty": "pcat_1"}, sales_channel_id="sc")
    assert [a.source_id for a in default.archives] == [10]
