"""Context from the workforce and the physical world, put on events before detection.

Cross-domain rules ask questions no single event answers: "is anyone authorised badged into
that area?", "is there an open work order for this controller?", "has this person ever entered
this plant?". The tracker keeps who badged where (from the physical-access events it sees, and
from the store when it starts) and the open work orders, and writes the answers as
`linewatch.*` attributes that rules match like any other field:

- `linewatch.work_order_open`: an approved or in-progress work order covers the target asset
  (directly or through its line) at the event's time;
- `linewatch.person_work_order_open`: an open work order is assigned to the acting person;
- `linewatch.badged_into_area`: someone was granted entry to the target asset's area within
  `PRESENCE_HOURS` before the event;
- `linewatch.authorised_in_area`: one of them may work there: an authorisation for that area
  valid at the time, or membership of an OT engineering team;
- `linewatch.person_entered_site`: the acting person was granted entry at this site within
  `SITE_MEMORY_DAYS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from linewatch.events.schema import Event, EventClass, PhysicalAccessActivity

PRESENCE_HOURS = 8
SITE_MEMORY_DAYS = 30
OPEN_STATUSES = ("approved", "in_progress")


class ContextTracker:
    def __init__(self) -> None:
        self.area_entries: dict[tuple[str, str], dict[str, int]] = {}  # (site, area) -> person -> last grant (ms)
        self.person_sites: dict[tuple[str, str], int] = {}  # (person, site) -> last granted time (ms)
        self._orders: list[tuple[int, int, str, str, frozenset[str]]] | None = None
        self._orders_version: int | None = None
        self._authorised: tuple[dict[tuple[str, str, str], list[tuple[int, int]]], frozenset[str]] | None = None
        self._authorised_version: int | None = None
        self.warmed = False

    # ------------------------------------------------------------ state from events

    def observe(self, event: Event) -> None:
        if event.class_uid != EventClass.PHYSICAL_ACCESS or event.activity_id != PhysicalAccessActivity.GRANTED:
            return
        area = event.attrs.get("area.name")
        person = event.attrs.get("actor.user.name")
        if area:
            people = self.area_entries.setdefault((event.site, area), {})
            who = person or "?"
            people[who] = max(people.get(who, 0), event.time)
        if person:
            key = (person, event.site)
            self.person_sites[key] = max(self.person_sites.get(key, 0), event.time)

    def warm_up(self, now_ms: int) -> None:
        """Rebuild presence from the store after a restart (the last SITE_MEMORY_DAYS of badge grants)."""
        import msgspec

        from linewatch.events.models import StoredEvent

        since = dt.datetime.fromtimestamp(now_ms / 1000 - SITE_MEMORY_DAYS * 86400, dt.UTC)
        rows = StoredEvent.objects.filter(class_uid=EventClass.PHYSICAL_ACCESS, activity_id=1,
                                          time__gte=since).values_list("body", flat=True).iterator(chunk_size=2000)
        for body in rows:
            self.observe(msgspec.convert(body, Event))
        self.warmed = True

    # ------------------------------------------------------------ work orders

    def _work_orders(self) -> list[tuple[int, int, str, str, frozenset[str]]]:
        """(start ms, end ms, site, assignee key, asset names covered) of open work orders."""
        from linewatch.core.services import _model_version
        from linewatch.workforce.models import WorkOrder

        version = _model_version()
        if self._orders is not None and version == self._orders_version:
            return self._orders
        orders = []
        for wo in WorkOrder.objects.filter(status__in=OPEN_STATUSES).select_related("site", "assignee", "line") \
                .prefetch_related("assets", "line__dependencies__members"):
            names = {a.name for a in wo.assets.all()}
            if wo.line:
                names |= {m.name for dep in wo.line.dependencies.all() for m in dep.members.all()}
            orders.append((int(wo.starts_at.timestamp() * 1000), int(wo.ends_at.timestamp() * 1000), wo.site.slug,
                           wo.assignee.key if wo.assignee else "", frozenset(names)))
        self._orders, self._orders_version = orders, version
        return orders

    def _authorisations(self):
        """(site, area, person) -> validity windows, and the keys of OT engineering team members."""
        from linewatch.core.models import TeamMember
        from linewatch.core.services import _model_version
        from linewatch.workforce.models import Authorisation

        version = _model_version()
        if self._authorised is not None and version == self._authorised_version:
            return self._authorised
        windows: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
        for site, area, person, start, end in Authorisation.objects.values_list(
                "site__slug", "area__slug", "person__key", "valid_from", "valid_to"):
            windows.setdefault((site, area, person), []).append(
                (int(start.timestamp() * 1000) if start else 0, int(end.timestamp() * 1000) if end else 2**62))
        engineers = frozenset(TeamMember.objects.filter(team__kind="ot_engineering").values_list(
            "person__key", flat=True))
        self._authorised, self._authorised_version = (windows, engineers), version
        return self._authorised

    @staticmethod
    def authorised(authorisations, site: str, area: str, person: str, at: int) -> bool:
        windows, engineers = authorisations
        return person in engineers or any(s <= at <= e for s, e in windows.get((site, area, person), ()))

    # ------------------------------------------------------------ annotate

    def annotate(self, events: Sequence[Event]) -> None:
        if not self.warmed and events:
            self.warm_up(max(e.time for e in events))
        orders = self._work_orders()
        authorisations = self._authorisations()  # read once per batch, not per event
        for event in events:
            self.observe(event)
            attrs = event.attrs
            target = attrs.get("dst_endpoint.asset.name") or attrs.get("device.asset.name")
            person = attrs.get("actor.user.name") or attrs.get("user.name")
            if target:
                attrs["linewatch.work_order_open"] = any(
                    start <= event.time <= end and site == event.site and target in names
                    for start, end, site, _, names in orders)
                area = attrs.get("dst_endpoint.asset.area") or attrs.get("device.asset.area")
                if area:
                    present = [who for who, last in self.area_entries.get((event.site, area), {}).items()
                               if 0 <= event.time - last <= PRESENCE_HOURS * 3600_000]
                    attrs["linewatch.badged_into_area"] = bool(present)
                    attrs["linewatch.authorised_in_area"] = any(
                        self.authorised(authorisations, event.site, area, who, event.time) for who in present)
            if person:
                attrs["linewatch.person_work_order_open"] = any(
                    start <= event.time <= end and assignee == person for start, end, _, assignee, _ in orders)
                last = self.person_sites.get((person, event.site), 0)
                attrs["linewatch.person_entered_site"] = last > 0 and event.time - last <= SITE_MEMORY_DAYS * 86400_000
