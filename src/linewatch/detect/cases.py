"""Handling alerts: who may see which alert, the handoff actions, cases and their timeline.

The API, the web pages and the live stream all read alerts through `alert_scope(user)` and change
them only through `acknowledge`, `assign`, `close` and `comment`, which write the handoff log
(`AlertNote`) in the same transaction.

A **case** groups related alerts so an analyst handles one story, not ten rows: alerts at the same
site about the same asset, or involving the same person (a user name or badge holder named by the
alert or its evidence events), within `CASE_WINDOW` of the case's first or last alert.
`assign_case(alert)` is called once an alert is recorded; it is idempotent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from linewatch.core import services
from linewatch.core.models import Site, Team
from linewatch.core.permissions import ALL_SITE_ROLES, ROLE_CAPABILITIES, Cap, can, visible_sites
from linewatch.detect.models import Alert, AlertAction, AlertNote, AlertStatus, Case, CaseStatus
from linewatch.errors import InputError
from linewatch.events.models import StoredEvent
from linewatch.events.schema import (
    ControllerActivity,
    EventClass,
    GateActivity,
    PatrolActivity,
    PhysicalAccessActivity,
    SurveillanceActivity,
    VisitorActivity,
    category_of,
    event_uid,
)

CASE_WINDOW = dt.timedelta(hours=2)

SEVERITY_LABELS = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical", 6: "Fatal"}
OPEN_STATUSES = (AlertStatus.NEW, AlertStatus.ACKNOWLEDGED)
STATUS_FILTERS: dict[str, tuple[str, ...] | None] = {
    "open": OPEN_STATUSES,
    "new": (AlertStatus.NEW,),
    "acknowledged": (AlertStatus.ACKNOWLEDGED,),
    "closed": (AlertStatus.CLOSED,),
    "all": None,
}


def severity_label(severity_id: int) -> str:
    return SEVERITY_LABELS.get(severity_id, "Unknown")


# ------------------------------------------------------------------ scope


def _sees_every_site(user, cap: Cap) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return any(cap in ROLE_CAPABILITIES[a.role] and (a.all_sites or a.role in ALL_SITE_ROLES)
               for a in user.linewatch_roles.all())


def alert_scope(user) -> QuerySet[Alert]:
    """The alerts the user may see, mirroring `services.asset_scope`: every alert at the sites where
    they hold VIEW_ALERTS and VIEW_PLANT, and at the sites where they hold only VIEW_ALERTS (guards)
    the alerts about physical-security devices. Alerts no site could be given are for roles that
    see the whole plant everywhere."""
    if not can(user, Cap.VIEW_ALERTS):
        return Alert.objects.none()
    alert_sites = visible_sites(user, Cap.VIEW_ALERTS)
    plant_sites = visible_sites(user, Cap.VIEW_PLANT).filter(pk__in=alert_sites.values("pk"))
    query = Q(site_slug__in=plant_sites.values("slug")) | Q(
        site_slug__in=alert_sites.values("slug"), asset__kind__in=services.PHYSICAL_KINDS)
    if _sees_every_site(user, Cap.VIEW_ALERTS) and _sees_every_site(user, Cap.VIEW_PLANT):
        query |= Q(site_slug="")
    return Alert.objects.filter(query)


def case_scope(user) -> QuerySet[Case]:
    """The cases holding at least one alert the user may see (the case then shows only those)."""
    return Case.objects.filter(uid__in=alert_scope(user).filter(case__isnull=False).values("case_id"))


def filter_alerts(alerts: QuerySet[Alert], *, site: str = "", status: str = "", severity_min: int | str | None = None,
                  rule: str = "", asset: str = "", team: str = "", assignee: str = "", case: str = "",
                  ) -> QuerySet[Alert]:
    """Narrow an alert query by the list filters.

    `status` is open (new or acknowledged), new, acknowledged, closed or all (empty: all);
    `asset` a name, site/name or id; `team` the owning or the assigned team's slug.
    """
    if site:
        alerts = alerts.filter(site_slug=site)
    statuses = STATUS_FILTERS.get(status or "all", ())
    if statuses == ():
        raise InputError("status", status, f"one of {', '.join(STATUS_FILTERS)}")
    if statuses is not None:
        alerts = alerts.filter(status__in=statuses)
    if severity_min not in (None, ""):
        try:
            alerts = alerts.filter(severity_id__gte=int(severity_min))
        except (TypeError, ValueError):
            raise InputError("severity_min", str(severity_min), "a severity from 1 to 5") from None
    if rule:
        alerts = alerts.filter(rule_id=rule)
    if asset:
        if asset.isdigit():
            alerts = alerts.filter(asset_id=int(asset))
        elif "/" in asset:
            site_slug, _, name = asset.partition("/")
            alerts = alerts.filter(asset__site__slug=site_slug, asset__name=name)
        else:
            alerts = alerts.filter(asset__name=asset)
    if team:
        alerts = alerts.filter(Q(owner_team__slug=team) | Q(assigned_team__slug=team))
    if assignee:
        alerts = alerts.filter(assignee__username=assignee)
    if case:
        alerts = alerts.filter(case_id=case)
    return alerts


def open_alerts_by_severity(user) -> dict[str, Any]:
    """Counts of open alerts per severity, most severe first, for the home page's strip."""
    if not can(user, Cap.VIEW_ALERTS):
        return {}
    counts = dict(alert_scope(user).filter(status__in=OPEN_STATUSES).order_by().values_list("severity_id")
                  .annotate(n=Count("uid")))
    rows = [{"severity_id": s, "label": SEVERITY_LABELS[s], "count": counts.get(s, 0)} for s in range(5, 0, -1)]
    return {"rows": rows, "total": sum(counts.values()),
            "unassigned": alert_scope(user).filter(status__in=OPEN_STATUSES, assignee__isnull=True,
                                                   assigned_team__isnull=True).count()}


