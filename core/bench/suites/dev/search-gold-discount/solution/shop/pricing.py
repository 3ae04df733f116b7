from shop.tiers import DISCOUNTS


def discount_for(customer):
    """Fraction taken off for the customer's loyalty tier."""
    return DISCOUNTS.get(customer.tier.lower(), 0.0)


def price_for(customer, amount):
    return round(amount * (1 - discount_for(customer)), 2)
