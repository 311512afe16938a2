"""Write events to the store idempotently: a uid already stored is counted as a duplicate.

A batch is written in one transaction, so a caller acknowledges (answers the HTTP request,
advances the progress bar, acks the MQTT or NATS message) only after its events are durable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
from django.db import transaction

from linewatch.events.models import StoredEvent
from linewatch.events.schema import Event


@dataclass
class StoreResult:
    stored: list[Event]
    duplicates: int


def store_events(events: Sequence[Event], origin: str = "") -> StoreResult:
    """Store each event once. `origin` names the plant node that recorded events forwarded from it; events
    recorded here are also queued for forwarding when this installation is a node (linewatch.nodes)."""
    from linewatch.nodes.replication import append

    unique: dict[str, Event] = {}
    for event in events:
        unique.setdefault(event.uid, event)
    duplicates = len(events) - len(unique)
    with transaction.atomic():
        existing = set()
        uids = list(unique)
        for start in range(0, len(uids), 500):  # stay under SQLite's variable limit
            existing.update(StoredEvent.objects.filter(uid__in=uids[start:start + 500]).values_list("uid", flat=True))
        new = [e for uid, e in unique.items() if uid not in existing]
        StoredEvent.objects.bulk_create(
            [
                StoredEvent(
                    uid=e.uid, time=dt.datetime.fromtimestamp(e.time / 1000, dt.UTC), class_uid=e.class_uid,
                    activity_id=e.activity_id, site_slug=e.site, source=e.source, body=msgspec.to_builtins(e),
                    origin=origin,
                )
                for e in new
            ],
            batch_size=500,
            ignore_conflicts=True,  # a concurrent writer stored it first: still exactly once
        )
        if not origin:
            append("event", ((e.site, e.uid, msgspec.to_builtins(e)) for e in new))
    return StoreResult(new, duplicates + len(existing))
