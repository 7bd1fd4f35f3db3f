from product_sync.core.images import IMAGES_KEY, StoredImage, parse_stored
from product_sync.core.mapping import HASH_KEY, to_medusa_product
from product_sync_tests.factories import product

SRC = "https://cdn.example.test/beauty/Men's Tee & Co/1.png"
THUMB = "https://cdn.example.test/beauty/Men's Tee & Co/thumbnail.png"


def mapped(images):
    return to_medusa_product(
        product(),
        handle="h",
        external_id_prefix="dj:",
        category_id=None,
        sales_channel_id=None,
        images=images,
    )


def test_uploaded_copies_replace_source_urls_and_are_remembered():
    copy = StoredImage(sha256="ab" * 32, url="http://store/static/1-ab.png", etag='W/"1"')
    payload = mapped({SRC: copy})
    assert payload["images"] == [{"url": copy.url}]
    assert payload["thumbnail"] == THUMB  # no copy: the source URL stays
    assert parse_stored(payload["metadata"]) == {SRC: copy}


def test_a_new_copy_changes_the_hash():
    one = StoredImage(sha256="a" * 64, url="http://store/static/1.png")
    two = StoredImage(sha256="b" * 64, url="http://store/static/2.png")
    assert mapped({SRC: one})["metadata"][HASH_KEY] != mapped({SRC: two})["metadata"][HASH_KEY]


def test_without_uploads_nothing_is_remembered():
    assert mapped(None)["metadata"][IMAGES_KEY] is None
    assert mapped(None)["images"] == [{"url": SRC}]


def test_unreadable_stored_entries_are_ignored():
    assert parse_stored({IMAGES_KEY: {SRC: {"url": "x"}, "other": "junk"}}) == {}
    assert parse_stored({IMAGES_KEY: "junk"}) == {}
    assert parse_stored(None) == {}
