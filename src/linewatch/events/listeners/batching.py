"""A small batcher: listeners hand it events; it publishes them in batches (by count or age) to
the bus — the store, or NATS JetStream in the distributed mode — and runs the batch's
acknowledgements only after the bus has them durably."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from linewatch.events.bus import get_bus
from linewatch.events.schema import Event


class Batcher:
    def __init__(self, max_events: int = 500, max_age: float = 0.5,
                 on_stored: Callable[[int, int], None] | None = None) -> None:
        self.max_events = max_events
        self.max_age = max_age
        self.on_stored = on_stored  # (stored, duplicates) after each flush
        self._events: list[Event] = []
        self._acks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._oldest = 0.0
        self.stored = 0
        self.duplicates = 0

    def add(self, events: list[Event], ack: Callable[[], None] | None = None) -> None:
        with self._lock:
            if not self._events:
                self._oldest = time.monotonic()
            self._events.extend(events)
            if ack is not None:
                self._acks.append(ack)
            due = len(self._events) >= self.max_events
        if due:
            self.flush()

    def due(self) -> bool:
        with self._lock:
            return bool(self._events or self._acks) and time.monotonic() - self._oldest >= self.max_age

    def flush(self) -> None:
        with self._lock:
            events, acks = self._events, self._acks
            self._events, self._acks = [], []
        if events:
            result = get_bus().publish(events)
            self.stored += len(result.stored)
            self.duplicates += result.duplicates
            if self.on_stored:
                self.on_stored(len(result.stored), result.duplicates)
        for ack in acks:  # only now is it safe to tell the sender
            ack()
