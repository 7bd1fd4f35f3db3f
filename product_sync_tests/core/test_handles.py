import pytest
from hypothesis import given
from hypothesis import strategies as st

from product_sync.core.handles import assign_handles, base_handle, slug


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Men's Shirt", "mens-shirt"),
        ("Lamp & Red", "lamp-red"),
        ("Lamp Red", "lamp-red"),
        ("Dr. Pepper 2.0", "dr-pepper-2-0"),
        ("Crème Brûlée Ünïcode", "creme-brulee-unicode"),
        ("iPhone 13 Pro Max", "iphone-13-pro-max"),
        ("Rock\u2019n\u2019Roll — Édition", "rocknroll-edition"),
    ],
)
def test_pinned_slug(title, expected):
    assert slug(title) == expected


def test_title_without_letters_falls_back_to_the_id():
    assert base_handle(7, "!!! ???") == "product-7"


def test_collisions_get_suffixes_by_source_id():
    assigned = assign_handles([(3, "Lamp Red"), (1, "Lamp & Red"), (2, "Other")], set())
    assert assigned == {1: "lamp-red", 2: "other", 3: "lamp-red-1"}


def test_taken_handles_are_never_reused():
    assigned = assign_handles([(1, "Lamp Red")], {"lamp-red", "lamp-red-1"})
    assert assigned == {1: "lamp-red-2"}


def test_stable_when_a_same_titled_product_appears_later():
    first = assign_handles([(10, "Lamp Red")], set())
    # Next run: product 10 already holds its handle; a new product 4 with the same title
    # (lower id!) must not take it over.
    second = assign_handles([(4, "Lamp Red")], {first[10]})
    assert first == {10: "lamp-red"}
    assert second == {4: "lamp-red-1"}


titles = st.text(min_size=0, max_size=40)


@given(
    st.lists(st.tuples(st.integers(1, 10_000), titles), unique_by=lambda t: t[0]),
    st.sets(st.text(alphabet="abc-1", max_size=8), max_size=10),
)
def test_handles_are_unique_free_and_order_independent(products, taken):
    assigned = assign_handles(products, taken)
    assert len(set(assigned.values())) == len(products)
    assert not set(assigned.values()) & taken
    assert assign_handles(list(reversed(products)), taken) == assigned
    for handle in assigned.values():
        assert handle and handle == handle.lower() and " " not in handle
