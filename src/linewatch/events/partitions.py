"""The stateful stage of the distributed mode: correlation partitioned by entity, one owner per
partition at a time, state that survives a worker's death.

Correlation ("five badge denials for one person in five minutes") needs every event of an entity
in one place. The stateless stage re-publishes each event to `lw.part.<n>`, where
n = hash(entity) mod N and the entity is the acting person (`actor.user.name`), else the asset
the event is about, else the site — so all of a person's events meet in one partition.

A second, person-keyed stage (`lw.part.p<n>`, KV keys under `lease.p.`, `state.p.`,
`member.p.`) runs the operators whose state spans sites whatever the first stage's key is (the
workforce detector: one person at two plants); each such operator brings its key function, and
the stateless stage publishes a copy of the events it needs there (`person_partition_of`).

Ownership. Each partition has a lease, the KV key `lease.<n>`, written only by compare-and-set
(create when absent, update with the expected revision). The owner renews it every ttl/3; a
lease whose revision has not moved for `ttl` (as observed on the contender's own monotonic
clock — no cross-machine clock comparison) is expired and may be taken, again by
compare-and-set, so exactly one contender wins. Workers announce themselves under
`member.<worker>`; each aims at a fair share ceil(N / live workers) and hands surplus partitions
to under-loaded peers, so N workers split the partitions evenly.

State. A partition's operators (`PartitionOperator`) keep their state in memory; it is
snapshotted to `state.<n>` together with the stream sequence it covers, every
`snapshot_interval` seconds when it changed, and when the owner stops. A new owner restores the
snapshot and reads the partition from the next sequence (an ephemeral, ordered pull consumer
with gap detection), so it continues exactly where the covered state ended; events after the
snapshot are replayed, and the alerts they raise again are the same alerts (deterministic uids).
Alerts are recorded before the snapshot that covers their events, so none is ever skipped.

Fencing. Taking over, the new owner first rewrites `state.<n>` (compare-and-set). A previous
owner that is not dead but slow (paused, cut off) then fails its next snapshot write and stops,
so it can never overwrite newer state; the alerts it may have raised meanwhile are idempotent.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import secrets
import socket
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import msgspec

from linewatch.detect.alerts import Detection
from linewatch.events.bus import RevisionConflict, subject_token
from linewatch.events.schema import Event, EventClass, PhysicalAccessActivity

if TYPE_CHECKING:
    from nats.js import JetStreamContext

    from linewatch.events.bus.jetstream import JetStream

log = logging.getLogger(__name__)

USER_PATHS = ("actor.user.name", "actor.user.uid", "user.name")
ASSET_PATHS = ("dst_endpoint.asset.name", "device.asset.name", "src_endpoint.asset.name")


def entity_key(event: Event) -> str:
    """Who or what the event is about, for partitioning: person, else asset, else site. A
    person is keyed without the site, so one person's events at two plants still meet."""
    for path in USER_PATHS:
        value = event.attrs.get(path)
        if value:
            return f"user:{value}"
    for path in ASSET_PATHS:
        value = event.attrs.get(path)
        if value:
            return f"asset:{event.site}:{value}"
    return f"site:{event.site}"


def partition_key(event: Event) -> str:
    """What decides the partition. `LINEWATCH_PARTITION_KEY=site` (the default) puts all of a
    site's events in one partition, so a Sigma correlation may group by any field (area, source
    address, person) and still see every event of its group; `entity` spreads one site over
    partitions by person or asset, for operators that only group by those."""
    if os.environ.get("LINEWATCH_PARTITION_KEY", "site") == "entity":
        return entity_key(event)
    return f"site:{event.site}"


