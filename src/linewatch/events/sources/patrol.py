"""Guard tours (`patrol`): checkpoint scans and tour events → `EventClass.PATROL_CHECKPOINT`.

Input: JSON lines, one JSON array, or CSV with a header row, as guard-tour systems (TrackTik-,
GuardTek-style) export them. Columns are matched case- and punctuation-insensitively;
`options["mapping"]` = {field: column} names them explicitly; times without an offset are read in
`options["timezone"]` (UTC by default).

    time        time, timestamp, scanned_at, scan_time, date_time, event_time     (required)
    guard       guard, officer, guard_name, employee, user, scanned_by           (required for scans)
    guard_id    guard_id, officer_id, employee_id, badge
    tour        tour, tour_name, route, patrol                                   (the tour's name)
    tour_id     tour_id, tour_run_id, run_id, patrol_id                          (this run of the tour)
    checkpoint  checkpoint, checkpoint_name, tag_name, location_name, point      (required for scans)
    checkpoint_id  checkpoint_id, tag_id, tag, nfc_uid, qr_code
    method      method, scan_method, tag_type, type: qr, nfc, gps, barcode, manual, virtual
    lat, lon    lat/latitude, lon/lng/long/longitude; accuracy (accuracy, accuracy_m, gps_accuracy), metres
    action      action, event, event_type, status: scan (default), tour_started, tour_completed,
                missed, incident
    device      device, device_id, handset, phone
    zone        zone, area, building
    note        note, notes, comment, incident_type, description

Output: activity (`PatrolActivity`: CHECKPOINT_SCAN, TOUR_STARTED, TOUR_COMPLETED,
CHECKPOINT_MISSED, INCIDENT_REPORTED), `actor.user.name` / `actor.user.uid` (the guard),
`patrol.tour.name`, `patrol.tour.uid`, `checkpoint.name`, `checkpoint.uid`, `checkpoint.method`,
`location.lat`, `location.long`, `location.accuracy` (metres), `device.uid`, `area.name`,
`message`. An unknown method or action, a latitude outside ±90 or a longitude outside ±180 is an
error naming the line; other columns are kept in `unmapped`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from linewatch.events.schema import Event, EventClass, PatrolActivity, Severity, event_uid
from linewatch.events.sources import Context, Record, Source, register
from linewatch.events.sources._util import TableSource, norm_key, parse_time

P = PatrolActivity

_FIELDS: dict[str, tuple[str, ...]] = {
    "time": ("time", "timestamp", "scanned_at", "scan_time", "date_time", "datetime", "event_time", "ts"),
    "guard": ("guard", "officer", "guard_name", "officer_name", "employee", "user", "scanned_by"),
    "guard_id": ("guard_id", "officer_id", "employee_id", "badge"),
    "tour": ("tour", "tour_name", "route", "patrol"),
    "tour_id": ("tour_id", "tour_run_id", "run_id", "patrol_id"),
    "checkpoint": ("checkpoint", "checkpoint_name", "tag_name", "location_name", "point"),
    "checkpoint_id": ("checkpoint_id", "tag_id", "tag", "nfc_uid", "qr_code"),
    "method": ("method", "scan_method", "tag_type", "type"),
    "lat": ("lat", "latitude", "gps_lat"),
    "lon": ("lon", "lng", "long", "longitude", "gps_lon", "gps_lng"),
    "accuracy": ("accuracy", "accuracy_m", "gps_accuracy", "horizontal_accuracy"),
    "action": ("action", "event", "event_type", "status"),
    "device": ("device", "device_id", "handset", "phone"),
    "zone": ("zone", "area", "building"),
    "note": ("note", "notes", "comment", "incident_type", "description"),
    "event_id": ("event_id", "id", "scan_id", "uid"),
}

_METHODS = {"qr": "qr", "qrcode": "qr", "barcode": "barcode", "nfc": "nfc", "rfid": "nfc", "tag": "nfc",
            "gps": "gps", "geofence": "gps", "manual": "manual", "virtual": "virtual", "onsight": "virtual",
            "beacon": "beacon", "ble": "beacon", "bluetooth": "beacon"}
_ACTIONS = {
    "scan": P.CHECKPOINT_SCAN, "scanned": P.CHECKPOINT_SCAN, "checkpoint": P.CHECKPOINT_SCAN,
    "checkpointscan": P.CHECKPOINT_SCAN, "visited": P.CHECKPOINT_SCAN, "ok": P.CHECKPOINT_SCAN,
    "late": P.CHECKPOINT_SCAN, "outoforder": P.CHECKPOINT_SCAN,
    "tourstarted": P.TOUR_STARTED, "tourstart": P.TOUR_STARTED, "start": P.TOUR_STARTED, "started": P.TOUR_STARTED,
    "tourcompleted": P.TOUR_COMPLETED, "tourcomplete": P.TOUR_COMPLETED, "tourend": P.TOUR_COMPLETED,
    "completed": P.TOUR_COMPLETED, "end": P.TOUR_COMPLETED, "finished": P.TOUR_COMPLETED,
    "missed": P.CHECKPOINT_MISSED, "checkpointmissed": P.CHECKPOINT_MISSED, "notvisited": P.CHECKPOINT_MISSED,
    "failed": P.CHECKPOINT_MISSED, "skipped": P.CHECKPOINT_MISSED,
    "incident": P.INCIDENT_REPORTED, "incidentreported": P.INCIDENT_REPORTED, "report": P.INCIDENT_REPORTED,
    "other": P.OTHER,
}
_SEVERITY = {P.CHECKPOINT_MISSED: Severity.MEDIUM, P.INCIDENT_REPORTED: Severity.MEDIUM}


def _put(attrs: dict[str, Any], path: str, value: Any) -> None:
    if value is not None and value != "":
        attrs[path] = value


def _number(value: Any, what: str, low: float, high: float) -> float | None:
    if value is None:
        return None
    try:
        number = float(str(value).replace(",", ".")) if not isinstance(value, int | float) else float(value)
    except ValueError:
        raise ValueError(f"{what} is not a number: {value!r}") from None
    if not low <= number <= high:
        raise ValueError(f"{what} {number} is outside {low:g}..{high:g}")
    return number


@register
class PatrolSource(TableSource, Source):
    name = "patrol"
    description = "Guard tour checkpoint scans and tour events (JSON lines or CSV)"
    formats = ("JSON lines", "CSV")

    def parse(self, record: Record, context: Context) -> Iterable[Event]:
        row, fields, rest = self.picked(record, context, _FIELDS)
        if not fields.get("time"):
            raise self.error(context, record, "missing required column 'time'" if "time" not in fields
                             else "empty 'time'")
        action_text = fields.get("action")
        activity = _ACTIONS.get(norm_key(str(action_text))) if action_text else P.CHECKPOINT_SCAN
        if activity is None:
            raise self.error(context, record, f"unknown action {action_text!r}; one of scan, tour_started, "
                                              "tour_completed, missed, incident")
        if activity in (P.CHECKPOINT_SCAN, P.CHECKPOINT_MISSED) and not (fields.get("checkpoint")
                                                                         or fields.get("checkpoint_id")):
            raise self.error(context, record, "missing required column 'checkpoint' (or checkpoint_id)")
        if activity == P.CHECKPOINT_SCAN and not (fields.get("guard") or fields.get("guard_id")):
            raise self.error(context, record, "missing required column 'guard' (or guard_id)")
        method = None
        if fields.get("method"):
            method = _METHODS.get(norm_key(str(fields["method"])))
            if method is None:
                raise self.error(context, record, f"unknown scan method {fields['method']!r}; one of qr, nfc, gps, "
                                                  "barcode, beacon, manual, virtual")
        try:
            time_ms = parse_time(fields["time"], context.options.get("timezone"))
            lat = _number(fields.get("lat"), "latitude", -90, 90)
            lon = _number(fields.get("lon"), "longitude", -180, 180)
            accuracy = _number(fields.get("accuracy"), "accuracy", 0, 1e6)
        except ValueError as exc:
            raise self.error(context, record, str(exc)) from None
        if (lat is None) != (lon is None):
            raise self.error(context, record, "latitude and longitude must come together")
        attrs: dict[str, Any] = {}
        _put(attrs, "actor.user.name", fields.get("guard"))
        _put(attrs, "actor.user.uid", _text(fields.get("guard_id")))
        _put(attrs, "patrol.tour.name", fields.get("tour"))
        _put(attrs, "patrol.tour.uid", _text(fields.get("tour_id")))
        _put(attrs, "checkpoint.name", fields.get("checkpoint"))
        _put(attrs, "checkpoint.uid", _text(fields.get("checkpoint_id")))
        _put(attrs, "checkpoint.method", method)
        _put(attrs, "location.lat", lat)
        _put(attrs, "location.long", lon)
        _put(attrs, "location.accuracy", accuracy)
        _put(attrs, "device.uid", _text(fields.get("device")))
        _put(attrs, "area.name", fields.get("zone"))
        _put(attrs, "patrol.note", fields.get("note"))
        if action_text:
            attrs["patrol.status"] = str(action_text)
        raw = msgspec.json.encode(row).decode()
        event_id = _text(fields.get("event_id"))
        uid = event_uid(self.name, event_id) if event_id else event_uid(self.name, raw)
        who = fields.get("guard") or fields.get("guard_id") or "unknown guard"
        point = fields.get("checkpoint") or fields.get("checkpoint_id") or ""
        tour = fields.get("tour") or fields.get("tour_id") or ""
        message = {
            P.CHECKPOINT_SCAN: f"{who} scanned {point}" + (f" by {method}" if method else ""),
            P.TOUR_STARTED: f"{who} started tour {tour}",
            P.TOUR_COMPLETED: f"{who} completed tour {tour}",
            P.CHECKPOINT_MISSED: f"checkpoint {point} missed" + (f" on tour {tour}" if tour else ""),
            P.INCIDENT_REPORTED: f"{who} reported an incident" + (f" at {point}" if point else ""),
        }.get(activity, f"patrol event {action_text}")
        unmapped = {k: v for k, v in rest.items() if v is not None and v != ""}
        return [Event(uid=uid, time=time_ms, class_uid=int(EventClass.PATROL_CHECKPOINT), activity_id=int(activity),
                      severity_id=int(_SEVERITY.get(activity, Severity.INFORMATIONAL)),
                      status_id=2 if activity == P.CHECKPOINT_MISSED else 1 if activity == P.CHECKPOINT_SCAN else 0,
                      message=message.strip(), source=self.name, site=context.site, attrs=attrs, unmapped=unmapped,
                      raw=raw)]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None
