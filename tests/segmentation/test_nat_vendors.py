"""Vendor NAT (Cisco ASA, IOS, PAN-OS, FortiOS, Juniper SRX) into the Linux-order `NatRule` model.

Samples written for these tests from each vendor's documented syntax (tests/data/segmentation/vendors/nat/) and three
Batfish test configurations (vendors/batfish/, Apache-2.0). Each test checks the parsed rules per stage in evaluation
order (action, what they match, what they translate to, the file:line they come from), that what cannot be modelled
is reported at its line without making the whole device unknown, and, end to end through `Network.reach`, that a
port forward reaches the inside server and a translated outbound flow gets its replies back.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from linewatch.segmentation.engine.model import Device, NatRule, PortRange
from linewatch.segmentation.engine.parsers import parse_file, parse_text, sniff
from linewatch.segmentation.engine.reach import ACCEPTED, DENIED_IN, INSUFFICIENT_INFO, Network, Service

VENDORS = Path(__file__).resolve().parent.parent / "data" / "segmentation" / "vendors"
DATA = VENDORS / "nat"
CLIENT = "198.51.100.7/32"


def line(path: Path, fragment: str) -> int:
    """The line of a sample holding `fragment` (exactly one)."""
    found = [i for i, ln in enumerate(path.read_text().splitlines(), 1) if fragment in ln]
    assert len(found) == 1, (fragment, found)
    return found[0]


def nets(xs) -> list[str]:
    return [str(x) for x in xs]


def row(r: NatRule) -> tuple:
    """action, origin line, src, dst, in, out, to, to_ports (None kept) and whether it is insufficient information."""
    ports = (r.to_ports.lo, r.to_ports.hi) if r.to_ports else None
    return (r.action, int(r.origin.rpartition(":")[2]), nets(r.match.src), nets(r.match.dst), r.match.in_ifaces,
            r.match.out_ifaces, nets(r.to_addresses), ports, r.unsupported is not None)


def stage(rs, name: str) -> list[tuple]:
    return [row(r) for r in rs.nat_rules(name)]


def network(path: Path) -> Network:
    rs = parse_file(path)
    return Network([Device("fw", "firewall", dict(rs.interfaces), list(rs.routes), [rs])])


def reported(rs) -> dict[int, str]:
    return {u.line: u.why for u in rs.unsupported}


@pytest.mark.parametrize("name,fmt", [("asa-nat.cfg", "cisco-asa"), ("ios-nat.cfg", "cisco-ios"),
                                      ("pan-nat.set", "paloalto"), ("forti-nat.conf", "fortios"),
                                      ("srx-nat.conf", "junos")])
def test_nat_samples_are_modelled_not_blocking_and_every_line_is_accounted_for(name, fmt):
    path = DATA / name
    text = path.read_text()
    assert sniff(text) == fmt
    rs = parse_file(path)
    assert not rs.blocking  # NAT no longer makes every answer through the device unknown
    assert any(r.action in ("dnat", "snat", "masquerade") for r in rs.nat)
    nonblank = {i for i, ln in enumerate(text.splitlines(), 1) if ln.strip()}
    assert nonblank - rs.accounted - {u.line for u in rs.unsupported} == set()
    lines = text.splitlines()
    for r in rs.nat:  # every rule names a line of the file; a rule with a problem points at a reported line
        assert r.origin.startswith(str(path)) and 1 <= int(r.origin.rpartition(":")[2]) <= len(lines)
        if r.unsupported is not None:
            assert r.unsupported in rs.unsupported and r.unsupported.file == str(path)


# --- Cisco ASA ----------------------------------------------------------------------------------------------------
def test_asa_object_and_twice_nat_in_section_order():
    p = DATA / "asa-nat.cfg"
    rs = parse_file(p)
    out, ins, dmz = ("GigabitEthernet0/0", "outside"), ("GigabitEthernet0/1", "inside"), ("GigabitEthernet0/2", "dmz")
    web = line(p, "nat (dmz,outside) static OBJ-WEB-PUBLIC")
    rdp = line(p, "static interface service tcp 3389 13389")
    pat = line(p, "nat (inside,outside) dynamic interface")
    pool = line(p, "nat (dmz,outside) dynamic OBJ-PAT-POOL")
    cell = line(p, "static OBJ-CELL-MAPPED")
    vpn = line(p, "destination static OBJ-VPN-REMOTE")
    hist_dmz = line(p, "nat (inside,dmz) source static OBJ-HIST OBJ-HIST")
    first = line(p, "nat (inside,outside) 1 source dynamic")
    after = line(p, "after-auto source dynamic any interface")
    svc = line(p, "service SVC-HTTPS SVC-HTTPS")
    bad_if = line(p, "nat (inside,nowhere)")
    # post: section 1 (the `1` rule first, then file order), section 2 (static before dynamic, fewer addresses and
    # lower address first), section 3 (after-auto)
    assert [r[1] for r in stage(rs, "post")] == [first, vpn, vpn, hist_dmz, svc, bad_if, rdp, web, cell, pat, pool,
                                                 after]
    post = {(r[1], tuple(r[2])): r for r in stage(rs, "post")}
    assert post[(first, ("10.10.0.20/32",))] == ("snat", first, ["10.10.0.20/32"], [], ins, out, ["203.0.113.21/32"],
                                                 None, False)
    assert post[(vpn, ("10.10.0.0/24",))][:4] == ("none", vpn, ["10.10.0.0/24"], ["172.16.0.0/16"])  # exemption
    assert post[(hist_dmz, ("10.10.0.20/32",))][0] == "none"  # identity NAT
    # static: the outbound half; `interface` PAT/static uses the mapped interface's own address
    assert post[(web, ("10.20.0.80/32",))] == ("snat", web, ["10.20.0.80/32"], [], dmz, out, ["203.0.113.80/32"],
                                               None, False)
    assert post[(rdp, ("10.10.0.30/32",))][6:8] == (["203.0.113.2/32"], (13389, 13389))
    assert post[(pat, ("10.10.0.0/24",))] == ("snat", pat, ["10.10.0.0/24"], [], ins, out, ["203.0.113.2/32"], None,
                                              False)
    assert post[(pool, ("10.20.0.0/24",))][6] == ["203.0.113.100/30"]
    assert post[(after, ())][:2] == ("snat", after)
    # pre: the inbound halves (port forward with the port rewritten; identity and exemption rules as none)
    pre = {r[1]: r for r in stage(rs, "pre")}
    assert pre[web] == ("dnat", web, [], ["203.0.113.80/32"], out, (), ["10.20.0.80/32"], None, False)
    assert pre[rdp] == ("dnat", rdp, [], ["203.0.113.2/32"], out, (), ["10.10.0.30/32"], (3389, 3389), False)
    rdp_rule = next(r for r in rs.nat_rules("pre") if r.origin.endswith(f":{rdp}"))
    assert rdp_rule.match.protocols == (6,) and rdp_rule.match.dports == (PortRange(13389, 13389),)
    assert pre[hist_dmz][:5] == ("none", hist_dmz, [], ["10.10.0.20/32"], dmz)


def test_asa_nat_it_cannot_model_is_reported_at_its_line_and_only_its_packets_are_unknown():
    p = DATA / "asa-nat.cfg"
    rs = parse_file(p)
    why = reported(rs)
    cell, bad_if = line(p, "static OBJ-CELL-MAPPED"), line(p, "(inside,nowhere)")
    svc = line(p, "service SVC-HTTPS SVC-HTTPS")
    v6 = line(p, "static 2001:db8:1::10")
    assert "NETMAP" in why[cell] and "service" in why[svc] and "nameif nowhere" in why[bad_if] and "IPv6" in why[v6]
    unknown = {r[1]: r for r in stage(rs, "post") if r[8]}
    assert unknown[bad_if][2] == ["10.10.0.30/32"]  # narrowed to the sources it names
    assert unknown[cell][2] == ["10.30.0.0/24"]
    assert not any(r.origin.endswith(f":{v6}") for r in rs.nat)  # IPv6 NAT cannot touch an IPv4 packet
    # legacy pre-8.3 NAT (access lists name mapped addresses) stays device-wide
    legacy = parse_text("ASA Version 8.2(5)\ninterface Gi0\n nameif inside\n security-level 100\n"
                        "nat (inside) 1 10.0.0.0 255.0.0.0\nglobal (outside) 1 interface\n", "old.cfg")
    assert [u.line for u in legacy.blocking] == [5, 6]


def test_asa_port_forward_reaches_the_server_and_pat_flows_return():
    net = network(DATA / "asa-nat.cfg")
    web = net.reach(CLIENT, "203.0.113.80/32", Service.parse("tcp/80"))
    assert web.disposition == ACCEPTED
    hop = web.flows[0].hops[0]
    assert hop.nat[0]["to"] == "10.20.0.80:80" and hop.out_iface == "GigabitEthernet0/2"
    assert hop.rule.endswith(f":{line(DATA / 'asa-nat.cfg', 'permit tcp any object OBJ-WEB eq www')}")
    # the access list names the real address (8.3+): the same port on another public address is not forwarded
    assert net.reach(CLIENT, "203.0.113.81/32", Service.parse("tcp/80")).disposition != ACCEPTED
    rdp = net.reach(CLIENT, "203.0.113.2/32", Service.parse("tcp/13389"))
    assert rdp.disposition == ACCEPTED and rdp.flows[0].hops[0].nat[0]["to"] == "10.10.0.30:3389"
    out = net.reach("10.10.0.5/32", CLIENT, Service.parse("tcp/443"))
    assert out.disposition == ACCEPTED
    assert out.flows[0].hops[0].nat[0]["to"].startswith("203.0.113.2:")
    assert out.flows[0].return_hops and out.flows[0].return_hops[-1].out_iface == "GigabitEthernet0/1"


def test_asa_batfish_object_static_nat():
    rs = parse_file(VENDORS / "batfish" / "asa-nat-object-static")
    pre = stage(rs, "pre")
    assert pre[0] == ("dnat", 34, [], ["192.168.1.1/32"], ("GigabitEthernet0/1", "outside"), (), ["1.1.1.1/32"], None,
                      False)
    assert pre[1][:7] == ("dnat", 38, [], ["192.168.3.0/32"], (), (), ["3.3.3.3/32"])  # mapped interface any
    assert [(r[1], r[8]) for r in pre[2:]] == [(36, True), (40, True)]  # a /29 mapping and a /24 onto one host
    assert sorted(reported(rs)) == [36, 40] and not rs.blocking


# --- Cisco IOS ----------------------------------------------------------------------------------------------------
def test_ios_static_and_dynamic_nat_with_interface_roles():
    p = DATA / "ios-nat.cfg"
    rs = parse_file(p)
    wan, lan = ("GigabitEthernet0/0",), ("GigabitEthernet0/1", "GigabitEthernet0/2")
    st = line(p, "source static 10.20.0.80")
    smtp = line(p, "static tcp 10.20.0.25")
    ssh = line(p, "static tcp 10.20.0.22 22 interface")
    outside = line(p, "outside source static")
    office = line(p, "list NAT-OFFICE interface")
    dmz = line(p, "list 110 pool")
    pre = stage(rs, "pre")
    assert pre[:4] == [
        ("dnat", st, [], ["198.51.100.5/32"], wan, (), ["10.20.0.80/32"], None, False),
        ("dnat", smtp, [], ["198.51.100.6/32"], wan, (), ["10.20.0.25/32"], (25, 25), False),
        ("dnat", ssh, [], ["198.51.100.2/32"], wan, (), ["10.20.0.22/32"], (22, 22), False),
        ("dnat", outside, [], ["10.99.0.10/32"], lan, (), ["192.0.2.10/32"], None, False),  # outside source: mirror
    ]
    post = stage(rs, "post")
    assert [r[1] for r in post] == [st, smtp, ssh, outside, line(p, "static network"), office, office, dmz,
                                    line(p, "list NOPE")]  # static before dynamic
    assert post[3] == ("snat", outside, ["192.0.2.10/32"], [], wan, lan, ["10.99.0.10/32"], None, False)
    # the ACL's deny exempts a host, its permit is translated to the outside interface's address
    assert post[5] == ("none", office, ["10.10.0.99/32"], [], lan, wan, [], None, False)
    assert post[6] == ("snat", office, ["10.10.0.0/24"], [], lan, wan, ["198.51.100.2/32"], None, False)
    dmz_rule = rs.nat_rules("post")[7]
    assert nets(dmz_rule.to_addresses) == ["198.51.100.8/29"] and dmz_rule.match.dports == (PortRange(443, 443),)
    why = reported(rs)
    assert "NETMAP" in why[line(p, "static network")] and "ACL NOPE" in why[line(p, "list NOPE")]
    assert post[-1][4:6] == (lan, wan) and post[-1][8]  # the undefined ACL: only inside -> outside packets unknown


def test_ios_nat_end_to_end_and_broken_pool_reported():
    net = network(DATA / "ios-nat.cfg")
    inbound = net.reach("192.0.2.99/32", "198.51.100.5/32", Service.parse("tcp/443"))
    assert inbound.disposition == ACCEPTED and inbound.flows[0].hops[0].nat[0]["to"] == "10.20.0.80:443"
    out = net.reach("10.10.0.5/32", "192.0.2.99/32", Service.parse("tcp/443"))
    assert out.disposition == ACCEPTED and out.flows[0].hops[0].nat[0]["to"].startswith("198.51.100.2:")
    assert out.flows[0].return_hops
    rs = parse_text("hostname r\ninterface Gi0\n ip nat outside\ninterface Gi1\n ip nat inside\n"
                    "ip nat pool P 10.0.0.9 10.0.0.1 netmask 255.255.255.0\nip nat inside source list 1 pool P\n"
                    "access-list 1 permit 10.1.0.0 0.0.0.255\n", "p.cfg")
    assert reported(rs)[6].startswith("NAT pool") and "pool P is not defined" in reported(rs)[7]


def test_ios_batfish_nat_static():
    rs = parse_file(VENDORS / "batfish" / "ios-nat-static")
    ok = [r for r in rs.nat if r.unsupported is None]
    assert [(r.stage, r.action, nets(r.match.dst or r.match.src), nets(r.to_addresses)) for r in ok] == [
        ("pre", "dnat", ["7.7.7.7/32"], ["6.6.6.6/32"]), ("post", "snat", ["6.6.6.6/32"], ["7.7.7.7/32"])]
    why = reported(rs)
    assert "route-map" in why[27] and "vrf" in why[33] and "vrf" in why[34] and "NETMAP" in why[29]


# --- Palo Alto ----------------------------------------------------------------------------------------------------
def test_panos_nat_rules_first_match_zones_and_translations():
    p = DATA / "pan-nat.set"
    rs = parse_file(p)
    e1, e2, e3 = ("ethernet1/1",), ("ethernet1/2",), ("ethernet1/3",)
    web, hist = line(p, "web-in from untrust"), line(p, "hist-static from trust")
    office, dmz = line(p, "office-out from trust"), line(p, "dmz-out from dmz")
    pre = {(r[1], r[0]): r for r in stage(rs, "pre")}
    # destination translation with port; the `to untrust` zone is where the original destination routes
    assert pre[(web, "dnat")] == ("dnat", web, [], ["203.0.113.80/32"], e1, (), ["10.20.0.80/32"], (80, 80), False)
    # a source-only rule is the first match for its packets: stage pre none, restricted to what routes out untrust
    routed = pre[(office, "none")][3]
    assert "10.10.0.0/24" not in routed and "10.20.0.0/24" not in routed
    assert all(not ipaddress.IPv4Network(n).overlaps(ipaddress.IPv4Network("10.10.0.0/24")) for n in routed)
    # bi-directional static-ip: the inbound half
    assert pre[(hist, "dnat")] == ("dnat", hist, [], ["203.0.113.20/32"], e1, (), ["10.10.0.20/32"], None, False)
    post = {(r[1], r[0]): r for r in stage(rs, "post")}
    assert post[(web, "none")][3] == ["10.20.0.80/32"]  # after its destination translation
    assert post[(hist, "snat")][2:7] == (["10.10.0.20/32"], routed, e2, e1, ["203.0.113.20/32"])
    assert post[(office, "snat")][6] == ["203.0.113.2/32"]  # interface-address: ethernet1/1's address
    assert post[(dmz, "snat")][4:7] == (e3, e1, ["203.0.113.100/30"])
    why = reported(rs)
    v6, broken = line(p, "v6-out nat-type nat64"), line(p, "broken from nowhere")
    assert "IPv6" in why[v6] and "nowhere" in why[broken]
    assert not any(r.origin.endswith(f":{v6}") for r in rs.nat)
    assert not any(r.origin.endswith(f":{line(p, 'old disabled yes')}") for r in rs.nat)


def test_panos_security_rule_on_the_pre_nat_address_allows_the_translated_flow():
    p = DATA / "pan-nat.set"
    net = network(p)
    web = net.reach(CLIENT, "203.0.113.80/32", Service.parse("tcp/8080"))
    assert web.disposition == ACCEPTED
    hop = web.flows[0].hops[0]
    assert hop.nat[0]["to"] == "10.20.0.80:80" and hop.out_iface == "ethernet1/3"
    assert hop.rule.endswith(f":{line(p, 'allow-web from untrust')}")  # the rule naming web-public, tcp-8080
    # without translation the rule does not apply: the public address on another port is not the server
    assert net.reach(CLIENT, "203.0.113.80/32", Service.parse("tcp/80")).disposition != ACCEPTED
    out = net.reach("10.10.0.5/32", CLIENT, Service.parse("tcp/443"))
    assert out.disposition == ACCEPTED and out.flows[0].return_hops
    assert out.flows[0].hops[0].nat[-1]["to"].startswith("203.0.113.2:")


def test_panos_xml_nat_rule_and_batfish_destination_nat():
    xml = """<config><devices><entry name="localhost.localdomain"><network><interface><ethernet>
