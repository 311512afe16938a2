"""Read queries the web pages need beyond core.services: plain functions, no request objects,
so they can move into `linewatch.core.services` and serve the API and CLI too.

Every function takes a user (or already scoped sites) and returns only what that user may see,
with the same scoping rules as the API (`services.asset_scope`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from linewatch.core import services
from linewatch.core.choices import ASSET_KIND_DOMAIN, OWNERSHIP_PRECEDENCE, Domain, PurdueLevel, RaciRole
from linewatch.core.models import (
    Area,
    Asset,
    Conduit,
    Dependency,
    Door,
    Line,
    Ownership,
    Site,
    Team,
    TeamMember,
    Zone,
)
from linewatch.core.permissions import Cap, visible_sites

# Purdue levels from the enterprise down to the process, as the diagrams stack them.
PURDUE_TOP_DOWN: tuple[str, ...] = tuple(sorted(PurdueLevel.values, key=float, reverse=True))
PHYSICAL_KINDS = services.PHYSICAL_KINDS
kinds_of_domain = services.kinds_of_domain
asset_scope = services.asset_scope
filter_assets = services.filter_assets


@dataclass
class AssetRelations:
    """What an asset needs, what needs it, and the doors it serves."""

    needs: list[Dependency]
    needed_by: list[Dependency]
    controls: list[Door]
    reads: list[Door]


def asset_relations(asset: Asset) -> AssetRelations:
    members = Prefetch("members", queryset=Asset.objects.select_related("site").order_by("name"))
    return AssetRelations(
        needs=list(asset.dependencies.prefetch_related(members)),
        needed_by=list(
            Dependency.objects.filter(members=asset).select_related("line", "line__site", "asset", "asset__site")
            .prefetch_related(members)
        ),
        controls=list(asset.controlled_doors.select_related("area")),
        reads=list(asset.reader_doors.select_related("area")),
    )


def lines_by_id(ids: Iterable[int]) -> dict[int, Line]:
    return {li.pk: li for li in Line.objects.filter(pk__in=list(ids)).select_related("site")}


# ---------------------------------------------------------------- sites


@dataclass
class SiteSummary:
    site: Site
    plant: bool  # the user holds VIEW_PLANT here: zones, lines, every asset, ownership
    assets_by_domain: dict[str, int] = field(default_factory=dict)
    areas: int = 0
    doors: int = 0
    zones: int = 0
    conduits: int = 0
    lines: int = 0
    cost_per_hour: float = 0.0
    gaps: int = 0

    @property
    def assets(self) -> int:
        return sum(self.assets_by_domain.values())


def site_summaries(user, sites: QuerySet[Site] | None = None,
                   gaps: list[services.OwnershipGap] | None = None) -> list[SiteSummary]:
    """Each visible site at a glance, with the plant figures only where the user may see them.
    `gaps` are the ownership gaps of the user's plant sites, when the caller has them already."""
    if sites is None:
        sites = visible_sites(user, Cap.VIEW_SITES)
    sites = sites.select_related("organisation")
    plant_sites = visible_sites(user, Cap.VIEW_PLANT).filter(pk__in=sites.values("pk"))
    plant_ids = set(plant_sites.values_list("pk", flat=True))
    out = {s.pk: SiteSummary(s, s.pk in plant_ids) for s in sites}
    if not out:
        return []
    for summary in out.values():
        summary.assets_by_domain = {d: 0 for d in Domain.values if summary.plant or d == Domain.PHYSICAL}
    for site_id, kind, n in asset_scope(user).filter(site__in=sites).values_list("site_id", "kind").annotate(
            n=Count("id")).order_by():
        domain = ASSET_KIND_DOMAIN[kind]
        out[site_id].assets_by_domain[domain] = out[site_id].assets_by_domain.get(domain, 0) + n
    for site_id, n in Area.objects.filter(site__in=sites).values_list("site_id").annotate(n=Count("id")).order_by():
        out[site_id].areas = n
    for site_id, n in Door.objects.filter(site__in=sites).values_list("site_id").annotate(n=Count("id")).order_by():
        out[site_id].doors = n
    for site_id, n in Zone.objects.filter(site__in=plant_sites).values_list("site_id").annotate(
            n=Count("id")).order_by():
        out[site_id].zones = n
    for site_id, n in Conduit.objects.filter(site__in=plant_sites).values_list("site_id").annotate(
            n=Count("id")).order_by():
        out[site_id].conduits = n
    for site_id, n, cost in Line.objects.filter(site__in=plant_sites).values_list("site_id").annotate(
            n=Count("id"), cost=Sum("downtime_cost_per_hour")).order_by():
        out[site_id].lines = n
        out[site_id].cost_per_hour = float(cost or 0)
    if plant_ids:
        for gap in services.ownership_gaps(plant_sites) if gaps is None else gaps:
            if gap.asset.site_id in plant_ids:
                out[gap.asset.site_id].gaps += 1
    return list(out.values())


