"""Import site files: everything or nothing, and a repeated import changes nothing.

The file is the truth for its site: objects of the site that the file no longer lists are
removed. Organisation-wide people and companies are updated but never removed by a site file.
Every write goes through the model, so the audit trail records it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction

from linewatch.core import audit
from linewatch.core.models import (
    Area,
    Asset,
    Company,
    Conduit,
    Dependency,
    Door,
    Interface,
    Line,
    Organisation,
    Ownership,
    Person,
    Site,
    SiteAffiliation,
    Team,
    TeamMember,
    Zone,
)
from linewatch.core.sitefile import convert
from linewatch.core.sitefile.loader import Located, load_file
from linewatch.core.sitefile.validate import dependency_name, validate
from linewatch.workforce.models import (
    Authorisation,
    PlantCalendar,
    PlantHoliday,
    WorkOrder,
    ZoneOwner,
    ZoneRequirement,
)


@dataclass
class ImportReport:
    sites: list[str] = field(default_factory=list)
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    deleted: Counter = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sites": self.sites,
            "changed": self.changed,
            "created": dict(self.created),
            "updated": dict(self.updated),
            "deleted": dict(self.deleted),
        }


def _differs(obj: models.Model, name: str, value: Any) -> bool:
    f = obj._meta.get_field(name)
    if f.is_relation:
        return getattr(obj, f.attname) != (value.pk if value is not None else None)
    return getattr(obj, name) != value


class _Sync:
    """Upsert and prune helpers that write only what differs."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report

    def upsert(self, existing: dict, key: Any, model: type[models.Model], lookup: dict, values: dict):
        obj = existing.get(key)
        name = model._meta.model_name
        if obj is None:
            obj = model(**lookup, **values)
            obj.save()
            existing[key] = obj
            self.report.created[name] += 1
            return obj
        changed = [k for k, v in values.items() if _differs(obj, k, v)]
        if changed:
            for k in changed:
                setattr(obj, k, values[k])
            obj.save()
            self.report.updated[name] += 1
        return obj

    def set_members(self, obj: models.Model, field_name: str, targets: Iterable[models.Model]) -> None:
        manager = getattr(obj, field_name)
        wanted = {t.pk for t in targets}
        if set(manager.values_list("pk", flat=True)) != wanted:
            manager.set(wanted)
            self.report.updated[obj._meta.model_name] += 1

    def prune(self, queryset: models.QuerySet, keep: Iterable[models.Model]) -> None:
        keep_ids = {o.pk for o in keep}
        for obj in queryset.exclude(pk__in=keep_ids):
            obj.delete()
            self.report.deleted[obj._meta.model_name] += 1


def _index(queryset: models.QuerySet, *key_fields: str) -> dict:
    def key(obj):
        values = tuple(getattr(obj, f) for f in key_fields)
        return values[0] if len(values) == 1 else values

    return {key(obj): obj for obj in queryset}


