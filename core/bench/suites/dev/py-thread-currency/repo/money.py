SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def format_money(amount, currency="USD"):
    return f"{SYMBOLS[currency]}{amount:,.2f}"
