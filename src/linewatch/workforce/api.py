"""Workforce API (under /api/v1): credentials, the on-site roster, expiring and orphaned access,
the visitor flow for reception systems and kiosk apps, and the watchlist.

Scoped like every endpoint: the capability, then only the user's sites (404 for a site elsewhere).
The visitor endpoints call the same functions as the kiosk pages (workforce.visits), so they refuse
the same things with the same reasons (400); reading needs VIEW_PEOPLE, acting EDIT_PEOPLE at the
visit's site. Watchlist rights are workforce.watchlists'. Changes are audited as API changes."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from linewatch.api.api import forbid
from linewatch.core.api import scoped_sites
from linewatch.core.permissions import Cap
from linewatch.errors import InputError
from linewatch.workforce import choices, services, visits, watchlists
from linewatch.workforce.models import Credential, Visit

router = Router(tags=["workforce"])


class CredentialOut(Schema):
    person: str | None
    site: str
    kind: str
    system: str
    identifier: str
    issue_code: int
    status: str
    valid_from: dt.datetime | None
    valid_to: dt.datetime | None
    replaces: str | None


class RosterOut(Schema):
    person: str
    site: str
    area: str
    since: dt.datetime
    last_seen: dt.datetime
    stale: bool


class AccessIssueOut(Schema):
    kind: str
    site: str
    person: str
    what: str
    detail: str


@router.get("/workforce/credentials", response=list[CredentialOut])
def list_credentials(request, person: str | None = None):
    """Credentials of people affiliated with the user's sites (`site` empty: valid at every site)."""
    sites = scoped_sites(request, Cap.VIEW_PEOPLE)
    creds = Credential.objects.filter(person__affiliations__site__in=sites).filter(
        Q(site__isnull=True) | Q(site__in=sites)).select_related("person", "site", "replaces").distinct()
    if person:
        creds = creds.filter(person__key=person)
    return [{"person": c.person.key if c.person else None, "site": c.site.slug if c.site else "", "kind": c.kind,
             "system": c.system, "identifier": c.identifier, "issue_code": c.issue_code, "status": c.status,
             "valid_from": c.valid_from, "valid_to": c.valid_to,
             "replaces": str(c.replaces) if c.replaces else None} for c in creds]


@router.get("/workforce/sites/{slug}/roster", response=list[RosterOut])
def site_roster(request, slug: str):
    """Who is on the site now (the muster list), from badge events."""
    site = get_object_or_404(scoped_sites(request, Cap.VIEW_SITES), slug=slug)

    def when(ms: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)

    return [{"person": e.person, "site": e.site, "area": e.area, "since": when(e.since),
             "last_seen": when(e.last_seen), "stale": e.stale} for e in services.roster(site)]


@router.get("/workforce/access-issues", response=list[AccessIssueOut])
def access_issues(request):
    """Access outliving its work order, orphaned or open-ended external access, access ending soon."""
    sites = scoped_sites(request, Cap.VIEW_PEOPLE)
    return [{"kind": i.kind, "site": i.site, "person": i.person.key, "what": i.what, "detail": i.detail}
            for i in services.access_issues(sites)]


# ---------------------------------------------------------------------- visitors


class VisitIn(Schema):
    name: str
    host: str = Field(..., description="the host's person key; one of the site's people")
    purpose: str
    expected_start: str = Field(..., description="ISO 8601; without an offset, the site's local time")
    expected_end: str = Field(..., description="ISO 8601; without an offset, the site's local time")
    company: str = ""
    escort_required: bool = True
    areas: list[str] = Field(default_factory=list, description="area slugs the visitor may enter")


class CheckInIn(Schema):
    id_document: str = Field(..., description="passport, national_id, driving_licence or company_id")
    id_last_digits: str = Field(..., description="the last 2–6 characters of the ID number")
    id_seen: bool = False
    nda: bool = False
    safety: bool = False


class EscortIn(Schema):
    escort: str = Field(..., description="the escort's person key; one of the site's people")


class VisitOut(Schema):
    code: str
    site: str
    status: str
    visitor: str
    visitor_key: str
    company: str
    host: str | None
    escort: str | None
    escort_required: bool
    purpose: str
    areas: list[str]
    expected_start: dt.datetime
    expected_end: dt.datetime
    registered_at: dt.datetime | None
    registered_by: str
    checked_in_at: dt.datetime | None
    checked_in_by: str
    id_document: str
    nda_accepted_at: dt.datetime | None
    safety_accepted_at: dt.datetime | None
    host_notified_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    expired_at: dt.datetime | None
    badge: str | None
    hold: bool = Field(..., description="a watchlist match: hold the visitor at reception until security confirms")
    watchlist_hits: list[dict]


