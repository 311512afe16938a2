"""The incident queue: open alerts by the team that holds them, with their SLA clocks."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone

from linewatch.core.permissions import Cap, can
from linewatch.detect import cases
from linewatch.response.models import Routing


def queue(request):
    if not can(request.user, Cap.VIEW_ALERTS):
        raise PermissionDenied
    now = timezone.now()
    alerts = cases.alert_scope(request.user).filter(status__in=["new", "acknowledged"]).select_related(
        "assigned_team", "owner_team", "asset", "assignee")
    routing = {r.alert_id: r for r in Routing.objects.filter(alert__in=alerts)}
    teams: dict[str, list] = {}
    for alert in alerts.order_by("-severity_id", "time"):
        r = routing.get(alert.uid)
        holder = (alert.assignee.get_username() if alert.assignee else
                  alert.assigned_team.name if alert.assigned_team else "Unrouted")
        minutes_left = int((r.due - now).total_seconds() // 60) if r and alert.status == "new" else None
        teams.setdefault(holder, []).append({"alert": alert, "routing": r, "minutes_left": minutes_left,
                                             "overdue": minutes_left is not None and minutes_left < 0})
    rows = sorted(teams.items(), key=lambda kv: (-sum(x["overdue"] for x in kv[1]), -len(kv[1]), kv[0]))
    return render(request, "response/queue.html", {"teams": rows, "now": now})
