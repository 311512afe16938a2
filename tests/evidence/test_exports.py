"""Standard exports: incidents as STIX 2.1 (incident-core, passing the OASIS validator), VERIS-style JSON and CSV;
alerts as CAP 1.2 valid against the schema; through the CLI and the API."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
import zipfile
from pathlib import Path

import pytest
from stix2validator import ValidationOptions, validate_string
from typer.testing import CliRunner

from linewatch.core.models import Site
from linewatch.detect import cases
from linewatch.detect.alerts import Detection, record_alert
from linewatch.events.schema import Event, EventClass, event_uid
from linewatch.events.store import store_events
from linewatch.evidence import exports
from linewatch.evidence.cli import evidence_app
from linewatch.evidence.records import record

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2025, 11, 24, 16, 0, tzinfo=dt.UTC)
SINCE, UNTIL = dt.datetime(2025, 11, 1, tzinfo=dt.UTC), dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
CAP_XSD = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "standards" / "cap12.xsd"


@pytest.fixture
def incidents(alpha_beta, role_users):
    """A PLC download alert handled to closure (a case), and a guard's incident report with a photo."""
    events = [Event(uid=event_uid("test", "dl"), time=int(T0.timestamp() * 1000),
                    class_uid=EventClass.CONTROLLER_ACTIVITY, activity_id=1, site="alpha", source="test",
                    attrs={"src_endpoint.ip": "10.1.4.77", "dst_endpoint.ip": "10.1.11.10"})]
    store_events(events)
    alert, _ = record_alert(Detection("lw-test", "PLC program download =cmd", "high", events=events))
    cases.assign_case(alert)
    alert.refresh_from_db()
    cases.acknowledge(alert, role_users["analyst"], "on it")
    cases.close(alert, role_users["analyst"], "authorised work order")
    record("alpha", "patrol.incident_report", {
        "report": str(uuid.uuid4()), "guard": "p-104", "category": "intrusion", "severity": "high",
        "what": "Fence cut behind hall 2", "where": "fence north", "when": "2025-11-24T22:10:00Z",
        "photos": [{"sha256": "ab" * 32, "media_type": "image/jpeg"}]}, at=T0 + dt.timedelta(hours=6))
    return Site.objects.get(slug="alpha")


def test_incidents_come_from_cases_and_guard_reports(incidents):
    found = exports.incidents(incidents, SINCE, UNTIL)
    assert [i.source for i in found] == ["case", "guard-report"]
    case, report = found
    assert case.closed is not None and case.acknowledged is not None and case.ledger
    assert report.physical and report.photos == ["ab" * 32]


def test_stix_bundle_uses_incident_core_and_passes_the_oasis_validator(incidents):
    bundle = exports.stix_bundle(exports.incidents(incidents, SINCE, UNTIL), "Test Co")
    result = validate_string(bundle, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]
    assert not result.errors
    parsed = json.loads(bundle)
    incident = next(o for o in parsed["objects"] if o["type"] == "incident")
    extension = incident["extensions"][exports.INCIDENT_CORE]
    assert extension["extension_type"] == "property-extension"
    assert extension["investigation_status"] == "closed" and extension["determination"] == "confirmed"
    files = [o for o in parsed["objects"] if o["type"] == "file"]
    assert files[0]["hashes"]["SHA-256"] == "ab" * 32
    assert any(o["type"] == "note" and "authorised work order" in o["content"] for o in parsed["objects"])


def test_a_broken_bundle_does_not_pass_the_validator(incidents):
    """The validator test can fail: an incident without its extension's required fields is rejected."""
    bundle = json.loads(exports.stix_bundle(exports.incidents(incidents, SINCE, UNTIL), "Test Co"))
    for o in bundle["objects"]:
        if o["type"] == "incident":
            o["created"] = "yesterday"
    assert not validate_string(json.dumps(bundle), ValidationOptions(version="2.1")).is_valid


def test_veris_and_csv_carry_times_and_ledger_references(incidents):
    items = exports.incidents(incidents, SINCE, UNTIL)
    records = exports.veris(items, "Test Co")
    assert records[0]["timeline"]["incident"] == {"year": 2025, "month": 11, "day": 24, "time": "16:00:00"}
    assert records[0]["security_incident"] == "Confirmed" and "containment" in records[0]["timeline"]
    assert records[1]["action"]["physical"]["location"] == ["Victim work area"]
    assert records[1]["discovery_method"]["internal"]["variety"] == ["Reported by employee"]
    rows = list(csv.DictReader(io.StringIO(exports.csv_text(items))))
    assert rows[0]["status"] == "closed" and rows[0]["minutes_to_close"] != ""
    assert rows[0]["title"].startswith("'=") or not rows[0]["title"].startswith("=")  # no formula injection


@pytest.mark.corpus
def test_cap_exports_validate_against_the_cap_1_2_schema(incidents):
    if not CAP_XSD.exists():
        pytest.skip("../shared/corpus/standards/cap12.xsd is absent")
    import xmlschema

    schema = xmlschema.XMLSchema(str(CAP_XSD))
    files = exports.cap_messages(incidents, SINCE, UNTIL)
    assert files, "one CAP message per alert"
    for name, xml in files.items():
        schema.validate(xml.decode())
        assert b"urn:oasis:names:tc:emergency:cap:1.2" in xml, name


def test_cli_and_api_export(incidents, client, role_users, tmp_path):
    runner = CliRunner()
    result = runner.invoke(evidence_app, ["export", "--format", "veris", "--site", "alpha", "--from", "2025-11-01",
                                          "--to", "2025-11-30"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 2
    result = runner.invoke(evidence_app, ["export", "--format", "pdf", "--site", "alpha"])
    assert result.exit_code == 2 and "one of stix, veris, csv, cap" in result.output
    out = tmp_path / "cap.zip"
    assert runner.invoke(evidence_app, ["export", "-f", "cap", "--site", "alpha", "--from", "2025-11-01",
                                        "--to", "2025-11-30", "-o", str(out)]).exit_code == 0
    assert zipfile.ZipFile(out).namelist()
    client.force_login(role_users["auditor"])
    response = client.get("/api/v1/evidence/sites/alpha/export?format=csv&since=2025-11-01&until=2025-11-30")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    assert client.get("/api/v1/evidence/sites/alpha/export?format=nope").status_code == 400
