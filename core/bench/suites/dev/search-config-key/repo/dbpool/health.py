def describe(pool):
    return f"{pool.url} ({pool.size} connections, {pool.timeout}s timeout)"
