from ratelimit.policies import DEFAULT_POLICY
from ratelimit.strategies.refill import TokenBucket

_BUCKETS = {}


def get_bucket(key):
    if key not in _BUCKETS:
        _BUCKETS[key] = TokenBucket(**DEFAULT_POLICY)
    return _BUCKETS[key]
