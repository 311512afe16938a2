"""The reachability engine: BDD compilation agrees with first-match evaluation, propagation over the device graph,
stateful return traffic, dispositions, witnesses and per-hop rules, zone matrices, insufficient information."""

from __future__ import annotations

import ipaddress
import itertools
import json
import random
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linewatch.segmentation.engine.bdd import PacketSpace, compile_device
from linewatch.segmentation.engine.model import (
    STATES,
    Chain,
    Device,
    Interface,
    Match,
    Packet,
    PortRange,
    Rule,
    RuleSet,
    evaluate,
)
from linewatch.segmentation.engine.parsers import parse_file
from linewatch.segmentation.engine.reach import (
    ACCEPTED,
    DENIED_IN,
    INSUFFICIENT_INFO,
    NO_RETURN,
    Network,
    Service,
    reach_series,
)
from linewatch.segmentation.engine.topology import load

DATA = Path(__file__).resolve().parents[1] / "data" / "segmentation"
DMZ = DATA / "dmz"
HOSTS = {"corp": "10.250.1.10", "dmz": "10.250.2.10", "ot": "10.250.3.10"}


def kernel_view(answer) -> str:
    """What a TCP client in the research oracle saw for an analyzer answer."""
    flow = answer.flows[0]
    if flow.disposition == ACCEPTED:
        return "OPEN"
    return "REFUSED" if flow.action == "reject:tcp-reset" else "FILTERED"


def expected(name: str) -> list[tuple[str, str, str, str]]:
    rows = (DMZ / name).read_text().splitlines()[1:]
    return [tuple(r.split()) for r in rows if r.strip()]


def test_matches_the_kernel_measured_matrix_of_the_two_firewall_dmz():
    devices, _zones = load(DMZ / "topology.yaml")
    net = Network(devices)
    for src, dst, port, measured in expected("expected-matrix.stateful.txt"):
        answer = net.reach(HOSTS[src], HOSTS[dst], Service.parse(f"tcp/{port}"))
        assert kernel_view(answer) == measured, (src, dst, port, answer.as_dict())


def test_without_the_conntrack_rule_replies_are_dropped_and_the_conduit_is_one_way(tmp_path):
    for f in ("fw1.rules", "fw2.rules", "topology.yaml"):
        text = (DMZ / f).read_text()
        (tmp_path / f).write_text("\n".join(li for li in text.splitlines() if "ESTABLISHED" not in li) + "\n")
    net = Network(load(tmp_path / "topology.yaml")[0])
    for src, dst, port, measured in expected("expected-matrix.stateless.txt"):
        answer = net.reach(HOSTS[src], HOSTS[dst], Service.parse(f"tcp/{port}"))
        assert kernel_view(answer) == measured, (src, dst, port)
    one_way = net.reach(HOSTS["corp"], HOSTS["dmz"], Service.parse("tcp/443"))
    assert one_way.disposition == NO_RETURN
    assert one_way.flows[0].hops[0].rule.endswith("fw1.rules:6")  # the forward accept (line numbers shift by one)
    assert one_way.flows[0].return_hops[0].action == "drop"


def test_answer_has_witness_and_the_deciding_rule_per_hop():
    net = Network(load(DMZ / "topology.yaml")[0])
    doc = net.reach("10.250.2.10", "10.250.3.0/24", Service.parse("tcp/502")).as_dict()
    assert doc["disposition"] == ACCEPTED
    flow = doc["flows"][0]
    w = flow["witness"]
    assert (w["src"], w["protocol"], w["dport"], w["state"]) == ("10.250.2.10", "tcp", 502, "NEW")
    assert ipaddress.IPv4Address(w["dst"]) in ipaddress.IPv4Network("10.250.3.0/24")
    assert 32768 <= w["sport"] <= 60999
    assert [(h["device"], h["in"], h["out"], h["action"]) for h in flow["hops"]] == [("fw2", "dmz0", "ot0", "accept")]
    assert flow["hops"][0]["rule"].endswith("fw2.rules:7")
    assert flow["return_hops"][0]["rule"].endswith("fw2.rules:6")  # the conntrack ESTABLISHED rule


