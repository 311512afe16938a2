"""OASIS Common Alerting Protocol 1.2 (urn:oasis:names:tc:emergency:cap:1.2): alerts and crisis
situation reports as CAP messages, and validation of any CAP document against the OASIS schema.

CAP is what other emergency systems (sirens, public warning, partner plants, insurers' portals)
read, so an export must validate against the schema, not just look right. The message is built
from plain dataclasses (`CapMessage`, `CapInfo`, `CapArea`) so other domains (the evidence exports)
can build one without a database; `alert_cap` and `crisis_cap` fill them from Linewatch objects.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import xml.etree.ElementTree as ET  # building only; parsing of any input goes through defusedxml
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linewatch.errors import InputError, InputErrors

CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
CAP11 = "urn:oasis:names:tc:emergency:cap:1.1"
CAP10 = "http://www.incident.com/cap/1.0"
SCHEMA_PATH = Path(__file__).with_name("schemas") / "cap12.xsd"
SITE_GEOCODE = "linewatch-site"  # the geocode valueName that names a Linewatch site

# OCSF severity_id (1 informational … 5 critical, 6 fatal) → CAP severity and urgency.
SEVERITY = {6: "Extreme", 5: "Extreme", 4: "Severe", 3: "Moderate", 2: "Minor", 1: "Minor"}
URGENCY = {6: "Immediate", 5: "Immediate", 4: "Immediate", 3: "Expected", 2: "Future", 1: "Future"}


def certainty(confidence: int) -> str:
    """Detection confidence (0–100) → CAP certainty: a rule that saw the events happen observed them."""
    if confidence >= 90:
        return "Observed"
    if confidence >= 60:
        return "Likely"
    if confidence >= 30:
        return "Possible"
    return "Unlikely"


@dataclass
class CapArea:
    """Where: a site's name and address, a circle around its coordinates, its Linewatch slug."""

    desc: str
    latitude: float | None = None
    longitude: float | None = None
    radius_km: float = 0.5
    geocodes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class CapInfo:
    event: str
    categories: list[str]
    urgency: str
    severity: str
    certainty: str
    headline: str = ""
    description: str = ""
    instruction: str = ""
    response_types: list[str] = field(default_factory=list)
    sender_name: str = ""
    contact: str = ""
    event_codes: list[tuple[str, str]] = field(default_factory=list)
    parameters: list[tuple[str, str]] = field(default_factory=list)
    onset: dt.datetime | None = None
    expires: dt.datetime | None = None
    areas: list[CapArea] = field(default_factory=list)
    language: str = "en-GB"


@dataclass
class CapMessage:
    identifier: str
    sender: str
    sent: dt.datetime
    status: str = "Actual"  # Actual | Exercise | System | Test | Draft
    msg_type: str = "Alert"  # Alert | Update | Cancel | Ack | Error
    scope: str = "Restricted"
    restriction: str = "Security operations and crisis staff of the organisation"
    source: str = "Linewatch"
    note: str = ""
    references: list[tuple[str, str, dt.datetime]] = field(default_factory=list)  # (sender, identifier, sent)
    incidents: list[str] = field(default_factory=list)
    infos: list[CapInfo] = field(default_factory=list)


