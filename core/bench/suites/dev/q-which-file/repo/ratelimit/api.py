from ratelimit.store import get_bucket


def limit(key, cost=1):
    return get_bucket(key).take(cost)
