from shop.customers import Customer, from_row
from shop.orders import order_total
from shop.report import summary


def test_gold_gets_ten_percent():
    assert order_total(Customer("ann", "GOLD"), [(2, 50.0)]) == 90.0


def test_silver_from_csv_row():
    assert order_total(from_row("bo, SILVER"), [(1, 100.0)]) == 95.0


def test_no_tier_pays_full_price():
    assert summary(Customer("cy", "NONE"), [(1, 10.0)]) == "cy: 10.00"