# ------------------------------------------------------------------ the handoff actions


class HandoffConflict(Exception):
    """The action does not fit the alert's state (closing a closed alert): HTTP 409."""


def assignee_label(alert: Alert) -> str:
    if alert.assignee_id:
        return f"user:{alert.assignee.get_username()}"
    if alert.assigned_team_id:
        return f"team:{alert.assigned_team.slug}"
    return ""


def _site(alert: Alert) -> Site | None:
    return Site.objects.select_related("organisation").filter(slug=alert.site_slug).first() if alert.site_slug \
        else None


def may_handle(user, alert: Alert) -> bool:
    site = _site(alert)
    if site is None:
        return _sees_every_site(user, Cap.HANDLE_ALERTS)
    return can(user, Cap.HANDLE_ALERTS, site)


def _locked(alert: Alert) -> Alert:
    return Alert.objects.select_for_update(of=("self",)).select_related("assignee", "assigned_team").get(pk=alert.pk)


def _log(alert: Alert, user, action: str, *, via: str, before: tuple[str, str], text: str = "") -> AlertNote:
    return AlertNote.objects.create(
        alert=alert, author=user if getattr(user, "pk", None) else None,
        author_name=user.get_username() if user is not None else "system", via=via, action=action,
        from_status=before[0], to_status=alert.status, from_assignee=before[1], to_assignee=assignee_label(alert),
        text=text.strip(),
    )


def _set_status(alert: Alert, status: str) -> None:
    alert.status = status
    alert.status_changed = timezone.now()


