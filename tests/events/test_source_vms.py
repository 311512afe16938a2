"""Camera / NVR health: Milestone-style, Axis-style and flat JSON."""

from __future__ import annotations

import json

from linewatch.events.schema import EventClass, Severity
from linewatch.events.schema import SurveillanceActivity as S
from linewatch.events.sources import Context, Record, get
from tests.events.samples import read_one_per_record


def read(name: str, **options):
    return read_one_per_record("vms-health", "vms-health", name, **options)


def test_milestone_events():
    events, errors = read("milestone.jsonl")
    assert not errors
    assert all(e.class_uid == EventClass.SURVEILLANCE_DEVICE for e in events.values())
    offline = events["line 1"]
    assert offline.activity_id == S.OFFLINE and offline.severity_id == Severity.HIGH
    assert offline.attrs["device.name"] == "Dock 4 Camera" and offline.attrs["device.ip"] == "10.30.4.21"
    assert offline.attrs["device.type"] == "camera" and offline.attrs["vms.name"] == "RS-PLANT1-01"
    assert offline.attrs["device.uid"] == "8a1d3c55-7e1f-4c2b-9d10-5c2f1e0b7a44"
    assert offline.time == 1741932729118
    assert offline.unmapped["EventHeader.ID"] == "4f0c8f0e-2d5b-4b7e-9a4e-1f3c1b2a9d01"
    assert events["line 2"].activity_id == S.RESTORED
    assert events["line 3"].activity_id == S.TAMPER
    assert events["line 4"].activity_id == S.RECORDING_STOPPED
    storage = events["line 5"]
    assert storage.activity_id == S.STORAGE_FAILURE and storage.attrs["device.type"] == "nvr"
    other = events["line 6"]
    assert other.activity_id == S.OTHER and other.unmapped["UserName"] == "PLANT1\\vms-admin"
    assert other.attrs["metadata.event_code"] == "Settings Changed"


def test_axis_events():
    events, errors = read("axis.jsonl", device_names={"ACCC8E5F2A10": "Fence North PTZ"})
    assert not errors
    tamper = events["line 1"]
    assert tamper.activity_id == S.TAMPER and tamper.attrs["device.name"] == "Fence North PTZ"
    assert tamper.attrs["device.uid"] == "ACCC8E5F2A10" and tamper.attrs["camera.channel"] == "1"
    assert tamper.attrs["device.vendor_name"] == "Axis" and tamper.time == 1741935729118
    assert events["line 2"].activity_id == S.RESTORED  # the condition ended
    storage = events["line 3"]
    assert storage.activity_id == S.STORAGE_FAILURE and storage.unmapped["message.source.disk_id"] == "SD_DISK"
    assert events["line 4"].activity_id == S.VIDEO_LOSS
    motion = events["line 5"]
    assert motion.activity_id == S.MOTION and motion.unmapped["message.source.RuleName"] == "Fence line"
    offline = events["line 6"]
    assert offline.activity_id == S.OFFLINE and offline.time == 1741944600000
    enveloped = events["line 7"]
    assert enveloped.activity_id == S.TAMPER and enveloped.time == 1741939200000


def test_flat_events_and_errors():
    events, errors = read("flat.jsonl")
    offline = events["line 1"]
    assert offline.activity_id == S.OFFLINE and offline.attrs["status_detail"] == "ping timeout 3/3"
    assert offline.attrs["device.model"] == "DS-2CD7A26G0" and offline.attrs["device.vendor_name"] == "Hikvision"
    assert "ping timeout 3/3" in offline.message
    nvr = events["line 2"]
    assert nvr.activity_id == S.STORAGE_FAILURE and nvr.attrs["device.type"] == "nvr" and nvr.unmapped == {"disk": 2}
    assert events["line 3"].activity_id == S.RESTORED and events["line 3"].attrs["device.type"] == "camera"
    assert [(e.place, e.message.split(";")[0]) for e in errors] == [
        ("line 4", "unknown event 'exploded'"), ("line 5", "missing 'time'"),
        ("line 6", "invalid JSON: Input data was truncated")]


def test_parse_takes_a_decoded_record():
    source = get("vms-health")
    doc = {"time": "2025-03-14T06:12:09Z", "device": "Cam 1", "event": "video loss"}
    (event,) = source.parse(Record("message 1", doc), Context())
    assert event.activity_id == S.VIDEO_LOSS and event.raw == json.dumps(doc, separators=(",", ":"))
