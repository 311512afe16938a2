"""Imports from HR, contractor-portal and PACS exports: people, credentials, authorisations.

Input is CSV (header row; delimiter guessed), a JSON array of objects or JSON lines. A mapping
names the export's column for each field (`{"key": "Employee ID", "name": "Full Name"}`); an
unmapped field is looked up under its own name. Every row is checked and written on its own:
a bad row is reported as `file:line N: reason` and the good rows in the same file are imported.
Importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.dateparse import parse_date, parse_datetime

from linewatch.core import audit
from linewatch.core.choices import Affiliation
from linewatch.core.models import Area, Company, Person, Site, SiteAffiliation
from linewatch.errors import InputError
from linewatch.workforce import choices
from linewatch.workforce.engine.schedule import parse_schedule
from linewatch.workforce.models import Authorisation, Credential, WorkOrder

KINDS = ("people", "credentials", "authorisations")
FIELDS: dict[str, tuple[str, ...]] = {
    "people": ("key", "name", "email", "phone", "title", "company", "site", "affiliation", "sponsor", "valid_from",
               "valid_to"),
    "credentials": ("person", "kind", "identifier", "system", "issue_code", "facility_code", "status", "valid_from",
                    "valid_to", "site", "replaces", "decoy"),
    "authorisations": ("person", "site", "area", "valid_from", "valid_to", "schedule", "granted_by", "reason",
                       "work_order"),
}
REQUIRED = {"people": ("key", "name", "site", "affiliation"), "credentials": ("kind", "identifier"),
            "authorisations": ("person", "site", "area")}


class RowError(ValueError):
    """What is wrong with one row (the importer adds the place)."""


@dataclass
class ImportResult:
    kind: str
    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[InputError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "errors": [e.as_dict() for e in self.errors]}


def parse_mapping(text: str | None) -> dict[str, str]:
    """`field=column,field=column`, or a JSON object, or a path to a JSON/YAML file holding one."""
    if not text:
        return {}
    path = Path(text)
    if path.is_file():
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InputError(text, "", f"not a YAML/JSON mapping: {exc}") from None
    elif text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError("--map", f"offset {exc.pos}", exc.msg) from None
    else:
        data = {}
        for pair in text.split(","):
            name, sep, column = pair.partition("=")
            if not sep or not name.strip() or not column.strip():
                raise InputError("--map", pair, "expected field=column")
            data[name.strip()] = column.strip()
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise InputError(text, "", "the mapping must be an object of field: column names")
    return {str(k): v for k, v in data.items()}


def read_rows(source: str, data: bytes) -> Iterator[tuple[str, dict[str, Any]]]:
    """(place, row) for each record of a CSV, JSON array or JSON lines document."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(source, f"byte {exc.start}", "not UTF-8 text") from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(source, f"line {exc.lineno}", f"bad JSON: {exc.msg}") from None
        for number, item in enumerate(items, 1):
            yield f"item {number}", item
        return
    if stripped.startswith("{"):
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                yield f"line {number}", json.loads(line)
            except json.JSONDecodeError as exc:
                yield f"line {number}", RowError(f"bad JSON: {exc.msg}")
        return
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect, skipinitialspace=True)
    if not reader.fieldnames:
        raise InputError(source, "line 1", "no header row")
    line = reader.line_num
    for row in reader:
        place = f"line {line + 1}"
        line = reader.line_num
        if None in row:
            yield place, RowError(f"{len(row[None])} more values than the header has columns")
            continue
        yield place, row


def _time(value: str | None, what: str) -> dt.datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise RowError(f"{what}: not a date or date-time: {value!r}")
        parsed = dt.datetime.combine(day, dt.time())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _date(value: str | None, what: str) -> dt.date | None:
    if not value:
        return None
    day = parse_date(value[:10])
    if day is None:
        raise RowError(f"{what}: not a date: {value!r}")
    return day


