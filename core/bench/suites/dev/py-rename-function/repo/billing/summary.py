from billing import totals


def grand_total(orders):
    return sum(totals.calc_total(items) for items in orders)
