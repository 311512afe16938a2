"""Vendor parsers (Cisco IOS ACL + ZBF, ASA, PAN-OS set/XML, FortiOS, Junos SRX, nft -j) on real-format samples
written for these tests (tests/data/segmentation/vendors/) and on broken input.

Each semantic test asks for specific packets' decisions through `model.evaluate` (the first-match reference) and
checks the BDD compilation used by reachability gives the same verdict, so both engines read the parsed model alike.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from linewatch.errors import InputError
from linewatch.segmentation.engine.bdd import PacketSpace, compile_device
from linewatch.segmentation.engine.model import Device, Interface, Packet, evaluate
from linewatch.segmentation.engine.parsers import parse_file, parse_text, sniff
from linewatch.segmentation.engine.reach import ACCEPTED, DENIED_IN, INSUFFICIENT_INFO, NO_RETURN, Network, Service

DATA = Path(__file__).resolve().parent.parent / "data" / "segmentation" / "vendors"


def device(rs, ifaces: dict[str, str] | None = None) -> Device:
    """A firewall with the parsed rule set; interfaces from the config unless given (name -> address/len)."""
    if ifaces is None:
        inter = dict(rs.interfaces)
    else:
        inter = {n: Interface(n, (ipaddress.IPv4Interface(a),)) for n, a in ifaces.items()}
    return Device("fw", "firewall", inter, [], [rs])


def decide(dev: Device, src: str, dst: str, proto: str, dport: int, in_if: str, out_if: str,
           state: str = "NEW", sport: int = 40000) -> str:
    """The verdict for one packet; asserts the BDD compilation agrees with the first-match evaluator."""
    p = Packet(int(ipaddress.IPv4Address(src)), int(ipaddress.IPv4Address(dst)),
               {"tcp": 6, "udp": 17, "icmp": 1}[proto], sport if proto != "icmp" else 0,
               dport if proto != "icmp" else 0, state, in_if, out_if)
    d = evaluate(dev, "forward", p)
    sp = PacketSpace()
    names = sorted({*dev.interfaces, in_if, out_if})
    idx = {n: i + 1 for i, n in enumerate(names)}
    for rs in dev.rulesets:
        for c in rs.chains.values():
            for r in c.rules:
                for n in r.match.in_ifaces + r.match.out_ifaces:
                    idx.setdefault(n, len(idx) + 1)
    sets = compile_device(sp, dev, "forward", idx)
    pkt = sp.packet(p) & sp.iface("ii", idx[in_if]) & sp.iface("oi", idx[out_if])
    bdd = next((k for k, v in sets.items() if pkt & v != sp.false), "drop")
    action = d.action + (f":{d.reject_with}" if d.action == "reject" else "")
    assert bdd == action, (bdd, action, d)
    return action


def origin_line(dev: Device, *args, **kw) -> int:
    p = Packet(int(ipaddress.IPv4Address(args[0])), int(ipaddress.IPv4Address(args[1])),
               {"tcp": 6, "udp": 17, "icmp": 1}[args[2]], kw.get("sport", 40000), args[3], kw.get("state", "NEW"),
               args[4], args[5])
    return int(evaluate(dev, "forward", p).origin.rpartition(":")[2])


def lines_accounted(rs, text: str) -> set[int]:
    """Non-blank lines neither used, known to be irrelevant, nor reported (must be empty)."""
    nonblank = {i for i, ln in enumerate(text.splitlines(), 1) if ln.strip()}
    return nonblank - rs.accounted - {u.line for u in rs.unsupported}


# --- detection ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,fmt", [
    ("ios-acl.cfg", "cisco-ios"), ("ios-zbf.cfg", "cisco-ios"), ("asa-plant.cfg", "cisco-asa"),
    ("pan-plant.set", "paloalto"), ("pan-plant.xml", "paloalto"), ("forti-plant.conf", "fortios"),
    ("srx-plant.conf", "junos"), ("nft-plant.json", "nft-json"),
])
def test_format_is_detected_and_every_line_is_accounted_for(name, fmt):
    text = (DATA / name).read_text()
    assert sniff(text) == fmt
    rs = parse_file(DATA / name)
    assert rs.format.startswith(fmt.split("-")[0])
    assert lines_accounted(rs, text) == set()
    lines = text.splitlines()
    for u in rs.unsupported:  # each report names a real line of the file, holding the construct
        assert 1 <= u.line <= len(lines) and u.file == str(DATA / name)


def test_explicit_format_overrides_detection_and_unknown_format_is_refused():
    text = (DATA / "ios-acl.cfg").read_text()
    assert parse_text(text, "x.cfg", "cisco-ios").format == "cisco-ios"
    with pytest.raises(InputError, match="unknown format 'vyos'"):
        parse_text(text, "x.cfg", "vyos")


# --- Cisco IOS ACLs ------------------------------------------------------------------------------------------------
def test_ios_acl_first_match_object_groups_established_and_implicit_deny():
    dev = device(parse_file(DATA / "ios-acl.cfg"))
    gi0, gi1, gi2 = "GigabitEthernet0/0", "GigabitEthernet0/1", "GigabitEthernet0/2"
    # first match: the deny for one host comes before the permit for its subnet
    assert decide(dev, "10.10.0.66", "10.20.0.10", "tcp", 443, gi0, gi2) == "drop"
    assert origin_line(dev, "10.10.0.66", "10.20.0.10", "tcp", 443, gi0, gi2) == 30
    assert decide(dev, "10.10.0.5", "10.20.0.10", "tcp", 443, gi0, gi2) == "accept"  # object-group host
    assert decide(dev, "10.10.0.5", "10.20.1.77", "tcp", 443, gi0, gi2) == "accept"  # object-group subnet member
    assert decide(dev, "10.10.0.5", "10.20.0.11", "tcp", 443, gi0, gi2) == "drop"  # not in the group
    assert origin_line(dev, "10.10.0.5", "10.20.0.11", "tcp", 443, gi0, gi2) == 28  # implicit deny: the ACL header
    # established: replies of TCP only
    assert decide(dev, "10.10.0.5", "10.20.0.10", "tcp", 40000, gi0, gi2, state="ESTABLISHED", sport=22) == "accept"
    assert decide(dev, "10.10.0.5", "10.20.0.10", "udp", 53, gi0, gi2, state="ESTABLISHED") == "drop"
    # an ICMP-type entry is insufficient information for ICMP, not for TCP
    assert decide(dev, "10.10.0.5", "10.20.0.10", "icmp", 0, gi0, gi2) == "unknown"
    # outbound ACL on the cell: service object-group as the protocol (tcp/502, 44818-44819) from the historians
    assert decide(dev, "10.20.0.10", "10.30.0.5", "tcp", 502, gi2, gi1) == "accept"
    assert decide(dev, "10.20.0.10", "10.30.0.5", "tcp", 44819, gi2, gi1) == "accept"
    assert decide(dev, "10.20.0.10", "10.30.0.5", "tcp", 102, gi2, gi1) == "drop"
    assert decide(dev, "10.20.2.10", "10.30.0.5", "tcp", 502, gi2, gi1) == "drop"
    # traffic between interfaces without ACLs passes
    assert decide(dev, "10.20.0.10", "10.10.0.5", "tcp", 22, gi2, gi0) == "accept"
    rs = dev.rulesets[0]
    assert [str(r.next_hop) for r in rs.routes] == ["10.10.0.254"]
    assert str(rs.interfaces[gi1].addresses[0]) == "10.30.0.1/24"


def test_ios_cbac_makes_the_device_insufficient_information_and_nat_becomes_nat_rules():
    rs = parse_text("hostname r\ninterface Gi0\n ip address 10.0.0.1 255.255.255.0\n ip inspect FW out\n"
                    "ip nat inside source static 10.0.0.5 192.0.2.5\n", "nat.cfg")
    assert sorted((u.line, u in rs.blocking) for u in rs.unsupported) == [(4, True)]
    assert [(r.stage, r.action, r.origin) for r in rs.nat] == [("pre", "dnat", "nat.cfg:5"),
                                                                ("post", "snat", "nat.cfg:5")]
    dev = device(rs)
    assert evaluate(dev, "forward", Packet(1, 2, 6, 1, 2)).action == "unknown"


def test_ios_undefined_groups_and_noncontiguous_wildcards_are_reported_at_their_line():
    text = ("hostname r\nip access-list extended A\n permit tcp any object-group NOPE eq 22\n"
            " permit ip 10.0.0.0 0.255.0.255 any\n permit tcp any any eq 22 time-range WORK\n"
            " permit ip any any\ninterface Gi0\n ip access-group A in\n")
    rs = parse_text(text, "bad.cfg")
    assert [u.line for u in rs.unsupported] == [3, 4, 5]
    assert "NOPE" in rs.unsupported[0].why and "wildcard" in rs.unsupported[1].why
    assert "time-range" in rs.unsupported[2].why
    dev = device(rs, {"Gi0": "10.0.0.1/24", "Gi1": "10.1.0.1/24"})
    assert decide(dev, "10.0.0.5", "10.1.0.5", "tcp", 22, "Gi0", "Gi1") == "unknown"  # line 3 might match
    assert decide(dev, "10.0.0.5", "10.1.0.5", "tcp", 80, "Gi0", "Gi1") == "unknown"  # line 4 might match


# --- Cisco zone-based firewall --------------------------------------------------------------------------------------
def test_ios_zbf_zone_pairs_inspect_pass_drop_and_defaults():
    dev = device(parse_file(DATA / "ios-zbf.cfg"))
    office, dmz, cell, lab, lab2 = (f"GigabitEthernet{i}" for i in range(1, 6))
    # match-all: ACL permit AND protocol tcp; the ACL's deny falls through to class-default drop
    assert decide(dev, "10.20.0.10", "10.30.0.5", "tcp", 502, dmz, cell) == "accept"
    assert decide(dev, "10.20.0.5", "10.30.0.99", "tcp", 502, dmz, cell) == "drop"
    assert decide(dev, "10.20.0.5", "10.30.0.7", "tcp", 8080, dmz, cell) == "accept"  # third ACL line
    assert decide(dev, "10.20.0.10", "10.30.0.5", "udp", 502, dmz, cell) == "drop"  # not tcp
    # inspect: the reply returns; no zone-pair CELL->DMZ for new traffic
    assert decide(dev, "10.30.0.5", "10.20.0.10", "tcp", 40000, cell, dmz, state="ESTABLISHED", sport=502) == "accept"
    assert decide(dev, "10.30.0.5", "10.20.0.10", "tcp", 502, cell, dmz) == "drop"
    # match-any over application protocols; replies of the inspected class return, those of the pass class do not
    assert decide(dev, "10.10.0.5", "10.20.0.10", "tcp", 443, office, dmz) == "accept"
    assert decide(dev, "10.10.0.5", "10.20.0.10", "udp", 53, office, dmz) == "accept"
    assert decide(dev, "10.10.0.5", "10.20.0.10", "tcp", 22, office, dmz) == "drop"
    assert decide(dev, "10.10.0.5", "10.20.0.10", "icmp", 0, office, dmz) == "accept"  # pass
    assert decide(dev, "10.20.0.10", "10.10.0.5", "tcp", 40000, dmz, office, state="ESTABLISHED",
                  sport=443) == "accept"
    assert decide(dev, "10.20.0.10", "10.10.0.5", "tcp", 40000, dmz, office, state="ESTABLISHED",
                  sport=22) == "drop"  # not a reply of an inspected session
    assert decide(dev, "10.20.0.10", "10.10.0.5", "icmp", 0, dmz, office, state="ESTABLISHED") == "drop"
    # the reply of a polled PLC through the match-all class (ACL + tcp): only from the polled port
    assert decide(dev, "10.30.0.5", "10.20.0.10", "tcp", 40000, cell, dmz, state="ESTABLISHED", sport=8080) \
        == "accept"  # third ACL line: any port from 10.20.0.0/24
    assert decide(dev, "10.30.0.99", "10.20.0.5", "tcp", 40000, cell, dmz, state="ESTABLISHED", sport=502) \
        == "drop"  # the ACL's deny for 10.30.0.99
    # no zone-pair OFFICE->CELL: dropped; zone to non-zone dropped; non-zone to non-zone passes
    assert decide(dev, "10.10.0.5", "10.30.0.5", "tcp", 502, office, cell) == "drop"
    assert decide(dev, "10.10.0.5", "10.40.0.5", "tcp", 80, office, lab) == "drop"
    assert decide(dev, "10.40.0.5", "10.10.0.5", "tcp", 80, lab, office) == "drop"
    assert decide(dev, "10.40.0.5", "10.41.0.5", "tcp", 80, lab, lab2) == "accept"


def test_ios_zbf_stateful_return_through_reachability():
    """Through the BDD reachability engine: DMZ->CELL modbus is ACCEPTED with its reply (inspect)."""
    dev = device(parse_file(DATA / "ios-zbf.cfg"))
    net = Network([dev])
    ans = net.reach(["10.20.0.10/32"], ["10.30.0.5/32"], Service.parse("tcp/502"))
    assert ans.disposition == ACCEPTED
    ans = net.reach(["10.30.0.5/32"], ["10.20.0.10/32"], Service.parse("tcp/502"))
    assert ans.disposition == DENIED_IN
    ans = net.reach(["10.10.0.5/32"], ["10.20.0.10/32"], Service.parse("tcp/443"))
    assert ans.disposition == ACCEPTED
    ans = net.reach(["10.10.0.5/32"], ["10.20.0.10/32"], Service.parse("icmp"))
    assert ans.disposition == NO_RETURN  # `pass` lets it through one way only


# --- Cisco ASA ---------------------------------------------------------------------------------------------------
def test_asa_access_group_objects_names_security_levels_and_state():
    dev = device(parse_file(DATA / "asa-plant.cfg"))
    out_, in_, dmz, dmz2 = (f"GigabitEthernet0/{i}" for i in range(4))
    # outside has an ACL: first match (deny one partner), object-group expansion, `name` alias, implicit deny
    assert decide(dev, "203.0.113.7", "10.20.0.80", "tcp", 443, out_, dmz) == "drop"
    assert decide(dev, "203.0.113.7", "10.20.0.80", "tcp", 80, out_, dmz) == "accept"
    assert decide(dev, "198.51.100.9", "10.20.0.80", "tcp", 443, out_, dmz) == "accept"
    assert decide(dev, "198.51.100.9", "10.20.0.80", "tcp", 22, out_, dmz) == "drop"
    assert decide(dev, "192.0.2.50", "10.20.0.10", "tcp", 443, out_, dmz) == "accept"  # host historian
    assert decide(dev, "192.0.2.50", "10.10.0.5", "tcp", 443, out_, in_) == "drop"
    # no ACL on inside (100): to lower levels passes; dmz (50) to inside (100) does not
    assert decide(dev, "10.10.0.5", "192.0.2.50", "tcp", 443, in_, out_) == "accept"
    assert decide(dev, "10.10.0.5", "10.20.0.80", "udp", 53, in_, dmz) == "accept"
    assert decide(dev, "10.20.0.80", "10.10.0.5", "tcp", 22, dmz, in_) == "drop"
    # same security level (dmz, dmz2 at 50) needs same-security-traffic permit inter-interface
    assert decide(dev, "10.20.0.80", "10.21.0.5", "tcp", 22, dmz, dmz2) == "drop"
    # stateful: the reply of an inside connection comes back in on outside
    assert decide(dev, "192.0.2.50", "10.10.0.5", "tcp", 40000, out_, in_, state="ESTABLISHED", sport=443) == "accept"
    # the interface can be named by nameif too
    assert decide(dev, "10.10.0.5", "192.0.2.50", "tcp", 443, "inside", "outside") == "accept"
    rs = dev.rulesets[0]
    assert [(str(r.prefix), r.interface, str(r.next_hop)) for r in rs.routes] == [("0.0.0.0/0", "outside",
                                                                                  "192.0.2.1")]


def test_asa_same_security_permit_and_object_nat_becomes_nat_rules():
    base = ("ASA Version 9.8\nhostname a\ninterface Gi0\n nameif a\n security-level 50\n ip address 10.0.0.1 "
            "255.255.255.0\ninterface Gi1\n nameif b\n security-level 50\n ip address 10.1.0.1 255.255.255.0\n")
    dev = device(parse_text(base + "same-security-traffic permit inter-interface\n", "a.cfg"))
    assert decide(dev, "10.0.0.5", "10.1.0.5", "tcp", 22, "Gi0", "Gi1") == "accept"  # same level, permitted
    dev = device(parse_text(base, "a.cfg"))
    assert decide(dev, "10.0.0.5", "10.1.0.5", "tcp", 22, "Gi0", "Gi1") == "drop"  # same level, not permitted
    rs = parse_text(base + "object network X\n host 10.0.0.5\n nat (a,b) static 10.1.0.99\n", "n.cfg")
    assert not rs.blocking and [(r.stage, r.action, r.origin) for r in rs.nat] == [("pre", "dnat", "n.cfg:13"),
                                                                                   ("post", "snat", "n.cfg:13")]


# --- Palo Alto ---------------------------------------------------------------------------------------------------
def test_panos_rules_zones_groups_services_and_defaults():
    dev = device(parse_file(DATA / "pan-plant.set"))
    e1, e2, e3, e4 = (f"ethernet1/{i}" for i in range(1, 5))
    # first match: the engineering workstation is reset before the web rule; rule order is file order
    assert decide(dev, "10.10.0.50", "10.20.0.10", "tcp", 443, e1, e2) == "reject:tcp-reset"
    assert decide(dev, "10.10.0.51", "10.20.0.10", "tcp", 443, e1, e2) == "accept"
    assert decide(dev, "10.10.0.51", "10.20.0.10", "tcp", 80, e1, e2) == "drop"  # interzone-default deny
    # address-group of an ip-range, service-group with a predefined service, zone with two interfaces
    assert decide(dev, "10.20.0.10", "10.30.0.15", "tcp", 502, e2, e3) == "accept"
    assert decide(dev, "10.20.0.10", "10.30.0.15", "tcp", 443, e2, e3) == "accept"
    assert decide(dev, "10.20.0.10", "10.30.0.25", "tcp", 502, e2, e3) == "drop"
    # intrazone-default allow (ethernet1/3 and 1/4 are both zone ot)
    assert decide(dev, "10.30.0.5", "10.31.0.5", "udp", 2222, e3, e4) == "accept"
    # an App-ID rule: office -> ot is insufficient information, not a guess
    assert decide(dev, "10.10.0.5", "10.30.0.15", "tcp", 502, e1, e3) == "unknown"
    # stateful: replies of allowed sessions
    assert decide(dev, "10.30.0.15", "10.20.0.10", "tcp", 40000, e3, e2, state="ESTABLISHED", sport=502) == "accept"


def test_panos_xml_parses_into_the_same_model():
    dev = device(parse_file(DATA / "pan-plant.xml"))
    assert set(dev.interfaces) == {"ethernet1/1", "ethernet1/2"}
    assert decide(dev, "10.10.0.5", "10.20.0.10", "tcp", 443, "ethernet1/1", "ethernet1/2") == "accept"
    assert origin_line(dev, "10.10.0.5", "10.20.0.10", "tcp", 443, "ethernet1/1", "ethernet1/2") == 54
    assert decide(dev, "10.10.0.5", "10.20.0.11", "tcp", 443, "ethernet1/1", "ethernet1/2") == "drop"


def test_panos_default_override_and_unresolvable_nat_rule_reported():
    text = ("set zone a network layer3 ethernet1/1\nset zone b network layer3 ethernet1/2\n"
            "set rulebase default-security-rules rules interzone-default action allow\n"
            "set rulebase nat rules N1 from a\nset rulebase nat rules N1 to b\n")
    rs = parse_text(text, "p.set")
    # no routes to tell where the `to` zone's destinations are: reported once, at the rule's first line
    assert not rs.blocking and [u.line for u in rs.unsupported] == [4]
    rs = parse_text(text.split("set rulebase nat")[0], "p.set")
    dev = device(rs, {"ethernet1/1": "10.0.0.1/24", "ethernet1/2": "10.1.0.1/24"})
    assert decide(dev, "10.0.0.5", "10.1.0.5", "tcp", 22, "ethernet1/1", "ethernet1/2") == "accept"


# --- FortiOS -----------------------------------------------------------------------------------------------------
def test_fortios_policy_order_zones_groups_services_and_implicit_deny():
    dev = device(parse_file(DATA / "forti-plant.conf"))
    # policies in listed order (edit 7 before 3), not by number
    assert decide(dev, "10.10.0.5", "10.20.0.10", "tcp", 22, "port1", "port2") == "drop"
    assert origin_line(dev, "10.10.0.5", "10.20.0.10", "tcp", 22, "port1", "port2") == 68
    assert decide(dev, "10.10.0.5", "10.20.0.10", "tcp", 443, "port1", "port2") == "accept"
    # service group of custom services (tcp/502, tcp/44818, udp/2222) to an addrgrp of an iprange, zone dstintf
    assert decide(dev, "10.20.0.10", "10.30.0.12", "tcp", 502, "port2", "port3") == "accept"
    assert decide(dev, "10.20.0.10", "10.30.0.12", "udp", 2222, "port2", "port4") == "accept"
    assert decide(dev, "10.20.0.10", "10.30.0.12", "tcp", 2222, "port2", "port4") == "drop"
    assert decide(dev, "10.20.0.10", "10.30.0.30", "tcp", 502, "port2", "port3") == "drop"
    # zone ot: intrazone allow
    assert decide(dev, "10.30.0.12", "10.31.0.12", "tcp", 80, "port3", "port4") == "accept"
    # the FQDN address makes its policy insufficient information; the disabled any-any policy has no effect
    assert decide(dev, "10.10.0.5", "10.20.0.99", "tcp", 443, "port1", "port2") == "unknown"
    assert decide(dev, "10.30.0.12", "10.10.0.5", "tcp", 80, "port3", "port1") == "drop"


def test_fortios_nat_policy_masquerades():
    text = ("config firewall policy\n    edit 1\n        set srcintf \"port1\"\n        set dstintf \"port2\"\n"
            "        set srcaddr \"all\"\n        set dstaddr \"all\"\n        set action accept\n"
            "        set service \"ALL\"\n        set nat enable\n    next\nend\n")
    rs = parse_text(text, "f.conf")
    assert not rs.unsupported and [(r.stage, r.action, r.origin) for r in rs.nat] == [("post", "masquerade",
                                                                                          "f.conf:2")]
    dev = device(rs, {"port1": "10.0.0.1/24", "port2": "10.1.0.1/24"})
    assert decide(dev, "10.0.0.5", "10.1.0.5", "tcp", 22, "port1", "port2") == "accept"


# --- Juniper SRX -------------------------------------------------------------------------------------------------
def test_srx_zone_policies_address_book_applications_and_default_policy():
    dev = device(parse_file(DATA / "srx-plant.conf"))
    corp, dmz, ot = "ge-0/0/0.0", "ge-0/0/1.0", "ge-0/0/2.0"
    assert decide(dev, "10.10.0.5", "10.20.0.10", "tcp", 22, corp, dmz) == "reject:tcp-reset"  # first match
    assert decide(dev, "10.10.0.5", "10.20.0.10", "tcp", 443, corp, dmz) == "accept"  # application-set
    assert decide(dev, "10.10.0.5", "10.20.0.10", "tcp", 8080, corp, dmz) == "drop"  # default-policy deny-all
    assert decide(dev, "10.20.0.10", "10.30.0.15", "tcp", 502, dmz, ot) == "accept"  # range-address in a set
    assert decide(dev, "10.20.0.10", "10.30.0.25", "tcp", 502, dmz, ot) == "drop"
    assert decide(dev, "10.30.0.15", "10.20.0.10", "tcp", 502, ot, dmz) == "drop"  # no ot -> dmz policy
    assert decide(dev, "10.30.0.15", "10.20.0.10", "tcp", 40000, ot, dmz, state="ESTABLISHED", sport=502) == "accept"
    assert decide(dev, "10.10.0.5", "10.30.0.15", "tcp", 502, corp, ot) == "unknown"  # source-identity policy
    assert decide(dev, "10.10.0.5", "10.10.0.6", "tcp", 502, corp, corp) == "drop"  # intra-zone needs a policy
    assert [(str(r.prefix), str(r.next_hop)) for r in dev.rulesets[0].routes] == [("0.0.0.0/0", "10.10.0.254")]


def test_srx_tree_format_means_the_same_as_set_format():
    tree = """
