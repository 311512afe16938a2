"""Alerts carry the consequence and the owner from the plant model."""

from __future__ import annotations

import pytest

from linewatch.detect.alerts import Detection, record_alert, severity
from linewatch.detect.models import Alert
from linewatch.events.schema import Event, EventClass, Severity, event_uid


def s7_download(target: str = "10.1.11.10") -> Event:
    return Event(uid=event_uid("test", target), time=1764000000000, class_uid=EventClass.CONTROLLER_ACTIVITY,
                 activity_id=1, source="zeek", site="alpha",
                 attrs={"src_endpoint.ip": "10.1.4.77", "dst_endpoint.ip": target, "controller.protocol": "s7comm"})


@pytest.mark.usefixtures("alpha_beta")
def test_alert_on_a_line_plc_names_the_line_its_cost_and_the_owner():
    detection = Detection("lw-ot-001", "PLC program download", "high", tags=("attack.ics", "attack.t0843"),
                          events=[s7_download()])
    alert, created = record_alert(detection)
    assert created
    assert alert.asset.name == "plc-line1" and alert.site_slug == "alpha"
    assert alert.owner_team.slug == "alpha-ot"
    assert alert.cost_per_hour == 42000
    finding = alert.finding
    assert finding["class_uid"] == 2004
    assert finding["finding_info"]["attacks"] == [{"technique": {"uid": "T0843"}}]
    line = finding["unmapped"]["consequence"]["lines"][0]
    assert (line["line"], line["status"]) == ("Line 1 filling", "stopped")
    assert finding["unmapped"]["owner"]["accountable"][0]["slug"] == "alpha-ot"
    assert alert.severity_id == Severity.HIGH


@pytest.mark.usefixtures("alpha_beta")
def test_the_same_detection_is_one_alert():
    detection = Detection("lw-ot-001", "PLC program download", "high", events=[s7_download()])
    record_alert(detection)
    _, created = record_alert(detection)
    assert not created
    assert Alert.objects.count() == 1


@pytest.mark.usefixtures("alpha_beta")
def test_an_event_about_an_unknown_device_still_alerts_without_consequence():
    alert, _ = record_alert(Detection("r", "Something", "low", events=[s7_download("192.0.2.1")]))
    assert alert.asset is None and alert.cost_per_hour == 0 and alert.severity_id == Severity.LOW
    assert alert.site_slug == "alpha"


def test_severity_follows_consequence_and_confidence():
    stopped = {"lines": [{"status": "stopped"}], "cost_per_hour": 85000, "safety_critical": False}
    assert severity("medium", stopped, 80) == Severity.CRITICAL  # stopped → high, costly → critical
    assert severity("medium", {"lines": [], "cost_per_hour": 0}, 80) == Severity.MEDIUM
    assert severity("low", {"safety_critical": True}, 30) == Severity.CRITICAL
    assert severity("high", {}, 30) == Severity.MEDIUM
    assert severity("informational", {}, 10) == Severity.INFORMATIONAL


@pytest.mark.usefixtures("alpha_beta")
def test_the_alert_names_the_person_with_their_standing_at_the_site():
    event = s7_download()
    event.attrs["actor.user.name"] = "p-tom"
    alert, _ = record_alert(Detection("r", "Remote session", "high", events=[event]))
    actor = alert.finding["unmapped"]["actor"]
    assert actor == {"key": "p-tom", "name": "Tom Fix", "company": "Fixit Automation GmbH",
                     "affiliation": "contractor", "sponsor": "Anna Berg", "valid_to": "2026-12-31"}
    unknown = s7_download("10.1.11.21")
    unknown.attrs["actor.user.name"] = "CORP\\\\nobody"
    alert, _ = record_alert(Detection("r", "Remote session", "high", events=[unknown]))
    assert alert.finding["unmapped"]["actor"] == {"name": "CORP\\\\nobody"}
