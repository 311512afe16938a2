"""The workforce detections as partition operators: state through msgspec snapshots, replay,
redelivery, which stage keeps which rule, and the person key that routes them."""

from __future__ import annotations

import msgspec
import pytest

from linewatch.events.partitions import (
    OPERATORS,
    PERSON_OPERATORS,
    PartitionOperator,
    default_operators,
    person_operators,
)
from linewatch.events.schema import Event
from linewatch.workforce.operator import WorkforceOperator, is_door_finding, person_key
from tests.workforce.test_detections import A, badge, directory, remote

D = directory()


def op(scope: str = "person") -> WorkforceOperator:
    return WorkforceOperator(scope, directory=lambda: D)


def seen(detections) -> list[tuple]:
    return [(d.rule_id, d.title, d.level, d.description, d.tags, d.confidence, tuple(e.uid for e in d.events))
            for d in detections]


def run(operator: WorkforceOperator, events: list[Event]) -> list[tuple]:
    return seen([d for e in events for d in operator.process(e)])


def sequence() -> list[Event]:
    """Tom at Cologne with his live badge, then Bremen 30 minutes later (impossible travel,
    ~250 km); his replaced badge read at Cologne (superseded) while the new one is in Bremen (two
    live credentials); anna denied at two doors and more (state that must carry over); a remote
    session without a work order; a vera visit and the exit-without-entry."""
    return [
        badge("2026-03-03T08:00:00+00:00", "2002", area="hall", site="kol"),
        badge("2026-03-03T08:28:00+00:00", "1001", area="hall", site="kol", activity=A.DENIED, door="d1"),
        badge("2026-03-03T08:29:00+00:00", "1001", area="lab", site="kol", activity=A.DENIED, door="d2"),
        badge("2026-03-03T08:30:00+00:00", "2002", area="hall", site="brm"),
        badge("2026-03-03T08:35:00+00:00", "2001", area="press", site="kol"),
        badge("2026-03-03T08:36:00+00:00", "1001", area="yard", site="kol", activity=A.DENIED, door="d3"),
        remote("2026-03-03T09:00:00+00:00", "tom.vpn", "plc-9"),
        badge("2026-03-03T09:10:00+00:00", "4001", area="server", site="kol"),
        badge("2026-03-03T09:20:00+00:00", "1001", area="hall", site="kol", direction="out"),
        badge("2026-03-03T10:00:00+00:00", "2002", area="hall", site="kol"),
    ]


def test_workforce_operators_are_registered_for_their_stages(monkeypatch):
    monkeypatch.delenv("LINEWATCH_PARTITION_OPERATORS", raising=False)
    assert "workforce-doors" in OPERATORS and "workforce" in PERSON_OPERATORS
    assert [o.name for o in person_operators()] == ["workforce"]
    assert "workforce-doors" in [o.name for o in default_operators()]
    assert isinstance(op(), PartitionOperator) and isinstance(op("site"), PartitionOperator)
    monkeypatch.setenv("LINEWATCH_PARTITION_OPERATORS", "workforce")
    assert default_operators() == [] and [o.name for o in person_operators()] == ["workforce"]
    monkeypatch.setenv("LINEWATCH_PARTITION_OPERATORS", "workforce,nope")
    with pytest.raises(ValueError, match="nope"):
        person_operators()


def test_the_sequence_fires_cross_site_and_superseded_detections():
    rules = [r[0] for r in run(op(), sequence())]
    assert "lw-wf-impossible-travel" in rules
    assert "lw-wf-credential-superseded" in rules
    assert "lw-wf-two-live-credentials" in rules
    assert "lw-wf-zone-probing" in rules
    assert "lw-wf-remote-no-work-order" in rules


@pytest.mark.parametrize("scope", ["person", "site"])
@pytest.mark.parametrize("cut", range(len(sequence()) + 1))
def test_snapshot_restore_gives_identical_further_detections(cut, scope):
    """Cut the sequence anywhere: detections before the snapshot plus those of a restored
    operator after it are exactly those of one uninterrupted operator."""
    events = sequence()
    whole = run(op(scope), events)
    first = op(scope)
    before = run(first, events[:cut])
    data = first.snapshot()
    restored = op(scope)
    restored.restore(data)
    assert restored.snapshot() == data  # nothing lost or added by the round trip
    restored._engine()  # the state loaded into the engine and captured again: the same bytes
    assert restored.snapshot() == data
    assert before + run(restored, events[cut:]) == whole
    if scope == "site":
        assert [r[0] for r in whole] == ["lw-wf-visitor-unescorted"]  # vera in the server room alone