def partition_of(event: Event, partitions: int) -> int:
    """A stable partition number (blake2b, not Python's per-process salted `hash`)."""
    digest = hashlib.blake2b(partition_key(event).encode("utf-8", "surrogateescape"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % partitions


# ------------------------------------------------------------------ operators


@runtime_checkable
class PartitionOperator(Protocol):
    """A stateful correlation: sees a partition's events in stream order, owns its state.

    `process` must be deterministic given the state and the event (a new owner replays the
    events after the last snapshot and must reach the same state and the same detections), and
    should ignore an event uid it has already counted (delivery is at-least-once)."""

    name: str

    def process(self, event: Event) -> list[Detection]: ...

    def snapshot(self) -> bytes: ...

    def restore(self, data: bytes) -> None: ...


class _DenialState(msgspec.Struct):
    watermark: int = 0
    pending: dict[str, list[Event]] = {}


class RepeatedDenials:
    """`threshold` badge denials for one person within `window` seconds of event time: someone
    trying doors they may not open, or a cloned/stolen badge being tried around a plant.

    State per person: the denials inside the window (events without `raw`). Event time, not
    arrival: a denial older than the newest seen minus the window is too late to count. One
    alert per burst: the window is cleared when it fires, and its uid (rule + the events) is
    the same on a replay. People idle longer than the window are evicted."""

    name = "repeated-badge-denials"
    rule_id = "lw-corr-repeated-badge-denials"

    def __init__(self, threshold: int = 5, window: float = 300.0) -> None:
        self.threshold = threshold
        self.window_ms = int(window * 1000)
        self.state = _DenialState(pending={})
        self._seen_since_prune = 0

    def pending_count(self, person: str) -> int:
        return len(self.state.pending.get(person, []))

    def process(self, event: Event) -> list[Detection]:
        state = self.state
        state.watermark = max(state.watermark, event.time)
        self._seen_since_prune += 1
        if self._seen_since_prune >= 1000:
            self._prune()
        if event.class_uid != EventClass.PHYSICAL_ACCESS or event.activity_id != PhysicalAccessActivity.DENIED:
            return []
        person = event.attrs.get("actor.user.name") or event.attrs.get("actor.user.uid")
        if not person or event.time < state.watermark - self.window_ms:
            return []
        person = str(person)
        window = state.pending.setdefault(person, [])
        if any(e.uid == event.uid for e in window):
            return []  # delivered twice: counted once
        window.append(msgspec.structs.replace(event, raw=None))
        window.sort(key=lambda e: (e.time, e.uid))
        newest = window[-1].time
        window[:] = [e for e in window if newest - e.time <= self.window_ms]
        if len(window) < self.threshold:
            return []
        events = list(window)
        del state.pending[person]
        seconds = self.window_ms // 1000
        return [Detection(self.rule_id, f"Repeated badge denials for {person}", "high",
                          description=f"{len(events)} access denials for {person} within {seconds} s",
                          tags=("attack.t0859",), confidence=70, events=events)]

    def _prune(self) -> None:
        """Forget people whose last denial is older than the window: no future event can join
        them (later ones would cut them out; earlier ones are too late), so the result of a replay
        is the same with or without them."""
        self._seen_since_prune = 0
        horizon = self.state.watermark - self.window_ms
        for person in [p for p, w in self.state.pending.items() if not w or w[-1].time < horizon]:
            del self.state.pending[person]

    def snapshot(self) -> bytes:
        self._prune()
        return msgspec.msgpack.encode(self.state)

    def restore(self, data: bytes) -> None:
        self.state = msgspec.msgpack.decode(data, type=_DenialState)
        self._seen_since_prune = 0


def _sigma_correlations() -> PartitionOperator:
    from linewatch.detect.sigma import SigmaCorrelationOperator

    return SigmaCorrelationOperator()


def _workforce_doors() -> PartitionOperator:
    from linewatch.workforce.operator import WorkforceOperator

    return WorkforceOperator("site")


def _workforce_people() -> PartitionOperator:
    from linewatch.workforce.operator import WorkforceOperator

    return WorkforceOperator("person")


def _workforce_key(event: Event) -> str | None:
    from linewatch.workforce.operator import person_key

    return person_key(event)


OPERATORS: dict[str, Callable[[], PartitionOperator]] = {
    RepeatedDenials.name: RepeatedDenials,
    "sigma-correlations": _sigma_correlations,
    "workforce-doors": _workforce_doors,
}
# The person-keyed stage (`lw.part.p<n>`): operators whose state spans sites (one person at two
# plants). Each comes with its key: who an event is about, or None when the operator ignores it.
PERSON_KEYSPACE = "p"
PERSON_OPERATORS: dict[str, tuple[Callable[[], PartitionOperator], Callable[[Event], str | None]]] = {
    "workforce": (_workforce_people, _workforce_key),
}


def register_operator(name: str, factory: Callable[[], PartitionOperator],
                      person_key: Callable[[Event], str | None] | None = None) -> None:
    """Make a correlation operator available to the partitioned stage (the Sigma correlation
    engine registers its operators here); with `person_key`, to the person-keyed stage."""
    if person_key is None:
        OPERATORS[name] = factory
    else:
        PERSON_OPERATORS[name] = (factory, person_key)


def _wanted(registry: dict) -> list[str]:
    names = os.environ.get("LINEWATCH_PARTITION_OPERATORS")
    if names is None:
        return list(registry)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in OPERATORS and n not in PERSON_OPERATORS]
    if unknown:
        known = ", ".join(sorted([*OPERATORS, *PERSON_OPERATORS]))
        raise ValueError(f"unknown partition operators {unknown}; known: {known}")
    return [n for n in wanted if n in registry]


def default_operators() -> list[PartitionOperator]:
    """New instances of the operators each site-keyed partition runs: all registered ones, or
    those among the comma-separated names in LINEWATCH_PARTITION_OPERATORS (empty: none). Every
    worker must run the same set; a snapshot carries each operator's state under its name."""
    return [OPERATORS[n]() for n in _wanted(OPERATORS)]


def person_operators() -> list[PartitionOperator]:
    """New instances of the person-keyed stage's operators (selected like `default_operators`)."""
    return [PERSON_OPERATORS[n][0]() for n in _wanted(PERSON_OPERATORS)]


def person_partition_of(event: Event, partitions: int) -> int | None:
    """The person-keyed partition of an event, or None when no person-keyed operator needs it.
    With several such operators the first one's key decides (they must agree on people)."""
    for name in _wanted(PERSON_OPERATORS):
        key = PERSON_OPERATORS[name][1](event)
        if key is not None:
            digest = hashlib.blake2b(key.encode("utf-8", "surrogateescape"), digest_size=8).digest()
            return int.from_bytes(digest, "big") % partitions
    return None


# ------------------------------------------------------------------ snapshots and leases


class PartitionSnapshot(msgspec.Struct):
    """What `state.<n>` holds: each operator's state and the last stream sequence it covers."""

    seq: int = 0
    owner: str = ""
    at: int = 0  # wall-clock ms when written (informational)
    operators: dict[str, bytes] = {}


def encode_snapshot(snapshot: PartitionSnapshot) -> bytes:
    return zlib.compress(msgspec.msgpack.encode(snapshot), 1)


def decode_snapshot(data: bytes) -> PartitionSnapshot:
    return msgspec.msgpack.decode(zlib.decompress(data), type=PartitionSnapshot)


class Lease(msgspec.Struct):
    """What `lease.<n>` holds. `owner` "" means released: free to take at once."""

    owner: str
    at: int  # wall-clock ms of the last renewal: only to skip the wait for long-dead owners
    ttl: float


class Member(msgspec.Struct):
    at: int
    pid: int
    host: str


_lease_decoder = msgspec.json.Decoder(Lease)
_member_decoder = msgspec.json.Decoder(Member)
_event_decoder = msgspec.json.Decoder(Event)


def decode_lease(data: bytes) -> Lease | None:
    try:
        return _lease_decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


class OwnershipLost(Exception):
    """Another worker owns the partition now: stop without writing anything."""


def worker_id() -> str:
    """A name unique to this process (host, pid, random), usable as a KV key token."""
    return f"{subject_token(socket.gethostname())[:40]}-{os.getpid()}-{secrets.token_hex(3)}"


def _now_ms() -> int:
    return int(time.time() * 1000)


class _Staleness:
    """Is a key stale? Judged by watching its revision on the local monotonic clock, so clocks of
    different machines are never compared: a value rewritten within `ttl` is alive. A value whose
    own wall-clock stamp is more than three ttl old counts as stale at first sight, so a worker
    starting long after a crash does not wait (tolerates clock skew up to two ttl)."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[int, float]] = {}

    def stale(self, key: str, revision: int, at_ms: int, ttl: float) -> bool:
        now = time.monotonic()
        previous = self.seen.get(key)
        if previous is None or previous[0] != revision:
            self.seen[key] = (revision, now)
            return _now_ms() - at_ms > 3 * ttl * 1000
        return now - previous[1] > ttl


# ------------------------------------------------------------------ the owner of one partition


class PartitionRunner(threading.Thread):
    """Runs one owned partition: claim and restore its state, read `lw.part.<n>` in order from
    the covered sequence, run the operators, record alerts, snapshot."""

    def __init__(self, stage: PartitionStage, partition: int, lease_rev: int) -> None:
        super().__init__(name=f"partition-{partition}", daemon=True)
        self.stage = stage
        self.js = stage.js
        self.partition = partition
        self.key = f"state.{stage.kv_prefix}{partition}"
        self.lease_rev = lease_rev
        self.renewed = time.monotonic()
        self.lost = False
        self.ready = threading.Event()
        self._halt = threading.Event()
        self.operators: list[PartitionOperator] = []
        self.seq = 0
        self.state_rev = 0
        self.dirty = False
        self.processed = 0
        self._saved = PartitionSnapshot()
        self._last_save = time.monotonic()
        self.sub: JetStreamContext.PullSubscription | None = None
        self._consumer = ""
        self._expected = 1

    def stop(self, lost: bool) -> None:
        self.lost = self.lost or lost
        self._halt.set()

    def run(self) -> None:
        from django.db import connection

        try:
            self._claim()
            while not self._halt.is_set():
                try:
                    self._step()
                except OwnershipLost:
                    raise
                except Exception:  # database or server trouble: start again from the last snapshot
                    log.exception("partition %d: batch failed; resuming from sequence %d", self.partition,
                                  self._saved.seq)
                    self._drop()
                    self._halt.wait(1.0)
            if not self.lost and self.dirty:
                self._save()
        except OwnershipLost:
            self.lost = True
            log.warning("partition %d: ownership lost to another worker; stopped", self.partition)
        except Exception:
            log.exception("partition %d: stopped", self.partition)
        finally:
            self._drop()
            connection.close()

    def _claim(self) -> None:
        """Restore the partition's snapshot and fence out any previous owner by rewriting it."""
        owner = self.stage.owner
        for _ in range(10):
            if self._halt.is_set():
                raise OwnershipLost
            entry = self.js.kv_get(self.key)
            snapshot = decode_snapshot(entry.value) if entry else PartitionSnapshot()
            claimed = PartitionSnapshot(seq=snapshot.seq, owner=owner, at=_now_ms(), operators=snapshot.operators)
            try:
                self.state_rev = self.js.kv_update(self.key, encode_snapshot(claimed),
                                                   last=entry.revision if entry else 0)
            except RevisionConflict:
                continue
            self._saved = claimed
            log.info("partition %d: owned by %s, state at sequence %d (previous owner %s)", self.partition, owner,
                     snapshot.seq, snapshot.owner or "none")
            self._resume()
            self.ready.set()
            return
        raise OwnershipLost

    def _resume(self) -> None:
        """Operators from the last saved snapshot, reading from the sequence after it."""
        self.operators = self.stage.operator_factory()
        for op in self.operators:
            data = self._saved.operators.get(op.name)
            if data is not None:
                op.restore(data)
        self.seq = self._saved.seq
        self.dirty = False
        self._subscribe(self.seq + 1)

    def _subscribe(self, start: int) -> None:
        from nats.js import api

        c = self.stage.config
        subject = self.stage.subject(self.partition)
        config = api.ConsumerConfig(
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=max(1, start),
            ack_policy=api.AckPolicy.NONE, filter_subject=subject,
            inactive_threshold=max(30.0, 3 * c.lease_ttl), mem_storage=True,
            description=f"Linewatch partition {self.stage.keyspace}{self.partition} owned by {self.stage.owner}")
        self.sub = self.js.pull(c.parts_stream, subject, config)
        self._consumer = config.name or ""
        self._expected = 1

    def _drop(self) -> None:
        sub, self.sub = self.sub, None
        if sub is not None:
            try:
                self.js.unsubscribe(sub, delete_consumer=self._consumer)
            except Exception:  # the server forgets an idle ephemeral consumer by itself
                log.debug("partition %d: unsubscribe failed", self.partition, exc_info=True)

    def _step(self) -> None:
        from django.db import close_old_connections

        from linewatch.detect.alerts import record_alert

        if self.sub is None:
            self._resume()
        msgs = self.js.fetch(self.sub, self.stage.batch, timeout=0.5)
        items: list[tuple[int, Event | None]] = []
        gap = False
        for msg in msgs:
            meta = msg.metadata
            if meta.sequence.consumer != self._expected:  # a delivery went missing: re-read from our position
                gap = True
                break
            self._expected += 1
            try:
                event: Event | None = _event_decoder.decode(msg.data)
            except (msgspec.DecodeError, msgspec.ValidationError):
                log.error("partition %d: undecodable message at sequence %d skipped", self.partition,
                          meta.sequence.stream)
                event = None
            items.append((meta.sequence.stream, event))
        detections: list[Detection] = []
        for _, event in items:
            if event is not None:
                for op in self.operators:
                    detections.extend(op.process(event))
        if detections:
            close_old_connections()
            for detection in detections:
                record_alert(detection)
        if items:
            self.seq = items[-1][0]
            self.dirty = True
            self.processed += len(items)
        if gap:
            log.warning("partition %d: delivery gap after sequence %d; re-reading", self.partition, self.seq)
            self._drop()
            self._subscribe(self.seq + 1)
        if self.dirty and time.monotonic() - self._last_save >= self.stage.config.snapshot_interval:
            self._save()

    def _save(self) -> None:
        snapshot = PartitionSnapshot(seq=self.seq, owner=self.stage.owner, at=_now_ms(),
                                     operators={op.name: op.snapshot() for op in self.operators})
        payload = encode_snapshot(snapshot)
        self._last_save = time.monotonic()
        if len(payload) > self.js.max_payload - 4096:
            log.error("partition %d: state of %d bytes exceeds the server's max_payload; not snapshotted "
                      "(a new owner replays from sequence %d)", self.partition, len(payload), self._saved.seq)
            return
        try:
            self.state_rev = self.js.kv_update(self.key, payload, last=self.state_rev)
        except RevisionConflict as exc:
            raise OwnershipLost from exc
        self._saved = snapshot
        self.dirty = False


# ------------------------------------------------------------------ the coordinator


class PartitionStage:
    """Takes, renews and hands over partition leases, and runs a `PartitionRunner` per owned
    partition. Call `run(stop)` on a thread of its own.

    `keyspace` "" is the site-keyed stage (`lw.part.<n>`, KV `lease.<n>`); `PERSON_KEYSPACE` the
    person-keyed one (`lw.part.p<n>`, KV `lease.p.<n>`, `state.p.<n>`, `member.p.<worker>`): the
    same mechanism over other subjects and keys, with leases and members of its own."""

    def __init__(self, js: JetStream, partitions: int,
                 operator_factory: Callable[[], list[PartitionOperator]] = default_operators,
                 owner: str | None = None, batch: int = 500, keyspace: str = "") -> None:
        self.keyspace = keyspace
        self.kv_prefix = f"{keyspace}." if keyspace else ""
        self.js = js
        self.config = js.config
        self.partitions = partitions
        self.operator_factory = operator_factory
        self.owner = owner or worker_id()
        self.batch = batch
        self.ttl = self.config.lease_ttl
        self.interval = max(0.05, self.ttl / 3)
        self.runners: dict[int, PartitionRunner] = {}
        self._leases = _Staleness()
        self._members = _Staleness()
        self._free_since: dict[int, float] = {}
        operator_factory()  # fail at start, not in a partition thread, if an operator is misconfigured

    def subject(self, partition: int) -> str:
        return self.config.part_subject(f"{self.keyspace}{partition}")  # type: ignore[arg-type]

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    self.tick()
                except Exception as exc:  # server away: leases lapse and runners stop (see _renew)
                    log.warning("partition coordinator: %s: %s", type(exc).__name__, exc,
                                exc_info=log.isEnabledFor(logging.DEBUG))
                stop.wait(self.interval)
        finally:
            self.shutdown()

    def tick(self) -> None:
        now = time.monotonic()
        members = f"member.{self.kv_prefix}"
        self.js.kv_put(f"{members}{self.owner}", msgspec.json.encode(Member(_now_ms(), os.getpid(),
                                                                            socket.gethostname())))
        live = {self.owner}
        for key, entry in self.js.kv_entries(f"{members}*").items():
            member_id = key.removeprefix(members)
            if member_id == self.owner:
                continue
            try:
                member = _member_decoder.decode(entry.value)
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue
            if not self._members.stale(key, entry.revision, member.at, self.ttl):
                live.add(member_id)
            elif _now_ms() - member.at > 20 * self.ttl * 1000:
                self.js.kv_purge(key)  # long gone: keep the bucket tidy
        share = math.ceil(self.partitions / len(live))
        self._renew(now)

        leases: dict[int, tuple[Lease | None, int, bool]] = {}  # n -> (lease, revision, free)
        for key, entry in self.js.kv_entries(f"lease.{self.kv_prefix}*").items():
            try:
                n = int(key.removeprefix(f"lease.{self.kv_prefix}"))
            except ValueError:
                continue
            lease = decode_lease(entry.value)
            free = (lease is None or not lease.owner
                    or self._leases.stale(key, entry.revision, lease.at, lease.ttl)
                    or (lease.owner == self.owner and n not in self.runners))
            leases[n] = (lease, entry.revision, free)
        holders = Counter(lease.owner for lease, _, free in leases.values() if lease and not free)

        if len(self.runners) > share and any(holders[m] < share for m in live if m != self.owner):
            self._release(max(self.runners))  # one per tick: hand over gradually

        for n in range(self.partitions):
            if n in self.runners:
                continue
            lease, revision, free = leases.get(n, (None, 0, True))
            if not free:
                self._free_since.pop(n, None)
                continue
            since = self._free_since.setdefault(n, now)
            # Below the fair share take it; above it only when nobody else has for a while.
            if len(self.runners) < share or now - since > 2 * self.ttl:
                self._acquire(n, revision)

    def _renew(self, now: float) -> None:
        for n, runner in list(self.runners.items()):
            if not runner.is_alive():
                del self.runners[n]
                if not runner.lost:
                    self._write_release(n, runner.lease_rev)
                continue
            lease = Lease(self.owner, _now_ms(), self.ttl)
            try:
                runner.lease_rev = self.js.kv_update(f"lease.{self.kv_prefix}{n}", msgspec.json.encode(lease),
                                                     last=runner.lease_rev)
                runner.renewed = now
            except RevisionConflict:
                log.warning("partition %d: lease taken by another worker", n)
                runner.stop(lost=True)
                del self.runners[n]
            except Exception:
                if now - runner.renewed > self.ttl:  # cut off for a whole ttl: assume it is gone
                    log.warning("partition %d: lease not renewed for %.1f s; stopping", n, now - runner.renewed)
                    runner.stop(lost=True)
                    del self.runners[n]

    def _acquire(self, n: int, revision: int) -> None:
        lease = Lease(self.owner, _now_ms(), self.ttl)
        try:
            lease_rev = self.js.kv_update(f"lease.{self.kv_prefix}{n}", msgspec.json.encode(lease), last=revision)
        except RevisionConflict:
            return
        self._free_since.pop(n, None)
        runner = PartitionRunner(self, n, lease_rev)
        self.runners[n] = runner
        runner.start()
        log.info("partition %d: lease acquired by %s", n, self.owner)

    def _release(self, n: int) -> None:
        """Stop the runner (it snapshots), then mark the lease released so a peer takes it now."""
        runner = self.runners.pop(n)
        runner.stop(lost=False)
        runner.join(max(5.0, 2 * self.ttl))
        if not runner.lost:
            self._write_release(n, runner.lease_rev)
            log.info("partition %d: released by %s", n, self.owner)

    def _write_release(self, n: int, revision: int) -> None:
        try:
            self.js.kv_update(f"lease.{self.kv_prefix}{n}", msgspec.json.encode(Lease("", _now_ms(), self.ttl)),
                              last=revision)
        except Exception:  # taken meanwhile, or the server is away: the lease expires by itself
            log.debug("partition %d: release not written", n, exc_info=True)

    def shutdown(self) -> None:
        """Stop every runner at once (each snapshots), then release their leases, so a peer
        takes over within one of its ticks instead of waiting for the leases to expire."""
        runners, self.runners = self.runners, {}
        for runner in runners.values():
            runner.stop(lost=False)
        for n, runner in runners.items():
            runner.join(max(5.0, 2 * self.ttl))
            if not runner.lost:
                self._write_release(n, runner.lease_rev)
        try:
            self.js.kv_purge(f"member.{self.kv_prefix}{self.owner}")
        except Exception:
            log.debug("member key not removed", exc_info=True)