def cap_time(value: dt.datetime) -> str:
    """CAP's dateTime: seconds and a numeric offset, never "Z" (the schema's pattern forbids it)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat()


def cap_token(text: str) -> str:
    """Identifiers and senders may not hold spaces, commas, '<' or '&' (CAP 1.2 §3.2.1)."""
    return "".join(c if c.isalnum() or c in "-_.:@" else "-" for c in text)


def to_xml(message: CapMessage) -> bytes:
    """The message as CAP 1.2 XML, elements in the schema's order."""
    ET.register_namespace("", CAP12)

    def sub(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
        el = ET.SubElement(parent, f"{{{CAP12}}}{name}")
        if text is not None:
            el.text = text
        return el

    root = ET.Element(f"{{{CAP12}}}alert")
    sub(root, "identifier", cap_token(message.identifier))
    sub(root, "sender", cap_token(message.sender))
    sub(root, "sent", cap_time(message.sent))
    sub(root, "status", message.status)
    sub(root, "msgType", message.msg_type)
    if message.source:
        sub(root, "source", message.source)
    sub(root, "scope", message.scope)
    if message.scope == "Restricted":
        sub(root, "restriction", message.restriction)
    if message.note:
        sub(root, "note", message.note)
    if message.references:
        sub(root, "references", " ".join(f"{cap_token(s)},{cap_token(i)},{cap_time(t)}"
                                         for s, i, t in message.references))
    if message.incidents:
        sub(root, "incidents", " ".join(cap_token(i) for i in message.incidents))
    for info in message.infos:
        el = sub(root, "info")
        sub(el, "language", info.language)
        for category in info.categories:
            sub(el, "category", category)
        sub(el, "event", info.event)
        for response in info.response_types:
            sub(el, "responseType", response)
        sub(el, "urgency", info.urgency)
        sub(el, "severity", info.severity)
        sub(el, "certainty", info.certainty)
        for name, value in info.event_codes:
            code = sub(el, "eventCode")
            sub(code, "valueName", name)
            sub(code, "value", value)
        if info.onset:
            sub(el, "onset", cap_time(info.onset))
        if info.expires:
            sub(el, "expires", cap_time(info.expires))
        for name, text in (("senderName", info.sender_name), ("headline", info.headline[:160]),
                           ("description", info.description), ("instruction", info.instruction),
                           ("contact", info.contact)):
            if text:
                sub(el, name, text)
        for name, value in info.parameters:
            parameter = sub(el, "parameter")
            sub(parameter, "valueName", name)
            sub(parameter, "value", value)
        for area in info.areas:
            a = sub(el, "area")
            sub(a, "areaDesc", area.desc)
            if area.latitude is not None and area.longitude is not None:
                sub(a, "circle", f"{area.latitude:.6f},{area.longitude:.6f} {area.radius_km:g}")
            for name, value in area.geocodes:
                code = sub(a, "geocode")
                sub(code, "valueName", name)
                sub(code, "value", value)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


# ---------------------------------------------------------------- validation


@functools.cache
def _schema():
    import xmlschema

    return xmlschema.XMLSchema(str(SCHEMA_PATH))


def cap_version(xml: bytes, source: str = "CAP") -> str:
    """"1.2", "1.1" or "1.0" from the root's namespace; bad XML or another document is an InputError."""
    from defusedxml import ElementTree as SafeET
    from defusedxml.common import DefusedXmlException

    try:
        root = SafeET.fromstring(xml)
    except SafeET.ParseError as exc:
        line, column = exc.position
        raise InputError(source, f"line {line}, column {column}", f"not well-formed XML: {exc}") from None
    except DefusedXmlException as exc:
        raise InputError(source, "", f"refused: {exc}") from None
    namespace, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    if local != "alert":
        raise InputError(source, "/", f"not a CAP message: the root element is <{local}>")
    versions = {CAP12: "1.2", CAP11: "1.1", CAP10: "1.0"}
    if namespace not in versions:
        raise InputError(source, "/alert", f"not a CAP message: unknown namespace {namespace!r}")
    return versions[namespace]


def cap_errors(xml: bytes, source: str = "CAP") -> list[InputError]:
    """Every reason the document is not a valid CAP 1.2 message (empty when it is one)."""
    try:
        version = cap_version(xml, source)
    except InputError as exc:
        return [exc]
    if version != "1.2":
        return [InputError(source, "/alert", f"CAP {version} message: only CAP 1.2 is accepted")]
    import xmlschema

    resource = xmlschema.XMLResource(xml.decode("utf-8", "replace"), defuse="always")
    errors = []
    for err in _schema().iter_errors(resource):
        place = err.path or ""
        line = getattr(err, "sourceline", None)
        if line:
            place = f"line {line} {place}".strip()
        errors.append(InputError(source, place, err.reason or str(err.message)))
    return errors


def validate_cap(xml: bytes, source: str = "CAP") -> None:
    """Raise InputErrors naming every place where `xml` breaks the CAP 1.2 schema."""
    errors = cap_errors(xml, source)
    if errors:
        raise InputErrors(errors)


# ---------------------------------------------------------------- Linewatch objects → CAP


def sender_of(organisation_slug: str) -> str:
    return os.environ.get("LINEWATCH_CAP_SENDER") or f"linewatch@{organisation_slug or 'localhost'}"


def site_area(site: Any) -> CapArea:
    """A site as a CAP area: name and address, a 500 m circle when the coordinates are known."""
    desc = f"{site.name}, {site.address}" if getattr(site, "address", "") else site.name
    return CapArea(desc=desc, latitude=site.latitude, longitude=site.longitude,
                   geocodes=[(SITE_GEOCODE, site.slug)])


def _money(value: float) -> str:
    return f"{value:.2f}"


def consequence_parameters(consequence: dict) -> list[tuple[str, str]]:
    """The consequence as CAP parameters: each line at stake, cost per hour, trucks, perishables."""
    params: list[tuple[str, str]] = []
    for line in consequence.get("lines", []):
        if line.get("status") in ("stopped", "degraded"):
            params.append(("linewatch-line", f"{line['line']}: {line['status']}, "
                                             f"{_money(line.get('cost_per_hour', 0))}/h"))
    if consequence:
        currency = consequence.get("currency", "EUR")
        params += [("linewatch-cost-per-hour", f"{_money(consequence.get('cost_per_hour', 0))} {currency}"),
                   ("linewatch-trucks-per-day", f"{consequence.get('trucks_per_day', 0):g}"),
                   ("linewatch-perishable-value-at-risk",
                    f"{_money(consequence.get('perishable_value_at_risk', 0))} {currency}")]
        if consequence.get("hours_to_first_spoilage") is not None:
            params.append(("linewatch-hours-to-first-spoilage", f"{consequence['hours_to_first_spoilage']:g}"))
        params.append(("linewatch-safety-critical", "yes" if consequence.get("safety_critical") else "no"))
    return params


def alert_message(alert: Any, *, exercise: bool = False) -> CapMessage:
    """A detection alert as a CAP message: Security (and Infra when a line is at stake), urgency
    and severity from its severity, certainty from the rule's confidence, the site as the area."""
    from linewatch.core.models import Site

    finding = alert.finding or {}
    consequence = finding.get("unmapped", {}).get("consequence", {}) or {}
    owner = finding.get("unmapped", {}).get("owner", {}) or {}
    site = Site.objects.filter(slug=alert.site_slug).select_related("organisation").first()
    lines_at_stake = [li for li in consequence.get("lines", []) if li.get("status") in ("stopped", "degraded")]
    categories = ["Security"] + (["Infra"] if lines_at_stake else [])
    accountable = ", ".join(t["name"] for t in owner.get("accountable", [])) or "no accountable owner"
    params = [(SITE_GEOCODE, alert.site_slug)] if alert.site_slug else []
    if alert.asset_id:
        params.append(("linewatch-asset", alert.asset.name))
    params += consequence_parameters(consequence)
    params.append(("linewatch-accountable-team", accountable))
    closed = alert.status == "closed"
    description = finding.get("finding_info", {}).get("desc") or alert.title
    info = CapInfo(
        event=alert.title, categories=categories,
        urgency="Past" if closed else URGENCY.get(alert.severity_id, "Unknown"),
        severity=SEVERITY.get(alert.severity_id, "Unknown"), certainty=certainty(alert.confidence),
        headline=f"{'EXERCISE: ' if exercise else ''}{alert.title}", description=description,
        instruction=f"Accountable: {accountable}. Acknowledge the alert in Linewatch to stop the escalation.",
        response_types=["AllClear"] if closed else ["Assess"], sender_name="Linewatch",
        event_codes=[("linewatch-rule", alert.rule_id)], parameters=params, onset=alert.time,
        areas=[site_area(site)] if site else [CapArea(desc=alert.site_slug or "unknown site")],
    )
    org = site.organisation.slug if site else ""
    return CapMessage(identifier=f"linewatch.alert.{alert.uid}", sender=sender_of(org), sent=alert.time,
                      status="Exercise" if exercise else "Actual", msg_type="Update" if closed else "Alert",
                      incidents=[f"linewatch.case.{alert.case_id}"] if alert.case_id else [], infos=[info])


def alert_cap(alert: Any, *, exercise: bool = False) -> bytes:
    """CAP 1.2 XML for an alert (the builder the evidence exports call)."""
    return to_xml(alert_message(alert, exercise=exercise))


CRISIS_CATEGORY = {"cyber": ["Security"], "physical": ["Security", "Safety"], "natural": ["Geo", "Met", "Safety"],
                   "infrastructure": ["Infra"]}
PHASE_URGENCY = {"monitoring": "Expected", "mobilisation": "Immediate", "handling": "Immediate",
                 "recovery": "Past", "closed": "Past"}
PHASE_RESPONSE = {"monitoring": "Monitor", "mobilisation": "Execute", "handling": "Execute",
                  "recovery": "Assess", "closed": "AllClear"}
STATE_SEVERITY = {"down": "Severe", "degraded": "Moderate", "operational": "Minor", "unconfirmed": "Unknown"}


def crisis_message(crisis: Any, now: dt.datetime | None = None, sites: Any = None) -> CapMessage:
    """A situation report of a crisis: one <info> per site with its confirmed status, capacity,
    roll-call tallies and runbook progress. It updates (references) the declaration; a drill is
    status Exercise; a closed crisis says AllClear. `sites` limits it to the sites a reader may see."""
    from django.utils import timezone

    from linewatch.resilience import services

    now = now or timezone.now()
    chosen = crisis.sites.select_related("organisation").order_by("slug")
    sites = list(chosen.filter(pk__in=sites) if sites is not None else chosen)
    org = sites[0].organisation.slug if sites else ""
    sender = sender_of(org)
    declaration = f"linewatch.crisis.{crisis.uid}"
    board = {row["site"].pk: row for row in services.status_board(sites)}
    roll_calls = {rc.site_id: rc for rc in crisis.roll_calls.all()}
    runs = list(crisis.runbook_runs.select_related("runbook"))
    infos = []
    for site in sites:
        row = board[site.pk]
        status = row["status"]
        params = [(SITE_GEOCODE, site.slug), ("linewatch-crisis-phase", crisis.phase),
                  ("linewatch-site-status", row["state"])]
        if status is not None:
            params += [("linewatch-capacity-percent", str(status.capacity)),
                       ("linewatch-status-confirmed", f"{cap_time(status.time)} by {status.by}")]
            if status.reason:
                params.append(("linewatch-status-reason", status.reason))
        if rc := roll_calls.get(site.pk):
            counts = services.tally(rc)
            params += [(f"linewatch-rollcall-{k.replace('_', '-')}", str(v)) for k, v in counts.items()]
        for run in (r for r in runs if r.runbook.site_id == site.pk):
            progress = services.run_progress(run, now)
            params.append(("linewatch-runbook", f"{run.runbook.title}: {progress['done']}/{progress['total']} "
                                                f"steps done, {progress['overdue']} overdue"))
        capacity = f", {status.capacity}% capacity" if status is not None else ""
        infos.append(CapInfo(
            event=crisis.title, categories=CRISIS_CATEGORY.get(crisis.kind, ["Other"]),
            urgency=PHASE_URGENCY.get(crisis.phase, "Unknown"), severity=STATE_SEVERITY[row["state"]],
            certainty="Observed", response_types=[PHASE_RESPONSE.get(crisis.phase, "None")],
            headline=f"{'EXERCISE: ' if crisis.exercise else ''}{site.name} {row['state']}{capacity}",
            description=crisis.description or crisis.title, sender_name="Linewatch",
            event_codes=[("linewatch-crisis-kind", crisis.kind)], parameters=params, onset=crisis.declared,
            areas=[site_area(site)]))
    closed = crisis.phase == "closed"
    return CapMessage(
        identifier=f"{declaration}.sitrep.{int(now.timestamp())}", sender=sender, sent=now,
        status="Exercise" if crisis.exercise else "Actual", msg_type="Update",
        note=f"Situation report, phase {crisis.phase}" + (" (crisis closed)" if closed else ""),
        references=[(sender, declaration, crisis.declared)], incidents=[declaration], infos=infos)


def declaration_message(crisis: Any) -> CapMessage:
    """The crisis declaration itself (msgType Alert), which situation reports reference."""
    message = crisis_message(crisis, now=crisis.declared)
    message.identifier = f"linewatch.crisis.{crisis.uid}"
    message.msg_type = "Alert"
    message.references = []
    message.note = "Crisis declared"
    return message


def crisis_cap(crisis: Any, now: dt.datetime | None = None, sites: Any = None) -> bytes:
    """CAP 1.2 XML of a crisis situation report (the builder the evidence exports call)."""
    return to_xml(crisis_message(crisis, now, sites))
