"""Sigma correlation rules as streaming, event-time operators (linewatch.detect.engine.correlation).

Each correlation type must fire and must not fire as the Sigma specification says; windows slide
in event time, out-of-order input within the allowed lateness behaves like ordered input, and the
state survives a snapshot/restore hand-over. The `corpus` test drives the specification's own
correlation examples.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from linewatch.detect.engine.correlation import CorrelationConfig, CorrelationEngine, CorrelationHit
from linewatch.events.schema import Event
from tests.conftest import CORPUS

SEC = 1000
MIN = 60 * SEC
HOUR = 60 * MIN

ORDERED = CorrelationConfig(allowed_lateness_ms=0)


def engine(text: str, *, lateness_ms: int = 0, known: tuple[str, ...] = (), **config: Any) -> CorrelationEngine:
    eng = CorrelationEngine.from_yaml(
        text, source="test.yml", known_rules=known,
        config=CorrelationConfig(allowed_lateness_ms=lateness_ms, **config),
    )
    errors = [str(i) for i in eng.issues if i.severity == "error"]
    assert not errors, errors
    return eng


@dataclass
class Ev:
    """A synthetic event: time (ms), the base rules it matched, its fields."""

    time: int
    rules: tuple[str, ...]
    fields: dict[str, Any]


def ev(time: int, rules: str | tuple[str, ...], uid: str | None = None, **fields: Any) -> Ev:
    fields = dict(fields)
    if uid is not None:
        fields["uid"] = uid
    return Ev(time, (rules,) if isinstance(rules, str) else rules, fields)


def run(eng: CorrelationEngine, events: list[Ev], flush: bool = True) -> list[CorrelationHit]:
    hits: list[CorrelationHit] = []
    for e in events:
        hits += eng.process(e.fields, e.time, e.rules)
    if flush:
        hits += eng.flush()
    return hits


def titles(hits: list[CorrelationHit]) -> list[str]:
    return [h.title for h in hits]


# ---------------------------------------------------------------------------------------------
# event_count

EVENT_COUNT = """
title: Many failed logins
id: 0e95725d-7320-415d-80f7-004da920fc11
level: high
tags: [attack.t1110]
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [ComputerName]
    timespan: 10s
    condition: {gte: 3}
---
title: Failed login
name: failed_login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
logsource: {product: windows, service: security}
detection: {sel: {EventID: 4625}, condition: sel}
"""


def test_event_count_fires_on_the_event_that_reaches_the_threshold_and_carries_the_rule_and_group():
    eng = engine(EVENT_COUNT)
    hits = run(eng, [ev(0, "failed_login", "a", ComputerName="ws1"),
                     ev(4 * SEC, "failed_login", "b", ComputerName="ws1"),
                     ev(8 * SEC, "failed_login", "c", ComputerName="ws1")])
    assert len(hits) == 1
    hit = hits[0]
    assert hit.rule_id == "0e95725d-7320-415d-80f7-004da920fc11"
    assert (hit.title, hit.level, hit.tags) == ("Many failed logins", "high", ("attack.t1110",))
    assert hit.type == "event_count"
    assert hit.group == {"ComputerName": "ws1"}
    assert hit.event_uids == ("a", "b", "c")
    assert (hit.window_start_ms, hit.window_end_ms, hit.time_ms, hit.value) == (0, 8 * SEC, 8 * SEC, 3)
    assert hit.output and hit.source == "test.yml"


def test_event_count_matched_by_rule_id_is_the_same_as_by_name_and_both_count_once():
    eng = engine(EVENT_COUNT)
    both = ("failed_login", "53ba33fd-3a50-4468-a5ef-c583635cfa92")
    assert len(run(eng, [ev(i * SEC, both, ComputerName="ws1") for i in range(3)])) == 1
    eng = engine(EVENT_COUNT)
    assert run(eng, [ev(i * SEC, both, ComputerName="ws1") for i in range(2)]) == []


def test_event_count_does_not_fire_below_the_threshold_or_across_groups():
    eng = engine(EVENT_COUNT)
    assert run(eng, [ev(0, "failed_login", ComputerName="ws1"), ev(SEC, "failed_login", ComputerName="ws1"),
                     ev(2 * SEC, "failed_login", ComputerName="ws2"),
                     ev(3 * SEC, "other_rule", ComputerName="ws1")]) == []


def test_window_includes_both_ends_and_an_event_one_millisecond_outside_does_not_count():
    inside = engine(EVENT_COUNT)
    assert len(run(inside, [ev(t, "failed_login", ComputerName="h") for t in (0, 5 * SEC, 10 * SEC)])) == 1
    outside = engine(EVENT_COUNT)
    assert run(outside, [ev(t, "failed_login", ComputerName="h") for t in (0, 5 * SEC, 10 * SEC + 1)]) == []


def test_window_slides_so_old_events_leave_and_later_ones_can_still_reach_the_threshold():
    eng = engine(EVENT_COUNT)
    events = [ev(t, "failed_login", str(t), ComputerName="h") for t in (0, 6 * SEC, 12 * SEC, 14 * SEC)]
    hits = run(eng, events)
    # at 12 s the window [2 s, 12 s] holds 6 s and 12 s only; at 14 s it holds 6, 12, 14
    assert [h.event_uids for h in hits] == [(str(6 * SEC), str(12 * SEC), str(14 * SEC))]


def test_one_hit_per_window_then_quiet_until_the_window_has_slid_past():
    eng = engine(EVENT_COUNT)
    burst = [ev(i * 100, "failed_login", f"e{i}", ComputerName="h") for i in range(30)]  # 30 in 3 s
    assert len(run(eng, burst, flush=False)) == 1
    # 11 s after the hit (at 0.2 s) the window no longer overlaps it: three new events fire again
    later = [ev(12 * SEC + i, "failed_login", f"l{i}", ComputerName="h") for i in range(3)]
    hits = run(eng, later)
    assert len(hits) == 1 and hits[0].event_uids == ("l0", "l1", "l2")


def test_hit_ids_are_deterministic_across_runs():
    events = [ev(i * SEC, "failed_login", f"e{i}", ComputerName="h") for i in range(3)]
    assert run(engine(EVENT_COUNT), events)[0].hit_id == run(engine(EVENT_COUNT), events)[0].hit_id


def test_events_as_msgspec_structs_and_nested_mappings_are_read_by_field_path():
    eng = engine(EVENT_COUNT.replace("ComputerName", "device.hostname"))
    structs = [Event(uid=f"u{i}", time=i * SEC, class_uid=3002, attrs={"device.hostname": "plc-gw"}) for i in range(2)]
    hits: list[CorrelationHit] = []
    for s in structs:
        hits += eng.process(s, s.time, ["failed_login"])
    hits += eng.process({"uid": "n", "device": {"hostname": "plc-gw"}}, 2 * SEC, ["failed_login"])
    assert [h.event_uids for h in hits] == [("u0", "u1", "n")]
    assert hits[0].group == {"device.hostname": "plc-gw"}


def test_matched_may_be_match_objects_with_rule_id_and_name():
    @dataclass
    class Match:
        rule_id: str | None
        name: str | None

    eng = engine(EVENT_COUNT)
    hits: list[CorrelationHit] = []
    for i in range(3):
        hits += eng.process({"ComputerName": "h"}, i, [Match("53ba33fd-3a50-4468-a5ef-c583635cfa92", None)])
    assert len(hits) == 1


def test_a_rule_referenced_by_id_is_also_recognised_by_its_name():
    by_id = EVENT_COUNT.replace("rules: [failed_login]", "rules: [53ba33fd-3a50-4468-a5ef-c583635cfa92]")
    assert len(run(engine(by_id), [ev(i, "failed_login", ComputerName="h") for i in range(3)])) == 1


def test_an_event_matching_two_of_the_listed_rules_is_one_event():
    two_rules = EVENT_COUNT.replace("rules: [failed_login]", "rules: [failed_login, kerberos_failure]")
    eng = engine(two_rules, known=("kerberos_failure",))
    both = ("failed_login", "kerberos_failure")
    assert run(eng, [ev(i, both, ComputerName="h") for i in range(2)]) == []
    eng = engine(two_rules, known=("kerberos_failure",))
    assert len(run(eng, [ev(i, both, ComputerName="h") for i in range(3)])) == 1


def test_an_event_missing_a_group_by_field_is_skipped_by_default_or_grouped_under_null():
    events = [ev(i, "failed_login") for i in range(3)]
    skipping = engine(EVENT_COUNT)
    assert run(skipping, events) == [] and skipping.stats.missing_group_field == 3
    nulls = engine(EVENT_COUNT, missing_group_field="null")
    hits = run(nulls, events)
    assert len(hits) == 1 and hits[0].group == {"ComputerName": None}


# ---------------------------------------------------------------------------------------------
# value_count

VALUE_COUNT = """
title: Password spray
correlation:
    type: value_count
    rules: [failed_login]
    group-by: [src_ip]
    timespan: 1m
    condition: {field: User, gte: 3}
