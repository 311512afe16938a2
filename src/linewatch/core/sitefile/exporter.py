"""Export a site as a site file. Deterministic: lists sorted by key, empty values left out,
so export → import → export gives the same bytes."""

from __future__ import annotations

from typing import Any

import yaml

from linewatch.core.models import (
    Area,
    Asset,
    Company,
    Conduit,
    Dependency,
    Door,
    Line,
    Ownership,
    Site,
    SiteAffiliation,
    Team,
    Zone,
)
from linewatch.core.sitefile import convert
from linewatch.core.sitefile.schema import FORMAT_VERSION
from linewatch.workforce.models import (
    Authorisation,
    PlantCalendar,
    PlantHoliday,
    WorkOrder,
    ZoneOwner,
    ZoneRequirement,
)


def _compact(mapping: dict[str, Any]) -> dict[str, Any]:
    """Leave out what is empty, so files stay short and defaults stay implicit."""
    return {k: v for k, v in mapping.items() if v not in (None, "", [], {})}


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_presenter)


def dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)


def _dependencies(deps: list[Dependency], for_line: bool) -> list[dict[str, Any]]:
    out = []
    for dep in sorted(deps, key=lambda d: d.name):
        members = sorted(a.name for a in dep.members.all())
        item: dict[str, Any] = {"name": dep.name} if dep.name != "+".join(members) else {}
        item["assets"] = members
        if dep.required != 1:
            item["required"] = dep.required
        if for_line:
            item["effect"] = dep.effect
            if dep.capacity_loss is not None:
                item["capacity_loss"] = convert.number_to_file(dep.capacity_loss)
        out.append(item)
    return out


def export_site(site: Site) -> dict[str, Any]:
    org = site.organisation
    tz = site.timezone
    affiliations = list(
        SiteAffiliation.objects.filter(site=site).select_related("person", "person__company", "sponsor")
    )
    teams = list(Team.objects.filter(site=site).select_related("company").prefetch_related("memberships__person"))
    company_slugs = {a.person.company.slug for a in affiliations if a.person.company}
    company_slugs |= {t.company.slug for t in teams if t.company}
    deps_by_line: dict[int, list[Dependency]] = {}
    deps_by_asset: dict[int, list[Dependency]] = {}
    for dep in Dependency.objects.filter(site=site).prefetch_related("members"):
        target = deps_by_line if dep.line_id else deps_by_asset
        target.setdefault(dep.line_id or dep.asset_id, []).append(dep)

    data: dict[str, Any] = {
        "linewatch": FORMAT_VERSION,
        "organisation": {"slug": org.slug, "name": org.name, "currency": org.currency},
        "site": _compact({
            "slug": site.slug, "name": site.name, "kind": site.kind, "timezone": tz, "address": site.address,
            "latitude": site.latitude, "longitude": site.longitude, "description": site.description,
        }),
        "calendar": _calendar(site),
        "companies": [
            _compact({
                "slug": c.slug, "name": c.name, "kind": c.kind, "risk_standing": c.risk_standing,
                "contract_expires": convert.date_to_file(c.contract_expires),
                "insurance_expires": convert.date_to_file(c.insurance_expires),
            })
            for c in Company.objects.filter(organisation=org, slug__in=company_slugs).order_by("slug")
        ],
        "people": [
            _compact({
                "key": a.person.key, "name": a.person.name, "email": a.person.email, "phone": a.person.phone,
                "title": a.person.title, "company": a.person.company.slug if a.person.company else None,
                "affiliation": a.kind, "sponsor": a.sponsor.key if a.sponsor else None,
                "valid_from": convert.date_to_file(a.valid_from), "valid_to": convert.date_to_file(a.valid_to),
            })
            for a in sorted(affiliations, key=lambda a: a.person.key)
        ],
        "teams": [
            _compact({
                "slug": t.slug, "name": t.name, "kind": t.kind, "email": t.email, "phone": t.phone,
                "company": t.company.slug if t.company else None,
                "members": [
                    {"person": m.person.key, **({"lead": True} if m.is_lead else {})}
                    for m in sorted(t.memberships.all(), key=lambda m: m.person.key)
                ],
            })
            for t in sorted(teams, key=lambda t: t.slug)
        ],
        "zones": [
            _compact({
                "slug": z.slug, "name": z.name, "purdue_level": convert.purdue_to_file(z.purdue_level),
                "security_level_target": z.security_level_target, "cidrs": z.cidrs, "description": z.description,
            })
            for z in Zone.objects.filter(site=site).order_by("slug")
        ],
        "conduits": [
            _compact({
                "slug": c.slug, "from": c.from_zone.slug, "to": c.to_zone.slug, "services": c.services,
                "direction": c.direction, "description": c.description,
            })
            for c in Conduit.objects.filter(site=site).select_related("from_zone", "to_zone").order_by("slug")
        ],
        "areas": _areas(site),
        "assets": [
            _compact({
                "name": a.name, "kind": a.kind, "vendor": a.vendor, "model": a.model, "firmware": a.firmware,
                "serial": a.serial, "zone": a.zone.slug if a.zone else None, "area": a.area.slug if a.area else None,
                "criticality": a.criticality, "description": a.description, "tags": a.tags,
                "interfaces": [
                    _compact({"name": i.name, "ip": i.ip, "mac": i.mac, "vlan": i.vlan})
                    for i in sorted(a.interfaces.all(), key=lambda i: i.name)
                ],
                "depends_on": _dependencies(deps_by_asset.get(a.pk, []), for_line=False),
            })
            for a in Asset.objects.filter(site=site).select_related("zone", "area")
            .prefetch_related("interfaces").order_by("name")
        ],
        "lines": [
            _compact({
                "slug": li.slug, "name": li.name, "kind": li.kind, "area": li.area.slug if li.area else None,
                "downtime_cost_per_hour": convert.money_to_file(li.downtime_cost_per_hour),
                "trucks_per_day": li.trucks_per_day,
                "perishable_value": convert.money_to_file(li.perishable_value),
                "hours_to_spoil": convert.number_to_file(li.hours_to_spoil) if li.hours_to_spoil is not None else None,
                "safety_critical": li.safety_critical, "description": li.description,
                "depends_on": _dependencies(deps_by_line.get(li.pk, []), for_line=True),
            })
            for li in Line.objects.filter(site=site).select_related("area").order_by("slug")
        ],
        "ownership": _ownership(site),
        "work_orders": [
            _compact({
                "key": w.key, "title": w.title, "status": w.status,
                "assignee": w.assignee.key if w.assignee else None,
                "approved_by": w.approved_by.key if w.approved_by else None,
                "line": w.line.slug if w.line else None, "assets": sorted(a.name for a in w.assets.all()),
                "starts_at": convert.datetime_to_file(w.starts_at, tz),
                "ends_at": convert.datetime_to_file(w.ends_at, tz),
            })
            for w in WorkOrder.objects.filter(site=site).select_related("assignee", "approved_by", "line")
            .prefetch_related("assets").order_by("key")
        ],
        "authorisations": [
            _compact({
                "person": g.person.key, "area": g.area.slug,
                "valid_from": convert.datetime_to_file(g.valid_from, tz),
                "valid_to": convert.datetime_to_file(g.valid_to, tz), "schedule": g.schedule,
                "granted_by": g.granted_by.key if g.granted_by else None, "reason": g.reason,
                "work_order": g.work_order.key if g.work_order else None,
            })
            for g in sorted(
                Authorisation.objects.filter(site=site).select_related("person", "area", "granted_by", "work_order"),
                key=lambda g: (g.person.key, g.area.slug),
            )
        ],
    }
    return _compact(data)


