from ratelimit.api import limit

__all__ = ["limit"]