def acknowledge(alert: Alert, user, note: str = "", via: str = "web") -> Alert:
    """Someone is on it. An alert no person holds (unassigned, or routed to a team) becomes theirs;
    a closed one is reopened."""
    with transaction.atomic():
        alert = _locked(alert)
        if alert.status == AlertStatus.ACKNOWLEDGED:
            raise HandoffConflict(f"already acknowledged ({assignee_label(alert) or 'unassigned'})")
        before = (alert.status, assignee_label(alert))
        action = AlertAction.REOPEN if alert.status == AlertStatus.CLOSED else AlertAction.ACKNOWLEDGE
        _set_status(alert, AlertStatus.ACKNOWLEDGED)
        if alert.assignee_id is None and user is not None and getattr(user, "pk", None):
            alert.assignee, alert.assigned_team = user, None  # one holder: the person who took it
        alert.save(update_fields=["status", "status_changed", "assignee", "assigned_team"])
        _log(alert, user, action, via=via, before=before, text=note)
        if alert.case_id:
            update_case_status(alert.case_id)
    return alert


def resolve_assignee(alert: Alert, to: str):
    """`to` as (user, team): `user:NAME`, `team:SLUG`, or a bare name (a user first, then a team of
    the alert's organisation); empty unassigns. A user must be allowed to handle alerts at the site."""
    to = (to or "").strip()
    if not to:
        return None, None
    kind, sep, name = to.partition(":")
    if not sep or kind not in ("user", "team"):
        kind, name = "", to
    site = _site(alert)
    if kind in ("", "user"):
        user = get_user_model().objects.filter(username=name, is_active=True).first()
        if user is not None:
            allowed = can(user, Cap.HANDLE_ALERTS, site) if site else _sees_every_site(user, Cap.HANDLE_ALERTS)
            if not allowed:
                raise InputError("to", name, f"this user may not handle alerts at {alert.site_slug or 'every site'}")
            return user, None
    if kind in ("", "team"):
        teams = Team.objects.filter(slug=name)
        if site is not None:
            teams = teams.filter(organisation=site.organisation)
        team = teams.first()
        if team is not None:
            return None, team
    raise InputError("to", to, "no such user or team (give a user name or a team slug)")


def assign(alert: Alert, user, to: str, note: str = "", via: str = "web") -> Alert:
    """Hand the alert to a person or a team (or back to nobody)."""
    with transaction.atomic():
        alert = _locked(alert)
        if alert.status == AlertStatus.CLOSED:
            raise HandoffConflict("the alert is closed: acknowledge it to reopen it first")
        person, team = resolve_assignee(alert, to)
        before = (alert.status, assignee_label(alert))
        if (alert.assignee_id, alert.assigned_team_id) == (getattr(person, "pk", None), getattr(team, "pk", None)):
            raise HandoffConflict(f"already assigned to {before[1] or 'nobody'}")
        alert.assignee, alert.assigned_team = person, team
        alert.save(update_fields=["assignee", "assigned_team"])
        _log(alert, user, AlertAction.ASSIGN, via=via, before=before, text=note)
    return alert


def close(alert: Alert, user, reason: str, via: str = "web") -> Alert:
    """Done, with the reason (false positive, contained, authorised work…)."""
    if not (reason or "").strip():
        raise InputError("reason", "", "say why the alert is closed")
    with transaction.atomic():
        alert = _locked(alert)
        if alert.status == AlertStatus.CLOSED:
            raise HandoffConflict("already closed")
        before = (alert.status, assignee_label(alert))
        _set_status(alert, AlertStatus.CLOSED)
        alert.save(update_fields=["status", "status_changed"])
        _log(alert, user, AlertAction.CLOSE, via=via, before=before, text=reason)
        if alert.case_id:
            update_case_status(alert.case_id)
    return alert


def comment(alert: Alert, user, text: str, via: str = "web") -> AlertNote:
    if not (text or "").strip():
        raise InputError("text", "", "the comment is empty")
    before = (alert.status, assignee_label(alert))
    return _log(alert, user, AlertAction.COMMENT, via=via, before=before, text=text)


# ------------------------------------------------------------------ cases

