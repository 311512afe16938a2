"""The distributed mode on the machine's NATS JetStream, with real worker processes.

The workers are subprocesses (`python -m linewatch.cli worker`), so they cannot see pytest-django's
test transaction: each test gives them a database of their own — a fresh PostgreSQL database when
DATABASE_URL is PostgreSQL (CI's second step), else a temporary SQLite file (WAL) — and reads the
results from it directly. Streams, consumers and the KV bucket are namespaced by a random prefix
(LINEWATCH_NATS_PREFIX) and deleted afterwards. Every wait is bounded.

`services` rule (tests/conftest.py): without a reachable NATS server these tests skip, unless
LINEWATCH_REQUIRE_SERVICES=1, where they fail.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from linewatch.detect.testing import CONTROLLER_WRITE_RULE
from linewatch.events.partitions import (
    PartitionStage,
    RepeatedDenials,
    decode_lease,
    decode_snapshot,
    entity_key,
    partition_of,
)
from linewatch.events.schema import (
    ControllerActivity,
    Event,
    EventClass,
    PhysicalAccessActivity,
    event_uid,
)

REPO = Path(__file__).resolve().parents[2]
SITE_FILES = sorted(str(p) for p in (REPO / "tests" / "data" / "sites").glob("*.yaml"))
NATS_URL = os.environ.get("LINEWATCH_TEST_NATS_URL", "nats://127.0.0.1:4222")
T0 = 1764000000000
OT_PLC = "10.1.11.10"  # plc-line1 at alpha: an OT asset, so writes to it are detections
NOT_AN_ASSET = "192.0.2.9"


# ------------------------------------------------------------------ fixtures


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def nats():
    """A JetStream connection with a namespace of its own (streams, consumer, bucket), deleted
    afterwards. Skipped without a server, except under LINEWATCH_REQUIRE_SERVICES=1 (fails)."""
    if not _reachable(NATS_URL):
        message = f"needs NATS with JetStream at {NATS_URL} (nats-server -js)"
        if os.environ.get("LINEWATCH_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from linewatch.events.bus.jetstream import JetStream, NatsConfig

    config = NatsConfig(url=NATS_URL, prefix=f"t{secrets.token_hex(5)}", partitions=2, ack_wait=2.0, lease_ttl=1.5,
                        snapshot_interval=0.2, max_age=3600.0, timeout=5.0)
    js = JetStream(config, name="linewatch-test")
    try:
        js.ensure_streams()
        yield js
    finally:
        try:
            js.delete_all()
        finally:
            js.close()


@pytest.fixture
def worker_db(tmp_path) -> Iterator[str]:
    """A database the worker processes share: PostgreSQL when the suite runs on it, else SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(url)
        name = f"lw_nats_{secrets.token_hex(5)}"
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(parts._replace(path=f"/{name}"))
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield f"sqlite:///{tmp_path / 'workers.sqlite3'}"


def query(db_url: str, sql: str) -> list[tuple]:
    if db_url.startswith("sqlite:///"):
        with sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=30) as conn:
            return conn.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(db_url) as conn:
        return conn.execute(sql).fetchall()


def as_list(value: Any) -> list:
    return json.loads(value) if isinstance(value, str) else list(value)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, workers: Workers | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}" + (workers.logs() if workers else ""))


def worker_command() -> list[str]:
    """`python -m linewatch.cli worker` once the command is registered; the module's own entry
    point until then."""
    from linewatch.cli import app

    names = {c.name or getattr(c.callback, "__name__", "") for c in app.registered_commands}
    if "worker" in names:
        return [sys.executable, "-m", "linewatch.cli", "worker"]
    return [sys.executable, "-m", "linewatch.events.worker_cli"]


