"""SEG-03/04/08/10, attack paths with their fixes, and flow conformance on a small hand-built site (no database).

fw-more-bad.rules has one mistake per check and a direct office -> ops shell; fw-more-good.rules implements only the
declared conduits, with remote access narrowed to the jump host."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from linewatch.errors import InputError
from linewatch.segmentation.checks import Checker, ConduitSpec, HostSpec, SiteModel, ZoneSpec, run_checks
from linewatch.segmentation.engine import attack
from linewatch.segmentation.engine.conformance import Conformance, read_flow_csv, read_flows
from linewatch.segmentation.engine.model import Device, Interface, Route
from linewatch.segmentation.engine.parsers import parse_file
from tests.conftest import CORPUS

DATA = Path(__file__).resolve().parent.parent / "data" / "segmentation" / "attack"

ZONES = {
    "office": ZoneSpec("office", "4", ["10.9.4.0/24"]),
    "dmz": ZoneSpec("dmz", "3.5", ["10.9.35.0/24"]),
    "ops": ZoneSpec("ops", "3", ["10.9.3.0/24"]),
    "cell-a": ZoneSpec("cell-a", "1", ["10.9.1.0/24"]),
    "cell-b": ZoneSpec("cell-b", "1", ["10.9.2.0/24"]),
    "sis": ZoneSpec("sis", "1", ["10.9.9.0/24"], "Safety"),
}
CONDUITS = [
    ConduitSpec("office-to-dmz", "office", "dmz", ["tcp/443", "tcp/3389"]),
    ConduitSpec("dmz-to-ops", "dmz", "ops", ["tcp/3389"]),
    ConduitSpec("ops-to-cell-a", "ops", "cell-a", ["tcp/102"]),
    ConduitSpec("cell-a-to-sis", "cell-a", "sis", ["udp/34964"]),
]
HOSTS = [
    HostSpec("1", "pc-1", "office", ["10.9.4.10"], "workstation"),
    HostSpec("2", "jump-1", "dmz", ["10.9.35.5"], "jump_host", ["remote-access"]),
    HostSpec("3", "web-1", "dmz", ["10.9.35.6"], "server"),
    HostSpec("4", "scada-1", "ops", ["10.9.3.10"], "scada_server", [], ["Line A", "Line B"]),
    HostSpec("5", "plc-a", "cell-a", ["10.9.1.10"], "plc", [], ["Line A"]),
    HostSpec("6", "plc-b", "cell-b", ["10.9.2.10"], "plc", [], ["Line B"]),
    HostSpec("7", "sis-1", "sis", ["10.9.9.10"], "safety_plc", [], ["Line A"]),
]
DUAL = HostSpec("8", "hist-1", "ops", ["10.9.3.50", "10.9.4.50"], "historian")
NIC2 = HostSpec("9", "hmi-a", "cell-a", ["10.9.1.20", "10.9.1.21"], "hmi", [], ["Line A"])


def firewall(config: str) -> Device:
    ifaces = {n: Interface(n, (ipaddress.IPv4Interface(a),)) for n, a in (
        ("eth-office", "10.9.4.1/24"), ("eth-dmz", "10.9.35.1/24"), ("eth-ops", "10.9.3.1/24"),
        ("eth-cella", "10.9.1.1/24"), ("eth-cellb", "10.9.2.1/24"), ("eth-sis", "10.9.9.1/24"),
        ("eth-wan", "192.0.2.1/30"))}
    routes = [Route(ipaddress.IPv4Network("0.0.0.0/0"), None, ipaddress.IPv4Address("192.0.2.2"))]
    return Device("fw", "firewall", ifaces, routes, [parse_file(DATA / config)])


def model(config: str, extra: list[HostSpec] = ()) -> SiteModel:
    return SiteModel("tiny", ZONES, CONDUITS, HOSTS + list(extra), [firewall(config)])


def impact(keys: list[str]) -> dict:
    lines = sorted({li for h in HOSTS + [DUAL, NIC2] if h.key in keys for li in h.lines})
    return {"currency": "EUR", "cost_per_hour": 1000.0 * len(lines),
            "lines": [{"line": li, "status": "stopped", "cost_per_hour": 1000.0} for li in lines]}


@pytest.fixture(scope="module")
def bad():
    return {f.id: f for f in run_checks(model("fw-more-bad.rules", [DUAL, NIC2]), impact)}


@pytest.fixture(scope="module")
def good():
    return {f.id: f for f in run_checks(model("fw-more-good.rules", [NIC2]), impact)}


def test_seg03_remote_access_only_via_the_jump_host(bad, good):
    wide = bad["SEG-03:dmz->ops"]
    assert wide.severity == "medium" and wide.services == ["tcp/3389"]
    assert wide.witness["src"] == "10.9.35.6"  # web-1, not the jump host
    assert wide.rules[-1]["rule"].endswith("fw-more-bad.rules:10") and set(wide.assets) == {"scada-1", "hist-1"}
    direct = bad["SEG-03:office->ops"]
    assert direct.severity == "high" and direct.services == ["tcp/22"]
    assert direct.lines_at_risk and {li["line"] for li in direct.lines_at_risk} == {"Line A", "Line B"}
    internet = bad["SEG-03:internet->ops"]  # VNC from anywhere on the Internet
    assert internet.severity == "critical" and internet.services == ["tcp/5900"]
    assert not ipaddress.IPv4Address(internet.witness["src"]).is_private
    assert not [f for f in good.values() if f.check == "SEG-03"]  # the rule names the jump host only


def test_seg04_safety_zone_isolated(bad, good):
    f = bad["SEG-04:ops->sis"]
    assert f.severity == "critical" and f.services == ["tcp/502"] and f.assets == ["sis-1"]
    assert f.rules[-1]["rule"].endswith("fw-more-bad.rules:13")
    assert "SEG-04:cell-a->sis" not in bad  # its declared conduit
    assert not [f for f in good.values() if f.check == "SEG-04"]


def test_seg08_line_isolation(bad, good):
    f = bad["SEG-08:cell-a->cell-b"]
    assert f.severity == "high" and f.services == ["tcp/44818"] and f.assets == ["plc-b"]
    assert f.rules[-1]["rule"].endswith("fw-more-bad.rules:15")
    assert not [f for f in good.values() if f.check == "SEG-08"]


def test_seg10_dual_homed_hosts(bad, good):
    f = next(f for f in bad.values() if f.check == "SEG-10")
    assert f.device == "hist-1" and f.severity == "high" and (f.from_zone, f.to_zone) == ("office", "ops")
    assert f.witness["via"] == "hist-1" and f.witness["dst"] == "10.9.3.50"
    assert not [f for f in bad.values() if f.check == "SEG-10" and f.device == "hmi-a"]  # two NICs, one zone
    assert not [f for f in good.values() if f.check == "SEG-10"]


def test_attack_paths_and_fixes_on_the_good_config():
    r = attack.analyse(model("fw-more-good.rules"), "office", ["plc-a"], k=3)
    assert r.paths == [[attack.ATTACKER, "jump-1", "scada-1", "plc-a"]]
    steps = [r.edge(u, v) for u, v in zip(r.paths[0], r.paths[0][1:], strict=False)]
    assert [(e.privilege, e.via) for e in steps] == [("code", "remote-management"), ("code", "remote-management"),
                                                     ("control", "industrial")]
    assert steps[0].conduits == ["office-to-dmz"] and steps[2].services == ["tcp/102"]
    assert steps[1].rules[-1]["rule"].endswith("fw-more-good.rules:8")
    assert len(r.hosts_cut) == 1 and r.hosts_cut[0] in ("jump-1", "scada-1")
    assert len(r.rules_cut) == 1 and r.rules_verified
    assert "web-1" in r.graph.code and not any("web-1" in p for p in r.paths)  # reached by RDP, leads nowhere
    # a target nothing reaches: no paths and nothing to fix
    r = attack.analyse(model("fw-more-good.rules"), "office", ["plc-b"], k=3)
    assert r.paths == [] and r.hosts_cut == [] and r.rules_cut == []


def test_attack_paths_and_fixes_on_the_bad_config():
    r = attack.analyse(model("fw-more-bad.rules"), "office", ["plc-a", "sis-1"], k=5)
    # the direct shell on scada-1 (tcp/22) is the shortest way; the jump host chain is another shape
    assert r.paths[0] == [attack.ATTACKER, "scada-1", "plc-a"]
    assert [attack.ATTACKER, "jump-1", "scada-1", "plc-a"] in r.paths
    assert r.graph.reached == ["plc-a", "sis-1"]
    assert r.hosts_cut == ["scada-1"]  # every way to both targets crosses it
    assert r.rules_verified and len(r.rules_cut) == 2  # e.g. office->ops and one rule of the jump host chain
    # from an asset: the jump host itself
    r = attack.analyse(model("fw-more-bad.rules"), "jump-1", ["plc-a"], k=2)
    assert r.paths[0] == [attack.ATTACKER, "scada-1", "plc-a"] and r.source.host == "jump-1"


def test_vulnerability_facts_add_edges():
    # web-1 offers no shell path into ops, but a vulnerable service on plc-b gives control from cell-a
    m = model("fw-more-bad.rules")
    plain = attack.analyse(m, "cell-a", ["plc-b"], k=1)
    assert plain.paths[0] == [attack.ATTACKER, "plc-b"]  # tcp/44818 is industrial anyway
    vulns = {"4": [{"service": "tcp/22", "id": "CVE-2024-6387", "gives": "code"}]}
    r = attack.analyse(m, "office", ["scada-1"], k=1, vulns=vulns)
    assert r.edge(attack.ATTACKER, "scada-1").via in ("remote-management", "vuln:CVE-2024-6387")


def test_flow_conformance_csv():
    flows, errors = read_flow_csv((DATA / "flows-nfdump.csv").read_text(), "flows.csv")
    assert [e.place for e in errors] == ["line 7", "line 8"]  # a bad address, a short row; the rest is used
    assert "10.9.4.999" in errors[0].message and "columns" in errors[1].message
    assert len(flows) == 6 and flows[0].origin == "flows.csv:2" and flows[0].established is True
    assert flows[2].established is False  # SYN only
    verdicts, counts = Conformance(Checker(model("fw-more-good.rules"))).run(flows)
    by = {(v.flow.dst, v.flow.dport): v for v in verdicts}
    assert counts["conforms"] == 1 and counts["same-zone"] == 1 and counts["blocked-attempt"] == 1
    bypass = by[("10.9.1.10", 502)]  # established although the configs drop it
    assert bypass.kind == "bypass" and bypass.hops[-1]["action"] == "drop"
    assert by[("10.9.3.10", 22)].kind == "bypass"
    assert by[("172.31.7.7", 102)].kind == "unknown-path"
    assert ("10.9.35.5", 3389) not in by  # inside office-to-dmz and allowed: must not fire


def test_flow_conformance_outside_conduit_and_zeek():
    ck = Conformance(Checker(model("fw-more-bad.rules")))
    flows, errors = read_flows((DATA / "flows-nfdump.csv").read_bytes(), "flows.csv")
    verdicts, _ = ck.run(flows)
    v = next(v for v in verdicts if v.flow.dport == 22)
    assert v.kind == "outside-conduit" and v.rule.endswith("fw-more-bad.rules:11") and v.conduits == []
    flows, errors = read_flows((DATA / "conn.log").read_bytes(), "conn.log")
    assert not errors and len(flows) == 3 and [f.established for f in flows] == [True, True, False]
    verdicts, counts = ck.run(flows)
    assert counts["conforms"] == 1 and counts["bypass"] == 1 and counts["blocked-attempt"] == 1
    assert verdicts[0].flow.origin == "conn.log:record 2"


def test_flow_csv_without_the_needed_columns():
    with pytest.raises(InputError, match="no column for src"):
        read_flow_csv("a,b,c\n1,2,3\n", "x.csv")
    with pytest.raises(InputError, match="not UTF-8"):
        read_flows(b"\xff\xfe,,", "x.csv")


CORPUS_CONN = CORPUS / "segmentation" / "zeek" / "modbus-events.conn.log"


@pytest.mark.corpus
def test_corpus_zeek_conn_log(tmp_path):
    """The research corpus' Modbus conn.log: every record read; an engineering zone reaching the PLC zone on
    tcp/502 through a firewall that allows it, without a conduit, is outside-conduit; the PLC's reply-side session to
    the engineering host (port 4446) is denied by the config, yet established: a bypass."""
    if not CORPUS_CONN.exists():
        pytest.skip(f"{CORPUS_CONN} is absent")
    rules = tmp_path / "fw.rules"
    rules.write_text("*filter\n:FORWARD DROP [0:0]\n"
                     "-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n"
                     "-A FORWARD -i eth-eng -o eth-plc -p tcp -m tcp --dport 502 -j ACCEPT\nCOMMIT\n")
    ifaces = {n: Interface(n, (ipaddress.IPv4Interface(a),)) for n, a in (
        ("eth-eng", "10.0.0.49/28"), ("eth-plc", "10.0.0.1/28"))}
    fw = Device("fw", "firewall", ifaces, [], [parse_file(rules)])
    zones = {"eng": ZoneSpec("eng", "3", ["10.0.0.48/28"]), "plc": ZoneSpec("plc", "1", ["10.0.0.0/28"])}
    flows, errors = read_flows(CORPUS_CONN.read_bytes(), CORPUS_CONN.name)
    assert not errors and len(flows) == 9
    assert [f.established for f in flows].count(False) == 1  # the S0 attempt
    verdicts, counts = Conformance(Checker(SiteModel("c", zones, [], [], [fw]))).run(flows)
    kinds = {(v.flow.src, v.flow.dst, v.flow.dport): v.kind for v in verdicts}
    assert kinds[("10.0.0.57", "10.0.0.3", 502)] == "outside-conduit"
    assert kinds[("10.0.0.8", "10.0.0.57", 4446)] == "bypass"
    assert counts["same-zone"] == 1  # 10.0.0.9 -> 10.0.0.3 inside the PLC zone
    assert kinds[("10.1.1.234", "10.10.5.85", 502)] == "unknown-path"  # addresses in no zone


def test_attack_paths_and_checks_see_the_sender_behind_masquerade():
    """NAT hides the office behind the firewall's address; the attacker is still the host that sent."""
    plain = attack.analyse(model("fw-more-good.rules"), "office", ["plc-a"], k=3)
    masq = attack.analyse(model("fw-more-good-masq.rules"), "office", ["plc-a"], k=3)
    assert masq.paths == plain.paths == [[attack.ATTACKER, "jump-1", "scada-1", "plc-a"]]
    step = masq.edge("jump-1", "scada-1")
    assert step.witness["src"] == "10.9.35.5" and step.rules[-1]["rule"].endswith("fw-more-good-masq.rules:8")
    checks = {f.id for f in run_checks(model("fw-more-good-masq.rules"), impact)}
    assert checks == {f.id for f in run_checks(model("fw-more-good.rules"), impact)}
