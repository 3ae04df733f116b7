from shop.orders import order_total


def summary(customer, lines):
    return f"{customer.name}: {order_total(customer, lines):.2f}"
