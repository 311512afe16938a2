"""Tour schedules: RFC 5545 RRULEs read in the site's time zone.

The rule is expanded on naive local wall-clock times and each occurrence is then placed in the zone,
so "every night at 22:00" stays 22:00 local on both sides of a daylight-saving change (the UTC
instant moves by an hour, the guard's shift does not)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr


def occurrences(rule: str, dtstart_local: dt.datetime, tz: str, start: dt.datetime, end: dt.datetime
                ) -> list[dt.datetime]:
    """Aware start times of the tour in [start, end). `dtstart_local` is naive wall-clock time."""
    if dtstart_local.tzinfo is not None:
        raise ValueError("dtstart is local wall-clock time (naive)")
    zone = ZoneInfo(tz)
    text = rule if rule.upper().startswith("RRULE:") else f"RRULE:{rule}"
    try:
        parsed = rrulestr(text, dtstart=dtstart_local)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"invalid RRULE {rule!r}: {exc}") from None
    lo = start.astimezone(zone).replace(tzinfo=None) - dt.timedelta(days=1)
    hi = end.astimezone(zone).replace(tzinfo=None) + dt.timedelta(days=1)
    out = []
    for naive in parsed.between(lo, hi, inc=True):
        aware = naive.replace(tzinfo=zone)
        # a wall time skipped by a spring-forward gap does not exist: keep it at the shifted instant
        aware = aware.astimezone(dt.UTC).astimezone(zone)
        if start <= aware < end:
            out.append(aware)
    return out
