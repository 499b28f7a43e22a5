"""The Redis keys of the Zoho plugin, built with `engine.redis_keys.key` (prefix `flowbot:`)."""

from __future__ import annotations

from engine.redis_keys import key


def access_token(client_id: str) -> str:
    """The cached access token and its API domain; TTL = the token's lifetime less a margin."""
    return key("zoho", client_id, "access-token")


def token_refresh_lock(client_id: str) -> str:
    """Held by the one process refreshing the token; TTL = TOKEN_LOCK_SECONDS (tokens)."""
    return key("zoho", client_id, "token-refresh")


def sync_claim(organization_id: int) -> str:
    """Set by the sync that runs this period; TTL = ZOHO_SYNC_MINUTES, deleted when it fails."""
    return key("zoho", "sync", str(organization_id))
