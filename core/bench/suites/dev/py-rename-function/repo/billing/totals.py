def calc_total(items):
    """Sum of price * qty over (price, qty) pairs."""
    return sum(price * qty for price, qty in items)
