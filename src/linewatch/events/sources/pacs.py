"""Physical access control (PACS): badge reads, door alarms — `pacs-generic`, `pacs-lenel`, `pacs-genetec`.

All three read JSON lines, one JSON array, or CSV with a header row (delimiter guessed, or
`options["delimiter"]`), and emit Physical Access events (`EventClass.PHYSICAL_ACCESS`). Column
names are matched case- and punctuation-insensitively; times without an offset are read in
`options["timezone"]` (an IANA name; UTC by default). Columns no field claims are kept in
`unmapped` under their own names. The full tables are in docs/formats/pacs.md.

The vocabulary is ASHRAE 135 (BACnet) access control, embedded below because it is a standard's
enumeration: an access decision becomes `access.event` (the BACnetAccessEvent name, e.g.
`denied-credential-expired`) and `access.event_code` (its number, 152); a door alarm becomes
`door.alarm_state` / `door.alarm_state_code` (BACnetDoorAlarmState: `forced-open` 3,
`door-open-too-long` 2, `tamper` 4…). The activity (`PhysicalAccessActivity`) is GRANTED, DENIED,
FORCED, HELD, TAILGATE, DURESS, PASSBACK, EXIT or OTHER.

`pacs-generic` — fields (first matching column wins; `options["mapping"]` = {field: column} names
the column explicitly, dotted paths reach into nested JSON):

    time        time, timestamp, event_time, datetime, date_time, occurred_at, ts          (required)
    result      result, event, event_type, outcome, access_result, decision, status, type (required)
    reason      reason, denial_reason, detail, description, event_description, cause
    credential  credential, credential_id, card, card_number, badge, badge_id, prox_id, token
    person      person, cardholder, cardholder_name, person_name, name, user, holder, employee
    person_id   person_id, cardholder_id, employee_id, user_id
    door        door, door_name, portal, opening
    reader      reader, reader_name, access_point, device, reader_id
    area        area, zone, area_name, zone_name, to_area, area_entered, floor
    area_from   from_area, area_exited, from_zone
    direction   direction, dir (in / out)
    panel       panel, controller, panel_name
    facility_code, issue_code, event_id (event_id, id, serial_number, uid)

`result` is a BACnet access-event name or number (`granted`, `denied-credential-expired`, `152`),
a BACnet door-alarm-state name (`forced-open`, `door-open-too-long`, `tamper`), or a common
synonym (`Access Granted`, `Access Denied: Expired`, `door forced`, `held open`, `propped`,
`tailgate`, `duress`, `anti-passback`, `REX`…). A plain `denied` is refined by `reason`
(`expired`, `out of schedule`, `invalid PIN`, `lost`, `no access`…) and is `denied-other` when
the reason says nothing known. An unknown result is an error naming the line.

`pacs-lenel` — a LenelS2 OnGuard event export (Alarm Monitoring / event report to CSV):

    Event Time, Event Type, Event Description, Card Number, Cardholder, Badge ID, Reader,
    Panel, Area Entered, Area Exited, Facility Code, Issue Code, Serial Number

`Event Time` is required and read in the US format OnGuard writes (`3/14/2025 7:02:11 AM`);
`Reader` is also the door's name (OnGuard names a door by its reader); a report that splits the
cardholder into `Last Name` / `First Name` is joined as `Last, First`.
`Event Description` (`Access Granted`, `Access Granted - No Entry Made`, `Invalid Badge`,
`Invalid PIN Number`, `Expired Badge`, `Door Forced Open`, `Door Held Open`, `Request to Exit -
Door Used`…) decides the BACnet event; an unknown description falls back on `Event Type`
(Granted / Denied) and is otherwise kept as an OTHER event (OnGuard exports mix system events).

`pacs-genetec` — a Genetec Security Center *Door activities* / *Cardholder activities* report,
exported to CSV, or the same fields as JSON:

    Timestamp (or Event timestamp), Event, Door, Cardholder, Credential, Access point, Area

`Event` texts such as `Access granted`, `Access denied: Expired credential`, `Access denied:
Insufficient privileges`, `Door forced open`, `Door open too long`, `Request to exit`,
`Antipassback violation`, `Hardware tamper`, `Entry detected` map onto the same vocabulary;
unknown texts are kept as OTHER events. `Access point` (a door side such as `Lab 2 - In`) is the
reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from linewatch.events.schema import Event, EventClass, PhysicalAccessActivity, Severity, event_uid
from linewatch.events.sources import Context, Record, Source, register
from linewatch.events.sources._util import TableSource, norm_key, parse_time, pick_fields, undecodable

# ASHRAE 135 BACnetAccessEvent (the standard's enumeration; 0–15 and 128–164)
BACNET_ACCESS_EVENT: dict[int, str] = {
    0: "none", 1: "granted", 2: "muster", 3: "passback-detected", 4: "duress", 5: "trace",
    6: "lockout-max-attempts", 7: "lockout-other", 8: "lockout-relinquished", 9: "locked-by-higher-priority",
    10: "out-of-service", 11: "out-of-service-relinquished", 12: "accompaniment-by",
    13: "authentication-factor-read", 14: "authorization-delayed", 15: "verification-required",
    128: "denied-deny-all", 129: "denied-unknown-credential", 130: "denied-authentication-unavailable",
    131: "denied-authentication-factor-timeout", 132: "denied-incorrect-authentication-factor",
    133: "denied-zone-no-access-rights", 134: "denied-point-no-access-rights", 135: "denied-no-access-rights",
    136: "denied-out-of-time-range", 137: "denied-threat-level", 138: "denied-passback",
    139: "denied-unexpected-location-usage", 140: "denied-max-attempts", 141: "denied-lower-occupancy-limit",
    142: "denied-upper-occupancy-limit", 143: "denied-authentication-factor-lost",
    144: "denied-authentication-factor-stolen", 145: "denied-authentication-factor-damaged",
    146: "denied-authentication-factor-destroyed", 147: "denied-authentication-factor-disabled",
    148: "denied-authentication-factor-error", 149: "denied-credential-unassigned",
    150: "denied-credential-not-provisioned", 151: "denied-credential-not-yet-active",
    152: "denied-credential-expired", 153: "denied-credential-manual-disable", 154: "denied-credential-lockout",
    155: "denied-credential-max-days", 156: "denied-credential-max-uses", 157: "denied-credential-inactivity",
    158: "denied-credential-disabled", 159: "denied-no-accompaniment", 160: "denied-incorrect-accompaniment",
    161: "denied-lockout", 162: "denied-verification-failed", 163: "denied-verification-timeout",
    164: "denied-other",
}
ACCESS_EVENT_CODE: dict[str, int] = {name: code for code, name in BACNET_ACCESS_EVENT.items()}

# ASHRAE 135 BACnetDoorAlarmState
BACNET_DOOR_ALARM_STATE: dict[int, str] = {
    0: "normal", 1: "alarm", 2: "door-open-too-long", 3: "forced-open", 4: "tamper", 5: "door-fault",
    6: "lock-down", 7: "free-access", 8: "egress-open",
}
DOOR_ALARM_CODE: dict[str, int] = {name: code for code, name in BACNET_DOOR_ALARM_STATE.items()}

A = PhysicalAccessActivity


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a vendor's result means in the Linewatch vocabulary."""

    activity: int
    access_event: str | None = None  # BACnetAccessEvent name
    door_alarm: str | None = None  # BACnetDoorAlarmState name
    door_state: str | None = None  # opened / closed / locked / unlocked (no BACnet enumeration)
    entered: bool | None = None


