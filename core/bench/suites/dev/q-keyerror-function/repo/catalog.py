PRICES = {"apple": 0.5, "pear": 0.75}


def list_items():
    return sorted(PRICES)


def has_item(name):
    return name in PRICES


def lookup_price(name):
    if name not in PRICES:
        raise KeyError(f"unknown item {name}")
    return PRICES[name]


def add_item(name, price):
    if price < 0:
        raise ValueError("price must not be negative")
    PRICES[name] = price
