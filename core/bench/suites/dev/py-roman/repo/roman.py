def to_roman(n):
    """Convert an integer from 1 to 3999 to a Roman numeral."""
    raise NotImplementedError
