"""Workforce API (under /api/v1): credentials, the on-site roster, expiring and orphaned access.

Scoped like every endpoint: the capability, then only the user's sites (404 for a site elsewhere)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from linewatch.core.api import scoped_sites
from linewatch.core.permissions import Cap
from linewatch.workforce import services
from linewatch.workforce.models import Credential

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
