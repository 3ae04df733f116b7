from invoice import format_invoice
from lines import format_line

ITEMS = [("tea", 2, 1.5), ("cake", 1, 1200.0)]


def test_euro_everywhere():
    text = format_invoice(ITEMS, currency="EUR")
    assert text == "tea x2 €3.00\ncake x1 €1,200.00\nTotal €1,203.00"


def test_default_is_dollars():
    assert format_invoice(ITEMS).endswith("Total $1,203.00")


def test_format_line_currency():
    assert format_line("a", 1, 2.0, currency="GBP") == "a x1 £2.00"
    assert format_line("a", 1, 2.0) == "a x1 $2.00"