"""


def test_value_count_fires_on_the_third_distinct_user_from_one_source():
    eng = engine(VALUE_COUNT, known=("failed_login",))
    hits = run(eng, [ev(0, "failed_login", "1", src_ip="10.0.0.5", User="alice"),
                     ev(SEC, "failed_login", "2", src_ip="10.0.0.5", User="alice"),
                     ev(2 * SEC, "failed_login", "3", src_ip="10.0.0.5", User="bob"),
                     ev(3 * SEC, "failed_login", "4", src_ip="10.0.0.5", User="carol")])
    assert len(hits) == 1 and hits[0].value == 3 and hits[0].event_uids == ("1", "2", "3", "4")


def test_value_count_does_not_count_repeats_or_events_without_the_field():
    eng = engine(VALUE_COUNT, known=("failed_login",))
    events = [ev(i * SEC, "failed_login", src_ip="10.0.0.5", User="alice") for i in range(10)]
    events += [ev(11 * SEC, "failed_login", src_ip="10.0.0.5"), ev(12 * SEC, "failed_login", src_ip="10.0.0.5",
                                                                  User="bob")]
    assert run(eng, events) == [] and eng.stats.missing_value == 1


def test_value_count_forgets_values_that_left_the_window():
    eng = engine(VALUE_COUNT, known=("failed_login",))
    events = [ev(0, "failed_login", src_ip="x", User="a"), ev(30 * SEC, "failed_login", src_ip="x", User="b"),
              ev(61 * SEC, "failed_login", src_ip="x", User="c")]  # "a" left the minute at 60 s
    assert run(eng, events) == []


# ---------------------------------------------------------------------------------------------
# value_sum / value_avg / value_percentile / value_median (Sigma v2.1)

VALUE_SUM = """
title: Exfiltration
correlation:
    type: value_sum
    rules: [website_access]
    group-by: [SourceIP]
    timespan: 1h
    condition: {field: bytes_sent, gt: 1000}
