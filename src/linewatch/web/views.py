"""Web pages. They call core.services, core.permissions and web.queries; no business logic lives here.

Every view first asks for the capability the page needs anywhere (403 without it), then looks
objects up only among the sites where the user holds it, so an object elsewhere is a 404.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404, render

from linewatch.core import services
from linewatch.core.choices import Criticality, Domain, RaciRole
from linewatch.core.models import Asset, Line, Site, Zone
from linewatch.core.permissions import Cap, can, visible_sites
from linewatch.web import diagram, queries

PAGE_SIZE = 50
HOME_TOP = 6  # lines and ownership gaps on the home page
ASSET_FILTERS = ("site", "kind", "domain", "zone", "criticality", "q")


def _sites(request, cap: Cap) -> QuerySet[Site]:
    """The sites where the user holds `cap`; 403 when they hold it nowhere."""
    if not can(request.user, cap):
        raise PermissionDenied(f"Your role does not allow this page ({cap.value}).")
    return visible_sites(request.user, cap)


def home(request):
    sites = _sites(request, Cap.VIEW_SITES)
    plant_sites = visible_sites(request.user, Cap.VIEW_PLANT).filter(pk__in=sites.values("pk"))
    gaps = services.ownership_gaps(plant_sites) if plant_sites.exists() else []
    summaries = queries.site_summaries(request.user, sites, gaps=gaps)
    lines = list(queries.lines_with_groups(plant_sites)[:HOME_TOP])
    currencies = {s.site.organisation.currency for s in summaries if s.plant}
    return render(request, "web/home.html", {
        "summaries": summaries,
        "any_plant": any(s.plant for s in summaries),
        "total_gaps": len(gaps),
        "total_cost": sum(s.cost_per_hour for s in summaries),
        "currency": currencies.pop() if len(currencies) == 1 else "",
        "top_gaps": gaps[:HOME_TOP],
        "top_lines": lines,
        "max_cost": max((float(li.downtime_cost_per_hour) for li in lines), default=0.0),
    })


def site_list(request):
    sites = _sites(request, Cap.VIEW_SITES)
    summaries = queries.site_summaries(request.user, sites)
    return render(request, "web/sites.html", {"summaries": summaries, "any_plant": any(s.plant for s in summaries)})


def site_detail(request, slug: str):
    site = get_object_or_404(_sites(request, Cap.VIEW_SITES).select_related("organisation"), slug=slug)
    plant = can(request.user, Cap.VIEW_PLANT, site)
    context = {"site": site, "plant": plant, "areas": queries.areas_with_doors(site)}
    if plant:
        context.update(
            zones=queries.zones_top_down(site),
            lines=list(site.lines.select_related("area").order_by("-downtime_cost_per_hour", "name")),
            teams=list(queries.site_teams([site])),
            show_people=can(request.user, Cap.VIEW_PEOPLE, site),
        )
    return render(request, "web/site.html", context)


def zone_index(request):
    sites = _sites(request, Cap.VIEW_PLANT)
    return render(request, "web/zones_index.html", {"summaries": queries.site_summaries(request.user, sites)})


def site_zones(request, slug: str):
    site = get_object_or_404(_sites(request, Cap.VIEW_PLANT), slug=slug)
    zones = queries.zones_top_down(site)
    conduits = queries.conduits_of(site)
    return render(request, "web/site_zones.html", {
        "site": site, "zones": zones, "conduits": conduits, "diagram": diagram.layout(zones, conduits),
    })


def asset_list(request):
    _sites(request, Cap.VIEW_SITES)
    user = request.user
    scope = queries.asset_scope(user)
    filters = {key: request.GET.get(key, "").strip() for key in ASSET_FILTERS}
    assets = queries.filter_assets(scope, **filters).prefetch_related("interfaces").order_by("site__slug", "name")
    page = Paginator(assets, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    owners = queries.owners_for(rows)
    plant_sites = visible_sites(user, Cap.VIEW_PLANT)
    zone_choices = (Zone.objects.filter(site__in=plant_sites).order_by("slug").values_list("slug", flat=True)
                    .distinct())
    if filters["site"]:
        zone_choices = zone_choices.filter(site__slug=filters["site"])
    domains = [(d, label) for d, label in Domain.choices if plant_sites.exists() or d == Domain.PHYSICAL]
    kinds = sorted(set(scope.order_by().values_list("kind", flat=True).distinct()))
    return render(request, "web/assets.html", {
        "page": page,
        "rows": [(a, owners.get(a.pk)) for a in rows],
        "filters": filters,
        "filtered": any(filters.values()),
        "site_choices": visible_sites(user, Cap.VIEW_SITES),
        "kind_choices": kinds,
        "domain_choices": domains,
        "zone_choices": list(zone_choices),
        "criticality_choices": Criticality.choices,
        "show_plant": plant_sites.exists(),
    })


def asset_detail(request, site: str, name: str):
    _sites(request, Cap.VIEW_SITES)
    asset = get_object_or_404(
        queries.asset_scope(request.user).select_related("site__organisation").prefetch_related("interfaces"),
        site__slug=site, name=name,
    )
    plant = can(request.user, Cap.VIEW_PLANT, asset.site)
    owners = services.owners_of(asset)
    context = {
        "asset": asset,
        "plant": plant,
        "owners": owners,
        "owner_rows": [(role, label, owners.teams.get(role, []), owners.scope.get(role, ""))
                       for role, label in RaciRole.choices],
        "relations": queries.asset_relations(asset),
    }
    if plant:
        result = services.consequence([asset])
        consequence = services.consequence_as_dict(result, asset.site.organisation.currency)
        lines = queries.lines_by_id(li["id"] for li in consequence["lines"])
        for li in consequence["lines"]:
            li["obj"] = lines.get(li["id"])
        consequence["chains"] = sorted(
            ((name, chain) for name, chain in consequence["down"].items() if name != asset.name),
            key=lambda item: (len(item[1]), item[0]),
        )
        context["consequence"] = consequence
        context["visible_ids"] = set(queries.asset_scope(request.user).values_list("pk", flat=True).filter(
            pk__in=[a.pk for dep in context["relations"].needs + context["relations"].needed_by
                    for a in dep.members.all()]))
    return render(request, "web/asset.html", context)


def line_list(request):
    sites = _sites(request, Cap.VIEW_PLANT)
    site = request.GET.get("site", "").strip()
    lines = queries.lines_with_groups(sites.filter(slug=site) if site else sites)
    lines = list(lines)
    return render(request, "web/lines.html", {
        "lines": lines,
        "site_choices": sites,
        "site": site,
        "max_cost": max((float(li.downtime_cost_per_hour) for li in lines), default=0.0),
        "total_cost": sum(float(li.downtime_cost_per_hour) for li in lines),
    })


def line_detail(request, site: str, slug: str):
    sites = _sites(request, Cap.VIEW_PLANT)
    line = get_object_or_404(Line.objects.filter(site__in=sites).select_related("site__organisation", "area"),
                             site__slug=site, slug=slug)
    members = Prefetch("members", queryset=Asset.objects.select_related("site", "zone").order_by("name"))
    groups = list(line.dependencies.prefetch_related(members).order_by("effect", "name"))
    upstream = queries.line_upstream(line)
    candidates = [a for g in groups for a in g.members.all()] + [u.asset for u in upstream]
    visible = set(queries.asset_scope(request.user).filter(pk__in=[a.pk for a in candidates])
                  .values_list("pk", flat=True))
    return render(request, "web/line.html", {
        "line": line,
        "groups": groups,
        "upstream": upstream,
        "spof": queries.single_points_of_failure(line, candidates),
        "visible_ids": visible,
        "currency": line.site.organisation.currency,
    })


def ownership(request):
    sites = _sites(request, Cap.VIEW_PLANT)
    site = request.GET.get("site", "").strip()
    scoped = sites.filter(slug=site) if site else sites
    gaps = services.ownership_gaps(scoped)
    return render(request, "web/ownership.html", {
        "gaps": gaps,
        "gap_counts": queries.gap_counts(gaps),
        "kind_gaps": services.kind_gaps(scoped),
        "rules": queries.ownership_rules(scoped),
        "teams": list(queries.site_teams(scoped)),
        "site_choices": sites,
        "site": site,
        "show_people": can(request.user, Cap.VIEW_PEOPLE),
    })
