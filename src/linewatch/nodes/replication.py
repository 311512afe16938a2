"""What a node forwards, and how a received record is applied exactly once.

Each replicated kind registers a `Replicator`: how to name a record (its natural key, the same on every node), the
site it belongs to, its state as JSON, and how to apply that state on another node. Local changes are appended to
the outbox in the same transaction as the change itself (a signal, or an explicit call where rows are written in
bulk), so a record is never stored without being queued, nor queued without being stored. Applying a received
record never queues it again (`_applying`), so records do not bounce between nodes.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction

from linewatch.nodes.models import Cursor, OutboxRecord, SiteSequence

_applying: contextvars.ContextVar[str] = contextvars.ContextVar("linewatch_nodes_applying", default="")


@dataclass(frozen=True)
class Replicator:
    kind: str
    apply: Callable[[str, str, dict, str], bool]  # (site, key, body, origin) -> True if it changed anything


REGISTRY: dict[str, Replicator] = {}


def register(replicator: Replicator) -> None:
    REGISTRY[replicator.kind] = replicator


def node_name() -> str:
    """This installation's node name; empty when it is not part of a node set (nothing is queued then)."""
    return getattr(settings, "LINEWATCH_NODE", "")


def applying_origin() -> str:
    """The peer whose records are being applied now, or empty for local changes."""
    return _applying.get()


@contextlib.contextmanager
def applying(origin: str) -> Iterator[None]:
    token = _applying.set(origin)
    try:
        yield
    finally:
        _applying.reset(token)


def queuing() -> bool:
    """Whether local changes are queued now: this is a node, and not applying a peer's records."""
    return bool(node_name()) and not _applying.get()


def append(kind: str, rows: Iterable[tuple[str, str, dict]]) -> int:
    """Queue local records (site, key, body) of one kind; returns how many. Call inside the writing transaction."""
    if not queuing():
        return 0
    me = node_name()
    by_site: dict[str, list[tuple[str, dict]]] = {}
    for site, key, body in rows:
        by_site.setdefault(site or "", []).append((key, body))
    queued = 0
    with transaction.atomic():
        for site, items in by_site.items():
            sequence, _ = SiteSequence.objects.select_for_update().get_or_create(origin=me, site_slug=site)
            first = sequence.last + 1
            OutboxRecord.objects.bulk_create([
                OutboxRecord(origin=me, site_slug=site, seq=first + i, kind=kind, key=key, body=body)
                for i, (key, body) in enumerate(items)
            ])
            sequence.last = first + len(items) - 1
            sequence.save(update_fields=["last"])
            queued += len(items)
    return queued


def upsert(model, lookup: dict, values: dict) -> bool:
    """Create the row, or write only the fields that differ (a repeat writes nothing); True if anything changed."""
    row, created = model.objects.get_or_create(**lookup, defaults=values)
    if created:
        return True
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    if changed:
        row.save(update_fields=changed)
    return bool(changed)


def as_wire(record: OutboxRecord) -> dict:
    return {"origin": record.origin, "site": record.site_slug, "seq": record.seq, "kind": record.kind,
            "key": record.key, "body": record.body}


@dataclass
class Received:
    applied: int = 0
    unchanged: int = 0
    duplicates: int = 0
    gaps: list[dict] = field(default_factory=list)
    last: dict[str, int] = field(default_factory=dict)  # site -> last sequence applied from this origin

    def as_dict(self) -> dict:
        return {"applied": self.applied, "unchanged": self.unchanged, "duplicates": self.duplicates,
                "gaps": self.gaps, "acked": self.last}


class RecordError(ValueError):
    """A received record that cannot be applied: the batch is refused whole, nothing changes."""


def check_records(origin: str, records: list) -> None:
    """Refuse a batch with any malformed record (RecordError names it) before anything is looked at further."""
    for record in records:
        _check(origin, record)