security {
    zones {
        security-zone corp { interfaces { ge-0/0/0.0; } }
        security-zone dmz { interfaces { ge-0/0/1.0; } }
    }
    policies {
        from-zone corp to-zone dmz {
            policy web {
                match {
                    source-address any;
                    destination-address any;
                    application [ junos-http junos-https ];
                }
                then { permit; }
            }
        }
    }
}
"""
    rs = parse_text(tree, "srx.conf")
    assert rs.format == "junos" and not rs.unsupported
    dev = device(rs, {"ge-0/0/0.0": "10.0.0.1/24", "ge-0/0/1.0": "10.1.0.1/24"})
    assert decide(dev, "10.0.0.5", "10.1.0.5", "tcp", 443, "ge-0/0/0.0", "ge-0/0/1.0") == "accept"
    assert origin_line(dev, "10.0.0.5", "10.1.0.5", "tcp", 443, "ge-0/0/0.0", "ge-0/0/1.0") == 11
    assert decide(dev, "10.0.0.5", "10.1.0.5", "tcp", 22, "ge-0/0/0.0", "ge-0/0/1.0") == "drop"


# --- nft -j ------------------------------------------------------------------------------------------------------
def test_nft_json_sets_jumps_reject_and_state():
    dev = device(parse_file(DATA / "nft-plant.json"))
    assert decide(dev, "10.20.0.10", "10.30.0.5", "tcp", 44819, "dmz0", "cell0") == "accept"  # named set range
    assert decide(dev, "10.20.0.10", "10.30.0.5", "tcp", 22, "dmz0", "cell0") == "reject:tcp-reset"
    assert decide(dev, "10.20.0.11", "10.30.0.5", "tcp", 502, "dmz0", "cell0") == "unknown"  # the ip6 rule
    assert decide(dev, "10.10.0.5", "10.20.0.10", "tcp", 443, "corp0", "dmz0") == "accept"
    assert decide(dev, "10.10.0.5", "10.20.0.10", "tcp", 22, "corp0", "dmz0") == "drop"  # chain policy
    assert decide(dev, "10.20.0.10", "10.10.0.5", "tcp", 4000, "dmz0", "corp0", state="ESTABLISHED") == "accept"
    rs = dev.rulesets[0]
    assert [u.line for u in rs.unsupported] == [12]


# --- broken input ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,fmt,where,message", [
    ('{"nftables": [{"table": {"family": "ip", "name": "t"}}', "nft-json", "1", "not valid JSON"),
    ('{"nftables": {"table": 1}}', "nft-json", "1", "nftables"),
    ("config firewall policy\n    edit 1\n        set action accept\n", "fortios", "3", "missing 'next'"),
    ("config firewall policy\n    next\n", "fortios", "2", "without a matching 'edit'"),
    ("set foo bar\nedit 3\n", "fortios", "1", "outside a 'config' block"),
    ("security {\n    zones {\n        security-zone a;\n", "junos", "3", "missing '}'"),
    ("security {\n    zones;\n}\n}\n", "junos", "4", "unbalanced"),
    ("<config><devices><entry name='x'>\n<vsys>\n</config>", "paloalto", "3", "not well-formed XML"),
])
def test_broken_input_is_an_error_naming_file_and_line(text, fmt, where, message):
    with pytest.raises(InputError, match=message) as exc:
        parse_text(text, "cfg.txt", fmt)
    assert exc.value.source == "cfg.txt" and exc.value.place == where


def test_garbage_and_truncated_files_are_refused_or_reported_with_lines(tmp_path):
    p = tmp_path / "garbage.bin"
    p.write_bytes(b"\x00\xff\xfe garbage")
    with pytest.raises(InputError, match="cannot read"):
        parse_file(p)
    p = tmp_path / "notes.txt"
    p.write_text("\n\nlorem ipsum dolor\n")
    with pytest.raises(InputError, match="not a recognised firewall configuration") as exc:
        parse_file(p)
    assert exc.value.place == "3"
    # a truncated IOS config keeps what it has; an entry cut mid-way is reported at its line
    text = (DATA / "ios-acl.cfg").read_text().split(" 40 permit tcp any any established")[0] + " 40 permit tcp any\n"
    rs = parse_text(text, "cut.cfg")
    assert [u.line for u in rs.unsupported] == [32] and "ends early" in rs.unsupported[0].why
    # good lines in the same file are still used
    dev = device(rs)
    assert decide(dev, "10.10.0.5", "10.20.0.10", "tcp", 443, "GigabitEthernet0/0", "GigabitEthernet0/2") == "accept"


def test_an_aerleon_policy_is_refused_with_what_to_do():
    with pytest.raises(InputError, match="Aerleon/Capirca policy"):
        parse_text("header {\n  target:: srx from-zone a to-zone b\n}\n", "p.pol")


# --- upstream samples (Batfish's own test configurations, Apache-2.0, see vendors/batfish/SOURCES.md) -----------
BATFISH = DATA / "batfish"


def test_batfish_panos_rulebase_negate_source_disabled_rule_and_file_order():
    dev = device(parse_file(BATFISH / "pan-rulebase"))
    e1, e2, e4 = "ethernet1/1", "ethernet1/2", "ethernet1/4"
    assert decide(dev, "3.3.3.3", "1.1.1.2", "tcp", 80, e4, e1) == "accept"  # RULE2: any source but 2.2.2.2
    assert decide(dev, "2.2.2.2", "1.1.1.2", "tcp", 80, e4, e1) == "drop"  # negated source: falls to 3rd_RULE
    assert origin_line(dev, "2.2.2.2", "1.1.1.2", "tcp", 80, e4, e1) == 41
    assert decide(dev, "3.3.3.3", "1.1.1.2", "tcp", 999, e4, e1) == "drop"  # RULE1 (SERVICE1) comes first
    assert origin_line(dev, "3.3.3.3", "1.1.1.2", "tcp", 999, e4, e1) == 21
    # the explicit deny-all precedes the intrazone default; the disabled rule (undefined zone, service) is inert
    assert decide(dev, "1.1.1.5", "1.1.2.5", "udp", 53, e1, e2) == "drop"
    assert not dev.rulesets[0].unsupported


def test_batfish_fortios_policy_order_disabled_and_default_deny_action():
    dev = device(parse_file(BATFISH / "fortios-firewall_policy"))
    # `edit 4294967294` has no action: deny; it is listed before `edit 1`
    assert decide(dev, "10.0.1.5", "10.0.2.5", "tcp", 12, "port1", "port2", sport=11) == "drop"
    assert origin_line(dev, "10.0.1.5", "10.0.2.5", "tcp", 12, "port1", "port2", sport=11) == 75
    assert decide(dev, "10.0.1.5", "10.0.2.5", "tcp", 11, "port1", "port2") == "accept"  # edit 1
    assert origin_line(dev, "10.0.1.5", "10.0.2.5", "tcp", 11, "port1", "port2") == 86
    assert decide(dev, "10.0.3.5", "10.0.5.5", "udp", 53, "port3", "port5") == "accept"  # edit 2: any/ALL


def test_batfish_asa_security_levels_same_security_and_egress_filter():
    dev = device(parse_file(BATFISH / "asa-security-level-permit-tracing"))
    out_, same, low, high = (f"GigabitEthernet0/{i}" for i in range(1, 5))
    assert decide(dev, "3.0.1.30", "3.0.0.9", "tcp", 123, high, out_) == "accept"
    assert decide(dev, "3.0.1.30", "3.0.0.9", "tcp", 22, high, out_) == "drop"  # FILTER_OUT deny
    assert decide(dev, "3.0.1.30", "3.0.0.9", "tcp", 80, high, out_) == "drop"  # its implicit deny
    assert decide(dev, "3.0.1.10", "3.0.0.9", "tcp", 123, same, out_) == "accept"  # same level, permitted
    assert decide(dev, "3.0.1.20", "3.0.1.30", "udp", 53, low, high) == "accept"  # ACL overrides levels
    assert decide(dev, "3.0.0.9", "3.0.1.30", "udp", 53, out_, high) == "drop"  # lower to higher, no ACL


def test_batfish_ios_zone_pair_without_policy_and_undefined_zone():
    rs = parse_file(BATFISH / "ios-zone-security")
    assert [(u.line, "undefined zone" in u.why) for u in rs.unsupported] == [(11, True)]
    dev = device(rs, {"Ethernet1": "10.0.0.1/24", "Ethernet2": "10.1.0.1/24"})
    assert decide(dev, "10.0.0.5", "10.1.0.5", "tcp", 80, "Ethernet1", "Ethernet2") == "drop"  # no policy
    assert decide(dev, "10.1.0.5", "10.0.0.5", "tcp", 80, "Ethernet2", "Ethernet1") == "drop"  # no zone-pair


@pytest.mark.parametrize("name,fmt", [("pan-plant.set", "cisco-ios"), ("pan-plant.set", "junos"),
                                      ("pan-plant.set", "cisco-asa"), ("ios-acl.cfg", "fortios"),
                                      ("srx-plant.conf", "paloalto")])
def test_the_wrong_explicit_format_is_an_error_at_a_line(name, fmt):
    with pytest.raises(InputError) as exc:
        parse_text((DATA / name).read_text(), name, fmt)
    assert exc.value.source == name and exc.value.place.isdigit()


def test_reach_on_one_vendor_file_uses_its_interfaces_and_names_the_deciding_lines():
    from linewatch.segmentation.cli import run_reach

    path = DATA / "pan-plant.set"
    doc = run_reach([path], "10.10.0.51", "10.20.0.10", "tcp/443")
    assert doc["disposition"] == ACCEPTED
    hops = doc["flows"][0]["hops"]
    assert [(h["in"], h["out"], h["rule"]) for h in hops] == [("ethernet1/1", "ethernet1/2", f"{path}:23")]
    assert doc["flows"][0]["return_hops"][0]["rule"] == f"{path}:0"  # implicit: the reply of an allowed session
    assert run_reach([path], "10.10.0.50", "10.20.0.10", "tcp/443")["disposition"] == DENIED_IN
    doc = run_reach([path], "10.10.0.5", "10.30.0.12", "tcp/502")
    assert doc["disposition"] == INSUFFICIENT_INFO and doc["flows"][0]["hops"][0]["rule"] == f"{path}:37"


def test_srx_inactive_statements_and_groups_are_reported_not_applied():
    text = ("groups { common { system { host-name x; } } }\n"
            "security {\n    zones {\n        security-zone a { interfaces { ge-0/0/0.0; } }\n"
            "        security-zone b { interfaces { ge-0/0/1.0; } }\n    }\n"
            "    policies { from-zone a to-zone b { inactive: policy p {\n"
            "        match { source-address any; destination-address any; application any; }\n"
            "        then { permit; } } } }\n}\n")
    rs = parse_text(text, "srx.conf", "junos")
    assert {u.line for u in rs.unsupported} == {1, 8, 9}  # line 7 only opens blocks
    dev = device(rs, {"ge-0/0/0.0": "10.0.0.1/24", "ge-0/0/1.0": "10.1.0.1/24"})
    assert decide(dev, "10.0.0.5", "10.1.0.5", "tcp", 80, "ge-0/0/0.0", "ge-0/0/1.0") == "drop"


@pytest.mark.parametrize("path", sorted(p for p in DATA.rglob("*") if p.is_file() and p.suffix != ".md"),
                         ids=lambda p: p.name)
def test_truncated_and_damaged_copies_never_crash_the_parser(path):
    """Cut after every line, cut mid-line, drop each line: an InputError naming the place, or a parse."""
    lines = path.read_text().splitlines(keepends=True)
    variants = []
    for i in range(len(lines)):
        variants.append("".join(lines[:i]))
        variants.append("".join(lines[:i]) + lines[i][: len(lines[i]) // 2])
        variants.append("".join(lines[:i] + lines[i + 1:]))
    for text in variants:
        try:
            rs = parse_text(text, path.name)
        except InputError as exc:
            assert exc.source == path.name and (exc.place.isdigit() or exc.place == "")
            continue
        for u in rs.unsupported:
            assert 1 <= u.line <= max(1, len(text.splitlines()))


def test_fortios_vdom_layout_and_several_vdoms():
    path = DATA / "forti-vdom.conf"
    dev = device(parse_file(path))
    assert set(dev.interfaces) == {"port1", "port2"}  # from `config global`
    assert decide(dev, "10.0.0.5", "10.1.0.5", "tcp", 443, "port1", "port2") == "accept"
    assert origin_line(dev, "10.0.0.5", "10.1.0.5", "tcp", 443, "port1", "port2") == 20
    assert decide(dev, "10.0.0.5", "10.1.0.5", "tcp", 22, "port1", "port2") == "drop"
    rs = parse_text(path.read_text().replace("    next\nend\n", "    next\n    edit dmz\n    next\nend\n"), "v.conf")
    assert [(u.line, "VDOM" in u.why) for u in rs.blocking] == [(17, True)]
