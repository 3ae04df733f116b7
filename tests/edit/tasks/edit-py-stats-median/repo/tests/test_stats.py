import pytest

from stats import mean, median, mode, spread


def test_median_of_even_count_is_the_mean_of_the_middle_two():
    assert median([4, 1, 3, 2]) == 2.5
    assert median([10, 20]) == 15


def test_median_of_odd_count():
    assert median([3, 1, 2]) == 2


def test_other_statistics():
    assert mean([1, 2, 3, 4]) == 2.5
    assert mode([1, 2, 2, 3]) == 2
    assert spread([5, 1, 9]) == 8
    with pytest.raises(ValueError):
        median([])
