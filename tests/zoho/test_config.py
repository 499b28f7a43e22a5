"""ZOHO_* settings: all three credentials or none, defaults, and messages naming the variable."""

from __future__ import annotations

import pytest

from engine.config import ConfigError, load_settings
from plugins.zoho.config import credentials_set, zoho_config

CREDENTIALS = {"ZOHO_CLIENT_ID": "1000.ID", "ZOHO_CLIENT_SECRET": "secret", "ZOHO_REFRESH_TOKEN": "1000.r"}


def settings(**environ: str):  # type: ignore[no-untyped-def]
    return load_settings(environ=environ, env_file=None)


def test_no_credentials_means_no_zoho() -> None:
    assert zoho_config(settings()) is None and not credentials_set(settings())


def test_defaults_are_india_and_a_quarter_hour() -> None:
    config = zoho_config(settings(**CREDENTIALS))
    assert config is not None and credentials_set(settings(**CREDENTIALS))
    assert config.accounts_url == "https://accounts.zoho.in"
    assert config.api_base is None and config.sync_minutes == 15


@pytest.mark.parametrize(("environ", "variable"), [
    ({"ZOHO_CLIENT_ID": "1000.ID"}, "ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN"),
    ({**CREDENTIALS, "ZOHO_ACCOUNTS_URL": "accounts.zoho.in"}, "ZOHO_ACCOUNTS_URL"),
    ({**CREDENTIALS, "ZOHO_API_BASE": "ftp://x"}, "ZOHO_API_BASE"),
    ({**CREDENTIALS, "ZOHO_SYNC_MINUTES": "0"}, "ZOHO_SYNC_MINUTES"),
])
def test_bad_settings_name_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as error:
        zoho_config(settings(**environ))
    assert str(error.value).startswith(variable + ":")
