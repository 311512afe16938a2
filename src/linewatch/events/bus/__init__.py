"""The event bus: where ingestion hands normalized events, and the one place that knows whether
Linewatch runs embedded or distributed.

Ingestion (HTTP, CLI files, syslog/MQTT listeners) calls `get_bus().publish(events)` and may
acknowledge its sender as soon as that returns, because both implementations return only once
the events are durable:

- `EmbeddedBus` (the default): the events are written to the event store in one transaction;
  the embedded `DetectionWorker` reads the store as a log.
- `NatsBus` (when `LINEWATCH_NATS_URL` is set): the events are published to the JetStream
  stream `LW_EVENTS` on `lw.events.<site>.<source>` with `Nats-Msg-Id` = event uid, and
  `publish` waits for every JetStream ack. Workers (`linewatch worker`) store and detect.

Both answer with a `StoreResult`: `stored` are the events that are new to the bus, `duplicates`
the ones it already had (in the embedded store: ever; on NATS: within the stream's duplicate
window — the workers' store is idempotent, so a late duplicate is still stored only once).
See docs/distributed.md.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from linewatch.events.schema import Event

if TYPE_CHECKING:
    from linewatch.events.store import StoreResult

__all__ = ["Bus", "ConfigError", "EmbeddedBus", "RevisionConflict", "get_bus", "nats_url", "reset_bus",
           "subject_token"]


class ConfigError(Exception):
    """The configuration contradicts what the bus was set up with (e.g. the partition count)."""


class RevisionConflict(Exception):
    """A compare-and-set on a KV key lost: someone else wrote the key since we read it."""


class Bus(Protocol):
    """What ingestion needs: make a batch durable, then say which events were new."""

    def publish(self, events: Sequence[Event]) -> StoreResult: ...

    def close(self) -> None: ...


class EmbeddedBus:
    """The single-process default: the event store is the log the detection worker consumes."""

    def publish(self, events: Sequence[Event]) -> StoreResult:
        from linewatch.events.store import store_events

        return store_events(events)

    def close(self) -> None:
        pass


def nats_url() -> str:
    """The NATS server URL(s) when running distributed, else an empty string."""
    return os.environ.get("LINEWATCH_NATS_URL", "").strip()


_TOKEN_BAD = re.compile(r"[^A-Za-z0-9_-]+")


def subject_token(value: str, empty: str = "_") -> str:
    """A NATS subject token from free text: dots, wildcards and spaces would change the
    subject's shape (or match other subjects), so everything outside `[A-Za-z0-9_-]` becomes
    `_`. Two values may map to one token; that only affects routing, never the event."""
    token = _TOKEN_BAD.sub("_", value or "")[:64]
    return token or empty


_bus: Bus | None = None
_bus_url: str | None = None
_lock = threading.Lock()


def get_bus() -> Bus:
    """The process's bus, made on first use: one NATS connection per process is shared by all
    threads (the client multiplexes; its event loop runs on a background thread)."""
    global _bus, _bus_url
    url = nats_url()
    with _lock:
        if _bus is None or _bus_url != url:
            if _bus is not None:
                _bus.close()
            if url:
                from linewatch.events.bus.jetstream import NatsBus, NatsConfig

                _bus = NatsBus(NatsConfig.from_env())
            else:
                _bus = EmbeddedBus()
            _bus_url = url
        return _bus


def reset_bus() -> None:
    """Close the process's bus (tests, shutdown); the next `get_bus()` makes a new one."""
    global _bus, _bus_url
    with _lock:
        if _bus is not None:
            _bus.close()
        _bus, _bus_url = None, None