class Workers:
    """Worker subprocesses on one bus and one database; logs kept for failure messages."""

    def __init__(self, js, db_url: str, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("LINEWATCH_", "PYTEST_", "DATABASE_URL"))}
        self.env.update({"DATABASE_URL": db_url, "LINEWATCH_DATA": str(tmp_path / "data"),
                         "LINEWATCH_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"})
        if js is not None:
            c = js.config
            self.env.update({
                "LINEWATCH_NATS_URL": c.url, "LINEWATCH_NATS_PREFIX": c.prefix,
                "LINEWATCH_PARTITIONS": str(c.partitions), "LINEWATCH_ACK_WAIT": str(c.ack_wait),
                "LINEWATCH_LEASE_TTL": str(c.lease_ttl), "LINEWATCH_SNAPSHOT_INTERVAL": str(c.snapshot_interval),
                "LINEWATCH_NATS_MAX_AGE": str(c.max_age),
            })
        self.procs: list[subprocess.Popen] = []
        self.log_paths: list[Path] = []

    def prepare_database(self) -> None:
        """Migrate and import the test sites (the plant model enrichment needs)."""
        result = subprocess.run([sys.executable, "-m", "linewatch.cli", "site", "import", *SITE_FILES],
                                env={k: v for k, v in self.env.items() if k != "LINEWATCH_NATS_URL"},
                                capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stderr[-3000:]

    def start(self, *args: str, **env: str) -> subprocess.Popen:
        path = self.tmp / f"worker-{len(self.procs)}.log"
        log = path.open("w")
        proc = subprocess.Popen([*worker_command(), *args], env={**self.env, **env}, stdout=log,
                                stderr=subprocess.STDOUT, cwd=self.tmp)
        log.close()
        self.procs.append(proc)
        self.log_paths.append(path)
        wait_for(lambda: "running" in path.read_text() or proc.poll() is not None, 60, "a worker to start", self)
        assert proc.poll() is None, self.logs()
        return proc

    def log_of(self, proc: subprocess.Popen) -> str:
        return self.log_paths[self.procs.index(proc)].read_text()

    def logs(self) -> str:
        out = []
        for proc, path in zip(self.procs, self.log_paths, strict=True):
            out.append(f"\n--- worker pid {proc.pid} (exit {proc.poll()}) ---\n{path.read_text()[-4000:]}")
        return "".join(out)

    def by_pid(self, pid: int) -> subprocess.Popen:
        return next(p for p in self.procs if p.pid == pid)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


@pytest.fixture
def workers(nats, worker_db, tmp_path) -> Iterator[Workers]:
    group = Workers(nats, worker_db, tmp_path)
    group.prepare_database()
    try:
        yield group
    finally:
        group.stop()


# ------------------------------------------------------------------ events


def write(n: int, target: str) -> Event:
    return Event(uid=event_uid("nats-test", "write", str(n)), time=T0 + n, class_uid=EventClass.CONTROLLER_ACTIVITY,
                 activity_id=ControllerActivity.WRITE, source="modbus", site="alpha",
                 attrs={"src_endpoint.ip": "10.1.4.50", "dst_endpoint.ip": target})


def flow(n: int) -> Event:
    return Event(uid=event_uid("nats-test", "flow", str(n)), time=T0 + n, class_uid=EventClass.NETWORK_ACTIVITY,
                 activity_id=6, source="zeek", site="beta" if n % 2 else "alpha",
                 attrs={"src_endpoint.ip": "10.1.4.50", "dst_endpoint.ip": "10.1.11.21", "dst_endpoint.port": 502})


def badge(person: str, n: int, activity: int = PhysicalAccessActivity.DENIED, tag: str = "") -> Event:
    return Event(uid=event_uid("nats-test", "badge", person, str(n), tag), time=T0 + n * 1000,
                 class_uid=EventClass.PHYSICAL_ACCESS, activity_id=activity, source="pacs", site="alpha",
                 attrs={"actor.user.name": person, "area.name": "press hall", "device.name": "door-7"})


def stream_of(count: int) -> list[Event]:
    """Controller writes to an OT asset (alerts), writes to an unknown address, flows, badges."""
    out = []
    for n in range(count):
        kind = n % 4
        if kind == 0:
            out.append(write(n, OT_PLC))
        elif kind == 1:
            out.append(write(n, NOT_AN_ASSET))
        elif kind == 2:
            out.append(flow(n))
        else:
            out.append(badge(f"person-{n % 7}", n, PhysicalAccessActivity.GRANTED))
    return out


# ------------------------------------------------------------------ the work queue


@pytest.mark.services
def test_work_queue_loses_and_doubles_nothing_when_a_worker_is_killed(nats, workers, tmp_path):
    """Three workers share the stateless stage; one is SIGKILLed while it provably holds an
    unacknowledged batch. Its messages go to the others: every event is stored once, every
    expected alert exists once, nothing else."""
    events = stream_of(1600)
    expected_alerts = {event_uid("alert", CONTROLLER_WRITE_RULE, e.uid) for e in events
                       if e.class_uid == EventClass.CONTROLLER_ACTIVITY and e.attrs["dst_endpoint.ip"] == OT_PLC}
    mark = tmp_path / "victim-batches"
    detector = {"LINEWATCH_TEST_DETECTOR": "controller-writes"}
    # The victim takes a batch and then sits on it (as if stuck), never acknowledging it.
    victim = workers.start("--batch", "20", **detector, LINEWATCH_TEST_DETECTOR_DELAY="120",
                           LINEWATCH_TEST_DETECTOR_MARK=str(mark))

    def publish(batch: list[Event]) -> int:
        duplicates = 0
        for start in range(0, len(batch), 100):
            duplicates += nats.publish_events(batch[start:start + 100]).duplicates
        return duplicates

    assert publish(events[:400]) == 0
    wait_for(lambda: mark.exists() and mark.read_text().strip(), 30, "the victim to start a batch", workers)
    held = int(mark.read_text().split()[1])
    assert held > 0
    for _ in range(2):
        workers.start("--batch", "20", **detector, LINEWATCH_TEST_DETECTOR_DELAY="0.02")
    wait_for(lambda: query(workers.env["DATABASE_URL"], "select count(*) from events_storedevent")[0][0] >= 100,
             60, "the other workers to store events", workers)
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    assert victim.returncode == -signal.SIGKILL

    assert publish(events[400:]) == 0
    assert publish(events[1000:1100]) == 100  # a sender's retry: JetStream drops the repeated ids

    db = workers.env["DATABASE_URL"]

    def done() -> bool:
        stored = query(db, "select count(*) from events_storedevent")[0][0]
        alerts = query(db, f"select count(*) from detect_alert where rule_id = '{CONTROLLER_WRITE_RULE}'")[0][0]
        return stored >= len(events) and alerts >= len(expected_alerts)

    wait_for(done, 120, "all events and alerts", workers)

    def drained() -> bool:
        info = nats.consumer_info(nats.config.events_stream, "detect")
        return info.num_pending == 0 and info.num_ack_pending == 0

    wait_for(drained, 30, "the work queue to drain", workers)

    rows = query(db, "select uid from events_storedevent")
    assert len(rows) == len(events)
    assert {r[0] for r in rows} == {e.uid for e in events}
    alerts = query(db, "select uid, rule_id, event_uids, site_slug from detect_alert")
    assert len(alerts) == len(expected_alerts)
    assert {a[0] for a in alerts} == expected_alerts
    assert all(a[1] == CONTROLLER_WRITE_RULE and a[3] == "alpha" and len(as_list(a[2])) == 1 for a in alerts)
    # The victim's batch really was taken over by the survivors.
    survivors = [p for p in workers.procs if p is not victim]
    assert any("redelivered messages" in workers.log_of(p) for p in survivors), workers.logs()


# ------------------------------------------------------------------ the partitioned stage


def read_lease(js, n: int):
    entry = js.kv_get(f"lease.{n}")
    return decode_lease(entry.value) if entry else None


def owner_pid(owner: str) -> int:
    return int(owner.rsplit("-", 2)[1])


@pytest.mark.services
def test_partition_state_survives_its_owner_being_killed(nats, workers):
    """Two workers each own one partition. Three badge denials for mallory reach her partition's
    state, which is snapshotted; the partition's stream is then purged up to the snapshot, so
    only the snapshot remembers them. Killing the owner hands the partition to the other worker,
    and two more denials complete the burst of five: the alert names all five events."""
    js = nats
    workers.start()
    workers.start()
    pids = {p.pid for p in workers.procs}

    def balanced():
        leases = [read_lease(js, n) for n in range(2)]
        owners = [lease.owner for lease in leases if lease and lease.owner]
        return len(owners) == 2 and len(set(owners)) == 2 and {owner_pid(o) for o in owners} == pids

    wait_for(balanced, 60, "both workers to own a partition", workers)

    first = [badge("mallory", n) for n in range(3)]
    later = [badge("mallory", n) for n in range(3, 5)]
    noise = [badge("alice", 1), badge("bob", 2), badge("mallory", 9, PhysicalAccessActivity.GRANTED)]
    part = partition_of(first[0], 2)
    assert js.publish_events(first + noise).duplicates == 0

    def state_with_three():
        entry = js.kv_get(f"state.{part}")
        if not entry:
            return None
        snapshot = decode_snapshot(entry.value)
        data = snapshot.operators.get(RepeatedDenials.name)
        if data is None:
            return None
        op = RepeatedDenials()
        op.restore(data)
        return snapshot if op.pending_count("mallory") == 3 else None

    snapshot = wait_for(state_with_three, 60, "mallory's three denials in the partition snapshot", workers)
    # Only the snapshot remembers them from now on.
    js.purge(js.config.parts_stream, snapshot.seq + 1)
    assert js.stream_info(js.config.parts_stream).state.first_seq > snapshot.seq

    owner = read_lease(js, part).owner
    victim = workers.by_pid(owner_pid(owner))
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)

    def taken_over():
        lease = read_lease(js, part)
        return lease is not None and lease.owner and lease.owner != owner

    wait_for(taken_over, 30, "another worker to take the partition", workers)
    new_owner = read_lease(js, part).owner
    assert owner_pid(new_owner) in pids - {victim.pid}

    assert js.publish_events(later).duplicates == 0
    db = workers.env["DATABASE_URL"]
    sql = f"select uid, event_uids from detect_alert where rule_id = '{RepeatedDenials.rule_id}'"
    alerts = wait_for(lambda: query(db, sql), 60, "the repeated-denials alert", workers)
    time.sleep(1.0)  # a second alert would come from the same batch or a replay: give it the chance
    alerts = query(db, sql)
    assert len(alerts) == 1
    assert set(as_list(alerts[0][1])) == {e.uid for e in first + later}
    assert decode_snapshot(js.kv_get(f"state.{part}").value).owner == new_owner