def _calendar(site: Site) -> dict[str, Any]:
    public = PlantCalendar.objects.filter(site=site).first()
    days = PlantHoliday.objects.filter(site=site).order_by("date")
    return _compact({
        "country": public.country if public else None, "subdivision": public.subdivision if public else None,
        "closed": [{"date": convert.date_to_file(d.date), "name": d.name} for d in days if d.closed],
        "open": [{"date": convert.date_to_file(d.date), "name": d.name} for d in days if not d.closed],
    })


def _areas(site: Site) -> list[dict[str, Any]]:
    doors: dict[int, list[Door]] = {}
    for door in Door.objects.filter(site=site).select_related("controller").prefetch_related("readers"):
        doors.setdefault(door.area_id, []).append(door)
    # sorted here, not by the database, whose collation may order '-' and '_' differently
    requires: dict[int, list[str]] = {}
    for r in ZoneRequirement.objects.filter(area__site=site):
        requires.setdefault(r.area_id, []).append(r.kind)
    owners: dict[int, list[str]] = {}
    for o in ZoneOwner.objects.filter(area__site=site).select_related("person"):
        owners.setdefault(o.area_id, []).append(o.person.key)
    return [
        _compact({
            "slug": a.slug, "name": a.name, "restricted_level": convert.restricted_to_file(a.restricted_level),
            "parent": a.parent.slug if a.parent else None, "description": a.description,
            "requires": sorted(requires.get(a.pk, [])), "owners": sorted(owners.get(a.pk, [])),
            "doors": [
                _compact({
                    "slug": d.slug, "name": d.name, "kind": d.kind,
                    "controller": d.controller.name if d.controller else None,
                    "readers": sorted(r.name for r in d.readers.all()),
                })
                for d in sorted(doors.get(a.pk, []), key=lambda d: d.slug)
            ],
        })
        for a in Area.objects.filter(site=site).select_related("parent").order_by("slug")
    ]


def _ownership(site: Site) -> list[dict[str, Any]]:
    order = {"site": 0, "kind": 1, "asset": 2}
    rules = Ownership.objects.filter(site=site).select_related("team", "asset")
    rules = sorted(rules, key=lambda r: (order[r.scope], r.kind, r.asset.name if r.asset else "", r.role, r.team.slug))
    return [
        _compact({"team": r.team.slug, "role": r.role, "asset": r.asset.name if r.asset else None, "kind": r.kind})
        for r in rules
    ]


def export_text(site: Site) -> str:
    return dump(export_site(site))