def _activity_of(access_event: str) -> int:
    if access_event == "granted":
        return A.GRANTED
    if access_event == "duress":
        return A.DURESS
    if access_event in ("passback-detected", "denied-passback"):
        return A.PASSBACK
    if access_event.startswith(("denied-", "lockout-")) and access_event != "lockout-relinquished":
        return A.DENIED
    return A.OTHER


def _event(name: str, entered: bool | None = None) -> Outcome:
    return Outcome(_activity_of(name), access_event=name, entered=entered)


_DOOR_ACTIVITY = {"forced-open": A.FORCED, "door-open-too-long": A.HELD}


def _door(name: str) -> Outcome:
    return Outcome(_DOOR_ACTIVITY.get(name, A.OTHER), door_alarm=name)


DENIED = "denied"  # sentinel: refine by reason

# result synonyms, keyed by norm_key (lowercase letters and digits only)
_RESULT_ALIASES: dict[str, Outcome | str] = {}
for _names, _outcome in (
    (("granted", "accessgranted", "grant", "valid", "validaccess", "ok", "allowed", "allow", "accessallowed",
      "permitted", "success", "entry", "granted entry", "accessgrantedentrydetected", "entrydetected",
      "entrymade", "grantedentrymade"), _event("granted")),
    (("accessgrantednoentrymade", "grantedaccessnoentrymade", "grantednoentry", "accessgrantednoentry",
      "grantednoentrymade"), _event("granted", entered=False)),
    (("denied", "accessdenied", "deny", "invalid", "rejected", "refused", "notallowed", "failed", "failure"),
     DENIED),
    (("forced", "doorforced", "doorforcedopen", "forcedopen", "forcedentry", "doorforcedopenalarm", "dfo"),
     _door("forced-open")),
    (("held", "doorheld", "doorheldopen", "heldopen", "dooropentoolong", "propped", "doorpropped", "doorajar",
      "dho", "doorleftopen"), _door("door-open-too-long")),
    (("tailgate", "tailgating", "doortailgating", "piggyback", "piggybacking", "doubleentry"),
     Outcome(A.TAILGATE)),
    (("duress", "duresspin", "duressalarm", "accessgrantedunderduress", "duresspinentered",
      "grantedunderduress"), _event("duress")),
    (("passback", "antipassback", "antipassbackviolation", "apb", "apbviolation"), _event("passback-detected")),
    (("rex", "requesttoexit", "requestexit", "egress", "exit", "rte", "requesttoexitdoorused",
      "requesttoexitdoornotused", "exitrequest"), Outcome(A.EXIT)),
    (("tamper", "readertamper", "doortamper", "hardwaretamper", "doorcontacttamper", "cabinettamper",
      "readertamperalarm"), _door("tamper")),
    (("doorfault", "fault", "doorcontactfault"), _door("door-fault")),
    (("lockdown", "doorlockdown"), _door("lock-down")),
    (("doorforcedopencanceled", "doorforcedopenrestored", "doorheldopencanceled", "doorheldopenrestored",
      "doornormal", "restored", "doorrestored", "alarmcleared"), _door("normal")),
    (("dooropened", "dooropen"), Outcome(A.OTHER, door_state="opened")),
    (("doorclosed", "doorclose"), Outcome(A.OTHER, door_state="closed")),
    (("doorunlocked", "doorunlock", "unlocked"), Outcome(A.OTHER, door_state="unlocked")),
    (("doorlocked", "doorlock", "locked", "doorrelocked"), Outcome(A.OTHER, door_state="locked")),
):
    for _name in _names:
        _RESULT_ALIASES[norm_key(_name)] = _outcome