def _choice(value: str, options, what: str) -> str:
    value = value.strip().lower().replace(" ", "_").replace("-", "_")
    if value not in options.values:
        raise RowError(f"{what} {value!r} is not one of {', '.join(options.values)}")
    return value


class _Importer:
    def __init__(self, kind: str, source: str, mapping: dict[str, str], default_site: str | None) -> None:
        unknown = set(mapping) - set(FIELDS[kind])
        if unknown:
            raise InputError("--map", ", ".join(sorted(unknown)), f"not fields of {kind}: {', '.join(FIELDS[kind])}")
        self.kind, self.source, self.mapping, self.default_site = kind, source, mapping, default_site
        self.result = ImportResult(kind, source)

    def fields(self, row: dict[str, Any]) -> dict[str, str]:
        norm = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        out = {}
        for name in FIELDS[self.kind]:
            column = self.mapping.get(name, name)
            value = row.get(column, norm.get(column.strip().lower()))
            out[name] = "" if value is None else str(value).strip()
        if not out.get("site") and self.default_site:
            out["site"] = self.default_site
        missing = [f for f in REQUIRED[self.kind] if not out.get(f)]
        if missing:
            columns = ", ".join(self.mapping.get(f, f) for f in missing)
            raise RowError(f"missing {', '.join(missing)} (column {columns})")
        return out

    def site(self, slug: str) -> Site:
        found = Site.objects.filter(slug=slug).select_related("organisation").first()
        if found is None:
            raise RowError(f"unknown site {slug!r}")
        return found

    def person(self, key: str, site: Site, what: str = "person") -> Person:
        found = Person.objects.filter(organisation=site.organisation, key=key).first()
        if found is None:
            raise RowError(f"unknown {what} {key!r}")
        return found

    def save(self, model, lookup: dict, values: dict) -> None:
        obj = model.objects.filter(**lookup).first()
        if obj is None:
            model.objects.create(**lookup, **values)
            self.result.created += 1
            return
        changed = [k for k, v in values.items() if getattr(obj, k) != v]
        if not changed:
            self.result.unchanged += 1
            return
        for k in changed:
            setattr(obj, k, values[k])
        obj.save(update_fields=changed)
        self.result.updated += 1

    # ------------------------------------------------------------------ one row of each kind

    def people(self, f: dict[str, str]) -> None:
        site = self.site(f["site"])
        kind = _choice(f["affiliation"], Affiliation, "affiliation")
        valid_to = _date(f["valid_to"], "valid_to")
        sponsor = self.person(f["sponsor"], site, "sponsor") if f["sponsor"] else None
        if kind != Affiliation.EMPLOYEE and (sponsor is None or valid_to is None):
            raise RowError(f"a {kind} needs a sponsor and an expiry (valid_to): no open-ended access for "
                           "non-employees")
        company = None
        if f["company"]:
            company = Company.objects.filter(organisation=site.organisation, slug=f["company"]).first()
            if company is None:
                raise RowError(f"unknown company {f['company']!r}")
        self.save(Person, {"organisation": site.organisation, "key": f["key"]}, {
            "name": f["name"], "email": f["email"], "phone": f["phone"], "title": f["title"], "company": company})
        person = Person.objects.get(organisation=site.organisation, key=f["key"])
        self.save(SiteAffiliation, {"person": person, "site": site}, {
            "kind": kind, "sponsor": sponsor, "valid_from": _date(f["valid_from"], "valid_from"),
            "valid_to": valid_to})

    def credentials(self, f: dict[str, str]) -> None:
        kind = _choice(f["kind"], choices.CredentialKind, "kind")
        status = _choice(f["status"], choices.CredentialStatus, "status") if f["status"] else "active"
        site = self.site(f["site"]) if f["site"] else None
        decoy = f["decoy"].lower() in ("1", "true", "yes", "y")
        if not f["person"] and not decoy:
            raise RowError("missing person (only a decoy credential belongs to nobody)")
        person = None
        if f["person"]:
            org_people = Person.objects.filter(key=f["person"])
            if site is not None:
                org_people = org_people.filter(organisation=site.organisation)
            person = org_people.first()
            if person is None:
                raise RowError(f"unknown person {f['person']!r}")
        try:
            issue = int(f["issue_code"] or 0)
        except ValueError:
            raise RowError(f"issue_code {f['issue_code']!r} is not a number") from None
        replaces = None
        if f["replaces"]:
            ident, _, code = f["replaces"].partition("#")
            older = Credential.objects.filter(kind=kind, system=f["system"], identifier=ident)
            if code:
                older = older.filter(issue_code=int(code) if code.isdigit() else -1)
            replaces = older.order_by("-issue_code").first()
            if replaces is None:
                raise RowError(f"replaces unknown credential {f['replaces']!r}")
        valid_from, valid_to = _time(f["valid_from"], "valid_from"), _time(f["valid_to"], "valid_to")
        if valid_from and valid_to and valid_to < valid_from:
            raise RowError("valid_to is before valid_from")
        self.save(Credential, {"kind": kind, "system": f["system"], "identifier": f["identifier"],
                               "issue_code": issue}, {
            "person": person, "site": site, "facility_code": f["facility_code"], "status": status,
            "valid_from": valid_from, "valid_to": valid_to, "replaces": replaces, "is_decoy": decoy})
        if replaces is not None and replaces.status == "active":
            replaces.status, replaces.status_changed_at = "replaced", valid_from or dt.datetime.now(dt.UTC)
            replaces.status_reason = f"replaced by issue {issue}"
            replaces.save(update_fields=["status", "status_changed_at", "status_reason"])

    def authorisations(self, f: dict[str, str]) -> None:
        site = self.site(f["site"])
        person = self.person(f["person"], site)
        area = Area.objects.filter(site=site, slug=f["area"]).first()
        if area is None:
            raise RowError(f"unknown area {f['area']!r} at {site.slug}")
        if f["schedule"]:
            try:
                parse_schedule(f["schedule"])
            except ValueError as exc:
                raise RowError(f"schedule: {exc}") from None
        valid_from, valid_to = _time(f["valid_from"], "valid_from"), _time(f["valid_to"], "valid_to")
        affiliation = SiteAffiliation.objects.filter(person=person, site=site).first()
        if affiliation and affiliation.kind != Affiliation.EMPLOYEE and valid_to is None:
            raise RowError(f"a {affiliation.kind}'s authorisation needs an expiry (valid_to)")
        work_order = None
        if f["work_order"]:
            work_order = WorkOrder.objects.filter(site=site, key=f["work_order"]).first()
            if work_order is None:
                raise RowError(f"unknown work order {f['work_order']!r}")
        self.save(Authorisation, {"site": site, "person": person, "area": area}, {
            "valid_from": valid_from, "valid_to": valid_to, "schedule": f["schedule"],
            "granted_by": self.person(f["granted_by"], site, "granted_by") if f["granted_by"] else None,
            "reason": f["reason"], "work_order": work_order})


def import_data(kind: str, source: str, data: bytes, mapping: dict[str, str] | None = None,
                site: str | None = None, actor: audit.Actor | None = None) -> ImportResult:
    """Import every good row; collect an InputError (source, line, reason) for each bad one."""
    if kind not in KINDS:
        raise InputError(source, "", f"unknown import kind {kind!r}: one of {', '.join(KINDS)}")
    importer = _Importer(kind, source, mapping or {}, site)
    step: Callable[[dict[str, str]], None] = getattr(importer, kind)
    base = actor or audit.current_actor()
    with audit.acting_as(audit.Actor(user=base.user, name=base.name, via=f"import {source}"[:200])):
        for place, row in read_rows(source, data):
            try:
                if isinstance(row, RowError):
                    raise row
                if not isinstance(row, dict):
                    raise RowError("not an object")
                with transaction.atomic():
                    step(importer.fields(row))
            except RowError as exc:
                importer.result.errors.append(InputError(source, place, str(exc)))
    return importer.result
