from lines import format_line
from money import format_money


def format_invoice(items):
    rows = [format_line(name, qty, price) for name, qty, price in items]
    total = sum(qty * price for _, qty, price in items)
    rows.append(f"Total {format_money(total)}")
    return "\n".join(rows)
