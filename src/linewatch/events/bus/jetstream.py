"""NATS JetStream for the distributed mode, behind a synchronous facade.

Ingestion and the workers are synchronous Django code; nats-py is an asyncio client. Rather than
make every caller async, one `JetStream` object per process owns a NATS connection whose event
loop runs on a daemon thread, and exposes blocking methods (`publish_many`, `fetch`, `ack`,
`kv_update`, …) that submit coroutines to that loop and wait with a bound. Any number of threads
may call them at once; the client multiplexes everything over the one connection.

Names (all prefixed by `LINEWATCH_NATS_PREFIX` when set, so several installations or test runs
can share a server):

- stream `LW_EVENTS`, subjects `lw.events.<site>.<source>` — ingestion publishes here;
- stream `LW_PARTS`, subjects `lw.part.<n>` — the stateless stage re-publishes each event to
  the partition of its entity, for the stateful (correlation) stage;
- durable pull consumer `detect` on `LW_EVENTS` — the stateless work queue;
- KV bucket `LW_PARTITIONS` — `config`, `lease.<n>`, `state.<n>`, `member.<worker>`.

See docs/distributed.md for the delivery guarantees these give.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.kv import KeyValue

from linewatch.events.bus import ConfigError, RevisionConflict, subject_token
from linewatch.events.schema import Event
from linewatch.events.store import StoreResult

log = logging.getLogger(__name__)
T = TypeVar("T")

EVENTS_STREAM = "LW_EVENTS"
PARTS_STREAM = "LW_PARTS"
BUCKET = "LW_PARTITIONS"
DETECT_CONSUMER = "detect"
MSG_ID = "Nats-Msg-Id"
MAX_IN_FLIGHT = 512  # concurrent publishes awaiting their JetStream ack


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


@dataclass(frozen=True)
class NatsConfig:
    """Everything the distributed mode reads from the environment (docs/distributed.md)."""

    url: str
    prefix: str = ""
    partitions: int = 8
    ack_wait: float = 30.0  # seconds before an unacknowledged message goes to another worker
    lease_ttl: float = 10.0  # seconds a partition lease lives without renewal
    snapshot_interval: float = 5.0  # seconds between partition state snapshots (when changed)
    duplicate_window: float = 120.0  # seconds JetStream remembers a Nats-Msg-Id
    max_age: float = 7 * 86400.0  # seconds events stay in the streams (replay horizon)
    replicas: int = 1
    timeout: float = 10.0  # seconds for one JetStream request (publish ack, KV operation)

    @classmethod
    def from_env(cls) -> NatsConfig:
        url = os.environ.get("LINEWATCH_NATS_URL", "").strip()
        if not url:
            raise ConfigError("LINEWATCH_NATS_URL is not set")
        prefix = os.environ.get("LINEWATCH_NATS_PREFIX", "").strip()
        if prefix and subject_token(prefix) != prefix:
            raise ConfigError(f"LINEWATCH_NATS_PREFIX {prefix!r} may only use letters, digits, '_' and '-'")
        return cls(
            url=url, prefix=prefix,
            partitions=int(os.environ.get("LINEWATCH_PARTITIONS", "").strip() or 8),
            ack_wait=_env_float("LINEWATCH_ACK_WAIT", 30.0),
            lease_ttl=_env_float("LINEWATCH_LEASE_TTL", 10.0),
            snapshot_interval=_env_float("LINEWATCH_SNAPSHOT_INTERVAL", 5.0),
            duplicate_window=_env_float("LINEWATCH_NATS_DUPLICATE_WINDOW", 120.0),
            max_age=_env_float("LINEWATCH_NATS_MAX_AGE", 7 * 86400.0),
            replicas=int(os.environ.get("LINEWATCH_NATS_REPLICAS", "").strip() or 1),
        )

    def _name(self, base: str) -> str:
        return f"{self.prefix}_{base}" if self.prefix else base

    def _subject(self, base: str) -> str:
        return f"{self.prefix}.{base}" if self.prefix else base

    @property
    def events_stream(self) -> str:
        return self._name(EVENTS_STREAM)

    @property
    def parts_stream(self) -> str:
        return self._name(PARTS_STREAM)

    @property
    def bucket(self) -> str:
        return self._name(BUCKET)

    @property
    def events_filter(self) -> str:
        return self._subject("lw.events.>")

    @property
    def parts_filter(self) -> str:
        return self._subject("lw.part.*")

    def events_subject(self, site: str, source: str) -> str:
        return self._subject(f"lw.events.{subject_token(site)}.{subject_token(source)}")

    def part_subject(self, partition: int) -> str:
        return self._subject(f"lw.part.{partition}")


@dataclass
class KvEntry:
    value: bytes
    revision: int


class JetStream:
    """One NATS connection and its asyncio loop (on a daemon thread), with blocking methods."""

    def __init__(self, config: NatsConfig, name: str = "linewatch") -> None:
        self.config = config
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nats-loop", daemon=True)
        self._thread.start()
        self._kv: KeyValue | None = None
        self._closed = False
        try:
            self.nc: Client = self.call(self._connect(name))
        except BaseException:
            self._stop_loop()
            raise
        self.js: JetStreamContext = self.nc.jetstream(timeout=config.timeout)

    # ------------------------------------------------------------ the loop

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the connection's loop and wait for it, at most `timeout` seconds
        (default: the request timeout plus a margin), so no caller can hang forever."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(self.config.timeout + 5 if timeout is None else timeout)
        except TimeoutError:
            future.cancel()
            raise

    async def _connect(self, name: str) -> Client:
        async def on_error(exc: Exception) -> None:
            log.warning("NATS: %s", exc)

        async def on_disconnect() -> None:
            if not self._closed:
                log.warning("NATS: disconnected; reconnecting")

        async def on_reconnect() -> None:
            log.warning("NATS: reconnected")

        servers = [u.strip() for u in self.config.url.split(",") if u.strip()]
        # A few attempts to connect at all (a caller should hear soon that NATS is unreachable),
        # then, once connected, reconnect forever: a running worker outlives a server restart.
        nc = await nats.connect(servers=servers, name=name, connect_timeout=3, allow_reconnect=True,
                                max_reconnect_attempts=2, reconnect_time_wait=1, error_cb=on_error,
                                disconnected_cb=on_disconnect, reconnected_cb=on_reconnect)
        nc.options["max_reconnect_attempts"] = -1
        return nc

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()

    def close(self) -> None:
        """Flush and close the connection (pending acks and publishes go out first)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.call(self.nc.close(), timeout=10)
        except Exception:  # closing a broken connection must not mask the caller's own error
            log.debug("NATS close failed", exc_info=True)
        self._stop_loop()

    @property
    def max_payload(self) -> int:
        return self.nc.max_payload

    # ------------------------------------------------------------ streams and the bucket

    def ensure_streams(self) -> None:
        """Create the two streams (idempotent). A stream that exists with another configuration
        is updated where JetStream allows it (retention and limits), so operators can change
        LINEWATCH_NATS_MAX_AGE without deleting data."""
        c = self.config
        common: dict[str, Any] = {
            "retention": api.RetentionPolicy.LIMITS, "storage": api.StorageType.FILE,
            "discard": api.DiscardPolicy.OLD, "max_age": c.max_age, "duplicate_window": c.duplicate_window,
            "num_replicas": c.replicas,
        }
        self.call(self._ensure_stream(api.StreamConfig(
            name=c.events_stream, subjects=[c.events_filter],
            description="Linewatch normalized events, lw.events.<site>.<source>", **common)))
        self.call(self._ensure_stream(api.StreamConfig(
            name=c.parts_stream, subjects=[c.parts_filter],
            description="Linewatch events re-keyed by entity for stateful correlation, lw.part.<n>", **common)))

    async def _ensure_stream(self, config: api.StreamConfig) -> None:
        try:
            await self.js.add_stream(config)
        except nats.js.errors.APIError as exc:
            if exc.err_code != 10058:  # "stream name already in use with a different configuration"
                raise
            try:
                await self.js.update_stream(config)
            except nats.js.errors.APIError as update_error:
                log.warning("stream %s exists with another configuration that cannot be updated: %s",
                            config.name, update_error)

    def bucket(self) -> KeyValue:
        """The KV bucket of leases, snapshots and members (created on first use). History 1:
        only the latest value matters, and compare-and-set works on the latest revision."""
        if self._kv is None:
            self._kv = self.call(self.js.create_key_value(config=api.KeyValueConfig(
                bucket=self.config.bucket, history=1, storage=api.StorageType.FILE, replicas=self.config.replicas,
                description="Linewatch partition leases and correlation state")))
        return self._kv

    def check_partitions(self) -> int:
        """The partition count every worker must agree on: the first worker records it in the
        bucket; a worker configured differently refuses to start (a second count would split
        an entity's events across two partitions and break its correlation state)."""
        wanted = self.config.partitions
        value = msgspec.json.encode({"partitions": wanted})
        try:
            self.kv_update("config", value, last=0)
            return wanted
        except RevisionConflict:
            pass
        entry = self.kv_get("config")
        recorded = int(msgspec.json.decode(entry.value)["partitions"]) if entry else wanted
        if recorded != wanted:
            raise ConfigError(f"LINEWATCH_PARTITIONS={wanted}, but the bus {self.config.bucket} was set up with "
                              f"{recorded} partitions; use {recorded} (changing it needs a drained bus)")
        return recorded

    def delete_all(self) -> None:
        """Delete the streams and the bucket of this prefix (tests; decommissioning)."""
        async def delete() -> None:
            for stream in (self.config.events_stream, self.config.parts_stream):
                with contextlib.suppress(nats.js.errors.NotFoundError):
                    await self.js.delete_stream(stream)
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await self.js.delete_key_value(self.config.bucket)

        self.call(delete(), timeout=30)
        self._kv = None

    # ------------------------------------------------------------ publishing

    def publish_many(self, messages: Iterable[tuple[str, bytes, str]]) -> list[api.PubAck]:
        """Publish (subject, payload, msg id) messages and wait for every JetStream ack.

        Publishes overlap (up to MAX_IN_FLIGHT at once), so a batch costs about one round trip,
        not one per event. Any failure raises: the caller has not acknowledged its sender, and a
        retry is safe because JetStream drops a repeated `Nats-Msg-Id` within the window."""
        batch = list(messages)
        if not batch:
            return []
        timeout = self.config.timeout

        async def publish_all() -> list[api.PubAck]:
            limit = asyncio.Semaphore(MAX_IN_FLIGHT)

            async def one(subject: str, payload: bytes, msg_id: str) -> api.PubAck:
                async with limit:
                    return await self.js.publish(subject, payload, timeout=timeout, headers={MSG_ID: msg_id})

            return list(await asyncio.gather(*(one(*m) for m in batch)))

        return self.call(publish_all(), timeout=timeout * (1 + len(batch) // MAX_IN_FLIGHT) + 5)

    def publish_events(self, events: Sequence[Event]) -> StoreResult:
        """Publish events on `lw.events.<site>.<source>`; `stored` are those the stream did not
        already hold (by uid, within the duplicate window)."""
        c = self.config
        acks = self.publish_many((c.events_subject(e.site, e.source), msgspec.json.encode(e), e.uid) for e in events)
        stored, duplicates, seen = [], 0, set()
        for event, ack in zip(events, acks, strict=True):
            if ack.duplicate or event.uid in seen:
                duplicates += 1
            else:
                stored.append(event)
                seen.add(event.uid)
        return StoreResult(stored, duplicates)

    # ------------------------------------------------------------ consuming

    def pull(self, stream: str, subject: str, config: api.ConsumerConfig,
             durable: str | None = None) -> JetStreamContext.PullSubscription:
        """A pull subscription: binds to the durable consumer (creating it the first time) or
        creates an ephemeral consumer named `config.name`."""
        return self.call(self.js.pull_subscribe(subject, durable=durable, stream=stream, config=config))

    def fetch(self, sub: JetStreamContext.PullSubscription, batch: int, timeout: float) -> list[Msg]:
        """Up to `batch` messages, waiting at most `timeout` seconds; [] when there are none."""
        async def fetch() -> list[Msg]:
            try:
                return await sub.fetch(batch, timeout=timeout)
            except (TimeoutError, nats.errors.TimeoutError):
                return []

        return self.call(fetch(), timeout=timeout + self.config.timeout)

    def unsubscribe(self, sub: JetStreamContext.PullSubscription, delete_consumer: str | None = None) -> None:
        async def unsubscribe() -> None:
            try:
                await sub.unsubscribe()
            finally:
                if delete_consumer:
                    with contextlib.suppress(nats.js.errors.NotFoundError):
                        await self.js.delete_consumer(sub._stream, delete_consumer)

        self.call(unsubscribe())

    def _reply_all(self, msgs: Sequence[Msg], how: str, delay: float | None = None) -> None:
        async def reply() -> None:
            for msg in msgs:
                if how == "ack":
                    await msg.ack()
                elif how == "nak":
                    await msg.nak(delay=delay)
                elif how == "wpi":
                    await msg.in_progress()
                else:
                    await msg.term()
            await self.nc.flush(timeout=self.config.timeout)

        self.call(reply())

    def ack(self, msgs: Sequence[Msg]) -> None:
        """Acknowledge (the work is durable); a lost ack only causes an idempotent redelivery."""
        self._reply_all(msgs, "ack")

    def nak(self, msgs: Sequence[Msg], delay: float | None = None) -> None:
        """Hand the messages back for redelivery (to any worker) after `delay` seconds."""
        self._reply_all(msgs, "nak", delay)

    def in_progress(self, msgs: Sequence[Msg]) -> None:
        """Reset the messages' ack timers: this worker is alive and still on them."""
        self._reply_all(msgs, "wpi")

    def term(self, msgs: Sequence[Msg]) -> None:
        """Never redeliver (a message that can never be decoded)."""
        self._reply_all(msgs, "term")

    def consumer_info(self, stream: str, consumer: str) -> api.ConsumerInfo:
        return self.call(self.js.consumer_info(stream, consumer))

    def stream_info(self, stream: str) -> api.StreamInfo:
        return self.call(self.js.stream_info(stream))

    def purge(self, stream: str, before_seq: int) -> None:
        """Delete the stream's messages with a sequence below `before_seq`."""
        self.call(self.js.purge_stream(stream, seq=before_seq))

    # ------------------------------------------------------------ key-value

    def kv_get(self, key: str) -> KvEntry | None:
        kv = self.bucket()

        async def get() -> KvEntry | None:
            try:
                entry = await kv.get(key)
            except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
                return None
            return KvEntry(entry.value or b"", entry.revision or 0)

        return self.call(get())

    def kv_update(self, key: str, value: bytes, last: int) -> int:
        """Write `key` only if its latest revision is `last` (0: only if it does not exist);
        return the new revision, or raise RevisionConflict. This is the one primitive leases and
        snapshots are built on."""
        kv = self.bucket()

        async def update() -> int:
            try:
                return await kv.update(key, value, last=last)
            except nats.js.errors.KeyWrongLastSequenceError as exc:
                raise RevisionConflict(key) from exc

        return self.call(update())

    def kv_put(self, key: str, value: bytes) -> int:
        return self.call(self.bucket().put(key, value))

    def kv_purge(self, key: str) -> None:
        self.call(self.bucket().purge(key))

    def kv_entries(self, pattern: str) -> dict[str, KvEntry]:
        """The current values of the keys matching `pattern` (e.g. `lease.*`), read with a
        short-lived watcher (one consumer, no per-key round trips)."""
        kv = self.bucket()

        async def entries() -> dict[str, KvEntry]:
            watcher = await kv.watch(pattern, ignore_deletes=True)
            out: dict[str, KvEntry] = {}
            try:
                while True:
                    entry = await watcher.updates(timeout=self.config.timeout)
                    if entry is None:
                        break
                    if entry.operation is None:
                        out[entry.key] = KvEntry(entry.value or b"", entry.revision or 0)
                    if entry.delta == 0:
                        break
            finally:
                await watcher.stop()
            return out

        return self.call(entries())


class NatsBus:
    """The `Bus` of the distributed mode: events are durable once JetStream has acked them."""

    def __init__(self, config: NatsConfig) -> None:
        self.config = config
        self.js = JetStream(config, name="linewatch-ingest")
        try:
            self.js.ensure_streams()
        except BaseException:
            self.js.close()
            raise

    def publish(self, events: Sequence[Event]) -> StoreResult:
        return self.js.publish_events(events)

    def close(self) -> None:
        self.js.close()
