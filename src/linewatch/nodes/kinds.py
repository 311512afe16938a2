"""The records the node set forwards out of the box: events, alerts and the alerts' handoff notes.

Events are queued by `events.store.store_events` (bulk writes send no signals); alerts and notes by signals. On
the receiving node an event is stored with its `origin` (the detection worker leaves it alone: the plant that
recorded it has already detected on it, alerted and notified), an alert takes the sender's latest state, and a
note is kept once per (alert, time, action, author).
"""

from __future__ import annotations

import datetime as dt

import msgspec
from django.contrib.auth import get_user_model
from django.db.models.signals import post_save

from linewatch.nodes.replication import Replicator, append, queuing, register, upsert


def _event_apply(site: str, key: str, body: dict, origin: str) -> bool:
    from linewatch.events.schema import Event
    from linewatch.events.store import store_events

    event = msgspec.convert(body, Event)
    if event.uid != key:
        raise ValueError(f"event record {key} holds event {event.uid}")
    return bool(store_events([event], origin=origin).stored)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def alert_state(alert) -> dict:
    """An alert as the next node needs it: plain values, relations by their natural keys."""
    return {
        "uid": alert.uid, "time": _iso(alert.time), "rule_id": alert.rule_id, "title": alert.title,
        "severity_id": alert.severity_id, "confidence": alert.confidence, "site": alert.site_slug,
        "asset": alert.asset.name if alert.asset_id else None,
        "owner_team": alert.owner_team.slug if alert.owner_team_id else None,
        "assigned_team": alert.assigned_team.slug if alert.assigned_team_id else None,
        "assignee": alert.assignee.get_username() if alert.assignee_id else None,
        "status": alert.status, "status_changed": _iso(alert.status_changed),
        "cost_per_hour": alert.cost_per_hour, "safety_critical": alert.safety_critical,
        "event_uids": alert.event_uids, "finding": alert.finding,
    }


def _alert_apply(site: str, key: str, body: dict, origin: str) -> bool:
    from linewatch.core.models import Asset, Site, Team
    from linewatch.detect.models import Alert

    site_obj = Site.objects.filter(slug=site).select_related("organisation").first()

    def team(slug: str | None):
        if not slug or site_obj is None:
            return None
        return Team.objects.filter(organisation=site_obj.organisation, slug=slug).first()

    values = {
        "time": _time(body["time"]), "rule_id": body["rule_id"], "title": body["title"],
        "severity_id": body["severity_id"], "confidence": body["confidence"], "site_slug": site,
        "asset": Asset.objects.filter(site=site_obj, name=body["asset"]).first() if body.get("asset") else None,
        "owner_team": team(body.get("owner_team")), "assigned_team": team(body.get("assigned_team")),
        "assignee": (get_user_model().objects.filter(username=body["assignee"]).first()
                     if body.get("assignee") else None),
        "status": body["status"], "status_changed": _time(body.get("status_changed")),
        "cost_per_hour": body["cost_per_hour"], "safety_critical": body["safety_critical"],
        "event_uids": body["event_uids"], "finding": body["finding"],
    }
    return upsert(Alert, {"uid": key}, values)


def note_key(note) -> str:
    return f"{note.alert_id}|{note.time.isoformat()}|{note.action}|{note.author_name}"


def _note_apply(site: str, key: str, body: dict, origin: str) -> bool:
    from linewatch.detect.models import Alert, AlertNote

    alert = Alert.objects.filter(uid=body["alert"]).first()
    if alert is None:
        raise ValueError(f"note {key} is about alert {body['alert']}, which this node does not have")
    _, created = AlertNote.objects.get_or_create(
        alert=alert, time=_time(body["time"]), action=body["action"], author_name=body["author_name"],
        defaults={"via": body["via"], "from_status": body["from_status"], "to_status": body["to_status"],
                  "from_assignee": body["from_assignee"], "to_assignee": body["to_assignee"], "text": body["text"],
                  "author": get_user_model().objects.filter(username=body["author_name"]).first()})
    return created


def _on_alert_saved(sender, instance, **kwargs) -> None:
    if not queuing():
        return
    append("alert", [(instance.site_slug, instance.uid, alert_state(instance))])


def _on_note_saved(sender, instance, created: bool, **kwargs) -> None:
    if created and queuing():
        append("alert-note", [(instance.alert.site_slug, note_key(instance), {
            "alert": instance.alert_id, "time": instance.time.isoformat(), "action": instance.action,
            "author_name": instance.author_name, "via": instance.via, "from_status": instance.from_status,
            "to_status": instance.to_status, "from_assignee": instance.from_assignee,
            "to_assignee": instance.to_assignee, "text": instance.text})])


def install() -> None:
    from linewatch.detect.models import Alert, AlertNote

    register(Replicator("event", _event_apply))
    register(Replicator("alert", _alert_apply))
    register(Replicator("alert-note", _note_apply))
    post_save.connect(_on_alert_saved, sender=Alert, dispatch_uid="linewatch-nodes-alert")
    post_save.connect(_on_note_saved, sender=AlertNote, dispatch_uid="linewatch-nodes-note")