# Where events name a person: a login's user, a badge holder, a visitor.
ACTOR_PATHS = ("actor.user.name", "actor.user.uid", "actor.person.uid", "actor.person.name", "user.name",
               "visitor.name")
NOT_A_PERSON = frozenset({"", "-", "system", "local service", "network service", "anonymous", "anonymous logon",
                          "unknown", "n/a", "none", "null"})


def normalise_actor(value: Any) -> str:
    """A person's name as cases compare it: lower case, without a Windows domain or a mail domain."""
    text = str(value or "").strip().lower()
    text = text.rsplit("\\", 1)[-1]
    if "@" in text:
        text = text.split("@", 1)[0]
    if text in NOT_A_PERSON or text.endswith("$"):  # machine accounts
        return ""
    return text


def _actors_in(value: Any) -> list[str]:
    if isinstance(value, dict):
        value = [value.get(k) for k in ("uid", "name", "key") if value.get(k)]
    if not isinstance(value, list | tuple):
        value = [value]
    return [n for n in (normalise_actor(v) for v in value) if n]


def evidence_bodies(uids: Iterable[str]) -> dict[str, dict]:
    """The stored evidence events (bodies) by uid; events no longer stored are left out."""
    uids = list(dict.fromkeys(uids))
    found: dict[str, dict] = {}
    for start in range(0, len(uids), 500):
        for uid, body in StoredEvent.objects.filter(uid__in=uids[start:start + 500]).values_list("uid", "body"):
            found[uid] = body
    return found


def alert_actors(alert: Alert, bodies: dict[str, dict] | None = None) -> list[str]:
    """The people an alert involves: named by the finding (`unmapped.actor`, evidence `actor`) or by
    its evidence events' actor attributes."""
    names: list[str] = []
    finding = alert.finding or {}
    names += _actors_in((finding.get("unmapped") or {}).get("actor"))
    for evidence in finding.get("evidences") or []:
        data = evidence.get("data") or {}
        names += _actors_in(evidence.get("actor") or data.get("actor"))
    if bodies is None:
        bodies = evidence_bodies(alert.event_uids or [])
    for body in bodies.values():
        attrs = body.get("attrs") or {}
        for path in ACTOR_PATHS:
            names += _actors_in(attrs.get(path))
    return sorted(set(names))


def _case_title(alert: Alert, actors: Sequence[str]) -> str:
    subject = alert.asset.name if alert.asset_id else (actors[0] if actors else (alert.site_slug or "unknown site"))
    return f"{subject}: {alert.title}"[:300]


def assign_case(alert: Alert, window: dt.timedelta = CASE_WINDOW) -> Case:
    """Put a newly recorded alert into the open case it belongs to, or open one.

    It joins the most recent open case at its site that has an alert about the same asset, or
    shares a person with it, and whose alerts lie within `window` of this one. Idempotent: an alert
    already in a case stays there.
    """
    if alert.case_id:
        return alert.case
    with transaction.atomic():
        alert = Alert.objects.select_for_update(of=("self",)).select_related("asset").get(pk=alert.pk)
        if alert.case_id:
            return alert.case
        actors = alert_actors(alert)
        candidates = Case.objects.filter(
            site_slug=alert.site_slug, status=CaseStatus.OPEN,
            first_seen__lte=alert.time + window, last_seen__gte=alert.time - window,
        ).order_by("-last_seen")
        chosen = None
        if alert.asset_id:
            chosen = candidates.filter(Q(asset_id=alert.asset_id) | Q(alerts__asset_id=alert.asset_id)).first()
        if chosen is None and actors:
            chosen = next((c for c in candidates[:200] if set(c.actors) & set(actors)), None)
        if chosen is None:
            chosen = Case.objects.create(
                uid=event_uid("case", alert.uid), site_slug=alert.site_slug, title=_case_title(alert, actors),
                severity_id=alert.severity_id, cost_per_hour=alert.cost_per_hour,
                safety_critical=alert.safety_critical, first_seen=alert.time, last_seen=alert.time,
                asset=alert.asset, actors=actors,
            )
        else:  # the figures follow the new alert without reading the case's other alerts
            chosen.actors = sorted(set(chosen.actors) | set(actors))
            chosen.severity_id = max(chosen.severity_id, alert.severity_id)
            chosen.cost_per_hour = max(chosen.cost_per_hour, alert.cost_per_hour)
            chosen.safety_critical = chosen.safety_critical or alert.safety_critical
            chosen.first_seen = min(chosen.first_seen, alert.time)
            chosen.last_seen = max(chosen.last_seen, alert.time)
            if alert.status != AlertStatus.CLOSED:
                chosen.status = CaseStatus.OPEN
            chosen.save()
        alert.case = chosen
        alert.save(update_fields=["case"])
    return chosen


