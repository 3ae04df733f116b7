def average(values):
    """Arithmetic mean of the values."""
    return sum(values) / len(values)


def spread(values):
    """Largest minus smallest value (0 for no values)."""
    if not values:
        return 0
    return max(values) - min(values)