def _visit_out(v: Visit) -> dict:
    return {"code": v.code, "site": v.site.slug, "status": v.status, "visitor": v.visitor.name,
            "visitor_key": v.visitor.key, "company": v.company, "host": v.host.key if v.host else None,
            "escort": v.escort.key if v.escort else None, "escort_required": v.escort_required,
            "purpose": v.purpose, "areas": sorted(a.slug for a in v.areas.all()),
            "expected_start": v.expected_start, "expected_end": v.expected_end, "registered_at": v.registered_at,
            "registered_by": v.registered_by, "checked_in_at": v.checked_in_at, "checked_in_by": v.checked_in_by,
            "id_document": v.id_document, "nda_accepted_at": v.nda_accepted_at,
            "safety_accepted_at": v.safety_accepted_at, "host_notified_at": v.host_notified_at,
            "checked_out_at": v.checked_out_at, "expired_at": v.expired_at,
            "badge": v.badge.identifier if v.badge else None,
            "hold": bool(v.watchlist_hits) and v.status in (choices.VisitStatus.EXPECTED, choices.VisitStatus.ON_SITE),
            "watchlist_hits": v.watchlist_hits}


def _visit(request, code: str, cap: Cap) -> Visit:
    return get_object_or_404(Visit.objects.select_related("site", "visitor", "host", "escort", "badge"),
                             code=code, site__in=scoped_sites(request, cap))


@router.get("/workforce/sites/{slug}/visits", response=list[VisitOut])
def site_visits(request, slug: str, status: str = ""):
    """Reception's lists: without `status`, today's expected visitors and everyone on site (as the
    kiosk shows them); with it, the site's visits of that status, newest 500."""
    site = get_object_or_404(scoped_sites(request, Cap.VIEW_PEOPLE), slug=slug)
    if not status:
        expected, on_site = visits.at_desk(site)
        found = [*expected, *on_site]
    elif status in choices.VisitStatus.values:
        found = list(Visit.objects.filter(site=site, status=status, code__isnull=False).select_related(
            "visitor", "host", "escort", "badge").order_by("-expected_start")[:500])
    else:
        raise InputError("status", status, f"one of {', '.join(choices.VisitStatus.values)}, or none")
    for v in found:
        v.site = site
    return [_visit_out(v) for v in found]


@router.post("/workforce/sites/{slug}/visits", response={201: VisitOut})
def register_visit(request, slug: str, body: VisitIn):
    """Pre-register a visit (by or for its host). A watchlist match is returned in `watchlist_hits`
    with `hold` true; the visit is registered all the same, as on the page."""
    site = get_object_or_404(scoped_sites(request, Cap.EDIT_PEOPLE), slug=slug)
    visit = visits.register(
        site, name=body.name, company=body.company, host=visits.staff_member(site, body.host, "host"),
        purpose=body.purpose, expected_start=visits.local_time(body.expected_start, site, "expected_start"),
        expected_end=visits.local_time(body.expected_end, site, "expected_end"),
        escort_required=body.escort_required, areas=visits.areas_at(site, body.areas),
        by=request.auth.get_username())
    return Status(201, _visit_out(visit))


@router.get("/workforce/visits/{code}", response=VisitOut)
def get_visit(request, code: str):
    return _visit_out(_visit(request, code, Cap.VIEW_PEOPLE))


@router.post("/workforce/visits/{code}/check-in", response=VisitOut)
def check_in(request, code: str, body: CheckInIn):
    """Check the visitor in: refused (400, with every reason) unless the ID was seen and the NDA and
    safety rules acknowledged, or when the visitor matches a banned watchlist entry."""
    visit = _visit(request, code, Cap.EDIT_PEOPLE)
    visits.check_in(visit, id_document=body.id_document, id_last_digits=body.id_last_digits, id_seen=body.id_seen,
                    nda=body.nda, safety=body.safety, by=request.auth.get_username())
    return _visit_out(visit)


@router.post("/workforce/visits/{code}/escort", response=VisitOut)
def assign_escort(request, code: str, body: EscortIn):
    visit = _visit(request, code, Cap.EDIT_PEOPLE)
    visits.assign_escort(visit, visits.staff_member(visit.site, body.escort, "escort"), request.auth.get_username())
    return _visit_out(visit)


@router.post("/workforce/visits/{code}/check-out", response=VisitOut)
def check_out(request, code: str):
    visit = _visit(request, code, Cap.EDIT_PEOPLE)
    visits.check_out(visit, request.auth.get_username())
    return _visit_out(visit)


@router.post("/workforce/visits/{code}/cancel", response=VisitOut)
def cancel_visit(request, code: str):
    visit = _visit(request, code, Cap.EDIT_PEOPLE)
    visits.cancel(visit, request.auth.get_username())
    return _visit_out(visit)


