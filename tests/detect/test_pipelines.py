"""SigmaHQ's network rules (Zeek, DNS, firewall) on our normalized events: the log-source rows
route them and the OCSF field mapping lets the rules' native field names find our attributes."""

from __future__ import annotations

import io
import json

import pytest

from linewatch.detect.engine.ruleset import RuleSet
from linewatch.detect.sigma import flat, router
from linewatch.events import sources
from linewatch.events.ingest import parse_stream
from linewatch.events.schema import Event, EventClass, event_uid
from tests.conftest import CORPUS

NETWORK = CORPUS / "correlation" / "sigmahq-rules" / "rules" / "network"


def zeek(path: str, **fields) -> Event:
    record = {"_path": path, "ts": 1780000000.0, "uid": "CtPZjS20MLrsMUOJi2", "id.orig_h": "10.20.4.31",
              "id.orig_p": 51514, "id.resp_h": "10.20.4.2", "id.resp_p": 53, **fields}
    [event] = list(parse_stream(sources.get("zeek"), io.BytesIO(json.dumps(record).encode()), sources.Context()))
    assert isinstance(event, Event), event
    return event


def titles(rules: RuleSet, event: Event) -> set[str]:
    return {m.title for m in rules.match(flat(event))}


def test_generic_dns_rule_on_ocsf_dns_events():
    rules = RuleSet.from_yaml("""
title: Query for a test domain
id: 2b8b5f40-7c0a-4d0e-8a7e-0c1d2e3f4a5b
logsource: {category: dns}
detection:
  selection: {query|endswith: '.evil.example'}
  condition: selection
level: high
""", router=router())
    hit = Event(uid=event_uid("t", "1"), time=1, class_uid=EventClass.DNS_ACTIVITY,
                attrs={"query.hostname": "c2.evil.example"})
    miss = Event(uid=event_uid("t", "2"), time=1, class_uid=EventClass.DNS_ACTIVITY,
                 attrs={"query.hostname": "intranet.example"})
    other_class = Event(uid=event_uid("t", "3"), time=1, class_uid=EventClass.HTTP_ACTIVITY,
                        attrs={"query.hostname": "c2.evil.example"})
    assert titles(rules, hit) == {"Query for a test domain"}
    assert titles(rules, miss) == titles(rules, other_class) == set()


@pytest.mark.corpus
def test_sigmahq_zeek_and_dns_rules_on_parsed_zeek_events():
    rules = RuleSet.from_paths([NETWORK / "zeek", NETWORK / "dns", NETWORK / "firewall"], router=router())
    assert rules.unrouted == []  # every rule has a route now
    tor = zeek("dns", query="mirror.onion.ca", qtype_name="A")
    assert "DNS TOR Proxies" in titles(rules, tor)
    benign = zeek("dns", query="intranet.nordhavn-foods.example", qtype_name="A")
    assert "DNS TOR Proxies" not in titles(rules, benign)
    pool = zeek("dns", query="xmr.pool.minergate.com", qtype_name="A")
    assert any("Mining" in t or "mining" in t for t in titles(rules, pool))
