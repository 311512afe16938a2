"""Resilience API (under /api/v1): crises with their sites' status and roll-call tallies, the site
status board, and the inbound webhooks of the SMS gateway and the e-mail relay that carry
roll-call replies.

Reading needs VIEW_SITES and shows only the sites the caller sees. The webhooks need
INGEST_EVENTS (the gateways hold sensor tokens) and accept replies only for roll calls at the
sites the token serves. A refused reply answers 400 with the reason and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json

from ninja import Router, Schema
from ninja.errors import HttpError

from linewatch.api.api import forbid
from linewatch.core.permissions import Cap, can, visible_sites
from linewatch.resilience import services
from linewatch.resilience.models import Crisis
from linewatch.resilience.services import ReplyRefused

router = Router(tags=["resilience"])
MAX_REPLY_BYTES = 256 * 1024


class SiteStatusOut(Schema):
    site: str
    state: str
    capacity: int | None
    reason: str
    confirmed: dt.datetime | None
    by: str


class TallyOut(Schema):
    site: str
    safe: int
    need_help: int
    not_on_site: int
    no_answer: int
    total: int
    waves: int


class CrisisOut(Schema):
    uid: str
    title: str
    kind: str
    phase: str
    exercise: bool
    declared: dt.datetime
    declared_by: str
    sites: list[str]
    roll_calls: list[TallyOut]


class AnswerOut(Schema):
    person: str
    answer: str
    channel: str
    time: dt.datetime


def _board(sites) -> list[dict]:
    rows = []
    for r in services.status_board(sites):
        s = r["status"]
        rows.append({"site": r["site"].slug, "state": r["state"], "capacity": r["capacity"],
                     "reason": s.reason if s else "", "confirmed": s.time if s else None, "by": s.by if s else ""})
    return rows


@router.get("/resilience/status", response=list[SiteStatusOut], summary="Each site's last confirmed status")
def status_board(request):
    if not can(request.auth, Cap.VIEW_SITES):
        raise forbid()
    return _board(visible_sites(request.auth, Cap.VIEW_SITES).order_by("slug"))


@router.get("/resilience/crises", response=list[CrisisOut], summary="Crises and drills with roll-call tallies")
def crises(request):
    if not can(request.auth, Cap.VIEW_SITES):
        raise forbid()
    sites = visible_sites(request.auth, Cap.VIEW_SITES)
    out = []
    for crisis in Crisis.objects.filter(sites__in=sites).distinct().prefetch_related("sites"):
        tallies = [{"site": rc.site.slug, "waves": rc.waves, **services.tally(rc)}
                   for rc in crisis.roll_calls.filter(site__in=sites).select_related("site")]
        out.append({"uid": crisis.uid, "title": crisis.title, "kind": crisis.kind, "phase": crisis.phase,
                    "exercise": crisis.exercise, "declared": crisis.declared, "declared_by": crisis.declared_by,
                    "sites": sorted(s.slug for s in crisis.sites.all() if s in sites), "roll_calls": tallies})
    return out


def _gateway_sites(request):
    if not can(request.auth, Cap.INGEST_EVENTS):
        raise forbid()
    if len(request.body) > MAX_REPLY_BYTES:
        raise HttpError(400, "reply larger than 256 KiB")
    return list(visible_sites(request.auth, Cap.INGEST_EVENTS))


def _out(row) -> dict:
    return {"person": row.participant.person.key, "answer": row.answer, "channel": row.channel, "time": row.time}


@router.post("/resilience/rollcall/sms", response=AnswerOut,
             summary="An SMS reply from the gateway: form or JSON with `from` and `body` (\"SAFE 4821\")")
def sms_reply(request):
    sites = _gateway_sites(request)
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise HttpError(400, "the body is not JSON") from None
        data = data if isinstance(data, dict) else {}
    else:
        data = request.POST
    sender, text = str(data.get("from") or ""), str(data.get("body") or "")
    if not sender or not text:
        raise HttpError(400, "an SMS reply needs `from` (the sender's number) and `body` (the text)")
    try:
        return _out(services.answer_by_sms(sender, text, sites=sites))
    except ReplyRefused as exc:
        raise HttpError(400, exc.reason) from None


@router.post("/resilience/rollcall/email", response=AnswerOut,
             summary="An e-mail reply from the relay: the raw RFC 5322 message as the body")
def email_reply(request):
    sites = _gateway_sites(request)
    try:
        return _out(services.answer_by_email(request.body, sites=sites))
    except ReplyRefused as exc:
        raise HttpError(400, exc.reason) from None
