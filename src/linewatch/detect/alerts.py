"""From a rule match to an alert that says which line stops, what it costs and whose it is.

Enrichment reads the plant model through cached indexes (`services.asset_index`,
`services.plant_graph`), so it costs microseconds per alert, not queries per event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from linewatch.core import services
from linewatch.core.models import Asset, Site
from linewatch.detect.detection import Detection
from linewatch.events.schema import Event, EventClass, Severity, event_uid

LEVEL_SEVERITY = {"informational": Severity.INFORMATIONAL, "low": Severity.LOW, "medium": Severity.MEDIUM,
                  "high": Severity.HIGH, "critical": Severity.CRITICAL}

# Where an event names the device a detection is about, most specific first: the target of a
# connection, then the reporting device, then the source.
TARGET_PATHS = ("dst_endpoint.ip", "device.ip", "device.hostname", "device.name", "dst_endpoint.hostname",
                "device.asset.name", "src_endpoint.ip", "src_endpoint.hostname")
COSTLY_PER_HOUR = 50_000.0
ACTOR_PATHS = ("actor.user.name", "user.name", "actor.user.uid")


def severity(level: str, consequence: dict[str, Any], confidence: int) -> int:
    """The rule's level, raised by what is at stake and lowered by doubt.

    Safety-critical involvement makes any detection critical; a stopped line makes a medium or
    higher detection at least high; stakes above COSTLY_PER_HOUR raise it one step; confidence
    under 50 lowers it one step.
    """
    value = int(LEVEL_SEVERITY.get(level, Severity.MEDIUM))
    stopped = any(li["status"] == "stopped" for li in consequence.get("lines", []))
    if stopped and value >= Severity.MEDIUM:
        value = max(value, Severity.HIGH)
    if consequence.get("cost_per_hour", 0) >= COSTLY_PER_HOUR:
        value += 1
    if confidence < 50:
        value -= 1
    if consequence.get("safety_critical"):
        value = Severity.CRITICAL
    return max(Severity.INFORMATIONAL, min(value, Severity.CRITICAL))


def target_asset(events: Sequence[Event]) -> services.AssetRef | None:
    index = services.asset_index()
    for path in TARGET_PATHS:
        for event in events:
            ref = index.lookup(event.attrs.get(path, ""), event.site)
            if ref is not None:
                return ref
    return None


def build_finding(detection: Detection) -> dict[str, Any]:
    """The detection as an OCSF Detection Finding, with Linewatch's consequence and owner."""
    events = list(detection.events)
    ref = target_asset(events)
    consequence: dict[str, Any] = {}
    owner: dict[str, Any] = {}
    site = next((e.site for e in events if e.site), "")
    if ref is not None:
        asset = Asset.objects.select_related("site__organisation").get(pk=ref.id)
        site = asset.site.slug
        consequence = services.consequence_as_dict(services.consequence([asset]),
                                                   asset.site.organisation.currency)
        owners = services.owners_of(asset)
        owner = {role: [{"slug": t.slug, "name": t.name, "email": t.email} for t in teams]
                 for role, teams in owners.teams.items()}
    actor_name = next((e.attrs[p] for e in events for p in ACTOR_PATHS if e.attrs.get(p)), None)
    actor = (services.describe_person(str(actor_name), site) or {"name": str(actor_name)}) if actor_name else None
    times = sorted(e.time for e in events) or [0]
    sev = severity(detection.level, consequence, detection.confidence)
    uid = event_uid("alert", detection.rule_id, *sorted(e.uid for e in events))
    return {
        "class_uid": int(EventClass.DETECTION_FINDING), "category_uid": 2, "activity_id": 1,
        "type_uid": int(EventClass.DETECTION_FINDING) * 100 + 1, "time": times[-1], "severity_id": sev,
        "confidence_score": detection.confidence, "is_alert": True, "status_id": 1,
        "metadata": {"uid": uid, "version": "1.5.0", "product": {"name": "Linewatch", "vendor_name": "Linewatch"}},
        "finding_info": {
            "uid": uid, "title": detection.title, "desc": detection.description,
            "analytic": {"uid": detection.rule_id, "name": detection.title, "type_id": 1, "type": "Rule"},
            "attacks": [{"technique": {"uid": t.split(".")[-1].upper()}} for t in detection.tags
                        if t.lower().startswith("attack.t")],
            "first_seen_time": times[0], "last_seen_time": times[-1], "related_events_count": len(events),
        },
        "evidences": [{"data": {"uid": e.uid, "class_uid": e.class_uid, "source": e.source}} for e in events[:20]],
        "resources": [{"uid": str(ref.id), "name": ref.name, "type": ref.kind, "zone": ref.zone,
                       "criticality": ref.criticality}] if ref else [],
        "unmapped": {"site": site, "consequence": consequence, "owner": owner,
                     **({"actor": actor} if actor else {})},
    }


def record_alert(detection: Detection):
    """Store the alert once: the same rule on the same events is the same alert."""
    from linewatch.core.models import Team
    from linewatch.detect.models import Alert

    finding = build_finding(detection)
    extra = finding["unmapped"]
    consequence = extra["consequence"]
    accountable = extra["owner"].get("accountable", [])
    team = None
    if accountable and extra["site"]:
        site = Site.objects.filter(slug=extra["site"]).select_related("organisation").first()
        if site:
            team = Team.objects.filter(organisation=site.organisation, slug=accountable[0]["slug"]).first()
    resources = finding["resources"]
    with transaction.atomic():
        alert, created = Alert.objects.get_or_create(uid=finding["metadata"]["uid"], defaults={
            "time": dt.datetime.fromtimestamp(finding["time"] / 1000, dt.UTC),
            "rule_id": detection.rule_id, "title": detection.title[:300], "severity_id": finding["severity_id"],
            "confidence": detection.confidence, "site_slug": extra["site"],
            "asset_id": int(resources[0]["uid"]) if resources else None, "owner_team": team,
            "cost_per_hour": consequence.get("cost_per_hour", 0.0),
            "safety_critical": bool(consequence.get("safety_critical")),
            "event_uids": [e.uid for e in detection.events], "finding": finding,
        })
        if created:
            from linewatch.detect.cases import assign_case
            from linewatch.response.routing import open_routing

            assign_case(alert)
            open_routing(alert)
    return alert, created
