"""Quiet hours: a daily span of local time in which no business-initiated message goes out
(reminders, campaigns).

    quiet = QuietHours.parse("21:00-09:00", ZoneInfo("Asia/Kolkata"))
    quiet.defer(datetime(2026, 11, 24, 17, 0, tzinfo=UTC))   # 22:30 IST → 25 Nov 03:30 UTC (09:00 IST)

A message falling due inside them is deferred to their end, never dropped. The span may
cross midnight (21:00-09:00) or not (13:00-14:00).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class QuietHours:
    start: dt.time
    end: dt.time
    timezone: ZoneInfo

    @classmethod
    def parse(cls, text: str, timezone: ZoneInfo) -> QuietHours:
        """`"21:00-09:00"` in `timezone`; raises ValueError with the expected form."""
        found = _SPAN.match(text)
        if found is None:
            raise ValueError(f"must look like 21:00-09:00 (start-end, 24-hour clock), got {text!r}")
        hours_and_minutes = [int(part) for part in found.groups()]
        try:
            start = dt.time(hours_and_minutes[0], hours_and_minutes[1])
            end = dt.time(hours_and_minutes[2], hours_and_minutes[3])
        except ValueError:
            raise ValueError(f"has a time that does not exist on a 24-hour clock: {text!r}") from None
        if start == end:
            raise ValueError(f"starts and ends at the same time ({text!r}); use 'off' for no quiet hours")
        return cls(start, end, timezone)

    def contains(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.timezone).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def defer(self, moment: dt.datetime) -> dt.datetime:
        """`moment` itself outside quiet hours, else the moment they end (in UTC)."""
        if not self.contains(moment):
            return moment
        local = moment.astimezone(self.timezone)
        day = local.date()
        if self.start > self.end and local.time() >= self.start:
            day += dt.timedelta(days=1)  # late evening: they end tomorrow morning
        return dt.datetime.combine(day, self.end, tzinfo=self.timezone).astimezone(dt.UTC)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.timezone.key}"