@pytest.mark.services
def test_leases_split_partitions_and_a_stopping_worker_hands_them_over(nats):
    """In-process coordinators: with two workers each partition has exactly one owner and each
    worker its fair share; a worker that stops releases its leases and the other takes them."""
    import dataclasses
    import threading

    from linewatch.events.bus.jetstream import JetStream

    config = dataclasses.replace(nats.config, partitions=4)
    connections = [JetStream(config, name=f"test-{i}") for i in range(2)]
    stages = [PartitionStage(js, 4, operator_factory=list, owner=f"w{i}") for i, js in enumerate(connections)]
    stops = [threading.Event() for _ in stages]
    threads = [threading.Thread(target=s.run, args=(stop,), daemon=True) for s, stop in zip(stages, stops, strict=True)]
    try:
        for thread in threads:
            thread.start()

        def owners() -> list[str]:
            return [lease.owner if (lease := read_lease(nats, n)) else "" for n in range(4)]

        wait_for(lambda: sorted(owners()) == ["w0", "w0", "w1", "w1"], 30, "two partitions each")
        held = [set(s.runners) for s in stages]
        assert not held[0] & held[1] and held[0] | held[1] == {0, 1, 2, 3}

        stops[0].set()
        threads[0].join(20)
        wait_for(lambda: owners() == ["w1"] * 4, 10, "the remaining worker to take all four")
    finally:
        for stop in stops:
            stop.set()
        for thread in threads:
            thread.join(20)
        for js in connections:
            js.close()


