def deep_merge(base, override):
    """Merge override into a copy of base; nested dicts are merged key by key."""
    result = dict(base)
    for key, value in override.items():
        result[key] = value
    return result
