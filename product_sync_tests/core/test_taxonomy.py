from decimal import Decimal

from product_sync.core import ownership
from product_sync.core.mapping import FIELDS_KEY, HASH_KEY
from product_sync.core.planning import IndexedProduct, ProductIndex, plan_sync
from product_sync.core.taxonomy import (
    ProductTaxonomy,
    collection_handle,
    plan_taxonomy,
    tag_values,
    wanted_taxonomy,
)
from product_sync_tests.factories import product

PREFIX = "dummyjson:"
IDS = ProductTaxonomy(
    tag_ids={"beauty": "ptag_b", "mascara": "ptag_m", "audio": "ptag_a"},
    collection_ids={"essence": "pcol_e", "acme": "pcol_acme"},
)


def test_tags_are_trimmed_deduplicated_and_blank_ones_dropped():
    src = product(tags=["mascara", " beauty", "beauty", "  ", ""])
    assert tag_values(src) == ["beauty", "mascara"]
    tags, _ = wanted_taxonomy([src, product(id=2, tags=["audio"])])
    assert tags == ["audio", "beauty", "mascara"]


def test_a_brand_collection_is_handled_by_the_slug_of_the_brand():
    assert collection_handle("Maison Élise") == "maison-elise"
    assert collection_handle("O'Brien Goods") == "obrien-goods"
    assert collection_handle("Hartley & Sons") == "hartley-sons"
    # Nothing to slug: still one stable handle per brand, not an empty one.
    assert collection_handle("???").startswith("brand-")
    assert collection_handle("???") == collection_handle("???") != collection_handle("!!!")


def test_brands_with_one_slug_share_a_collection_and_products_without_one_have_none():
    products = [
        product(id=1, brand="Acme"),
        product(id=2, brand="ACME"),
        product(id=3, brand=None),
        product(id=4, brand="  "),
        product(id=5, brand="Essence"),
    ]
    assert wanted_taxonomy(products)[1] == {"acme": "ACME", "essence": "Essence"}


def test_only_what_the_store_lacks_is_planned_for_creation():
    plan = plan_taxonomy(
        ["audio", "beauty", "new-tag"],
        {"acme": "Acme", "zephyr": "Zephyr"},
        tag_ids={"audio": "ptag_a", "beauty": "ptag_b"},
        collection_ids={"acme": "pcol_acme"},
    )
    assert plan.tags == ["new-tag"]
    assert plan.collections == [{"title": "Zephyr", "handle": "zephyr"}]


def test_links_name_every_tag_and_the_brand_collection():
    links = IDS.links(product(tags=["mascara", "beauty"], brand="Essence"))
    assert links == {"tags": [{"id": "ptag_b"}, {"id": "ptag_m"}], "collection_id": "pcol_e"}


def test_a_product_without_brand_is_taken_out_of_any_collection():
    assert IDS.links(product(brand=None))["collection_id"] is None
    assert IDS.links(product(tags=[]))["tags"] == []


def test_links_not_known_yet_are_left_out_so_the_store_keeps_what_it_has():
    links = IDS.links(product(tags=["beauty", "not-created"], brand="Unknown Brand"))
    assert links == {}


def written(payload: dict, content_hash: str | None = None) -> IndexedProduct:
    """The store's product after `payload` was written (its hash and field record)."""
    return IndexedProduct(
        id="prod_1",
        source_id=1,
        handle=payload.get("handle", "essence"),
        status="published",
        content_hash=content_hash or payload["metadata"][HASH_KEY],
        price=Decimal("9.99"),
        field_record=ownership.pack_record(payload["metadata"][FIELDS_KEY]),
    )


