"""Every Redis key flowbot writes, built in one place.

Each key starts with `defaults.REDIS_KEY_PREFIX` and is written with a TTL by its owner
(noted per function), so a shared Redis stays readable and never fills with stale keys.
"""

from __future__ import annotations

from engine import defaults


def key(*parts: str) -> str:
    """`flowbot:<part>:<part>…`. Plugins build their keys with it in one module of their own."""
    return defaults.REDIS_KEY_PREFIX + ":".join(parts)


def breaker_failures(name: str) -> str:
    """Consecutive failures of a circuit; TTL renewed on each failure (SharedCircuitBreaker)."""
    return key("breaker", name, "failures")


def breaker_open(name: str) -> str:
    """Present while a circuit is open; TTL = the recovery timeout."""
    return key("breaker", name, "open")


def breaker_probe(name: str) -> str:
    """The half-open probe lock; TTL = the probe timeout, deleted when the probe ends."""
    return key("breaker", name, "probe")


def inbound_count(phone: str, window: int) -> str:
    """The ids of one contact's messages in one rate-limit window, ranked by arrival (a
    sorted set); TTL = the window (rate_limit)."""
    return key("rate", phone, str(window))


def catalog_products(organization_id: int) -> str:
    """The cached catalog, JSON carrying its revision; TTL = CATALOG_CACHE_SECONDS (catalog plugin)."""
    return key("catalog", str(organization_id), "products")
