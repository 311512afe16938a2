"""CAP 1.2 exports validate against the OASIS schema; real CAP messages from other senders are
accepted, CAP 1.1 is recognised as 1.1, and broken documents are refused with the place named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from defusedxml import ElementTree as SafeET

from linewatch.detect.alerts import Detection, record_alert
from linewatch.detect.cases import close
from linewatch.errors import InputErrors
from linewatch.events.schema import Event, EventClass, SurveillanceActivity, event_uid
from linewatch.resilience import cap

NS = {"cap": cap.CAP12}
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "standards" / "cap-samples"


def camera_offline(n: int = 0, ip: str = "10.1.4.50") -> Event:
    return Event(uid=event_uid("cap-cam", str(n)), time=1_780_000_000_000 + n, source="test", site="alpha",
                 class_uid=EventClass.SURVEILLANCE_DEVICE, activity_id=SurveillanceActivity.OFFLINE,
                 attrs={"device.ip": ip})


def texts(root, path: str) -> list[str]:
    return [el.text for el in root.findall(path, NS)]


def params(root) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in root.findall("cap:info/cap:parameter", NS):
        out.setdefault(p.find("cap:valueName", NS).text, []).append(p.find("cap:value", NS).text)
    return out


@pytest.mark.django_db
def test_an_alert_exports_as_valid_cap_with_site_area_and_consequence(alpha_beta):
    alert, _ = record_alert(Detection("r-cap", "Camera offline or tampered", "high", events=[camera_offline()]))
    xml = cap.alert_cap(alert)
    cap.validate_cap(xml)  # raises on any schema error
    root = SafeET.fromstring(xml)
    assert texts(root, "cap:status") == ["Actual"] and texts(root, "cap:msgType") == ["Alert"]
    assert texts(root, "cap:identifier") == [f"linewatch.alert.{alert.uid}"]
    assert "Security" in texts(root, "cap:info/cap:category")
    assert texts(root, "cap:info/cap:severity") == [cap.SEVERITY[alert.severity_id]]
    assert texts(root, "cap:info/cap:area/cap:geocode/cap:value") == ["alpha"]
    assert texts(root, "cap:info/cap:area/cap:circle")[0].startswith("53.080000,")
    assert "Bremen" in texts(root, "cap:info/cap:area/cap:areaDesc")[0]
    p = params(root)
    assert p["linewatch-site"] == ["alpha"] and "linewatch-accountable-team" in p


@pytest.mark.django_db
def test_line_at_stake_adds_infra_category_and_line_parameters(alpha_beta):
    from linewatch.core.models import Asset

    plc = Asset.objects.get(site__slug="alpha", kind="plc")
    ip = plc.interfaces.exclude(ip=None).first().ip
    alert, _ = record_alert(Detection("r-cap-plc", "Controller offline", "high", events=[camera_offline(7, ip)]))
    consequence = alert.finding["unmapped"]["consequence"]
    assert any(li["status"] in ("stopped", "degraded") for li in consequence["lines"])
    xml = cap.alert_cap(alert)
    cap.validate_cap(xml)
    root = SafeET.fromstring(xml)
    assert texts(root, "cap:info/cap:category") == ["Security", "Infra"]
    p = params(root)
    assert p["linewatch-line"] and p["linewatch-cost-per-hour"][0].endswith(consequence["currency"])
    assert "linewatch-trucks-per-day" in p and "linewatch-perishable-value-at-risk" in p


@pytest.mark.django_db
def test_exercise_and_closed_alerts_change_status_and_message_type(alpha_beta, role_users):
    alert, _ = record_alert(Detection("r-cap2", "Camera offline or tampered", "medium", events=[camera_offline(1)]))
    drill = SafeET.fromstring(cap.alert_cap(alert, exercise=True))
    assert texts(drill, "cap:status") == ["Exercise"]
    assert texts(drill, "cap:info/cap:headline")[0].startswith("EXERCISE")
    close(alert, role_users["analyst"], "false positive: camera rebooted")
    alert.refresh_from_db()
    xml = cap.alert_cap(alert)
    cap.validate_cap(xml)
    closed = SafeET.fromstring(xml)
    assert texts(closed, "cap:msgType") == ["Update"]
    assert texts(closed, "cap:info/cap:urgency") == ["Past"]
    assert texts(closed, "cap:info/cap:responseType") == ["AllClear"]


def test_a_message_built_without_a_database_is_valid_and_times_carry_an_offset():
    naive = dt.datetime(2026, 3, 1, 12, 30, 15, 999)
    message = cap.CapMessage("id with spaces,and<bad>", "ops@example", naive, status="Exercise", infos=[
        cap.CapInfo("Power outage", ["Infra"], "Immediate", "Severe", "Observed",
                    parameters=[("linewatch-capacity", "40")],
                    areas=[cap.CapArea("Plant", 54.3, 9.66, geocodes=[("linewatch-site", "rendsburg")])])])
    xml = cap.to_xml(message)
    cap.validate_cap(xml)
    root = SafeET.fromstring(xml)
    assert texts(root, "cap:sent") == ["2026-03-01T12:30:15+00:00"]
    assert " " not in texts(root, "cap:identifier")[0] and "<" not in texts(root, "cap:identifier")[0]


def test_schema_errors_name_the_place():
    message = cap.CapMessage("x", "y", dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                             infos=[cap.CapInfo("e", ["Security"], "Soon", "Severe", "Observed")])
    with pytest.raises(InputErrors) as exc:
        cap.validate_cap(cap.to_xml(message), "export.xml")
    assert "export.xml" in str(exc.value) and "urgency" in str(exc.value)


@pytest.mark.parametrize("document, reason", [
    (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>", "not well-formed XML"),
    (b"<feed xmlns='http://www.w3.org/2005/Atom'/>", "root element is <feed>"),
    (b"<alert xmlns='urn:example'/>", "unknown namespace"),
    (b"<!DOCTYPE a [<!ENTITY x 'y'>]><alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'>&x;</alert>", "refused"),
])
def test_broken_documents_are_refused_with_a_reason(document, reason):
    errors = cap.cap_errors(document, "inbound.cap")
    assert len(errors) == 1 and reason in str(errors[0]) and str(errors[0]).startswith("inbound.cap")


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["australia.cap", "canada.cap", "canada_errors.cap"])
def test_real_cap_12_messages_validate(name):
    assert cap.cap_errors((SAMPLES / name).read_bytes(), name) == []


@pytest.mark.corpus
def test_cap_11_is_recognised_and_not_taken_for_12():
    data = (SAMPLES / "earthquake.cap").read_bytes()
    assert cap.cap_version(data) == "1.1"
    errors = cap.cap_errors(data, "earthquake.cap")
    assert len(errors) == 1 and "CAP 1.1" in str(errors[0])


@pytest.mark.corpus
def test_an_invalid_cap_12_message_is_rejected_with_a_reason():
    errors = cap.cap_errors((SAMPLES / "invalid.cap").read_bytes(), "invalid.cap")
    assert errors and "scope" in str(errors[0])


@pytest.mark.corpus
def test_the_bundled_schema_is_the_corpus_schema():
    corpus = SAMPLES.parent / "cap12.xsd"
    assert cap.SCHEMA_PATH.read_bytes() == corpus.read_bytes()
