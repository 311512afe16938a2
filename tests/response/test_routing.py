"""Alerts go to the team that owns the device, with an SLA clock, and climb a ladder when nobody acknowledges."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from linewatch.core.models import Ownership
from linewatch.detect.alerts import Detection, record_alert
from linewatch.detect.cases import acknowledge
from linewatch.events.schema import Event, EventClass, SurveillanceActivity, event_uid
from linewatch.response.models import Routing
from linewatch.response.routing import escalate_due, sla_minutes


def camera_offline(ip: str = "10.1.4.50", n: int = 0) -> Event:
    return Event(uid=event_uid("cam", ip, str(n)), time=1_780_000_000_000 + n, source="test", site="alpha",
                 class_uid=EventClass.SURVEILLANCE_DEVICE, activity_id=SurveillanceActivity.OFFLINE,
                 attrs={"device.ip": ip})


@pytest.mark.usefixtures("alpha_beta")
def test_an_alert_is_routed_to_the_owner_with_an_sla_and_escalates_until_acknowledged(role_users):
    alert, _ = record_alert(Detection("r1", "Camera offline or tampered", "medium", events=[camera_offline()]))
    routing = alert.routing
    assert [(r["team"], r["person"]) for r in routing.ladder][:1] == [("alpha-sec", "")]
    assert alert.assigned_team.slug == "alpha-sec" and not routing.ownership_gap
    assert routing.sla_minutes == sla_minutes(alert) == 240
    assert escalate_due(timezone.now()) == 0  # the clock has not run out
    later = routing.due + dt.timedelta(seconds=1)
    assert escalate_due(later) == 1
    alert.refresh_from_db()
    assert alert.assigned_team.slug == "alpha-it"  # the responsible team for cameras
    note = alert.notes.filter(via="escalation").get()
    assert "not acknowledged within 240 min: escalated to Alpha IT" in note.text
    acknowledge(alert, role_users["analyst"])
    assert escalate_due(later + dt.timedelta(days=1)) == 0  # acknowledged: the clock stops


@pytest.mark.usefixtures("alpha_beta")
def test_an_unowned_camera_is_an_ownership_gap_routed_by_the_site_default():
    Ownership.objects.filter(site__slug="alpha", kind="camera").delete()
    Ownership.objects.filter(site__slug="alpha", scope="site").delete()
    from linewatch.core.models import Site, Team

    alpha = Site.objects.get(slug="alpha")
    Team.objects.create(organisation=alpha.organisation, slug="alpha-mgmt", name="Alpha plant management",
                        kind="management", site=alpha)
    alert, _ = record_alert(Detection("r2", "Camera offline or tampered", "medium", events=[camera_offline(n=1)]))
    assert alert.routing.ownership_gap
    assert alert.routing.ladder[0]["team"] == "alpha-mgmt"
    assert "no accountable owner" in alert.notes.get(via="routing").text
    from linewatch.core import services

    gaps = [(g.asset.name, g.problem) for g in services.ownership_gaps(Site.objects.filter(slug="alpha"))]
    assert ("cam-1", "no accountable owner") in gaps
    # nobody acknowledges: the clock runs out and the alert climbs past the site default
    routing = alert.routing
    assert escalate_due(routing.due - dt.timedelta(seconds=1)) == 0
    assert escalate_due(routing.due + dt.timedelta(seconds=1)) == 1
    alert.refresh_from_db()
    assert alert.notes.filter(via="escalation").exists()
    assert alert.routing.level == 1 and alert.assigned_team.slug == alert.routing.ladder[1]["team"]


@pytest.mark.usefixtures("alpha_beta")
def test_critical_and_costly_alerts_get_a_shorter_clock_and_informational_ones_none():
    download = Event(uid=event_uid("dl", "1"), time=1_780_000_000_000, source="test", site="alpha",
                     class_uid=EventClass.CONTROLLER_ACTIVITY, activity_id=1, attrs={"dst_endpoint.ip": "10.1.11.10"})
    alert, _ = record_alert(Detection("r3", "Program download", "critical", events=[download]))
    assert alert.routing.sla_minutes == 15  # critical: 15 min (42,000/h is below the urgent threshold)
    info, _ = record_alert(Detection("r4", "Badge read", "informational", events=[camera_offline(n=2)]))
    assert not Routing.objects.filter(alert=info).exists()


@pytest.mark.usefixtures("alpha_beta")
def test_the_alert_page_shows_the_clock_and_the_ladder(client, role_users):
    alert, _ = record_alert(Detection("r5", "Camera offline or tampered", "medium", events=[camera_offline(n=3)]))
    client.force_login(role_users["admin"])
    page = client.get(f"/alerts/{alert.uid}/").content.decode()
    assert "acknowledge by" in page and "240 min per rung" in page
    assert "Alpha physical security" in page and "← now" in page


@pytest.mark.usefixtures("alpha_beta")
def test_the_queue_shows_open_alerts_by_team_with_their_clocks(client, role_users):
    record_alert(Detection("r6", "Camera offline or tampered", "medium", events=[camera_offline(n=4)]))
    client.force_login(role_users["lead"])
    page = client.get("/incidents/").content.decode()
    assert "Alpha physical security" in page and "min left" in page and "Camera offline or tampered" in page
    client.force_login(role_users["sensor"])
    assert client.get("/incidents/").status_code == 403
