"""Operations on the plant model that the UI, the API and the CLI share: consequence,
ownership resolution, ownership gaps, asset lookup. Views and commands call these; they hold
no business logic of their own."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max, Q, QuerySet

from linewatch.core.choices import ASSET_KIND_DOMAIN, OWNERSHIP_PRECEDENCE, Domain, RaciRole
from linewatch.core.engine.consequence import AssetSpec, Consequence, Group, LineSpec, PlantGraph
from linewatch.core.models import Asset, AuditEntry, Dependency, Door, Interface, Line, Ownership, Site, Team
from linewatch.core.permissions import Cap, visible_sites
from linewatch.errors import InputError

# ---------------------------------------------------------------- asset scope and filters

PHYSICAL_KINDS: tuple[str, ...] = tuple(k for k, d in ASSET_KIND_DOMAIN.items() if d == Domain.PHYSICAL)


def kinds_of_domain(domain: str) -> list[str]:
    return [k for k, d in ASSET_KIND_DOMAIN.items() if d == domain]


# ---------------------------------------------------------------- assets


def asset_scope(user) -> QuerySet[Asset]:
    """The assets the user may see: every asset where they hold VIEW_PLANT, and the
    physical-security devices where they only hold VIEW_SITES (guards)."""
    return Asset.objects.filter(
        Q(site__in=visible_sites(user, Cap.VIEW_PLANT))
        | Q(site__in=visible_sites(user, Cap.VIEW_SITES), kind__in=PHYSICAL_KINDS)
    ).select_related("site", "zone", "area")


def filter_assets(
    assets: QuerySet[Asset], *, site: str = "", kind: str = "", domain: str = "", zone: str = "",
    criticality: str = "", q: str = "",
) -> QuerySet[Asset]:
    """Narrow an asset query by the list filters; `q` matches name, vendor, model, serial,
    IP address (prefix) or MAC address (any part, case-insensitive)."""
    if site:
        assets = assets.filter(site__slug=site)
    if kind:
        assets = assets.filter(kind=kind)
    if domain:
        assets = assets.filter(kind__in=kinds_of_domain(domain))
    if zone:
        assets = assets.filter(zone__slug=zone)
    if criticality:
        assets = assets.filter(criticality=criticality)
    if q := q.strip():
        matching = Asset.objects.filter(
            Q(name__icontains=q) | Q(vendor__icontains=q) | Q(model__icontains=q) | Q(serial__icontains=q)
            | Q(interfaces__ip__startswith=q) | Q(interfaces__mac__icontains=q.lower())
        ).values("pk")
        assets = assets.filter(pk__in=matching)
    return assets


# ---------------------------------------------------------------- consequence


_graph_lock = threading.Lock()
_graph_cache: dict[str, tuple[int | None, Any]] = {}


def _model_version() -> int | None:
    """The newest audit entry: every change to the model writes one, so it versions the model."""
    return AuditEntry.objects.aggregate(v=Max("id"))["v"]


def build_graph() -> PlantGraph:
    groups_by_line: dict[int, list[Group]] = defaultdict(list)
    groups_by_asset: dict[int, list[Group]] = defaultdict(list)
    members: dict[int, list[str]] = defaultdict(list)
    for dep_id, asset_id in Dependency.members.through.objects.values_list("dependency_id", "asset_id"):
        members[dep_id].append(str(asset_id))
    for dep in Dependency.objects.all().values("id", "line_id", "asset_id", "name", "effect", "required",
                                               "capacity_loss"):
        group = Group(dep["name"], tuple(sorted(members[dep["id"]])), dep["required"], dep["effect"],
                      dep["capacity_loss"])
        (groups_by_line[dep["line_id"]] if dep["line_id"] else groups_by_asset[dep["asset_id"]]).append(group)
    sites = dict(Site.objects.values_list("id", "slug"))
    assets = [
        AssetSpec(str(a["id"]), a["name"], sites[a["site_id"]], a["kind"], tuple(groups_by_asset.get(a["id"], ())))
        for a in Asset.objects.values("id", "name", "site_id", "kind")
    ]
    lines = [
        LineSpec(str(li.pk), li.name, sites[li.site_id], float(li.downtime_cost_per_hour), li.trucks_per_day,
                 float(li.perishable_value), li.hours_to_spoil, li.safety_critical,
                 tuple(groups_by_line.get(li.pk, ())))
        for li in Line.objects.all()
    ]
    return PlantGraph(assets, lines)


def cached(name: str, build: Callable[[], Any]) -> Any:
    """`build()`'s result, kept until the plant model changes (any write moves the audit trail)."""
    version = _model_version()
    with _graph_lock:
        cached = _graph_cache.get(name)
        if cached and cached[0] == version:
            return cached[1]
    value = build()
    with _graph_lock:
        _graph_cache[name] = (version, value)
    return value


