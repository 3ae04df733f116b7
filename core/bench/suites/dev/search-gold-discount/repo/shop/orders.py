from shop.pricing import price_for


def order_total(customer, lines):
    subtotal = sum(qty * unit for qty, unit in lines)
    return price_for(customer, subtotal)
