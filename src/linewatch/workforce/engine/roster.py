"""Who is on site now, and where: the on-site roster that doubles as the muster list.

Built from physical-access events alone: a granted entry puts a person in the area, an exit (or
a read with direction `out`) takes them off site, and someone silent for longer than `stale_ms`
is listed apart (they probably left without badging out: check them at the muster point)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from linewatch.events.schema import Event, EventClass, PhysicalAccessActivity

A = PhysicalAccessActivity


@dataclass(frozen=True)
class RosterEntry:
    person: str
    site: str
    area: str
    since: int  # when they entered the site (ms)
    last_seen: int
    stale: bool


def build_roster(events: Iterable[Event], resolve: Callable[[Event], str | None], now: int,
                 stale_ms: int = 12 * 3600_000) -> list[RosterEntry]:
    """Events in any order; `resolve` names the person an event is about (None: unknown card)."""
    state: dict[str, tuple[str, str, int, int]] = {}
    for event in sorted(events, key=lambda e: e.time):
        if event.class_uid != EventClass.PHYSICAL_ACCESS or event.time > now:
            continue
        person = resolve(event)
        if person is None:
            continue
        out = event.activity_id == A.EXIT or event.attrs.get("access.direction") == "out"
        if out:
            state.pop(person, None)
        elif event.activity_id == A.GRANTED and event.attrs.get("access.entered") is not False:
            area = str(event.attrs.get("area.name") or "")
            prior = state.get(person)
            since = prior[2] if prior and prior[0] == event.site else event.time
            state[person] = (event.site, area, since, event.time)
    return sorted((RosterEntry(p, s, a, since, last, now - last > stale_ms)
                   for p, (s, a, since, last) in state.items()), key=lambda r: (r.site, r.area, r.person))
