"""The workforce operator in the distributed mode, on the machine's NATS JetStream with real
worker processes (the pattern, fixtures and skip/require rule of tests/events/test_nats.py).

One person badges at Alpha (Bremen) and, twenty minutes later, at Beta (Munich, ~580 km): the
events name only the card, so the stateless stage must resolve the person through the directory
to route both to one person-keyed partition, whatever the site. The partition's owner is killed
between the two reads, with the partition stream purged up to its snapshot: only the snapshot
remembers the first read, and the impossible-travel alert must still come, exactly once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import msgspec
import pytest

from linewatch.events.partitions import PERSON_KEYSPACE, decode_lease, decode_snapshot
from linewatch.events.schema import Event, EventClass, PhysicalAccessActivity, event_uid
from linewatch.workforce.operator import WorkforceState
from tests.events.test_nats import (  # noqa: F401  (fixtures)
    REPO,
    SITE_FILES,
    T0,
    Workers,
    as_list,
    nats,
    owner_pid,
    query,
    wait_for,
    worker_db,
)

RULE = "lw-wf-impossible-travel"
PEOPLE = "key,name,site,affiliation\ne-nina,Nina Roth,alpha,employee\ne-omar,Omar Said,beta,employee\n"
CREDENTIALS = "person,identifier,issue_code,kind,system\ne-nina,61000,1,badge,onguard\ne-omar,62000,1,badge,onguard\n"


@pytest.fixture
def workforce_workers(nats, worker_db, tmp_path) -> Iterator[Workers]:  # noqa: F811
    """Workers whose database has both sites (Beta given coordinates: Munich) and two people
    with badges."""
    group = Workers(nats, worker_db, tmp_path)
    beta = (REPO / "tests" / "data" / "sites" / "beta.yaml").read_text()
    assert "  timezone: Europe/Berlin\n" in beta
    (tmp_path / "beta.yaml").write_text(beta.replace("  timezone: Europe/Berlin\n",
                                                     "  timezone: Europe/Berlin\n  latitude: 48.14\n"
                                                     "  longitude: 11.58\n", 1))
    (tmp_path / "people.csv").write_text(PEOPLE)
    (tmp_path / "credentials.csv").write_text(CREDENTIALS)
    env = {k: v for k, v in group.env.items() if k != "LINEWATCH_NATS_URL"}
    sites = [f for f in SITE_FILES if not f.endswith("beta.yaml")] + [str(tmp_path / "beta.yaml")]
    for args in (["site", "import", *sites],
                 ["workforce", "import", "--kind", "people", str(tmp_path / "people.csv")],
                 ["workforce", "import", "--kind", "credentials", str(tmp_path / "credentials.csv")]):
        result = subprocess.run([sys.executable, "-m", "linewatch.cli", *args], env=env, capture_output=True,
                                text=True, timeout=180)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    try:
        yield group
    finally:
        group.stop()


def read(card: str, site: str, minutes: int) -> Event:
    """A granted badge read that names only the card (as PACS exports often do)."""
    return Event(uid=event_uid("nats-wf", card, site, str(minutes)), time=T0 + minutes * 60_000,
                 class_uid=EventClass.PHYSICAL_ACCESS, activity_id=PhysicalAccessActivity.GRANTED, status_id=1,
                 source="pacs", site=site, attrs={"credential.uid": card, "area.name": "gate", "door.name": "gate-1"})


def person_lease(js, n: int):
    entry = js.kv_get(f"lease.{PERSON_KEYSPACE}.{n}")
    return decode_lease(entry.value) if entry else None


def reads_of(state: WorkforceState, person: str) -> list[str]:
    return [r.site for r in state.last_read.get(person, [])]


@pytest.mark.services
def test_impossible_travel_across_sites_survives_a_killed_partition_owner(nats, workforce_workers):  # noqa: F811
    js, workers = nats, workforce_workers
    workers.start()
    workers.start()
    pids = {p.pid for p in workers.procs}

    def balanced():
        owners = [lease.owner for n in range(2) if (lease := person_lease(js, n)) and lease.owner]
        return len(owners) == 2 and {owner_pid(o) for o in owners} == pids

    wait_for(balanced, 60, "both workers to own a person partition", workers)

    at_alpha, at_beta = read("61000", "alpha", 0), read("61000", "beta", 20)
    # Omar walks between his two sites in a day: no finding; his events share the stages.
    noise = [read("62000", "beta", 1), read("62000", "alpha", 600)]
    assert js.publish_events([at_alpha, *noise]).duplicates == 0

    def snapshot_with_nina():
        for n in range(2):
            entry = js.kv_get(f"state.{PERSON_KEYSPACE}.{n}")
            if not entry:
                continue
            snapshot = decode_snapshot(entry.value)
            data = snapshot.operators.get("workforce")
            if data and reads_of(msgspec.msgpack.decode(data, type=WorkforceState), "e-nina") == ["alpha"]:
                return n, snapshot
        return None

    part, snapshot = wait_for(snapshot_with_nina, 60, "Nina's Alpha read in a person-partition snapshot", workers)
    js.purge(js.config.parts_stream, snapshot.seq + 1)  # from now on only the snapshot remembers it

    owner = person_lease(js, part).owner
    victim = workers.by_pid(owner_pid(owner))
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)

    def taken_over():
        lease = person_lease(js, part)
        return lease is not None and lease.owner and lease.owner != owner

    wait_for(taken_over, 30, "the other worker to take the person partition", workers)
    new_owner = person_lease(js, part).owner
    assert owner_pid(new_owner) in pids - {victim.pid}

    assert js.publish_events([at_beta]).duplicates == 0
    # A late redelivery straight into the partition (past JetStream's duplicate window): ignored.
    js.publish_many([(js.config.part_subject(f"{PERSON_KEYSPACE}{part}"), msgspec.json.encode(at_beta),  # type: ignore[arg-type]
                      f"{at_beta.uid}.late")])
    db = workers.env["DATABASE_URL"]
    sql = f"select uid, event_uids, site_slug from detect_alert where rule_id = '{RULE}'"
    wait_for(lambda: query(db, sql), 60, "the impossible-travel alert", workers)
    time.sleep(1.5)  # a second alert would come from the same batch, the redelivery or a replay
    alerts = query(db, sql)
    assert len(alerts) == 1, alerts
    assert as_list(alerts[0][1]) == [at_alpha.uid, at_beta.uid] and alerts[0][2] == "alpha"
    omar = {e.uid for e in noise}
    workforce = query(db, "select rule_id, event_uids from detect_alert where rule_id like 'lw-wf-%'")
    assert not [r for r in workforce if omar & set(as_list(r[1]))], workforce  # ten hours apart: no finding
    wait_for(lambda: decode_snapshot(js.kv_get(f"state.{PERSON_KEYSPACE}.{part}").value).owner == new_owner, 30,
             "the new owner's snapshot", workers)