"""


def test_value_sum_fires_when_the_sum_in_the_window_exceeds_the_threshold():
    eng = engine(VALUE_SUM, known=("website_access",))
    hits = run(eng, [ev(0, "website_access", SourceIP="a", bytes_sent=600),
                     ev(MIN, "website_access", SourceIP="a", bytes_sent="401")])  # numeric strings count
    assert len(hits) == 1 and hits[0].value == 1001


def test_value_sum_does_not_fire_at_the_threshold_outside_the_window_or_on_non_numbers():
    eng = engine(VALUE_SUM, known=("website_access",))
    assert run(eng, [ev(0, "website_access", SourceIP="a", bytes_sent=600),
                     ev(MIN, "website_access", SourceIP="a", bytes_sent=400),
                     ev(2 * MIN, "website_access", SourceIP="a", bytes_sent="lots"),
                     ev(2 * MIN, "website_access", SourceIP="a", bytes_sent=True)]) == []
    assert eng.stats.missing_value == 2
    eng = engine(VALUE_SUM, known=("website_access",))
    assert run(eng, [ev(0, "website_access", SourceIP="a", bytes_sent=600),
                     ev(HOUR + 1, "website_access", SourceIP="a", bytes_sent=600)]) == []


VALUE_AVG = """
title: Big average
correlation:
    type: value_avg
    rules: [net]
    group-by: [SourceIP]
    timespan: 1h
    condition: {field: BytesOut, gt: 500}
"""


def test_value_avg_fires_on_the_window_ending_at_the_event_that_lifts_the_average():
    eng = engine(VALUE_AVG, known=("net",))
    hits = run(eng, [ev(0, "net", SourceIP="a", BytesOut=100), ev(SEC, "net", SourceIP="a", BytesOut=1000)])
    assert len(hits) == 1 and hits[0].value == 550


def test_value_avg_does_not_fire_at_or_below_the_threshold():
    eng = engine(VALUE_AVG, known=("net",))
    assert run(eng, [ev(0, "net", SourceIP="a", BytesOut=400), ev(SEC, "net", SourceIP="a", BytesOut=600)]) == []


PERCENTILE = """
title: Slow writes
correlation:
    type: value_percentile
    rules: [modbus_write]
    group-by: [dst_ip]
    timespan: 10m
    condition: {field: latency_ms, percentile: 90, gt: 100}
"""


def test_value_percentile_with_a_percentile_compares_that_percentile_of_the_values():
    eng = engine(PERCENTILE, known=("modbus_write",))
    fast = [ev(i * SEC, "modbus_write", dst_ip="plc", latency_ms=10) for i in range(9)]
    assert run(eng, fast, flush=False) == []
    # ten values 10×9 and 1000: p90 = 10 + 0.1 × 990 = 109 > 100
    hits = run(eng, [ev(10 * SEC, "modbus_write", dst_ip="plc", latency_ms=1000)])
    assert len(hits) == 1 and hits[0].value == pytest.approx(109)


def test_value_percentile_does_not_fire_when_the_percentile_stays_low():
    eng = engine(PERCENTILE, known=("modbus_write",))
    events = [ev(i * SEC, "modbus_write", dst_ip="plc", latency_ms=10) for i in range(19)]
    events.append(ev(20 * SEC, "modbus_write", dst_ip="plc", latency_ms=5000))  # p90 of 20 values = 10
    assert run(eng, events) == []


def test_value_median_is_the_fiftieth_percentile():
    eng = engine(PERCENTILE.replace("value_percentile", "value_median").replace("percentile: 90, ", ""),
                 known=("modbus_write",))
    low = run(eng, [ev(i, "modbus_write", dst_ip="p", latency_ms=v) for i, v in enumerate((10, 20, 500))])
    assert low == []
    eng = engine(PERCENTILE.replace("value_percentile", "value_median").replace("percentile: 90, ", ""),
                 known=("modbus_write",))
    hits = run(eng, [ev(i, "modbus_write", dst_ip="p", latency_ms=v) for i, v in enumerate((10, 200, 500))])
    assert len(hits) == 1 and hits[0].value == 105  # the median of 10 and 200, on the second event


def test_value_percentile_share_is_decided_on_the_complete_window_even_with_a_lower_bound():
    dominant = """
title: One command dominates
correlation:
    type: value_percentile
    rules: [ot_command]
    group-by: [plc]
    timespan: 1m
    condition: {field: function, gte: 75}
"""

    def commands(functions: list[str]) -> list[Ev]:
        return [ev(i * SEC, "ot_command", f"c{i}", plc="p", function=f) for i, f in enumerate(functions)]

    eng = engine(dominant, known=("ot_command",))
    assert run(eng, commands(["read", "write", "write", "write", "write"]), flush=False) == []  # not yet decided
    hits = eng.advance(2 * MIN)
    assert len(hits) == 1 and hits[0].value == 80 and hits[0].event_uids == ("c1", "c2", "c3", "c4")
    assert run(engine(dominant, known=("ot_command",)), commands(["read", "read", "write", "write"])) == []


# ---------------------------------------------------------------------------------------------
# temporal / temporal_ordered

TEMPORAL = """
title: Recon
correlation:
    type: {type}
    rules: [recon_cmd_a, recon_cmd_b, recon_cmd_c]
    group-by: [ComputerName, User]
    timespan: 5m