def plant_graph() -> PlantGraph:
    """The graph of the current model, rebuilt only when the model has changed."""
    return cached("graph", build_graph)


@dataclass(frozen=True, slots=True)
class AssetRef:
    """What enrichment needs of an asset, without a database round trip per event."""

    id: int
    name: str
    site: str
    kind: str
    zone: str
    criticality: str
    purdue_level: str = ""
    area: str = ""

    @property
    def domain(self) -> str:
        return ASSET_KIND_DOMAIN[self.kind]


class AssetIndex:
    """Assets by IP address, MAC and name, for enriching events at stream speed."""

    def __init__(self) -> None:
        self.by_ip: dict[str, AssetRef] = {}
        self.by_mac: dict[str, AssetRef] = {}
        self.by_name: dict[str, list[AssetRef]] = {}
        refs = {
            a["id"]: AssetRef(a["id"], a["name"], a["site__slug"], a["kind"], a["zone__slug"] or "", a["criticality"],
                              a["zone__purdue_level"] or "", a["area__slug"] or "")
            for a in Asset.objects.values("id", "name", "site__slug", "kind", "zone__slug", "criticality",
                                          "zone__purdue_level", "area__slug")
        }
        for ref in refs.values():
            self.by_name.setdefault(ref.name.lower(), []).append(ref)
        # A door event names the door; the device behind it is the door's controller.
        self.by_door: dict[tuple[str, str], AssetRef] = {
            (site, door): refs[controller]
            for site, door, controller in Door.objects.exclude(controller=None).values_list(
                "site__slug", "slug", "controller_id")
        }
        for asset_id, ip, mac in Interface.objects.values_list("asset_id", "ip", "mac"):
            if ip:
                self.by_ip.setdefault(ip, refs[asset_id])
            if mac:
                self.by_mac.setdefault(mac, refs[asset_id])

    def lookup(self, value: str, site: str = "") -> AssetRef | None:
        """An asset by IP, MAC or (site-unique) host name."""
        if not value:
            return None
        value = str(value)
        found = self.by_ip.get(value) or self.by_mac.get(value.lower().replace("-", ":"))
        if found:
            return found
        named = self.by_name.get(value.lower().split(".")[0], [])
        if site:
            named = [r for r in named if r.site == site]
        return named[0] if len(named) == 1 else None


def asset_index() -> AssetIndex:
    """The index of the current model, rebuilt only when the model has changed."""
    return cached("assets", AssetIndex)


