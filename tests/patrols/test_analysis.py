"""Exceptions of a patrol run: each must fire when it should and stay quiet when it should not."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from linewatch.patrols.engine import analysis as a
from linewatch.patrols.engine.schedule import occurrences

BERLIN = ZoneInfo("Europe/Berlin")
START = dt.datetime(2026, 3, 10, 22, 0, tzinfo=BERLIN)
M = dt.timedelta(minutes=1)
# three checkpoints ~100 m apart along a line of latitude (0.0009° ≈ 100 m)
STOPS = [
    a.Stop("gate", 1, 0 * M, 5 * M, 53.0800, 8.8000, 30, "gatehouse"),
    a.Stop("hall", 2, 10 * M, 5 * M, 53.0809, 8.8000, 30, "hall-1"),
    a.Stop("yard", 3, 20 * M, 5 * M, 53.0818, 8.8000, 30, "yard"),
]


def scan(uid, code, minutes, lat=None, lon=None, accuracy=None, verified=True):
    return a.Scan(uid, code, START + minutes * M, lat, lon, accuracy, verified, "" if verified else "bad MAC")


def kinds(findings):
    return sorted((f.kind, f.code) for f in findings)


GOOD = [scan("1", "gate", 1, 53.0800, 8.8000, 5), scan("2", "hall", 11, 53.0809, 8.8000, 5),
        scan("3", "yard", 21, 53.0818, 8.8000, 5)]


def test_a_clean_run_has_no_exceptions_and_full_completion():
    assert a.analyse(STOPS, START, GOOD, site="alpha", now=START + 60 * M) == []
    assert a.completion(STOPS, GOOD) == 100.0


def test_missed_fires_only_after_the_window_closes():
    scans = GOOD[:2]
    assert a.analyse(STOPS, START, scans, site="alpha", now=START + 24 * M) == []
    assert kinds(a.analyse(STOPS, START, scans, site="alpha", now=START + 26 * M)) == [("missed", "yard")]
    assert a.completion(STOPS, scans) == pytest.approx(66.7)


def test_late_fires_past_offset_plus_tolerance_and_not_within():
    on_edge = GOOD[:2] + [scan("3", "yard", 25, 53.0818, 8.8, 5)]
    assert a.analyse(STOPS, START, on_edge, site="alpha", now=START + 60 * M) == []
    late = GOOD[:2] + [scan("3", "yard", 31, 53.0818, 8.8, 5)]
    found = a.analyse(STOPS, START, late, site="alpha", now=START + 60 * M)
    assert kinds(found) == [("late", "yard")] and found[0].extra["minutes_late"] == 6


def test_out_of_order_fires_for_the_checkpoint_scanned_after_a_later_one():
    scans = [scan("1", "gate", 1), scan("3", "yard", 8), scan("2", "hall", 12)]
    found = kinds(a.analyse(STOPS, START, scans, site="alpha", now=START + 60 * M))
    assert ("out_of_order", "hall") in found and ("out_of_order", "yard") not in found


def test_transit_faster_than_walking_fires_and_a_walk_does_not():
    fast = [scan("1", "gate", 1), a.Scan("2", "hall", START + 1 * M + dt.timedelta(seconds=20))]
    assert ("too_fast", "hall") in kinds(a.analyse(STOPS, START, fast, site="alpha", now=START + 16 * M))
    walk = [scan("1", "gate", 1), a.Scan("2", "hall", START + 1 * M + dt.timedelta(seconds=80))]  # 1.25 m/s
    assert not [f for f in a.analyse(STOPS, START, walk, site="alpha", now=START + 16 * M) if f.kind == "too_fast"]
    slow = a.Settings(walking_speed_mps=1.0)
    assert [f for f in a.analyse(STOPS, START, walk, site="alpha", now=START + 16 * M, settings=slow)
            if f.kind == "too_fast"]


def test_outside_geofence_counts_the_fix_accuracy():
    far = [scan("1", "gate", 1, 53.0810, 8.8000, 10)]  # ~111 m from the gate, fence 30 m
    found = a.analyse(STOPS, START, far, site="alpha", now=START + 5 * M)
    assert kinds(found) == [("outside_geofence", "gate")]
    vague = [scan("1", "gate", 1, 53.0810, 8.8000, 90)]  # the error circle reaches the fence
    assert a.analyse(STOPS, START, vague, site="alpha", now=START + 5 * M) == []


def test_badge_log_contradictions():
    elsewhere = [a.Badge(START + 3 * M, "beta", "lobby")]
    assert ("badge_conflict", "gate") in kinds(
        a.analyse(STOPS, START, GOOD, site="alpha", now=START + 60 * M, badges=elsewhere))
    other_area_now = [a.Badge(START + 11 * M, "alpha", "server-room")]
    assert ("badge_conflict", "hall") in kinds(
        a.analyse(STOPS, START, GOOD, site="alpha", now=START + 60 * M, badges=other_area_now))
    consistent = [a.Badge(START + 10 * M, "alpha", "hall-1"), a.Badge(START - 90 * M, "beta", "lobby"),
                  a.Badge(START + 40 * M, "alpha", "server-room")]
    assert a.analyse(STOPS, START, GOOD, site="alpha", now=START + 60 * M, badges=consistent) == []


def test_an_unverified_scan_is_an_exception_and_does_not_count():
    scans = GOOD[:2] + [scan("3", "yard", 21, verified=False)]
    found = kinds(a.analyse(STOPS, START, scans, site="alpha", now=START + 60 * M))
    assert found == [("missed", "yard"), ("unverified", "yard")]


def test_dst_night_keeps_wall_clock_starts_and_real_elapsed_time():
    # Europe/Berlin springs forward on 2026-03-29 at 02:00 CET → 03:00 CEST
    rule = "FREQ=DAILY;BYHOUR=1;BYMINUTE=50"
    starts = occurrences(rule, dt.datetime(2026, 3, 27, 1, 50), "Europe/Berlin",
                         dt.datetime(2026, 3, 27, tzinfo=dt.UTC), dt.datetime(2026, 3, 30, 12, tzinfo=dt.UTC))
    assert [s.strftime("%d %H:%M %z") for s in starts] == ["27 01:50 +0100", "28 01:50 +0100", "29 01:50 +0100",
                                                           "30 01:50 +0200"]
    start = starts[2]  # 01:50 CET; the window of "hall" (10 + 5 min) closes 02:05 CET = 03:05 CEST
    stops = STOPS[:2]
    at_0304 = dt.datetime(2026, 3, 29, 3, 4, tzinfo=BERLIN)  # 14 real minutes after the start
    scans = [a.Scan("1", "gate", start + M), a.Scan("2", "hall", at_0304)]
    assert a.analyse(stops, start, scans, site="alpha", now=at_0304 + 60 * M) == []
    at_0311 = dt.datetime(2026, 3, 29, 3, 11, tzinfo=BERLIN)  # 21 real minutes: late, by 6 (not by the 66 of the wall)
    found = a.analyse(stops, start, [scans[0], a.Scan("2", "hall", at_0311)], site="alpha", now=at_0311 + 60 * M)
    assert kinds(found) == [("late", "hall")] and found[0].extra["minutes_late"] == 6


def test_a_start_in_the_spring_gap_is_kept_at_the_shifted_instant():
    starts = occurrences("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", dt.datetime(2026, 3, 28, 2, 30), "Europe/Berlin",
                         dt.datetime(2026, 3, 28, tzinfo=dt.UTC), dt.datetime(2026, 3, 30, tzinfo=dt.UTC))
    assert [s.isoformat() for s in starts] == ["2026-03-28T02:30:00+01:00", "2026-03-29T03:30:00+02:00"]


def test_a_bad_rrule_is_an_error():
    with pytest.raises(ValueError, match="invalid RRULE"):
        occurrences("FREQ=SOMETIMES", dt.datetime(2026, 1, 1), "UTC", START, START + 60 * M)
