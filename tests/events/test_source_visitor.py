"""Visitor management: invitations, check-in/out, badges, denials."""

from __future__ import annotations

from linewatch.events.schema import EventClass, Severity
from linewatch.events.schema import VisitorActivity as V
from tests.events.samples import read_one_per_record


def read(name: str, **options):
    return read_one_per_record("visitor", "visitor", name, **options)


def test_visitor_log_csv():
    events, errors = read("visitor-log.csv")
    assert not errors and len(events) == 7
    assert all(e.class_uid == EventClass.VISITOR_ACTIVITY for e in events.values())
    assert [e.activity_id for e in events.values()] == [V.PRE_REGISTERED, V.CHECK_IN, V.BADGE_ISSUED, V.DENIED,
                                                        V.OVERSTAY, V.CHECK_OUT, V.BADGE_RETURNED]
    checkin = events["line 3"]
    assert checkin.attrs["user.name"] == "Marek Dvořák" and checkin.attrs["user.org.name"] == "ACME Automation"
    assert checkin.attrs["user.email_addr"] == "m.dvorak@acme-automation.example"
    assert checkin.attrs["user.type"] == "Visitor" and checkin.attrs["visit.host.name"] == "Jonas Meyer"
    assert checkin.attrs["visit.escort.name"] == "Jonas Meyer" and checkin.attrs["visit.uid"] == "V-5521"
    assert checkin.attrs["visit.expected_end"] == 1741968000000
    assert checkin.attrs["location.desc"] == "Plant 1 Reception"
    assert checkin.unmapped == {"NDA Signed": "yes"} and checkin.time == 1741934890000
    assert events["line 4"].attrs["credential.uid"] == "VB-0042"
    denied = events["line 5"]
    assert denied.status_id == 2 and denied.severity_id == Severity.HIGH  # red watchlist result
    assert denied.attrs["visit.watchlist_result"] == "red"


def test_nested_json_with_mapping():
    events, errors = read("visits.jsonl")
    assert not errors
    event = events["line 1"]
    assert event.activity_id == V.CHECK_IN and event.attrs["user.name"] == "Lena Fischer"
    assert event.attrs["user.org.name"] == "TÜV Audit" and event.attrs["visit.host.name"] == "Karl Wagner"
    assert event.unmapped == {"photo_url": "https://visitors.example/p/8812.jpg"}


def test_broken_lines():
    events, errors = read("broken.jsonl")
    assert not events
    assert [e.place for e in errors] == ["line 1", "line 2", "line 3", "line 4"]
    assert "unknown action 'teleported'" in errors[0].message
    assert errors[1].message == "missing required column 'visitor'; columns: time, action"
    assert "bad time" in errors[2].message and "'soon'" in errors[2].message
    assert "invalid JSON" in errors[3].message or "not a JSON object" in errors[3].message
