"""Configuration, read only from the environment (and an optional `.env` file).

A bad value stops the command with one line naming the variable and what is wrong.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from dotenv import dotenv_values

from engine import defaults

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class ConfigError(Exception):
    """A configuration value a person must fix; the message names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True)
class Organization:
    """The seller used when none exists yet for the inbound `To` number."""

    name: str
    gstin: str
    address: str
    state_code: str


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None  # None: start the embedded Redis
    db_pool_size: int
    log_level: str
    flows_dir: Path
    templates_dir: Path
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_whatsapp_from: str | None  # E.164, without the `whatsapp:` prefix
    twilio_api_base: str | None
    public_base_url: str | None
    admin_token: str | None
    trusted_proxies: frozenset[str]
    host: str
    port: int
    inbound_rate_limit: int
    inbound_rate_window_seconds: int
    organization: Organization
    web_processes: int = defaults.WEB_PROCESSES
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def embedded_database(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def embedded_redis(self) -> bool:
        return self.redis_url is None


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | None = ".env") -> Settings:
    """Settings from `environ` (default: os.environ) over the values of `env_file`."""
    values: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = values.get(name, "").strip()
        return value or None

    data_dir = Path(get("FLOWBOT_DATA_DIR") or defaults.DATA_DIR)
    database_url = get("DATABASE_URL") or f"sqlite:///{data_dir / 'flowbot.sqlite3'}"
    _check_database_url(database_url)
    redis_url = get("REDIS_URL")
    if redis_url is not None:
        _check_url("REDIS_URL", redis_url, ("redis", "rediss", "unix"))
    raw_level = get("LOG_LEVEL") or defaults.LOG_LEVEL
    log_level = raw_level.upper()
    if log_level not in defaults.LOG_LEVELS:
        raise ConfigError("LOG_LEVEL", f"must be one of {', '.join(defaults.LOG_LEVELS)}, got {raw_level!r}")
    for name in ("TWILIO_API_BASE", "PUBLIC_BASE_URL"):
        if get(name):
            _check_url(name, get(name) or "", ("http", "https"))
    state_code = get("ORG_STATE_CODE") or "27"
    if not re.fullmatch(r"\d{2}", state_code):
        raise ConfigError("ORG_STATE_CODE", f"must be a two-digit GST state code like 27, got {state_code!r}")
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=redis_url,
        db_pool_size=_positive_int("DB_POOL_SIZE", get("DB_POOL_SIZE"), defaults.DB_POOL_SIZE),
        log_level=log_level,
        flows_dir=Path(get("FLOWBOT_FLOWS_DIR") or defaults.FLOWS_DIR),
        templates_dir=Path(get("FLOWBOT_TEMPLATES_DIR") or defaults.TEMPLATES_DIR),
        twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
        twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
        twilio_whatsapp_from=_phone("TWILIO_WHATSAPP_FROM", get("TWILIO_WHATSAPP_FROM")),
        twilio_api_base=get("TWILIO_API_BASE"),
        public_base_url=(get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
        admin_token=get("ADMIN_TOKEN"),
        trusted_proxies=frozenset(filter(None, (get("TRUSTED_PROXIES") or "").replace(",", " ").split())),
        host=get("HOST") or defaults.HOST,
        port=_positive_int("PORT", get("PORT"), defaults.PORT),
        inbound_rate_limit=_positive_int(
            "INBOUND_RATE_LIMIT", get("INBOUND_RATE_LIMIT"), defaults.INBOUND_RATE_LIMIT
        ),
        inbound_rate_window_seconds=_positive_int(
            "INBOUND_RATE_WINDOW_SECONDS",
            get("INBOUND_RATE_WINDOW_SECONDS"),
            defaults.INBOUND_RATE_WINDOW_SECONDS,
        ),
        organization=Organization(
            name=get("ORG_NAME") or "Demo Building Materials",
            gstin=get("ORG_GSTIN") or "27AAAAA0000A1Z5",
            address=get("ORG_ADDRESS") or "Pune, Maharashtra",
            state_code=state_code,
        ),
        web_processes=_positive_int("WEB_PROCESSES", get("WEB_PROCESSES"), defaults.WEB_PROCESSES),
        environ=values,
    )


def _positive_int(name: str, raw: str | None, default: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(name, f"must be a positive whole number, got {raw!r}")
    return int(raw)


def _phone(name: str, raw: str | None) -> str | None:
    if raw is None:
        return None
    number = raw.removeprefix("whatsapp:").replace(" ", "")
    if not _E164.match(number):
        raise ConfigError(name, f"must be a phone number in E.164 form like +919812345678, got {raw!r}")
    return number


def _check_url(name: str, url: str, schemes: tuple[str, ...]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in schemes or not (parts.netloc or parts.path):
        expected = " or ".join(f"{s}://…" for s in schemes)
        raise ConfigError(name, f"must be a URL starting with {expected}, got {url!r}")


def _check_database_url(url: str) -> None:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        return
    if scheme in ("postgres", "postgresql"):
        if not urlsplit(url).path.strip("/"):
            raise ConfigError("DATABASE_URL", f"names no database (add /dbname), got {url!r}")
        for threshold in parse_qs(urlsplit(url).query).get("prepare_threshold", []):
            if not threshold.isdigit():
                raise ConfigError("DATABASE_URL", "prepare_threshold must be a whole number "
                                  f"(0 turns preparing statements off), got {threshold!r}")
        return
    raise ConfigError("DATABASE_URL", f"must start with sqlite:/// or postgresql://, got {url!r}")
