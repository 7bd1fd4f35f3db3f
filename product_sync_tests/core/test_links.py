import pickle

from product_sync.core.links import ProductLinks


def test_links_name_each_products_groups_and_only_the_products_asked_for():
    links = ProductLinks.of(
        {
            "categories": [("pcat_b", ["p1", "p2"]), ("pcat_a", ["p2"]), ("pcat_c", [])],
            "tags": [("ptag_1", ["p2"])],
        }
    )
    assert links.by_product() == {
        "p1": {"categories": ("pcat_b",)},
        "p2": {"categories": ("pcat_a", "pcat_b"), "tags": ("ptag_1",)},
    }
    assert links.by_product({"p1", "p9"}) == {"p1": {"categories": ("pcat_b",)}}


def test_a_large_stores_links_stay_small_enough_to_hand_to_every_range():
    ids = [f"prod_01KB{n:022d}" for n in range(100_000)]
    links = ProductLinks.of({"categories": [(f"pcat_{c}", ids[c::24]) for c in range(24)]})
    # ~3.1 MB of ids as text; each range gets its own copy through the IO manager.
    assert len(pickle.dumps(links)) < 600_000
    shared = links.by_product(set(ids[:48]))
    assert len(shared) == 48
    assert shared[ids[0]]["categories"] is shared[ids[24]]["categories"]
