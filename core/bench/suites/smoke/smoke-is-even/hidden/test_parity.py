from parity import is_even, is_odd


def test_is_even():
    assert is_even(4)
    assert is_even(0)
    assert is_even(-2)
    assert not is_even(7)


def test_is_odd_unchanged():
    assert is_odd(7)
    assert not is_odd(4)
