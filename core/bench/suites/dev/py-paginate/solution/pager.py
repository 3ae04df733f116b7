def paginate(items, page, size):
    """Return the items on a 1-based page of the given size."""
    start = (page - 1) * size
    return items[start:start + size]


def page_count(items, size):
    """How many pages the items fill."""
    return (len(items) + size - 1) // size
