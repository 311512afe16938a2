"""The stateless stage of the distributed mode: a work queue over `LW_EVENTS`.

Every worker process binds to the same durable pull consumer (`detect`), so each message goes to
one worker, and any number of workers share the load. For each fetched batch a worker:

1. decodes the events (a message that can never decode is terminated, not retried forever);
2. stores them — idempotent by uid, so a redelivered event is not stored twice;
3. enriches and detects (`detect.worker.process`) and records alerts — idempotent, the alert uid
   being a hash of the rule and the event uids;
4. re-publishes each event to its entity's partition `lw.part.<n>` (Nats-Msg-Id = uid) for the
   stateful stage — and identity events also to their person's partition `lw.part.p<n>`
   (Nats-Msg-Id = uid + ".p") — and waits for those acks;
5. only then acks the batch.

A worker killed anywhere in 1–5 acks nothing, so after `ack_wait` JetStream redelivers its
messages to the other workers, who redo the steps; every step being idempotent, nothing is lost
and nothing is doubled. Acks are explicit; delivery is unlimited (a message is never dropped
because it failed often — a failing batch is retried event by event, and only the failing
events wait).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import msgspec
from django.db import close_old_connections
from django.db.models import Max
from nats.aio.msg import Msg
from nats.js import api

from linewatch.detect.alerts import record_alert
from linewatch.detect.context import ContextTracker
from linewatch.detect.worker import Detector, process
from linewatch.events.bus.jetstream import DETECT_CONSUMER, JetStream
from linewatch.events.models import StoredEvent
from linewatch.events.partitions import PERSON_KEYSPACE, partition_of, person_operators, person_partition_of
from linewatch.events.schema import Event, EventClass, PhysicalAccessActivity
from linewatch.events.store import store_events

log = logging.getLogger(__name__)

_decode = msgspec.json.Decoder(Event).decode
_encode = msgspec.json.Encoder().encode
RETRY_DELAY = 2.0  # seconds before a failed event is redelivered
CONTEXT_OVERLAP = 2000  # store ids re-read per batch: PostgreSQL commits ids out of order


class StatelessStage:
    def __init__(self, js: JetStream, detectors: Sequence[Detector], partitions: int, batch: int = 200,
                 consumer: str = DETECT_CONSUMER) -> None:
        self.js = js
        self.config = js.config
        self.detectors = list(detectors)
        self.partitions = partitions
        self.person_stage = bool(partitions and person_operators())  # workforce: one person's events at every site
        self.batch = batch
        self.context = ContextTracker()
        self._context_cursor = 0
        self.processed = 0
        self.alerts = 0
        self.sub = js.pull(self.config.events_stream, self.config.events_filter, api.ConsumerConfig(
            durable_name=consumer, ack_policy=api.AckPolicy.EXPLICIT, ack_wait=self.config.ack_wait, max_deliver=-1,
            max_ack_pending=20_000, deliver_policy=api.DeliverPolicy.ALL, filter_subject=self.config.events_filter,
            description="Linewatch stateless stage: store, enrich, detect, re-key"), durable=consumer)
        info = js.consumer_info(self.config.events_stream, consumer)
        if info.config.ack_wait and abs(info.config.ack_wait - self.config.ack_wait) > 0.001:
            log.warning("consumer %s keeps ack_wait %.1f s from its creation (LINEWATCH_ACK_WAIT=%.1f is not "
                        "applied; delete the consumer to change it)", consumer, info.config.ack_wait,
                        self.config.ack_wait)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # the connection or the database is down: pause, then go on
                log.warning("stateless stage: %s: %s", type(exc).__name__, exc,
                            exc_info=log.isEnabledFor(logging.DEBUG))
                stop.wait(1.0)

    def run_once(self, timeout: float = 1.0) -> int:
        """Fetch and handle one batch; return how many messages it had."""
        msgs = self.js.fetch(self.sub, self.batch, timeout)
        if not msgs:
            return 0
        good: list[Msg] = []
        events: list[Event] = []
        bad: list[Msg] = []
        for msg in msgs:
            try:
                events.append(_decode(msg.data))
                good.append(msg)
            except (msgspec.DecodeError, msgspec.ValidationError):
                bad.append(msg)
        redelivered = sum(1 for msg in msgs if msg.metadata.num_delivered > 1)
        if redelivered:
            log.info("stateless stage: %d redelivered messages (a worker died or was too slow)", redelivered)
        if bad:
            log.error("stateless stage: %d undecodable messages terminated (first subject %s)", len(bad),
                      bad[0].subject)
            self.js.term(bad)
        if events:
            try:
                self.handle(events, good)
                self.js.ack(good)
            except Exception:
                log.exception("stateless stage: batch of %d failed; retrying event by event", len(events))
                self._one_by_one(events, good)
        self.processed += len(msgs)
        return len(msgs)

    def _one_by_one(self, events: list[Event], msgs: list[Msg]) -> None:
        """Isolate a failing event: the others are acked, the failing ones come back later.
        Each is decoded afresh: the failed attempt may have enriched the objects in place."""
        for event, msg in zip(events, msgs, strict=True):
            try:
                self.handle([_decode(msg.data)], [msg])
                self.js.ack([msg])
            except Exception:
                log.exception("stateless stage: event %s failed; redelivery in %ss", event.uid, RETRY_DELAY)
                try:
                    self.js.nak([msg], delay=RETRY_DELAY)
                except Exception:  # unreachable server: ack_wait redelivers it anyway
                    log.warning("could not nak %s", event.uid)

    def handle(self, events: list[Event], msgs: Sequence[Msg]) -> None:
        """Store, detect, record, re-key. Raises if any step fails (nothing is acked then)."""
        started = time.monotonic()
        close_old_connections()
        routed: list[tuple[int, Event]] = []
        try:
            store_events(events)  # the raw events, before enrichment changes their attributes
            started = self._touch(msgs, started)
            self._sync_context(events)
            detections = process(events, self.detectors, self.context)
            started = self._touch(msgs, started)
            for detection in detections:
                _, created = record_alert(detection)
                self.alerts += created
            if self.person_stage:  # the key resolves people through the directory (the database)
                routed = [(n, e) for e in events if (n := person_partition_of(e, self.partitions)) is not None]
            self._touch(msgs, started)
        finally:
            close_old_connections()
        if self.partitions:
            # The person-keyed copy has its own message id: JetStream dedupes ids across the stream.
            self.js.publish_many([
                *((self.config.part_subject(partition_of(e, self.partitions)), _encode(e), e.uid) for e in events),
                *((self.config.part_subject(f"{PERSON_KEYSPACE}{n}"), _encode(e),  # type: ignore[arg-type]
                   f"{e.uid}.{PERSON_KEYSPACE}") for n, e in routed)])

    def _touch(self, msgs: Sequence[Msg], started: float) -> float:
        """Tell JetStream a slow batch is still being worked on, so it is not handed to another
        worker while this one is alive (that would be correct, only wasted work)."""
        if time.monotonic() - started > self.config.ack_wait / 3:
            self.js.in_progress(msgs)
            return time.monotonic()
        return started

    def _sync_context(self, events: Sequence[Event]) -> None:
        """Keep the presence context (who badged where) current across workers.

        The tracker learns presence from the badge grants it sees, but in a work queue each
        worker sees only its share of the events. All workers store into one database, so
        before each batch this worker reads the grants others have stored since its last look
        (re-reading a margin of ids, which commit out of order; observing twice is harmless)."""
        if not self.context.warmed:
            self._context_cursor = StoredEvent.objects.aggregate(m=Max("id"))["m"] or 0
            self.context.warm_up(max(e.time for e in events))
            return
        top = StoredEvent.objects.aggregate(m=Max("id"))["m"] or 0
        rows = StoredEvent.objects.filter(id__gt=max(0, self._context_cursor - CONTEXT_OVERLAP), id__lte=top,
                                          class_uid=EventClass.PHYSICAL_ACCESS,
                                          activity_id=PhysicalAccessActivity.GRANTED).values_list("body", flat=True)
        for body in rows:
            self.context.observe(msgspec.convert(body, Event))
        self._context_cursor = top