def find_assets(refs: Iterable[str], sites: QuerySet[Site] | None = None) -> list[Asset]:
    """Resolve `site/name`, a bare name (when unique), an IP address or an id to assets.

    Raises InputError naming the reference that matches nothing or more than one asset.
    """
    scope = Asset.objects.select_related("site")
    if sites is not None:
        scope = scope.filter(site__in=sites)
    found = []
    for ref in refs:
        if "/" in ref:
            site, _, name = ref.partition("/")
            query = Q(site__slug=site, name=name)
        elif ref.isdigit():
            query = Q(pk=int(ref))
        else:
            query = Q(name=ref) | Q(interfaces__ip=ref) if _looks_like_ip(ref) else Q(name=ref)
        matches = list(scope.filter(query).distinct()[:2])
        if not matches:
            raise InputError("asset", ref, "no such asset (use site/name, a name, an IP address or an id)")
        if len(matches) > 1:
            raise InputError("asset", ref, f"ambiguous: {matches[0].site.slug}/{ref} and "
                                           f"{matches[1].site.slug}/{ref}; use site/name")
        found.append(matches[0])
    return found


def _looks_like_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def consequence(assets: Iterable[Asset], hours_down: float = 0.0) -> Consequence:
    return plant_graph().evaluate([str(a.pk) for a in assets], hours_down)


def consequence_as_dict(result: Consequence, currency: str = "EUR") -> dict:
    """The one JSON shape of a consequence, for the CLI, the API and the UI."""
    graph = plant_graph()
    return {
        "assets": [graph.name(k) for k in result.failed],
        "unknown": result.unknown,
        "currency": currency,
        "cost_per_hour": round(result.cost_per_hour, 2),
        "trucks_per_day": round(result.trucks_per_day, 1),
        "perishable_value_at_risk": round(result.perishable_value_at_risk, 2),
        "hours_to_first_spoilage": result.hours_to_first_spoilage,
        "safety_critical": result.safety_critical,
        "lines": [
            {
                "line": li.line.name,
                "site": li.line.site,
                "id": int(li.line.key),
                "status": li.status,
                "capacity_loss": li.capacity_loss,
                "cost_per_hour": round(li.cost_per_hour, 2),
                "trucks_per_day": round(li.trucks_per_day, 1),
                "perishable_value": li.line.perishable_value if li.status == "stopped" else 0,
                "hours_to_spoil": li.hours_left(result.hours_down),
                "safety_critical": li.line.safety_critical,
                "failed_groups": [g.as_dict() for g in li.failed_groups],
                "weakened_groups": [g.as_dict() for g in li.weakened_groups],
            }
            for li in result.lines
        ],
        "down": {graph.name(k): chain for k, chain in result.down.items()},
    }


# ---------------------------------------------------------------- ownership


@dataclass
class Owners:
    """Who owns an asset, per RACI role, and at which scope each answer was found."""

    teams: dict[str, list[Team]] = field(default_factory=dict)
    scope: dict[str, str] = field(default_factory=dict)

    @property
    def accountable(self) -> list[Team]:
        return self.teams.get(RaciRole.ACCOUNTABLE, [])

    @property
    def gap(self) -> bool:
        return not self.accountable

    @property
    def conflict(self) -> bool:
        return len(self.accountable) > 1


class OwnershipIndex:
    """All ownership rules of some sites, indexed for resolving many assets at once."""

    def __init__(self, sites: Iterable[Site] | QuerySet[Site]) -> None:
        self.by_asset: dict[int, dict[str, list[Team]]] = defaultdict(lambda: defaultdict(list))
        self.by_kind: dict[tuple[int, str], dict[str, list[Team]]] = defaultdict(lambda: defaultdict(list))
        self.by_site: dict[int, dict[str, list[Team]]] = defaultdict(lambda: defaultdict(list))
        for rule in Ownership.objects.filter(site__in=sites).select_related("team").order_by("team__slug"):
            if rule.scope == "asset":
                self.by_asset[rule.asset_id][rule.role].append(rule.team)
            elif rule.scope == "kind":
                self.by_kind[rule.site_id, rule.kind][rule.role].append(rule.team)
            else:
                self.by_site[rule.site_id][rule.role].append(rule.team)

    def resolve(self, asset: Asset) -> Owners:
        """Per role, the most specific scope with any rule wins: asset, then kind, then site."""
        owners = Owners()
        levels = {
            OWNERSHIP_PRECEDENCE[0]: self.by_asset.get(asset.pk, {}),
            OWNERSHIP_PRECEDENCE[1]: self.by_kind.get((asset.site_id, asset.kind), {}),
            OWNERSHIP_PRECEDENCE[2]: self.by_site.get(asset.site_id, {}),
        }
        for role in RaciRole.values:
            for scope, rules in levels.items():
                if rules.get(role):
                    owners.teams[role] = rules[role]
                    owners.scope[role] = scope
                    break
        return owners