def test_state_carries_over_not_just_the_directory():
    """Restored state matters: without it the second read in Bremen is no impossible travel."""
    events = sequence()
    first = op()
    run(first, events[:1])
    restored, fresh = op(), op()
    restored.restore(first.snapshot())
    assert "lw-wf-impossible-travel" in [r[0] for r in run(restored, events[3:4])]
    assert "lw-wf-impossible-travel" not in [r[0] for r in run(fresh, events[3:4])]


def test_a_redelivered_event_is_counted_once_even_after_a_restore():
    events = sequence()
    first = op()
    run(first, events[:4])
    again = op()
    again.restore(first.snapshot())
    assert run(again, events[:4]) == []  # the replay of already counted uids: nothing
    assert run(again, events[3:4]) == []
    probing = run(again, events[5:6])
    assert [r[0] for r in probing] == ["lw-wf-zone-probing"]
    assert run(again, events[5:6]) == []


def test_the_site_stage_keeps_door_findings_and_the_person_stage_the_rest():
    grant = badge("2026-03-03T09:00:00+00:00", "1001", area="hall", door="main")
    follower = badge("2026-03-03T09:00:10+00:00", "", area="hall", door="main", activity=A.TAILGATE,
                     person="tom")
    forced = badge("2026-03-03T09:01:00+00:00", "", area="hall", door="main", activity=A.FORCED)
    stray_exit = badge("2026-03-03T09:05:00+00:00", "2002", area="hall", direction="out")
    events = [grant, follower, forced, stray_exit]
    site, person = run(op("site"), events), run(op(), events)
    assert sorted(r[0] for r in site) == ["lw-wf-door-forced", "lw-wf-tailgating"]
    assert "lw-wf-door-forced" not in [r[0] for r in person]
    # the exit without an entry is about tom alone: the person stage's tailgating/anti-passback
    assert {r[0] for r in person} >= {"lw-wf-anti-passback", "lw-wf-tailgating"}
    assert all(r[6] == (stray_exit.uid,) for r in person if r[0] == "lw-wf-tailgating")
    assert not {r[6] for r in site} & {r[6] for r in person}  # no alert from both stages


def test_person_key_resolves_the_card_to_its_holder_at_every_site():
    at_kol = badge("2026-03-03T08:00:00+00:00", "2002", site="kol")
    at_brm = badge("2026-03-03T08:30:00+00:00", "2001", site="brm")  # his other card, another plant
    by_name = badge("2026-03-03T08:40:00+00:00", "", person="Tom", site="brm")
    assert person_key(at_kol, D) == person_key(at_brm, D) == person_key(by_name, D) == "user:tom"
    assert person_key(remote("2026-03-03T09:00:00+00:00", "tom.vpn", "plc-9"), D) == "user:tom"
    assert person_key(remote("2026-03-03T09:00:00+00:00", "Admin", "plc-9"), D) == "account:admin"
    assert person_key(badge("2026-03-03T08:00:00+00:00", "9999"), D) == "credential:decoy"
    assert person_key(badge("2026-03-03T08:00:00+00:00", "7777"), D) == "card:7777"
    assert person_key(badge("2026-03-03T08:00:00+00:00", "", activity=A.FORCED), D) is None
    assert person_key(Event(uid="x", time=1, class_uid=4001, site="kol"), D) is None


def test_door_findings_are_told_apart_from_personal_ones():
    from linewatch.workforce.engine.detections import WorkforceDetector

    engine = WorkforceDetector(D)
    found = engine.process([badge("2026-03-03T09:00:00+00:00", "1001", area="hall", door="main"),
                            badge("2026-03-03T09:00:05+00:00", "", door="main", activity=A.TAILGATE)])
    assert [is_door_finding(f) for f in found if f.rule == "wf-tailgating"] == [True]


def test_a_broken_snapshot_is_refused():
    with pytest.raises(msgspec.DecodeError):
        op().restore(b"\x93not a state")


def test_reads_arriving_out_of_time_order_are_judged_by_their_times():
    """Several stateless workers feed a partition, so a later read can arrive first: ten hours
    apart is a drive whichever comes first; fifteen minutes apart is impossible either way."""
    late = badge("2026-03-03T18:00:00+00:00", "1001", site="brm")
    early = badge("2026-03-03T08:00:00+00:00", "1001", site="kol")
    close = badge("2026-03-03T17:45:00+00:00", "1001", site="kol")
    operator = op()
    assert "lw-wf-impossible-travel" not in [r[0] for r in run(operator, [late, early])]
    fired = [d for d in operator.process(close) if d.rule_id == "lw-wf-impossible-travel"]
    assert len(fired) == 1 and "from: kol/hall at 2026-03-03 17:45:00Z; to: brm/hall" in fired[0].description
