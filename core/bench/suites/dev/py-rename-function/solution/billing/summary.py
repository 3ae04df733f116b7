from billing import totals


def grand_total(orders):
    return sum(totals.compute_total(items) for items in orders)
