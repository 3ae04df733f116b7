def add_tag(tag, tags=[]):
    """Return a new list with tag appended; the caller's list is left as it was."""
    tags.append(tag)
    return tags
