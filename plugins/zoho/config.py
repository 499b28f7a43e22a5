"""Zoho CRM settings, read from the environment (`settings.environ`) like every other setting.

    ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN   the Self Client's credentials
    ZOHO_ACCOUNTS_URL   the Zoho Accounts server of the data centre (default https://accounts.zoho.in)
    ZOHO_API_BASE       the CRM API base (default: the `api_domain` Zoho gives with each token)
    ZOHO_SYNC_MINUTES   how often the catalog is synced from Zoho Products (default 15)

Without the three credentials the plugin stays idle: nothing is synced and no order is pushed.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from engine.config import ConfigError, Settings

# India's data centre: the first customer is an Indian dealer (others: .com, .eu, .com.au, .jp…).
DEFAULT_ACCOUNTS_URL = "https://accounts.zoho.in"
# Stock a quarter of an hour old is fresh enough to quote; a 2,000-product sync costs ~10 of
# the 50,000 daily API credits of a Standard edition, so 96 syncs a day cost under 1,000.
DEFAULT_SYNC_MINUTES = 15
CREDENTIALS = ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN")


@dataclass(frozen=True)
class ZohoConfig:
    client_id: str
    client_secret: str
    refresh_token: str
    accounts_url: str
    api_base: str | None  # None: use the token response's api_domain
    sync_minutes: int


def zoho_config(settings: Settings) -> ZohoConfig | None:
    """The Zoho configuration, or None when the credentials are not all set.

    A bad value raises `ConfigError` naming the variable.
    """
    values = {name: (settings.environ.get(name) or "").strip() for name in (
        *CREDENTIALS, "ZOHO_ACCOUNTS_URL", "ZOHO_API_BASE", "ZOHO_SYNC_MINUTES")}
    given = [name for name in CREDENTIALS if values[name]]
    if not given:
        return None
    if len(given) < len(CREDENTIALS):
        missing = ", ".join(name for name in CREDENTIALS if not values[name])
        raise ConfigError(missing, "must be set too: Zoho needs the client id, secret and refresh token")
    minutes = values["ZOHO_SYNC_MINUTES"] or str(DEFAULT_SYNC_MINUTES)
    if not minutes.isdigit() or int(minutes) < 1:
        raise ConfigError("ZOHO_SYNC_MINUTES", f"must be a positive whole number of minutes, got {minutes!r}")
    return ZohoConfig(
        client_id=values["ZOHO_CLIENT_ID"],
        client_secret=values["ZOHO_CLIENT_SECRET"],
        refresh_token=values["ZOHO_REFRESH_TOKEN"],
        accounts_url=_url("ZOHO_ACCOUNTS_URL", values["ZOHO_ACCOUNTS_URL"] or DEFAULT_ACCOUNTS_URL),
        api_base=_url("ZOHO_API_BASE", values["ZOHO_API_BASE"]) if values["ZOHO_API_BASE"] else None,
        sync_minutes=int(minutes),
    )


def _url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(name, f"must be a URL like https://accounts.zoho.in, got {value!r}")
    return value.rstrip("/")


def credentials_set(settings: Settings) -> bool:
    """All three credentials are present (checked without raising, e.g. inside a turn)."""
    return all((settings.environ.get(name) or "").strip() for name in CREDENTIALS)