@pytest.mark.services
def test_workers_must_agree_on_the_partition_count(nats):
    import dataclasses

    from linewatch.events.bus import ConfigError
    from linewatch.events.bus.jetstream import JetStream

    assert nats.check_partitions() == 2
    other = JetStream(dataclasses.replace(nats.config, partitions=3), name="test-other")
    try:
        with pytest.raises(ConfigError, match="set up with 2 partitions"):
            other.check_partitions()
    finally:
        other.close()


# ------------------------------------------------------------------ without a server


PUBLISH = """
import sys, msgspec
from linewatch.clitools import setup_django
setup_django(migrate=False)
from linewatch.events.bus import get_bus, EmbeddedBus
from linewatch.events.schema import Event
bus = get_bus()
assert isinstance(bus, EmbeddedBus), bus
events = msgspec.json.decode(sys.stdin.buffer.read(), type=list[Event])
first, again = bus.publish(events), bus.publish(events)
print(len(first.stored), first.duplicates, len(again.stored), again.duplicates)
"""


def test_embedded_worker_detects_what_the_embedded_bus_stored(tmp_path):
    """Without LINEWATCH_NATS_URL, `publish` stores (idempotently) and `linewatch worker` runs
    the detection worker over the store."""
    import msgspec

    group = Workers(None, f"sqlite:///{tmp_path / 'embedded.sqlite3'}", tmp_path)
    group.prepare_database()
    try:
        proc = group.start(LINEWATCH_TEST_DETECTOR="controller-writes")
        assert "embedded" in group.log_of(proc)
        events = stream_of(40)
        result = subprocess.run([sys.executable, "-c", PUBLISH], input=msgspec.json.encode(events), env=group.env,
                                capture_output=True, timeout=120)
        assert result.returncode == 0, result.stderr.decode()[-3000:]
        assert result.stdout.decode().split() == ["40", "0", "0", "40"]
        db = group.env["DATABASE_URL"]
        wait_for(lambda: query(db, "select count(*) from detect_alert")[0][0] >= 10, 60, "the alerts", group)
        assert query(db, "select count(*) from detect_alert")[0][0] == 10
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        group.stop()


