"""Check site files before anything is written: structure (JSON Schema), then meaning
(unique keys, references that resolve, addresses that parse and do not collide).

Every problem is collected with its file, line and YAML path, so a user fixes them in one go.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import jsonschema

from linewatch.core.sitefile.loader import Located, Path_
from linewatch.core.sitefile.schema import SCHEMA
from linewatch.errors import InputError, InputErrors
from linewatch.workforce.engine.calendar import PlantCalendar

_validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())

# Organisation-wide objects: (section, key field). Site-owned lists are checked per file.
ORG_SECTIONS = (("companies", "slug"), ("people", "key"), ("teams", "slug"))
# People and companies may appear in several site files (a contractor works at two plants),
# as long as every file says the same of them; these are the fields that must agree.
# A team is defined by one file only: the file of the site it belongs to.
SHARED_FIELDS = {
    "companies": ("slug", "name", "kind", "risk_standing", "contract_expires", "insurance_expires"),
    "people": ("key", "name", "email", "phone", "title", "company"),
}


def dependency_name(dep: dict[str, Any]) -> str:
    """A dependency group's name: given, or its members joined by '+'."""
    return dep.get("name") or "+".join(dep["assets"])


def parse_datetime(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _schema_errors(doc: Located) -> list[InputError]:
    errors = []
    for err in sorted(_validator.iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path))):
        # For a failed oneOf/anyOf/not, the innermost message is the one a person can act on.
        best = jsonschema.exceptions.best_match([err])
        message = best.message
        if err.validator == "not" and list(err.schema.get("not", {}).get("required", [])) == ["asset", "kind"]:
            message = "an ownership rule names an asset or a kind, not both"
        errors.append(doc.error(tuple(best.absolute_path), message))
    return errors


