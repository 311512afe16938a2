"""Camera and recorder health (`vms-health`): device offline/online, tamper, video loss, storage failure,
recording stopped → `EventClass.SURVEILLANCE_DEVICE`.

Input: JSON lines (or one JSON array) in any of three shapes, recognised per record:

1. **Milestone XProtect style** — an event as the MIP SDK / Event Server hands it on:

       {"EventHeader": {"ID": "…", "Timestamp": "2025-03-14T06:12:09.118Z", "Type": "System Event",
        "Name": "Communication Error (Device)", "Message": "Communication Error (Device)",
        "Source": {"Name": "Dock 4 Camera", "FQID": {"Kind": "Camera", "ObjectId": "…"}}},
        "Address": "10.30.4.21", "RecorderName": "RS-PLANT1-01"}

   `EventHeader.Name` (or `Message`) picks the activity (`Communication Error/Stopped` → offline,
   `Communication Started` → restored, `Tampering` → tamper, `Video Signal Lost` → video loss,
   `Recording Stopped` → recording stopped, `Database Disk Full…` / `Archive … Unavailable` /
   `Database Storage Unavailable` → storage failure, `Motion Started` → motion; see the docs).
   `Source.FQID.Kind` gives the device type (`Camera`/`Hardware` → camera, `RecordingServer` → nvr).
2. **Axis style** — the AXIS OS MQTT event message and its connection (last-will) message:

       {"topic": "onvif:VideoSource/axis:Tampering", "timestamp": 1741932729118,
        "serial": "ACCC8E5F2A10", "message": {"source": {"channel": "1"}, "key": {}, "data": {"tampering": "1"}}}
       {"serial": "ACCC8E5F2A10", "state": "disconnected", "received_at": "2025-03-14T06:20:00Z"}

   ONVIF/Axis topics (`…/Tampering`, `…/GlobalSceneChange/…`, `…/SignalLoss`, `…/StorageFailure`,
   `…/StorageDisruption`, `…/Recording…`, `…/MotionDetection`, `…/Motion`) pick the activity; the
   data value `1`/`true` starts the condition and `0`/`false` ends it (→ RESTORED; motion ending →
   OTHER). The `topic` may also come from the MQTT topic when a subscriber passes `{"topic": …,
   "payload": {…}}`.
3. **Flat** — `{"time", "device", "device_ip", "device_type", "event", "vms", "reason"}` with
   `event` one of offline, online/restored, tamper, video_loss, storage_failure,
   recording_stopped, motion (an unknown `event` is an error naming the line).

Output: `device.name`, `device.ip`, `device.type` (camera / nvr / encoder), `device.type_id`,
`device.uid` (serial or object id), `device.model`, `device.vendor_name`, `camera.channel`,
`vms.name` (the recorder), `metadata.event_code` (the vendor's event name or topic), and the
activity (`SurveillanceActivity`); the rest of each record is kept in `unmapped` (flattened).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from linewatch.events.schema import Event, EventClass, Severity, SurveillanceActivity, event_uid
from linewatch.events.sources import Context, Record, Source, register
from linewatch.events.sources._util import (
    TableSource,
    clean,
    dotted,
    flatten,
    norm_key,
    parse_time,
)

S = SurveillanceActivity

_SEVERITY = {S.OFFLINE: Severity.HIGH, S.TAMPER: Severity.HIGH, S.RESTORED: Severity.INFORMATIONAL,
             S.VIDEO_LOSS: Severity.HIGH, S.STORAGE_FAILURE: Severity.HIGH, S.RECORDING_STOPPED: Severity.MEDIUM,
             S.MOTION: Severity.INFORMATIONAL, S.OTHER: Severity.INFORMATIONAL}
_VERB = {S.OFFLINE: "offline", S.TAMPER: "tamper", S.RESTORED: "restored", S.VIDEO_LOSS: "video loss",
         S.STORAGE_FAILURE: "storage failure", S.RECORDING_STOPPED: "recording stopped", S.MOTION: "motion",
         S.OTHER: "event"}

# flat `event` vocabulary (norm_key) → activity
_FLAT_EVENTS: dict[str, int] = {norm_key(k): v for k, v in {
    "offline": S.OFFLINE, "device offline": S.OFFLINE, "disconnected": S.OFFLINE, "connection lost": S.OFFLINE,
    "communication error": S.OFFLINE, "unreachable": S.OFFLINE, "down": S.OFFLINE,
    "online": S.RESTORED, "restored": S.RESTORED, "connected": S.RESTORED, "up": S.RESTORED,
    "recovered": S.RESTORED, "back online": S.RESTORED,
    "tamper": S.TAMPER, "tampering": S.TAMPER, "camera tamper": S.TAMPER, "scene change": S.TAMPER,
    "view obstructed": S.TAMPER, "defocus": S.TAMPER, "camera moved": S.TAMPER,
    "video loss": S.VIDEO_LOSS, "video_loss": S.VIDEO_LOSS, "signal loss": S.VIDEO_LOSS, "no video": S.VIDEO_LOSS,
    "storage failure": S.STORAGE_FAILURE, "disk failure": S.STORAGE_FAILURE, "disk full": S.STORAGE_FAILURE,
    "storage full": S.STORAGE_FAILURE, "hdd error": S.STORAGE_FAILURE, "sd card failure": S.STORAGE_FAILURE,
    "recording stopped": S.RECORDING_STOPPED, "recording stop": S.RECORDING_STOPPED,
    "recording failed": S.RECORDING_STOPPED, "not recording": S.RECORDING_STOPPED,
    "motion": S.MOTION, "motion detected": S.MOTION, "motion started": S.MOTION,
    "other": S.OTHER, "info": S.OTHER, "recording started": S.OTHER, "motion stopped": S.OTHER,
}.items()}

# Milestone XProtect event names (norm_key); matched whole first, then by the listed fragments
_MILESTONE_EVENTS: dict[str, int] = {norm_key(k): v for k, v in {
    "Communication Error (Device)": S.OFFLINE, "Communication Stopped (Device)": S.OFFLINE,
    "Communication Error (Hardware)": S.OFFLINE, "Communication Stopped (Hardware)": S.OFFLINE,
    "Communication Started (Device)": S.RESTORED, "Communication Started (Hardware)": S.RESTORED,
    "Recording Server Offline": S.OFFLINE, "Recording Server Online": S.RESTORED,
    "Recording Stopped": S.RECORDING_STOPPED, "Recording Started": S.OTHER,
    "Feed Overflow Started": S.OTHER, "Feed Overflow Stopped": S.OTHER,
    "Motion Started": S.MOTION, "Motion Stopped": S.OTHER,
    "Tampering": S.TAMPER, "Tampering Detected": S.TAMPER, "Camera Tampering": S.TAMPER,
    "Video Signal Lost": S.VIDEO_LOSS, "Video Loss": S.VIDEO_LOSS, "Video Signal Restored": S.RESTORED,
    "Archive Unavailable": S.STORAGE_FAILURE, "Archive Disk Unavailable": S.STORAGE_FAILURE,
    "Archive Available": S.RESTORED, "Database Storage Unavailable": S.STORAGE_FAILURE,
    "Database Storage Available": S.RESTORED, "Database Disk Full - Auto Archiving": S.STORAGE_FAILURE,
    "Database Disk Full - Deleting": S.STORAGE_FAILURE, "Database Full - Auto Archive": S.STORAGE_FAILURE,
    "Database Repair": S.STORAGE_FAILURE, "Archive Not Finished": S.STORAGE_FAILURE,
}.items()}
_MILESTONE_FRAGMENTS: tuple[tuple[str, int], ...] = (
    ("communicationerror", S.OFFLINE), ("communicationstopped", S.OFFLINE), ("communicationstarted", S.RESTORED),
    ("tamper", S.TAMPER), ("videosignallost", S.VIDEO_LOSS), ("videoloss", S.VIDEO_LOSS),
    ("diskfull", S.STORAGE_FAILURE), ("storageunavailable", S.STORAGE_FAILURE), ("recordingstopped",
                                                                                  S.RECORDING_STOPPED),
)
_MILESTONE_KINDS = {"camera": "camera", "hardware": "camera", "microphone": "camera", "metadata": "camera",
                    "recordingserver": "nvr", "server": "nvr", "recorder": "nvr", "encoder": "encoder"}

# Axis / ONVIF topic fragments (lower case) → activity while the condition is active
_AXIS_TOPICS: tuple[tuple[str, int], ...] = (
    ("tampering", S.TAMPER), ("globalscenechange", S.TAMPER), ("signalloss", S.VIDEO_LOSS),
    ("videoloss", S.VIDEO_LOSS), ("storagefailure", S.STORAGE_FAILURE), ("storagedisruption", S.STORAGE_FAILURE),
    ("hardwarefailure", S.STORAGE_FAILURE), ("recordingconfig", S.OTHER), ("recording", S.RECORDING_STOPPED),
    ("motiondetection", S.MOTION), ("motionregiondetector", S.MOTION), ("/motion", S.MOTION), ("vmd", S.MOTION),
    ("networklost", S.OFFLINE), ("network/lost", S.OFFLINE),
)
_ON = {"1", "true", "yes", "on", "active", "started"}
_OFF = {"0", "false", "no", "off", "inactive", "stopped"}

_FLAT_FIELDS = {
    "time": ("time", "timestamp", "ts", "event_time", "@timestamp"),
    "event": ("event", "event_type", "type", "status", "state"),
    "device": ("device", "device_name", "camera", "camera_name", "name", "source"),
    "ip": ("device_ip", "ip", "address", "host"),
    "device_type": ("device_type", "kind", "class"),
    "uid": ("device_id", "serial", "mac", "uid"),
    "model": ("model",),
    "vendor": ("vendor", "manufacturer"),
    "vms": ("vms", "recorder", "nvr", "recording_server"),
    "reason": ("reason", "message", "detail", "description"),
    "channel": ("channel",),
}


def _put(attrs: dict[str, Any], path: str, value: Any) -> None:
    value = clean(value)
    if value is not None:
        attrs[path] = value


def _device_type_id(kind: str | None) -> int:
    return {"camera": 7, "encoder": 7, "nvr": 1}.get(kind or "", 99)


@register
class VmsHealthSource(TableSource, Source):
    name = "vms-health"
    description = "Camera / NVR health events: Milestone XProtect-style, Axis MQTT-style or flat JSON"
    formats = ("JSON lines",)

    def parse(self, record: Record, context: Context) -> Iterable[Event]:
        doc: dict[str, Any] = self.row_of(record, context)
        if isinstance(doc.get("payload"), dict) and "topic" in doc:  # an MQTT envelope from a subscriber
            doc = {"topic": doc["topic"], **doc["payload"]}
        try:
            if isinstance(doc.get("EventHeader"), dict):
                time_ms, activity, attrs, used = self._milestone(doc, context)
            elif "serial" in doc and ("topic" in doc or "state" in doc):
                time_ms, activity, attrs, used = self._axis(doc, context)
            else:
                time_ms, activity, attrs, used = self._flat(doc, context)
        except ValueError as exc:
            raise self.error(context, record, str(exc)) from None
        unmapped = {k: v for k, v in flatten(doc).items() if k not in used and v not in (None, "", {}, [])}
        name = attrs.get("device.name") or attrs.get("device.uid") or attrs.get("device.ip") or "unknown device"
        kind = attrs.get("device.type", "device")
        detail = f" ({attrs['status_detail']})" if attrs.get("status_detail") else ""
        raw = msgspec.json.encode(record.data).decode()
        return [Event(uid=event_uid(self.name, raw), time=time_ms, class_uid=int(EventClass.SURVEILLANCE_DEVICE),
                      activity_id=int(activity), severity_id=int(_SEVERITY[activity]),
                      message=f"{kind} {_VERB[activity]}: {name}{detail}", source=self.name,
                      site=context.site, attrs=attrs, unmapped=unmapped, raw=raw)]

    # -- shapes

    def _milestone(self, doc: dict[str, Any], context: Context) -> tuple[int, int, dict[str, Any], set[str]]:
        header = doc["EventHeader"]
        used = {"EventHeader.Timestamp", "EventHeader.Name", "EventHeader.Source.Name", "EventHeader.Message",
                "EventHeader.Source.FQID.Kind", "EventHeader.Source.FQID.ObjectId", "Address", "RecorderName"}
        stamp = header.get("Timestamp")
        if not stamp:
            raise ValueError("missing EventHeader.Timestamp")
        time_ms = parse_time(stamp, context.options.get("timezone"))
        name = clean(header.get("Name")) or clean(header.get("Message"))
        if not name:
            raise ValueError("missing EventHeader.Name")
        key = norm_key(name)
        activity = _MILESTONE_EVENTS.get(key)
        if activity is None:
            activity = next((act for fragment, act in _MILESTONE_FRAGMENTS if fragment in key), S.OTHER)
        attrs: dict[str, Any] = {}
        kind = norm_key(str(dotted(header, "Source.FQID.Kind") or ""))
        device_type = _MILESTONE_KINDS.get(kind, "camera" if kind else None)
        if "recordingserver" in key or "database" in key or "archive" in key:
            device_type = "nvr"
        _put(attrs, "device.name", dotted(header, "Source.Name"))
        _put(attrs, "device.uid", dotted(header, "Source.FQID.ObjectId"))
        _put(attrs, "device.ip", doc.get("Address"))
        if device_type:
            attrs["device.type"] = device_type
            attrs["device.type_id"] = _device_type_id(device_type)
        _put(attrs, "vms.name", doc.get("RecorderName"))
        attrs["metadata.event_code"] = name
        return time_ms, activity, attrs, used

    def _axis(self, doc: dict[str, Any], context: Context) -> tuple[int, int, dict[str, Any], set[str]]:
        used = {"serial", "timestamp", "time", "received_at", "topic", "state"}
        attrs: dict[str, Any] = {"device.type": "camera", "device.type_id": 7, "device.vendor_name": "Axis"}
        _put(attrs, "device.uid", doc.get("serial"))
        names = context.options.get("device_names") or {}
        _put(attrs, "device.name", names.get(doc.get("serial")) or doc.get("name") or doc.get("serial"))
        _put(attrs, "device.ip", doc.get("ip"))
        used.update({"name", "ip"})
        stamp = doc.get("timestamp") or doc.get("time") or doc.get("received_at")
        if stamp is None:
            raise ValueError("missing 'timestamp' (a subscriber adds the receive time as 'received_at')")
        time_ms = parse_time(stamp, context.options.get("timezone"))
        if "topic" not in doc:  # the connection / last-will message
            state = str(doc.get("state", "")).lower()
            if state not in ("connected", "disconnected"):
                raise ValueError(f"unknown connection state {doc.get('state')!r} (connected / disconnected)")
            return time_ms, S.RESTORED if state == "connected" else S.OFFLINE, attrs, used
        topic = str(doc["topic"])
        attrs["metadata.event_code"] = topic
        lowered = topic.lower().replace("tns1:", "").replace("tnsaxis:", "").replace("onvif:", "").replace("axis:", "")
        condition = next((act for fragment, act in _AXIS_TOPICS if fragment in lowered), S.OTHER)
        data = dotted(doc, "message.data")
        values = [str(v).strip().lower() for v in data.values()] if isinstance(data, dict) else []
        channel = dotted(doc, "message.source.channel") or dotted(doc, "message.source.VideoSource")
        _put(attrs, "camera.channel", channel)
        for key in ("message.source.channel", "message.source.VideoSource"):
            used.add(key)
        active = next((v in _ON for v in values if v in _ON or v in _OFF), True)
        if condition == S.RECORDING_STOPPED:
            # recording topics report "recording": "1" while recording: a 0 is the failure
            activity = S.OTHER if active else S.RECORDING_STOPPED
        elif condition == S.OTHER:
            activity = S.OTHER
        elif active:
            activity = condition
        else:
            activity = S.OTHER if condition == S.MOTION else S.RESTORED
        return time_ms, activity, attrs, used

    def _flat(self, doc: dict[str, Any], context: Context) -> tuple[int, int, dict[str, Any], set[str]]:
        from linewatch.events.sources._util import pick_fields

        fields, rest = pick_fields(doc, _FLAT_FIELDS, context.options.get("mapping") or None)
        used = set(flatten(doc)) - set(rest)
        if not fields.get("time"):
            raise ValueError("missing 'time'")
        if not fields.get("event"):
            raise ValueError("missing 'event' (offline, online, tamper, video_loss, storage_failure, "
                             "recording_stopped, motion)")
        time_ms = parse_time(fields["time"], context.options.get("timezone"))
        activity = _FLAT_EVENTS.get(norm_key(str(fields["event"])))
        if activity is None:
            raise ValueError(f"unknown event {fields['event']!r}; one of offline, online, tamper, video_loss, "
                             "storage_failure, recording_stopped, motion")
        attrs: dict[str, Any] = {}
        _put(attrs, "device.name", fields.get("device"))
        _put(attrs, "device.ip", fields.get("ip"))
        _put(attrs, "device.uid", fields.get("uid"))
        _put(attrs, "device.model", fields.get("model"))
        _put(attrs, "device.vendor_name", fields.get("vendor"))
        _put(attrs, "camera.channel", fields.get("channel"))
        device_type = str(fields.get("device_type") or "camera").lower()
        device_type = {"recorder": "nvr", "dvr": "nvr", "server": "nvr", "recording_server": "nvr",
                       "ipcam": "camera", "ip camera": "camera"}.get(device_type, device_type)
        attrs["device.type"] = device_type
        attrs["device.type_id"] = _device_type_id(device_type)
        _put(attrs, "vms.name", fields.get("vms"))
        _put(attrs, "status_detail", fields.get("reason"))
        attrs["metadata.event_code"] = fields["event"]
        return time_ms, activity, attrs, used
