"""Visitor management (`visitor`): invitations, check-in/out, badges → `EventClass.VISITOR_ACTIVITY`.

Input: JSON lines, one JSON array, or CSV with a header row, as visitor-management systems
(Envoy-, Proxyclick-, Sign In Solutions-style visitor logs) export them. Columns are matched case-
and punctuation-insensitively; `options["mapping"]` = {field: column} names them explicitly; times
without an offset are read in `options["timezone"]` (UTC by default).

    time        time, timestamp, event_time, date_time, signed_in_at, created_at   (required)
    action      action, event, event_type, status, activity                        (required)
    visitor     visitor, visitor_name, guest, guest_name, name, full_name          (required)
    visitor_id  visitor_id, guest_id, person_id
    email       email, visitor_email
    company     company, organization, organisation, employer, visitor_company
    host        host, host_name, sponsor, visiting, employee
    host_id     host_id, host_email, sponsor_id
    escort      escort, escort_name
    badge       badge, badge_number, badge_id, credential, card_number
    site        site, location, location_name, building
    purpose     purpose, reason, visit_type, purpose_of_visit
    visit_id    visit_id, invite_id, appointment_id, entry_id, id
    expected_end  expected_end, expected_departure, valid_until, end_time
    watchlist   watchlist, watchlist_result, screening, blocklist
    denied_reason  denied_reason, deny_reason, rejection_reason

`action` is one of pre_registered (invited, expected), check_in (signed_in, arrived),
check_out (signed_out, departed), badge_issued, badge_returned, denied (blocked, rejected) or
overstay; an unknown action is an error naming the line.

Output: activity (`VisitorActivity`), `user.name` / `user.uid` / `user.email_addr` /
`user.org.name` (the visitor, `user.type` = "Visitor"), `visit.host.name`, `visit.host.uid`,
`visit.escort.name`, `visit.uid`, `visit.purpose`, `visit.expected_end` (epoch ms),
`visit.watchlist_result`, `credential.uid` (the badge), `location.desc` (the site or building as
written; the Linewatch site itself is the ingest's), `status_detail` (a denial's reason).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from linewatch.events.schema import Event, EventClass, Severity, VisitorActivity, event_uid
from linewatch.events.sources import Context, Record, Source, register
from linewatch.events.sources._util import TableSource, norm_key, parse_time

V = VisitorActivity

_FIELDS: dict[str, tuple[str, ...]] = {
    "time": ("time", "timestamp", "event_time", "date_time", "datetime", "signed_in_at", "created_at", "ts"),
    "action": ("action", "event", "event_type", "status", "activity"),
    "visitor": ("visitor", "visitor_name", "guest", "guest_name", "name", "full_name", "guest.name", "visitor.name"),
    "visitor_id": ("visitor_id", "guest_id", "person_id"),
    "email": ("email", "visitor_email", "guest_email", "guest.email", "visitor.email"),
    "company": ("company", "organization", "organisation", "employer", "visitor_company", "guest.company",
                "visitor.company"),
    "host": ("host", "host_name", "sponsor", "visiting", "employee"),
    "host_id": ("host_id", "host_email", "sponsor_id"),
    "escort": ("escort", "escort_name"),
    "badge": ("badge", "badge_number", "badge_id", "credential", "card_number"),
    "site": ("site", "location", "location_name", "building"),
    "purpose": ("purpose", "reason", "visit_type", "purpose_of_visit"),
    "visit_id": ("visit_id", "invite_id", "appointment_id", "entry_id", "id"),
    "expected_end": ("expected_end", "expected_departure", "valid_until", "end_time"),
    "watchlist": ("watchlist", "watchlist_result", "screening", "blocklist"),
    "denied_reason": ("denied_reason", "deny_reason", "rejection_reason"),
}

_ACTIONS = {
    "preregistered": V.PRE_REGISTERED, "prereg": V.PRE_REGISTERED, "invited": V.PRE_REGISTERED,
    "invite": V.PRE_REGISTERED, "expected": V.PRE_REGISTERED, "registered": V.PRE_REGISTERED,
    "checkin": V.CHECK_IN, "checkedin": V.CHECK_IN, "signin": V.CHECK_IN, "signedin": V.CHECK_IN,
    "arrived": V.CHECK_IN, "arrival": V.CHECK_IN, "in": V.CHECK_IN,
    "checkout": V.CHECK_OUT, "checkedout": V.CHECK_OUT, "signout": V.CHECK_OUT, "signedout": V.CHECK_OUT,
    "departed": V.CHECK_OUT, "departure": V.CHECK_OUT, "out": V.CHECK_OUT,
    "badgeissued": V.BADGE_ISSUED, "badgeprinted": V.BADGE_ISSUED, "issued": V.BADGE_ISSUED,
    "badgereturned": V.BADGE_RETURNED, "returned": V.BADGE_RETURNED, "badgecollected": V.BADGE_RETURNED,
    "denied": V.DENIED, "blocked": V.DENIED, "rejected": V.DENIED, "refused": V.DENIED, "denyentry": V.DENIED,
    "overstay": V.OVERSTAY, "overstayed": V.OVERSTAY, "notcheckedout": V.OVERSTAY,
    "other": V.OTHER,
}
_VERB = {V.PRE_REGISTERED: "pre-registered", V.CHECK_IN: "checked in", V.CHECK_OUT: "checked out",
         V.BADGE_ISSUED: "badge issued", V.BADGE_RETURNED: "badge returned", V.DENIED: "denied entry",
         V.OVERSTAY: "overstay", V.OTHER: "event"}
_SEVERITY = {V.DENIED: Severity.MEDIUM, V.OVERSTAY: Severity.LOW}


def _put(attrs: dict[str, Any], path: str, value: Any) -> None:
    if value is not None and value != "":
        attrs[path] = value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


@register
class VisitorSource(TableSource, Source):
    name = "visitor"
    description = "Visitor management logs: invitations, check-in/out, badges, denials (JSON lines or CSV)"
    formats = ("JSON lines", "CSV")

    def parse(self, record: Record, context: Context) -> Iterable[Event]:
        row, fields, rest = self.picked(record, context, _FIELDS)
        for required in ("time", "action", "visitor"):
            if required not in fields:
                columns = ", ".join(k for k in row if k != "_extra")
                raise self.error(context, record, f"missing required column {required!r}; columns: {columns}")
            if fields[required] is None:
                raise self.error(context, record, f"empty {required!r}")
        activity = _ACTIONS.get(norm_key(str(fields["action"])))
        if activity is None:
            raise self.error(context, record, f"unknown action {fields['action']!r}; one of pre_registered, check_in, "
                                              "check_out, badge_issued, badge_returned, denied, overstay")
        tz = context.options.get("timezone")
        try:
            time_ms = parse_time(fields["time"], tz)
            expected_end = parse_time(fields["expected_end"], tz) if fields.get("expected_end") else None
        except ValueError as exc:
            raise self.error(context, record, f"bad time: {exc}") from None
        attrs: dict[str, Any] = {"user.type": "Visitor"}
        _put(attrs, "user.name", fields.get("visitor"))
        _put(attrs, "user.uid", _text(fields.get("visitor_id")))
        _put(attrs, "user.email_addr", fields.get("email"))
        _put(attrs, "user.org.name", fields.get("company"))
        _put(attrs, "visit.host.name", fields.get("host"))
        _put(attrs, "visit.host.uid", _text(fields.get("host_id")))
        _put(attrs, "visit.escort.name", fields.get("escort"))
        _put(attrs, "visit.uid", _text(fields.get("visit_id")))
        _put(attrs, "visit.purpose", fields.get("purpose"))
        _put(attrs, "visit.expected_end", expected_end)
        _put(attrs, "visit.watchlist_result", fields.get("watchlist"))
        _put(attrs, "credential.uid", _text(fields.get("badge")))
        _put(attrs, "location.desc", fields.get("site"))
        _put(attrs, "status_detail", fields.get("denied_reason"))
        raw = msgspec.json.encode(row).decode()
        who = fields["visitor"] + (f" ({fields['company']})" if fields.get("company") else "")
        host = f", host {fields['host']}" if fields.get("host") else ""
        badge = f", badge {attrs['credential.uid']}" if activity in (V.BADGE_ISSUED, V.BADGE_RETURNED) \
            and "credential.uid" in attrs else ""
        reason = f": {fields['denied_reason']}" if fields.get("denied_reason") else ""
        severity = _SEVERITY.get(activity, Severity.INFORMATIONAL)
        watch = str(fields.get("watchlist") or "").lower()
        if watch in ("red", "match", "hit", "blocked", "denied"):
            severity = Severity.HIGH
        unmapped = {k: v for k, v in rest.items() if v is not None and v != ""}
        return [Event(uid=event_uid(self.name, raw), time=time_ms, class_uid=int(EventClass.VISITOR_ACTIVITY),
                      activity_id=int(activity), severity_id=int(severity),
                      status_id=2 if activity == V.DENIED else 1 if activity in (V.CHECK_IN, V.CHECK_OUT) else 0,
                      message=f"visitor {_VERB[activity]}: {who}{host}{badge}{reason}",
                      source=self.name, site=context.site, attrs=attrs, unmapped=unmapped, raw=raw)]
