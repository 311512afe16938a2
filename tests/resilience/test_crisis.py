"""A crisis moves through its phases with who and when kept; the status board shows each site's
latest confirmation; situation reports export as CAP 1.2 valid against the OASIS schema."""

from __future__ import annotations

import datetime as dt

import pytest
from defusedxml import ElementTree as SafeET

from linewatch.core.models import Site
from linewatch.resilience import cap, services
from linewatch.resilience.models import PhaseChange, SiteStatus
from linewatch.response.models import ContactPath, Notification

from .conftest import NOW

NS = {"cap": cap.CAP12}


@pytest.mark.django_db
def test_phases_are_kept_with_who_and_when(drill):
    services.set_phase(drill, "handling", "analyst", "generator running", now=NOW + dt.timedelta(minutes=20))
    services.set_phase(drill, "recovery", "lead", now=NOW + dt.timedelta(hours=2))
    rows = list(PhaseChange.objects.filter(crisis=drill).values_list("phase", "by"))
    assert rows == [("mobilisation", "lead"), ("handling", "analyst"), ("recovery", "lead")]
    services.set_phase(drill, "closed", "lead", now=NOW + dt.timedelta(hours=3))
    drill.refresh_from_db()
    assert drill.closed == NOW + dt.timedelta(hours=3) and drill.roll_calls.get().closed is not None
    with pytest.raises(ValueError, match="closed"):
        services.set_phase(drill, "handling", "lead")
    with pytest.raises(ValueError, match="unknown phase"):
        services.set_phase(drill, "panic", "lead")


@pytest.mark.django_db
def test_status_board_shows_each_sites_latest_confirmation(drill):
    alpha, beta = Site.objects.get(slug="alpha"), Site.objects.get(slug="beta")
    services.confirm_status(alpha, "down", 0, "lead", reason="grid failure", crisis=drill, now=NOW)
    services.confirm_status(alpha, "degraded", 40, "lead", reason="generator: line 1 only", crisis=drill,
                            now=NOW + dt.timedelta(minutes=30))
    board = {row["site"].slug: row for row in services.status_board([alpha, beta])}
    assert (board["alpha"]["state"], board["alpha"]["capacity"]) == ("degraded", 40)
    assert board["alpha"]["status"].by == "lead" and board["alpha"]["status"].time == NOW + dt.timedelta(minutes=30)
    assert board["beta"]["state"] == "unconfirmed"
    assert SiteStatus.objects.filter(site=alpha).count() == 2  # history kept
    with pytest.raises(ValueError, match="percentage"):
        services.confirm_status(alpha, "degraded", 140, "lead")
    with pytest.raises(ValueError, match="unknown state"):
        services.confirm_status(alpha, "on fire", 10, "lead")


@pytest.mark.django_db
def test_declaring_tells_the_sites_emergency_teams(people):
    from linewatch.core.models import Team

    ContactPath.objects.create(team=Team.objects.get(slug="alpha-sec"), priority=1, url="json://127.0.0.1:9/ert")
    crisis = services.declare(title="Intruder in hall 1", kind="physical", sites=[Site.objects.get(slug="alpha")],
                              by="lead", now=NOW, roll_call=False)
    n = Notification.objects.get(team__slug="alpha-sec")
    assert "CRISIS: Intruder in hall 1" in n.subject and not n.exercise and f"/crises/{crisis.uid}/" in n.body
    assert not crisis.roll_calls.exists()


@pytest.mark.django_db
def test_situation_reports_validate_as_cap_and_carry_status_and_tallies(drill):
    alpha = Site.objects.get(slug="alpha")
    services.confirm_status(alpha, "degraded", 40, "lead", reason="generator", crisis=drill, now=NOW)
    rc = drill.roll_calls.get()
    services.answer_at_kiosk(rc, rc.participants.get(person__key="p-anna").code, "safe", "guard")
    exports = [cap.crisis_cap(drill, now=NOW + dt.timedelta(minutes=5)), cap.to_xml(cap.declaration_message(drill))]
    services.set_phase(drill, "closed", "lead", now=NOW + dt.timedelta(hours=1))
    exports.append(cap.crisis_cap(drill, now=NOW + dt.timedelta(hours=1)))
    for xml in exports:
        cap.validate_cap(xml)
    sitrep, declaration, closed = (SafeET.fromstring(x) for x in exports)
    assert sitrep.find("cap:status", NS).text == "Exercise"
    assert sitrep.find("cap:msgType", NS).text == "Update"
    assert sitrep.find("cap:references", NS).text.split(",")[1] == f"linewatch.crisis.{drill.uid}"
    assert declaration.find("cap:msgType", NS).text == "Alert"
    assert declaration.find("cap:identifier", NS).text == f"linewatch.crisis.{drill.uid}"
    params = {p.find("cap:valueName", NS).text: p.find("cap:value", NS).text
              for p in sitrep.findall("cap:info/cap:parameter", NS)}
    assert params["linewatch-site-status"] == "degraded" and params["linewatch-capacity-percent"] == "40"
    assert params["linewatch-rollcall-safe"] == "1" and params["linewatch-rollcall-no-answer"] == "2"
    assert sitrep.find("cap:info/cap:category", NS).text == "Infra"
    assert sitrep.find("cap:info/cap:severity", NS).text == "Moderate"
    assert closed.find("cap:info/cap:responseType", NS).text == "AllClear"
