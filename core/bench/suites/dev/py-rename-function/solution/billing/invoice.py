from billing.totals import compute_total


def invoice_text(customer, items):
    return f"{customer}: {compute_total(items):.2f}"
