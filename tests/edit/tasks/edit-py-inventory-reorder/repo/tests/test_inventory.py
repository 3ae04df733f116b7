import pytest

from inventory import Inventory, StockError


def make():
    inv = Inventory()
    inv.add_item("A1", "bolts", 10, reorder_level=5, tags=["metal"])
    inv.add_item("B2", "nuts", 5, reorder_level=5, tags=["metal"])
    inv.add_item("C3", "glue", 2, reorder_level=3)
    return inv


def test_item_at_its_reorder_level_is_reported():
    assert make().reorder_report() == ["B2", "C3"]


def test_shipping_down_to_the_level_triggers_reorder():
    inv = make()
    inv.ship("A1", 5)
    assert inv.reorder_report() == ["A1", "B2", "C3"]


def test_movements_and_errors(tmp_path):
    inv = make()
    inv.receive("C3", 10)
    inv.adjust("A1", 8)
    assert [m.delta for m in inv.movements("A1")] == [-2]
    with pytest.raises(StockError):
        inv.ship("B2", 6)
    inv.save(tmp_path / "inv.json")
    again = Inventory.load(tmp_path / "inv.json")
    assert again.total_units("metal") == 13
