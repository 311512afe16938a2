"""Crisis records a plant node forwards: the crisis, its roll call per site, the audience, every answer, and the
site-status confirmations — so headquarters' crisis room shows a roll call the plant ran while cut off.

Natural keys: a crisis by its uid; a roll call by (crisis, site); a participant by (crisis, site, person key);
an answer by (participant, time, channel); a status confirmation by (site, time, by). A roll-call record carries
its crisis, so the first record a receiver sees of a crisis is enough to create it.
"""

from __future__ import annotations

import datetime as dt

from django.db.models.signals import post_save

from linewatch.nodes.replication import Replicator, append, queuing, register, upsert


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _crisis_state(crisis) -> dict:
    return {"uid": crisis.uid, "title": crisis.title, "kind": crisis.kind, "phase": crisis.phase,
            "exercise": crisis.exercise, "description": crisis.description, "declared": _iso(crisis.declared),
            "declared_by": crisis.declared_by, "closed": _iso(crisis.closed),
            "sites": sorted(crisis.sites.values_list("slug", flat=True))}


def _apply_crisis(body: dict):
    from linewatch.core.models import Site
    from linewatch.resilience.models import Crisis

    values = {"title": body["title"], "kind": body["kind"], "phase": body["phase"], "exercise": body["exercise"],
              "description": body["description"], "declared": _time(body["declared"]),
              "declared_by": body["declared_by"], "closed": _time(body["closed"])}
    changed = upsert(Crisis, {"uid": body["uid"]}, values)
    crisis = Crisis.objects.get(uid=body["uid"])
    have = set(crisis.sites.values_list("slug", flat=True))
    missing = set(body["sites"]) - have
    if missing:
        crisis.sites.add(*Site.objects.filter(slug__in=missing))
        changed = True
    return crisis, changed


def _roll_call_state(rc) -> dict:
    """The roll call with its crisis and its audience (written in bulk, so no signal tells of each participant)."""
    return {"crisis": _crisis_state(rc.crisis), "opened": _iso(rc.opened), "closed": _iso(rc.closed),
            "reminder_minutes": rc.reminder_minutes, "max_waves": rc.max_waves, "waves": rc.waves,
            "last_wave": _iso(rc.last_wave), "escalated": _iso(rc.escalated),
            "participants": [_participant_state(p) for p in rc.participants.select_related("person")]}


def _participant_state(p) -> dict:
    return {"crisis": p.roll_call.crisis.uid, "person": p.person.key, "on_site": p.on_site, "why": p.why,
            "code": p.code}


def _apply_roll_call(site: str, key: str, body: dict, origin: str) -> bool:
    from linewatch.core.models import Site
    from linewatch.resilience.models import RollCall

    crisis, changed = _apply_crisis(body["crisis"])
    values = {k: (_time(body[k]) if k in ("opened", "closed", "last_wave", "escalated") else body[k])
              for k in ("opened", "closed", "reminder_minutes", "max_waves", "waves", "last_wave", "escalated")}
    updated = upsert(RollCall, {"crisis": crisis, "site": Site.objects.get(slug=site)}, values)
    added = sum(_apply_participant(site, "", p, origin) for p in body.get("participants", []))
    return changed or updated or bool(added)


def _participant(site: str, crisis_uid: str, person_key: str):
    from linewatch.resilience.models import Participant

    found = Participant.objects.filter(roll_call__crisis__uid=crisis_uid, roll_call__site__slug=site,
                                       person__key=person_key).first()
    if found is None:
        raise ValueError(f"no participant {person_key} in the roll call of {crisis_uid} at {site}")
    return found


def _apply_participant(site: str, key: str, body: dict, origin: str) -> bool:
    """Add a participant unless the roll call already has them (the roll-call record and an answer carry them)."""
    from linewatch.core.models import Person
    from linewatch.resilience.models import Participant, RollCall

    rc = RollCall.objects.select_related("site").get(crisis__uid=body["crisis"], site__slug=site)
    person = Person.objects.get(organisation=rc.site.organisation, key=body["person"])
    _, created = Participant.objects.get_or_create(
        roll_call=rc, person=person, defaults={"on_site": body["on_site"], "why": body["why"], "code": body["code"]})
    return created