def test_zone_matrix_one_propagation_per_source_zone():
    devices, zones = load(DMZ / "topology.yaml")
    net = Network(devices)
    assert net.zone_matrix(zones, Service.parse("tcp/502")) == {
        "corp": {"dmz": DENIED_IN, "ot": DENIED_IN},
        "dmz": {"corp": DENIED_IN, "ot": ACCEPTED},
        "ot": {"corp": DENIED_IN, "dmz": DENIED_IN},
    }
    assert net.zone_matrix(zones)["corp"] == {"dmz": ACCEPTED, "ot": DENIED_IN}


def _packets() -> list[Packet]:
    """Every combination of the addresses, services, states and interfaces the sample rule sets care about."""
    srcs = ["10.10.5.5", "10.10.6.7", "10.10.1.1", "10.30.1.1", "10.99.1.1", "10.40.0.5", "192.168.0.1"]
    dsts = ["10.20.1.1", "10.30.2.2", "192.168.0.2"]
    services = [(6, 22), (6, 502), (6, 3389), (6, 20005), (6, 8080), (17, 53), (17, 123), (1, 0)]
    return [Packet(int(ipaddress.IPv4Address(s)), int(ipaddress.IPv4Address(d)), proto, 40000 if port else 0, port,
                   state, in_if, "eth1")
            for s, d, (proto, port), state, in_if in itertools.product(srcs, dsts, services, STATES, ["eth0", "wan0"])]


@pytest.mark.parametrize("name", ["chains.rules", "ruleset.nft"])
def test_bdd_compilation_agrees_with_first_match_evaluation(name):
    rs = parse_file(DATA / name)
    rs.blocking.clear()  # compare the filter itself; the NAT rule's effect is tested below
    dev = Device("fw", interfaces={n: Interface(n) for n in ("eth0", "eth1", "wan0", "wan1")}, rulesets=[rs])
    sp = PacketSpace()
    index = {n: i + 1 for i, n in enumerate(sorted(dev.interfaces))}
    sets = compile_device(sp, dev, "forward", index)
    seen = set()
    for p in _packets():
        dec = evaluate(dev, "forward", p)
        point = sp.restrict_ifaces(sp.packet(p), index[p.in_iface], index[p.out_iface])
        labels = {k for k, v in sets.items() if sp.restrict_ifaces(v, index[p.in_iface], index[p.out_iface])
                  & sp.packet(p) != sp.false}
        assert point != sp.false
        want = {"accept": {"accept"}, "drop": set(), "unknown": {"unknown"}}.get(dec.action,
                                                                                {f"reject:{dec.reject_with}"})
        assert labels == want, (p, dec)
        seen.add(dec.origin)
    assert len(seen) >= 7  # the sample reaches rules in every chain, RETURN and goto included


def test_indexed_evaluation_equals_the_linear_scan():
    rng = random.Random(5)
    rules = []
    for i in range(400):
        plen_s, plen_d = rng.randint(0, 32), rng.randint(8, 32)
        m = Match(src=(ipaddress.IPv4Network((0x0A000000 | rng.getrandbits(24), plen_s), strict=False),),
                  dst=(ipaddress.IPv4Network((0x0A000000 | rng.getrandbits(24), plen_d), strict=False),),
                  protocols=(6,), dports=(PortRange(500, 510),), src_negated=rng.random() < 0.1)
        rules.append(Rule(m, rng.choice(["accept", "drop"]), f"x:{i}"))
    rs = RuleSet("x", {"FORWARD": Chain("FORWARD", rules, hook="forward", policy="drop")})
    dev = Device("fw", rulesets=[rs])
    for _ in range(2000):
        p = Packet(0x0A000000 | rng.getrandbits(24), 0x0A000000 | rng.getrandbits(24), 6, 40000, rng.randint(498, 512))
        assert evaluate(dev, "forward", p) == evaluate(dev, "forward", p, indexed=False)


def test_an_unsupported_rule_makes_the_packets_it_could_match_insufficient_information(tmp_path):
    rules = (DMZ / "fw1.rules").read_text().replace(
        "-A FORWARD -i corp0 -p tcp",
        "-A FORWARD -i corp0 -p tcp -m recent --rcheck -j DROP\n-A FORWARD -i corp0 -p tcp", 1)
    for f in ("fw2.rules", "topology.yaml"):
        shutil.copy(DMZ / f, tmp_path / f)
    (tmp_path / "fw1.rules").write_text(rules)
    net = Network(load(tmp_path / "topology.yaml")[0])
    answer = net.reach(HOSTS["corp"], HOSTS["dmz"], Service.parse("tcp/502"))
    assert answer.disposition == INSUFFICIENT_INFO
    assert answer.flows[0].hops[0].rule.endswith("fw1.rules:9")
    # traffic that the uncertain rule cannot touch keeps its answer
    assert net.reach(HOSTS["dmz"], HOSTS["ot"], Service.parse("tcp/502")).disposition == ACCEPTED