"""
RECON = ("recon_cmd_a", "recon_cmd_b", "recon_cmd_c")


def recon(order: str, spacing: int = 30 * SEC, user: str = "bob", start: int = 0) -> list[Ev]:
    return [ev(start + i * spacing, f"recon_cmd_{x}", f"{x}{i}", ComputerName="ws1", User=user)
            for i, x in enumerate(order)]


@pytest.mark.parametrize("order", ["abc", "cba", "bac"])
def test_temporal_fires_when_all_rules_are_seen_within_the_timespan_in_any_order(order):
    hits = run(engine(TEMPORAL.format(type="temporal"), known=RECON), recon(order))
    assert len(hits) == 1 and hits[0].value == 3 and hits[0].group == {"ComputerName": "ws1", "User": "bob"}


def test_temporal_does_not_fire_with_a_rule_missing_too_far_apart_or_across_users():
    def t() -> CorrelationEngine:
        return engine(TEMPORAL.format(type="temporal"), known=RECON)

    assert run(t(), recon("abab")) == []
    assert run(t(), recon("abc", spacing=3 * MIN)) == []  # 6 minutes from a to c
    assert run(t(), recon("ab") + recon("c", user="eve", start=MIN)) == []


def test_temporal_ordered_fires_in_the_listed_order():
    hits = run(engine(TEMPORAL.format(type="temporal_ordered"), known=RECON), recon("abc"))
    assert len(hits) == 1 and hits[0].event_uids == ("a0", "b1", "c2")
    assert (hits[0].window_start_ms, hits[0].window_end_ms) == (0, 60 * SEC)


@pytest.mark.parametrize("order", ["cba", "bac", "acb", "bca"])
def test_temporal_ordered_does_not_fire_in_another_order(order):
    assert run(engine(TEMPORAL.format(type="temporal_ordered"), known=RECON), recon(order)) == []


def test_temporal_ordered_uses_the_latest_start_so_a_stale_first_step_does_not_block():
    # a at 0, a again at 4 min, then b and c: the chain from 4 min is within 5 minutes
    events = recon("a") + recon("abc", spacing=20 * SEC, start=4 * MIN)
    hits = run(engine(TEMPORAL.format(type="temporal_ordered"), known=RECON), events)
    assert len(hits) == 1 and hits[0].window_start_ms == 4 * MIN


def test_temporal_ordered_chain_must_fit_in_the_timespan():
    assert run(engine(TEMPORAL.format(type="temporal_ordered"), known=RECON), recon("abc", spacing=151 * SEC)) == []


def test_temporal_ordered_breaks_equal_timestamps_by_arrival():
    same_time = [ev(0, f"recon_cmd_{x}", ComputerName="ws1", User="bob") for x in "abc"]
    assert len(run(engine(TEMPORAL.format(type="temporal_ordered"), known=RECON), same_time)) == 1
    reversed_arrival = [ev(0, f"recon_cmd_{x}", ComputerName="ws1", User="bob") for x in "cba"]
    assert run(engine(TEMPORAL.format(type="temporal_ordered"), known=RECON), reversed_arrival) == []


EXTENDED = """
title: Badge but no logon
correlation:
    type: temporal
    rules: [badge_in, vpn_logon]
    group-by: [user]
    timespan: 10m
    condition: badge_in and not vpn_logon
"""


def test_extended_temporal_condition_with_not_is_decided_at_window_close():
    eng = engine(EXTENDED, known=("badge_in", "vpn_logon"))
    hits = run(eng, [ev(0, "badge_in", "b1", user="ann"), ev(MIN, "badge_in", "b2", user="joe"),
                     ev(2 * MIN, "vpn_logon", "v1", user="joe")], flush=False)
    assert hits == []  # nothing is decided before the windows close
    hits = eng.advance(12 * MIN)
    assert [(h.group, h.event_uids, h.window_end_ms) for h in hits] == [({"user": "ann"}, ("b1",), 10 * MIN)]


# ---------------------------------------------------------------------------------------------
# upper bounds: decided at window close, driven by the watermark

QUIET = """
title: Controller went quiet
correlation:
    type: event_count
    rules: [plc_heartbeat]
    group-by: [plc]
    timespan: 10m
    condition: {lt: 3}
"""


def test_fewer_than_n_fires_when_the_watermark_passes_the_window_end():
    eng = engine(QUIET, known=("plc_heartbeat",))
    hits = run(eng, [ev(0, "plc_heartbeat", "h1", plc="p1"), ev(MIN, "plc_heartbeat", "h2", plc="p1")], flush=False)
    assert hits == []
    assert eng.advance(10 * MIN) == []  # the window [0, 10 min] is not closed while 10 min may still arrive
    hits = eng.advance(10 * MIN + 1)
    assert len(hits) == 1
    assert (hits[0].value, hits[0].event_uids) == (2, ("h1", "h2"))
    assert (hits[0].window_start_ms, hits[0].window_end_ms, hits[0].time_ms) == (0, 10 * MIN, 10 * MIN)


def test_fewer_than_n_does_not_fire_when_enough_events_arrive_in_the_window():
    eng = engine(QUIET, known=("plc_heartbeat",))
    events = [ev(t * MIN, "plc_heartbeat", plc="p1") for t in (0, 4, 10)]  # the last on the window's end
    assert run(eng, events, flush=False) == []
    assert eng.advance(25 * MIN) == []


def test_window_close_needs_the_lateness_to_pass_too():
    eng = engine(QUIET, lateness_ms=5 * SEC, known=("plc_heartbeat",))
    run(eng, [ev(0, "plc_heartbeat", plc="p1")], flush=False)
    assert eng.advance(10 * MIN + 5 * SEC) == []
    assert len(eng.advance(10 * MIN + 5 * SEC + 1)) == 1


def test_a_range_is_decided_on_the_complete_window_so_a_burst_above_it_does_not_fire():
    ranged = QUIET.replace("{lt: 3}", "{gt: 2, lte: 4}")
    burst = engine(ranged, known=("plc_heartbeat",))
    assert run(burst, [ev(i * SEC, "plc_heartbeat", plc="p") for i in range(10)]) == []
    three = engine(ranged, known=("plc_heartbeat",))
    hits = run(three, [ev(i * SEC, "plc_heartbeat", plc="p") for i in range(3)])
    assert len(hits) == 1 and hits[0].value == 3


@pytest.mark.parametrize(("condition", "count", "fires"), [
    ("{eq: 2}", 2, True), ("{eq: 2}", 3, False), ("{neq: 2}", 2, False), ("{neq: 2}", 1, True),
    ("{lte: 2}", 2, True), ("{lte: 2}", 3, False),
])
def test_eq_neq_and_lte_are_evaluated_on_closed_windows(condition, count, fires):
    eng = engine(QUIET.replace("{lt: 3}", condition), known=("plc_heartbeat",))
    hits = run(eng, [ev(i * SEC, "plc_heartbeat", plc="p") for i in range(count)])
    assert bool(hits) is fires


# ---------------------------------------------------------------------------------------------
# aliases

ALIASES = """
title: Error then connection back
correlation:
    type: temporal
    rules: [internal_error, new_network_connection]
    group-by: [internal_ip, remote_ip]
    timespan: 10s
    aliases:
        internal_ip:
            internal_error: destination.ip
            new_network_connection: source.ip
        remote_ip:
            internal_error: source.ip
            new_network_connection: destination.ip