for _code, _name in BACNET_ACCESS_EVENT.items():
    _RESULT_ALIASES.setdefault(norm_key(_name), _event(_name))
for _code, _name in BACNET_DOOR_ALARM_STATE.items():
    _RESULT_ALIASES.setdefault(norm_key(_name), _door(_name))

# denial reasons (substrings of the lower-cased reason text, tried in order) → BACnet event
_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("verification timeout", "host approval timed out", "approval timed out"), "denied-verification-timeout"),
    (("pin timeout", "pin not entered", "factor timeout", "keypad timeout"), "denied-authentication-factor-timeout"),
    (("not yet active", "not yet valid", "not active", "not valid yet", "pending activation", "future"),
     "denied-credential-not-yet-active"),
    (("expired",), "denied-credential-expired"),
    (("out of schedule", "outside schedule", "out of time", "time zone", "timezone", "schedule", "outside hours",
      "out of hours", "time range"), "denied-out-of-time-range"),
    (("passback", "apb"), "denied-passback"),
    (("invalid pin", "wrong pin", "incorrect pin", "pin mismatch", "bad pin", "pin number", "invalid code"),
     "denied-incorrect-authentication-factor"),
    (("stolen",), "denied-authentication-factor-stolen"),
    (("lost",), "denied-authentication-factor-lost"),
    (("damaged",), "denied-authentication-factor-damaged"),
    (("destroyed",), "denied-authentication-factor-destroyed"),
    (("issue code", "issue level"), "denied-authentication-factor-disabled"),
    (("card format", "format not matched", "unreadable", "read error"), "denied-authentication-factor-error"),
    (("max attempts", "too many attempts", "count exceeded", "denied count"), "denied-max-attempts"),
    (("lockout", "locked out"), "denied-credential-lockout"),
    (("manual disable", "manually disabled"), "denied-credential-manual-disable"),
    (("revoked", "deactivated", "disabled", "inactive", "suspended", "terminated", "blocked"),
     "denied-credential-disabled"),
    (("unassigned", "no cardholder", "not assigned"), "denied-credential-unassigned"),
    (("not provisioned",), "denied-credential-not-provisioned"),
    (("max uses", "use count", "uses exceeded"), "denied-credential-max-uses"),
    (("unknown", "not found", "unregistered", "not in database", "invalid badge", "invalid card",
      "invalid credential", "facility code", "no such"), "denied-unknown-credential"),
    (("threat level",), "denied-threat-level"),
    (("lower occupancy", "min occupancy", "minimum occupancy"), "denied-lower-occupancy-limit"),
    (("occupancy", "area limit", "area full", "capacity"), "denied-upper-occupancy-limit"),
    (("incorrect escort", "wrong escort", "incorrect accompaniment"), "denied-incorrect-accompaniment"),
    (("escort", "accompan", "two person", "two-person", "two man"), "denied-no-accompaniment"),
    (("unexpected location", "wrong location"), "denied-unexpected-location-usage"),
    (("authentication unavailable", "host unavailable", "controller offline", "offline"),
     "denied-authentication-unavailable"),
    (("verification", "host approval", "inspection", "biometric", "host denied"), "denied-verification-failed"),
    (("door locked", "door is locked", "locked down", "lockdown", "deny all"), "denied-deny-all"),
    (("zone", "area"), "denied-zone-no-access-rights"),
    (("no access", "no door access", "access level", "unauthorized", "not authorized", "insufficient privilege",
      "privilege", "clearance", "access group", "no permission", "access rights", "invalid access"),
     "denied-no-access-rights"),
)


