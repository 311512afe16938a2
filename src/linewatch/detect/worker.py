"""The detection worker of the embedded mode: it reads the event store as a log, enriches each
batch with the plant model, runs the detectors and records alerts — and moves its position in
the same transaction as the alerts, so a crash replays at most one uncommitted batch and, alert
uids being deterministic, records nothing twice. One worker per name: the embedded mode runs one.

In the distributed mode (NATS JetStream) the same `process()` runs behind a durable consumer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Protocol

import msgspec
from django.db import close_old_connections, transaction

from linewatch.core import services
from linewatch.detect.alerts import Detection, record_alert
from linewatch.detect.context import ContextTracker
from linewatch.detect.enrich import enrich
from linewatch.events.models import ConsumerPosition, StoredEvent
from linewatch.events.schema import Event

log = logging.getLogger(__name__)


class Detector(Protocol):
    """Anything that turns a batch of enriched events into detections (Sigma rules, correlations)."""

    def detect(self, events: Sequence[Event]) -> list[Detection]: ...


_default_context = ContextTracker()


def process(events: Sequence[Event], detectors: Sequence[Detector],
            context: ContextTracker | None = None) -> list[Detection]:
    """Enrich with the plant model and the workforce context, then detect."""
    index = services.asset_index()
    enriched = [enrich(e, index) for e in events]
    (context or _default_context).annotate(enriched)
    found: list[Detection] = []
    for detector in detectors:
        found.extend(detector.detect(enriched))
    return found


class DetectionWorker:
    def __init__(self, detectors: Sequence[Detector], name: str = "detect", batch: int = 500) -> None:
        self.detectors = list(detectors)
        self.name = name
        self.batch = batch
        self.alerts = 0
        self.context = ContextTracker()

    def run_once(self) -> int:
        """Process the next batch of stored events; return how many there were.

        Reading and detecting happen outside any write transaction, so ingestion is never
        blocked behind detection (SQLite has one writer); only the alerts and the new position
        are written, together, in a short transaction.
        """
        start, _ = ConsumerPosition.objects.get_or_create(name=self.name)
        rows = list(StoredEvent.objects.filter(id__gt=start.position).order_by("id")
                    .values_list("id", "body", "origin")[: self.batch])
        if not rows:
            return 0
        # Events forwarded by a plant node were detected there (its alerts come with them): not again here.
        events = [msgspec.convert(body, Event) for _, body, origin in rows if not origin]
        detections = process(events, self.detectors, self.context)
        with transaction.atomic():
            position = ConsumerPosition.objects.select_for_update().get(name=self.name)
            if position.position != start.position:
                return 0  # another worker with this name moved on: its alerts stand, ours are dropped
            for detection in detections:
                _, created = record_alert(detection)
                self.alerts += created
            position.position = rows[-1][0]
            position.save(update_fields=["position", "updated"])
        return len(rows)

    def run(self, stop: threading.Event, idle: float = 0.2, escalate_every: float = 10.0) -> None:
        """Process until `stop`; every `escalate_every` seconds, move unacknowledged alerts up their ladder."""
        from linewatch.response.notify import dispatch_due
        from linewatch.response.routing import escalate_due
        from linewatch.workforce.services import tick as workforce_tick  # reviews, visits, access hygiene

        next_escalation = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() >= next_escalation:
                    escalate_due()
                    dispatch_due()
                    workforce_tick()  # reviews past their deadline, visits past their end, orphaned access
                    next_escalation = time.monotonic() + escalate_every
                if self.run_once() == 0:
                    stop.wait(idle)
            except Exception:  # a worker keeps going; the batch is retried after the pause
                log.exception("detection batch failed")
                stop.wait(1.0)
            finally:
                close_old_connections()


def default_detectors(correlations: bool = True) -> list[Detector]:
    """The detectors every worker runs: the rule packs (see `linewatch.detect.detectors`)."""
    from linewatch.detect.detectors import load_detectors

    return load_detectors(correlations)
