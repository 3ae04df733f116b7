"""The model gateway in plain Python: fair queueing, slots, affinity, tokens, quotas, cache, metrics.

No Ray here; ``smallcode.actors.gateway`` hosts :class:`GatewayServer` in an actor.
"""

from smallcode.core.observability.prometheus import MetricsRegistry

from .affinity import SESSION_HEADER, AffinityMap, affinity_key
from .app import build_app
from .cache import ResponseCache, cache_key, is_cacheable
from .config import BackendConfig, GatewayConfig, GatewayConfigError, UserConfig, parse_backend_spec
from .quota import QuotaExceeded, QuotaTracker
from .scheduler import FairScheduler, Lease, QueueFull
from .server import GatewayServer, bind_socket
from .service import Caller, GatewayHTTPError, GatewayService, is_loopback
from .tokens import TokenStore, hash_token, new_token
from .upstream import BackendClient, UpstreamError

__all__ = [
    "SESSION_HEADER",
    "AffinityMap",
    "BackendClient",
    "BackendConfig",
    "Caller",
    "FairScheduler",
    "GatewayConfig",
    "GatewayConfigError",
    "GatewayHTTPError",
    "GatewayServer",
    "GatewayService",
    "Lease",
    "MetricsRegistry",
    "QueueFull",
    "QuotaExceeded",
    "QuotaTracker",
    "ResponseCache",
    "TokenStore",
    "UpstreamError",
    "UserConfig",
    "affinity_key",
    "bind_socket",
    "build_app",
    "cache_key",
    "hash_token",
    "is_cacheable",
    "is_loopback",
    "new_token",
    "parse_backend_spec",
]
