"""Evidence API (under /api/v1): each site's ledger (entries, checkpoints, inclusion and consistency proofs on
demand), evidence packs and standard exports for download, partner scorecards, and the partner submission
endpoints.

Reading the ledger, packs and exports need VIEW_AUDIT at the site (another site is a 404). The partner endpoints
take a partner token (`linewatch evidence partner token`), never a user's: a partner token can only submit for its
own partner, and a user token is refused there (401)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from django.db import transaction
from django.http import HttpResponse
from ninja import File, Router, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.security import HttpBearer

from linewatch.api.api import forbid
from linewatch.core.models import Site
from linewatch.core.permissions import Cap, can, visible_sites
from linewatch.errors import InputError
from linewatch.evidence import exports, partners, services
from linewatch.evidence.models import Checkpoint, Entry, Partner, SiteLog

router = Router(tags=["evidence"])
MAX_ENTRIES = 1000


def _site(request, slug: str) -> Site:
    if not can(request.auth, Cap.VIEW_AUDIT):
        raise forbid()
    site = visible_sites(request.auth, Cap.VIEW_AUDIT).select_related("organisation").filter(slug=slug).first()
    if site is None:
        raise HttpError(404, "not found")
    return site


def _log(site: Site) -> SiteLog:
    return services.get_log(site)


def _dates(since: str, until: str) -> tuple[dt.date, dt.date]:
    try:
        end = dt.date.fromisoformat(until) if until else dt.date.today()
        start = dt.date.fromisoformat(since) if since else end - dt.timedelta(days=30)
    except ValueError:
        raise InputError("from/to", f"{since} {until}", "dates as YYYY-MM-DD") from None
    return start, end


@router.get("/evidence/sites", response=list[dict[str, Any]], summary="Evidence logs of the sites you may audit")
def list_logs(request):
    if not can(request.auth, Cap.VIEW_AUDIT):
        raise forbid()
    out = []
    for site in visible_sites(request.auth, Cap.VIEW_AUDIT).order_by("slug"):
        head = SiteLog.objects.filter(site_slug=site.slug).first()
        latest = services.latest_checkpoint(head) if head else None
        out.append({"site": site.slug, "origin": head.origin if head else None, "size": head.size if head else 0,
                    "checkpoint": latest.size if latest else None,
                    "witnessed": bool(latest and latest.cosignatures.exists())})
    return out


@router.get("/evidence/sites/{slug}/entries", response=list[dict[str, Any]],
            summary="Ledger entries of a site, in order (canonical records with their leaf hashes)")
def entries(request, slug: str, start: int = 0, limit: int = 100):
    head = _log(_site(request, slug))
    rows = Entry.objects.filter(log=head, seq__gte=max(0, start)).order_by("seq")[: min(limit, MAX_ENTRIES)]
    return [{"seq": e.seq, "kind": e.kind, "time": e.time, "leaf_hash": e.leaf_hash, "record": e.record}
            for e in rows]


@router.get("/evidence/sites/{slug}/checkpoints", response=list[dict[str, Any]],
            summary="Signed checkpoints of a site's log (C2SP signed notes with any witness cosignatures)")
def checkpoints(request, slug: str):
    head = _log(_site(request, slug))
    return [{"size": c.size, "root": c.root_hash, "note": c.note, "created": c.created,
             "cosigned_by": [x.witness for x in c.cosignatures.all()],
             "timestamps": [t.gen_time for t in c.timestamps.all()]}
            for c in Checkpoint.objects.filter(log=head).prefetch_related("cosignatures", "timestamps")]


@router.post("/evidence/sites/{slug}/checkpoint", response=dict[str, Any],
             summary="Sign a checkpoint of the site's log now")
def sign_checkpoint(request, slug: str):
    site = _site(request, slug)
    head = _log(site)
    head.refresh_from_db()
    if head.size == 0:
        raise HttpError(409, "the log is empty: nothing to checkpoint")
    with transaction.atomic():
        cp = services.checkpoint(services.lock_log(site))
    return {"size": cp.size, "root": cp.root_hash, "note": cp.note}


@router.get("/evidence/sites/{slug}/proofs/inclusion", response=dict[str, Any],
            summary="Inclusion proof (RFC 9162 audit path) of one entry against a signed checkpoint")
def inclusion_proof(request, slug: str, seq: int = 0, size: int | None = None):
    head = _log(_site(request, slug))
    if not 0 <= seq < head.size:
        raise HttpError(404, f"no entry {seq}")
    try:
        return services.inclusion(head, seq, size)
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None


@router.get("/evidence/sites/{slug}/proofs/consistency", response=dict[str, Any],
            summary="Consistency proof between two signed checkpoints (default: the first and the latest)")
def consistency_proof(request, slug: str, size1: int | None = None, size2: int | None = None):
    site = _site(request, slug)
    head = _log(site)
    sizes = list(Checkpoint.objects.filter(log=head).order_by("size").values_list("size", flat=True))
    if not sizes:
        if head.size == 0:
            raise HttpError(404, "the log is empty")
        with transaction.atomic():
            sizes = [services.checkpoint(services.lock_log(site)).size]
    try:
        return services.consistency(head, size1 or sizes[0], size2 or sizes[-1])
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None


@router.get("/evidence/sites/{slug}/pack", summary="Evidence pack (zip) of a site for a period (dates, UTC, "
            "`to` included; default the last 30 days)")
def pack(request, slug: str, since: str = "", until: str = ""):
    from linewatch.evidence.packs import site_pack_bytes

    site = _site(request, slug)
    start, end = _dates(since, until)
    with tempfile.TemporaryDirectory() as folder:
        path = site_pack_bytes(site, start, end, Path(folder) / "pack.zip")
        data = path.read_bytes()
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="evidence-{site.slug}-{start}-{end}.zip"'
    return response


@router.get("/evidence/sites/{slug}/export", summary="Incidents as STIX 2.1 / VERIS / CSV, alerts and situation "
            "reports as CAP 1.2 (zip)")
def export(request, slug: str, format: str = "stix", since: str = "", until: str = ""):  # noqa: A002
    site = _site(request, slug)
    start, end = _dates(since, until)
    if format not in exports.FORMATS:
        raise InputError("format", format, f"one of {', '.join(exports.FORMATS)}")
    begin = dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC)
    finish = dt.datetime.combine(end, dt.time.min, tzinfo=dt.UTC) + dt.timedelta(days=1)
    content, media, name = exports.export(site, format, begin, finish)
    response = HttpResponse(content, content_type=media)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get("/evidence/partners", response=list[dict[str, Any]],
            summary="Scorecards of the partners that serve sites you may audit")
def partner_scorecards(request):
    if not can(request.auth, Cap.VIEW_AUDIT):
        raise forbid()
    sites = visible_sites(request.auth, Cap.VIEW_AUDIT)
    return [partners.scorecard(p) for p in Partner.objects.filter(sites__in=sites).distinct().order_by("name")]


# -- partner submissions (partner tokens only) --------------------------------------------------------------------


class PartnerAuth(HttpBearer):
    """A partner token: the request acts for that partner and for nothing else."""

    def authenticate(self, request, token: str):
        partner = partners.partner_for_token(token)
        if partner is None:
            return None
        request.partner = partner
        return partner


class IncidentIn(Schema):
    category: str = ""
    severity: str = ""
    what: str = ""
    where: str = ""
    when: str = ""
    who: str = ""
    actions: str = ""
    status: str = "open"
    closed_at: str = ""
    photos: list[str] = []
    reference: str = ""


def _submission(s) -> dict[str, Any]:
    return {"id": s.pk, "kind": s.kind, "received": s.received, "verified": s.verified, "sha256": s.sha256,
            "filename": s.filename, "result": s.result}


@router.post("/evidence/partner/packs", auth=PartnerAuth(), response=dict[str, Any],
             summary="A partner submits an evidence pack; it is verified on arrival with the partner's keys")
def partner_pack(request, pack: File[UploadedFile]):
    data = pack.read(partners.MAX_PACK_BYTES + 1)
    submission = partners.submit_pack(request.auth, data, pack.name or "", by=f"token:{request.auth.slug}")
    return _submission(submission)


@router.post("/evidence/partner/incidents", auth=PartnerAuth(), response=dict[str, Any],
             summary="A partner submits an incident report in the standard form")
def partner_incident(request, report: IncidentIn):
    submission = partners.submit_incident(request.auth, report.dict(), by=f"token:{request.auth.slug}")
    return _submission(submission)


@router.get("/evidence/partner/submissions", auth=PartnerAuth(), response=list[dict[str, Any]],
            summary="A partner's own submissions and what verifying them found")
def partner_submissions(request, limit: int = 100):
    return [_submission(s) for s in request.auth.submissions.all()[: min(limit, 1000)]]