---
title: Internal error
name: internal_error
logsource: {category: webserver}
detection: {sel: {http.response.status_code: 500}, condition: sel}
---
title: New connection
name: new_network_connection
logsource: {category: network_connection}
detection: {sel: {event.type: connection}, condition: sel}
"""


def test_aliases_join_different_fields_of_different_rules_into_one_group():
    hits = run(engine(ALIASES), [
        ev(0, "internal_error", "err", **{"source.ip": "203.0.113.9", "destination.ip": "10.0.0.2"}),
        ev(3 * SEC, "new_network_connection", "conn", **{"source.ip": "10.0.0.2", "destination.ip": "203.0.113.9"}),
    ])
    assert len(hits) == 1
    assert hits[0].group == {"internal_ip": "10.0.0.2", "remote_ip": "203.0.113.9"}
    assert hits[0].event_uids == ("err", "conn")


def test_aliases_do_not_join_when_the_mapped_fields_differ():
    assert run(engine(ALIASES), [
        ev(0, "internal_error", **{"source.ip": "203.0.113.9", "destination.ip": "10.0.0.2"}),
        ev(SEC, "new_network_connection", **{"source.ip": "203.0.113.9", "destination.ip": "10.0.0.2"}),
    ]) == []


# ---------------------------------------------------------------------------------------------
# chaining and generate

CHAIN = """
title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
level: high
correlation:
    type: temporal_ordered
    rules: [multiple_failed_login, successful_login]
    group-by: [User]
    timespan: 10m
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [User, ComputerName]
    timespan: 10m
    condition: {gte: 10}
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource: {product: windows, service: security}
detection: {sel: {EventID: [529, 4625]}, condition: sel}
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource: {product: windows, service: security}
detection: {sel: {EventID: [528, 4624]}, condition: sel}
"""


def brute_force(failures: int, success_at: int = 5 * MIN) -> list[Ev]:
    events = [ev(i * 10 * SEC, "failed_login", f"f{i}", User="alice", ComputerName="dc1") for i in range(failures)]
    return [*events, ev(success_at, "successful_login", "ok", User="alice", ComputerName="dc1")]


def test_a_correlation_hit_feeds_the_correlation_that_references_it():
    hits = run(engine(CHAIN), brute_force(10))
    assert titles(hits) == ["Multiple failed logons",
                            "Correlation - Multiple Failed Logins Followed by Successful Login"]
    inner, outer = hits
    assert not inner.output and outer.output  # generate: false → the inner hit is no alert of its own
    assert outer.group == {"User": "alice"}
    # the outer hit names the base events behind the inner one, then the success
    assert outer.event_uids == (*[f"f{i}" for i in range(10)], "ok")


def test_chain_does_not_fire_without_the_inner_correlation_or_in_the_wrong_order():
    assert titles(run(engine(CHAIN), brute_force(9))) == []
    wrong_order = brute_force(10, success_at=-MIN)
    wrong_order.insert(0, wrong_order.pop())
    assert titles(run(engine(CHAIN), wrong_order)) == ["Multiple failed logons"]


def test_generate_false_silences_the_referenced_base_rules_and_generate_true_keeps_them():
    eng = engine(CHAIN)
    assert not eng.standalone("failed_login") and not eng.standalone("53BA33FD-3A50-4468-A5EF-C583635CFA92")
    assert not eng.standalone("successful_login")
    assert eng.standalone("some_unrelated_rule")
    generating = engine(CHAIN.replace("correlation:\n    type: temporal_ordered",
                                      "correlation:\n    generate: true\n    type: temporal_ordered"))
    assert generating.standalone("successful_login")
    assert not generating.standalone("failed_login")  # still referenced by the generate: false inner rule
    hits = run(generating, brute_force(10))
    assert [h.output for h in hits] == [True, True]


# ---------------------------------------------------------------------------------------------
# ordering: out of order within the allowed lateness, and later than that


def test_out_of_order_input_within_the_lateness_gives_the_same_hits_as_ordered_input():
    base = sorted([*brute_force(12), *recon("abc", user="alice", start=MIN)], key=lambda e: e.time)
    text = CHAIN + "\n---\n" + TEMPORAL.format(type="temporal_ordered")
    ordered = run(engine(text, lateness_ms=20 * SEC, known=RECON), base)
    shuffled = list(base)
    rng = random.Random(7)
    for _ in range(200):  # swap neighbours at most 20 s apart in time
        i = rng.randrange(len(shuffled) - 1)
        if abs(shuffled[i].time - shuffled[i + 1].time) <= 20 * SEC:
            shuffled[i], shuffled[i + 1] = shuffled[i + 1], shuffled[i]
    assert [e.time for e in shuffled] != [e.time for e in base]
    assert [h.hit_id for h in run(engine(text, lateness_ms=20 * SEC, known=RECON), shuffled)] == \
        [h.hit_id for h in ordered]
    assert len(ordered) == 3


def test_temporal_ordered_uses_event_time_not_arrival_within_the_lateness():
    eng = engine(TEMPORAL.format(type="temporal_ordered"), lateness_ms=5 * SEC, known=RECON)
    # arrives c, b, a but happened a, b, c
    arrivals = [ev(2 * SEC, "recon_cmd_c", ComputerName="w", User="u"), ev(SEC, "recon_cmd_b", ComputerName="w",
                User="u"), ev(0, "recon_cmd_a", ComputerName="w", User="u")]
    assert run(eng, arrivals, flush=False) == []  # held back until the watermark passes them
    assert len(eng.advance(8 * SEC)) == 1


def test_hits_wait_for_the_watermark_when_lateness_is_allowed():
    eng = engine(EVENT_COUNT, lateness_ms=5 * SEC)
    assert run(eng, [ev(i * SEC, "failed_login", ComputerName="h") for i in range(3)], flush=False) == []
    assert len(eng.process({}, 7 * SEC, ())) == 1  # an unmatched event moves event time too


def test_late_events_count_if_inside_the_groups_current_window_and_are_dropped_otherwise():
    eng = engine(EVENT_COUNT, lateness_ms=SEC)
    run(eng, [ev(0, "failed_login", "a", ComputerName="h"), ev(9 * SEC, "failed_login", "b", ComputerName="h"),
              ev(20 * SEC, "other", ComputerName="h")], flush=False)  # watermark is now 19 s
    # 8 s is late (< 19 s) but inside [9 s − 10 s, 9 s] of the group's latest event: counted, and fires
    hits = eng.process({"ComputerName": "h", "uid": "late"}, 8 * SEC, ["failed_login"])
    assert len(hits) == 1 and hits[0].event_uids == ("a", "late", "b") and hits[0].time_ms == 9 * SEC
    assert eng.stats.late_counted == 1
    # -5 s is older than that window: dropped
    assert eng.process({"ComputerName": "h"}, -5 * SEC, ["failed_login"]) == []
    assert eng.stats.late_dropped == 1
    # a group with no recent match takes late events within a timespan of the watermark
    for uid in ("x", "y"):
        assert eng.process({"ComputerName": "new", "uid": uid}, 12 * SEC, ["failed_login"]) == []
    hits = eng.process({"ComputerName": "new", "uid": "z"}, 5 * SEC, ["failed_login"])
    assert [h.event_uids for h in hits] == [("z", "x", "y")]
    assert eng.process({"ComputerName": "other"}, 8 * SEC, ["failed_login"]) == []  # before 19 s − 10 s
    assert eng.stats.late_dropped == 2


def test_late_events_never_extend_a_temporal_ordered_chain():
    eng = engine(TEMPORAL.format(type="temporal_ordered"), known=RECON)
    run(eng, recon("ab", spacing=SEC), flush=False)
    run(eng, [ev(10 * SEC, "unrelated", ComputerName="ws1", User="bob")], flush=False)
    assert eng.process({"ComputerName": "ws1", "User": "bob"}, 5 * SEC, ["recon_cmd_c"]) == []
    assert eng.stats.late_dropped == 1


# ---------------------------------------------------------------------------------------------
# state hand-over and bounded memory

HANDOVER_RULES = "\n---\n".join([
    CHAIN, TEMPORAL.format(type="temporal_ordered"), QUIET, VALUE_COUNT.replace("failed_login", "spray"),
    PERCENTILE,
])
HANDOVER_KNOWN = (*RECON, "plc_heartbeat", "spray", "modbus_write")


def handover_stream() -> list[Ev]:
    rng = random.Random(11)
    events: list[Ev] = []
    t = 0
    for i in range(600):
        t += rng.randrange(0, 4 * SEC)
        user = rng.choice(["alice", "bob", "carol"])
        kind = rng.choice(["failed_login", "successful_login", *RECON, "plc_heartbeat", "spray", "modbus_write"])
        jitter = rng.randrange(-3 * SEC, 3 * SEC)  # out of order, within the lateness
        events.append(ev(t + jitter, kind, f"e{i}", User=user, ComputerName="ws1", plc=f"p{i % 40}",
                         src_ip=rng.choice(["x", "y"]), dst_ip="plc", latency_ms=rng.randrange(1, 200)))
    return events


@pytest.mark.parametrize("cut", [1, 150, 301, 599])
def test_snapshot_and_restore_continue_exactly_where_the_previous_owner_stopped(cut):
    events = handover_stream()

    def fresh() -> CorrelationEngine:
        return engine(HANDOVER_RULES, lateness_ms=5 * SEC, known=HANDOVER_KNOWN)

    whole = run(fresh(), events)
    # the stream exercises chaining, ordering, value rules and windows decided at close
    assert {"Correlation - Multiple Failed Logins Followed by Successful Login", "Recon", "Password spray",
            "Slow writes", "Controller went quiet"} <= {h.title for h in whole}

    first = fresh()
    hits = run(first, events[:cut], flush=False)
    state = first.snapshot()
    second = fresh()
    assert second.restore(state) == []
    hits += run(second, events[cut:])
    assert [h.hit_id for h in hits] == [h.hit_id for h in whole]
    assert [h.event_uids for h in hits] == [h.event_uids for h in whole]


def test_restore_drops_state_of_a_correlation_that_changed_and_says_so():
    eng = engine(EVENT_COUNT)
    run(eng, [ev(0, "failed_login", ComputerName="h"), ev(SEC, "failed_login", ComputerName="h")], flush=False)
    changed = engine(EVENT_COUNT.replace("gte: 3", "gte: 2"))
    problems = changed.restore(eng.snapshot())
    assert len(problems) == 1 and "changed" in problems[0].reason
    assert changed.group_count() == 0
    same = engine(EVENT_COUNT)
    assert same.restore(eng.snapshot()) == []
    assert len(run(same, [ev(2 * SEC, "failed_login", ComputerName="h")])) == 1


def test_restore_refuses_bytes_that_are_not_a_snapshot():
    with pytest.raises(ValueError):
        engine(EVENT_COUNT).restore(b"\x81\xa1v\x63")


def test_a_hit_carries_at_most_the_latest_uids():
    eng = engine(TEMPORAL.format(type="temporal"), known=RECON, max_uids_per_hit=5)
    events = [ev(i, "recon_cmd_a", f"a{i}", ComputerName="w", User="u") for i in range(50)]
    hits = run(eng, [*events, ev(60, "recon_cmd_b", "b", ComputerName="w", User="u"),
                     ev(61, "recon_cmd_c", "c", ComputerName="w", User="u")])
    assert hits[0].event_uids == ("a47", "a48", "a49", "b", "c")


def test_idle_groups_expire_once_their_window_and_quiet_period_are_over():
    eng = engine(EVENT_COUNT, sweep_interval_ms=SEC)
    run(eng, [ev(i, "failed_login", ComputerName=f"h{i}") for i in range(100)], flush=False)
    assert eng.group_count() == 100
    eng.advance(5 * SEC)
    assert eng.group_count() == 100
    eng.advance(11 * SEC)
    assert eng.group_count() == 0 and eng.stats.expired_groups == 100


def test_groups_per_rule_and_entries_per_group_are_capped():
    eng = engine(EVENT_COUNT, max_groups_per_rule=50, max_events_per_group=5)
    run(eng, [ev(i, "failed_login", ComputerName=f"h{i}") for i in range(200)], flush=False)
    assert eng.group_count() <= 50 and eng.stats.evicted_groups >= 150
    eng = engine(QUIET.replace("{lt: 3}", "{gt: 10}").replace("10m", "1h"), max_events_per_group=5,
                 known=("plc_heartbeat",))
    run(eng, [ev(i, "plc_heartbeat", plc="p") for i in range(20)], flush=False)
    assert eng.stats.capped_entries == 15
    assert any("cap" in i.reason for i in eng.issues)  # the threshold above the cap is reported


# ---------------------------------------------------------------------------------------------
# loading: nothing is dropped silently


def test_unresolvable_references_are_reported_with_file_and_reason():
    eng = CorrelationEngine.from_yaml(EVENT_COUNT.split("---")[0], source="rules/brute.yml")
    assert eng.correlations.correlations == []
    (issue,) = eng.issues
    assert issue.source == "rules/brute.yml" and issue.severity == "error"
    assert "failed_login" in issue.reason and "not found" in issue.reason
    assert issue.title == "Many failed logins" and issue.rule_id == "0e95725d-7320-415d-80f7-004da920fc11"


def test_a_correlation_depending_on_an_unloadable_one_is_reported_too():
    broken = CHAIN.replace("rules: [failed_login]", "rules: [no_such_rule]")
    eng = CorrelationEngine.from_yaml(broken, source="chain.yml")
    reasons = sorted(i.reason for i in eng.issues)
    assert len(reasons) == 2
    assert "no_such_rule" in reasons[1] and "Multiple failed logons" in reasons[0]


def test_reference_cycles_are_reported():
    cyclic = """
