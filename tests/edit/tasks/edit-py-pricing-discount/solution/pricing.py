"""Prices for the shop: line totals, percentage discounts, tax."""

from decimal import ROUND_HALF_UP, Decimal

TAX_RATE = Decimal("0.20")


def money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def line_total(unit_price, quantity: int) -> Decimal:
    if quantity < 0:
        raise ValueError("quantity cannot be negative")
    return money(Decimal(str(unit_price)) * quantity)


def apply_discount(amount, percent) -> Decimal:
    """Reduce ``amount`` by ``percent`` per cent (0-100)."""
    if not 0 <= percent <= 100:
        raise ValueError("percent must be between 0 and 100")
    amount = Decimal(str(amount))
    return money(amount - amount * Decimal(str(percent)) / 100)


def with_tax(amount) -> Decimal:
    return money(Decimal(str(amount)) * (1 + TAX_RATE))
