import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from engine.config import ConfigError
from engine.quiet_hours import QuietHours
from plugins.reminders.settings import reminder_settings
from tests.reminders.conftest import ist

KOLKATA = ZoneInfo("Asia/Kolkata")
NIGHT = QuietHours.parse("21:00-09:00", KOLKATA)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (ist(2026, 11, 24, 20, 59, 59), ist(2026, 11, 24, 20, 59, 59)),  # just before: unchanged
        (ist(2026, 11, 24, 21, 0), ist(2026, 11, 25, 9, 0)),  # evening: tomorrow morning
        (ist(2026, 11, 24, 23, 30), ist(2026, 11, 25, 9, 0)),
        (ist(2026, 11, 25, 0, 15), ist(2026, 11, 25, 9, 0)),  # after midnight: this morning
        (ist(2026, 11, 25, 8, 59, 59), ist(2026, 11, 25, 9, 0)),
        (ist(2026, 11, 25, 9, 0), ist(2026, 11, 25, 9, 0)),  # the end itself is open
        (ist(2026, 12, 31, 22, 0), ist(2027, 1, 1, 9, 0)),  # across the year
    ],
)
def test_a_moment_in_quiet_hours_is_deferred_to_their_end(moment, expected) -> None:
    assert NIGHT.defer(moment) == expected
    assert not NIGHT.contains(NIGHT.defer(moment))


def test_quiet_hours_are_read_on_the_business_clock() -> None:
    utc_evening = dt.datetime(2026, 11, 24, 16, 0, tzinfo=dt.UTC)  # 21:30 in India
    assert NIGHT.contains(utc_evening)
    assert not QuietHours.parse("21:00-09:00", ZoneInfo("Europe/London")).contains(utc_evening)


def test_a_span_within_one_day() -> None:
    lunch = QuietHours.parse("13:00-14:00", KOLKATA)
    assert lunch.defer(ist(2026, 11, 24, 13, 20)) == ist(2026, 11, 24, 14, 0)
    assert lunch.defer(ist(2026, 11, 24, 22, 0)) == ist(2026, 11, 24, 22, 0)


@pytest.mark.parametrize("text", ["21-09", "25:00-09:00", "9:00-9:00", "evening"])
def test_malformed_quiet_hours_say_what_to_write(text: str) -> None:
    with pytest.raises(ConfigError, match="QUIET_HOURS") as error:
        reminder_settings({"QUIET_HOURS": text})
    assert text in str(error.value)


def test_settings_from_the_environment_with_their_defaults() -> None:
    defaults = reminder_settings({})
    assert str(defaults.quiet_hours) == "21:00-09:00 Asia/Kolkata"
    assert defaults.payment_days == (-2, 0, 3, 7)
    assert defaults.reminder_time == dt.time(10, 0)
    custom = reminder_settings(
        {
            "QUIET_HOURS": "off",
            "PAYMENT_REMINDER_DAYS": "7, -1,0",
            "REMINDER_TIME": "11:30",
            "BUSINESS_TIMEZONE": "Asia/Dubai",
        }
    )
    assert custom.quiet_hours is None
    assert custom.payment_days == (-1, 0, 7)
    assert custom.on_day(dt.date(2026, 11, 25)) == dt.datetime(2026, 11, 25, 7, 30, tzinfo=dt.UTC)
    assert custom.send_time(ist(2026, 11, 25, 23, 0)) == ist(2026, 11, 25, 23, 0)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("PAYMENT_REMINDER_DAYS", "-2,due,3"), ("REMINDER_TIME", "10am"), ("BUSINESS_TIMEZONE", "India/Pune")],
)
def test_other_bad_settings_name_their_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        reminder_settings({variable: value})
