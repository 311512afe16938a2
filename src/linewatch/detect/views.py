"""Alert and case pages, and the live stream of new alerts (server-sent events).

Like every page (see linewatch.web.views): the capability first (403 without it anywhere), then
objects only from the user's scope (`cases.alert_scope`), so an alert elsewhere is a 404. Changes
go through `detect.cases` (which writes the handoff log) and need HANDLE_ALERTS at the alert's site.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from linewatch.core import services
from linewatch.core.choices import RaciRole
from linewatch.core.models import Site, Team
from linewatch.core.permissions import ROLE_CAPABILITIES, Cap, can, visible_sites
from linewatch.detect import cases
from linewatch.detect.models import Alert, CaseStatus
from linewatch.errors import InputError
from linewatch.web import queries

PAGE_SIZE = 50
ALERT_FILTERS = ("site", "status", "severity_min", "rule", "asset", "team")
DEFAULT_STATUS = "open"

# The live stream: each connection lives STREAM_SECONDS, then the browser reconnects after
# STREAM_RETRY_MS with the last event id, so no worker is held for long and proxies see traffic.
STREAM_SECONDS = 25.0
STREAM_POLL = 2.0
STREAM_RETRY_MS = 3000
STREAM_BATCH = 50
# An alert's `created` is set when its row is written, but the row becomes visible when the
# detection batch commits, a little later: each poll looks this far behind the cursor again.
STREAM_OVERLAP = dt.timedelta(seconds=30)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _require(request, cap: Cap = Cap.VIEW_ALERTS) -> None:
    if not can(request.user, cap):
        raise PermissionDenied(f"Your role does not allow this page ({cap.value}).")


def _plant_slugs(user) -> set[str]:
    return set(visible_sites(user, Cap.VIEW_PLANT).values_list("slug", flat=True))


def _alerts(user):
    return cases.alert_scope(user).select_related("asset", "owner_team", "assignee", "assigned_team")


# ------------------------------------------------------------------ rows


@dataclass
class AlertRow:
    """An alert as the list shows it: whose problem, which line, what it costs."""

    alert: Alert
    plant: bool
    line: dict | None
    more_lines: int
    currency: str
    owner_conflict: list[str]
    owner_gap: bool

    @property
    def severity(self) -> str:
        return cases.severity_label(self.alert.severity_id)


def alert_row(alert: Alert, plant: bool) -> AlertRow:
    unmapped = (alert.finding or {}).get("unmapped") or {}
    consequence = unmapped.get("consequence") or {}
    lines = consequence.get("lines") or []
    order = {"stopped": 0, "degraded": 1, "redundancy_lost": 2}
    lines = sorted(lines, key=lambda li: (order.get(li.get("status"), 3), -li.get("cost_per_hour", 0)))
    accountable = (unmapped.get("owner") or {}).get(RaciRole.ACCOUNTABLE, [])
    return AlertRow(
        alert=alert, plant=plant, line=lines[0] if lines and plant else None,
        more_lines=max(len(lines) - 1, 0) if plant else 0, currency=consequence.get("currency", ""),
        owner_conflict=[t.get("name", t.get("slug", "")) for t in accountable] if len(accountable) > 1 else [],
        owner_gap=bool(alert.asset_id) and not accountable and not alert.owner_team_id,
    )


def _filters(request) -> dict[str, str]:
    filters = {key: request.GET.get(key, "").strip() for key in ALERT_FILTERS}
    if filters["status"] not in cases.STATUS_FILTERS:
        filters["status"] = DEFAULT_STATUS
    if not filters["severity_min"].isdigit():
        filters["severity_min"] = ""
    return filters


def _cursor(moment: dt.datetime) -> str:
    return str((moment - EPOCH) // dt.timedelta(microseconds=1))


def _parse_cursor(raw: str) -> dt.datetime | None:
    try:
        return EPOCH + dt.timedelta(microseconds=int(raw))
    except (TypeError, ValueError, OverflowError):
        return None


# ------------------------------------------------------------------ alerts


@require_GET
def alert_list(request):
    _require(request)
    user = request.user
    filters = _filters(request)
    alerts = cases.filter_alerts(_alerts(user), **filters).order_by("-time", "uid")
    page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
    plant = _plant_slugs(user)
    stream_query = request.GET.copy()
    stream_query.pop("page", None)
    stream_query["status"] = filters["status"]
    return render(request, "detect/alerts.html", {
        "page": page,
        "rows": [alert_row(a, a.site_slug in plant) for a in page.object_list],
        "filters": filters,
        "filtered": any(v for k, v in filters.items() if k != "status") or filters["status"] != DEFAULT_STATUS,
        "site_choices": visible_sites(user, Cap.VIEW_ALERTS),
        "status_choices": [(k, k.capitalize()) for k in cases.STATUS_FILTERS],
        "severity_choices": [(s, cases.severity_label(s)) for s in range(5, 0, -1)],
        "show_plant": bool(plant),
        "stream_url": f"{reverse('web:alert_stream')}?{stream_query.urlencode()}",
        "since": _cursor(timezone.now()),
        "live": page.number == 1,
    })


def _owner_rows(alert: Alert, show_people: bool) -> tuple[list, Any]:
    """RACI rows (role, label, teams, scope) for the alert's asset as the model says now, or as the
    finding recorded them when the asset is unknown."""
    teams_by_role: dict[str, list] = {}
    scope: dict[str, str] = {}
    owners = None
    if alert.asset_id:
        owners = services.owners_of(alert.asset)
        teams_by_role, scope = owners.teams, owners.scope
    else:
        recorded = ((alert.finding or {}).get("unmapped") or {}).get("owner") or {}
        slugs = {t["slug"] for teams in recorded.values() for t in teams if t.get("slug")}
        found = {t.slug: t for t in Team.objects.filter(slug__in=slugs)}
        teams_by_role = {role: [found[t["slug"]] for t in teams if t.get("slug") in found]
                         for role, teams in recorded.items()}
    rows = [(role, label, teams_by_role.get(role, []), scope.get(role, "")) for role, label in RaciRole.choices]
    if show_people:
        for _, _, teams, _ in rows:
            for team in teams:
                team.leads = [m.person.name for m in team.memberships.select_related("person") if m.is_lead]
    return rows, owners


def _consequence(alert: Alert) -> dict | None:
    consequence = dict(((alert.finding or {}).get("unmapped") or {}).get("consequence") or {})
    if not consequence:
        return None
    lines = queries.lines_by_id(li["id"] for li in consequence.get("lines", []) if "id" in li)
    consequence["lines"] = [{**li, "obj": lines.get(li.get("id"))} for li in consequence.get("lines", [])]
    subject = alert.asset.name if alert.asset_id else ""
    consequence["chains"] = sorted(((name, chain) for name, chain in (consequence.get("down") or {}).items()
                                    if name != subject), key=lambda item: (len(item[1]), item[0]))
    return consequence


def _assign_choices(alert: Alert, site: Site | None) -> dict[str, list]:
    """People who may handle alerts at the site, and the teams of its organisation."""
    handler_roles = [role for role, caps in ROLE_CAPABILITIES.items() if Cap.HANDLE_ALERTS in caps]
    candidates = get_user_model().objects.filter(
        Q(linewatch_roles__role__in=handler_roles) | Q(is_superuser=True), is_active=True).distinct()
    people = [u for u in candidates.order_by("username")
              if (can(u, Cap.HANDLE_ALERTS, site) if site else u.is_superuser)]
    teams = Team.objects.filter(organisation=site.organisation).order_by("name") if site else Team.objects.none()
    return {"people": people, "teams": list(teams)}


ACTIONS = ("acknowledge", "assign", "close", "comment")


@require_http_methods(["GET", "POST"])
def alert_detail(request, uid: str):
    _require(request)
    user = request.user
    alert = get_object_or_404(_alerts(user).select_related("case", "asset__site"), uid=uid)
    site = Site.objects.select_related("organisation").filter(slug=alert.site_slug).first()
    can_handle = cases.may_handle(user, alert)
    error, status = "", 200
    if request.method == "POST":
        if not can_handle:
            raise PermissionDenied("Your role does not allow handling alerts at this site.")
        action = request.POST.get("action", "")
        text = request.POST.get("note", "")
        try:
            if action == "acknowledge":
                cases.acknowledge(alert, user, text)
            elif action == "assign":
                cases.assign(alert, user, request.POST.get("to", ""), text)
            elif action == "close":
                cases.close(alert, user, text)
            elif action == "comment":
                cases.comment(alert, user, text)
            else:
                raise InputError("action", action, f"one of {', '.join(ACTIONS)}")
        except InputError as exc:
            error, status = exc.message, 400
        except cases.HandoffConflict as exc:
            error, status = str(exc), 409
        else:
            return redirect(f"{reverse('web:alert', args=[alert.uid])}#handling")
        alert.refresh_from_db()
    plant = can(user, Cap.VIEW_PLANT, site) if site else False
    owner_rows, owners = _owner_rows(alert, can(user, Cap.VIEW_PEOPLE, site) if site else False)
    finding = alert.finding or {}
    info = finding.get("finding_info") or {}
    case_alerts = []
    if alert.case_id:
        case_alerts = [alert_row(a, plant) for a in
                       _alerts(user).filter(case_id=alert.case_id).exclude(uid=alert.uid).order_by("time")]
    context = {
        "alert": alert,
        "row": alert_row(alert, plant),
        "site": site,
        "plant": plant,
        "info": info,
        "techniques": [a["technique"]["uid"] for a in info.get("attacks", []) if a.get("technique", {}).get("uid")],
        "consequence": _consequence(alert) if plant else None,
        "owner_rows": owner_rows,
        "owners": owners,
        "evidence": cases.evidence_events([alert]),
        "notes": list(alert.notes.select_related("author")),
        "can_handle": can_handle,
        "choices": _assign_choices(alert, site) if can_handle else {},
        "current_assignee": cases.assignee_label(alert),
        "case_alerts": case_alerts,
        "error": error,
        "posted": request.POST if error else {},
    }
    return render(request, "detect/alert.html", context, status=status)


# ------------------------------------------------------------------ live stream


class AlertStream:
    """New alerts in the user's scope matching the list's filters, from a cursor (`created`)."""

    def __init__(self, user, filters: dict[str, str], since: dt.datetime) -> None:
        self.user = user
        self.filters = filters
        self.cursor = since
        self.sent: dict[str, dt.datetime] = {}

    def poll(self) -> list[str]:
        plant = _plant_slugs(self.user)
        floor = self.cursor - STREAM_OVERLAP
        fresh = (cases.filter_alerts(_alerts(self.user), **self.filters).filter(created__gt=floor)
                 .order_by("created", "uid")[: STREAM_BATCH + len(self.sent)])
        frames = []
        for alert in fresh:
            if alert.uid in self.sent:
                continue
            self.sent[alert.uid] = alert.created
            self.cursor = max(self.cursor, alert.created)
            row = alert_row(alert, alert.site_slug in plant)
            html = render_to_string("detect/_alert_row.html", {"row": row, "show_plant": bool(plant),
                                                               "fresh": True})
            data = {"uid": alert.uid, "title": alert.title, "severity_id": alert.severity_id,
                    "site": alert.site_slug, "status": alert.status, "html": html}
            frames.append(f"id: {_cursor(self.cursor)}\nevent: alert\ndata: {json.dumps(data)}\n\n")
            if len(frames) >= STREAM_BATCH:
                break
        self.sent = {uid: created for uid, created in self.sent.items() if created > self.cursor - STREAM_OVERLAP}
        return frames


def _frames(stream: AlertStream):
    yield f"retry: {STREAM_RETRY_MS}\n\n"
    deadline = time.monotonic() + STREAM_SECONDS
    while True:
        frames = stream.poll()
        yield "".join(frames) if frames else ": waiting\n\n"
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(STREAM_POLL, left))


async def _async_frames(stream: AlertStream):
    """The same frames for the ASGI server: the wait does not hold a thread."""
    yield f"retry: {STREAM_RETRY_MS}\n\n"
    deadline = time.monotonic() + STREAM_SECONDS
    poll = sync_to_async(stream.poll)
    while True:
        frames = await poll()
        yield "".join(frames) if frames else ": waiting\n\n"
        left = deadline - time.monotonic()
        if left <= 0:
            return
        await asyncio.sleep(min(STREAM_POLL, left))


@require_GET
def alert_stream(request):
    """Server-sent events: `event: alert` with the new alert's list row, for the alerts page."""
    _require(request)
    since = _parse_cursor(request.headers.get("Last-Event-ID", "")) or _parse_cursor(request.GET.get("since", ""))
    filters = _filters(request)
    stream = AlertStream(request.user, filters, since or timezone.now())
    content = _async_frames(stream) if isinstance(request, ASGIRequest) else _frames(stream)
    response = StreamingHttpResponse(content, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each frame on at once
    return response


# ------------------------------------------------------------------ cases


@require_GET
def case_list(request):
    _require(request)
    user = request.user
    site = request.GET.get("site", "").strip()
    status = request.GET.get("status", CaseStatus.OPEN).strip()
    found = cases.case_scope(user).select_related("asset")
    if site:
        found = found.filter(site_slug=site)
    if status in CaseStatus.values:
        found = found.filter(status=status)
    else:
        status = "all"
    page = Paginator(found.order_by("-last_seen", "uid"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    counts: dict[str, dict[str, int]] = {c.uid: {"all": 0, "open": 0} for c in rows}
    for case_id, alert_status in cases.alert_scope(user).filter(case_id__in=list(counts)).values_list(
            "case_id", "status"):
        counts[case_id]["all"] += 1
        counts[case_id]["open"] += alert_status in cases.OPEN_STATUSES
    plant = _plant_slugs(user)
    return render(request, "detect/cases.html", {
        "page": page,
        "rows": [(c, counts[c.uid], c.site_slug in plant) for c in rows],
        "site": site,
        "status": status,
        "site_choices": visible_sites(user, Cap.VIEW_ALERTS),
        "status_choices": [*CaseStatus.choices, ("all", "All")],
        "show_plant": bool(plant),
    })


@require_GET
def case_detail(request, uid: str):
    _require(request)
    user = request.user
    case = get_object_or_404(cases.case_scope(user).select_related("asset"), uid=uid)
    alerts = list(_alerts(user).filter(case=case).order_by("time", "uid"))
    timeline, events = cases.case_timeline(case, alerts)
    plant = case.site_slug in _plant_slugs(user)
    return render(request, "detect/case.html", {
        "case": case,
        "rows": [alert_row(a, plant) for a in alerts],
        "plant": plant,
        "timeline": timeline,
        "events": events,
        "domains": [(d, label) for d, label in cases.DOMAINS if any(e.domain == d for e in events)],
        "severity": cases.severity_label(case.severity_id),
    })