def owners_of(asset: Asset) -> Owners:
    """The asset's owners, from an index of every site's rules kept until the model changes
    (alerts ask this for every new alert; the rules change rarely)."""
    return cached("ownership", lambda: OwnershipIndex(Site.objects.all())).resolve(asset)


@dataclass
class OwnershipGap:
    asset: Asset
    owners: Owners
    problem: str  # "no accountable owner" or "conflicting owners"
    cost_per_hour: float


def ownership_gaps(sites: QuerySet[Site]) -> list[OwnershipGap]:
    """Assets with no accountable team or more than one, the costliest to lose first."""
    index = OwnershipIndex(sites)
    graph = plant_graph()
    gaps = []
    for asset in Asset.objects.filter(site__in=sites).select_related("site"):
        owners = index.resolve(asset)
        if owners.gap or owners.conflict:
            cost = graph.evaluate([str(asset.pk)]).cost_per_hour
            problem = "no accountable owner" if owners.gap else "conflicting owners"
            gaps.append(OwnershipGap(asset, owners, problem, cost))
    gaps.sort(key=lambda g: (-g.cost_per_hour, g.asset.site.slug, g.asset.name))
    return gaps


def kind_gaps(sites: QuerySet[Site]) -> list[dict]:
    """Asset kinds present at a site with no accountable team at kind or site level."""
    index = OwnershipIndex(sites)
    out = []
    kinds = Asset.objects.filter(site__in=sites).values_list("site_id", "site__slug", "kind").distinct()
    for site_id, slug, kind in sorted(set(kinds), key=lambda k: (k[1], k[2])):
        kind_rules = index.by_kind.get((site_id, kind), {}).get(RaciRole.ACCOUNTABLE, [])
        site_rules = index.by_site.get(site_id, {}).get(RaciRole.ACCOUNTABLE, [])
        teams = kind_rules or site_rules
        if len(teams) != 1:
            out.append({"site": slug, "kind": kind, "domain": ASSET_KIND_DOMAIN[kind],
                        "problem": "no accountable owner" if not teams else "conflicting owners",
                        "teams": [t.slug for t in teams]})
    return out


# ---------------------------------------------------------------- people


def describe_person(name: str, site_slug: str = "") -> dict[str, Any] | None:
    """The person an account or badge name refers to (by key, e-mail or e-mail name), with their
    standing at the site: who they work for, as what, who sponsors them, until when."""
    from linewatch.core.models import Person, SiteAffiliation

    text = (name or "").strip().rsplit("\\", 1)[-1]
    if not text:
        return None
    people = Person.objects.select_related("company")
    if site_slug:
        people = people.filter(organisation__sites__slug=site_slug)
    person = (people.filter(key__iexact=text).first() or people.filter(email__iexact=text).first()
              or people.filter(email__istartswith=f"{text.split('@')[0]}@").first())
    if person is None:
        return None
    out: dict[str, Any] = {"key": person.key, "name": person.name,
                           "company": person.company.name if person.company else ""}
    affiliation = SiteAffiliation.objects.filter(person=person, site__slug=site_slug).select_related(
        "sponsor").first() if site_slug else None
    if affiliation:
        out.update({"affiliation": affiliation.kind, "sponsor": affiliation.sponsor.name if affiliation.sponsor else "",
                    "valid_to": affiliation.valid_to.isoformat() if affiliation.valid_to else None})
    return out
