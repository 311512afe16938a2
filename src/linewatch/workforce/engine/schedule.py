"""Authorisation windows: validity × an RFC 5545 RRULE in the site's time zone × the plant calendar.

A schedule is an RRULE whose occurrences open the window; each lasts one unit of its finest BY
part (BYMINUTE: a minute, BYHOUR: an hour, otherwise a day) or the `DURATION` given as a
Linewatch extension (`FREQ=WEEKLY;BYDAY=MO,TU;BYHOUR=6;BYMINUTE=0;DURATION=PT10H`). Rules are
evaluated on the site's *wall clock*: 07:00–17:00 stays 07:00–17:00 across daylight-saving
changes, the skipped spring hour simply never occurs and both passes of the repeated autumn
hour are treated alike. Plant holidays close the window unless the authorisation says
`holidays_open` (guards, the fire brigade).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

from linewatch.workforce.engine.calendar import NO_HOLIDAYS, PlantCalendar

_DURATION = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?)?$")
_ANCHOR = dt.datetime(2000, 1, 3)  # a Monday: WEEKLY rules with INTERVAL count weeks from here


def parse_duration(text: str) -> dt.timedelta:
    match = _DURATION.match(text.strip().upper())
    if not match or not any(match.groupdict().values()):
        raise ValueError(f"bad DURATION {text!r} (expected e.g. PT10H, P1D, PT90M)")
    return dt.timedelta(days=int(match["d"] or 0), hours=int(match["h"] or 0), minutes=int(match["m"] or 0))


@dataclass(frozen=True)
class Schedule:
    """A parsed RRULE with the length of each occurrence."""

    text: str
    rule: rrule
    length: dt.timedelta

    def open_at(self, local: dt.datetime) -> bool:
        """Whether the naive local wall-clock time falls inside an occurrence."""
        day = local.date()
        return any(start <= local < end for start, end in _intervals(self, day - dt.timedelta(days=1), day))

    def describe(self) -> str:
        return self.text


@lru_cache(maxsize=4096)
def parse_schedule(text: str) -> Schedule:
    """Parse an RRULE (with optional DURATION); ValueError with the reason when it is not one."""
    parts, duration = [], None
    for part in text.strip().removeprefix("RRULE:").split(";"):
        if not part.strip():
            continue
        key, _, value = part.partition("=")
        if key.strip().upper() == "DURATION":
            duration = parse_duration(value)
        else:
            parts.append(part.strip())
    body = ";".join(parts)
    if not body:
        raise ValueError("empty schedule")
    try:
        rule = rrulestr(body, dtstart=_ANCHOR)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"bad RRULE {body!r}: {exc}") from None
    if not isinstance(rule, rrule):
        raise ValueError(f"bad RRULE {body!r}: one rule expected")
    upper = body.upper()
    if duration is None:
        duration = (dt.timedelta(minutes=1) if "BYMINUTE=" in upper else dt.timedelta(hours=1)
                    if "BYHOUR=" in upper else dt.timedelta(days=1))
    return Schedule(text=text, rule=rule, length=duration)


@lru_cache(maxsize=65536)
def _intervals(schedule: Schedule, first: dt.date, last: dt.date) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
    """Occurrences starting on the days first..last (local wall clock), as (start, end)."""
    start = dt.datetime.combine(first, dt.time())
    end = dt.datetime.combine(last, dt.time()) + dt.timedelta(days=1)
    rule = schedule.rule
    if rule._count is None and rule._interval == 1:  # noqa: SLF001 — no counting: start near the day, not in 2000
        rule = rule.replace(dtstart=start - dt.timedelta(days=first.weekday() + 7))
    return tuple((o, o + schedule.length) for o in rule.between(start - schedule.length, end, inc=True) if o < end)


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


@dataclass(frozen=True)
class Verdict:
    """Whether a moment is inside a window, and why (for the alert's explanation)."""

    inside: bool
    reason: str
    local: str = ""


@dataclass(frozen=True)
class AccessWindow:
    """When an authorisation lets someone in: validity, schedule, time zone and plant calendar."""

    valid_from: int | None = None  # epoch ms
    valid_to: int | None = None
    schedule: str = ""
    timezone: str = "UTC"
    calendar: PlantCalendar = field(default=NO_HOLIDAYS)
    holidays_open: bool = False

    def check(self, at_ms: int) -> Verdict:
        local = dt.datetime.fromtimestamp(at_ms / 1000, zone(self.timezone)).replace(tzinfo=None)
        stamp = f"{local:%a %Y-%m-%d %H:%M} {self.timezone}"
        if self.valid_from is not None and at_ms < self.valid_from:
            return Verdict(False, "before the authorisation's validity starts", stamp)
        if self.valid_to is not None and at_ms > self.valid_to:
            return Verdict(False, "after the authorisation's validity ended", stamp)
        if not self.holidays_open:
            holiday = self.calendar.holiday(local.date())
            if holiday:
                return Verdict(False, f"plant holiday ({holiday})", stamp)
        if self.schedule and not parse_schedule(self.schedule).open_at(local):
            return Verdict(False, f"outside the schedule {self.schedule}", stamp)
        return Verdict(True, "inside the authorised window", stamp)