def update_case_status(case_id: str) -> None:
    """A case is closed when every alert in it is closed, and open again when one is reopened."""
    still_open = Alert.objects.filter(case_id=case_id).exclude(status=AlertStatus.CLOSED).exists()
    Case.objects.filter(pk=case_id).update(status=CaseStatus.OPEN if still_open else CaseStatus.CLOSED,
                                           updated=timezone.now())


def refresh_case(case: Case) -> Case:
    """Recompute the case's figures from all its alerts: highest severity and cost, first and last
    seen, and its status (after alerts were moved between cases by hand, say)."""
    alerts = list(case.alerts.values("time", "severity_id", "cost_per_hour", "safety_critical", "status"))
    if not alerts:
        return case
    case.severity_id = max(a["severity_id"] for a in alerts)
    case.cost_per_hour = max(a["cost_per_hour"] for a in alerts)
    case.safety_critical = any(a["safety_critical"] for a in alerts)
    case.first_seen = min(a["time"] for a in alerts)
    case.last_seen = max(a["time"] for a in alerts)
    case.status = CaseStatus.CLOSED if all(a["status"] == AlertStatus.CLOSED for a in alerts) else CaseStatus.OPEN
    case.save()
    return case


# ------------------------------------------------------------------ evidence and the timeline

# (domain, label) in the order the timeline stacks them.
DOMAINS: tuple[tuple[str, str], ...] = (
    ("physical", "Badge / physical"),
    ("camera", "Camera"),
    ("login", "Login / identity"),
    ("network", "Network"),
    ("ot", "OT controller"),
    ("host", "Host / other"),
)
DOMAIN_LABELS = dict(DOMAINS)

_ACTIVITIES = {
    EventClass.PHYSICAL_ACCESS: PhysicalAccessActivity, EventClass.SURVEILLANCE_DEVICE: SurveillanceActivity,
    EventClass.GATE_ACTIVITY: GateActivity, EventClass.PATROL_CHECKPOINT: PatrolActivity,
    EventClass.VISITOR_ACTIVITY: VisitorActivity, EventClass.CONTROLLER_ACTIVITY: ControllerActivity,
}
_CLASS_NAMES = {int(c): c.name.replace("_", " ").capitalize() for c in EventClass}


def event_domain(class_uid: int) -> str:
    """Which lane of the timeline an event belongs to."""
    if class_uid == EventClass.SURVEILLANCE_DEVICE:
        return "camera"
    category = category_of(class_uid)
    if category == 30:
        return "physical"
    if category == 31:
        return "ot"
    if category == 3:
        return "login"
    if category == 4:
        return "network"
    return "host"


def event_label(body: dict) -> str:
    class_uid = int(body.get("class_uid", 0))
    name = _CLASS_NAMES.get(class_uid, f"Class {class_uid}")
    activities = _ACTIVITIES.get(class_uid)
    activity = body.get("activity_id", 0)
    if activities is not None:
        with contextlib.suppress(ValueError):
            name = f"{name}: {activities(activity).name.replace('_', ' ').lower()}"
    return name


