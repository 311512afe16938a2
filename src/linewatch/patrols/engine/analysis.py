"""Exceptions of one patrol run: missed, late and out-of-order checkpoints, transit faster than walking
allows, scans outside the geofence, scans the badge log contradicts, and scans whose tag did not verify.

Input is plain data (the tour's stops, the run's start, its scans, the guard's badge grants); output is a
list of `Finding`s. The services turn them into PatrolException rows and pipeline events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from linewatch.patrols.engine.geo import haversine_m, outside_fence

MISSED, LATE, OUT_OF_ORDER, TOO_FAST, OUTSIDE_FENCE, BADGE_CONFLICT, UNVERIFIED = (
    "missed", "late", "out_of_order", "too_fast", "outside_geofence", "badge_conflict", "unverified")
KINDS = (MISSED, LATE, OUT_OF_ORDER, TOO_FAST, OUTSIDE_FENCE, BADGE_CONFLICT, UNVERIFIED)


@dataclass(frozen=True)
class Stop:
    code: str
    position: int
    offset: dt.timedelta  # expected time after the run's start
    tolerance: dt.timedelta  # a scan later than offset + tolerance is late
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None  # a geofence when set
    area: str = ""  # the access-control area the checkpoint is in, when known


@dataclass(frozen=True)
class Scan:
    uid: str
    code: str
    at: dt.datetime  # aware
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    verified: bool = True
    why_unverified: str = ""


@dataclass(frozen=True)
class Badge:
    at: dt.datetime
    site: str
    area: str = ""


@dataclass(frozen=True)
class Settings:
    walking_speed_mps: float = 2.0  # a brisk walk; a faster transit means the scans were batched or faked
    badge_other_site_window: dt.timedelta = dt.timedelta(minutes=30)
    badge_other_area_window: dt.timedelta = dt.timedelta(minutes=2)


@dataclass
class Finding:
    kind: str
    code: str
    detail: str
    at: dt.datetime
    scan_uid: str = ""
    extra: dict = field(default_factory=dict)


def analyse(stops: Sequence[Stop], start: dt.datetime, scans: Iterable[Scan], *, site: str,
            now: dt.datetime, badges: Sequence[Badge] = (), settings: Settings = Settings()) -> list[Finding]:
    """Every exception of the run as of `now` (a checkpoint is missed only once its window has closed)."""
    # Python adds and compares datetimes of one zone by the wall clock: across a DST change that is an hour
    # off, so every instant is taken to UTC first.
    local = start.tzinfo  # for the times written into details
    start, now = start.astimezone(dt.UTC), now.astimezone(dt.UTC)
    scans = [replace(s, at=s.at.astimezone(dt.UTC)) for s in scans]
    badges = [replace(b, at=b.at.astimezone(dt.UTC)) for b in badges]
    by_code = {s.code: s for s in stops}
    ordered = sorted(scans, key=lambda s: (s.at, s.uid))
    findings: list[Finding] = []
    valid = []
    for scan in ordered:
        if not scan.verified:
            findings.append(Finding(UNVERIFIED, scan.code, scan.why_unverified or "tag did not verify", scan.at,
                                    scan.uid))
        elif scan.code in by_code:
            valid.append(scan)
    first: dict[str, Scan] = {}
    for scan in valid:
        first.setdefault(scan.code, scan)
    for stop in sorted(stops, key=lambda s: s.position):
        due = start + stop.offset + stop.tolerance
        scan = first.get(stop.code)
        if scan is None:
            if now > due:
                text = f"not scanned by {due.astimezone(local):%Y-%m-%d %H:%M %Z}"
                findings.append(Finding(MISSED, stop.code, text, due))
        elif scan.at > due:
            late = int((scan.at - due).total_seconds() // 60)
            findings.append(Finding(LATE, stop.code, f"scanned {late} min after its window closed", scan.at, scan.uid,
                                    {"minutes_late": late}))
    highest: Stop | None = None
    for scan in first.values():  # in time order (dicts keep insertion order)
        stop = by_code[scan.code]
        if highest is not None and stop.position < highest.position:
            findings.append(Finding(OUT_OF_ORDER, stop.code, f"scanned after {highest.code} although it comes before",
                                    scan.at, scan.uid))
        if highest is None or stop.position > highest.position:
            highest = stop
    findings += _transit(valid, by_code, settings)
    for scan in valid:
        stop = by_code[scan.code]
        if stop.radius_m and stop.lat is not None and scan.lat is not None:
            beyond = outside_fence(scan.lat, scan.lon, scan.accuracy_m, (stop.lat, stop.lon), stop.radius_m)
            if beyond is not None:
                findings.append(Finding(OUTSIDE_FENCE, stop.code, f"{beyond:.0f} m outside the {stop.radius_m:.0f} m "
                                        "geofence (beyond the fix's accuracy)", scan.at, scan.uid,
                                        {"metres_outside": round(beyond, 1)}))
        conflict = _badge_conflict(scan, stop, site, badges, settings)
        if conflict:
            findings.append(Finding(BADGE_CONFLICT, stop.code, conflict, scan.at, scan.uid))
    return findings


def _position(scan: Scan, stop: Stop) -> tuple[float, float] | None:
    if scan.lat is not None and scan.lon is not None:
        return scan.lat, scan.lon
    if stop.lat is not None and stop.lon is not None:
        return stop.lat, stop.lon
    return None


def _transit(valid: list[Scan], by_code: dict[str, Stop], settings: Settings) -> list[Finding]:
    out = []
    for before, after in zip(valid, valid[1:], strict=False):
        if before.code == after.code:
            continue
        a, b = _position(before, by_code[before.code]), _position(after, by_code[after.code])
        if a is None or b is None:
            continue
        metres = haversine_m(*a, *b)
        seconds = (after.at - before.at).total_seconds()
        if metres > 1 and (seconds <= 0 or metres / seconds > settings.walking_speed_mps):
            speed = metres / seconds if seconds > 0 else float("inf")
            out.append(Finding(TOO_FAST, after.code, f"{metres:.0f} m from {before.code} in {seconds:.0f} s "
                               f"({speed:.1f} m/s; walking allows {settings.walking_speed_mps:.1f})", after.at,
                               after.uid, {"metres": round(metres, 1), "seconds": seconds}))
    return out


def _badge_conflict(scan: Scan, stop: Stop, site: str, badges: Sequence[Badge], settings: Settings) -> str:
    for badge in badges:
        gap = abs(badge.at - scan.at)
        if badge.site != site and gap <= settings.badge_other_site_window:
            return f"the guard badged in at site {badge.site} {_mins(badge.at - scan.at)} of this scan"
        if (badge.site == site and stop.area and badge.area and badge.area != stop.area
                and gap <= settings.badge_other_area_window):
            return f"the guard badged into area {badge.area} {_mins(badge.at - scan.at)} of this scan at {stop.area}"
    return ""


def _mins(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{abs(seconds) // 60} min {abs(seconds) % 60} s {'after' if seconds >= 0 else 'before'} the time"


def completion(stops: Sequence[Stop], scans: Iterable[Scan]) -> float:
    """Share of the tour's checkpoints with a verified scan, 0–100."""
    if not stops:
        return 0.0
    codes = {s.code for s in stops}
    done = {s.code for s in scans if s.verified and s.code in codes}
    return round(100.0 * len(done) / len(codes), 1)
