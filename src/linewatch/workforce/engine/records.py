"""Plain records the detections read: people, credentials, authorisations, work orders, training,
visits, areas and sites — built from the database by `workforce.services.directory()`, from the
VAST corpus by the tests, or by the scenario generator. Times are epoch milliseconds (UTC)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from linewatch.workforce.engine.schedule import AccessWindow

OPEN_WORK_ORDER = frozenset({"approved", "in_progress"})
UNUSABLE = frozenset({"lost", "stolen", "replaced", "revoked", "suspended"})


@dataclass(frozen=True)
class PersonRecord:
    key: str
    name: str = ""
    kind: str = "employee"  # employee, contractor, technician, visitor, guard
    status: str = "active"  # active, suspended, offboarded
    status_changed_at: int | None = None
    sponsor: str | None = None
    department: str = ""


@dataclass(frozen=True)
class CredentialRecord:
    id: str
    kind: str  # badge, pin, ad_account, hmi_account, ews_account, remote_access
    identifier: str
    person: str | None
    status: str = "active"
    issue_code: int = 0
    replaces: str | None = None  # id of the credential this one replaced
    valid_from: int | None = None
    valid_to: int | None = None
    status_changed_at: int | None = None
    is_decoy: bool = False
    site: str = ""
    last_used: int | None = None  # last use known before the events at hand (dormancy)

    def describe(self) -> str:
        issue = f" issue {self.issue_code}" if self.issue_code else ""
        return f"{self.kind} {self.identifier}{issue} ({self.status})"


@dataclass(frozen=True)
class AuthorisationRecord:
    id: str
    person: str
    site: str
    area: str  # an area slug, or "*" for every area of the site
    window: AccessWindow = field(default_factory=AccessWindow)
    work_order: str | None = None
    granted_by: str = ""
    reason: str = ""

    def describe(self) -> str:
        when = self.window.schedule or "any time"
        return f"authorisation {self.id} ({self.person} → {self.site}/{self.area}, {when})"


@dataclass(frozen=True)
class WorkOrderRecord:
    key: str
    site: str
    status: str
    assignee: str | None
    assets: frozenset[str]
    starts: int
    ends: int

    def covers(self, asset: str, at: int) -> bool:
        return self.status in OPEN_WORK_ORDER and asset in self.assets and self.starts <= at <= self.ends


@dataclass(frozen=True)
class TrainingRecord:
    person: str
    kind: str
    completed: int
    expires: int | None = None

    def valid_at(self, at: int) -> bool:
        return self.completed <= at and (self.expires is None or at <= self.expires)


@dataclass(frozen=True)
class VisitRecord:
    id: str
    visitor: str
    site: str
    host: str | None
    escort: str | None
    escort_required: bool
    expected_start: int
    expected_end: int
    checked_out_at: int | None = None


@dataclass(frozen=True)
class AreaRecord:
    site: str
    slug: str
    restricted: bool = False  # restricted or high security: visitors need an escort, others an authorisation
    requires: frozenset[str] = frozenset()  # training kinds
    owners: frozenset[str] = frozenset()  # person keys who answer for the zone and approve its grants


@dataclass(frozen=True)
class SiteRecord:
    slug: str
    timezone: str = "UTC"
    latitude: float | None = None
    longitude: float | None = None


def distance_km(a: SiteRecord, b: SiteRecord) -> float | None:
    """Great-circle distance (haversine); None when a site has no coordinates."""
    if None in (a.latitude, a.longitude, b.latitude, b.longitude):
        return None
    la1, lo1, la2, lo2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(h))


class Directory:
    """Everything the detections consult, indexed for per-event lookups."""

    def __init__(self, *, people=(), credentials=(), authorisations=(), work_orders=(), trainings=(), visits=(),
                 areas=(), sites=(), ot_assets=(), watchlist=()) -> None:
        self.people: dict[str, PersonRecord] = {p.key: p for p in people}
        # PACS exports name cardholders, not keys: "Anna Berg" and "Berg, Anna" both find her
        self.by_name: dict[str, str] = {}
        for p in self.people.values():
            if p.name:
                self.by_name.setdefault(p.name.lower(), p.key)
                first, _, last = p.name.rpartition(" ")
                if first:
                    self.by_name.setdefault(f"{last}, {first}".lower(), p.key)
        self.credentials: dict[str, CredentialRecord] = {c.id: c for c in credentials}
        self.by_identifier: dict[str, list[CredentialRecord]] = defaultdict(list)
        self.of_person: dict[str, list[CredentialRecord]] = defaultdict(list)
        for c in credentials:
            self.by_identifier[c.identifier.lower()].append(c)
            if c.person:
                self.of_person[c.person].append(c)
        self.superseded_by: dict[str, CredentialRecord] = {c.replaces: c for c in credentials if c.replaces}
        self.authorisations: dict[tuple[str, str], list[AuthorisationRecord]] = defaultdict(list)
        for a in authorisations:
            self.authorisations[(a.person, a.site)].append(a)
        self.work_orders: dict[str, WorkOrderRecord] = {w.key: w for w in work_orders}
        self.orders_of: dict[str, list[WorkOrderRecord]] = defaultdict(list)
        self.orders_on: dict[str, list[WorkOrderRecord]] = defaultdict(list)
        for w in work_orders:
            if w.assignee:
                self.orders_of[w.assignee].append(w)
            for asset in w.assets:
                self.orders_on[asset].append(w)
        self.trainings: dict[str, list[TrainingRecord]] = defaultdict(list)
        for t in trainings:
            self.trainings[t.person].append(t)
        self.visits: dict[str, list[VisitRecord]] = defaultdict(list)
        for v in visits:
            self.visits[v.visitor].append(v)
        self.areas: dict[tuple[str, str], AreaRecord] = {(a.site, a.slug): a for a in areas}
        self.sites: dict[str, SiteRecord] = {s.slug: s for s in sites}
        self.ot_assets = frozenset(ot_assets)
        self.watchlist = list(watchlist)  # engine.watchlist.WatchlistRecord

    def credential(self, identifier: str, issue_code: int | None = None) -> CredentialRecord | None:
        found = self.by_identifier.get(identifier.lower())
        if not found:
            return None
        if issue_code is not None:
            return next((c for c in found if c.issue_code == issue_code), None)
        return max(found, key=lambda c: c.issue_code)

    def authorisations_for(self, person: str, site: str, area: str) -> list[AuthorisationRecord]:
        """The person's grants for the area; a site-wide grant ("*") never opens a restricted area."""
        record = self.areas.get((site, area))
        wildcard = not (record and record.restricted)
        grants = self.authorisations.get((person, site), ())
        return [a for a in grants if a.area == area or (wildcard and a.area == "*")]

    def visit_at(self, person: str, site: str, at: int) -> VisitRecord | None:
        """The visit that brings the person to the site around that time (the latest started)."""
        found = [v for v in self.visits.get(person, ()) if v.site == site and v.expected_start - 3600_000 <= at]
        return max(found, key=lambda v: v.expected_start) if found else None
