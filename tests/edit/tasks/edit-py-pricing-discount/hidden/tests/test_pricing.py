from decimal import Decimal

import pytest

from pricing import apply_discount, line_total, with_tax


def test_discount_is_a_percentage():
    assert apply_discount(200, 10) == Decimal("180.00")
    assert apply_discount("19.99", 25) == Decimal("14.99")
    assert apply_discount(50, 0) == Decimal("50.00")
    assert apply_discount(50, 100) == Decimal("0.00")


def test_bad_percent():
    with pytest.raises(ValueError):
        apply_discount(10, 120)


def test_line_total_and_tax():
    assert line_total("2.50", 4) == Decimal("10.00")
    assert with_tax(10) == Decimal("12.00")
