DEFAULT_TIMEOUT = 10


def make_request(method, url, timeout=DEFAULT_TIMEOUT):
    """Describe a request (the real sending happens elsewhere)."""
    return {"method": method, "url": url, "timeout": timeout}