class _SiteImporter:
    def __init__(self, doc: Located, sync: _Sync, shared: dict) -> None:
        self.d = doc.data
        self.sync = sync
        self.shared = shared

    # Files may refer to each other's companies, people and teams, so every file goes through
    # one phase before any file starts the next.
    PHASES = (("organisation_and_site", "companies"), ("people",), ("affiliations", "teams"),
              ("calendar", "zones", "areas", "area_people", "assets", "doors", "lines", "dependencies", "ownership",
               "work_orders", "authorisations"))

    def organisation_and_site(self) -> None:
        d, sync = self.d, self.sync
        o = d["organisation"]
        orgs = _index(Organisation.objects.filter(slug=o["slug"]), "slug")
        self.org = sync.upsert(orgs, o["slug"], Organisation, {"slug": o["slug"]},
                               {"name": o["name"], "currency": o.get("currency", "EUR")})
        s = d["site"]
        sites = _index(Site.objects.filter(slug=s["slug"]), "slug")
        self.site = sync.upsert(sites, s["slug"], Site, {"slug": s["slug"]}, {
            "organisation": self.org, "name": s["name"], "kind": s["kind"], "timezone": s["timezone"],
            "address": s.get("address", ""), "latitude": s.get("latitude"), "longitude": s.get("longitude"),
            "description": s.get("description", ""),
        })

    def companies(self) -> None:
        for c in self.d.get("companies", []):
            self.sync.upsert(self.company, c["slug"], Company, {"organisation": self.org, "slug": c["slug"]}, {
                "name": c["name"], "kind": c["kind"], "risk_standing": c.get("risk_standing", "low"),
                "contract_expires": convert.date_to_db(c.get("contract_expires")),
                "insurance_expires": convert.date_to_db(c.get("insurance_expires")),
            })

    @property
    def company(self) -> dict:
        return self.org_index(Company, "slug")

    @property
    def person(self) -> dict:
        return self.org_index(Person, "key")

    @property
    def team(self) -> dict:
        return self.org_index(Team, "slug")

    def org_index(self, model, key: str) -> dict:
        """One index per organisation-wide model, shared by every file of the import."""
        if (self.org.pk, model) not in self.shared:
            self.shared[self.org.pk, model] = _index(model.objects.filter(organisation=self.org), key)
        return self.shared[self.org.pk, model]

    def people(self) -> None:
        for p in self.d.get("people", []):
            self.sync.upsert(self.person, p["key"], Person, {"organisation": self.org, "key": p["key"]}, {
                "name": p["name"], "email": p.get("email", ""), "phone": p.get("phone", ""),
                "title": p.get("title", ""), "company": self.company.get(p.get("company")),
            })

    def affiliations(self) -> None:
        entries = self.d.get("people", [])
        existing = _index(SiteAffiliation.objects.filter(site=self.site).select_related("person"), "person_id")
        kept = []
        for p in entries:
            person = self.person[p["key"]]
            kept.append(self.sync.upsert(existing, person.pk, SiteAffiliation, {"person": person, "site": self.site}, {
                "kind": p["affiliation"], "sponsor": self.person.get(p.get("sponsor")),
                "valid_from": convert.date_to_db(p.get("valid_from")),
                "valid_to": convert.date_to_db(p.get("valid_to")),
            }))
        self.sync.prune(SiteAffiliation.objects.filter(site=self.site), kept)

    def teams(self) -> None:
        kept = []
        for t in self.d.get("teams", []):
            team = self.sync.upsert(self.team, t["slug"], Team, {"organisation": self.org, "slug": t["slug"]}, {
                "name": t["name"], "kind": t["kind"], "site": self.site, "email": t.get("email", ""),
                "phone": t.get("phone", ""), "company": self.company.get(t.get("company")),
            })
            kept.append(team)
            members = _index(team.memberships.all(), "person_id")
            kept_members = [
                self.sync.upsert(members, self.person[m["person"]].pk, TeamMember,
                                 {"team": team, "person": self.person[m["person"]]}, {"is_lead": m.get("lead", False)})
                for m in t.get("members", [])
            ]
            self.sync.prune(team.memberships.all(), kept_members)
        self.sync.prune(Team.objects.filter(site=self.site), kept)

    def calendar(self) -> None:
        """The site's public-holiday country and its own closed and open days; no country, no record."""
        c = self.d.get("calendar", {})
        existing = _index(PlantCalendar.objects.filter(site=self.site), "site_id")
        kept = []
        if c.get("country"):
            kept.append(self.sync.upsert(existing, self.site.pk, PlantCalendar, {"site": self.site},
                                         {"country": c["country"], "subdivision": c.get("subdivision", "")}))
        self.sync.prune(PlantCalendar.objects.filter(site=self.site), kept)
        days = _index(PlantHoliday.objects.filter(site=self.site), "date")
        kept = [
            self.sync.upsert(days, convert.date_to_db(day["date"]), PlantHoliday,
                             {"site": self.site, "date": convert.date_to_db(day["date"])},
                             {"name": day["name"], "closed": section == "closed"})
            for section in ("closed", "open") for day in c.get(section, [])
        ]
        self.sync.prune(PlantHoliday.objects.filter(site=self.site), kept)

    def area_people(self) -> None:
        """What each area requires of those who enter it, and who owns it (reviews, approvals)."""
        requirements = _index(ZoneRequirement.objects.filter(area__site=self.site), "area_id", "kind")
        owners = _index(ZoneOwner.objects.filter(area__site=self.site), "area_id", "person_id")
        kept_requirements, kept_owners = [], []
        for a in self.d.get("areas", []):
            area = self.area[a["slug"]]
            kept_requirements += [
                self.sync.upsert(requirements, (area.pk, kind), ZoneRequirement, {"area": area, "kind": kind}, {})
                for kind in a.get("requires", [])
            ]
            for key in a.get("owners", []):
                person = self.person[key]
                kept_owners.append(self.sync.upsert(owners, (area.pk, person.pk), ZoneOwner,
                                                    {"area": area, "person": person}, {}))
        self.sync.prune(ZoneRequirement.objects.filter(area__site=self.site), kept_requirements)
        self.sync.prune(ZoneOwner.objects.filter(area__site=self.site), kept_owners)

    def _site_objects(self, model, section: str, key: str, values) -> dict:
        existing = _index(model.objects.filter(site=self.site), key)
        kept = [
            self.sync.upsert(existing, item[key], model, {"site": self.site, key: item[key]}, values(item))
            for item in self.d.get(section, [])
        ]
        self.sync.prune(model.objects.filter(site=self.site), kept)
        return {getattr(o, key): o for o in kept}

    def zones(self) -> None:
        self.zone = self._site_objects(Zone, "zones", "slug", lambda z: {
            "name": z["name"], "purdue_level": convert.purdue_to_db(z["purdue_level"]),
            "security_level_target": z.get("security_level_target", 1), "cidrs": z.get("cidrs", []),
            "description": z.get("description", ""),
        })
        self._site_objects(Conduit, "conduits", "slug", lambda c: {
            "from_zone": self.zone[c["from"]], "to_zone": self.zone[c["to"]], "services": c["services"],
            "direction": c.get("direction", "forward"), "description": c.get("description", ""),
        })

    def areas(self) -> None:
        self.area = self._site_objects(Area, "areas", "slug", lambda a: {
            "name": a["name"], "restricted_level": convert.restricted_to_db(a.get("restricted_level", "controlled")),
            "description": a.get("description", ""),
        })
        for a in self.d.get("areas", []):
            area = self.area[a["slug"]]
            parent = self.area.get(a.get("parent"))
            if _differs(area, "parent", parent):
                area.parent = parent
                area.save()
                self.sync.report.updated["area"] += 1

    def assets(self) -> None:
        self.asset = self._site_objects(Asset, "assets", "name", lambda a: {
            "kind": a["kind"], "vendor": a.get("vendor", ""), "model": a.get("model", ""),
            "firmware": a.get("firmware", ""), "serial": a.get("serial", ""), "zone": self.zone.get(a.get("zone")),
            "area": self.area.get(a.get("area")), "criticality": a.get("criticality", "medium"),
            "description": a.get("description", ""), "tags": a.get("tags", []),
        })
        interfaces = {}
        for i in Interface.objects.filter(asset__site=self.site):
            interfaces[(i.asset_id, i.name)] = i
        kept = []
        for a in self.d.get("assets", []):
            asset = self.asset[a["name"]]
            for i in a.get("interfaces", []):
                kept.append(self.sync.upsert(interfaces, (asset.pk, i["name"]), Interface,
                                             {"asset": asset, "name": i["name"]}, {
                    "ip": i.get("ip"), "mac": convert.mac_to_db(i.get("mac", "")), "vlan": i.get("vlan"),
                }))
        self.sync.prune(Interface.objects.filter(asset__site=self.site), kept)

    def doors(self) -> None:
        existing = _index(Door.objects.filter(site=self.site), "slug")
        kept = []
        for a in self.d.get("areas", []):
            for door_item in a.get("doors", []):
                lookup = {"site": self.site, "slug": door_item["slug"]}
                door = self.sync.upsert(existing, door_item["slug"], Door, lookup, {
                    "area": self.area[a["slug"]], "name": door_item["name"], "kind": door_item.get("kind", "door"),
                    "controller": self.asset.get(door_item.get("controller")),
                })
                self.sync.set_members(door, "readers", [self.asset[r] for r in door_item.get("readers", [])])
                kept.append(door)
        self.sync.prune(Door.objects.filter(site=self.site), kept)

    def lines(self) -> None:
        self.line = self._site_objects(Line, "lines", "slug", lambda li: {
            "name": li["name"], "kind": li.get("kind", "production_line"), "area": self.area.get(li.get("area")),
            "downtime_cost_per_hour": convert.money_to_db(li.get("downtime_cost_per_hour", 0)),
            "trucks_per_day": li.get("trucks_per_day", 0),
            "perishable_value": convert.money_to_db(li.get("perishable_value", 0)),
            "hours_to_spoil": li.get("hours_to_spoil"), "safety_critical": li.get("safety_critical", False),
            "description": li.get("description", ""),
        })

    def dependencies(self) -> None:
        existing = {}
        for dep in Dependency.objects.filter(site=self.site):
            existing[(dep.line_id, dep.asset_id, dep.name)] = dep
        kept = []
        dependents = [(self.line[li["slug"]], None, li) for li in self.d.get("lines", [])]
        dependents += [(None, self.asset[a["name"]], a) for a in self.d.get("assets", [])]
        for line, asset, item in dependents:
            for dep_item in item.get("depends_on", []):
                name = dependency_name(dep_item)
                key = (line.pk if line else None, asset.pk if asset else None, name)
                dep = self.sync.upsert(existing, key, Dependency,
                                       {"site": self.site, "line": line, "asset": asset, "name": name}, {
                    "effect": dep_item.get("effect", "stops"), "required": dep_item.get("required", 1),
                    "capacity_loss": dep_item.get("capacity_loss"),
                })
                self.sync.set_members(dep, "members", [self.asset[m] for m in dep_item["assets"]])
                kept.append(dep)
        self.sync.prune(Dependency.objects.filter(site=self.site), kept)

    def ownership(self) -> None:
        existing = {}
        for rule in Ownership.objects.filter(site=self.site):
            existing[(rule.team_id, rule.role, rule.scope, rule.asset_id, rule.kind)] = rule
        kept = []
        for r in self.d.get("ownership", []):
            team = self.team[r["team"]]
            asset = self.asset.get(r.get("asset"))
            scope = "asset" if asset else "kind" if r.get("kind") else "site"
            key = (team.pk, r["role"], scope, asset.pk if asset else None, r.get("kind", ""))
            kept.append(self.sync.upsert(existing, key, Ownership, {
                "site": self.site, "team": team, "role": r["role"], "scope": scope, "asset": asset,
                "kind": r.get("kind", ""),
            }, {}))
        self.sync.prune(Ownership.objects.filter(site=self.site), kept)

    def work_orders(self) -> None:
        self.work_order = self._site_objects(WorkOrder, "work_orders", "key", lambda w: {
            "title": w["title"], "status": w["status"], "assignee": self.person.get(w.get("assignee")),
            "approved_by": self.person.get(w.get("approved_by")), "line": self.line.get(w.get("line")),
            "starts_at": convert.datetime_to_db(w["starts_at"]), "ends_at": convert.datetime_to_db(w["ends_at"]),
        })
        for w in self.d.get("work_orders", []):
            self.sync.set_members(self.work_order[w["key"]], "assets", [self.asset[a] for a in w.get("assets", [])])

    def authorisations(self) -> None:
        existing = _index(Authorisation.objects.filter(site=self.site), "person_id", "area_id")
        kept = []
        for g in self.d.get("authorisations", []):
            person, area = self.person[g["person"]], self.area[g["area"]]
            kept.append(self.sync.upsert(existing, (person.pk, area.pk), Authorisation,
                                         {"site": self.site, "person": person, "area": area}, {
                "valid_from": convert.datetime_to_db(g.get("valid_from")),
                "valid_to": convert.datetime_to_db(g.get("valid_to")),
                "schedule": g.get("schedule", ""), "granted_by": self.person.get(g.get("granted_by")),
                "reason": g.get("reason", ""), "work_order": self.work_order.get(g.get("work_order")),
            }))
        self.sync.prune(Authorisation.objects.filter(site=self.site), kept)


def import_documents(docs: list[Located], *, actor: audit.Actor | None = None) -> ImportReport:
    """Validate then import the documents in one transaction; raise InputErrors and write nothing on bad input."""
    validate(docs)
    report = ImportReport()
    sync = _Sync(report)
    via = "import " + ", ".join(doc.source for doc in docs)
    base = actor or audit.current_actor()
    with audit.acting_as(audit.Actor(user=base.user, name=base.name, via=via[:200])), transaction.atomic():
        shared: dict = {}
        importers = [_SiteImporter(doc, sync, shared) for doc in docs]
        for phase in _SiteImporter.PHASES:
            for importer in importers:
                for step in phase:
                    getattr(importer, step)()
        report.sites = [importer.site.slug for importer in importers]
    return report


def import_files(paths: Iterable[str], *, actor: audit.Actor | None = None) -> ImportReport:
    return import_documents([load_file(p) for p in paths], actor=actor)