SUMMARY_PATHS = (
    ("actor.user.name", "by"), ("door.name", "door"), ("reader.name", "reader"), ("device.name", "device"),
    ("device.hostname", "host"), ("controller.operation", "operation"), ("controller.protocol", "protocol"),
    ("access.event", "access"),
)


def event_summary(body: dict) -> str:
    """One line about an event: its message, or who, where, from where to where."""
    attrs = body.get("attrs") or {}
    parts = []
    if body.get("message"):
        parts.append(str(body["message"]))
    src, dst = attrs.get("src_endpoint.ip"), attrs.get("dst_endpoint.ip")
    src_name, dst_name = attrs.get("src_endpoint.asset.name"), attrs.get("dst_endpoint.asset.name")
    if src or dst:
        left = f"{src_name} ({src})" if src_name and src else (src or "?")
        right = f"{dst_name} ({dst})" if dst_name and dst else (dst or "?")
        port = attrs.get("dst_endpoint.port")
        parts.append(f"{left} → {right}{f':{port}' if port else ''}")
    for path, word in SUMMARY_PATHS:
        if attrs.get(path) not in (None, ""):
            parts.append(f"{word} {attrs[path]}")
    return " · ".join(parts)


@dataclass
class EvidenceEvent:
    uid: str
    time: dt.datetime
    domain: str
    label: str
    summary: str
    source: str
    site: str
    alerts: list[str] = field(default_factory=list)

    @property
    def domain_label(self) -> str:
        return DOMAIN_LABELS[self.domain]


def evidence_events(alerts: Sequence[Alert], limit: int = 500) -> list[EvidenceEvent]:
    """The stored events behind the alerts, oldest first, each naming the alerts it is evidence for."""
    by_event: dict[str, list[str]] = {}
    for alert in alerts:
        for uid in alert.event_uids or []:
            by_event.setdefault(uid, []).append(alert.uid)
    bodies = evidence_bodies(list(by_event)[:limit])
    out = []
    for uid, body in bodies.items():
        class_uid = int(body.get("class_uid", 0))
        time = dt.datetime.fromtimestamp(int(body.get("time", 0)) / 1000, dt.UTC)
        out.append(EvidenceEvent(uid, time, event_domain(class_uid), event_label(body), event_summary(body),
                                 body.get("source", ""), body.get("site", ""), by_event[uid]))
    out.sort(key=lambda e: (e.time, e.uid))
    return out


@dataclass
class TimelinePoint:
    x: float
    y: float
    kind: str  # "alert" or "event"
    domain: str
    time: dt.datetime
    title: str
    href: str
    severity_id: int = 0
    clock: str = ""  # the time on the site's clock

    @property
    def diamond(self) -> str:
        """The SVG path of an alert's marker."""
        return f"M{self.x} {self.y - 8} l8 8 l-8 8 l-8 -8 z"


@dataclass
class Timeline:
    """A case on one time axis, laid out for an inline SVG: one lane per domain, alerts on top."""

    width: int
    height: int
    left: int
    right: int
    top: int
    lanes: list[dict]
    ticks: list[dict]
    points: list[TimelinePoint]
    start: dt.datetime
    end: dt.datetime
    tz: str

    @property
    def axis_y(self) -> int:
        return self.height - 26

    @property
    def label_y(self) -> int:
        return self.height - 10


