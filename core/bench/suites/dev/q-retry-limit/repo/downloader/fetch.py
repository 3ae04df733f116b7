import time

from downloader.config import BACKOFF_SECONDS, RETRY_LIMIT


def download(get, url):
    """Fetch url; on failure, retry up to RETRY_LIMIT more times."""
    try:
        return get(url)
    except OSError:
        pass
    for retry in range(RETRY_LIMIT):
        time.sleep(BACKOFF_SECONDS * (retry + 1))
        try:
            return get(url)
        except OSError:
            continue
    raise OSError(f"giving up on {url}")
