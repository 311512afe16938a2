"""Vulnerability findings over the API (under /api/v1): the risk register, one finding with its evidence, and
status changes.

Reading needs VIEW_PLANT (vulnerabilities are plant knowledge), rows only from the sites where the user holds
it; another site's finding is a 404. Changing a status needs HANDLE_ALERTS at the finding's site (triaging a
finding is the analyst's and the engineer's work, like handling an alert); bad input is 400 naming the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from linewatch.api.api import forbid
from linewatch.core.permissions import Cap, can, visible_sites
from linewatch.errors import InputError
from linewatch.vulns import services
from linewatch.vulns.models import Finding

router = Router(tags=["vulns"])


class FindingFilter(Schema):
    site: str = ""
    tier: str = ""  # one tier, "all", or empty: confirmed and probable
    kev: str = ""
    status: str = ""
    subject: str = ""
    include_inactive: bool = False


class FindingOut(Schema):
    id: int
    site: str
    subject: str
    asset: str | None
    device: str | None
    cve: str
    title: str
    advisories: list[str]
    confidence: str
    kev: bool
    ransomware: bool
    epss: float | None
    epss_percentile: float | None
    cvss: float | None
    exposure: str
    exposure_method: str
    consequence_per_hour: float | None
    risk_score: int
    status: str
    status_by: str
    status_reason: str
    status_changed: dt.datetime | None
    active: bool
    last_matched: dt.datetime | None


class FindingDetailOut(FindingOut):
    evidence: list[dict[str, Any]]
    notes: list[str]
    remediations: list[str]
    attributes: dict[str, dict[str, str]]
    risk_parts: dict[str, Any]
    risk_explanation: list[str]
    consequence: dict[str, Any]


class StatusIn(Schema):
    status: str
    why: str = ""


def _scope(request):
    if not can(request.auth, Cap.VIEW_PLANT):
        raise forbid()
    return Finding.objects.filter(site__in=visible_sites(request.auth, Cap.VIEW_PLANT)).select_related(
        "site", "asset", "device")


@router.get("/vulns/findings", response=list[FindingOut],
            summary="Vulnerability findings you may see, most urgent first")
def list_findings(request, filters: Query[FindingFilter], limit: int = 500, offset: int = 0):
    found = _scope(request)
    try:
        found = services.filter_findings(found, filters.site, filters.tier, filters.kev, filters.status,
                                         filters.subject, active=not filters.include_inactive)
    except InputError as exc:
        raise HttpError(400, str(exc)) from None
    offset, limit = max(offset, 0), max(min(limit, 5000), 0)
    return [services.finding_dict(f) for f in services.ranked(found)[offset: offset + limit]]


@router.get("/vulns/findings/{finding_id}", response=FindingDetailOut,
            summary="One finding with its evidence, risk parts and consequence")
def get_finding(request, finding_id: int):
    return services.finding_dict(get_object_or_404(_scope(request), pk=finding_id), detail=True)


@router.post("/vulns/findings/{finding_id}/status", response=FindingDetailOut,
             summary="Set a finding's status (open, accepted, mitigated, false_positive), saying why")
def set_finding_status(request, finding_id: int, payload: StatusIn):
    if not can(request.auth, Cap.HANDLE_ALERTS):
        raise forbid()
    finding = get_object_or_404(_scope(request), pk=finding_id)
    if not can(request.auth, Cap.HANDLE_ALERTS, finding.site):
        raise forbid("your role does not allow triaging findings at this site")
    try:
        services.set_status(finding, request.auth, payload.status, payload.why,
                            via=getattr(request, "linewatch_via", None) or "api")
    except InputError as exc:
        raise HttpError(400, str(exc)) from None
    return services.finding_dict(finding, detail=True)
