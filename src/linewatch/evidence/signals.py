"""Evidence that other domains produce without calling us: alerts raised, every handoff-log entry (acknowledge,
assign, close, reopen, comment, escalation), incidents (cases) opened and closed, alert routing, every change to
the plant model (the audit trail) and vulnerability findings closed or reopened. Connected by
`EvidenceConfig.ready`.

A failure to record is logged and never breaks the caller (an alert must still be raised); `record` runs in a
savepoint of the caller's transaction, so a rolled-back change leaves no evidence of itself either.
"""

from __future__ import annotations

import logging

from django.db.models.signals import post_save, pre_save

log = logging.getLogger(__name__)


def _record(site_slug: str, kind: str, body: dict, at=None) -> None:
    from linewatch.core.models import Site
    from linewatch.evidence.records import record

    if not site_slug:
        return
    try:
        record(site_slug, kind, body, at=at)
    except Site.DoesNotExist:
        return  # the site itself was just deleted (its log, kept, says so by its plant.changed entries)
    except Exception:  # evidence must not stop the product; the failure is loud in the log
        log.exception("could not record %s evidence for site %s", kind, site_slug)


def _alert_saved(sender, instance, created, raw=False, **kwargs):
    if raw or not created:
        return
    _record(instance.site_slug, "alert.raised", {
        "alert": instance.uid, "rule": instance.rule_id, "title": instance.title,
        "severity_id": instance.severity_id, "confidence": instance.confidence,
        "asset": instance.asset.name if instance.asset_id and instance.asset else None,
        "owner_team": instance.owner_team.slug if instance.owner_team_id and instance.owner_team else None,
        "cost_per_hour": instance.cost_per_hour, "safety_critical": instance.safety_critical,
        "event_uids": list(instance.event_uids or []),
    }, at=instance.time)


NOTE_KINDS = {"acknowledge": "alert.acknowledged", "assign": "alert.assigned", "close": "alert.closed",
              "reopen": "alert.reopened", "comment": "alert.commented"}


def _note_saved(sender, instance, created, raw=False, **kwargs):
    if raw or not created:
        return
    alert = instance.alert
    _record(alert.site_slug, NOTE_KINDS.get(instance.action, f"alert.{instance.action}"), {
        "alert": alert.uid, "alert_time": alert.time, "severity_id": alert.severity_id,
        "by": instance.author_name, "via": instance.via,
        "from_status": instance.from_status, "to_status": instance.to_status,
        "from_assignee": instance.from_assignee, "to_assignee": instance.to_assignee, "text": instance.text,
    }, at=instance.time)


def _case_pre_save(sender, instance, raw=False, **kwargs):
    if raw:
        return
    instance._evidence_status = sender.objects.filter(pk=instance.pk).values_list("status", flat=True).first()


def _case_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    before = getattr(instance, "_evidence_status", None)
    if created or before is None:
        kind = "incident.opened"
    elif before != instance.status:
        kind = "incident.closed" if instance.status == "closed" else "incident.reopened"
    else:
        return
    _record(instance.site_slug, kind, {
        "incident": instance.uid, "title": instance.title, "status": instance.status,
        "severity_id": instance.severity_id, "first_seen": instance.first_seen, "last_seen": instance.last_seen,
        "cost_per_hour": instance.cost_per_hour, "safety_critical": instance.safety_critical,
    }, at=instance.first_seen if kind == "incident.opened" else None)


def _routing_saved(sender, instance, created, raw=False, **kwargs):
    if raw or not created:
        return
    alert = instance.alert
    _record(alert.site_slug, "response.routed", {
        "alert": alert.uid, "sla_minutes": instance.sla_minutes, "due": instance.due,
        "ladder": [{k: rung.get(k) for k in ("team", "person")} for rung in instance.ladder or []],
        "ownership_gap": instance.ownership_gap,
    })


def _audit_saved(sender, instance, created, raw=False, **kwargs):
    if raw or not created or not instance.site_slug or instance.object_type.startswith("vulns."):
        return  # a finding's status change is recorded by _finding_saved, as vuln.finding_status
    _record(instance.site_slug, "plant.changed", {
        "audit": instance.pk, "actor": instance.actor_name, "via": instance.via, "action": instance.action,
        "object_type": instance.object_type, "object_id": instance.object_id, "object": instance.object_repr,
        "before": instance.before, "after": instance.after,
    }, at=instance.time)


def _finding_pre_save(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    instance._evidence_status = sender.objects.filter(pk=instance.pk).values_list("status", flat=True).first()


def _finding_saved(sender, instance, created, raw=False, **kwargs):
    """A vulnerability finding's status changed (mitigated, risk accepted, false positive, reopened)."""
    before = getattr(instance, "_evidence_status", None)
    if raw or created or before is None or before == instance.status:
        return
    _record(instance.site.slug, "vuln.finding_status", {
        "cve": instance.cve, "subject": instance.subject, "from": before, "to": instance.status,
        "by": instance.status_by_name, "reason": instance.status_reason, "kev": instance.kev,
    }, at=instance.status_changed)


def connect_signals() -> None:
    from linewatch.core.models import AuditEntry
    from linewatch.detect.models import Alert, AlertNote, Case
    from linewatch.response.models import Routing

    post_save.connect(_alert_saved, sender=Alert, dispatch_uid="evidence-alert")
    post_save.connect(_note_saved, sender=AlertNote, dispatch_uid="evidence-alert-note")
    pre_save.connect(_case_pre_save, sender=Case, dispatch_uid="evidence-case-pre")
    post_save.connect(_case_saved, sender=Case, dispatch_uid="evidence-case")
    post_save.connect(_routing_saved, sender=Routing, dispatch_uid="evidence-routing")
    post_save.connect(_audit_saved, sender=AuditEntry, dispatch_uid="evidence-audit")
    try:
        from linewatch.vulns.models import Finding
    except ImportError:  # pragma: no cover - vulns is an installed app
        return
    pre_save.connect(_finding_pre_save, sender=Finding, dispatch_uid="evidence-vuln-pre")
    post_save.connect(_finding_saved, sender=Finding, dispatch_uid="evidence-vuln")
