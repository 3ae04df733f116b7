def shout(text):
    """Upper-case text with an exclamation mark."""
    return text.upper() + "!"


def truncate(text, limit):
    """Cut text to at most limit characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"
