from logkit.config import DEFAULTS


def format_record(level, message, fmt=None):
    return (fmt or DEFAULTS["format"]).format(level=level.upper(), message=message)
