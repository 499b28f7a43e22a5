"""How reminders behave, read from the environment (and `.env`) like all configuration.

    QUIET_HOURS="21:00-09:00"         # "off" (or empty): reminders go at any hour
    BUSINESS_TIMEZONE="Asia/Kolkata"  # the clock quiet hours and dates are read on
    PAYMENT_REMINDER_DAYS="-2,0,3,7"  # days from an invoice's due date; "" for none
    REMINDER_TIME="10:00"             # the local time of reminders given as a date only

A bad value raises `ConfigError` naming the variable and what to write instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.config import ConfigError, load_settings
from engine.quiet_hours import QuietHours
from engine.runtime import installed
from plugins.reminders import defaults

_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_OFF = ("", "off", "none")


@dataclass(frozen=True)
class ReminderSettings:
    timezone: ZoneInfo
    quiet_hours: QuietHours | None
    payment_days: tuple[int, ...]
    reminder_time: dt.time

    def send_time(self, moment: dt.datetime) -> dt.datetime:
        """When a reminder due at `moment` may go out: after the quiet hours, if it falls in them."""
        return moment if self.quiet_hours is None else self.quiet_hours.defer(moment)

    def on_day(self, day: dt.date) -> dt.datetime:
        """`REMINDER_TIME` on `day`, in the business time zone."""
        return dt.datetime.combine(day, self.reminder_time, tzinfo=self.timezone)


def reminder_settings(environ: Mapping[str, str] | None = None) -> ReminderSettings:
    """The settings in `environ`; without it, those of the running process."""
    values = _process_environ() if environ is None else environ

    def get(name: str, default: str) -> str:
        value = values.get(name)
        return default if value is None else value.strip()

    timezone = _timezone(get("BUSINESS_TIMEZONE", "") or defaults.BUSINESS_TIMEZONE)
    return ReminderSettings(
        timezone=timezone,
        quiet_hours=_quiet_hours(get("QUIET_HOURS", defaults.QUIET_HOURS), timezone),
        payment_days=_days(get("PAYMENT_REMINDER_DAYS", defaults.PAYMENT_REMINDER_DAYS)),
        reminder_time=_time(get("REMINDER_TIME", "") or defaults.REMINDER_TIME),
    )


def _process_environ() -> Mapping[str, str]:
    runtime = installed()
    return runtime.settings.environ if runtime is not None else load_settings().environ


def _timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            "BUSINESS_TIMEZONE", f"must be a time zone name like Asia/Kolkata, got {name!r}"
        ) from None


def _quiet_hours(text: str, timezone: ZoneInfo) -> QuietHours | None:
    if text.lower() in _OFF:
        return None
    try:
        return QuietHours.parse(text, timezone)
    except ValueError as error:
        raise ConfigError("QUIET_HOURS", str(error)) from None


def _days(text: str) -> tuple[int, ...]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    try:
        days = sorted({int(part) for part in parts})
    except ValueError:
        raise ConfigError(
            "PAYMENT_REMINDER_DAYS",
            f"must be whole days from the due date separated by commas, like -2,0,3,7, got {text!r}",
        ) from None
    return tuple(days)


def _time(text: str) -> dt.time:
    found = _TIME.match(text)
    try:
        if found is None:
            raise ValueError
        return dt.time(int(found.group(1)), int(found.group(2)))
    except ValueError:
        raise ConfigError(
            "REMINDER_TIME", f"must be a time like 10:00 (24-hour clock), got {text!r}"
        ) from None
