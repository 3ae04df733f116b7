def largest(numbers):
    """Return the largest value in a non-empty list."""
    return max(numbers)


def smallest(numbers):
    """Return the smallest value in a non-empty list."""
    return min(numbers)
