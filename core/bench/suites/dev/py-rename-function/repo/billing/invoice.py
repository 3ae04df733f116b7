from billing.totals import calc_total


def invoice_text(customer, items):
    return f"{customer}: {calc_total(items):.2f}"
