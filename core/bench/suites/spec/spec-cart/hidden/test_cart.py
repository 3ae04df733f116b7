import pytest
from cart import Cart


def make():
    c = Cart()
    c.add("mug", 899)
    c.add("tea", 350, 3)
    return c


def test_count_and_total():
    c = make()
    assert c.count() == 4
    assert c.total() == 899 + 1050


def test_add_again_accumulates_and_updates_price():
    c = make()
    c.add("tea", 300, 2)
    assert c.count() == 6
    assert c.total() == 899 + 1500


def test_remove():
    c = make()
    c.remove("mug")
    assert c.total() == 1050
    with pytest.raises(KeyError):
        c.remove("mug")


def test_codes():
    c = make()
    assert c.total("HALF") == 974
    assert c.total("TENOFF") == 949
    small = Cart()
    small.add("pin", 100)
    assert small.total("TENOFF") == 0
    with pytest.raises(ValueError):
        c.total("FREE")


def test_invalid_add():
    c = Cart()
    with pytest.raises(ValueError):
        c.add("x", 100, 0)
    with pytest.raises(ValueError):
        c.add("x", -1)
