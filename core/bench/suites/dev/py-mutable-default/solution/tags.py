def add_tag(tag, tags=None):
    """Return a new list with tag appended; the caller's list is left as it was."""
    result = list(tags or [])
    result.append(tag)
    return result