def denial_reason(reason: str | None) -> str:
    """The BACnet denied-* event a free-text denial reason names; `denied-other` when none."""
    if reason:
        text = reason.lower().replace("_", " ").replace("-", " ")
        text = " ".join(text.split())
        for needles, name in _REASONS:
            if any(needle in text for needle in needles):
                return name
    return "denied-other"


_SPLIT = re.compile(r"\s*(?::|\s-\s|\s–\s|\(|/)\s*")


def resolve(result: Any, reason: str | None = None) -> Outcome | None:
    """The outcome for a result (name, number or synonym) and optional reason; None when unknown."""
    if result is None:
        return None
    if isinstance(result, int) or (isinstance(result, str) and result.strip().isdigit()):
        name = BACNET_ACCESS_EVENT.get(int(result))
        return _event(name) if name else None
    text = str(result).strip()
    outcome = _RESULT_ALIASES.get(norm_key(text))
    if outcome is None:
        head, *rest = _SPLIT.split(text, maxsplit=1)  # "Access denied: Expired credential", "Granted - No Entry"
        outcome = _RESULT_ALIASES.get(norm_key(head))
        if outcome is None:
            return None
        tail = rest[0].rstrip(")") if rest else ""
        if outcome is DENIED:
            return _event(denial_reason(tail or reason))
        if isinstance(outcome, Outcome) and outcome.activity == A.GRANTED and tail:
            key = norm_key(tail)
            if "noentry" in key or "notused" in key:
                return _event("granted", entered=False)
            if "entry" in key or "used" in key:
                return _event("granted", entered=True)
        return outcome if isinstance(outcome, Outcome) else None
    if outcome is DENIED:
        return _event(denial_reason(reason))
    return outcome  # type: ignore[return-value]


_SEVERITY = {A.GRANTED: Severity.INFORMATIONAL, A.DENIED: Severity.LOW, A.FORCED: Severity.HIGH,
             A.HELD: Severity.MEDIUM, A.TAILGATE: Severity.MEDIUM, A.DURESS: Severity.CRITICAL,
             A.PASSBACK: Severity.MEDIUM, A.EXIT: Severity.INFORMATIONAL, A.OTHER: Severity.INFORMATIONAL}
