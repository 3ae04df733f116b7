from billing.invoice import invoice_text
from billing.totals import compute_total


def test_total():
    assert compute_total([(2.0, 3), (1.5, 2)]) == 9.0


def test_invoice():
    assert invoice_text("ann", [(1.0, 2)]) == "ann: 2.00"