def test_repeated_denials_counts_each_event_once_and_survives_a_snapshot():
    op = RepeatedDenials(threshold=3, window=60)
    assert op.process(badge("eve", 0)) == []
    assert op.process(badge("eve", 0)) == []  # redelivered: counted once
    assert op.process(badge("eve", 1, PhysicalAccessActivity.GRANTED)) == []
    restored = RepeatedDenials(threshold=3, window=60)
    restored.restore(op.snapshot())
    assert restored.pending_count("eve") == 1
    assert restored.process(badge("eve", 2)) == []
    assert restored.process(badge("eve", 200)) == []  # 198 s later: the first two fell out of the window
    assert restored.pending_count("eve") == 1
    fired = restored.process(badge("eve", 201)) + restored.process(badge("eve", 202))
    assert len(fired) == 1 and [e.uid for e in fired[0].events] == [badge("eve", n).uid for n in (200, 201, 202)]
    assert restored.pending_count("eve") == 0
    assert restored.process(badge("eve", 100)) == []  # too late to matter


def test_partitions_key_people_then_assets_then_sites(monkeypatch):
    monkeypatch.setenv("LINEWATCH_PARTITION_KEY", "entity")
    assert entity_key(badge("mallory", 1)) == "user:mallory"
    enriched = write(1, OT_PLC)
    enriched.attrs["dst_endpoint.asset.name"] = "plc-line1"
    assert entity_key(enriched) == "asset:alpha:plc-line1"
    assert entity_key(flow(2)) == "site:alpha"
    # Stable across processes (no salted hash) and spread over the partitions.
    assert partition_of(badge("mallory", 1), 8) == partition_of(badge("mallory", 2), 8)
    assert len({partition_of(badge(f"p{n}", 1), 8) for n in range(64)}) == 8


def test_by_default_a_site_is_one_partition(monkeypatch):
    """Sigma correlations group by any field (area, address, person): all of a site's events meet."""
    monkeypatch.delenv("LINEWATCH_PARTITION_KEY", raising=False)
    assert partition_of(badge("mallory", 1), 8) == partition_of(badge("bob", 2), 8) == partition_of(flow(3), 8)