title: A
name: corr_a
correlation: {type: event_count, rules: [corr_b], group-by: [x], timespan: 1m, condition: {gte: 1}}
---
title: B
name: corr_b
correlation: {type: event_count, rules: [corr_a], group-by: [x], timespan: 1m, condition: {gte: 1}}
"""
    eng = CorrelationEngine.from_yaml(cyclic, source="cycle.yml")
    assert eng.correlations.correlations == []
    assert len(eng.issues) == 2 and all("cycle" in i.reason for i in eng.issues)


def test_bad_documents_are_reported_and_the_good_ones_still_load():
    texts = [
        ("bad_yaml.yml", "title: [unclosed"),
        ("bad_type.yml", "title: x\ncorrelation: {type: nope, rules: [a], group-by: [x], timespan: 1m, "
                         "condition: {gte: 1}}"),
        ("bad_alias.yml", "title: y\ncorrelation: {type: temporal, rules: [a, b], group-by: [ip], timespan: 1m, "
                          "aliases: {ip: {c: src}}}"),
        ("good.yml", VALUE_COUNT),
    ]
    eng = CorrelationEngine.from_texts(texts, known_rules=("a", "b", "failed_login"))
    assert [c.title for c in eng.correlations.correlations] == ["Password spray"]
    assert sorted(i.source for i in eng.issues) == ["bad_alias.yml", "bad_type.yml", "bad_yaml.yml"]


def test_extended_conditions_on_temporal_ordered_are_refused_with_a_reason():
    text = EXTENDED.replace("type: temporal", "type: temporal_ordered")
    eng = CorrelationEngine.from_yaml(text, source="x.yml", known_rules=("badge_in", "vpn_logon"))
    assert eng.correlations.correlations == [] and "only supported on 'temporal'" in eng.issues[0].reason


def test_value_count_over_several_fields_counts_distinct_combinations_and_thresholds_may_be_fractions():
    text = VALUE_COUNT.replace("field: User, gte: 3", "field: [User, Domain], gt: 2.5")
    eng = engine(text, known=("failed_login",))
    events = [ev(i, "failed_login", src_ip="x", User=u, Domain=d)
              for i, (u, d) in enumerate([("a", "corp"), ("a", "plant"), ("a", "corp"), ("b", "corp")])]
    hits = run(eng, events)
    assert len(hits) == 1 and hits[0].value == 3


def test_loads_from_a_pysigma_collection_and_from_files(tmp_path: Path):
    from sigma.collection import SigmaCollection

    collection = SigmaCollection.from_yaml(CHAIN, resolve_references=False)
    eng = CorrelationEngine.from_collection(collection, config=ORDERED)
    assert len(eng.correlations.correlations) == 2 and not eng.issues
    (tmp_path / "chain.yml").write_text(CHAIN)
    eng = CorrelationEngine.from_paths([tmp_path], config=ORDERED)
    assert [c.source for c in eng.correlations.correlations] == [str(tmp_path / "chain.yml")] * 2
    assert len(run(eng, brute_force(10))) == 2


def test_references_lists_what_the_matcher_must_report():
    assert {"failed_login", "53ba33fd-3a50-4468-a5ef-c583635cfa92", "successful_login"} <= engine(CHAIN).references()


# ---------------------------------------------------------------------------------------------
# The Sigma specification's correlation examples (tests/schema/correlation/*.yml)

SPEC = CORPUS / "correlation" / "sigma-spec-examples" / "correlation"


def _same_host(n: int, rule: str, span: int, **fields: Any) -> list[Ev]:
    return [ev(i * span // max(n - 1, 1), rule, f"e{i}", **fields) for i in range(n)]


def _spec_event_count(rule: str, field: str) -> tuple[list[list[Ev]], list[list[Ev]]]:
    """>= 100 failed logins to one destination host (group-by) within 1 h."""
    fire = [_same_host(100, rule, HOUR, **{field: "dc1"})]
    quiet = [
        _same_host(99, rule, HOUR, **{field: "dc1"}),
        _same_host(100, rule, HOUR + 2 * MIN, **{field: "dc1"}),  # spread over more than an hour
        [*_same_host(50, rule, MIN, **{field: "dc1"}), *_same_host(50, rule, MIN, **{field: "dc2"})],
    ]
    return fire, quiet


def _spec_value_count(rule: str) -> tuple[list[list[Ev]], list[list[Ev]]]:
    """>= 100 different user accounts per source and destination within a day."""
    def users(n: int, repeats: int = 1) -> list[Ev]:
        return [ev(i * MIN, rule, ComputerName="dc1", WorkstationName="ws7", User=f"user{i % n}")
                for i in range(n * repeats)]

    fire = [users(100)]
    quiet = [users(99, repeats=3),
             [ev(i * 15 * MIN, rule, ComputerName="dc1", WorkstationName="ws7", User=f"u{i}") for i in range(100)]]
    return fire, quiet


def _spec_temporal(ordered: bool) -> tuple[list[list[Ev]], list[list[Ev]]]:
    """recon_cmd_a/b/c by the same user on one system within 5 minutes (ordered: in that order)."""
    fire = [recon("abc", spacing=2 * MIN)] + ([] if ordered else [recon("cab")])
    quiet = [recon("ab"), recon("abc", spacing=3 * MIN), recon("ab") + recon("c", user="eve", start=MIN)]
    if ordered:
        quiet.append(recon("cba"))
    return fire, quiet


def _spec_value_sum(rule: str) -> tuple[list[list[Ev]], list[list[Ev]]]:
    """More than 1,000,000 bytes sent by one source and user within 1 h."""
    def sends(amounts: list[int], gap: int) -> list[Ev]:
        return [ev(i * gap, rule, SourceIP="10.1.1.1", User="bob", bytes_sent=a) for i, a in enumerate(amounts)]

    return [sends([400_000, 400_000, 200_001], 10 * MIN)], [sends([400_000, 400_000, 200_000], 10 * MIN),
                                                              sends([600_000, 600_000], 61 * MIN)]


def _spec_value_avg(rule: str) -> tuple[list[list[Ev]], list[list[Ev]]]:
    """Average BytesOut above 500 for one source and user within 24 h."""
    def out(values: list[int]) -> list[Ev]:
        return [ev(i * HOUR, rule, SourceIP="10.1.1.1", User="bob", BytesOut=v) for i, v in enumerate(values)]

    return [out([100, 900, 600])], [out([100, 900, 500]), out([400])]


def _spec_value_percentile(rule: str) -> tuple[list[list[Ev]], list[list[Ev]]]:
    """A process name that makes up at most 1 % of a computer's processes within 24 h."""
    common = [ev(i * MIN, rule, ComputerName="ws1", Image=f"C:\\Windows\\{['svchost', 'explorer'][i % 2]}.exe")
              for i in range(150)]
    rare = ev(200 * MIN, rule, "rare", ComputerName="ws1", Image="C:\\Users\\Public\\x.exe")
    few = [ev(i * MIN, rule, ComputerName="ws2", Image=f"C:\\Tools\\t{i}.exe") for i in range(50)]  # 2 % each
    return [[*common, rare]], [common, few]


