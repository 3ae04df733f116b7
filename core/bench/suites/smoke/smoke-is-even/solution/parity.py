def is_even(n):
    """True when n is divisible by 2."""
    return n % 2 == 0


def is_odd(n):
    """True when n is not divisible by 2."""
    return n % 2 == 1
