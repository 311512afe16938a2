"""Physical access control: generic JSON/CSV with mapping, Lenel OnGuard and Genetec exports."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from linewatch.errors import InputError
from linewatch.events.schema import EventClass
from linewatch.events.schema import PhysicalAccessActivity as A
from linewatch.events.sources import Context, get
from linewatch.events.sources.pacs import BACNET_ACCESS_EVENT, BACNET_DOOR_ALARM_STATE, denial_reason, resolve
from tests.conftest import CORPUS

DATA = Path(__file__).resolve().parent.parent / "data" / "logs"


def read(source_name: str, data: Path | bytes, **options):
    source = get(source_name)
    context = Context(source_name=data.name if isinstance(data, Path) else "test", options=options)
    events, errors = {}, []
    stream = data.open("rb") if isinstance(data, Path) else io.BytesIO(data)
    with stream:
        for record in source.records(stream, context):
            try:
                (events[record.place],) = source.parse(record, context)
            except InputError as exc:
                errors.append(exc)
    return events, errors


def test_generic_json_lines():
    events, errors = read("pacs-generic", DATA / "pacs-generic" / "badges.jsonl")
    assert not errors and len(events) == 13
    assert all(e.class_uid == EventClass.PHYSICAL_ACCESS for e in events.values())
    granted = events["line 1"]
    assert granted.activity_id == A.GRANTED and granted.status_id == 1
    assert granted.attrs["access.event"] == "granted" and granted.attrs["access.event_code"] == 1
    assert granted.attrs["credential.uid"] == "101-44871" and granted.attrs["actor.user.name"] == "Jonas Meyer"
    assert granted.attrs["actor.user.uid"] == "E10442" and granted.attrs["door.name"] == "Main Gate Turnstile 1"
    assert granted.attrs["reader.name"] == "TS1-IN" and granted.attrs["area.name"] == "Plant 1 Perimeter"
    assert granted.attrs["access.direction"] == "in" and granted.attrs["device.name"] == "MCP-01"
    assert granted.time == 1741931523000
    expired = events["line 2"]
    assert expired.activity_id == A.DENIED and expired.status_id == 2
    assert (expired.attrs["access.event"], expired.attrs["access.event_code"]) == ("denied-credential-expired", 152)
    assert expired.attrs["access.reason"] == "Card expired"
    assert events["line 3"].attrs["access.event_code"] == 133
    assert events["line 4"].attrs["access.event"] == "denied-out-of-time-range"  # a BACnet number as the result
    forced = events["line 5"]
    assert forced.activity_id == A.FORCED and forced.severity_id == 4
    assert (forced.attrs["door.alarm_state"], forced.attrs["door.alarm_state_code"]) == ("forced-open", 3)
    assert "access.event" not in forced.attrs
    assert forced.unmapped == {"input": "DC-04", "alarm_priority": 1}
    assert events["line 6"].activity_id == A.HELD and events["line 6"].attrs["door.alarm_state_code"] == 2
    assert events["line 7"].activity_id == A.TAILGATE and events["line 7"].unmapped["source_sensor"]
    assert events["line 8"].attrs["access.event"] == "denied-incorrect-authentication-factor"
    assert events["line 9"].activity_id == A.DURESS and events["line 9"].severity_id == 5
    assert events["line 10"].activity_id == A.PASSBACK and events["line 10"].attrs["access.event_code"] == 3
    assert events["line 11"].activity_id == A.EXIT
    lost = events["line 12"]
    assert lost.attrs["access.event"] == "denied-authentication-factor-lost" and lost.severity_id == 4
    other = events["line 13"]
    assert other.attrs["access.event"] == "denied-other" and other.time == 1741938300000
    assert other.unmapped["door_details.building"] == "B1"
    assert events["line 1"].uid != events["line 2"].uid


def test_generic_csv_with_mapping_and_timezone():
    mapping = {"time": "Zeitpunkt", "credential": "Ausweis", "person": "Mitarbeiter", "door": "Tür",
               "reader": "Leser", "area": "Bereich", "result": "Ergebnis", "reason": "Grund"}
    events, errors = read("pacs-generic", DATA / "pacs-generic" / "badges-mapped.csv", mapping=mapping,
                          timezone="Europe/Berlin")
    assert not errors
    assert events["line 2"].attrs["door.name"] == "Werkstor 1" and events["line 2"].time == 1741931523000
    assert events["line 3"].attrs["access.event"] == "denied-out-of-time-range"
    assert events["line 4"].activity_id == A.FORCED and "credential.uid" not in events["line 4"].attrs


def test_generic_broken_input():
    events, errors = read("pacs-generic", DATA / "pacs-generic" / "broken.jsonl")
    assert list(events) == ["line 1"]
    assert [e.place for e in errors] == ["line 2", "line 3", "line 4", "line 5", "line 6"]
    assert "invalid JSON" in errors[0].message
    assert "unknown result 'teleported'" in errors[1].message
    assert "missing required column 'time'" in errors[2].message
    assert "bad time" in errors[3].message
    assert "unknown result 200" in errors[4].message
    _, errors = read("pacs-generic", DATA / "pacs-generic" / "missing-column.csv")
    assert errors[0].place == "line 2"
    assert errors[0].message.startswith("missing required column 'result'; columns: when, badge, door")
    _, errors = read("pacs-generic", b"time,result\n2025-03-14T07:00:00Z,granted\n", mapping={"result": "Outcome"})
    assert "missing required column 'result' (mapped to 'Outcome')" in errors[0].message


def test_lenel_onguard_export():
    events, errors = read("pacs-lenel", DATA / "pacs-lenel" / "onguard-events.csv", timezone="America/Chicago")
    assert not errors and len(events) == 12
    first = events["line 2"]
    assert first.activity_id == A.GRANTED and first.attrs["actor.user.name"] == "Meyer, Jonas"
    assert first.attrs["credential.uid"] == "44871" and first.attrs["credential.facility_code"] == "101"
    assert first.attrs["reader.name"] == "Main Gate Turnstile 1 In" == first.attrs["door.name"]
    assert first.attrs["area.name"] == "Plant 1" and first.attrs["area.from.name"] == "Outside"
    assert first.attrs["device.name"] == "LNL-2220 Gate" and first.time == 1741953123000  # 06:52:03 CDT
    assert first.unmapped["Event Type"] == "Granted"
    assert events["line 3"].attrs["access.entered"] is False
    assert events["line 4"].attrs["access.event"] == "denied-unknown-credential"
    assert events["line 5"].attrs["access.event"] == "denied-credential-expired"
    assert events["line 6"].attrs["access.event"] == "denied-authentication-factor-disabled"  # invalid issue code
    assert events["line 7"].attrs["access.event"] == "denied-incorrect-authentication-factor"
    assert events["line 8"].activity_id == A.FORCED and events["line 8"].unmapped["Alarm Priority"] == "100"
    assert events["line 9"].attrs["door.alarm_state"] == "normal"
    assert events["line 10"].activity_id == A.HELD
    assert events["line 11"].activity_id == A.EXIT
    assert events["line 12"].activity_id == A.OTHER
    assert events["line 12"].message == "OnGuard event: Communications Lost"
    assert events["line 13"].activity_id == A.PASSBACK and events["line 13"].attrs["access.event"] == "denied-passback"


def test_lenel_split_name_columns():
    data = (b"Event Time,Event Type,Event Description,Card Number,Last Name,First Name,Reader\n"
            b"3/14/2025 6:52:03 AM,Granted,Access Granted,44871,Meyer,Jonas,Main Gate\n")
    events, errors = read("pacs-lenel", data)
    assert not errors and events["line 2"].attrs["actor.user.name"] == "Meyer, Jonas"


def test_genetec_csv_and_json():
    events, errors = read("pacs-genetec", DATA / "pacs-genetec" / "door-activities.csv")
    assert not errors and len(events) == 9
    granted = events["line 2"]
    assert granted.activity_id == A.GRANTED and granted.attrs["reader.name"] == "Main entrance - In"
    assert granted.attrs["credential.uid"] == "101/44871" and granted.attrs["area.name"] == "Administration"
    assert granted.attrs["device.name"] == "Synergis Cloud Link 01"
    assert events["line 3"].attrs["access.entered"] is True
    assert events["line 4"].attrs["access.event"] == "denied-no-access-rights"
    assert events["line 5"].attrs["access.event"] == "denied-credential-expired"
    assert events["line 6"].activity_id == A.FORCED and events["line 7"].activity_id == A.HELD
    assert events["line 8"].activity_id == A.EXIT and events["line 9"].activity_id == A.DURESS
    assert events["line 10"].activity_id == A.OTHER and "First person in" in events["line 10"].message
    events, errors = read("pacs-genetec", DATA / "pacs-genetec" / "door-activities.json")
    assert not errors and list(events) == ["item 1", "item 2", "item 3"]
    assert events["item 1"].time == 1741953123000  # 06:52:03-05:00
    assert events["item 2"].attrs["access.event"] == "denied-authentication-factor-stolen"
    assert events["item 3"].attrs["door.alarm_state"] == "tamper" and events["item 3"].severity_id == 4
    assert events["item 3"].unmapped["Custom fields.Cost center"] == "4410"


@pytest.mark.parametrize(("result", "reason", "event"), [
    ("Access Denied - Out of Schedule", None, "denied-out-of-time-range"),
    ("denied", "Not active", "denied-credential-not-yet-active"),
    ("denied", "inactive", "denied-credential-disabled"),
    ("ACCESS_DENIED", "invalid facility code", "denied-unknown-credential"),
    ("denied", "escort required", "denied-no-accompaniment"),
    ("Access Denied: Anti-Passback Violation", None, "denied-passback"),
    ("denied-credential-max-uses", None, "denied-credential-max-uses"),
    ("161", None, "denied-lockout"),
    ("granted", "ignored", "granted"),
])
def test_result_vocabulary(result, reason, event):
    assert resolve(result, reason).access_event == event


def test_unknown_reason_is_denied_other():
    assert denial_reason("cosmic rays") == "denied-other"
    assert resolve("frobnicated") is None


@pytest.mark.corpus
def test_embedded_vocabulary_matches_the_standard_tables():
    vocab = CORPUS / "identity" / "vocab"
    with (vocab / "bacnet_access_event.csv").open() as f:
        assert {int(r["code"]): r["name"] for r in csv.DictReader(f)} == BACNET_ACCESS_EVENT
    with (vocab / "bacnet_door_alarm_state.csv").open() as f:
        assert {int(r["code"]): r["name"] for r in csv.DictReader(f)} == BACNET_DOOR_ALARM_STATE


def test_csv_framing_errors_do_not_stop_the_file():
    data = b"time,result,door\n2025-03-14T07:00:00Z,granted,A\n2025-03-14T07:01:00Z,gran\rted,B\n" \
           b"2025-03-14T07:02:00Z,denied,C\n2025-03-14T07:03:00Z,granted\n"
    events, errors = read("pacs-generic", data)
    assert list(events) == ["line 2", "line 4", "line 5"]
    assert events["line 5"].attrs.get("door.name") is None  # a short row: the missing column is empty
    assert errors[0].place == "line 3" and errors[0].message.startswith("bad CSV")
