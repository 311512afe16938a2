"""Alerts and cases API: list and read alerts (the OCSF Detection Finding with its handling),
acknowledge, assign, close and comment, and read cases with their timeline.

Reading needs VIEW_ALERTS, scoped like assets (guards see only alerts about physical-security
devices of their sites); changing needs HANDLE_ALERTS at the alert's site. An alert or case the
user may not see is 404; a state that does not allow the action (closing a closed alert) is 409.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from linewatch.api.api import forbid
from linewatch.core.permissions import Cap, can, visible_sites
from linewatch.detect import cases
from linewatch.detect.models import Alert

router = Router(tags=["alerts"])


def _require(request, cap: Cap) -> None:
    if not can(request.auth, cap):
        raise forbid()


def _plant_slugs(user) -> set[str]:
    return set(visible_sites(user, Cap.VIEW_PLANT).values_list("slug", flat=True))


def _via(request) -> str:
    return getattr(request, "linewatch_via", None) or "api"


# ------------------------------------------------------------------ schemas


class NoteOut(Schema):
    time: dt.datetime
    author: str = Field(..., alias="author_name")
    via: str
    action: str
    from_status: str
    to_status: str
    from_assignee: str
    to_assignee: str
    text: str


class AlertOut(Schema):
    uid: str
    time: dt.datetime
    created: dt.datetime
    rule_id: str
    title: str
    severity_id: int
    severity: str
    confidence: int
    site: str
    asset: str | None
    asset_id: int | None
    asset_kind: str | None
    owner_team: str | None = Field(None, description="The accountable team of the asset: whose problem it is")
    status: str
    assignee: str | None
    assigned_team: str | None
    cost_per_hour: float | None = Field(None, description="Downtime cost at stake; null without VIEW_PLANT there")
    safety_critical: bool
    case: str | None


class AlertDetailOut(AlertOut):
    finding: dict[str, Any] = Field(..., description="The OCSF Detection Finding (class 2004)")
    event_uids: list[str]
    notes: list[NoteOut] = Field(..., description="The handoff log, oldest first")


class AlertFilter(Schema):
    site: str = ""
    status: str = Field("", description="open (new or acknowledged), new, acknowledged, closed, all")
    severity_min: int | None = Field(None, ge=1, le=6)
    rule: str = ""
    asset: str = Field("", description="Asset name, site/name or id")
    team: str = Field("", description="Owning or assigned team slug")
    assignee: str = Field("", description="Assigned user name")
    case: str = ""


class NoteIn(Schema):
    note: str = ""


class AssignIn(Schema):
    to: str = Field(..., description="A user name or team slug (`user:NAME`, `team:SLUG` to be explicit); "
                                     "empty to unassign")
    note: str = ""


class CloseIn(Schema):
    reason: str = Field(..., description="Why: false positive, contained, authorised work…")


class CommentIn(Schema):
    text: str


class CaseOut(Schema):
    uid: str
    title: str
    site: str
    status: str
    severity_id: int
    severity: str
    cost_per_hour: float | None
    safety_critical: bool
    first_seen: dt.datetime
    last_seen: dt.datetime
    asset: str | None
    actors: list[str]
    alerts: int = Field(..., description="Alerts in the case that you may see")


class TimelineRow(Schema):
    time: dt.datetime
    kind: str = Field(..., description="alert or event")
    domain: str = Field(..., description="alert, physical, camera, login, network, ot or host")
    uid: str
    title: str
    severity_id: int | None = None
    status: str | None = None
    summary: str | None = None
    source: str | None = None
    alerts: list[str] | None = None


class CaseDetailOut(CaseOut):
    alert_list: list[AlertOut]
    timeline: list[TimelineRow]


# ------------------------------------------------------------------ serialisation


def alert_dict(alert: Alert, plant: bool) -> dict[str, Any]:
    return {
        "uid": alert.uid, "time": alert.time, "created": alert.created, "rule_id": alert.rule_id,
        "title": alert.title, "severity_id": alert.severity_id, "severity": cases.severity_label(alert.severity_id),
        "confidence": alert.confidence, "site": alert.site_slug,
        "asset": alert.asset.name if alert.asset_id else None, "asset_id": alert.asset_id,
        "asset_kind": alert.asset.kind if alert.asset_id else None,
        "owner_team": alert.owner_team.slug if alert.owner_team_id else None,
        "status": alert.status, "assignee": alert.assignee.get_username() if alert.assignee_id else None,
        "assigned_team": alert.assigned_team.slug if alert.assigned_team_id else None,
        "cost_per_hour": alert.cost_per_hour if plant else None, "safety_critical": alert.safety_critical,
        "case": alert.case_id,
    }


def alert_detail_dict(alert: Alert, plant: bool) -> dict[str, Any]:
    finding = alert.finding
    if not plant:  # the consequence is plant knowledge: not for roles that see only physical security
        finding = {**finding, "unmapped": {**finding.get("unmapped", {}), "consequence": {}}}
    return {**alert_dict(alert, plant), "finding": finding, "event_uids": alert.event_uids,
            "notes": list(alert.notes.all())}


def _alerts(user):
    return cases.alert_scope(user).select_related("asset", "owner_team", "assignee", "assigned_team")


def _alert(request, uid: str) -> Alert:
    return get_object_or_404(_alerts(request.auth), uid=uid)


def _handle(request, uid: str) -> Alert:
    """The alert, for a change: HANDLE_ALERTS anywhere (403), the alert in scope (404), then
    HANDLE_ALERTS at its site (403)."""
    _require(request, Cap.HANDLE_ALERTS)
    alert = _alert(request, uid)
    if not cases.may_handle(request.auth, alert):
        raise forbid("your role does not allow handling alerts at this site")
    return alert


def _detail(request, uid: str) -> dict[str, Any]:
    alert = _alert(request, uid)
    return alert_detail_dict(alert, alert.site_slug in _plant_slugs(request.auth))


def _act(request, uid: str, action, *args) -> dict[str, Any]:
    alert = _handle(request, uid)
    try:
        action(alert, request.auth, *args, via=_via(request))
    except cases.HandoffConflict as exc:
        raise HttpError(409, str(exc)) from None
    return _detail(request, uid)


# ------------------------------------------------------------------ alerts


@router.get("/alerts", response=list[AlertOut], summary="Alerts you may see, newest first")
def list_alerts(request, filters: Query[AlertFilter], limit: int = 200, offset: int = 0):
    _require(request, Cap.VIEW_ALERTS)
    alerts = cases.filter_alerts(_alerts(request.auth), **filters.dict())
    plant = _plant_slugs(request.auth)
    return [alert_dict(a, a.site_slug in plant) for a in alerts.order_by("-time", "uid")[offset: offset + min(limit,
                                                                                                          5000)]]


@router.get("/alerts/{uid}", response=AlertDetailOut, summary="The OCSF Detection Finding with its handling")
def get_alert(request, uid: str):
    _require(request, Cap.VIEW_ALERTS)
    return _detail(request, uid)


@router.post("/alerts/{uid}/acknowledge", response=AlertDetailOut,
             summary="Take it: status acknowledged (reopens a closed alert); an unassigned alert becomes yours")
def acknowledge_alert(request, uid: str, payload: NoteIn | None = None):
    return _act(request, uid, cases.acknowledge, payload.note if payload else "")


@router.post("/alerts/{uid}/assign", response=AlertDetailOut, summary="Hand the alert to a user or a team")
def assign_alert(request, uid: str, payload: AssignIn):
    return _act(request, uid, cases.assign, payload.to, payload.note)


@router.post("/alerts/{uid}/close", response=AlertDetailOut, summary="Close the alert, saying why")
def close_alert(request, uid: str, payload: CloseIn):
    return _act(request, uid, cases.close, payload.reason)


@router.post("/alerts/{uid}/comment", response=AlertDetailOut, summary="Add a comment to the handoff log")
def comment_alert(request, uid: str, payload: CommentIn):
    return _act(request, uid, cases.comment, payload.text)


# ------------------------------------------------------------------ cases


def _case_dict(case, visible: list[Alert], plant: bool) -> dict[str, Any]:
    return {
        "uid": case.uid, "title": case.title, "site": case.site_slug, "status": case.status,
        "severity_id": case.severity_id, "severity": cases.severity_label(case.severity_id),
        "cost_per_hour": case.cost_per_hour if plant else None, "safety_critical": case.safety_critical,
        "first_seen": case.first_seen, "last_seen": case.last_seen,
        "asset": case.asset.name if case.asset_id else None, "actors": case.actors, "alerts": len(visible),
    }


@router.get("/cases", response=list[CaseOut], summary="Cases (related alerts) you may see, latest first")
def list_cases(request, site: str = "", status: str = "", limit: int = 200, offset: int = 0):
    _require(request, Cap.VIEW_ALERTS)
    found = cases.case_scope(request.auth).select_related("asset")
    if site:
        found = found.filter(site_slug=site)
    if status:
        found = found.filter(status=status)
    page = list(found.order_by("-last_seen", "uid")[offset: offset + min(limit, 5000)])
    visible: dict[str, list] = {c.uid: [] for c in page}
    for alert in cases.alert_scope(request.auth).filter(case_id__in=list(visible)).only("uid", "case_id"):
        visible[alert.case_id].append(alert)
    plant = _plant_slugs(request.auth)
    return [_case_dict(c, visible[c.uid], c.site_slug in plant) for c in page]


@router.get("/cases/{case_uid}", response=CaseDetailOut, summary="A case: its alerts and their evidence on one "
                                                                 "time axis")
def get_case(request, case_uid: str):
    _require(request, Cap.VIEW_ALERTS)
    case = get_object_or_404(cases.case_scope(request.auth).select_related("asset"), uid=case_uid)
    alerts = list(_alerts(request.auth).filter(case=case).order_by("time", "uid"))
    plant = case.site_slug in _plant_slugs(request.auth)
    events = cases.evidence_events(alerts)
    return {**_case_dict(case, alerts, plant), "alert_list": [alert_dict(a, plant) for a in alerts],
            "timeline": cases.timeline_as_dict(alerts, events)}
