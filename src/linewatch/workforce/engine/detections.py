"""Identity detections on plain records and normalized events — no Django.

`WorkforceDetector.process(events)` reads events in time order, keeps the state it needs (who is
where, recent denials, the last read of each person), and returns `Finding`s. Each finding names
the rule, its level, the evidence events and *why*: the credential, authorisation, window, work
order, training or visit it consulted. Cross-domain findings (physical × logical, identity ×
work orders) rank above single-domain ones (`rank`).

Rules (ids are stable; docs/identity.md has the table):
  wf-decoy-credential, wf-credential-invalid, wf-credential-superseded, wf-two-live-credentials,
  wf-impossible-travel, wf-outside-window, wf-restricted-area, wf-zone-probing,
  wf-remote-no-work-order, wf-access-outlives-work-order, wf-remote-while-on-site,
  wf-training-missing, wf-after-offboarding, wf-visitor-unescorted, wf-visitor-overstay,
  wf-anti-passback, wf-duress, wf-pin-attack, wf-logon-elsewhere, wf-dormant-credential,
  wf-generic-account, wf-shared-account, wf-tailgating, wf-door-forced, wf-door-held,
  wf-watchlist-match, wf-privilege-outside-process
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from linewatch.events.schema import Event, EventClass, PhysicalAccessActivity, VisitorActivity
from linewatch.workforce.engine.records import (
    UNUSABLE,
    AuthorisationRecord,
    CredentialRecord,
    Directory,
    distance_km,
)
from linewatch.workforce.engine.schedule import zone
from linewatch.workforce.engine.watchlist import in_force as watchlist_in_force
from linewatch.workforce.engine.watchlist import match as watchlist_match

A = PhysicalAccessActivity
LEVELS = {"informational": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
CROSS_DOMAIN = frozenset({
    "wf-logon-elsewhere", "wf-two-live-credentials", "wf-remote-no-work-order", "wf-access-outlives-work-order",
    "wf-remote-while-on-site", "wf-training-missing", "wf-visitor-unescorted", "wf-after-offboarding",
    "wf-shared-account"})
TITLES = {
    "wf-decoy-credential": "Decoy (honeytoken) credential used",
    "wf-credential-invalid": "Credential used outside its validity",
    "wf-credential-superseded": "Superseded, lost or stolen credential used",
    "wf-two-live-credentials": "Two credentials of one person in two places",
    "wf-impossible-travel": "Impossible travel between plants",
    "wf-outside-window": "Access outside the authorised window",
    "wf-restricted-area": "Restricted area entered without an authorisation",
    "wf-zone-probing": "Zone probing: denials across doors",
    "wf-remote-no-work-order": "OT remote session without a work order covering the asset",
    "wf-access-outlives-work-order": "Access outlives its work order",
    "wf-remote-while-on-site": "Remote session while badged in on site",
    "wf-training-missing": "Zone entered without the training it requires",
    "wf-after-offboarding": "Activity after offboarding",
    "wf-visitor-unescorted": "Visitor unescorted in a restricted area",
    "wf-visitor-overstay": "Visitor still on site after the visit's end",
    "wf-anti-passback": "Anti-passback: exit without entry or double entry",
    "wf-duress": "Duress signalled at a door",
    "wf-pin-attack": "Repeated wrong PINs with one card",
    "wf-logon-elsewhere": "Logon at a plant where the person is not",
    "wf-dormant-credential": "Dormant credential or account used again",
    "wf-generic-account": "Generic (shared) account used",
    "wf-shared-account": "One account used from two places at once",
    "wf-tailgating": "Tailgating: in on someone else's grant",
    "wf-door-forced": "Door forced open after a grant",
    "wf-door-held": "Door held open after a grant",
    "wf-watchlist-match": "Watchlist match at visitor registration or sign-in",
    "wf-privilege-outside-process": "Access granted outside the approval process",
}
# Accounts named for a role, not a person: whoever uses them is nobody in particular.
GENERIC_ACCOUNT = re.compile(
    r"^(admin(istrator)?|root|operator|oper|op|maint(enance)?|engineer(ing)?|eng|service|svc|guest|user|"
    r"hmi|scada|test|shift|supervisor|technician|tech|station|control|leitstand|bediener|wartung)[-_.]?\d*$",
    re.IGNORECASE)


@dataclass(frozen=True)
class Config:
    two_places_ms: int = 10 * 60_000  # another credential of the person read elsewhere this recently
    travel_kmh: float = 120.0  # faster than this between plants is impossible
    probing_denials: int = 3
    probing_doors: int = 2
    probing_window_ms: int = 10 * 60_000
    pin_attempts: int = 3
    escort_window_ms: int = 2 * 60_000
    overstay_grace_ms: int = 30 * 60_000
    work_order_grace_ms: int = 60 * 60_000
    presence_ms: int = 12 * 3600_000  # badged in and silent this long: assume they left
    dormant_ms: int = 30 * 86400_000  # unused this long, a credential's next use is worth a look
    shared_window_ms: int = 5 * 60_000  # one account from two places this close together
    tailgate_window_ms: int = 30_000  # an entry without a grant this soon after someone's grant at the door
    forced_window_ms: int = 5 * 60_000  # a forced door is blamed on the last grant this recent
    held_window_ms: int = 15 * 60_000  # a held door on the grant that opened it


@dataclass
class Finding:
    rule: str
    level: str
    events: tuple[Event, ...]
    why: dict[str, Any]
    person: str | None = None
    credential: str | None = None
    site: str = ""
    related: tuple[str, ...] = ()  # other credential ids the finding is about

    @property
    def title(self) -> str:
        return TITLES[self.rule]

    @property
    def cross_domain(self) -> bool:
        return self.rule in CROSS_DOMAIN or bool(self.why.get("cross_domain"))

    @property
    def score(self) -> int:
        """Level first, then cross-domain, then restricted areas: the order analysts should read."""
        return LEVELS[self.level] * 100 + self.cross_domain * 20 + bool(self.why.get("restricted_area")) * 10

    def explain(self) -> str:
        parts = [f"{k}: {v}" for k, v in self.why.items() if k not in ("cross_domain", "restricted_area")]
        return "; ".join(parts)


def _attr(event: Event, path: str) -> Any:
    return event.attrs.get(path, event.unmapped.get(path))


def _is_remote(event: Event) -> bool:
    value = _attr(event, "is_remote")
    return value is True or str(value).lower() == "true"


def _local(at: int) -> str:
    return dt.datetime.fromtimestamp(at / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@dataclass
class _Presence:
    site: str
    area: str
    since: int
    last: int
    event: Event


@dataclass
class _LastRead:
    time: int
    site: str
    area: str
    credential: str | None
    event: Event


@dataclass
class WorkforceDetector:
    directory: Directory
    config: Config = field(default_factory=Config)

    def __post_init__(self) -> None:
        self.presence: dict[str, _Presence] = {}  # person -> where they are badged in
        self.last_read: dict[str, list[_LastRead]] = defaultdict(list)  # person -> recent reads (per credential)
        self.denials: dict[str, deque[Event]] = defaultdict(deque)
        self.wrong_pins: dict[str, deque[Event]] = defaultdict(deque)
        self.area_reads: dict[tuple[str, str], deque[tuple[int, str]]] = defaultdict(deque)  # recent grants
        self.pending_escort: list[tuple[int, str, Event, Any]] = []
        self.overstayed: set[str] = set()
        self.checked_out: dict[tuple[str, str], int] = {}  # (person, site) -> check-out at the visitor desk
        self.last_use: dict[str, int] = {}  # credential id -> last successful use seen
        self.door_grants: dict[tuple[str, str], deque[tuple[int, str, Event]]] = defaultdict(deque)
        self.account_places: dict[str, list[tuple[int, str, Event]]] = defaultdict(list)
        self.generic_seen: set[tuple[str, str]] = set()
        self.grants_flagged: set[str] = set()

    # ------------------------------------------------------------------ entry point

    def process(self, events: Iterable[Event]) -> list[Finding]:
        found: list[Finding] = []
        for event in sorted(events, key=lambda e: e.time):
            found.extend(self._settle_escorts(event.time))
            if event.class_uid == EventClass.PHYSICAL_ACCESS:
                found.extend(self._physical(event))
            elif event.class_uid in (EventClass.AUTHENTICATION, EventClass.AUTHORIZE_SESSION):
                found.extend(self._logical(event))
            elif event.class_uid == EventClass.VISITOR_ACTIVITY:
                found.extend(self._visitor_desk(event))
        return found

    def _visitor_desk(self, event: Event) -> list[Finding]:
        """A check-out at the visitor desk ends the visit, whatever the visit record says; a
        registration, a check-in or a refused check-in is matched against the watchlist."""
        if event.activity_id in (VisitorActivity.PRE_REGISTERED, VisitorActivity.CHECK_IN, VisitorActivity.DENIED):
            return self._watchlist(event)
        if event.activity_id != VisitorActivity.CHECK_OUT:
            return []
        d = self.directory
        for path in ("user.uid", "user.name", "actor.user.uid", "actor.user.name"):
            value = str(_attr(event, path) or "")
            person = value if value in d.people else d.by_name.get(value.lower())
            if person:
                self.checked_out[(person, event.site)] = event.time
                return []
        return []

    def _watchlist(self, event: Event) -> list[Finding]:
        """Matched against the entries in force at the event's site on its local date (its
        organisation's, that plant's own, none past its last day). A refused check-in alerts too: a
        banned person came to the gate; its evidence is the banned entry that refused them."""
        if not self.directory.watchlist:
            return []
        name = str(_attr(event, "user.full_name") or _attr(event, "user.name") or _attr(event, "actor.user.name")
                   or "")
        company = str(_attr(event, "user.org.name") or "")
        site = self.directory.sites.get(event.site)
        try:
            tz = zone(site.timezone) if site else dt.UTC
        except ValueError:
            tz = dt.UTC
        entries = watchlist_in_force(self.directory.watchlist, event.site,
                                     dt.datetime.fromtimestamp(event.time / 1000, tz).date())
        hits = watchlist_match(name, company, entries) if name else []
        if not hits:
            return []
        refused = event.activity_id == VisitorActivity.DENIED
        best = next((h for h in hits if h.entry.level == "critical"), hits[0]) if refused else hits[0]
        step = {VisitorActivity.PRE_REGISTERED: "registration", VisitorActivity.DENIED: "check-in refused"}.get(
            event.activity_id, "sign-in")
        return [Finding("wf-watchlist-match", "critical" if best.entry.level == "critical" else "high", (event,), {
            "visitor": f"{name}{' (' + company + ')' if company else ''}", "at": step,
            "watchlist": f"{best.entry.id}: {best.matched} ({best.score:.0f}% alike"
                         f"{', same company' if best.company_matches else ''})",
            "reason": best.entry.reason or "listed", "others": len(hits) - 1,
            "rule": "a banned visitor was turned away at check-in: security should know they came" if refused
            else "a visitor who matches the watchlist is held at reception until security confirms"},
            str(_attr(event, "user.uid") or "") or None, None, event.site)]

    def flush(self) -> list[Finding]:
        """Decide what is still waiting (escort checks) as if time had moved on."""
        return self._settle_escorts(2**62)

    # ------------------------------------------------------------------ who is it

    def _resolve(self, event: Event, physical: bool) -> tuple[str | None, CredentialRecord | None]:
        d = self.directory
        issue = _attr(event, "credential.issue_code")
        cred = None
        ident = _attr(event, "credential.uid") if physical else (_attr(event, "user.name")
                                                                  or _attr(event, "actor.user.name"))
        if ident:
            cred = d.credential(str(ident), int(issue) if str(issue or "").isdigit() else None)
        if cred is not None and (cred.person or cred.is_decoy):
            return cred.person, cred
        for path in ("actor.user.name", "actor.user.uid", "user.name", "user.uid"):
            value = _attr(event, path)
            if value and str(value) in d.people:
                return str(value), cred
        name = _attr(event, "actor.user.name") or _attr(event, "user.name")
        if name and str(name).lower() in d.by_name:
            return d.by_name[str(name).lower()], cred
        return None, cred

    # ------------------------------------------------------------------ credential checks (physical and logical)

    def _credential_checks(self, event: Event, person: str | None, cred: CredentialRecord | None,
                           granted: bool) -> list[Finding]:
        if cred is None:
            return []
        if not (cred.is_decoy or cred.status in UNUSABLE or cred.valid_to is not None
                or cred.valid_from is not None):
            return []
        out = []
        base = {"credential": cred.describe(), "result": "granted" if granted else "denied",
                "time": _local(event.time)}
        if cred.is_decoy:
            return [Finding("wf-decoy-credential", "critical", (event,), {
                **base, "rule": "a decoy credential is never issued to anyone: any use is an intruder or a test"},
                person, cred.id, event.site)]
        if cred.valid_to is not None and event.time > cred.valid_to or \
                cred.valid_from is not None and event.time < cred.valid_from:
            expired = cred.valid_to is not None and event.time > cred.valid_to
            out.append(Finding("wf-credential-invalid", "critical" if granted else "high", (event,), {
                **base, "validity": f"{_local(cred.valid_from) if cred.valid_from else '…'} – "
                                    f"{_local(cred.valid_to) if cred.valid_to else '…'}",
                "rule": "expired credential presented" if expired else "credential presented before it is valid",
                **({"panel": "granted it: the controller is out of sync with the credential record"}
                   if granted else {})}, person, cred.id, event.site))
        newer = self.directory.superseded_by.get(cred.id)
        changed = cred.status_changed_at if cred.status_changed_at is not None else 0
        if cred.status in UNUSABLE and cred.status != "suspended" and event.time >= changed:
            level = "critical" if granted and cred.status in ("lost", "stolen") else "high"
            why = {**base, "rule": f"credential is {cred.status} since {_local(changed)}"}
            if newer is not None:
                why["replaced_by"] = newer.describe()
            out.append(Finding("wf-credential-superseded", level, (event,), why, person, cred.id, event.site))
        return out

    # ------------------------------------------------------------------ physical access

    def _physical(self, event: Event) -> list[Finding]:
        person, cred = self._resolve(event, physical=True)
        activity = event.activity_id
        granted = activity == A.GRANTED and _attr(event, "access.entered") is not False
        site, area = event.site, str(_attr(event, "area.name") or "")
        if activity in (A.FORCED, A.HELD):
            return self._door_alarm(event, site)
        if activity == A.TAILGATE or (activity == A.OTHER and _attr(event, "access.entered") is True):
            return self._tailgate(event, person, site)
        out = self._credential_checks(event, person, cred, granted)
        if person is None:
            return out
        out += self._offboarded(event, person, granted)
        if activity == A.DURESS or _attr(event, "access.event") == "duress":
            out.append(Finding("wf-duress", "critical", (event,), {
                "where": f"{site}/{area or _attr(event, 'door.name') or '?'}", "time": _local(event.time),
                "rule": "a duress PIN or signal means someone is being forced: dispatch, do not call them"},
                person, cred.id if cred else None, site))
        if activity == A.DENIED:
            out += self._probing(event, person)
            out += self._pin_attack(event, person)
            return out
        is_read = activity in (A.GRANTED, A.PASSBACK, A.DURESS) or _attr(event, "credential.uid")
        if is_read:
            out += self._two_places(event, person, cred, site, area)
        direction = _attr(event, "access.direction")
        if activity == A.EXIT or direction == "out":
            out += self._exit(event, person, site)
            return out
        if not granted:
            return out
        self._remember_grant(event, person, site)
        if cred is not None:
            out += self._dormant(event, person, cred)
        out += self._anti_passback_entry(event, person, site, area, direction)
        if area:
            out += self._authorised(event, person, cred, site, area)
            out += self._training(event, person, site, area)
            out += self._visitor(event, person, site, area)
            reads = self.area_reads[(site, area)]
            reads.append((event.time, person))
            while event.time - reads[0][0] > 4 * self.config.escort_window_ms:
                reads.popleft()
        return out

    def _offboarded(self, event: Event, person: str, success: bool) -> list[Finding]:
        record = self.directory.people.get(person)
        if record is None or record.status != "offboarded":
            return []
        if record.status_changed_at is not None and event.time < record.status_changed_at:
            return []
        return [Finding("wf-after-offboarding", "critical" if success else "high", (event,), {
            "person": f"{record.name or person} ({record.kind})",
            "offboarded": _local(record.status_changed_at) if record.status_changed_at else "yes",
            "result": "succeeded" if success else "refused",
            "rule": "no credential of an offboarded person may be used anywhere"}, person, None, event.site)]

    def _probing(self, event: Event, person: str) -> list[Finding]:
        c = self.config
        recent = self.denials[person]
        recent.append(event)
        while recent and event.time - recent[0].time > c.probing_window_ms:
            recent.popleft()
        doors = {str(_attr(e, "door.name") or _attr(e, "reader.name") or _attr(e, "area.name")) for e in recent}
        if len(recent) >= c.probing_denials and len(doors) >= c.probing_doors:
            evidence = tuple(recent)
            recent.clear()
            return [Finding("wf-zone-probing", "high", evidence, {
                "denials": len(evidence), "doors": ", ".join(sorted(doors)),
                "window": f"{c.probing_window_ms // 60000} min",
                "rule": f">= {c.probing_denials} denials at >= {c.probing_doors} doors"}, person, None, event.site)]
        return []

    def _pin_attack(self, event: Event, person: str) -> list[Finding]:
        """Wrong PINs with one card: somebody who holds the card but not the PIN."""
        if _attr(event, "access.event") != "denied-incorrect-authentication-factor":
            return []
        c = self.config
        recent = self.wrong_pins[person]
        recent.append(event)
        while recent and event.time - recent[0].time > c.probing_window_ms:
            recent.popleft()
        if len(recent) < c.pin_attempts:
            return []
        evidence = tuple(recent)
        recent.clear()
        return [Finding("wf-pin-attack", "high", evidence, {
            "wrong_pins": len(evidence), "window": f"{c.probing_window_ms // 60000} min",
            "rule": f">= {c.pin_attempts} wrong PINs with one card: the card may be stolen"},
            person, None, event.site)]

    def _two_places(self, event: Event, person: str, cred: CredentialRecord | None, site: str,
                    area: str) -> list[Finding]:
        c = self.config
        reads = self.last_read[person]
        found: list[Finding] = []
        here = cred.id if cred else None
        for prior in reads:
            gap = event.time - prior.time
            span = abs(gap)  # reads may arrive out of time order (several distributed workers feed a partition)
            if prior.site != site:
                a, b = self.directory.sites.get(prior.site), self.directory.sites.get(site)
                km = distance_km(a, b) if a and b else None
                if km is not None and km > 1 and (span == 0 or km / (span / 3600_000) > c.travel_kmh):
                    two = prior.credential != here and prior.credential and here
                    rule = "wf-two-live-credentials" if two else "wf-impossible-travel"
                    start = f"{prior.site}/{prior.area} at {_local(prior.time)}"
                    end = f"{site}/{area} at {_local(event.time)}"
                    if gap < 0:
                        start, end = end, start
                    found.append(Finding(rule, "critical" if two else "high", (prior.event, event), {
                        "from": start, "to": end, "distance_km": round(km, 1),
                        "needs_kmh": round(km / max(span / 3600_000, 1e-6)), "limit_kmh": c.travel_kmh,
                        "credentials": f"{prior.credential} / {here}"}, person, here, site,
                        (prior.credential,) if two else ()))
            elif (prior.credential and here and prior.credential != here and prior.area != area
                  and span <= c.two_places_ms):
                found.append(Finding("wf-two-live-credentials", "critical", (prior.event, event), {
                    "first": f"{prior.credential} at {prior.site}/{prior.area} {_local(prior.time)}",
                    "second": f"{here} at {site}/{area} {_local(event.time)}",
                    "window": f"{c.two_places_ms // 60000} min",
                    "rule": "one person cannot carry two live credentials to two places: one is in someone else's hand",
                    "restricted_area": self._restricted(site, area)}, person, here, site, (prior.credential,)))
        newer = [r for r in reads if r.credential == here and r.time > event.time]  # arrived out of order
        reads[:] = [r for r in reads if r.credential != here and event.time - r.time <= max(c.two_places_ms, 86400_000)]
        reads.append(newer[-1] if newer else _LastRead(event.time, site, area, here, event))
        return found

    def _restricted(self, site: str, area: str) -> bool:
        record = self.directory.areas.get((site, area))
        return bool(record and record.restricted)

    def _exit(self, event: Event, person: str, site: str) -> list[Finding]:
        present = self.presence.pop(person, None)
        if _attr(event, "access.direction") == "out" and (present is None or present.site != site):
            last = f"{present.site} at {_local(present.since)}" if present else "none"
            return [Finding("wf-anti-passback", "medium", (event,), {
                "rule": "exit without a recorded entry", "site": site, "last_entry": last}, person, None, site),
                Finding("wf-tailgating", "medium", (event,), {
                    "rule": "an exit with no entry: they came in on someone else's grant", "site": site,
                    "last_entry": last}, person, None, site)]
        return []

    # ------------------------------------------------------------------ doors: tailgating, forced, held

    @staticmethod
    def _door(event: Event) -> str:
        return str(_attr(event, "door.name") or _attr(event, "reader.name") or _attr(event, "area.name") or "")

    def _remember_grant(self, event: Event, person: str, site: str) -> None:
        grants = self.door_grants[(site, self._door(event))]
        grants.append((event.time, person, event))
        keep = max(self.config.held_window_ms, self.config.forced_window_ms)
        while grants and event.time - grants[0][0] > keep:
            grants.popleft()

    def _last_grant(self, event: Event, site: str, window: int, other_than: str | None = None):
        for time, who, grant in reversed(self.door_grants.get((site, self._door(event)), ())):
            if 0 <= event.time - time <= window and who != other_than:
                return time, who, grant
        return None

    def _tailgate(self, event: Event, person: str | None, site: str) -> list[Finding]:
        """An entry the door saw without a grant of that person's: blamed on whoever's grant
        opened it within the window (the panel's tailgate signal, or a counted entry)."""
        door = self._door(event)
        last = self._last_grant(event, site, self.config.tailgate_window_ms, other_than=person)
        if last is None and event.activity_id != A.TAILGATE:
            return []  # a counted entry with nobody's grant before it is a door alarm, not a tailgate
        why: dict[str, Any] = {"door": f"{site}/{door}", "time": _local(event.time),
                               "follower": person or "unidentified"}
        evidence: tuple[Event, ...] = (event,)
        if last is not None:
            time, who, grant = last
            why["opened_by"] = f"{who}'s grant at {_local(time)} ({(event.time - time) // 1000} s earlier)"
            evidence = (grant, event)
        else:
            why["opened_by"] = f"no grant at this door in the last {self.config.tailgate_window_ms // 1000} s"
        why["restricted_area"] = self._restricted(site, str(_attr(event, "area.name") or ""))
        subject = person or (last[1] if last else None)
        return [Finding("wf-tailgating", "high" if why["restricted_area"] else "medium", evidence, why,
                        subject, None, site)]

    def _door_alarm(self, event: Event, site: str) -> list[Finding]:
        forced = event.activity_id == A.FORCED
        window = self.config.forced_window_ms if forced else self.config.held_window_ms
        last = self._last_grant(event, site, window)
        door = self._door(event)
        restricted = self._restricted(site, str(_attr(event, "area.name") or ""))
        why: dict[str, Any] = {"door": f"{site}/{door}", "time": _local(event.time), "restricted_area": restricted}
        if last is None:
            if not forced:
                return []  # held open with no grant to blame: the door's own alarm is enough
            why["last_grant"] = f"none in the last {window // 60000} min: forced from outside"
            return [Finding("wf-door-forced", "high", (event,), why, None, None, site)]
        time, who, grant = last
        why["last_grant"] = f"{who} at {_local(time)} ({(event.time - time) // 1000} s earlier)"
        why["rule"] = ("a door forced open soon after a grant: the person let through may have propped it"
                       if forced else "a door held open after a grant: the person may be letting others in")
        rule = "wf-door-forced" if forced else "wf-door-held"
        level = "high" if forced or restricted else "medium"
        return [Finding(rule, level, (grant, event), why, who, None, site)]

    # ------------------------------------------------------------------ dormancy, accounts, process

    def _dormant(self, event: Event, person: str | None, cred: CredentialRecord) -> list[Finding]:
        """A credential used after `dormant_ms` unused (last use seen here, or known from before)."""
        before = self.last_use.get(cred.id, cred.last_used)
        self.last_use[cred.id] = event.time
        if before is None or event.time - before < self.config.dormant_ms:
            return []
        return [Finding("wf-dormant-credential", "medium", (event,), {
            "credential": cred.describe(), "last_used": _local(before),
            "unused_days": (event.time - before) // 86400_000,
            "threshold_days": self.config.dormant_ms // 86400_000,
            "rule": "a credential unused for long is revoked; its sudden use may be someone else's"},
            person, cred.id, event.site)]

    def _accounts(self, event: Event, person: str | None, cred: CredentialRecord | None) -> list[Finding]:
        account = str(_attr(event, "user.name") or _attr(event, "actor.user.name") or "")
        if not account:
            return []
        out = []
        if GENERIC_ACCOUNT.match(account) and (account.lower(), event.site) not in self.generic_seen:
            self.generic_seen.add((account.lower(), event.site))
            target = _attr(event, "dst_endpoint.asset.name") or _attr(event, "dst_endpoint.hostname") or "?"
            out.append(Finding("wf-generic-account", "medium", (event,), {
                "account": account, "target": str(target), "owner": cred.person if cred and cred.person else "nobody",
                "rule": "an account named for a role is shared: nothing it does can be tied to a person"},
                person, cred.id if cred else None, event.site))
        place = str(_attr(event, "src_endpoint.ip") or _attr(event, "src_endpoint.hostname")
                    or _attr(event, "dst_endpoint.asset.name") or _attr(event, "dst_endpoint.hostname") or "")
        if not place:
            return out
        key = account.lower()
        recent = [r for r in self.account_places[key] if event.time - r[0] <= self.config.shared_window_ms]
        elsewhere = [r for r in recent if r[1] != place]
        if elsewhere:
            time, where, first = elsewhere[-1]
            out.append(Finding("wf-shared-account", "high", (first, event), {
                "account": account, "first": f"from {where} at {_local(time)}",
                "second": f"from {place} at {_local(event.time)}",
                "window": f"{self.config.shared_window_ms // 60000} min",
                "rule": "one person cannot log on from two places at once: the account is shared or stolen"},
                person, cred.id if cred else None, event.site))
            recent = []  # one finding per pair of places
        self.account_places[key] = [*recent, (event.time, place, event)]
        return out

    def _outside_process(self, event: Event, person: str, site: str, area: str,
                         grants: Sequence[AuthorisationRecord]) -> list[Finding]:
        """A grant used that nobody approved, without a reason, or approved by someone who is
        neither the zone's owner nor the person's sponsor (once per grant)."""
        record = self.directory.areas.get((site, area))
        owners = set(record.owners) if record else set()
        who = self.directory.people.get(person)
        sponsor = who.sponsor if who else None
        approvers = owners | ({sponsor} if sponsor else set())
        problems: list[tuple[AuthorisationRecord, str]] = []
        for g in grants:
            if not g.granted_by:
                problems.append((g, "nobody is recorded as having granted it"))
            elif not g.reason and not g.work_order:
                problems.append((g, f"granted by {g.granted_by} without a reason or work order"))
            elif approvers and g.granted_by not in approvers:
                problems.append((g, f"granted by {g.granted_by}, who is neither the zone owner "
                                    f"({', '.join(sorted(owners)) or 'none'}) nor the sponsor ({sponsor or 'none'})"))
            else:
                return []  # one grant in process is enough
        g, why = problems[0]
        if g.id in self.grants_flagged:
            return []
        self.grants_flagged.add(g.id)
        return [Finding("wf-privilege-outside-process", "medium", (event,), {
            "authorisation": g.describe(), "problem": why, "used": f"{site}/{area} at {_local(event.time)}",
            "rule": "every grant needs an approver (the zone owner or the sponsor) and a reason",
            "restricted_area": self._restricted(site, area)}, person, None, site)]

    def _anti_passback_entry(self, event: Event, person: str, site: str, area: str,
                             direction: Any) -> list[Finding]:
        present = self.presence.get(person)
        out = []
        if (direction == "in" and present is not None and present.site == site and present.area == area
                and event.time - present.last <= self.config.presence_ms):
            out.append(Finding("wf-anti-passback", "low", (event,), {
                "rule": "double entry: entered again without leaving", "site": site, "area": area,
                "entered": _local(present.since)}, person, None, site))
        self.presence[person] = _Presence(site, area, event.time if present is None or present.site != site
                                          else present.since, event.time, event)
        return out

    def _authorised(self, event: Event, person: str, cred: CredentialRecord | None, site: str,
                    area: str) -> list[Finding]:
        grants = self.directory.authorisations_for(person, site, area)
        restricted = self._restricted(site, area)
        if not grants:
            # a visitor's way into a restricted area is their escort (wf-visitor-unescorted judges it)
            if restricted and self.directory.visit_at(person, site, event.time) is None:
                who = self.directory.people.get(person)
                return [Finding("wf-restricted-area", "high", (event,), {
                    "area": f"{site}/{area} (restricted)", "person": f"{who.name if who else person}"
                    f"{' (' + who.department + ')' if who and who.department else ''}",
                    "authorisations": "none for this area", "time": _local(event.time),
                    "restricted_area": True}, person, cred.id if cred else None, site)]
            return []
        verdicts = [(g, g.window.check(event.time)) for g in grants]
        inside = [g for g, v in verdicts if v.inside]
        if not inside:
            g, v = verdicts[0]
            return [Finding("wf-outside-window", "medium" if not restricted else "high", (event,), {
                "authorisation": g.describe(), "window": v.reason, "local_time": v.local,
                "restricted_area": restricted}, person, cred.id if cred else None, site),
                *self._work_order_of(event, person, site, grants)]
        return self._work_order_of(event, person, site, inside) + self._outside_process(event, person, site, area,
                                                                                         inside)

    def _work_order_of(self, event: Event, person: str, site: str,
                       grants: Sequence[AuthorisationRecord]) -> list[Finding]:
        """A grant justified by a work order is only as good as the work order."""
        justified = [g for g in grants if g.work_order]
        if not justified or len(justified) < len(grants):
            return []  # some grant needs no work order
        for g in justified:
            wo = self.directory.work_orders.get(g.work_order)
            if wo is not None and wo.status in ("approved", "in_progress") and \
                    event.time <= wo.ends + self.config.work_order_grace_ms:
                return []
        g = justified[0]
        wo = self.directory.work_orders.get(g.work_order)
        state = f"{wo.key} is {wo.status}, window ended {_local(wo.ends)}" if wo else f"{g.work_order} is unknown"
        return [Finding("wf-access-outlives-work-order", "high", (event,), {
            "authorisation": g.describe(), "work_order": state,
            "grace": f"{self.config.work_order_grace_ms // 60000} min",
            "rule": "access granted for a work order must end with it"}, person, None, site)]

    def _training(self, event: Event, person: str, site: str, area: str) -> list[Finding]:
        record = self.directory.areas.get((site, area))
        if record is None or not record.requires:
            return []
        held = self.directory.trainings.get(person, ())
        missing = []
        for kind in sorted(record.requires):
            mine = [t for t in held if t.kind == kind]
            if not any(t.valid_at(event.time) for t in mine):
                expired = [t for t in mine if t.expires is not None and t.expires < event.time]
                missing.append(f"{kind} (expired {_local(max(t.expires for t in expired))})" if expired
                               else f"{kind} (never completed)")
        if not missing:
            return []
        return [Finding("wf-training-missing", "high", (event,), {
            "area": f"{site}/{area}", "requires": ", ".join(sorted(record.requires)), "missing": "; ".join(missing),
            "rule": "everyone entering a zone must hold the training it requires"}, person, None, site)]

    def _visitor(self, event: Event, person: str, site: str, area: str) -> list[Finding]:
        visit = self.directory.visit_at(person, site, event.time)
        out = []
        if visit is None:
            return out
        c = self.config
        desk = self.checked_out.get((person, site))
        left = min(t for t in (visit.checked_out_at, desk) if t is not None) if (visit.checked_out_at or desk) else None
        if left is not None and left < visit.expected_start:
            left = None  # a check-out from an earlier visit
        end = left or visit.expected_end
        if event.time > end + c.overstay_grace_ms and visit.id not in self.overstayed:
            self.overstayed.add(visit.id)
            out.append(Finding("wf-visitor-overstay", "medium", (event,), {
                "visit": visit.id, "expected_end": _local(visit.expected_end),
                "checked_out": _local(left) if left else "no",
                "grace": f"{c.overstay_grace_ms // 60000} min"}, person, None, site))
        if visit.escort_required and self._restricted(site, area):
            escorts = {p for p in (visit.escort, visit.host) if p}
            self.pending_escort.append((event.time + c.escort_window_ms, person, event, (visit, escorts, area)))
        return out

    def _settle_escorts(self, now: int) -> list[Finding]:
        """A visitor's read in a restricted area needs an escort's read there within ± the window;
        decided once the window has passed."""
        if not self.pending_escort or self.pending_escort[0][0] > now:
            return []
        out, keep = [], []
        for due, person, event, (visit, escorts, area) in self.pending_escort:
            if due > now:
                keep.append((due, person, event, (visit, escorts, area)))
                continue
            window = self.config.escort_window_ms
            reads = self.area_reads.get((event.site, area), ())
            if not any(who in escorts and abs(t - event.time) <= window for t, who in reads):
                out.append(Finding("wf-visitor-unescorted", "high", (event,), {
                    "visit": visit.id, "area": f"{event.site}/{area} (restricted)",
                    "escorts": ", ".join(sorted(escorts)) or "none named",
                    "window": f"±{window // 1000} s", "rule": "a visitor in a restricted area needs the escort's "
                                                            "badge at the same reader"}, person, None, event.site))
        self.pending_escort = keep
        return out

    # ------------------------------------------------------------------ logical access

    def _logical(self, event: Event) -> list[Finding]:
        person, cred = self._resolve(event, physical=False)
        success = event.status_id != 2
        out = self._credential_checks(event, person, cred, success)
        if success:
            out += self._accounts(event, person, cred)
            if cred is not None and not cred.is_decoy:
                out += self._dormant(event, person, cred)
        if person is None:
            return out
        out += self._offboarded(event, person, success)
        if success and not _is_remote(event):
            out += self._logon_elsewhere(event, person)
        if not success or not _is_remote(event):
            return out
        target = str(_attr(event, "dst_endpoint.asset.name") or _attr(event, "dst_endpoint.hostname") or "")
        ot = (_attr(event, "dst_endpoint.asset.domain") == "ot" and _attr(event, "dst_endpoint.asset.kind")
              != "jump_host") or target in self.directory.ot_assets
        if target and ot:
            out += self._remote_work_order(event, person, target)
        present = self.presence.get(person)
        if present is not None and event.time - present.last <= self.config.presence_ms:
            out.append(Finding("wf-remote-while-on-site", "medium", (present.event, event), {
                "remote_from": str(_attr(event, "src_endpoint.ip") or "?"),
                "badged_in": f"{present.site}/{present.area} since {_local(present.since)}",
                "rule": "a person badged in on site does not log on remotely: the account is shared or stolen"},
                person, None, event.site))
        return out

    def _logon_elsewhere(self, event: Event, person: str) -> list[Finding]:
        """An interactive logon at one plant while the person's badge says they are at another."""
        present = self.presence.get(person)
        if (present is None or not event.site or present.site == event.site
                or event.time - present.last > self.config.presence_ms):
            return []
        return [Finding("wf-logon-elsewhere", "high", (present.event, event), {
            "logon": f"{_attr(event, 'dst_endpoint.asset.name') or _attr(event, 'dst_endpoint.hostname') or '?'} "
                     f"at {event.site} {_local(event.time)}",
            "badged_in": f"{present.site}/{present.area} since {_local(present.since)}",
            "rule": "a local logon needs the person at that plant: someone else uses the account"},
            person, None, event.site)]

    def _remote_work_order(self, event: Event, person: str, target: str) -> list[Finding]:
        mine = self.directory.orders_of.get(person, ())
        if any(w.covers(target, event.time) for w in mine):
            return []
        consulted = [f"{w.key} ({w.status}, {_local(w.starts)}–{_local(w.ends)}, assets: "
                     f"{', '.join(sorted(w.assets)) or 'none'})" for w in mine]
        ended = [w for w in mine if target in w.assets and w.starts <= event.time
                 and (w.status in ("closed", "cancelled") or event.time > w.ends)]
        rule = "wf-access-outlives-work-order" if ended else "wf-remote-no-work-order"
        return [Finding(rule, "high", (event,), {
            "target": target, "time": _local(event.time),
            "work_orders_consulted": "; ".join(consulted) or "none assigned to this person",
            "rule": "an OT remote session needs an approved work order for that asset covering the session",
            "cross_domain": True}, person, None, event.site)]


@dataclass
class RankedCase:
    """Findings of one rule about one subject, ranked together."""

    rule: str
    subject: str
    level: str
    score: int
    findings: list[Finding]

    @property
    def events(self) -> int:
        return len({e.uid for f in self.findings for e in f.events})


def rank(findings: Iterable[Finding]) -> list[RankedCase]:
    """Group findings by rule and subject (credential, else person); order by score, then volume.

    Two live credentials of one person where one of them is superseded is the same story as the
    superseded credential's use: those findings join that case and raise it to critical (the old
    badge is in someone else's hand), instead of ranking as a case of their own."""
    findings = list(findings)
    superseded = {f.credential for f in findings if f.rule == "wf-credential-superseded"}
    groups: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    corroborated: set[str] = set()
    for f in findings:
        if f.rule == "wf-two-live-credentials":
            old = next((c for c in (f.credential, *f.related) if c in superseded), None)
            if old is not None:
                groups[("wf-credential-superseded", old)].append(f)
                corroborated.add(old)
                continue
        groups[(f.rule, f.credential or f.person or "?")].append(f)
    cases = []
    for (rule, subject), items in groups.items():
        score = max(f.score for f in items)
        level = max((f.level for f in items), key=LEVELS.__getitem__)
        if subject in corroborated:
            score, level = max(score, LEVELS["critical"] * 100 + 30), "critical"
        if any(f.why.get("restricted_area") for f in items):
            score += 5
        cases.append(RankedCase(rule, subject, level, score, items))
    cases.sort(key=lambda c: (-c.score, -c.events, c.rule, c.subject))
    return cases