@router.get("/workforce/visits/{code}/badge.pdf", response={200: None})
def visit_badge(request, code: str):
    """The printable badge: a CR80 label (PDF) with the visit's QR code."""
    visit = _visit(request, code, Cap.VIEW_PEOPLE)
    response = HttpResponse(visits.badge_pdf(visit), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="visitor-badge-{visit.code}.pdf"'
    return response


# ---------------------------------------------------------------------- watchlist


class WatchlistIn(Schema):
    name: str
    reason: str
    aliases: list[str] = Field(default_factory=list)
    company: str = ""
    source: str = Field("", description="where the entry comes from, e.g. HR, police notice, incident 2026-114")
    expires_on: dt.date | None = Field(None, description="the last day it applies (not in the past); none: until "
                                       "retired")
    banned: bool = Field(False, description="refuse check-in (otherwise: hold for security)")
    organisation: str = Field("", description="the organisation's slug; needed when you act for several")
    site: str = Field("", description="a site's slug: the entry applies only there (needs edit_people there); "
                      "empty: every site of the organisation")


class WatchlistPatch(Schema):
    name: str | None = None
    reason: str | None = None
    aliases: list[str] | None = None
    company: str | None = None
    source: str | None = None
    expires_on: dt.date | None = Field(None, description="the last day it applies; null clears it")
    site: str | None = Field(None, description="move the entry to a site (its slug) or, empty, to every site")
    banned: bool | None = None
    active: bool | None = Field(None, description="false retires the entry, true reinstates it")


class WatchlistOut(Schema):
    id: int
    organisation: str
    site: str = Field(..., description="the site it applies at; empty: every site of the organisation")
    name: str
    aliases: list[str]
    company: str
    reason: str
    source: str
    expires_on: dt.date | None
    expired: bool = Field(..., description="past its last day: it matches nobody")
    banned: bool
    active: bool
    added_by: str


class HitOut(Schema):
    entry: str
    name: str
    matched: str
    score: float
    banned: bool
    same_company: bool
    at: str
    visit: str
    site: str
    visitor: str
    company: str
    status: str
    registered_at: dt.datetime | None


def _entry_out(e) -> dict:
    return {"id": e.pk, "organisation": e.organisation.slug, "site": e.site.slug if e.site else "", "name": e.name,
            "aliases": [a for a in e.aliases.splitlines() if a.strip()], "company": e.company, "reason": e.reason,
            "source": e.source, "expires_on": e.expires_on, "expired": e.is_expired, "banned": e.banned,
            "active": e.active, "added_by": e.added_by}


def _hit_out(h: dict) -> dict:
    v = h["visit"]
    return {"entry": str(h.get("entry", "")), "name": h.get("name", ""), "matched": h.get("matched", ""),
            "score": h.get("score", 0.0), "banned": bool(h.get("banned")), "same_company": bool(h.get("same_company")),
            "at": h["at"], "visit": v.code or "", "site": v.site.slug, "visitor": v.visitor.name, "company": v.company,
            "status": v.status, "registered_at": v.registered_at}


@router.get("/workforce/watchlist", response=list[WatchlistOut])
def list_watchlist(request, active: bool = True):
    """The watchlist of your sites: organisation-wide entries and your sites' own (retired entries
    with `active=false`; an expired entry is listed with `expired` true)."""
    scoped_sites(request, Cap.VIEW_PEOPLE)
    return [_entry_out(e) for e in watchlists.entries(request.auth).filter(active=active).order_by("name")]


@router.post("/workforce/watchlist", response={201: WatchlistOut})
def add_watchlist_entry(request, body: WatchlistIn):
    """Add an entry: organisation-wide, needs EDIT_PEOPLE at one site of the organisation (it only
    makes reception stricter); for one site (`site`), EDIT_PEOPLE there."""
    scoped_sites(request, Cap.EDIT_PEOPLE)
    organisation, site = watchlists.scope_to_add(request.auth, body.organisation, body.site)
    entry = watchlists.add(organisation, body.dict(exclude={"organisation", "site"}), request.auth.get_username(),
                           site)
    return Status(201, _entry_out(entry))


@router.get("/workforce/watchlist/hits", response=list[HitOut])
def watchlist_hits(request):
    """Registrations and sign-ins at your sites that matched the watchlist, newest first."""
    return [_hit_out(h) for h in watchlists.hits(scoped_sites(request, Cap.VIEW_PEOPLE))]


@router.get("/workforce/watchlist/{entry_id}", response=WatchlistOut)
def get_watchlist_entry(request, entry_id: int):
    scoped_sites(request, Cap.VIEW_PEOPLE)
    return _entry_out(get_object_or_404(watchlists.entries(request.auth), pk=entry_id))


@router.patch("/workforce/watchlist/{entry_id}", response=WatchlistOut)
def change_watchlist_entry(request, entry_id: int, body: WatchlistPatch):
    """Change, retire (`active: false`) or reinstate an entry: an organisation-wide one needs
    EDIT_PEOPLE at every site of its organisation, since it can weaken the check where you do not
    answer for it; a site's own entry, EDIT_PEOPLE at that site."""
    scoped_sites(request, Cap.VIEW_PEOPLE)
    entry = get_object_or_404(watchlists.entries(request.auth), pk=entry_id)
    if not watchlists.may_change(request.auth, entry):
        where = f"at {entry.site.slug}" if entry.site else f"at every site of {entry.organisation.slug}"
        raise forbid(f"changing a watchlist entry needs edit_people {where}")
    return _entry_out(watchlists.change(entry, body.dict(exclude_unset=True), request.auth))
