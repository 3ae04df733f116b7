from money import format_money


def format_line(name, qty, price, currency="USD"):
    return f"{name} x{qty} {format_money(qty * price, currency)}"
