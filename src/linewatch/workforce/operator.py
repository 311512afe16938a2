"""The workforce detections as partition operators of the distributed mode (events.partitions).

The detector's state is of two kinds, and no single partition key sees both:

- per person (or per account, or per credential): where they are badged in, their recent reads
  at every plant, denials, wrong PINs, dormancy, visits, one account's places. Impossible travel
  and two live credentials compare one person's reads at two sites, so a site-keyed partition
  cannot see them. The `workforce` operator runs in the person-keyed stage (`lw.part.p<n>`):
  `person_key` resolves the person through the directory (a badge event may name only the
  card), so all of one person's events meet wherever they happen;
- per door or area: tailgating, a door forced or held after someone's grant, a visitor's
  escort at the same reader. These compare different people at one door, so the
  `workforce-doors` operator runs in the site-keyed stage (`lw.part.<n>`, the default key).

Both run the same `WorkforceDetector` and keep only their own rules' findings, so each alert
comes from exactly one stage. The state is a msgspec Struct (`WorkforceState`); `process` is
deterministic given the state, the event and the directory, and alert uids hash the rule and the
evidence, so a replay after a takeover raises the same alerts again, which are recorded once. A
redelivered event uid is ignored (a bounded memory of recent uids travels in the snapshot).

The directory (people, credentials, authorisations, work orders, training, visits) is read from
the database, refreshed at most every `REFRESH` seconds. Decisions compare event time with the
records' own times (validity, status change, windows), so a replay reaches the same verdicts
unless a record was rewritten in between — and then the alert uid still cannot double.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict, deque
from collections.abc import Callable

import msgspec

from linewatch.detect.detection import Detection
from linewatch.events.schema import Event, EventClass, PhysicalAccessActivity
from linewatch.workforce.detector import WorkforcePipelineDetector
from linewatch.workforce.engine.detections import Finding, WorkforceDetector
from linewatch.workforce.engine.records import Directory, VisitRecord

A = PhysicalAccessActivity
WATCHED = frozenset({EventClass.PHYSICAL_ACCESS, EventClass.AUTHENTICATION, EventClass.AUTHORIZE_SESSION,
                     EventClass.VISITOR_ACTIVITY})
DOOR_RULES = frozenset({"wf-door-forced", "wf-door-held", "wf-visitor-unescorted"})
UID_MEMORY = 10_000  # recent event uids remembered against redelivery (8-byte digests)
REFRESH = 1.0  # seconds between directory freshness checks (a database query each)
PERSIST_EVERY = 500  # events between writes of credentials' last use


def is_door_finding(finding: Finding) -> bool:
    """Findings about a door or area (several people at one reader): the site stage's. An exit
    without an entry is also called tailgating, but it is about one person: the person stage's."""
    return finding.rule in DOOR_RULES or (finding.rule == "wf-tailgating" and "opened_by" in finding.why)


# ------------------------------------------------------------------ routing


class _Resolver:
    """`WorkforceDetector._resolve` on the current directory, for routing (no state used)."""

    def __init__(self) -> None:
        self.detector: WorkforceDetector | None = None
        self.checked = 0.0

    def directory(self) -> Directory:
        from linewatch.workforce.services import directory

        now = time.monotonic()
        if self.detector is None or now - self.checked >= REFRESH:
            current = directory()
            if self.detector is None:
                self.detector = WorkforceDetector(current)
            self.detector.directory = current
            self.checked = now
        return self.detector.directory


_resolver = _Resolver()


def person_key(event: Event, directory: Directory | None = None) -> str | None:
    """The person-keyed stage's key: the person the event is about (through the directory),
    else the account or the card, else the site; None for events the person stage does not need
    (other classes, door alarms and tailgates, which are about a door)."""
    if event.class_uid not in WATCHED:
        return None
    if event.class_uid == EventClass.PHYSICAL_ACCESS and (
            event.activity_id in (A.FORCED, A.HELD, A.TAILGATE)
            or (event.activity_id == A.OTHER and event.attrs.get("access.entered") is True)):
        return None
    d = directory or _resolver.directory()
    detector = _resolver.detector if directory is None else WorkforceDetector(d)
    assert detector is not None
    attrs = event.attrs
    if event.class_uid == EventClass.VISITOR_ACTIVITY:
        for path in ("user.uid", "user.name", "actor.user.uid", "actor.user.name"):
            value = str(attrs.get(path) or "")
            person = value if value in d.people else d.by_name.get(value.lower())
            if person:
                return f"user:{person}"
        return f"site:{event.site}"
    person, cred = detector._resolve(event, physical=event.class_uid == EventClass.PHYSICAL_ACCESS)
    if person:
        return f"user:{person}"
    if cred is not None:
        return f"credential:{cred.id}"
    account = attrs.get("user.name") or attrs.get("actor.user.name")
    if account and event.class_uid != EventClass.PHYSICAL_ACCESS:
        return f"account:{str(account).lower()}"
    card = attrs.get("credential.uid")
    return f"card:{card}" if card else f"site:{event.site}"