_HIGH_DENIALS = {"denied-authentication-factor-lost", "denied-authentication-factor-stolen", "denied-threat-level"}

_FIELDS: dict[str, tuple[str, ...]] = {
    "time": ("time", "timestamp", "event_time", "datetime", "date_time", "occurred_at", "occurred", "ts", "when"),
    "result": ("result", "event", "event_type", "outcome", "access_result", "decision", "status", "type"),
    "reason": ("reason", "denial_reason", "detail", "description", "event_description", "cause"),
    "credential": ("credential", "credential_id", "card", "card_number", "cardnumber", "badge", "badge_id",
                   "prox_id", "token", "card_no"),
    "person": ("person", "cardholder", "cardholder_name", "person_name", "name", "user", "holder", "employee"),
    "person_id": ("person_id", "cardholder_id", "employee_id", "user_id"),
    "door": ("door", "door_name", "portal", "opening"),
    "reader": ("reader", "reader_name", "access_point", "device", "reader_id"),
    "area": ("area", "zone", "area_name", "zone_name", "to_area", "area_entered", "floor"),
    "area_from": ("from_area", "area_exited", "from_zone"),
    "direction": ("direction", "dir"),
    "panel": ("panel", "controller", "panel_name"),
    "facility_code": ("facility_code", "fc"),
    "issue_code": ("issue_code",),
    "event_id": ("event_id", "id", "serial_number", "uid"),
}
_REQUIRED = ("time", "result")


def _put(attrs: dict[str, Any], path: str, value: Any) -> None:
    if value is not None and value != "":
        attrs[path] = value


