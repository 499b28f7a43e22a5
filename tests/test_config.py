import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import ConfigError, load_settings


def test_defaults_use_the_embedded_stack(tmp_path: Path) -> None:
    settings = load_settings(environ={"FLOWBOT_DATA_DIR": str(tmp_path)}, env_file=None)
    assert settings.database_url == f"sqlite:///{tmp_path / 'flowbot.sqlite3'}"
    assert settings.embedded_database and settings.embedded_redis
    assert settings.db_pool_size == 20
    assert settings.log_level == "INFO"


def test_values_come_from_the_environment_over_dotenv(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DB_POOL_SIZE=7\nLOG_LEVEL=debug\n")
    settings = load_settings(environ={"LOG_LEVEL": "warning"}, env_file=str(env_file))
    assert settings.db_pool_size == 7
    assert settings.log_level == "WARNING"


def test_whatsapp_number_accepts_the_twilio_prefix() -> None:
    settings = load_settings(environ={"TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886"}, env_file=None)
    assert settings.twilio_whatsapp_from == "+14155238886"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DB_POOL_SIZE", "twenty"),
        ("DB_POOL_SIZE", "0"),
        ("DATABASE_URL", "mysql://x/y"),
        ("DATABASE_URL", "postgresql://localhost"),
        ("REDIS_URL", "localhost:6379"),
        ("LOG_LEVEL", "loud"),
        ("TWILIO_WHATSAPP_FROM", "98123"),
        ("PUBLIC_BASE_URL", "bot.example.com"),
        ("TWILIO_API_BASE", "ftp://x"),
        ("ORG_STATE_CODE", "MH"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={variable: value}, env_file=None)
    assert str(raised.value).startswith(f"{variable}: ")
    assert value in str(raised.value)


def test_the_cli_stops_with_one_line_and_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "engine.cli", "db", "status"],
        env={"DB_POOL_SIZE": "lots", "FLOWBOT_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "flowbot: DB_POOL_SIZE: must be a positive whole number, got 'lots'"
    ]
    assert "Traceback" not in result.stderr