class _Checker:
    """Semantic checks of one file, given what other files and the database define."""

    def __init__(self, doc: Located, org_keys: dict[str, set[str]]) -> None:
        self.doc = doc
        self.data: dict[str, Any] = doc.data
        self.org_keys = org_keys
        self.errors: list[InputError] = []

    def fail(self, path: Path_, message: str) -> None:
        self.errors.append(self.doc.error(path, message))

    def unique(self, section: str, key: str) -> set[str]:
        seen: dict[str, int] = {}
        for i, item in enumerate(self.data.get(section, [])):
            value = item[key]
            if value in seen:
                self.fail((section, i, key), f"duplicate {key} {value!r} (first at {section}[{seen[value]}])")
            seen.setdefault(value, i)
        return set(seen)

    def ref(self, path: Path_, value: str | None, known: set[str], what: str) -> None:
        if value is not None and value not in known:
            self.fail(path, f"unknown {what} {value!r}")

    def run(self) -> list[InputError]:
        d = self.data
        try:
            zoneinfo.ZoneInfo(d["site"]["timezone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.fail(("site", "timezone"), f"unknown time zone {d['site']['timezone']!r}")
        self._check_calendar(d.get("calendar", {}))
        for section, key in ORG_SECTIONS:
            self.unique(section, key)
        zones = self.unique("zones", "slug")
        self.unique("conduits", "slug")
        areas = self.unique("areas", "slug")
        assets = self.unique("assets", "name")
        lines = self.unique("lines", "slug")
        work_orders = self.unique("work_orders", "key")
        teams, people, companies = (self.org_keys[s] for s in ("teams", "people", "companies"))

        for i, zone in enumerate(d.get("zones", [])):
            for j, cidr in enumerate(zone.get("cidrs", [])):
                try:
                    ipaddress.ip_network(cidr)
                except ValueError as exc:
                    self.fail(("zones", i, "cidrs", j), f"not a network address: {exc}")
        for i, conduit in enumerate(d.get("conduits", [])):
            self.ref(("conduits", i, "from"), conduit["from"], zones, "zone")
            self.ref(("conduits", i, "to"), conduit["to"], zones, "zone")
            if conduit["from"] == conduit["to"]:
                self.fail(("conduits", i, "to"), "a conduit joins two different zones")
        door_slugs: dict[str, Path_] = {}
        for i, area in enumerate(d.get("areas", [])):
            self.ref(("areas", i, "parent"), area.get("parent"), areas - {area["slug"]}, "parent area")
            for field_name, what in (("requires", "training"), ("owners", "owner")):
                values = area.get(field_name, [])
                for j, value in enumerate(values):
                    if field_name == "owners":
                        self.ref(("areas", i, field_name, j), value, people, "person")
                    if value in values[:j]:
                        self.fail(("areas", i, field_name, j), f"{what} {value!r} is listed twice")
            for j, door in enumerate(area.get("doors", [])):
                path = ("areas", i, "doors", j)
                if door["slug"] in door_slugs:
                    self.fail(path + ("slug",), f"duplicate door slug {door['slug']!r}")
                door_slugs.setdefault(door["slug"], path)
                self.ref(path + ("controller",), door.get("controller"), assets, "asset")
                for k, reader in enumerate(door.get("readers", [])):
                    self.ref(path + ("readers", k), reader, assets, "asset")
        self._check_assets(assets, zones, areas)
        for i, line in enumerate(d.get("lines", [])):
            self.ref(("lines", i, "area"), line.get("area"), areas, "area")
            self._check_dependencies(("lines", i), line.get("depends_on", []), assets, for_line=True)
        for i, rule in enumerate(d.get("ownership", [])):
            self.ref(("ownership", i, "team"), rule["team"], teams, "team")
            self.ref(("ownership", i, "asset"), rule.get("asset"), assets, "asset")
        self._check_duplicate_rules()
        for i, company in enumerate(d.get("companies", [])):
            self._check_dates(("companies", i), company, "contract_expires", "insurance_expires")
        for i, person in enumerate(d.get("people", [])):
            self.ref(("people", i, "company"), person.get("company"), companies, "company")
            self.ref(("people", i, "sponsor"), person.get("sponsor"), people, "person")
            if person.get("sponsor") == person["key"]:
                self.fail(("people", i, "sponsor"), "a person cannot sponsor themselves")
            self._check_window(("people", i), person, "valid_from", "valid_to", dt.date.fromisoformat)
        for i, team in enumerate(d.get("teams", [])):
            self.ref(("teams", i, "company"), team.get("company"), companies, "company")
            members = [m["person"] for m in team.get("members", [])]
            for j, member in enumerate(members):
                self.ref(("teams", i, "members", j, "person"), member, people, "person")
                if member in members[:j]:
                    self.fail(("teams", i, "members", j, "person"), f"{member!r} is listed twice")
        for i, order in enumerate(d.get("work_orders", [])):
            path = ("work_orders", i)
            self.ref(path + ("assignee",), order.get("assignee"), people, "person")
            self.ref(path + ("approved_by",), order.get("approved_by"), people, "person")
            self.ref(path + ("line",), order.get("line"), lines, "line")
            for j, asset in enumerate(order.get("assets", [])):
                self.ref(path + ("assets", j), asset, assets, "asset")
            self._check_window(path, order, "starts_at", "ends_at", parse_datetime, required=True)
        seen_grants: set[tuple[str, str]] = set()
        for i, grant in enumerate(d.get("authorisations", [])):
            path = ("authorisations", i)
            self.ref(path + ("person",), grant["person"], people, "person")
            self.ref(path + ("area",), grant["area"], areas, "area")
            self.ref(path + ("granted_by",), grant.get("granted_by"), people, "person")
            self.ref(path + ("work_order",), grant.get("work_order"), work_orders, "work order")
            if (grant["person"], grant["area"]) in seen_grants:
                self.fail(path, f"{grant['person']!r} already has an authorisation for {grant['area']!r}")
            seen_grants.add((grant["person"], grant["area"]))
            self._check_window(path, grant, "valid_from", "valid_to", parse_datetime)
        return self.errors

    def _check_calendar(self, calendar: dict[str, Any]) -> None:
        """Country and subdivision must be known to the holidays package (offline); a date is
        listed once; an open day must be a public holiday there, or it removes nothing."""
        country, subdivision = calendar.get("country", ""), calendar.get("subdivision", "")
        public = PlantCalendar(country, subdivision)
        if subdivision and not country:
            self.fail(("calendar", "subdivision"), "a subdivision needs the country it belongs to")
            country = ""
        elif country:
            try:
                public.holiday(dt.date(2000, 1, 1))
            except ValueError as exc:
                self.fail(("calendar", "subdivision" if subdivision else "country"), str(exc))
                country = ""
        seen: dict[str, Path_] = {}
        for section in ("closed", "open"):
            for j, day in enumerate(calendar.get(section, [])):
                path = ("calendar", section, j, "date")
                try:
                    date = dt.date.fromisoformat(day["date"])
                except ValueError as exc:
                    self.fail(path, str(exc))
                    continue
                if day["date"] in seen:
                    first = seen[day["date"]]
                    self.fail(path, f"{day['date']} is also listed at calendar.{first[1]}[{first[2]}]")
                    continue
                seen[day["date"]] = path
                if section != "open":
                    continue
                if not calendar.get("country"):
                    self.fail(path, "an open day removes a public holiday: the calendar needs a country")
                elif country and public.holiday(date) is None:
                    where = country + (f"-{subdivision}" if subdivision else "")
                    self.fail(path, f"{day['date']} is not a public holiday in {where}")

    def _check_assets(self, assets: set[str], zones: set[str], areas: set[str]) -> None:
        ip_owner: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, str] = {}
        for i, asset in enumerate(self.data.get("assets", [])):
            path = ("assets", i)
            self.ref(path + ("zone",), asset.get("zone"), zones, "zone")
            self.ref(path + ("area",), asset.get("area"), areas, "area")
            names: set[str] = set()
            for j, interface in enumerate(asset.get("interfaces", [])):
                if interface["name"] in names:
                    self.fail(path + ("interfaces", j, "name"), f"duplicate interface {interface['name']!r}")
                names.add(interface["name"])
                if "ip" not in interface:
                    continue
                try:
                    ip = ipaddress.ip_address(interface["ip"])
                except ValueError:
                    self.fail(path + ("interfaces", j, "ip"), f"not an IP address: {interface['ip']!r}")
                    continue
                if ip in ip_owner:
                    self.fail(path + ("interfaces", j, "ip"), f"duplicate IP {ip} (also on {ip_owner[ip]})")
                ip_owner.setdefault(ip, asset["name"])
            self._check_dependencies(path, asset.get("depends_on", []), assets, for_line=False, own=asset["name"])

    def _check_dependencies(
        self, path: Path_, deps: list[dict], assets: set[str], *, for_line: bool, own: str | None = None
    ) -> None:
        names: set[str] = set()
        for j, dep in enumerate(deps):
            dpath = path + ("depends_on", j)
            name = dependency_name(dep)
            if name in names:
                self.fail(dpath, f"duplicate dependency name {name!r}")
            names.add(name)
            members = dep["assets"]
            for k, member in enumerate(members):
                self.ref(dpath + ("assets", k), member, assets, "asset")
                if member == own:
                    self.fail(dpath + ("assets", k), "an asset cannot depend on itself")
                if member in members[:k]:
                    self.fail(dpath + ("assets", k), f"{member!r} is listed twice")
            if dep.get("required", 1) > len(members):
                self.fail(dpath + ("required",), f"requires {dep['required']} of only {len(members)} members")
            if not for_line:
                for key in ("effect", "capacity_loss"):
                    if key in dep:
                        self.fail(dpath + (key,), f"{key} applies to lines only: an asset is up or down")
            elif "capacity_loss" in dep and dep.get("effect", "stops") != "degrades":
                self.fail(dpath + ("capacity_loss",), "capacity_loss applies to degrading dependencies only")

    def _check_duplicate_rules(self) -> None:
        seen: dict[tuple, int] = {}
        for i, rule in enumerate(self.data.get("ownership", [])):
            key = (rule["team"], rule["role"], rule.get("asset"), rule.get("kind"))
            if key in seen:
                self.fail(("ownership", i), f"same rule as ownership[{seen[key]}]")
            seen.setdefault(key, i)

    def _check_dates(self, path: Path_, item: dict, *keys: str) -> None:
        for key in keys:
            if key in item:
                try:
                    dt.date.fromisoformat(item[key])
                except ValueError as exc:
                    self.fail(path + (key,), str(exc))

    def _check_window(self, path: Path_, item: dict, start: str, end: str, parse, required: bool = False) -> None:
        values = {}
        for key in (start, end):
            if key in item:
                try:
                    values[key] = parse(item[key])
                except ValueError as exc:
                    self.fail(path + (key,), str(exc))
        if start in values and end in values and values[end] < values[start]:
            self.fail(path + (end,), f"{end} is before {start}")


def org_keys_in_database(org_slug: str) -> dict[str, set[str]]:
    """Team, person and company keys the organisation already has."""
    from linewatch.core.models import Company, Person, Team

    return {
        "teams": set(Team.objects.filter(organisation__slug=org_slug).values_list("slug", flat=True)),
        "people": set(Person.objects.filter(organisation__slug=org_slug).values_list("key", flat=True)),
        "companies": set(Company.objects.filter(organisation__slug=org_slug).values_list("slug", flat=True)),
    }


def validate(docs: Iterable[Located], *, use_database: bool = True) -> None:
    """Raise InputErrors listing every problem in the files, or return when all are sound.

    Files are checked together: one may refer to teams, people and companies another defines.
    """
    docs = list(docs)
    errors: list[InputError] = []
    sound: list[Located] = []
    for doc in docs:
        if not isinstance(doc.data, dict):
            errors.append(doc.error((), "a site file is a mapping with organisation, site, zones, assets, …"))
            continue
        found = _schema_errors(doc)
        errors.extend(found)
        if not found:
            sound.append(doc)

    sites: dict[str, Located] = {}
    org_keys: dict[str, dict[str, set[str]]] = defaultdict(lambda: {s: set() for s, _ in ORG_SECTIONS})
    defined: dict[tuple[str, str, str], tuple[Located, dict]] = {}
    for doc in sound:
        slug = doc.data["site"]["slug"]
        if slug in sites:
            errors.append(doc.error(("site", "slug"), f"site {slug!r} is also defined in {sites[slug].source}"))
        sites.setdefault(slug, doc)
        org = doc.data["organisation"]["slug"]
        for section, key in ORG_SECTIONS:
            for i, item in enumerate(doc.data.get(section, [])):
                ident = (org, section, item[key])
                if ident in defined and defined[ident][0] is not doc:
                    first_doc, first = defined[ident]
                    fields = SHARED_FIELDS.get(section)
                    if fields is None or any(item.get(f) != first.get(f) for f in fields):
                        what = "defined" if fields is None else "described differently"
                        message = f"{item[key]!r} is also {what} in {first_doc.source}"
                        errors.append(doc.error((section, i, key), message))
                defined.setdefault(ident, (doc, item))
                org_keys[org][section].add(item[key])
    if use_database:
        for org in org_keys:
            for section, keys in org_keys_in_database(org).items():
                org_keys[org][section] |= keys
    for doc in sound:
        errors.extend(_Checker(doc, org_keys[doc.data["organisation"]["slug"]]).run())
    if errors:
        raise InputErrors(errors)
