from stats import average, spread


def test_average_of_nothing_is_zero():
    assert average([]) == 0.0


def test_average():
    assert average([1, 2, 3]) == 2.0
    assert average([2.5]) == 2.5


def test_spread_unchanged():
    assert spread([4, 1, 9]) == 8
