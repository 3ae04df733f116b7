def retry(func, attempts=3):
    """Call func until it succeeds, at most `attempts` times; re-raise the last error."""
    last = None
    for _ in range(attempts - 1):
        try:
            return func()
        except Exception as exc:  # noqa: BLE001 - any failure is retried
            last = exc
    raise last