def _apply_answer(site: str, key: str, body: dict, origin: str) -> bool:
    from linewatch.resilience.models import RollCallAnswer

    _apply_participant(site, "", body["participant"], origin)
    participant = _participant(site, body["crisis"], body["person"])
    _, created = RollCallAnswer.objects.get_or_create(
        participant=participant, time=_time(body["time"]), channel=body["channel"],
        defaults={"answer": body["answer"], "text": body["text"], "via": body["via"]})
    return created


def _apply_status(site: str, key: str, body: dict, origin: str) -> bool:
    from linewatch.core.models import Site
    from linewatch.resilience.models import Crisis, SiteStatus

    site_obj = Site.objects.get(slug=site)
    crisis = Crisis.objects.filter(uid=body["crisis"]).first() if body.get("crisis") else None
    _, created = SiteStatus.objects.get_or_create(
        site=site_obj, time=_time(body["time"]), by=body["by"],
        defaults={"state": body["state"], "capacity": body["capacity"], "reason": body["reason"], "crisis": crisis})
    return created


def _on_crisis(sender, instance, **kwargs) -> None:
    if queuing():
        for rc in instance.roll_calls.select_related("site"):  # a phase change reaches every site's stream
            append("roll-call", [(rc.site.slug, f"{instance.uid}/{rc.site.slug}", _roll_call_state(rc))])


def _on_roll_call(sender, instance, **kwargs) -> None:
    if queuing():
        append("roll-call", [(instance.site.slug, f"{instance.crisis.uid}/{instance.site.slug}",
                              _roll_call_state(instance))])


def _on_participant(sender, instance, created: bool, **kwargs) -> None:
    if created and queuing():
        rc = instance.roll_call
        append("roll-call-participant", [(rc.site.slug, f"{rc.crisis.uid}/{rc.site.slug}/{instance.person.key}",
                                          _participant_state(instance))])


def _on_answer(sender, instance, created: bool, **kwargs) -> None:
    if created and queuing():
        p = instance.participant
        rc = p.roll_call
        append("roll-call-answer", [(rc.site.slug,
                                     f"{rc.crisis.uid}/{rc.site.slug}/{p.person.key}/{instance.time.isoformat()}", {
            "crisis": rc.crisis.uid, "person": p.person.key, "participant": _participant_state(p),
            "answer": instance.answer, "channel": instance.channel,
            "time": instance.time.isoformat(), "text": instance.text, "via": instance.via})])


def _on_status(sender, instance, created: bool, **kwargs) -> None:
    if created and queuing():
        append("site-status", [(instance.site.slug, f"{instance.site.slug}/{instance.time.isoformat()}", {
            "crisis": instance.crisis.uid if instance.crisis_id else None, "state": instance.state,
            "capacity": instance.capacity, "reason": instance.reason, "time": instance.time.isoformat(),
            "by": instance.by})])


def install() -> None:
    from linewatch.resilience.models import Crisis, Participant, RollCall, RollCallAnswer, SiteStatus

    register(Replicator("roll-call", _apply_roll_call))
    register(Replicator("roll-call-participant", _apply_participant))
    register(Replicator("roll-call-answer", _apply_answer))
    register(Replicator("site-status", _apply_status))
    post_save.connect(_on_crisis, sender=Crisis, dispatch_uid="linewatch-nodes-crisis")
    post_save.connect(_on_roll_call, sender=RollCall, dispatch_uid="linewatch-nodes-roll-call")
    post_save.connect(_on_participant, sender=Participant, dispatch_uid="linewatch-nodes-participant")
    post_save.connect(_on_answer, sender=RollCallAnswer, dispatch_uid="linewatch-nodes-answer")
    post_save.connect(_on_status, sender=SiteStatus, dispatch_uid="linewatch-nodes-status")