SPEC_SCENARIOS = {
    "event_count.yml": lambda refs: _spec_event_count(refs[0], "ComputerName"),
    "event_count_ecs.yml": lambda refs: _spec_event_count(refs[0], "dns.question.name"),
    "value_count.yml": lambda refs: _spec_value_count(refs[0]),
    "temporal.yml": lambda refs: _spec_temporal(False),
    "temporal_ordered.yml": lambda refs: _spec_temporal(True),
    "value_sum.yml": lambda refs: _spec_value_sum(refs[0]),
    "value_avg.yml": lambda refs: _spec_value_avg(refs[0]),
    "value_percentile.yml": lambda refs: _spec_value_percentile(refs[0]),
}


@pytest.mark.corpus
def test_every_spec_example_has_a_scenario():
    assert sorted(p.name for p in SPEC.glob("*.yml")) == sorted(SPEC_SCENARIOS)


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(SPEC_SCENARIOS))
def test_spec_example_behaves_as_the_specification_describes(name):
    path = SPEC / name
    refs = [str(r) for r in yaml.safe_load(path.read_text())["correlation"]["rules"]]
    # The examples reference rules that are not in the file: unresolved, they are reported, not dropped.
    alone = CorrelationEngine.from_paths([path])
    assert alone.correlations.correlations == [] and len(alone.issues) == 1
    assert alone.issues[0].source == str(path) and "not found" in alone.issues[0].reason
    fire, quiet = SPEC_SCENARIOS[name](refs)
    for events in fire:
        eng = CorrelationEngine.from_paths([path], known_rules=refs, config=ORDERED)
        assert not eng.issues
        hits = run(eng, events)
        assert len(hits) == 1, f"{name} must fire once, got {len(hits)}"
        assert hits[0].title == yaml.safe_load(path.read_text())["title"]
    for events in quiet:
        eng = CorrelationEngine.from_paths([path], known_rules=refs, config=ORDERED)
        assert run(eng, events) == [], f"{name} must not fire"