# ------------------------------------------------------------------ the state


class _Here(msgspec.Struct, array_like=True):
    site: str
    area: str
    since: int
    last: int
    event: Event


class _Read(msgspec.Struct, array_like=True):
    time: int
    site: str
    area: str
    credential: str | None
    event: Event


class _Escort(msgspec.Struct, array_like=True):
    due: int
    person: str
    event: Event
    visit: VisitRecord
    escorts: list[str]
    area: str


class WorkforceState(msgspec.Struct):
    """Everything `WorkforceDetector` and the pipeline's once-a-day memory keep, as plain data
    (sets as sorted lists, tuple-keyed maps as rows) so the bytes are the same for the same state."""

    presence: dict[str, _Here] = {}
    last_read: dict[str, list[_Read]] = {}
    denials: dict[str, list[Event]] = {}
    wrong_pins: dict[str, list[Event]] = {}
    area_reads: list[tuple[str, str, list[tuple[int, str]]]] = []
    pending_escort: list[_Escort] = []
    overstayed: list[str] = []
    checked_out: list[tuple[str, str, int]] = []
    last_use: dict[str, int] = {}
    door_grants: list[tuple[str, str, list[tuple[int, str, Event]]]] = []
    account_places: dict[str, list[tuple[int, str, Event]]] = {}
    generic_seen: list[tuple[str, str]] = []
    grants_flagged: list[str] = []
    alerted: list[tuple[str, str, str, str]] = []  # (rule, subject, site, day), oldest first
    recent: list[int] = []  # digests of the last UID_MEMORY event uids, oldest first


def capture(engine: WorkforceDetector, alerted: dict) -> WorkforceState:
    return WorkforceState(
        presence={p: _Here(h.site, h.area, h.since, h.last, h.event) for p, h in engine.presence.items()},
        last_read={p: [_Read(r.time, r.site, r.area, r.credential, r.event) for r in reads]
                   for p, reads in engine.last_read.items() if reads},
        denials={p: list(q) for p, q in engine.denials.items() if q},
        wrong_pins={p: list(q) for p, q in engine.wrong_pins.items() if q},
        area_reads=[(s, a, list(q)) for (s, a), q in engine.area_reads.items() if q],
        pending_escort=[_Escort(due, person, event, visit, sorted(escorts), area)
                        for due, person, event, (visit, escorts, area) in engine.pending_escort],
        overstayed=sorted(engine.overstayed),
        checked_out=[(p, s, at) for (p, s), at in engine.checked_out.items()],
        last_use=dict(engine.last_use),
        door_grants=[(s, d, list(q)) for (s, d), q in engine.door_grants.items() if q],
        account_places={a: list(rows) for a, rows in engine.account_places.items() if rows},
        generic_seen=sorted(engine.generic_seen),
        grants_flagged=sorted(engine.grants_flagged),
        alerted=list(alerted))


