import pytest
from intervals import free, merge


def test_merge_overlapping_and_touching():
    assert merge([(10, 12), (1, 2), (2, 5), (4, 6)]) == [(1, 6), (10, 12)]


def test_merge_empty():
    assert merge([]) == []


def test_merge_invalid():
    with pytest.raises(ValueError):
        merge([(3, 3)])


def test_free():
    assert free([(9, 11), (10, 12), (14, 15)], 9, 18) == [(12, 14), (15, 18)]


def test_free_clips():
    assert free([(6, 9), (16, 20)], 8, 17) == [(9, 16)]


def test_free_whole_day():
    assert free([], 8, 17) == [(8, 17)]
