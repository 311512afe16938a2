"""NAT of Linux firewalls into the model: iptables-save `*nat`, `nft list ruleset` nat chains and `nft -j` JSON.

The samples in tests/data/segmentation/nat/ are what the kernel printed: the same policy was loaded into a network
namespace with iptables-restore / `nft -f` and read back with iptables-save, `nft list ruleset` and `nft -j list
ruleset` (port forward through a user chain with a RETURN exemption, redirect, an exemption, masquerade with
fully-random, an SNAT pool with ports, plus what is reported: NETMAP, a NAT map, nat OUTPUT, an ip6 table).
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from linewatch.errors import InputError
from linewatch.segmentation.engine.model import Device, Interface, PortRange, Route
from linewatch.segmentation.engine.parsers import iptables, nft_json, nftables, parse_file
from linewatch.segmentation.engine.reach import ACCEPTED, INSUFFICIENT_INFO, Network, Service

DATA = Path(__file__).resolve().parents[1] / "data" / "segmentation" / "nat"
N = ipaddress.IPv4Network
SAMPLES = {"iptables": DATA / "router.iptables-save", "nftables": DATA / "router.nft",
           "nft-json": DATA / "router.nft.json"}


def line_of(path: Path, needle: str) -> int:
    return next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if needle in ln)


def json_rule_line(path: Path, needle: str) -> int:
    """The line where the rule object containing `needle` opens (the pretty-printed `nft -j` dump)."""
    lines = path.read_text().splitlines()
    hit = next(i for i, ln in enumerate(lines) if needle in ln)
    return next(i + 1 for i in range(hit, 0, -1) if lines[i].strip() == '"rule": {') - 1


def summary(rs) -> list[tuple]:
    return [(r.stage, r.action, int(r.origin.rsplit(":", 1)[1]), tuple(map(str, r.to_addresses)),
             (r.to_ports.lo, r.to_ports.hi) if r.to_ports else None, r.unsupported is not None, len(r.also),
             len(r.unless)) for r in rs.nat]


def test_iptables_save_nat_table():
    p = SAMPLES["iptables"]
    rs = parse_file(p)
    assert rs.format == "iptables" and rs.blocking == []
    fwd = line_of(p, "--dport 8502 -j DNAT")
    assert summary(rs) == [
        ("pre", "dnat", fwd, ("10.3.0.10/32",), (502, 502), False, 1, 1),  # via -i wan -j PORTFWD, unless the RETURN
        ("pre", "redirect", line_of(p, "REDIRECT"), (), (5353, 5353), False, 0, 0),
        ("post", "none", line_of(p, "-d 10.8.0.0/16 -j RETURN"), (), None, False, 0, 0),
        ("post", "masquerade", line_of(p, "MASQUERADE"), (), (1024, 65535), False, 0, 0),  # --random-fully
        ("post", "snat", line_of(p, "-j SNAT"), ("203.0.113.10/31", "203.0.113.12/32"), (20000, 30000), False, 0, 0),
        ("post", "none", line_of(p, "NETMAP"), (), None, True, 0, 0),
    ]
    dnat = rs.nat[0]
    assert dnat.also[0].in_ifaces == ("wan",) and dnat.unless[0].src == (N("192.0.2.66/32"),)
    assert {(u.line, u.why) for u in rs.unsupported} == {
        (line_of(p, "NETMAP"), "nat target NETMAP is not modelled"),
        (line_of(p, "-A OUTPUT"), "nat OUTPUT (translation of locally generated packets) is not modelled")}


def test_nft_text_nat_chains():
    p = SAMPLES["nftables"]
    rs = parse_file(p)
    assert rs.format == "nftables" and rs.blocking == [] and rs.chains == {}
    assert summary(rs) == [
        ("pre", "dnat", line_of(p, "dport 8502 dnat"), ("10.3.0.10/32",), (502, 502), False, 1, 1),
        ("pre", "redirect", line_of(p, "redirect to :5353"), (), (5353, 5353), False, 0, 0),
        ("pre", "dnat", line_of(p, "persistent"), ("10.3.0.20/31", "10.3.0.22/32"), (8080, 8081), False, 0, 0),
        ("pre", "none", line_of(p, "dport map"), (), None, True, 0, 0),
        ("post", "none", line_of(p, "10.8.0.0/16 accept"), (), None, False, 0, 0),
        ("post", "masquerade", line_of(p, "fully-random"), (), (1024, 65535), False, 0, 0),
        ("post", "snat", line_of(p, "snat ip to 203.0.113.10"), ("203.0.113.10/31", "203.0.113.12/32"),
         (20000, 30000), False, 0, 0),
        ("post", "snat", line_of(p, 'comment "lab"'), ("203.0.113.20/32",), None, False, 0, 0),
    ]
    whys = {u.line: u.why for u in rs.unsupported}
    assert whys == {line_of(p, "dport map"): "NAT map is not supported",
                    line_of(p, "type nat hook output") + 1: "nat output chains (translation of locally generated "
                                                            "packets) are not modelled",
                    line_of(p, "table ip6"): "ip6 tables (only IPv4 is modelled)"}


def test_nft_json_nat_chains_match_the_text():
    p = SAMPLES["nft-json"]
    rs = parse_file(p)
    text = parse_file(SAMPLES["nftables"])
    assert rs.format == "nft-json" and rs.blocking == [] and rs.chains == {}
    assert [s[:2] + s[3:] for s in summary(rs)] == [s[:2] + s[3:] for s in summary(text)]
    assert int(rs.nat[0].origin.rsplit(":", 1)[1]) == json_rule_line(p, '"port": 502')
    whys = sorted(u.why for u in rs.unsupported)
    assert whys == ["NAT map is not supported", "ip6 tables (only IPv4 is modelled)",
                    "nat output chains (translation of locally generated packets) are not modelled"]


def lab_device(*rulesets) -> Device:
    ifaces = {n: Interface(n, (ipaddress.IPv4Interface(a),)) for n, a in (
        ("wan", "203.0.113.1/24"), ("office", "10.1.0.1/24"), ("lan2", "10.2.0.1/24"), ("ot", "10.3.0.1/24"),
        ("lab4", "10.4.0.1/24"))}
    return Device("fw", "firewall", ifaces, [Route(N("0.0.0.0/0"), next_hop=ipaddress.IPv4Address("203.0.113.254"))],
                  list(rulesets))


@pytest.mark.parametrize("fmt", list(SAMPLES))
def test_the_parsed_nat_drives_the_engine(fmt):
    rs = parse_file(SAMPLES[fmt])
    filt = iptables.parse("*filter\n:FORWARD DROP [0:0]\n-A FORWARD -m state --state ESTABLISHED -j ACCEPT\n"
                          "-A FORWARD -d 10.3.0.10/32 -p tcp --dport 502 -j ACCEPT\n-A FORWARD -o wan -j ACCEPT\n"
                          "COMMIT\n", "filter.rules")
    net = Network([lab_device(rs, filt)])
    fwd = net.reach("198.51.100.7/32", "203.0.113.1/32", Service.parse("tcp/8502"))
    assert fwd.disposition == ACCEPTED
    nat = fwd.flows[0].hops[0].nat[0]
    assert (nat["action"], nat["to"]) == ("dnat", "10.3.0.10:502") and nat["rule"] == rs.nat[0].origin
    exempt = net.reach("192.0.2.66/32", "203.0.113.1/32", Service.parse("tcp/8502"))  # the RETURN in the user chain
    assert exempt.flows[0].hops[0].out_iface is None and exempt.flows[0].hops[0].nat == []
    out = net.reach("10.1.0.10/32", "198.51.100.7/32", Service.parse("tcp/443"))
    assert out.disposition == ACCEPTED and out.flows[0].hops[0].nat[0]["action"] == "masquerade"
    vpn = net.reach("10.1.0.10/32", "10.8.0.5/32", Service.parse("tcp/443"))
    assert vpn.disposition == ACCEPTED and vpn.flows[0].hops[0].nat[0]["action"] == "none"
    dns = net.reach("10.1.0.10/32", "203.0.113.9/32", Service.parse("udp/53"))
    # redirect: to the address of the interface it came in on, delivered to the firewall itself
    assert dns.flows[0].hops[0].nat[0]["to"] == "10.1.0.1:5353" and dns.flows[0].hops[0].out_iface is None
    netmap = net.reach("10.4.0.10/32", "198.51.100.7/32", Service.parse("tcp/443"))
    assert netmap.disposition == (INSUFFICIENT_INFO if fmt == "iptables" else ACCEPTED)
    nat_map = net.reach("198.51.100.7/32", "203.0.113.8/32", Service.parse("tcp/80"))
    assert (nat_map.disposition == INSUFFICIENT_INFO) == (fmt != "iptables")


@pytest.mark.parametrize("body,message", [
    ("-A PREROUTING -p tcp -j DNAT", "DNAT needs --to-destination"),
    ("-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.300", "bad DNAT target"),
    ("-A POSTROUTING -j SNAT --to-source 203.0.113.5:80", "SNAT with ports needs -p tcp"),
    ("-A PREROUTING -p tcp -j DNAT --to-destination", "needs a value"),
    ("-A PREROUTING -p tcp -j REDIRECT --to-ports 80-70", "bad REDIRECT target"),
])
def test_broken_iptables_nat_is_an_error_naming_the_line(body, message):
    with pytest.raises(InputError, match=message) as exc:
        iptables.parse(f"*nat\n:PREROUTING ACCEPT [0:0]\n{body}\nCOMMIT\n", "bad.rules")
    assert exc.value.place == "3"


def test_iptables_nat_forms_not_modelled_are_reported_and_good_rules_kept():
    text = ("*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:G - [0:0]\n"
            "-A PREROUTING -p tcp -g G\n"
            "-A PREROUTING -j nowhere\n"
            "-A PREROUTING -d 2001:db8::1/128 -p tcp -j DNAT --to-destination [2001:db8::2]:80\n"
            "-A POSTROUTING -p tcp -j DNAT --to-destination 10.0.0.1\n"
            "-A PREROUTING -p tcp -m recent --rcheck -j DNAT --to-destination 10.0.0.2\n"
            "-A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 10.0.0.3\n"
            "-A G -j ACCEPT\nCOMMIT\n")
    rs = iptables.parse(text, "odd.rules")
    why = {u.line: u.why for u in rs.unsupported}
    assert why[5] == "goto in a NAT chain is not modelled"
    assert why[6] == "jump to undefined or non-NAT chain nowhere"
    assert why[7].startswith("IPv6 address")
    assert "cannot be in stage post" in why[8]
    assert why[9] == "match module recent is not supported"
    assert rs.blocking == []
    good = [r for r in rs.nat if r.unsupported is None]
    assert [(r.action, r.origin, r.to_addresses) for r in good] == [("dnat", "odd.rules:10", (N("10.0.0.3/32"),))]
    assert {int(r.origin.rsplit(":", 1)[1]) for r in rs.nat if r.unsupported} == {5, 6, 7, 8, 9}
    assert rs.nat[-2].match.protocols == (6,)  # what was understood bounds the unknown packets


def test_nat_in_other_tables_stays_blocking():
    rs = iptables.parse("*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j MARK --set-mark 1\nCOMMIT\n", "m.rules")
    assert [u.line for u in rs.blocking] == [3]


NFT_HEAD = "table ip t {\n    chain pre {\n        type nat hook prerouting priority dstnat; policy accept;\n"


@pytest.mark.parametrize("rule,message", [
    ("tcp dport 80 dnat to", "bad NAT statement"),
    ("tcp dport 80 dnat to 10.0.0.300", "bad NAT statement"),
    ("tcp dport 80 dnat to 10.0.0.1:http-alt", "bad NAT statement"),
    ("dnat to 10.0.0.1:80", "needs a transport protocol"),
    ("tcp dport 80 masquerade to 10.0.0.1", "bad NAT statement"),
])
def test_broken_nft_nat_is_an_error_naming_the_line(rule, message):
    with pytest.raises(InputError, match=message) as exc:
        nftables.parse(NFT_HEAD + f"        {rule}\n    }}\n}}\n", "bad.nft")
    assert exc.value.place == "4"


def test_nft_nat_forms_not_modelled_are_reported():
    rules = ["tcp dport 80 dnat ip6 to [2001:db8::2]:80", "tcp dport 81 dnat to $backend", "tcp dport 82 drop",
             "tcp dport 83 goto nowhere", "tcp dport 84 dnat to 10.0.0.4:8084"]
    rs = nftables.parse(NFT_HEAD + "".join(f"        {r}\n" for r in rules) + "    }\n}\n", "odd.nft")
    why = {u.line: u.why for u in rs.unsupported}
    assert why[4] == "IPv6 translation is not supported"
    assert why[5] == "NAT to $backend is not supported"
    assert why[6] == "drop in a NAT chain is not modelled"
    assert why[7] == "goto in a NAT chain is not modelled"
    assert rs.nat[-1].to_addresses == (N("10.0.0.4/32"),) and rs.nat[-1].to_ports == PortRange(8084, 8084)
    assert rs.blocking == []


def test_two_nft_nat_chains_on_one_hook_run_in_priority_order():
    text = ("table ip t {\n    chain late {\n        type nat hook prerouting priority dstnat + 10; policy accept;\n"
            "        tcp dport 80 dnat to 10.0.0.2\n    }\n"
            "    chain early {\n        type nat hook prerouting priority dstnat; policy accept;\n"
            "        ip saddr 10.9.0.0/16 accept\n        tcp dport 80 dnat to 10.0.0.1\n    }\n}\n")
    rs = nftables.parse(text, "two.nft")
    assert [(r.origin, r.unsupported is not None) for r in rs.nat] == [("two.nft:8", True), ("two.nft:9", False),
                                                                      ("two.nft:4", False)]
    assert "followed by another NAT chain" in rs.unsupported[0].why


def nft_json_doc(expr: list) -> str:
    return json.dumps({"nftables": [
        {"table": {"family": "ip", "name": "t"}},
        {"chain": {"family": "ip", "table": "t", "name": "pre", "type": "nat", "hook": "prerouting", "prio": -100,
                   "policy": "accept"}},
        {"rule": {"family": "ip", "table": "t", "chain": "pre", "expr": expr}}]}, indent=1)


PORT80 = {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 80}}


@pytest.mark.parametrize("stmt,message", [
    ({"dnat": {"family": "ip", "addr": "10.0.0.300"}}, "bad dnat statement"),
    ({"dnat": {"family": "ip", "addr": "10.0.0.1", "port": "http"}}, "NAT port"),
    ({"masquerade": {"addr": "10.0.0.1"}}, "masquerade takes only ports"),
    ({"snat": {"family": "ip"}}, "snat needs an address or a port"),
])
def test_broken_nft_json_nat(stmt, message):
    doc = nft_json_doc([PORT80, stmt])
    if message == "NAT port":  # a port that is not a number is a construct we report, not an error
        rs = nft_json.parse(doc, "odd.json")
        assert rs.unsupported[0].why.startswith("NAT port") and rs.nat[0].unsupported is not None
        return
    with pytest.raises(InputError, match=message) as exc:
        nft_json.parse(doc, "bad.json")
    assert exc.value.place == str(line_of_text(doc, '"rule"'))


def line_of_text(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln) - 1


def test_nft_json_ipv6_translation_is_reported():
    rs = nft_json.parse(nft_json_doc([PORT80, {"dnat": {"family": "ip6", "addr": "2001:db8::2"}}]), "v6.json")
    assert rs.unsupported[0].why == "ip6 translation is not supported" and rs.nat[0].unsupported is not None