def test_a_nat_table_no_longer_makes_every_answer_through_the_device_insufficient():
    # NAT is modelled (test_nat_engine.py): the MASQUERADE on wan0 does not touch a -> b, the filter decides
    rs = parse_file(DATA / "chains.rules")
    dev = Device("fw", interfaces={"a": Interface("a", (ipaddress.IPv4Interface("10.10.0.1/16"),)),
                                   "b": Interface("b", (ipaddress.IPv4Interface("10.20.0.1/16"),))}, rulesets=[rs])
    answer = Network([dev]).reach("10.10.1.1", "10.20.1.1", Service.parse("tcp/502"))
    assert answer.disposition == DENIED_IN and answer.flows[0].hops[0].rule.endswith("chains.rules:9")


def test_a_mangle_only_firewall_is_insufficient_information_not_open(tmp_path):
    cfg = tmp_path / "z1.v4"
    cfg.write_text("*mangle\n:PREROUTING DROP [0:0]\n-A PREROUTING -s 10.0.4.0/24 -i eth0 -j ACCEPT\nCOMMIT\n")
    dev = Device("z1", interfaces={"eth0": Interface("eth0", (ipaddress.IPv4Interface("10.0.4.1/24"),)),
                                   "eth1": Interface("eth1", (ipaddress.IPv4Interface("10.0.3.1/24"),))},
                 rulesets=[parse_file(cfg)])
    answer = Network([dev]).reach("10.0.4.9", "10.0.3.9", Service.parse("tcp/80"))
    assert answer.disposition == INSUFFICIENT_INFO
    assert answer.flows[0].hops[0].rule == f"{cfg}:3"


def test_no_route_when_no_device_forwards_there():
    net = Network(load(DMZ / "topology.yaml")[0])
    assert net.reach(HOSTS["corp"], "192.0.2.1", Service.parse("tcp/22")).disposition == "NO_ROUTE"


def test_series_mode_marks_interface_dependent_answers_as_insufficient():
    fw1 = Device("fw1", rulesets=[parse_file(DMZ / "fw1.rules")])
    assert reach_series([fw1], HOSTS["corp"], HOSTS["dmz"], Service.parse("tcp/443")).disposition == INSUFFICIENT_INFO
    assert reach_series([fw1], HOSTS["dmz"], HOSTS["corp"], Service.parse("udp/53")).disposition == DENIED_IN


def test_service_parsing():
    assert Service.parse("tcp/502") == Service(6, 502, 502)
    assert Service.parse("udp/161-162") == Service(17, 161, 162)
    assert Service.parse(None) == Service()
    with pytest.raises(ValueError):
        Service.parse("tcp/70000")


def test_reach_command_prints_json_with_disposition_witness_and_hops():
    import typer

    from linewatch.segmentation.cli import reach

    app = typer.Typer()
    app.command("reach")(reach)
    app.command("other")(lambda: None)
    res = CliRunner().invoke(app, ["reach", str(DMZ / "topology.yaml"), "--from", "corp", "--to", "10.250.2.10",
                                   "--service", "tcp/22", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["disposition"] == ACCEPTED and doc["flows"][0]["hops"][0]["rule"].endswith("fw1.rules:8")
    bad = CliRunner().invoke(app, ["reach", str(DMZ / "topology.yaml"), "--from", "nowhere", "--to", "ot", "--json"])
    assert bad.exit_code == 2 and "nowhere" in bad.stdout
    human = CliRunner().invoke(app, ["reach", str(DMZ / "fw1.rules"), str(DMZ / "fw2.rules"), "--from", "10.250.1.10",
                                     "--to", "10.250.3.10", "--service", "tcp/502"])
    assert human.exit_code == 0, human.output
    assert "DENIED_IN" in human.stdout and "fw1.rules:4" in human.stdout  # no interfaces known: the policy