def apply(state: WorkforceState, engine: WorkforceDetector) -> dict[tuple[str, str, str, str], None]:
    """Load `state` into a fresh engine; return the once-a-day memory."""
    from linewatch.workforce.engine.detections import _LastRead, _Presence

    engine.presence = {p: _Presence(h.site, h.area, h.since, h.last, h.event) for p, h in state.presence.items()}
    engine.last_read = defaultdict(list, {p: [_LastRead(r.time, r.site, r.area, r.credential, r.event) for r in reads]
                                          for p, reads in state.last_read.items()})
    engine.denials = defaultdict(deque, {p: deque(q) for p, q in state.denials.items()})
    engine.wrong_pins = defaultdict(deque, {p: deque(q) for p, q in state.wrong_pins.items()})
    engine.area_reads = defaultdict(deque, {(s, a): deque(tuple(r) for r in q) for s, a, q in state.area_reads})
    engine.pending_escort = [(e.due, e.person, e.event, (e.visit, set(e.escorts), e.area))
                             for e in state.pending_escort]
    engine.overstayed = set(state.overstayed)
    engine.checked_out = {(p, s): at for p, s, at in state.checked_out}
    engine.last_use = dict(state.last_use)
    engine.door_grants = defaultdict(deque, {(s, d): deque(tuple(r) for r in q) for s, d, q in state.door_grants})
    engine.account_places = defaultdict(list, {a: [tuple(r) for r in rows] for a, rows in state.account_places.items()})
    engine.generic_seen = {tuple(k) for k in state.generic_seen}
    engine.grants_flagged = set(state.grants_flagged)
    return {tuple(k): None for k in state.alerted}


def _digest(uid: str) -> int:
    return int.from_bytes(hashlib.blake2b(uid.encode("utf-8", "surrogateescape"), digest_size=8).digest(), "big")


# ------------------------------------------------------------------ the operator


class WorkforceOperator:
    """`scope="person"`: every workforce rule except the door rules, in the person-keyed stage;
    `scope="site"`: only the door rules, in the site-keyed stage."""

    def __init__(self, scope: str = "person", directory: Callable[[], Directory] | None = None,
                 persist: bool = True) -> None:
        if scope not in ("person", "site"):
            raise ValueError(f"scope must be 'person' or 'site', not {scope!r}")
        self.scope = scope
        self.name = "workforce" if scope == "person" else "workforce-doors"
        self._directory = directory
        self.persist = persist and directory is None and scope == "person"  # one stage writes last use
        self.pipeline = WorkforcePipelineDetector()
        self._pending: WorkforceState | None = None
        self._recent: deque[int] = deque()
        self._recent_set: set[int] = set()
        self._checked = 0.0
        self._since_persist = 0

    def _current(self) -> Directory:
        if self._directory is not None:
            return self._directory()
        from linewatch.workforce.services import directory

        return directory()

    def _engine(self) -> WorkforceDetector:
        """The engine on a fresh-enough directory; a restored state is loaded on first use, so
        `restore` needs no database."""
        engine = self.pipeline.engine
        now = time.monotonic()
        if engine is None:
            engine = self.pipeline.engine = WorkforceDetector(self._current())
            self._checked = now
            if self._pending is not None:
                self.pipeline.seen = apply(self._pending, engine)
                self._pending = None
        elif now - self._checked >= REFRESH:
            current = self._current()
            if engine.directory is not current:
                engine.directory = current
            self._checked = now
        return engine

    def wants(self, event: Event) -> bool:
        if event.class_uid not in WATCHED:
            return False
        return self.scope == "person" or event.class_uid == EventClass.PHYSICAL_ACCESS

    def process(self, event: Event) -> list[Detection]:
        if not self.wants(event):
            return []
        digest = _digest(event.uid)
        if digest in self._recent_set:
            return []  # delivered twice: counted once
        self._recent.append(digest)
        self._recent_set.add(digest)
        if len(self._recent) > UID_MEMORY:
            self._recent_set.discard(self._recent.popleft())
        if event.raw is not None:  # evidence without the raw line: smaller snapshots, same alerts
            event = msgspec.structs.replace(event, raw=None)
        engine = self._engine()
        door = self.scope == "site"
        found = [d for f in engine.process([event]) if is_door_finding(f) == door
                 and (d := self.pipeline.to_detection(f)) is not None]
        self._since_persist += 1
        if self.persist and self._since_persist >= PERSIST_EVERY:
            self._since_persist = 0
            self.pipeline.persist_last_use()
        return found

    def snapshot(self) -> bytes:
        engine = self.pipeline.engine
        state = (self._pending or WorkforceState()) if engine is None else capture(engine, self.pipeline.seen)
        state.recent = list(self._recent)
        return msgspec.msgpack.encode(state)

    def restore(self, data: bytes) -> None:
        state = msgspec.msgpack.decode(data, type=WorkforceState)
        self._recent = deque(state.recent)
        self._recent_set = set(state.recent)
        self.pipeline = WorkforcePipelineDetector()
        self._pending = state