TICK_STEPS = (1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)  # seconds
LANE_HEIGHT = 34


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name) if name else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def layout_timeline(alerts: Sequence[Alert], events: Sequence[EvidenceEvent], tz_name: str = "UTC",
                    width: int = 1000) -> Timeline:
    """Place the alerts and their evidence on one axis. Points at the same spot are fanned out
    vertically within their lane so none hides another."""
    tz = _zone(tz_name)
    times = [a.time for a in alerts] + [e.time for e in events]
    start, end = (min(times), max(times)) if times else (timezone.now(), timezone.now())
    span = (end - start).total_seconds()
    pad = max(span * 0.04, 30.0)
    start, end = start - dt.timedelta(seconds=pad), end + dt.timedelta(seconds=pad)
    span = (end - start).total_seconds()
    left, right, top = 150, 20, 10
    used = {e.domain for e in events}
    lanes = [{"domain": "alert", "label": "Alerts"}] + [{"domain": d, "label": lbl} for d, lbl in DOMAINS if d in used]
    for i, lane in enumerate(lanes):
        lane["y"] = top + i * LANE_HEIGHT
        lane["mid"] = lane["y"] + LANE_HEIGHT // 2
        lane["height"] = LANE_HEIGHT
        lane["odd"] = i % 2 == 1
    height = top + len(lanes) * LANE_HEIGHT + 30
    mids = {lane["domain"]: lane["mid"] for lane in lanes}
    plot = width - left - right

    def x_of(t: dt.datetime) -> float:
        return round(left + plot * (t - start).total_seconds() / span, 1)

    points: list[TimelinePoint] = []
    crowd: dict[tuple[str, int], int] = {}

    def place(domain: str, t: dt.datetime) -> tuple[float, float]:
        x = x_of(t)
        key = (domain, int(x // 6))
        n = crowd.get(key, 0)
        crowd[key] = n + 1
        offset = ((n + 1) // 2) * 7 * (1 if n % 2 else -1)  # 0, +7, -7, +14, -14 …
        return x, mids[domain] + max(-14, min(14, offset))

    def clock(t: dt.datetime) -> str:
        return t.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")

    for alert in alerts:
        x, y = place("alert", alert.time)
        points.append(TimelinePoint(x, y, "alert", "alert", alert.time, f"{severity_label(alert.severity_id)}: "
                                    f"{alert.title}", f"#alert-{alert.uid}", alert.severity_id, clock(alert.time)))
    for event in events:
        x, y = place(event.domain, event.time)
        title = f"{event.label}{' · ' + event.summary if event.summary else ''}"
        points.append(TimelinePoint(x, y, "event", event.domain, event.time, title, f"#ev-{event.uid}",
                                    clock=clock(event.time)))

    step = next((s for s in TICK_STEPS if span / s <= 8), TICK_STEPS[-1])
    first = (int(start.timestamp()) // step + 1) * step
    ticks = []
    fmt = "%H:%M:%S" if step < 60 else ("%H:%M" if step < 86400 else "%d %b")
    for epoch in range(first, int(end.timestamp()) + 1, step):
        t = dt.datetime.fromtimestamp(epoch, dt.UTC)
        ticks.append({"x": x_of(t), "label": t.astimezone(tz).strftime(fmt)})
    return Timeline(width, height, left, right, top, lanes, ticks, points, start, end,
                    tz_name if tz is not dt.UTC else "UTC")


def case_timeline(case: Case, alerts: Sequence[Alert]) -> tuple[Timeline, list[EvidenceEvent]]:
    """The case's visible alerts and their evidence, on the site's clock."""
    events = evidence_events(alerts)
    site = Site.objects.filter(slug=case.site_slug).first()
    return layout_timeline(alerts, events, site.timezone if site else "UTC"), events


def timeline_as_dict(alerts: Sequence[Alert], events: Sequence[EvidenceEvent]) -> list[dict]:
    """The timeline for the API: alerts and events, oldest first, each with its domain."""
    rows = [{"time": a.time, "kind": "alert", "domain": "alert", "uid": a.uid, "title": a.title,
             "severity_id": a.severity_id, "status": a.status} for a in alerts]
    rows += [{"time": e.time, "kind": "event", "domain": e.domain, "uid": e.uid, "title": e.label,
              "summary": e.summary, "source": e.source, "alerts": e.alerts} for e in events]
    rows.sort(key=lambda r: (r["time"], r["kind"] != "event"))
    return rows