class PacsSource(TableSource, Source):
    """The shared reader: tabular framing, field picking, the event. Subclasses set the columns and
    how a row's result is resolved (the generic source rejects unknown results; the vendor exports
    keep them as OTHER events, since their reports mix in system events)."""

    name = "pacs-base"
    description = ""
    fields: dict[str, tuple[str, ...]] = _FIELDS
    required: tuple[str, ...] = _REQUIRED

    def parse(self, record: Record, context: Context) -> Iterable[Event]:
        row, fields, rest = self.picked(record, context, self.fields)
        mapping = context.options.get("mapping") or None
        for field in self.required:
            if field not in fields:
                hint = f" (mapped to {mapping[field]!r})" if mapping and field in mapping else ""
                columns = ", ".join(k for k in row if k != "_extra")
                raise self.error(context, record, f"missing required column {field!r}{hint}; columns: {columns}")
            if fields[field] is None:
                raise self.error(context, record, f"empty {field!r}")
        try:
            time_ms = parse_time(fields["time"], context.options.get("timezone"),
                                 dayfirst=bool(context.options.get("dayfirst")))
        except ValueError as exc:
            raise self.error(context, record, f"bad time: {exc}") from None
        outcome = self.outcome(fields, rest)
        if outcome is None:
            raise self.error(context, record, f"unknown result {fields.get('result')!r}: not a BACnet access event, "
                                              "door alarm state or known synonym")
        return [self.event(fields, rest, outcome, time_ms, row, context)]

    def outcome(self, fields: dict[str, Any], rest: dict[str, Any]) -> Outcome | None:
        return resolve(fields.get("result"), fields.get("reason"))

    def event(self, fields: dict[str, Any], rest: dict[str, Any], outcome: Outcome, time_ms: int,
              row: dict[str, Any], context: Context) -> Event:
        attrs: dict[str, Any] = {}
        if outcome.access_event is not None:
            attrs["access.event"] = outcome.access_event
            attrs["access.event_code"] = ACCESS_EVENT_CODE[outcome.access_event]
        if outcome.door_alarm is not None:
            attrs["door.alarm_state"] = outcome.door_alarm
            attrs["door.alarm_state_code"] = DOOR_ALARM_CODE[outcome.door_alarm]
        _put(attrs, "door.state", outcome.door_state)
        if outcome.entered is not None:
            attrs["access.entered"] = outcome.entered
        _put(attrs, "access.result", fields.get("result"))
        _put(attrs, "access.reason", fields.get("reason"))
        _put(attrs, "credential.uid", _text(fields.get("credential")))
        _put(attrs, "credential.facility_code", _text(fields.get("facility_code")))
        _put(attrs, "credential.issue_code", _text(fields.get("issue_code")))
        _put(attrs, "actor.user.name", fields.get("person"))
        _put(attrs, "actor.user.uid", _text(fields.get("person_id")))
        _put(attrs, "door.name", fields.get("door"))
        _put(attrs, "reader.name", fields.get("reader"))
        _put(attrs, "area.name", fields.get("area"))
        _put(attrs, "area.from.name", fields.get("area_from"))
        _put(attrs, "device.name", fields.get("panel"))
        direction = str(fields.get("direction") or "").strip().lower()
        if direction in ("in", "entry", "enter", "ingress", "i"):
            attrs["access.direction"] = "in"
        elif direction in ("out", "exit", "egress", "o"):
            attrs["access.direction"] = "out"
        elif direction:
            attrs["access.direction"] = direction
        activity = outcome.activity
        status = 1 if activity == A.GRANTED else 2 if activity == A.DENIED or (
            outcome.access_event or "").startswith("denied-") else 0
        severity = _SEVERITY.get(activity, Severity.INFORMATIONAL)
        if outcome.access_event in _HIGH_DENIALS or outcome.door_alarm == "tamper":
            severity = Severity.HIGH
        unmapped = {k: v for k, v in rest.items() if v is not None and v != ""}
        raw = msgspec.json.encode(row).decode()
        event_id = _text(fields.get("event_id"))
        uid = event_uid(self.name, event_id) if event_id else event_uid(self.name, raw)
        return Event(uid=uid, time=time_ms, class_uid=int(EventClass.PHYSICAL_ACCESS), activity_id=int(activity),
                     severity_id=int(severity), status_id=status, message=_message(activity, outcome, attrs),
                     source=self.name, site=context.site, attrs=attrs, unmapped=unmapped, raw=raw)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _message(activity: int, outcome: Outcome, attrs: dict[str, Any]) -> str:
    who = attrs.get("actor.user.name") or (f"credential {attrs['credential.uid']}" if "credential.uid" in attrs
                                           else "unknown person")
    where = attrs.get("door.name") or attrs.get("reader.name") or attrs.get("area.name") or "unknown door"
    if activity == A.GRANTED:
        return f"access granted: {who} at {where}"
    if activity in (A.DENIED, A.PASSBACK) or outcome.access_event:
        return f"{outcome.access_event or 'access event'}: {who} at {where}"
    if outcome.door_alarm:
        return f"door {outcome.door_alarm}: {where}"
    names = {A.TAILGATE: "tailgating", A.EXIT: "request to exit", A.DURESS: "duress"}
    text = names.get(activity) or (f"door {outcome.door_state}" if outcome.door_state else "access-control event")
    return f"{text}: {where}" + (f" ({who})" if activity == A.TAILGATE and "actor.user.name" in attrs else "")


@register
class GenericPacsSource(PacsSource):
    name = "pacs-generic"
    description = "Physical access events as JSON lines or CSV with a column mapping (BACnet vocabulary)"
    formats = ("JSON lines", "CSV")


# --------------------------------------------------------------------------- LenelS2 OnGuard

_LENEL_FIELDS: dict[str, tuple[str, ...]] = {
    "time": ("Event Time", "Time", "Date/Time", "Event Date Time"),
    "event_type": ("Event Type", "Type"),
    "result": ("Event Description", "Description", "Event"),
    "credential": ("Card Number", "Card", "Badge Number"),
    "person": ("Cardholder", "Cardholder Name", "Name"),
    "last_name": ("Last Name",),
    "first_name": ("First Name",),
    "person_id": ("Badge ID", "Employee ID", "Cardholder ID"),
    "reader": ("Reader", "Device", "Reader Name"),
    "door": ("Door",),
    "panel": ("Panel", "Controller", "Panel Name"),
    "area": ("Area Entered", "Area"),
    "area_from": ("Area Exited",),
    "facility_code": ("Facility Code",),
    "issue_code": ("Issue Code",),
    "event_id": ("Serial Number", "Event ID", "Serial"),
    "reason": ("Event Text", "Alarm Description", "Reason"),
}

