"""Authorisation windows: RRULE on the site's wall clock, across DST changes and plant holidays."""

from __future__ import annotations

import datetime as dt

import pytest

from linewatch.workforce.engine.calendar import PlantCalendar
from linewatch.workforce.engine.schedule import AccessWindow, parse_schedule

WEEKDAYS_7_TO_17 = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=7,8,9,10,11,12,13,14,15,16"
NIGHT_SHIFT = "FREQ=DAILY;BYHOUR=22;DURATION=PT8H"


def utc(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp() * 1000)


@pytest.mark.parametrize(("moment", "inside"), [
    # winter (CET, UTC+1): 07:30 local = 06:30Z
    ("2026-03-27T06:30:00+00:00", True),
    ("2026-03-27T05:59:00+00:00", False),
    # the Monday after the spring change (CEST, UTC+2): 07:30 local = 05:30Z; 06:30Z is 08:30 local
    ("2026-03-30T05:30:00+00:00", True),
    ("2026-03-30T04:59:00+00:00", False),
    ("2026-03-30T14:59:00+00:00", True),  # 16:59 local
    ("2026-03-30T15:00:00+00:00", False),  # 17:00 local: the window has closed
    # the Monday after the autumn change (CET again): 06:30Z = 07:30 local
    ("2026-10-26T06:30:00+00:00", True),
    ("2026-10-26T05:59:00+00:00", False),
    ("2026-03-28T09:00:00+00:00", False),  # Saturday
])
def test_weekday_window_follows_the_wall_clock_across_dst(moment, inside):
    window = AccessWindow(schedule=WEEKDAYS_7_TO_17, timezone="Europe/Berlin")
    assert window.check(utc(moment)).inside is inside


def test_a_night_shift_crosses_midnight_and_the_spring_gap():
    window = AccessWindow(schedule=NIGHT_SHIFT, timezone="Europe/Berlin")
    # the night of the spring change (29 March 2026): 02:00–03:00 local does not exist
    assert window.check(utc("2026-03-28T21:30:00+00:00")).inside  # 22:30 CET
    assert window.check(utc("2026-03-29T00:30:00+00:00")).inside  # 01:30 CET
    assert window.check(utc("2026-03-29T01:30:00+00:00")).inside  # 03:30 CEST
    assert window.check(utc("2026-03-29T03:30:00+00:00")).inside  # 05:30 CEST
    assert not window.check(utc("2026-03-29T04:30:00+00:00")).inside  # 06:30 CEST: 8 h wall-clock shift ended


def test_the_repeated_autumn_hour_is_inside_on_both_passes():
    window = AccessWindow(schedule="FREQ=DAILY;BYHOUR=2;DURATION=PT1H", timezone="Europe/Berlin")
    assert window.check(utc("2026-10-25T00:30:00+00:00")).inside  # 02:30 CEST
    assert window.check(utc("2026-10-25T01:30:00+00:00")).inside  # 02:30 CET, the second pass
    assert not window.check(utc("2026-10-25T02:30:00+00:00")).inside  # 03:30 CET


def test_public_and_plant_holidays_close_the_window():
    calendar = PlantCalendar("DE", "NW", {dt.date(2026, 12, 28): "Works shutdown"})
    window = AccessWindow(schedule=WEEKDAYS_7_TO_17, timezone="Europe/Berlin", calendar=calendar)
    verdict = window.check(utc("2026-12-25T09:00:00+00:00"))  # Christmas Day, a Friday
    assert not verdict.inside and "holiday" in verdict.reason
    verdict = window.check(utc("2026-12-28T09:00:00+00:00"))  # plant shutdown Monday
    assert not verdict.inside and "Works shutdown" in verdict.reason
    assert window.check(utc("2026-12-29T09:00:00+00:00")).inside
    # Corpus Christi is a holiday in North Rhine-Westphalia, not in Bremen
    assert not window.check(utc("2026-06-04T09:00:00+00:00")).inside
    bremen = AccessWindow(schedule=WEEKDAYS_7_TO_17, timezone="Europe/Berlin", calendar=PlantCalendar("DE", "HB"))
    assert bremen.check(utc("2026-06-04T09:00:00+00:00")).inside


def test_guards_may_be_let_in_on_holidays():
    window = AccessWindow(timezone="Europe/Berlin", calendar=PlantCalendar("DE"), holidays_open=True)
    assert window.check(utc("2026-12-25T09:00:00+00:00")).inside


def test_validity_bounds_the_window():
    window = AccessWindow(valid_from=utc("2026-03-01T00:00:00+00:00"), valid_to=utc("2026-03-31T00:00:00+00:00"))
    assert not window.check(utc("2026-02-28T12:00:00+00:00")).inside
    assert window.check(utc("2026-03-15T12:00:00+00:00")).inside
    assert "ended" in window.check(utc("2026-04-01T12:00:00+00:00")).reason


@pytest.mark.parametrize("bad", ["", "FREQ=SOMETIMES", "BYHOUR=7", "FREQ=DAILY;DURATION=10 hours"])
def test_bad_schedules_are_refused_with_a_reason(bad):
    with pytest.raises(ValueError):
        parse_schedule(bad)


def test_an_unknown_holiday_country_is_refused():
    with pytest.raises(ValueError, match="unknown holiday calendar"):
        PlantCalendar("XX").holiday(dt.date(2026, 1, 1))
