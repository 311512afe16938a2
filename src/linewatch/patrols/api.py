"""Patrols API (under /api/v1): the guard app's offline sync, the tours a guard may walk, and runs for
supervisors.

`POST /patrols/sync` takes `{"items": [...]}` — operations queued on the phone, each with a
client-generated UUID, applied in order and answered per item (accepted, duplicate, rejected), so a
re-sent batch after a lost answer changes nothing. PATROL anywhere or 403; an item for a site where the
guard does not patrol is rejected by itself."""

from __future__ import annotations

import datetime as dt

import msgspec
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from linewatch.api.api import forbid
from linewatch.core.permissions import Cap, can, visible_sites
from linewatch.errors import InputError
from linewatch.patrols import services
from linewatch.patrols.models import PatrolRun

router = Router(tags=["patrols"])
MAX_BODY = 32 * 1024 * 1024  # settings.DATA_UPLOAD_MAX_MEMORY_SIZE refuses larger bodies first


class SyncResult(Schema):
    accepted: int
    duplicate: int
    rejected: int
    results: list[dict]


@router.post("/patrols/sync", response=SyncResult, url_name="patrols_sync")
def sync(request):
    if not can(request.auth, Cap.PATROL):
        raise forbid()
    if len(request.body) > MAX_BODY:
        raise InputError("body", "", f"larger than {MAX_BODY // 1024 // 1024} MB; send fewer photos per request")
    try:
        body = msgspec.json.decode(request.body)
    except msgspec.DecodeError as exc:
        raise InputError("body", "", f"invalid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InputError("body", "", 'a JSON object {"items": [...]}')
    return services.sync(request.auth, body.get("items"))


@router.get("/patrols/sites/{slug}/tours", response=list[dict])
def tours(request, slug: str):
    if not can(request.auth, Cap.PATROL):
        raise forbid()
    site = get_object_or_404(visible_sites(request.auth, Cap.PATROL), slug=slug)
    return services.tours_for(visible_sites(request.auth, Cap.PATROL).filter(pk=site.pk))


class RunOut(Schema):
    uid: str
    site: str
    tour: str
    guard: str
    started: dt.datetime
    finished: dt.datetime | None
    status: str
    completion: float
    exceptions: list[dict]


@router.get("/patrols/runs", response=list[RunOut])
def runs(request, site: str = "", limit: int = 200, offset: int = 0):
    if not can(request.auth, Cap.VIEW_PEOPLE):
        raise forbid()
    qs = PatrolRun.objects.filter(tour__site__in=visible_sites(request.auth, Cap.VIEW_PEOPLE)).select_related(
        "tour__site").prefetch_related("exceptions")
    if site:
        qs = qs.filter(tour__site__slug=site)
    return [{"uid": str(r.uid), "site": r.tour.site.slug, "tour": r.tour.slug, "guard": r.guard_name,
             "started": r.started, "finished": r.finished, "status": r.status, "completion": r.completion,
             "exceptions": [{"kind": e.kind, "checkpoint": e.checkpoint, "detail": e.detail, "at": e.at.isoformat(),
                             "event": e.event_uid} for e in r.exceptions.all()]}
            for r in qs.order_by("-started")[offset: offset + min(limit, 2000)]]
