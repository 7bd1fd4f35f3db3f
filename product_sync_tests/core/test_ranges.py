import pytest
from hypothesis import given
from hypothesis import strategies as st

from product_sync.core.ranges import IdRange, id_ranges


def test_ranges_of_a_size_end_with_an_open_range():
    assert [r.key for r in id_ranges(300, 100)] == ["1-100", "101-200", "201-"]
    assert [r.key for r in id_ranges(100_000, 10_000)][-2:] == ["80001-90000", "90001-"]
    assert [r.key for r in id_ranges(0, 100)] == ["1-"]


def test_a_count_of_ranges_splits_evenly():
    assert [r.key for r in id_ranges(300, 1, count=3)] == ["1-100", "101-200", "201-"]


def test_mapping_keys_are_what_dynamic_outputs_accept():
    assert IdRange(lo=1, hi=100).mapping_key == "ids_1_100"
    assert IdRange(lo=201).mapping_key == "ids_201_up"


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        id_ranges(10, 0)


@given(
    max_id=st.integers(0, 5000),
    size=st.integers(1, 700),
    count=st.integers(0, 12),
    probe=st.integers(1, 10_000),
)
def test_every_id_belongs_to_exactly_one_range(max_id, size, count, probe):
    ranges = id_ranges(max_id, size, count)
    assert sum(probe in r for r in ranges) == 1
    assert sum(r.hi is None for r in ranges) == 1