def site_teams(sites: Iterable[Site] | QuerySet[Site]) -> QuerySet[Team]:
    """Teams defined at the sites or holding an ownership rule there, with their members."""
    return (
        Team.objects.filter(Q(site__in=sites) | Q(ownership_rules__site__in=sites))
        .select_related("site", "company")
        .prefetch_related(Prefetch("memberships", queryset=TeamMember.objects.select_related("person")
                                   .order_by("-is_lead", "person__name")))
        .distinct()
        .order_by("name")
    )


def areas_with_doors(site: Site) -> list[Area]:
    return list(
        site.areas.select_related("parent").prefetch_related(
            Prefetch("doors", queryset=Door.objects.select_related("controller", "controller__site")
                     .prefetch_related("readers", "readers__site")),
        )
    )


def zones_top_down(site: Site) -> list[Zone]:
    """The site's zones from the enterprise level down, each with its asset count."""
    zones = list(site.zones.annotate(asset_count=Count("assets")))
    order = {level: i for i, level in enumerate(PURDUE_TOP_DOWN)}
    return sorted(zones, key=lambda z: (order.get(z.purdue_level, 99), z.name))


def conduits_of(site: Site) -> list[Conduit]:
    return list(site.conduits.select_related("from_zone", "to_zone"))


# ---------------------------------------------------------------- lines


def lines_with_groups(sites: QuerySet[Site]) -> QuerySet[Line]:
    return (Line.objects.filter(site__in=sites).select_related("site", "area", "site__organisation")
            .annotate(group_count=Count("dependencies")).order_by("-downtime_cost_per_hour", "site__slug", "name"))


@dataclass
class Upstream:
    asset: Asset
    via: list[str]  # names from the line's direct member down to this asset


def line_upstream(line: Line) -> list[Upstream]:
    """Assets the line needs through its members' own dependencies (a PLC's switch), nearest first."""
    direct = set(Asset.objects.filter(dependents__line=line).values_list("pk", flat=True))
    seen = set(direct)
    frontier = {pk: [name] for pk, name in Asset.objects.filter(pk__in=direct).values_list("pk", "name")}
    found: list[Upstream] = []
    while frontier:
        nxt: dict[int, list[str]] = {}
        deps = Dependency.objects.filter(asset_id__in=frontier).prefetch_related(
            Prefetch("members", queryset=Asset.objects.select_related("site")))
        for dep in deps:
            for member in dep.members.all():
                if member.pk in seen:
                    continue
                seen.add(member.pk)
                chain = [*frontier[dep.asset_id], member.name]
                found.append(Upstream(member, chain))
                nxt[member.pk] = chain
        frontier = nxt
    return found


def single_points_of_failure(line: Line, assets: Iterable[Asset]) -> set[int]:
    """Of the given assets, those whose loss alone stops the line."""
    graph = services.plant_graph()
    key = str(line.pk)
    out = set()
    for asset in assets:
        for impact in graph.evaluate([str(asset.pk)]).lines:
            if impact.line.key == key and impact.status == "stopped":
                out.add(asset.pk)
    return out


# ---------------------------------------------------------------- ownership


@dataclass
class RuleRow:
    """The rules for one target (the whole site, one asset kind, one asset), by RACI role."""

    scope: str
    kind: str = ""
    asset: Asset | None = None
    teams: dict[str, list[Team]] = field(default_factory=dict)

    @property
    def by_role(self) -> list[tuple[str, list[Team]]]:
        return [(role, self.teams.get(role, [])) for role in RaciRole.values]


def ownership_rules(sites: QuerySet[Site]) -> dict[Site, list[RuleRow]]:
    """Each site's ownership rules as a RACI matrix: the site-wide row, then a row per asset
    kind, then a row per asset."""
    out: dict[Site, list[RuleRow]] = {site: [] for site in sites}
    rows: dict[tuple, RuleRow] = {}
    order = {scope: i for i, scope in enumerate(reversed(OWNERSHIP_PRECEDENCE))}
    rules = Ownership.objects.filter(site__in=sites).select_related("site", "team", "asset").order_by("team__name")
    for rule in sorted(rules, key=lambda r: (r.site.slug, order[r.scope], r.kind, r.asset.name if r.asset else "")):
        key = (rule.site_id, rule.scope, rule.kind, rule.asset_id)
        if key not in rows:
            rows[key] = RuleRow(rule.scope, rule.kind, rule.asset)
            out[rule.site].append(rows[key])
        rows[key].teams.setdefault(rule.role, []).append(rule.team)
    return out


def owners_for(assets: Iterable[Asset]) -> dict[int, services.Owners]:
    """Resolved owners of many assets at once (one query per call, not per asset)."""
    assets = list(assets)
    by_site: dict[int, Site] = {a.site_id: a.site for a in assets}
    if not by_site:
        return {}
    index = services.OwnershipIndex(list(by_site.values()))
    return {a.pk: index.resolve(a) for a in assets}


def gap_counts(gaps: Iterable[services.OwnershipGap]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for gap in gaps:
        counts[gap.problem] += 1
    return dict(counts)
