def merge(bookings):
    """See docs/intervals.md."""


def free(bookings, day_start, day_end):
    """See docs/intervals.md."""
