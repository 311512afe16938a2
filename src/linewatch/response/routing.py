"""Route an alert to the team that owns the device, start its SLA clock, and escalate it up a
ladder — the owner team, its lead, the responsible team, the site lead — when nobody acknowledges.

Every move is written to the alert's handoff log (`detect.models.AlertNote`), so the question
"who had it, when, and why did it move" always has an answer.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from linewatch.core import services
from linewatch.core.models import Site, Team
from linewatch.detect.models import Alert, AlertAction, AlertNote, AlertStatus
from linewatch.response.models import Routing

# Minutes to acknowledge, by OCSF severity (5 critical … 1 informational).
SLA_MINUTES = {5: 15, 4: 60, 3: 240, 2: 1440, 1: 4320}
URGENT_COST_PER_HOUR = 50_000.0


def sla_minutes(alert: Alert) -> int:
    """The severity's SLA, halved when a safety system or a costly line is at stake (at least 10 minutes)."""
    minutes = SLA_MINUTES.get(alert.severity_id, 240)
    if alert.safety_critical or alert.cost_per_hour >= URGENT_COST_PER_HOUR:
        minutes = max(10, minutes // 2)
    return minutes


def _lead(team: Team) -> str:
    lead = team.memberships.filter(is_lead=True).select_related("person").first()
    return lead.person.name if lead else ""


def ladder_for(alert: Alert) -> tuple[list[dict], bool]:
    """The escalation ladder, and whether the alert fell into an ownership gap."""
    rungs: list[dict] = []

    def add(team: Team | None, why: str, person: str = "") -> None:
        if team is None or any(r["team"] == team.slug and r["person"] == person for r in rungs):
            return
        rungs.append({"team": team.slug, "team_name": team.name, "person": person, "why": why})

    owners = services.owners_of(alert.asset) if alert.asset_id else None
    accountable = owners.accountable if owners else []
    gap = not accountable
    for team in accountable:
        add(team, f"accountable for {alert.asset.name}")
        if lead := _lead(team):
            add(team, "lead of the accountable team", lead)
    for team in (owners.teams.get("responsible", []) if owners else []):
        add(team, "responsible for the device")
    site = Site.objects.filter(slug=alert.site_slug).first()
    if site is not None:
        for team in Team.objects.filter(site=site, kind="management"):
            add(team, "site lead", _lead(team))
        if gap:  # nothing owns it: after the site lead, the site's security team, so the ladder has a next rung
            for team in Team.objects.filter(site=site, kind="physical_security"):
                add(team, "site security (no owner known)")
    return rungs, gap


@transaction.atomic
def open_routing(alert: Alert, now: dt.datetime | None = None) -> Routing | None:
    """Route a new alert to the first rung and start its clock. Informational alerts are not routed."""
    if alert.severity_id <= 1 or Routing.objects.filter(alert=alert).exists():
        return None
    ladder, gap = ladder_for(alert)
    if not ladder:
        return None
    now = now or timezone.now()
    minutes = sla_minutes(alert)
    routing = Routing.objects.create(alert=alert, ladder=ladder, level=0, sla_minutes=minutes,
                                     due=now + dt.timedelta(minutes=minutes), ownership_gap=gap)
    first = ladder[0]
    alert.assigned_team = Team.objects.filter(organisation__sites__slug=alert.site_slug, slug=first["team"]).first()
    alert.save(update_fields=["assigned_team"])
    why = ("no accountable owner: routed by the site default" if gap else first["why"])
    if alert.assigned_team is not None:
        from linewatch.response.notify import queue_for_alert

        queue_for_alert(alert, alert.assigned_team, now=now)
    AlertNote.objects.create(alert=alert, time=now, author_name="linewatch", via="routing", action=AlertAction.ASSIGN,
                             from_status=alert.status, to_status=alert.status, to_assignee=f"team:{first['team']}",
                             text=f"{why}; acknowledge within {minutes} min")
    return routing


def escalate_due(now: dt.datetime | None = None) -> int:
    """Move every unacknowledged alert whose clock ran out one rung up; return how many moved."""
    now = now or timezone.now()
    moved = 0
    due = Routing.objects.filter(due__lte=now, alert__status=AlertStatus.NEW).values_list("alert_id", flat=True)
    for alert_id in list(due[:500]):
        with transaction.atomic():
            routing = Routing.objects.select_for_update().select_related("alert").get(alert_id=alert_id)
            alert = routing.alert
            if alert.status != AlertStatus.NEW or routing.due > now:
                continue  # acknowledged or moved by another worker meanwhile
            if routing.level + 1 >= len(routing.ladder):
                routing.due = now + dt.timedelta(minutes=routing.sla_minutes)  # top of the ladder: remind
                routing.save(update_fields=["due"])
                text, to = f"still not acknowledged at the top of the ladder after {routing.sla_minutes} min", ""
            else:
                routing.level += 1
                routing.due = now + dt.timedelta(minutes=routing.sla_minutes)
                routing.save(update_fields=["level", "due"])
                rung = routing.ladder[routing.level]
                before = f"team:{alert.assigned_team.slug}" if alert.assigned_team else ""
                alert.assigned_team = Team.objects.filter(organisation__sites__slug=alert.site_slug,
                                                          slug=rung["team"]).first()
                alert.save(update_fields=["assigned_team"])
                who = f"{rung['person']} ({rung['team_name']})" if rung["person"] else rung["team_name"]
                if alert.assigned_team is not None:
                    from linewatch.response.notify import queue_for_alert

                    queue_for_alert(alert, alert.assigned_team, now=now)
                text = f"not acknowledged within {routing.sla_minutes} min: escalated to {who}, {rung['why']}"
                to = f"team:{rung['team']}"
                AlertNote.objects.create(alert=alert, time=now, author_name="linewatch", via="escalation",
                                         action=AlertAction.ASSIGN, from_status=alert.status, to_status=alert.status,
                                         from_assignee=before, to_assignee=to, text=text)
                moved += 1
                continue
            AlertNote.objects.create(alert=alert, time=now, author_name="linewatch", via="escalation",
                                     action=AlertAction.COMMENT, text=text)
    return moved


