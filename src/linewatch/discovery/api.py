"""Discovered devices over the API: what passive discovery saw, reconciled with the plant model, and
the posture findings on them.

VIEW_PLANT anywhere or 403; rows only from the sites where the user holds it. Shadow devices first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Query, Router, Schema

from linewatch.api.api import forbid
from linewatch.core.permissions import Cap, can, visible_sites
from linewatch.discovery.models import DiscoveredDevice
from linewatch.discovery.services import posture_findings
from linewatch.discovery.views import ordered

router = Router(tags=["discovery"])


class DiscoveredFilter(Schema):
    site: str = ""
    status: str = ""


class DiscoveredOut(Schema):
    id: int
    site: str = Field(..., alias="site.slug")
    key: str
    status: str
    ip: str | None
    mac: str
    vendor: str
    kind: str
    model: str
    firmware: str
    serial: str
    hostname: str
    protocols: dict[str, list[str]]
    findings: list[dict[str, Any]]
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    asset: str | None = Field(None, alias="asset.name")
    match_reason: str
    drift: list[dict[str, str]]
    review_note: str


@router.get("/discovered", response=list[DiscoveredOut])
def list_discovered(request, filters: Query[DiscoveredFilter], limit: int = 500, offset: int = 0):
    if not can(request.auth, Cap.VIEW_PLANT):
        raise forbid()
    devices = DiscoveredDevice.objects.filter(site__in=visible_sites(request.auth, Cap.VIEW_PLANT)).select_related(
        "site", "asset")
    if filters.site:
        devices = devices.filter(site__slug=filters.site)
    if filters.status:
        devices = devices.filter(status=filters.status)
    return ordered(devices)[offset: offset + min(limit, 5000)]


class FindingFilter(Schema):
    site: str = ""
    status: str = ""  # open, verified, accepted, gone (default: open and accepted)
    check: str = ""


class FindingOut(Schema):
    id: int
    site: str
    device: str
    ip: str | None
    mac: str
    asset: str | None
    kind: str
    vendor: str
    model: str
    firmware: str
    check: str
    severity: str
    title: str
    evidence: str
    source: str
    file: str
    packet: int
    time: dt.datetime | None
    status: str
    note: str


@router.get("/discovered/findings", response=list[FindingOut])
def list_findings(request, filters: Query[FindingFilter], limit: int = 500, offset: int = 0):
    """Posture findings (clear-text management, default SNMP community, old firmware, default
    credentials, no time sync, no logging) with their evidence."""
    if not can(request.auth, Cap.VIEW_PLANT):
        raise forbid()
    sites = visible_sites(request.auth, Cap.VIEW_PLANT)
    if filters.site:
        sites = sites.filter(slug=filters.site)
    statuses = [filters.status] if filters.status else ["open", "accepted"]
    rows = [r for r in posture_findings(sites, statuses) if not filters.check or r["check"] == filters.check]
    return rows[offset: offset + min(limit, 5000)]
