import pytest

from inventory import Inventory


def make():
    inv = Inventory()
    inv.add("bolt", 5)
    inv.add("nut", 2)
    return inv


def test_remove_lowers_count():
    inv = make()
    inv.remove("bolt", 3)
    assert inv.count("bolt") == 2


def test_remove_to_zero_drops_item():
    inv = make()
    inv.remove("nut", 2)
    assert inv.names() == ["bolt"]
    assert inv.count("nut") == 0


def test_not_enough_stock():
    inv = make()
    with pytest.raises(ValueError):
        inv.remove("bolt", 6)
    with pytest.raises(ValueError):
        inv.remove("washer", 1)
    assert inv.count("bolt") == 5