# OnGuard event descriptions (norm_key) that the generic synonyms do not already cover
_LENEL_EVENTS: dict[str, Outcome] = {norm_key(k): v for k, v in {
    "Invalid Badge": _event("denied-unknown-credential"),
    "Invalid Facility Code": _event("denied-unknown-credential"),
    "Invalid Issue Code": _event("denied-authentication-factor-disabled"),
    "Invalid PIN Number": _event("denied-incorrect-authentication-factor"),
    "Invalid PIN": _event("denied-incorrect-authentication-factor"),
    "Invalid Access Level": _event("denied-no-access-rights"),
    "Access Denied - Invalid Access Level": _event("denied-no-access-rights"),
    "Invalid Time Zone": _event("denied-out-of-time-range"),
    "Access Denied - Time Zone": _event("denied-out-of-time-range"),
    "Expired Badge": _event("denied-credential-expired"),
    "Badge Expired": _event("denied-credential-expired"),
    "Badge Not Yet Active": _event("denied-credential-not-yet-active"),
    "Badge Not Active": _event("denied-credential-not-yet-active"),
    "Lost Badge": _event("denied-authentication-factor-lost"),
    "Stolen Badge": _event("denied-authentication-factor-stolen"),
    "Denied Count Exceeded": _event("denied-max-attempts"),
    "Access Denied Under Duress": _event("duress"),
    "Access Granted Under Duress": _event("duress"),
    "Anti-Passback Violation": _event("passback-detected"),
    "Access Denied - Anti-Passback Violation": _event("denied-passback"),
    "Access Denied - Area Limit Reached": _event("denied-upper-occupancy-limit"),
    "Access Denied - Escort Required": _event("denied-no-accompaniment"),
    "Door Forced Open": _door("forced-open"),
    "Door Held Open": _door("door-open-too-long"),
    "Door Forced Open Canceled": _door("normal"),
    "Door Held Open Canceled": _door("normal"),
    "Request to Exit - Door Used": Outcome(A.EXIT, entered=True),
    "Request to Exit - Door Not Used": Outcome(A.EXIT, entered=False),
    "Reader Input Tamper": _door("tamper"),
    "Door Contact Tamper": _door("tamper"),
    "Open Door Command Issued - Door Used": Outcome(A.OTHER, door_state="opened"),
}.items()}


@register
class LenelPacsSource(PacsSource):
    name = "pacs-lenel"
    description = "LenelS2 OnGuard event export (CSV): Event Time, Event Type, Event Description, Card Number…"
    formats = ("OnGuard event export CSV",)
    fields = _LENEL_FIELDS

    def parse(self, record: Record, context: Context) -> Iterable[Event]:
        why = undecodable(record.data)
        if why is None and isinstance(record.data, dict):
            fields, _ = pick_fields(record.data, {"person": _LENEL_FIELDS["person"],
                                                  "last_name": ("Last Name",), "first_name": ("First Name",)})
            if not fields.get("person") and (fields.get("last_name") or fields.get("first_name")):
                # OnGuard reports often split the cardholder's name; join it as the Cardholder column reads
                record = Record(record.place, {**record.data, "Cardholder": ", ".join(
                    p for p in (fields.get("last_name"), fields.get("first_name")) if p)})
        return super().parse(record, context)

    def outcome(self, fields: dict[str, Any], rest: dict[str, Any]) -> Outcome | None:
        description = fields.get("result")
        known = _LENEL_EVENTS.get(norm_key(str(description))) if description else None
        if known is not None:
            return known
        generic = resolve(description, fields.get("reason"))
        if generic is not None:
            return generic
        kind = norm_key(str(fields.get("event_type") or ""))
        if kind == "granted":
            return _event("granted")
        if kind == "denied":
            return _event(denial_reason(description))
        return Outcome(A.OTHER)

    def event(self, fields: dict[str, Any], rest: dict[str, Any], outcome: Outcome, time_ms: int,
              row: dict[str, Any], context: Context) -> Event:
        event = super().event(fields, rest, outcome, time_ms, row, context)
        if "door.name" not in event.attrs and "reader.name" in event.attrs:
            event.attrs["door.name"] = event.attrs["reader.name"]  # OnGuard models a door by its reader
        if fields.get("event_type"):
            event.unmapped["Event Type"] = fields["event_type"]
        for part in ("last_name", "first_name"):
            if fields.get(part):
                event.unmapped["Last Name" if part == "last_name" else "First Name"] = fields[part]
        if outcome.activity == A.OTHER and outcome.access_event is None and not outcome.door_alarm \
                and not outcome.door_state:
            event.message = f"OnGuard event: {fields.get('result')}"
        return event


