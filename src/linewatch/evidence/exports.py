"""Standard exports of a site's incidents and alerts for a period: STIX 2.1 bundles (Incident with the OASIS
incident-core extension, built with `stix2`), VERIS-style JSON, CSV for spreadsheets, and CAP 1.2 for alerts and
crisis situation reports (built by `linewatch.resilience.cap`, the one CAP builder).

Incidents are the site's cases (detect: related alerts handled as one) and the incident reports guards filed
(patrols, read from the evidence ledger), each carrying the ledger entries that back it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any

from linewatch.core.choices import ASSET_KIND_DOMAIN, Domain
from linewatch.core.models import Site
from linewatch.evidence.models import Entry

FORMATS = ("stix", "veris", "csv", "cap")
INCIDENT_CORE = "extension-definition--ef765651-680c-498d-9894-99799f2fa126"
NAMESPACE = uuid.UUID("6d0c1a52-3f0e-4b39-9a7e-2b1f6f2d8c11")  # stable STIX ids from Linewatch uids
SEVERITY = {0: "unknown", 1: "informational", 2: "low", 3: "medium", 4: "high", 5: "critical", 6: "fatal"}
REPORT_SEVERITY = {"low": 2, "medium": 3, "high": 4, "critical": 5}


@dataclass
class Action:
    time: dt.datetime
    by: str
    action: str
    text: str = ""


@dataclass
class IncidentView:
    """One incident, whichever domain it came from, in the terms every export needs."""

    uid: str
    site: str
    source: str  # "case" or "guard-report"
    title: str
    description: str
    severity_id: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    closed: dt.datetime | None
    physical: bool
    safety_critical: bool = False
    cost_per_hour: float = 0.0
    alerts: list[dict[str, Any]] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)
    ledger: list[int] = field(default_factory=list)

    @property
    def acknowledged(self) -> dt.datetime | None:
        times = [a.time for a in self.actions if a.action in ("acknowledge", "reopen")]
        return min(times) if times else None


def _aware(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def incidents(site: Site, since: dt.datetime, until: dt.datetime) -> list[IncidentView]:
    """Cases first seen in [since, until) and guard incident reports recorded for that time."""
    from linewatch.detect.models import Case

    found: list[IncidentView] = []
    ledger_alerts: dict[str, int] = {}
    for seq, alert_uid in Entry.objects.filter(log__site_slug=site.slug, kind="alert.raised").values_list(
            "seq", "canonical"):
        ledger_alerts[json.loads(alert_uid)["body"].get("alert")] = seq
    for case in Case.objects.filter(site_slug=site.slug, first_seen__gte=since, first_seen__lt=until) \
            .prefetch_related("alerts__notes", "alerts__asset").order_by("first_seen"):
        alerts = list(case.alerts.all())
        actions = sorted((Action(n.time, n.author_name, n.action, n.text) for a in alerts for n in a.notes.all()),
                         key=lambda a: a.time)
        closes = [a.time for a in actions if a.action == "close"]
        domains = {str((a.finding or {}).get("unmapped", {}).get("domain", "")) for a in alerts}
        found.append(IncidentView(
            uid=case.uid, site=site.slug, source="case", title=case.title,
            description="; ".join(a.title for a in alerts)[:2000], severity_id=case.severity_id,
            first_seen=case.first_seen, last_seen=case.last_seen,
            closed=max(closes) if case.status == "closed" and closes else None,
            physical="physical" in domains or any(
                a.asset and ASSET_KIND_DOMAIN.get(a.asset.kind) == Domain.PHYSICAL for a in alerts),
            safety_critical=case.safety_critical, cost_per_hour=case.cost_per_hour,
            alerts=[{"uid": a.uid, "title": a.title, "rule": a.rule_id, "time": a.time,
                     "asset": a.asset.name if a.asset else None} for a in alerts],
            actions=actions, ledger=sorted(ledger_alerts[a.uid] for a in alerts if a.uid in ledger_alerts),
        ))
    for entry in Entry.objects.filter(log__site_slug=site.slug, kind="patrol.incident_report",
                                      time__gte=since, time__lt=until).order_by("seq"):
        body = entry.body
        when = _aware(body["when"]) if isinstance(body.get("when"), str) else entry.time
        found.append(IncidentView(
            uid=str(body.get("report")), site=site.slug, source="guard-report",
            title=f"{body.get('category', 'incident')} at {body.get('where', '')}",
            description=str(body.get("what", ""))[:4000],
            severity_id=REPORT_SEVERITY.get(str(body.get("severity")), 0), first_seen=when, last_seen=when,
            closed=None, physical=True,
            actions=[Action(when, str(body.get("guard", "")), "report", str(body.get("actions", "")))],
            photos=[p["sha256"] for p in body.get("photos", []) if isinstance(p, dict) and "sha256" in p],
            ledger=[entry.seq],
        ))
    return found


# -- STIX 2.1 ---------------------------------------------------------------------------------------------------


def _sid(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, '/'.join(parts))}"


def stix_bundle(items: list[IncidentView], organisation: str) -> str:
    """A STIX 2.1 bundle: the reporting organisation (identity), one Incident per incident with the incident-core
    extension, photos as File observables related to their incident, and the handoff log as Notes."""
    import stix2

    identity = stix2.Identity(id=_sid("identity", organisation), name=organisation, identity_class="organization",
                              sectors=["manufacturing"], allow_custom=False)
    objects: list[Any] = [identity]
    for inc in items:
        status = "closed" if inc.closed else ("open" if inc.actions else "new")
        activities = [{"type": "detected", "time": _stix_time(inc.first_seen)}]
        if inc.acknowledged:
            activities.append({"type": "declared", "time": _stix_time(inc.acknowledged)})
        if inc.closed:
            activities.append({"type": "recovery-completed", "time": _stix_time(inc.closed)})
        extension = {
            "extension_type": "property-extension",
            "determination": "suspected" if not inc.closed else "confirmed",
            "investigation_status": status,
            "detection_methods": ["automated-tool"] if inc.source == "case" else ["human-review"],
            "incident_types": ["physical" if inc.physical else "cyber"],
            "defender_activities": activities,
        }
        incident = stix2.Incident(
            id=_sid("incident", inc.site, inc.uid), created_by_ref=identity.id,
            created=inc.first_seen, modified=max([inc.last_seen, *(a.time for a in inc.actions)]),
            name=inc.title[:250] or inc.uid, description=inc.description or inc.title,
            labels=[f"severity:{SEVERITY.get(inc.severity_id, 'unknown')}", f"source:{inc.source}"],
            external_references=[{"source_name": "linewatch", "external_id": inc.uid,
                                  "description": f"site {inc.site}; evidence ledger entries "
                                                 f"{', '.join(map(str, inc.ledger)) or 'none'}"}],
            extensions={INCIDENT_CORE: extension}, allow_custom=True,
        )
        objects.append(incident)
        for digest in inc.photos:
            photo = stix2.File(hashes={"SHA-256": digest}, name=f"{digest}.jpg", mime_type="image/jpeg")
            objects += [photo, stix2.Relationship(source_ref=incident.id, target_ref=photo.id,
                                                  relationship_type="related-to", created_by_ref=identity.id)]
        for n, action in enumerate(inc.actions):
            objects.append(stix2.Note(
                id=_sid("note", inc.site, inc.uid, str(n)), created_by_ref=identity.id, created=action.time,
                modified=action.time, abstract=f"{action.action} by {action.by}",
                content=action.text or action.action, authors=[action.by or "system"], object_refs=[incident.id]))
    bundle = stix2.Bundle(objects=objects, allow_custom=True)
    return bundle.serialize(pretty=True)


def _stix_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# -- VERIS ------------------------------------------------------------------------------------------------------


def veris(items: list[IncidentView], organisation: str) -> list[dict[str, Any]]:
    """VERIS 1.3-style incident records (vz-risk/veris field names): timeline, victim, actions, assets,
    discovery and the Linewatch references (plus the evidence ledger entries) in `plus`."""
    out = []
    for inc in items:
        t = inc.first_seen.astimezone(dt.UTC)
        action = ({"physical": {"variety": ["Unknown"], "vector": ["Unknown"], "location": ["Victim work area"],
                                "notes": inc.description[:1000]}} if inc.physical
                  else {"Unknown": {"notes": inc.description[:1000]}})
        assets = [{"variety": "U - Other", "amount": 1}] if not inc.alerts else [
            {"variety": "U - Other", "amount": len({a["asset"] for a in inc.alerts if a["asset"]}) or 1}]
        record: dict[str, Any] = {
            "schema_version": "1.3.7",
            "incident_id": str(uuid.uuid5(NAMESPACE, f"{inc.site}/{inc.uid}")).upper(),
            "source_id": "linewatch",
            "reference": f"linewatch:{inc.source}:{inc.uid}",
            "security_incident": "Confirmed" if inc.closed else "Suspected",
            "confidence": "Medium",
            "summary": inc.title,
            "timeline": {"incident": {"year": t.year, "month": t.month, "day": t.day,
                                      "time": t.strftime("%H:%M:%S")}},
            "victim": {"victim_id": organisation, "industry": "31", "locations_affected": 1},
            "action": action,
            "asset": {"assets": assets},
            "attribute": {"availability": {"variety": ["Interruption"]}} if inc.cost_per_hour else {},
            "discovery_method": {"internal": {"variety": ["Security alarm" if inc.source == "case"
                                                          else "Reported by employee"]}},
            "impact": {"overall_rating": "Unknown"},
            "plus": {"linewatch": {"site": inc.site, "severity": SEVERITY.get(inc.severity_id, "unknown"),
                                   "first_seen": inc.first_seen.isoformat(),
                                   "closed": inc.closed.isoformat() if inc.closed else None,
                                   "cost_per_hour": inc.cost_per_hour, "safety_critical": inc.safety_critical,
                                   "photos_sha256": inc.photos, "ledger_entries": inc.ledger}},
        }
        if inc.acknowledged:
            record["timeline"]["discovery"] = {"unit": "Minutes", "value": round(
                (inc.acknowledged - inc.first_seen).total_seconds() / 60, 1)}
        if inc.closed:
            record["timeline"]["containment"] = {"unit": "Minutes", "value": round(
                (inc.closed - inc.first_seen).total_seconds() / 60, 1)}
        out.append(record)
    return out


# -- CSV --------------------------------------------------------------------------------------------------------

CSV_COLUMNS = ("uid", "site", "source", "title", "severity", "status", "first_seen", "acknowledged", "closed",
               "minutes_to_acknowledge", "minutes_to_close", "alerts", "photos", "cost_per_hour",
               "safety_critical", "ledger_entries")


def csv_text(items: list[IncidentView]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)

    def minutes(end: dt.datetime | None, start: dt.datetime) -> str:
        return f"{(end - start).total_seconds() / 60:.1f}" if end else ""

    for inc in items:
        writer.writerow([
            inc.uid, inc.site, inc.source, _cell(inc.title), SEVERITY.get(inc.severity_id, "unknown"),
            "closed" if inc.closed else "open", inc.first_seen.isoformat(),
            inc.acknowledged.isoformat() if inc.acknowledged else "", inc.closed.isoformat() if inc.closed else "",
            minutes(inc.acknowledged, inc.first_seen), minutes(inc.closed, inc.first_seen), len(inc.alerts),
            " ".join(inc.photos), f"{inc.cost_per_hour:.2f}", "yes" if inc.safety_critical else "no",
            " ".join(map(str, inc.ledger)),
        ])
    return buffer.getvalue()


def _cell(text: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# -- CAP 1.2 ----------------------------------------------------------------------------------------------------


def cap_messages(site: Site, since: dt.datetime, until: dt.datetime) -> dict[str, bytes]:
    """CAP 1.2 XML per alert raised at the site in the period, and per crisis situation report touching the site,
    each validated against the CAP 1.2 schema before it leaves. Needs `linewatch.resilience.cap`."""
    from linewatch.detect.models import Alert
    from linewatch.resilience import cap

    files: dict[str, bytes] = {}
    for alert in Alert.objects.filter(site_slug=site.slug, time__gte=since, time__lt=until).order_by("time"):
        xml = cap.alert_cap(alert)
        cap.validate_cap(xml, f"alert {alert.uid}")
        files[f"alert-{alert.uid}.xml"] = xml
    try:
        from linewatch.resilience.models import Crisis

        crises = Crisis.objects.filter(sites=site).distinct()
    except ImportError:  # pragma: no cover - resilience is an installed app
        crises = []
    for crisis in crises:
        xml = cap.crisis_cap(crisis)
        cap.validate_cap(xml, f"crisis {crisis.pk}")
        files[f"sitrep-crisis-{crisis.pk}.xml"] = xml
    return files


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            zf.writestr(name, data)
    return buffer.getvalue()


def export(site: Site, fmt: str, since: dt.datetime, until: dt.datetime) -> tuple[bytes, str, str]:
    """The export as (content, media type, file name)."""
    org = site.organisation.name
    stem = f"{site.slug}-{since:%Y%m%d}-{until:%Y%m%d}"
    if fmt == "stix":
        return stix_bundle(incidents(site, since, until), org).encode(), "application/stix+json", f"{stem}.stix.json"
    if fmt == "veris":
        return (json.dumps(veris(incidents(site, since, until), org), indent=2) + "\n").encode(), \
            "application/json", f"{stem}.veris.json"
    if fmt == "csv":
        return csv_text(incidents(site, since, until)).encode(), "text/csv", f"{stem}.csv"
    if fmt == "cap":
        return zip_of(cap_messages(site, since, until)), "application/zip", f"{stem}.cap.zip"
    from linewatch.errors import InputError

    raise InputError("--format", fmt, f"one of {', '.join(FORMATS)}")