def receive(origin: str, records: list[dict]) -> Received:
    """Apply records from one peer in sequence order, in one transaction.

    A sequence number at or below the cursor was applied before (skipped: a retry after a lost answer); a jump
    above it means records were lost on the way or at the sender — they are raised as an alert and the cursor
    moves on, so one loss does not block everything after it.
    """
    result = Received()
    check_records(origin, records)
    ordered = sorted(records, key=lambda r: (r["site"], r["seq"]))
    with transaction.atomic(), applying(origin):
        cursors: dict[str, Cursor] = {}
        for record in ordered:
            site = record["site"]
            cursor = cursors.get(site)
            if cursor is None:
                cursor, _ = Cursor.objects.select_for_update().get_or_create(
                    peer=origin, site_slug=site, direction=Cursor.Direction.RECEIVED)
                cursors[site] = cursor
            seq = record["seq"]
            if seq <= cursor.last_seq:
                result.duplicates += 1
                continue
            if seq > cursor.last_seq + 1:
                gap = {"site": site, "origin": origin, "from": cursor.last_seq + 1, "to": seq - 1}
                result.gaps.append(gap)
                _raise_gap(gap)
            try:
                changed = REGISTRY[record["kind"]].apply(site, record["key"], record["body"], origin)
            except (ValueError, LookupError, ObjectDoesNotExist, TypeError) as exc:  # the batch rolls back whole
                raise RecordError(f"record {site}#{seq} ({record['kind']} {record['key']}) cannot be applied: "
                                  f"{exc}") from exc
            if changed:
                result.applied += 1
            else:
                result.unchanged += 1
            cursor.last_seq = seq
        for site, cursor in cursors.items():
            cursor.last_error = ""
            cursor.save(update_fields=["last_seq", "last_error", "updated"])
            result.last[site] = cursor.last_seq
    return result


def _check(origin: str, record: Any) -> None:
    if not isinstance(record, dict):
        raise RecordError("a record must be an object")
    missing = [k for k in ("origin", "site", "seq", "kind", "key", "body") if k not in record]
    if missing:
        raise RecordError(f"record without {', '.join(missing)}")
    wrong = [k for k in ("origin", "site", "kind", "key") if not isinstance(record[k], str)]
    if wrong:
        raise RecordError(f"record {record['seq']!r}: {', '.join(wrong)} must be text")
    if record["origin"] != origin:
        raise RecordError(f"record {record['origin']}/{record['site']}#{record['seq']} is not from {origin}: "
                          "a node forwards only its own records")
    if not isinstance(record["seq"], int) or record["seq"] < 1:
        raise RecordError(f"record {record['site']}#{record['seq']}: seq must be a positive integer")
    if record["kind"] not in REGISTRY:
        raise RecordError(f"record {record['site']}#{record['seq']}: unknown kind {record['kind']!r} "
                          f"(known: {', '.join(sorted(REGISTRY))})")
    if not isinstance(record["body"], dict):
        raise RecordError(f"record {record['site']}#{record['seq']}: body must be an object")


def _raise_gap(gap: dict) -> None:
    """A loss in the forwarded sequence is an incident of its own: an alert at the receiving node."""
    from linewatch.detect.alerts import record_alert
    from linewatch.detect.detection import Detection
    from linewatch.events.schema import Event, EventClass, Severity
    from linewatch.events.store import store_events

    now = dt.datetime.now(dt.UTC)
    text = (f"Records {gap['from']}–{gap['to']} of site {gap['site']} from node {gap['origin']} never arrived; "
            "what they held (events, alerts, answers) is missing here")
    event = Event(uid=f"node-gap-{gap['origin']}-{gap['site']}-{gap['from']}-{gap['to']}",
                  time=int(now.timestamp() * 1000), class_uid=EventClass.APPLICATION_LIFECYCLE, activity_id=99,
                  severity_id=Severity.HIGH, message=text, source="linewatch-nodes", site=gap["site"],
                  unmapped={"node_gap": gap})
    store_events([event])
    record_alert(Detection(rule_id="lw-node-sync-gap", title=f"Sync gap from plant node {gap['origin']}",
                           level="high", description=text, events=(event,)))


def connect_signals() -> None:
    """Register the built-in kinds (events, alerts, notes); other domains register theirs from their own apps."""
    from linewatch.nodes import evidence_kinds, kinds, resilience_kinds

    kinds.install()
    resilience_kinds.install()
    evidence_kinds.install()