# --------------------------------------------------------------------------- Genetec Security Center

_GENETEC_FIELDS: dict[str, tuple[str, ...]] = {
    "time": ("Timestamp", "Event timestamp", "Local timestamp", "Event time", "Time"),
    "result": ("Event", "Event type"),
    "door": ("Door", "Door name"),
    "person": ("Cardholder", "Visitor", "Cardholder name"),
    "credential": ("Credential", "Credential code", "Card number"),
    "reader": ("Access point", "Door side", "Reader"),
    "area": ("Area",),
    "panel": ("Unit", "Access control unit", "Device"),
    "reason": ("Description", "Reason"),
    "event_id": ("Event ID", "Guid", "Id"),
    "direction": ("Direction",),
}

_GENETEC_EVENTS: dict[str, Outcome] = {norm_key(k): v for k, v in {
    "Access granted": _event("granted"),
    "Entry detected": _event("granted", entered=True),
    "Entry assumed": _event("granted", entered=True),
    "No entry detected": _event("granted", entered=False),
    "Access denied: Insufficient privileges": _event("denied-no-access-rights"),
    "Access denied: Unknown credential": _event("denied-unknown-credential"),
    "Access denied: Invalid PIN": _event("denied-incorrect-authentication-factor"),
    "Access denied: Expired credential": _event("denied-credential-expired"),
    "Access denied: Inactive credential": _event("denied-credential-disabled"),
    "Access denied: Lost credential": _event("denied-authentication-factor-lost"),
    "Access denied: Stolen credential": _event("denied-authentication-factor-stolen"),
    "Access denied: Credential not yet active": _event("denied-credential-not-yet-active"),
    "Access denied: Out of schedule": _event("denied-out-of-time-range"),
    "Access denied: Antipassback violation": _event("denied-passback"),
    "Access denied: Escort required": _event("denied-no-accompaniment"),
    "Access denied: Second cardholder required": _event("denied-no-accompaniment"),
    "Access denied: Invalid card format": _event("denied-authentication-factor-error"),
    "Access denied: Hard max occupancy reached": _event("denied-upper-occupancy-limit"),
    "Antipassback violation": _event("passback-detected"),
    "Duress PIN entered": _event("duress"),
    "Door forced open": _door("forced-open"),
    "Door open too long": _door("door-open-too-long"),
    "Door open while lock secured": _door("forced-open"),
    "Hardware tamper": _door("tamper"),
    "Request to exit": Outcome(A.EXIT),
    "Door opened": Outcome(A.OTHER, door_state="opened"),
    "Door closed": Outcome(A.OTHER, door_state="closed"),
    "Door unlocked": Outcome(A.OTHER, door_state="unlocked"),
    "Door locked": Outcome(A.OTHER, door_state="locked"),
}.items()}


@register
class GenetecPacsSource(PacsSource):
    name = "pacs-genetec"
    description = "Genetec Security Center door / cardholder activities report (CSV or JSON)"
    formats = ("Door activities report CSV", "JSON")
    fields = _GENETEC_FIELDS

    def outcome(self, fields: dict[str, Any], rest: dict[str, Any]) -> Outcome | None:
        text = fields.get("result")
        known = _GENETEC_EVENTS.get(norm_key(str(text))) if text else None
        if known is not None:
            return known
        return resolve(text, fields.get("reason")) or Outcome(A.OTHER)

    def event(self, fields: dict[str, Any], rest: dict[str, Any], outcome: Outcome, time_ms: int,
              row: dict[str, Any], context: Context) -> Event:
        event = super().event(fields, rest, outcome, time_ms, row, context)
        if outcome.activity == A.OTHER and outcome.access_event is None and not outcome.door_alarm \
                and not outcome.door_state:
            event.message = f"Security Center event: {fields.get('result')}"
        return event
