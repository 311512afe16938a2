"""Plant-model API: sites, zones, conduits, assets, lines, teams, ownership, consequence,
site files and the audit trail. Every operation checks the role's capability and scopes its
query to the sites the user may see; objects elsewhere are 404, not 403."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from linewatch.api.api import forbid
from linewatch.core import services
from linewatch.core.models import Asset, AuditEntry, Conduit, Line, Site, SiteAffiliation, Team, Zone
from linewatch.core.permissions import Cap, can, capabilities, roles, visible_sites

router = Router(tags=["plant model"])


def require(request, cap: Cap, site: Site | None = None) -> None:
    if not can(request.auth, cap, site):
        raise forbid()


def scoped_sites(request, cap: Cap):
    require(request, cap)
    return visible_sites(request.auth, cap)


# ------------------------------------------------------------------ schemas


class SiteOut(Schema):
    id: int
    slug: str
    name: str
    kind: str
    timezone: str
    address: str
    latitude: float | None
    longitude: float | None
    organisation: str = Field(..., alias="organisation.slug")


class ZoneOut(Schema):
    id: int
    site: str = Field(..., alias="site.slug")
    slug: str
    name: str
    purdue_level: str
    security_level_target: int
    cidrs: list[str]


class ConduitOut(Schema):
    id: int
    site: str = Field(..., alias="site.slug")
    slug: str
    from_zone: str = Field(..., alias="from_zone.slug")
    to_zone: str = Field(..., alias="to_zone.slug")
    services: list[str]
    direction: str


class InterfaceOut(Schema):
    name: str
    ip: str | None
    mac: str
    vlan: int | None


class AssetOut(Schema):
    id: int
    site: str = Field(..., alias="site.slug")
    name: str
    kind: str
    domain: str
    vendor: str
    model: str
    firmware: str
    serial: str
    zone: str | None = Field(None, alias="zone.slug")
    area: str | None = Field(None, alias="area.slug")
    criticality: str
    tags: list[str]
    interfaces: list[InterfaceOut]

    @staticmethod
    def resolve_interfaces(obj: Asset) -> list:
        return list(obj.interfaces.all())


class OwnersOut(Schema):
    teams: dict[str, list[str]]
    scope: dict[str, str]
    gap: bool
    conflict: bool


class AssetDetailOut(AssetOut):
    owners: OwnersOut
    consequence: dict[str, Any]


class AssetPatch(Schema):
    vendor: str | None = None
    model: str | None = None
    firmware: str | None = None
    serial: str | None = None
    criticality: str | None = None
    description: str | None = None
    tags: list[str] | None = None


class LineOut(Schema):
    id: int
    site: str = Field(..., alias="site.slug")
    slug: str
    name: str
    kind: str
    downtime_cost_per_hour: float
    trucks_per_day: int
    perishable_value: float
    hours_to_spoil: float | None
    safety_critical: bool


class TeamOut(Schema):
    id: int
    slug: str
    name: str
    kind: str
    site: str | None = Field(None, alias="site.slug")
    email: str
    phone: str


class PersonOut(Schema):
    key: str
    name: str
    email: str
    company: str | None
    affiliation: str
    site: str
    sponsor: str | None
    valid_from: dt.date | None
    valid_to: dt.date | None


class AuditOut(Schema):
    id: int
    time: dt.datetime
    actor: str = Field(..., alias="actor_name")
    via: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    site: str = Field(..., alias="site_slug")
    before: dict | None
    after: dict | None


class MeOut(Schema):
    username: str
    roles: list[str]
    capabilities: list[str]
    sites: list[str]


# ------------------------------------------------------------------ endpoints


@router.get("/me", response=MeOut, summary="Who am I, with which roles, at which sites")
def me(request):
    user = request.auth
    return {"username": user.get_username(), "roles": sorted(roles(user)),
            "capabilities": sorted(capabilities(user)), "sites": [s.slug for s in visible_sites(user)]}


@router.get("/sites", response=list[SiteOut])
def list_sites(request):
    return scoped_sites(request, Cap.VIEW_SITES).select_related("organisation")


# Registered before /sites/{slug}, which would otherwise capture the path.
@router.post("/sites/import", summary="Import a site file (YAML body): all or nothing, idempotent")
def import_site(request):
    from linewatch.core import audit
    from linewatch.core.sitefile.importer import import_documents
    from linewatch.core.sitefile.loader import load_text
    from linewatch.errors import InputError

    require(request, Cap.EDIT_PLANT)
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("request body", f"byte {exc.start}", "not UTF-8 text") from None
    doc = load_text(text, "request body")
    slug = doc.data.get("site", {}).get("slug") if isinstance(doc.data, dict) else None
    existing = Site.objects.filter(slug=slug).first() if isinstance(slug, str) else None
    # Changing a site needs edit rights there; creating a new site is for administrators.
    if existing is None and not can(request.auth, Cap.MANAGE_USERS):
        raise forbid("only administrators create sites")
    if existing is not None and not can(request.auth, Cap.EDIT_PLANT, existing):
        raise forbid()
    actor = audit.current_actor()
    return import_documents([doc], actor=audit.Actor(user=actor.user, name=actor.name, via="api")).as_dict()


@router.get("/sites/{slug}", response=SiteOut)
def get_site(request, slug: str):
    return get_object_or_404(scoped_sites(request, Cap.VIEW_SITES).select_related("organisation"), slug=slug)


@router.get("/zones", response=list[ZoneOut])
def list_zones(request, site: str | None = None):
    zones = Zone.objects.filter(site__in=scoped_sites(request, Cap.VIEW_PLANT)).select_related("site")
    return zones.filter(site__slug=site) if site else zones


@router.get("/conduits", response=list[ConduitOut])
def list_conduits(request, site: str | None = None):
    conduits = Conduit.objects.filter(site__in=scoped_sites(request, Cap.VIEW_PLANT)).select_related(
        "site", "from_zone", "to_zone")
    return conduits.filter(site__slug=site) if site else conduits


def _asset_scope(request):
    if not can(request.auth, Cap.VIEW_SITES):
        raise forbid()
    return services.asset_scope(request.auth)


class AssetFilter(Schema):
    site: str = ""
    kind: str = ""
    domain: str = Field("", description="it, ot or physical")
    zone: str = ""
    criticality: str = ""
    q: str = Field("", description="Name, vendor, model, serial, IP (prefix) or MAC contains")


@router.get("/assets", response=list[AssetOut])
def list_assets(request, filters: Query[AssetFilter], limit: int = 500, offset: int = 0):
    assets = services.filter_assets(_asset_scope(request), **filters.dict()).prefetch_related("interfaces")
    return assets.order_by("site__slug", "name")[offset: offset + min(limit, 5000)]


@router.get("/assets/{asset_id}", response=AssetDetailOut)
def get_asset(request, asset_id: int):
    asset = get_object_or_404(_asset_scope(request).prefetch_related("interfaces"), pk=asset_id)
    owners = services.owners_of(asset)
    asset.owners = {
        "teams": {role: [t.slug for t in teams] for role, teams in owners.teams.items()},
        "scope": owners.scope, "gap": owners.gap, "conflict": owners.conflict,
    }
    if can(request.auth, Cap.VIEW_PLANT, asset.site):
        asset.consequence = services.consequence_as_dict(services.consequence([asset]),
                                                         asset.site.organisation.currency)
    else:
        asset.consequence = {}
    return asset


@router.patch("/assets/{asset_id}", response=AssetOut)
def update_asset(request, asset_id: int, patch: AssetPatch):
    require(request, Cap.EDIT_PLANT)
    asset = get_object_or_404(_asset_scope(request), pk=asset_id)
    require(request, Cap.EDIT_PLANT, asset.site)
    from linewatch.core.choices import Criticality
    from linewatch.errors import InputError

    changes = patch.dict(exclude_unset=True)
    if "criticality" in changes and changes["criticality"] not in Criticality.values:
        raise InputError("criticality", "", f"one of {', '.join(Criticality.values)}")
    for key, value in changes.items():
        setattr(asset, key, value)
    asset.save()
    return asset


@router.get("/lines", response=list[LineOut])
def list_lines(request, site: str | None = None):
    lines = Line.objects.filter(site__in=scoped_sites(request, Cap.VIEW_PLANT)).select_related("site")
    return lines.filter(site__slug=site) if site else lines


@router.get("/teams", response=list[TeamOut])
def list_teams(request):
    sites = scoped_sites(request, Cap.VIEW_PLANT)
    return Team.objects.filter(
        Q(site__in=sites) | Q(ownership_rules__site__in=sites)
    ).select_related("site").distinct()


@router.get("/ownership/gaps", summary="Assets and asset kinds with no accountable owner, or several")
def ownership_gaps(request, site: str | None = None):
    sites = scoped_sites(request, Cap.VIEW_PLANT)
    if site:
        sites = sites.filter(slug=site)
    return {
        "assets": [
            {"id": g.asset.pk, "site": g.asset.site.slug, "asset": g.asset.name, "kind": g.asset.kind,
             "problem": g.problem, "accountable": [t.slug for t in g.owners.accountable],
             "cost_per_hour": g.cost_per_hour}
            for g in services.ownership_gaps(sites)
        ],
        "kinds": services.kind_gaps(sites),
    }


@router.get("/consequence", summary="What stops if these assets are down or compromised")
def consequence(request, asset: list[str] = Query(...), hours_down: float = 0.0):
    sites = scoped_sites(request, Cap.VIEW_PLANT)
    found = services.find_assets(asset, sites)
    currency = found[0].site.organisation.currency if found else "EUR"
    return services.consequence_as_dict(services.consequence(found, hours_down), currency)


@router.get("/people", response=list[PersonOut])
def list_people(request, site: str | None = None):
    sites = scoped_sites(request, Cap.VIEW_PEOPLE)
    affiliations = SiteAffiliation.objects.filter(site__in=sites).select_related(
        "person", "person__company", "site", "sponsor")
    if site:
        affiliations = affiliations.filter(site__slug=site)
    return [
        {"key": a.person.key, "name": a.person.name, "email": a.person.email,
         "company": a.person.company.slug if a.person.company else None, "affiliation": a.kind,
         "site": a.site.slug, "sponsor": a.sponsor.key if a.sponsor else None,
         "valid_from": a.valid_from, "valid_to": a.valid_to}
        for a in affiliations
    ]


@router.get("/audit", response=list[AuditOut])
def audit_trail(request, site: str | None = None, object_type: str | None = None, limit: int = 200):
    sites = scoped_sites(request, Cap.VIEW_AUDIT)
    entries = AuditEntry.objects.all()
    if not can(request.auth, Cap.MANAGE_USERS):  # organisation-wide entries are for administrators
        entries = entries.filter(site_slug__in=list(sites.values_list("slug", flat=True)))
    if site:
        entries = entries.filter(site_slug=site)
    if object_type:
        entries = entries.filter(object_type=object_type)
    return entries[: min(limit, 5000)]


@router.get("/sites/{slug}/export", summary="The site as a site file (YAML)")
def export_site(request, slug: str):
    site = get_object_or_404(scoped_sites(request, Cap.EXPORT).select_related("organisation"), slug=slug)
    from linewatch.core.sitefile.exporter import export_text

    return HttpResponse(export_text(site), content_type="application/yaml; charset=utf-8")