<entry name="ethernet1/1"><layer3><ip><entry name="203.0.113.2/24"/></ip></layer3></entry>
<entry name="ethernet1/2"><layer3><ip><entry name="10.10.0.1/24"/></ip></layer3></entry>
</ethernet></interface></network><vsys><entry name="vsys1">
<zone><entry name="untrust"><network><layer3><member>ethernet1/1</member></layer3></network></entry>
<entry name="trust"><network><layer3><member>ethernet1/2</member></layer3></network></entry></zone>
<rulebase><nat><rules><entry name="out">
<from><member>trust</member></from><to><member>untrust</member></to>
<source><member>any</member></source><destination><member>203.0.113.0/24</member></destination>
<service>any</service>
<source-translation><dynamic-ip-and-port><interface-address><interface>ethernet1/1</interface>
</interface-address></dynamic-ip-and-port></source-translation>
</entry></rules></nat></rulebase></entry></vsys></entry></devices></config>
"""
    rs = parse_text(xml, "pa.xml")
    assert rs.format == "paloalto-xml" and not rs.unsupported
    assert stage(rs, "post") == [("snat", 8, [], ["203.0.113.0/24"], ("ethernet1/2",), ("ethernet1/1",),
                                  ["203.0.113.2/32"], None, False)]
    bf = parse_file(VENDORS / "batfish" / "pan-destination-nat")
    pre = stage(bf, "pre")
    inside = ["1.1.1.0/24", "1.1.2.0/24"]  # `to INSIDE` with destination any: what routes into INSIDE
    assert [(r[0], r[2], r[3], r[6], r[7]) for r in pre] == [
        ("dnat", ["1.2.1.2/32"], inside, ["1.1.1.99/32"], None),
        ("dnat", ["1.2.1.2/32"], inside, ["11.11.11.11/32"], None),  # shadowed by the first: first match wins
        ("dnat", ["1.2.1.22/32"], inside, ["1.1.1.99/32"], (1234, 1234))]


# --- FortiOS ------------------------------------------------------------------------------------------------------
def test_fortios_vips_pools_and_policy_nat():
    p = DATA / "forti-nat.conf"
    rs = parse_file(p)
    vip = line(p, 'edit "web-vip"')
    hist = line(p, 'edit "hist-vip"')
    pre = stage(rs, "pre")
    assert pre == [("dnat", vip, [], ["203.0.113.80/32"], ("port1",), (), ["10.20.0.80/32"], (80, 80), False),
                   ("dnat", hist, [], ["203.0.113.20/32"], (), (), ["10.10.0.20/32"], None, False)]
    unused = line(p, 'edit "unused-vip"')
    assert not any(r.origin.endswith(f":{unused}") for r in rs.nat)  # no policy names it
    post = stage(rs, "post")
    names = ("web-in", "office-out", "dmz-out", "hist-in", "range-in", "broken-pool")
    policy = {n: line(p, f'set name "{name}"') - 1 for n, name in enumerate(names, 1)}  # its `edit N` line
    # nat-source-vip, then one rule per accept policy in policy order (none where the policy does not translate)
    assert [r[1] for r in post] == [hist, policy[1], policy[2], policy[3], policy[4], policy[5], policy[6]]
    assert post[0] == ("snat", hist, ["10.10.0.20/32"], [], (), (), ["203.0.113.20/32"], None, False)
    assert post[1][:4] == ("none", policy[1], [], ["10.20.0.80/32"])  # the VIP policy sees the mapped address
    assert post[2] == ("masquerade", policy[2], ["10.10.0.0/24"], [], ("port2",), ("port1",), [], None, False)
    assert post[3] == ("snat", policy[3], [], [], ("port3",), ("port1",), ["203.0.113.100/30"], None, False)
    assert post[6][0] == "none" and post[6][8]  # undefined pool: insufficient information
    why = reported(rs)
    assert "NETMAP" in why[line(p, 'edit "range-vip"')] and "vip range-vip is not modelled" in why[
        line(p, 'set dstaddr "range-vip"')]
    assert "IPv6" in why[line(p, 'edit "v6-web"')] and "ippool nope" in why[line(p, 'set poolname "nope"')]
    central = parse_text("config firewall central-snat-map\n    edit 1\n        set srcintf \"port2\"\n    next\nend\n",
                         "c.conf")
    assert [u.line for u in central.blocking] == [2]


def test_fortios_port_forward_and_pool_snat_end_to_end():
    net = network(DATA / "forti-nat.conf")
    web = net.reach(CLIENT, "203.0.113.80/32", Service.parse("tcp/8080"))
    assert web.disposition == ACCEPTED and web.flows[0].hops[0].nat[0]["to"] == "10.20.0.80:80"
    assert net.reach(CLIENT, "203.0.113.80/32", Service.parse("tcp/8081")).disposition != ACCEPTED
    office = net.reach("10.10.0.5/32", CLIENT, Service.parse("tcp/443"))  # nat enable: the port1 address, and back
    assert office.disposition == ACCEPTED and office.flows[0].return_hops
    assert office.flows[0].hops[0].nat[-1]["to"].startswith("203.0.113.2:")
    dmz = net.reach("10.20.0.5/32", CLIENT, Service.parse("tcp/443"))  # ippool: translated to the pool
    assert dmz.flows[0].hops[0].action == "accept" and dmz.flows[0].hops[0].nat[-1]["to"].startswith("203.0.113.100:")
    # replies to the pool address (on the outside segment, not an interface address) are answered by the firewall
    assert dmz.disposition == ACCEPTED and dmz.flows[0].return_hops[0].out_iface == "port3"
    # office -> dmz passes (policy 4) without translation
    lan = net.reach("10.10.0.5/32", "10.20.0.80/32", Service.parse("tcp/22"))
    assert lan.disposition in (ACCEPTED, INSUFFICIENT_INFO) and not lan.flows[0].hops[0].nat[-1].get("to")


# --- Juniper SRX --------------------------------------------------------------------------------------------------
def test_srx_static_destination_and_source_rule_sets():
    p = DATA / "srx-nat.conf"
    rs = parse_file(p)
    untrust, trust, dmz = ("ge-0/0/0.0",), ("ge-0/0/1.0",), ("ge-0/0/2.0",)
    hist = line(p, "rule hist match")
    web = line(p, "rule web match destination-address")
    no_nat, office = line(p, "rule no-nat-hist match source-address"), line(p, "rule office-pat match")
    pool = line(p, "rule dmz-pool match")
    pre = stage(rs, "pre")
    assert pre[0] == ("dnat", hist, [], ["203.0.113.20/32"], untrust, (), ["10.10.0.20/32"], None, False)  # static
    assert pre[1] == ("dnat", web, [], ["203.0.113.80/32"], untrust, (), ["10.20.0.80/32"], (80, 80), False)
    web_rule = rs.nat_rules("pre")[1]
    assert web_rule.match.protocols == (6,) and web_rule.match.dports == (PortRange(8080, 8080),)
    post = stage(rs, "post")
    assert post[0] == ("snat", hist, ["10.10.0.20/32"], [], (), untrust, ["203.0.113.20/32"], None, False)
    assert post[1] == ("none", no_nat, ["10.10.0.20/32"], ["0.0.0.0/0"], trust, untrust, [], None, False)
    assert post[2] == ("masquerade", office, ["10.10.0.0/24"], [], trust, untrust, [], None, False)
    assert post[3] == ("snat", pool, ["10.20.0.0/24"], [], dmz, untrust, ["203.0.113.100/30"], None, False)
    why = reported(rs)
    assert "IPv6" in why[line(p, "rule v6 match")] and "routing-instance" in why[line(p, "rule all match")]
    assert "missing-pool" in why[line(p, "rule bad match")]
    bad = next(r for r in rs.nat_rules("pre") if r.unsupported is not None)
    assert nets(bad.match.dst) == ["203.0.113.81/32"] and bad.match.in_ifaces == untrust  # narrowed
    assert post[-1][5] == untrust and post[-1][8]  # routing-instance context: only what leaves to untrust


def test_srx_destination_nat_end_to_end():
    net = network(DATA / "srx-nat.conf")
    web = net.reach(CLIENT, "203.0.113.80/32", Service.parse("tcp/8080"))
    assert web.disposition == ACCEPTED and web.flows[0].hops[0].nat[0]["to"] == "10.20.0.80:80"
    assert net.reach(CLIENT, "203.0.113.81/32", Service.parse("tcp/80")).disposition in (INSUFFICIENT_INFO,
                                                                                            DENIED_IN)
    out = net.reach("10.10.0.5/32", CLIENT, Service.parse("tcp/443"))
    assert out.disposition == ACCEPTED and out.flows[0].return_hops


def test_panos_security_rule_naming_part_of_a_translated_destination_is_insufficient_information():
    text = (DATA / "pan-nat.set").read_text().replace(
        "set rulebase nat rules web-in destination web-public\n",
        "set rulebase nat rules web-in destination [ web-public 203.0.113.81 ]\n")
    rs = parse_text(text, "p.set")
    allow = line(DATA / "pan-nat.set", "allow-web from untrust")
    assert "part of its original destinations" in reported(rs)[allow]
    net = Network([Device("fw", "firewall", dict(rs.interfaces), list(rs.routes), [rs])])
    # the server is reached through .80 (named by the rule) or .81 (not named): the filter cannot tell them apart
    assert net.reach(CLIENT, "203.0.113.81/32", Service.parse("tcp/8080")).disposition == INSUFFICIENT_INFO
