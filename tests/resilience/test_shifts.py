"""The shift schedule adds to a roll call the people expected on site who did not badge in; shifts are part of a
site's degraded-mode plan file and run on the site's wall clock (daylight-saving time included)."""

from __future__ import annotations

import datetime as dt

import pytest

from linewatch.core.models import Site
from linewatch.errors import InputErrors
from linewatch.resilience import runbooks, services
from linewatch.resilience.models import Shift

from .conftest import NOW

PLAN = """\
site: alpha
shifts:
  - slug: early
    name: early shift
    schedule: FREQ=DAILY;BYHOUR=6;BYMINUTE=0;DURATION=PT8H
    people: [p-tom]
  - slug: night
    name: night shift
    schedule: FREQ=DAILY;BYHOUR=22;BYMINUTE=0;DURATION=PT8H
    team: alpha-ot
"""


@pytest.fixture
def plan(people, tmp_path):
    path = tmp_path / "alpha.yaml"
    path.write_text(PLAN)
    runbooks.load_runbooks([path])
    return path


def test_people_on_shift_without_a_badge_in_are_in_the_audience(plan):
    alpha = Site.objects.get(slug="alpha")
    # 09:00 UTC is 10:00 in Berlin: the early shift; Tom badged out 30 minutes ago but his shift runs to 14:00
    why = {p.key: (on_site, reason) for p, on_site, reason in services.audience(alpha, NOW)}
    assert why["p-tom"] == (False, "on the early shift now, no badge-in seen")
    assert why["p-anna"][0] is True  # badged in: the roster says so, not the shift
    # at 02:30 Berlin the night shift (alpha-ot: Anna, whose badge-in is too old to count) is expected, the early
    # shift is not
    late = dt.datetime(2026, 11, 27, 1, 30, tzinfo=dt.UTC)
    why = {p.key: (on_site, reason) for p, on_site, reason in services.audience(alpha, late)}
    assert why["p-anna"] == (False, "on the night shift now, no badge-in seen")
    assert "shift" not in why["p-tom"][1]


def test_shifts_follow_the_site_wall_clock_across_daylight_saving(plan):
    alpha = Site.objects.get(slug="alpha")
    # 29 March 2026: Berlin moves to CEST; the early shift starts at 06:00 local = 04:00 UTC
    expected = {p.key for p, _ in services.on_shift(alpha, dt.datetime(2026, 3, 29, 4, 30, tzinfo=dt.UTC)).values()}
    before = {p.key for p, _ in services.on_shift(alpha, dt.datetime(2026, 3, 29, 3, 30, tzinfo=dt.UTC)).values()}
    assert "p-tom" in expected and "p-tom" not in before


def test_loading_the_plan_again_changes_nothing_and_bad_shifts_are_named(plan, tmp_path):
    ids = list(Shift.objects.values_list("id", "slug"))
    runbooks.load_runbooks([plan])
    assert list(Shift.objects.values_list("id", "slug")) == ids
    bad = tmp_path / "bad.yaml"
    bad.write_text(PLAN.replace("BYHOUR=22", "BYHOUR=twentytwo").replace("alpha-ot", "no-such-team"))
    with pytest.raises(InputErrors) as raised:
        runbooks.load_runbooks([bad])
    places = {(e["place"], e["message"].split(":")[0]) for e in raised.value.as_list()}
    assert ("9: shifts[1].schedule", "bad RRULE 'FREQ=DAILY;BYHOUR=twentytwo;BYMINUTE=0'") in places
    assert ("10: shifts[1].team", "unknown team 'no-such-team'") in places
    assert list(Shift.objects.values_list("id", "slug")) == ids  # nothing written
