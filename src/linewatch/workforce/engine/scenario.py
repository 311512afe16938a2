"""A generated insider scenario: a month at two plants, with planted insiders and benign noise.

No public data set joins badges with logons, remote sessions, work orders and training, so the
repository makes one. `generate(seed)` returns the directory (people, credentials, grants, work
orders, training, visits), the events in time order, and the ground truth: which subject
(person key or credential id) each planted insider is, and what they do. Benign noise includes
what really trips such detectors: contractors leaving a little after their window, people who
forget to badge out and then log on over VPN, managers driving between the plants, single wrong-
door denials, night-shift guards, escorted visitors. Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from linewatch.events.schema import Event, EventClass, PhysicalAccessActivity, event_uid
from linewatch.workforce.engine.calendar import PlantCalendar
from linewatch.workforce.engine.records import (
    AreaRecord,
    AuthorisationRecord,
    CredentialRecord,
    Directory,
    PersonRecord,
    SiteRecord,
    TrainingRecord,
    VisitRecord,
    WorkOrderRecord,
)
from linewatch.workforce.engine.schedule import AccessWindow

TZ = "Europe/Berlin"
ZONE = ZoneInfo(TZ)
START = dt.date(2026, 3, 9)  # four weeks and a half: the spring DST change and Easter inside
DAYS = 31
SITES = {"kol": SiteRecord("kol", TZ, 50.94, 6.96), "brm": SiteRecord("brm", TZ, 53.08, 8.80)}
CALENDARS = {"kol": PlantCalendar("DE", "NW"), "brm": PlantCalendar("DE", "HB")}
AREAS = ("hall-1", "hall-2", "canteen", "office", "press", "tank", "server", "control-room")
RESTRICTED = {"server", "control-room"}
REQUIRES = {"press": frozenset({"site_induction", "loto"}), "tank": frozenset({"site_induction", "confined_space"})}
CONTRACTOR_HOURS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=7;DURATION=PT10H"
A = PhysicalAccessActivity


@dataclass
class Scenario:
    directory: Directory
    events: list[Event]
    insiders: dict[str, str]  # subject (person key or credential id) -> what they do
    people: int = 0
    notes: dict[str, int] = field(default_factory=dict)


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.events: list[Event] = []
        self.people: list[PersonRecord] = []
        self.creds: list[CredentialRecord] = []
        self.grants: list[AuthorisationRecord] = []
        self.orders: list[WorkOrderRecord] = []
        self.trainings: list[TrainingRecord] = []
        self.visits: list[VisitRecord] = []
        self.home: dict[str, str] = {}
        self.badge_of: dict[str, str] = {}
        self.n = 0

    # -------------------------------------------------------------- helpers

    @staticmethod
    def at(day: dt.date, hour: float) -> int:
        local = dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=hour)
        return int(local.replace(tzinfo=ZONE).timestamp() * 1000)

    def person(self, key: str, kind: str, site: str, **kw) -> str:
        self.people.append(PersonRecord(key, key, kind, **kw))
        self.home[key] = site
        badge = f"badge-{key}"
        self.creds.append(CredentialRecord(badge, "badge", badge, key))
        self.badge_of[key] = badge
        self.trainings.append(TrainingRecord(key, "site_induction", self.at(START, 0) - 200 * 86400_000))
        return key

    def emit(self, time: int, site: str, cls: int, activity: int, attrs: dict, status: int = 1) -> None:
        self.n += 1
        self.events.append(Event(uid=event_uid("scenario", str(self.n)), time=time, class_uid=cls,
                                 activity_id=activity, status_id=status, site=site, source="scenario", attrs=attrs))

    def read(self, time: int, site: str, who: str, area: str, activity: int = A.GRANTED, direction: str = "",
             door: str = "", credential: str | None = None) -> None:
        attrs = {"credential.uid": credential or self.badge_of[who], "area.name": area,
                 "door.name": door or f"{area}-door"}
        if direction:
            attrs["access.direction"] = direction
        self.emit(time, site, EventClass.PHYSICAL_ACCESS, activity, attrs, 1 if activity == A.GRANTED else 2)

    def logon(self, time: int, site: str, account: str, target: str, remote: bool, ot: bool = True,
              ok: bool = True) -> None:
        attrs = {"user.name": account, "dst_endpoint.asset.name": target,
                 "dst_endpoint.asset.domain": "ot" if ot else "it"}
        if remote:
            attrs.update({"is_remote": True, "src_endpoint.ip": f"198.51.100.{self.rng.randint(2, 250)}"})
        cls = EventClass.AUTHORIZE_SESSION if remote else EventClass.AUTHENTICATION
        self.emit(time, site, cls, 1, attrs, 1 if ok else 2)

    def workday(self, day: dt.date) -> bool:
        return day.weekday() < 5

    def open_day(self, site: str, day: dt.date) -> bool:
        return self.workday(day) and CALENDARS[site].holiday(day) is None

    def shift(self, day: dt.date, site: str, who: str, start: float, end: float, areas: list[str],
              badge_out: bool = True) -> None:
        """Gate in, wander through areas, gate out."""
        self.read(self.at(day, start), site, who, "gate", direction="in", door="main-gate")
        t = start + 0.2
        for area in areas:
            t += self.rng.uniform(0.3, (end - start) / (len(areas) + 1))
            if t >= end - 0.1:
                break
            self.read(self.at(day, t), site, who, area)
        if badge_out:
            self.read(self.at(day, end), site, who, "gate", direction="out", door="main-gate")

    # -------------------------------------------------------------- population

    def build(self) -> Scenario:
        rng = self.rng
        days = [START + dt.timedelta(days=i) for i in range(DAYS)]
        month_start, month_end = self.at(START, 0), self.at(days[-1], 24)
        employees: dict[str, list[str]] = {}
        for site in SITES:
            staff = []
            for i in range(60):
                key = self.person(f"{site}-e{i:02d}", "employee", site)
                staff.append(key)
                self.grants.append(AuthorisationRecord(f"g-{key}", key, site, "*"))
                if i < 6:  # operators
                    self.grants.append(AuthorisationRecord(f"g-{key}-cr", key, site, "control-room"))
                    self.creds.append(CredentialRecord(f"hmi-{key}", "hmi_account", f"hmi-{key}", key))
                if 6 <= i < 9:  # IT
                    self.grants.append(AuthorisationRecord(f"g-{key}-srv", key, site, "server"))
                if i < 20:  # maintenance: lockout/tagout and confined space
                    for kind in ("loto", "confined_space"):
                        self.trainings.append(TrainingRecord(key, kind, month_start - 100 * 86400_000,
                                                             month_end + 300 * 86400_000))
                if i % 10 == 0:
                    self.creds.append(CredentialRecord(f"vpn-{key}", "remote_access", f"vpn-{key}", key))
            employees[site] = staff
            for g in range(4):
                key = self.person(f"{site}-guard{g}", "guard", site)
                self.grants.append(AuthorisationRecord(
                    f"g-{key}", key, site, "*", AccessWindow(timezone=TZ, holidays_open=True)))
                for area in RESTRICTED:
                    self.grants.append(AuthorisationRecord(f"g-{key}-{area}", key, site, area))
        sponsor = {site: employees[site][0] for site in SITES}
        contractors: dict[str, list[str]] = {}
        for site in SITES:
            contractors[site] = []
            for i in range(12):
                key = self.person(f"{site}-c{i:02d}", "contractor", site, sponsor=sponsor[site])
                contractors[site].append(key)
                wo = f"WO-{site}-{i:02d}"
                self.orders.append(WorkOrderRecord(wo, site, "in_progress", key, frozenset({f"{site}-plc-{i}"}),
                                                   month_start, month_end))
                window = AccessWindow(month_start, month_end, CONTRACTOR_HOURS, TZ, CALENDARS[site])
                for area in ("hall-1", "hall-2", "press", "canteen"):
                    self.grants.append(AuthorisationRecord(f"g-{key}-{area}", key, site, area, window, wo))
                self.trainings.append(TrainingRecord(key, "loto", month_start - 30 * 86400_000,
                                                     month_end + 300 * 86400_000))
        technicians = []
        for i in range(6):
            site = "kol" if i % 2 else "brm"
            key = self.person(f"tech-{i}", "technician", site, sponsor=sponsor[site])
            technicians.append(key)
            self.creds.append(CredentialRecord(f"sra-{key}", "remote_access", f"sra-{key}", key))
        # -------------------------------------------------------------- the benign month
        for day in days:
            for site in SITES:
                if self.open_day(site, day):
                    for key in employees[site]:
                        if rng.random() < 0.08:
                            continue  # off sick, on leave
                        start, end = rng.uniform(6.3, 7.7), rng.uniform(15.5, 17.5)
                        forgot = rng.random() < 0.01
                        areas = rng.sample(["hall-1", "hall-2", "office", "canteen"], k=3)
                        idx = int(key[-2:])
                        if idx < 6:
                            areas.append("control-room")
                        if 6 <= idx < 9:
                            areas.append("server")
                        if idx < 20 and rng.random() < 0.3:
                            areas.append(rng.choice(["press", "tank"]))
                        self.shift(day, site, key, start, end, areas, badge_out=not forgot)
                        if idx < 6:
                            self.logon(self.at(day, start + 1), site, f"hmi-{key}", f"{site}-hmi-1", remote=False)
                        if idx % 10 == 0 and rng.random() < 0.3:  # evening VPN from home (IT systems)
                            self.logon(self.at(day, 20.5), site, f"vpn-{key}", f"{site}-erp", remote=True, ot=False)
                        if rng.random() < 0.004:  # a wrong door
                            self.read(self.at(day, start + 2), site, key, "server", A.DENIED, door="server-door")
                    for key in contractors[site]:
                        if rng.random() < 0.25:
                            continue
                        late = rng.random() < 0.03  # still in the hall after the window closed: policy noise
                        self.shift(day, site, key, rng.uniform(7.1, 8.0), 17.33 if late else rng.uniform(15, 16.8),
                                   rng.sample(["hall-1", "hall-2", "press", "canteen"], k=3))
                        if late:
                            self.read(self.at(day, 17.2), site, key, "hall-1")
                # guards patrol every night, holidays included
                for g, key in enumerate(k for k in (f"{site}-guard{i}" for i in range(4))):
                    if (day.toordinal() + g) % 2:
                        self.shift(day, site, key, 21.0, 29.5, ["hall-1", "server", "control-room", "office"])
            # managers drive between the plants (4 h apart: plausible)
            if self.workday(day) and rng.random() < 0.3 and self.open_day("kol", day) and self.open_day("brm", day):
                key = "kol-e01"
                self.read(self.at(day, 17.8), "kol", key, "office")
                self.read(self.at(day, 22.5), "brm", key, "office")
            # technicians' remote sessions, inside their work orders
            for i, key in enumerate(technicians):
                site = self.home[key]
                if self.open_day(site, day) and rng.random() < 0.4:
                    asset = f"{site}-plc-t{i}-{day.isoformat()}"
                    start = self.at(day, rng.uniform(8, 14))
                    wo = f"WO-{key}-{day.isoformat()}"
                    self.orders.append(WorkOrderRecord(wo, site, "approved", key, frozenset({asset}),
                                                       start - 1800_000, start + 4 * 3600_000))
                    self.logon(start, site, f"sra-{key}", asset, remote=True)
            # visitors, escorted by their host
            if self.open_day("kol", day) and rng.random() < 0.5:
                key = self.person(f"visitor-{day.isoformat()}", "visitor", "kol")
                host = employees["kol"][6]  # IT: may take them into the server room
                start = rng.uniform(9, 11)
                self.visits.append(VisitRecord(f"visit-{key}", key, "kol", host, host, True, self.at(day, start),
                                               self.at(day, start + 3)))
                self.read(self.at(day, start), "kol", key, "office")
                self.read(self.at(day, start + 1), "kol", key, "server")
                self.read(self.at(day, start + 1) + 15_000, "kol", host, "server")
                self.read(self.at(day, start + 2.5), "kol", key, "canteen")
        insiders = self.plant(days, employees, contractors, technicians, month_start, month_end)
        # every grant went through the process: approved by the sponsor (else plant security), with a reason
        sponsors = {p.key: p.sponsor for p in self.people}
        self.grants = [replace(g, granted_by=g.granted_by or sponsors.get(g.person) or "plant-security",
                               reason=g.reason or "role") for g in self.grants]
        directory = Directory(people=self.people, credentials=self.creds, authorisations=self.grants,
                              work_orders=self.orders, trainings=self.trainings, visits=self.visits,
                              areas=[AreaRecord(s, a, a in RESTRICTED, REQUIRES.get(a, frozenset()))
                                     for s in SITES for a in AREAS], sites=SITES.values())
        self.events.sort(key=lambda e: e.time)
        return Scenario(directory, self.events, insiders, len(self.people))

    # -------------------------------------------------------------- the planted insiders

    def plant(self, days, employees, contractors, technicians, month_start, month_end) -> dict[str, str]:
        insiders: dict[str, str] = {}
        mid = [d for d in days if self.open_day("kol", d) and self.open_day("brm", d)]
        week2, week3 = mid[5:10], mid[10:15]
        # 1. a contractor's work order closes mid-month; their grant stays and they keep coming
        key = contractors["kol"][3]
        wo = next(w for w in self.orders if w.key == "WO-kol-03")
        self.orders[self.orders.index(wo)] = WorkOrderRecord(wo.key, wo.site, "closed", wo.assignee, wo.assets,
                                                            wo.starts, self.at(week2[0], 12))
        for day in week3:
            self.shift(day, "kol", key, 7.5, 15.5, ["press", "hall-2"])
        insiders[key] = "access outlives its work order"
        # 2. a technician reaches a PLC no work order names
        key = technicians[1]
        self.logon(self.at(week2[2], 23.2), self.home[key], f"sra-{key}", "kol-plc-reactor", remote=True)
        insiders[key] = "OT remote session without a work order"
        # 3. an employee reports her badge lost; someone keeps using it at night
        key = employees["brm"][30]
        old = f"badge-{key}"
        lost_at = self.at(week2[0], 9)
        self.creds[self.creds.index(next(c for c in self.creds if c.id == old))] = CredentialRecord(
            old, "badge", old, key, "lost", status_changed_at=lost_at)
        new = f"badge-{key}-2"
        self.creds.append(CredentialRecord(new, "badge", new, key, issue_code=2, replaces=old))
        for e in self.events:  # her own shifts use the new badge from the day she reported the loss
            if e.attrs.get("credential.uid") == old and e.time > lost_at:
                e.attrs["credential.uid"] = new
        for day in week3[:3]:
            self.read(self.at(day, 2.5), "brm", key, "office", credential=old)
            self.read(self.at(day, 2.6), "brm", key, "server", A.DENIED, credential=old)
        insiders[old] = "lost badge used at night"
        # 4. two live badges of one person, at two plants within the hour
        key = employees["kol"][40]
        spare = f"badge-{key}-spare"
        self.creds.append(CredentialRecord(spare, "badge", spare, key))
        self.read(self.at(week2[3], 10), "kol", key, "hall-1")
        self.read(self.at(week2[3], 10.5), "brm", key, "hall-2", credential=spare)
        insiders[key] = "two live badges at two plants"
        # 5. a visitor wanders into the control room without the host
        day = week2[1]
        key = self.person("visitor-wanderer", "visitor", "kol")
        host = employees["kol"][7]
        self.visits.append(VisitRecord("visit-wanderer", key, "kol", host, host, True, self.at(day, 10),
                                       self.at(day, 12)))
        self.read(self.at(day, 10), "kol", key, "office")
        self.read(self.at(day, 10.7), "kol", key, "control-room")
        insiders[key] = "visitor unescorted in the control room"
        # 6. an offboarded contractor's remote account still works
        key = contractors["brm"][5]
        gone = self.at(week2[0], 17)
        self.people[self.people.index(next(p for p in self.people if p.key == key))] = PersonRecord(
            key, key, "contractor", "offboarded", gone, sponsor=employees["brm"][0])
        self.events = [e for e in self.events if not (e.attrs.get("credential.uid") == f"badge-{key}"
                                                      and e.time > gone)]
        self.creds.append(CredentialRecord(f"vpn-{key}", "remote_access", f"vpn-{key}", key))
        self.logon(self.at(week3[1], 21), "brm", f"vpn-{key}", "brm-erp", remote=True, ot=False)
        insiders[key] = "activity after offboarding"
        # 7. a contractor probes doors
        key = contractors["brm"][7]
        for i, area in enumerate(["server", "control-room", "tank", "server"]):
            self.read(self.at(week3[2], 12) + i * 60_000, "brm", key, area, A.DENIED, door=f"{area}-door")
        insiders[key] = "zone probing"
        # 8. a decoy badge in a drawer of the security office is used
        self.creds.append(CredentialRecord("decoy-kol", "badge", "decoy-kol", None, is_decoy=True))
        self.read(self.at(week3[3], 19), "kol", "", "office", credential="decoy-kol")
        insiders["decoy-kol"] = "decoy badge used"
        # 9. an operator's HMI account is used remotely while she is on the floor
        key = employees["kol"][2]
        day = week3[4]
        self.shift(day, "kol", key, 7, 15, ["control-room"], badge_out=True)
        self.logon(self.at(day, 11), "kol", f"hmi-{key}", "kol-hmi-1", remote=True)
        insiders[key] = "remote logon while badged in (shared account)"
        # 10. a contractor enters the tank without confined-space training
        key = contractors["kol"][8]
        self.grants.append(AuthorisationRecord(f"g-{key}-tank", key, "kol", "tank",
                                               AccessWindow(month_start, month_end, CONTRACTOR_HOURS, TZ,
                                                            CALENDARS["kol"]), "WO-kol-08"))
        self.read(self.at(week3[0], 10), "kol", key, "tank")
        insiders[key] = "confined space without training"
        return insiders


def generate(seed: int = 2026) -> Scenario:
    return _Builder(seed).build()