def test_the_content_hash_and_the_field_record_cover_tags_and_collection():
    """A brand change upstream rewrites the product once; the same links write nothing."""
    src = product(tags=["beauty"], brand="Essence", price=9.99)
    empty = ProductIndex(external_id_prefix=PREFIX)
    (create,) = plan_sync([src], empty, {}, sales_channel_id="sc", taxonomy=IDS).creates
    assert create.payload["tags"] == [{"id": "ptag_b"}]
    assert create.payload["collection_id"] == "pcol_e"
    assert {"tags", "collection"} <= set(create.payload["metadata"][FIELDS_KEY])

    index = ProductIndex.build(PREFIX, [written(create.payload)])
    assert plan_sync([src], index, {}, sales_channel_id="sc", taxonomy=IDS).unchanged == [1]
    moved = product(tags=["beauty"], brand="Acme", price=9.99)
    (change,) = plan_sync([moved], index, {}, sales_channel_id="sc", taxonomy=IDS).updates
    assert change.payload["collection_id"] == "pcol_acme"
    assert "tags" in change.payload  # the whole desired state, as for every update


def test_links_not_known_yet_are_neither_sent_nor_recorded_over():
    """A tag not created yet (a dry run, a failure): the product keeps its tags in the
    store, and its record keeps what the sync last wrote for them."""
    src = product(tags=["beauty"], brand="Essence", price=9.99)
    empty = ProductIndex(external_id_prefix=PREFIX)
    (create,) = plan_sync([src], empty, {}, sales_channel_id="sc", taxonomy=IDS).creates
    index = ProductIndex.build(PREFIX, [written(create.payload)])
    unknown = ProductTaxonomy(collection_ids=IDS.collection_ids)  # no tag ids known
    plan = plan_sync([src], index, {}, sales_channel_id="sc", taxonomy=unknown)
    (update,) = plan.updates  # the payload differs (no tags in it), so its hash does
    assert "tags" not in update.payload and update.payload["collection_id"] == "pcol_e"
    record = update.payload["metadata"][FIELDS_KEY]
    assert record["tags"] == create.payload["metadata"][FIELDS_KEY]["tags"]


def test_tags_and_collection_under_create_only_are_written_once_then_the_merchants():
    policy = ownership.OwnershipPolicy(tags="create_only", collection="create_only")
    src = product(tags=["beauty"], brand="Essence", price=9.99)
    empty = ProductIndex(external_id_prefix=PREFIX)
    (create,) = plan_sync(
        [src], empty, {}, sales_channel_id="sc", taxonomy=IDS, policy=policy
    ).creates
    assert create.payload["tags"] == [{"id": "ptag_b"}]
    index = ProductIndex.build(PREFIX, [written(create.payload)])
    moved = product(tags=["beauty", "mascara"], brand="Acme", price=9.99)
    (update,) = plan_sync(
        [moved], index, {}, sales_channel_id="sc", taxonomy=IDS, policy=policy
    ).updates
    assert "tags" not in update.payload and "collection_id" not in update.payload


def test_a_tag_the_merchant_unlinked_is_linked_again_and_reported():
    src = product(tags=["beauty", "mascara"], brand="Essence", price=9.99)
    empty = ProductIndex(external_id_prefix=PREFIX)
    (create,) = plan_sync([src], empty, {}, sales_channel_id="sc", taxonomy=IDS).creates
    store_row = {**create.payload, "tags": [{"id": "ptag_b"}]}  # "mascara" unlinked by hand
    held = IndexedProduct(
        id="prod_1",
        source_id=1,
        handle=create.handle,
        status="published",
        content_hash=create.payload["metadata"][HASH_KEY],
        price=Decimal("9.99"),
        field_record=ownership.pack_record(create.payload["metadata"][FIELDS_KEY]),
        edits=ownership.store_edits(store_row),
    )
    index = ProductIndex.build(PREFIX, [held])
    plan = plan_sync([src], index, {}, sales_channel_id="sc", taxonomy=IDS)
    (update,) = plan.updates
    assert update.payload["tags"] == [{"id": "ptag_b"}, {"id": "ptag_m"}]
    assert [(e.field, e.action) for e in plan.merchant_edits] == [("tags", "overwritten")]
