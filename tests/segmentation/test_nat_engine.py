"""Address translation in the reachability engine: DNAT before routing, SNAT/masquerade after the forward filter,
replies translated back only for the flows a device translated, answers by the flow as its source sent it, and the
concrete trace applying the same NAT rules (rule file:line on the hop)."""

from __future__ import annotations

import ipaddress

from linewatch.segmentation.engine.bdd import PacketSpace
from linewatch.segmentation.engine.model import (
    Chain,
    Device,
    Interface,
    Match,
    NatRule,
    Packet,
    PortRange,
    Route,
    Rule,
    RuleSet,
    Unsupported,
)
from linewatch.segmentation.engine.reach import (
    ACCEPTED,
    DENIED_IN,
    INSUFFICIENT_INFO,
    NO_RETURN,
    Network,
    Service,
)

N = ipaddress.IPv4Network
A = ipaddress.IPv4Address
OFFICE, SERVER, CLIENT = "10.1.0.10", "10.3.0.10", "198.51.100.7"
PUBLIC = "203.0.113.1"


def iface(name: str, cidr: str) -> Interface:
    return Interface(name, (ipaddress.IPv4Interface(cidr),))


def tcp(*ports: int) -> tuple[PortRange, ...]:
    return tuple(PortRange(p, p) for p in ports)


def ruleset(nat: list[NatRule], rules: list[Rule], policy: str = "drop") -> RuleSet:
    rs = RuleSet("fw.rules")
    rs.chains["FORWARD"] = Chain("FORWARD", list(rules), "forward", policy, origin="fw.rules:1")
    rs.nat = nat
    return rs


ESTABLISHED = Rule(Match(states=("ESTABLISHED", "RELATED")), "accept", "fw.rules:2")
PORT_FORWARD = NatRule("pre", "dnat", Match(dst=(N(PUBLIC),), protocols=(6,), dports=tcp(8502), in_ifaces=("wan",)),
                       "fw.rules:10", (N(SERVER),), PortRange(502, 502), "-A PREROUTING -i wan ... -j DNAT")
MASQ = NatRule("post", "masquerade", Match(src=(N("10.1.0.0/24"),), out_ifaces=("wan",)), "fw.rules:11",
               text="-A POSTROUTING -o wan -j MASQUERADE")


def firewall(nat: list[NatRule], rules: list[Rule], extra_routes: list[Route] | None = None) -> Device:
    return Device("fw", "firewall", {"office": iface("office", "10.1.0.1/24"), "wan": iface("wan", f"{PUBLIC}/24"),
                                     "ot": iface("ot", "10.3.0.1/24")},
                  [Route(N("0.0.0.0/0"), next_hop=A("203.0.113.254")), *(extra_routes or [])],
                  [ruleset(nat, rules)])


def test_a_port_forward_reaches_the_inside_server_by_its_public_address_and_by_its_own():
    accept = Rule(Match(dst=(N(SERVER),), protocols=(6,), dports=tcp(502), states=("NEW",)), "accept", "fw.rules:3")
    net = Network([firewall([PORT_FORWARD], [ESTABLISHED, accept])])
    addressed = net.reach(f"{CLIENT}/32", f"{PUBLIC}/32", Service.parse("tcp/8502"))
    assert addressed.disposition == ACCEPTED
    flow = addressed.flows[0]
    # the witness is the packet as the client sends it; the hop shows the translation and the rule's file:line
    assert (str(flow.witness.dst_ip), flow.witness.dport) == (PUBLIC, 8502)
    assert flow.hops[0].nat[0]["rule"] == "fw.rules:10" and flow.hops[0].nat[0]["to"] == f"{SERVER}:502"
    assert flow.hops[0].rule == "fw.rules:3" and flow.hops[0].out_iface == "ot"
    assert [h.device for h in flow.return_hops] == ["fw"] and flow.return_hops[0].out_iface == "wan"
    delivered = net.reach(f"{CLIENT}/32", f"{SERVER}/32", Service.parse("tcp/502"))
    assert delivered.disposition == ACCEPTED  # addressed to the server directly, or to the public port
    # not forwarded: another public port goes to the firewall itself, not to the server
    assert net.reach(f"{CLIENT}/32", f"{SERVER}/32", Service.parse("tcp/22")).disposition == DENIED_IN
    assert net.reach(f"{CLIENT}/32", f"{PUBLIC}/32", Service.parse("tcp/8503")).flows[0].hops[0].out_iface is None


def test_the_forward_filter_sees_the_translated_destination():
    wrong = Rule(Match(dst=(N(PUBLIC),), protocols=(6,)), "accept", "fw.rules:3")  # written for the public address
    net = Network([firewall([PORT_FORWARD], [ESTABLISHED, wrong])])
    answer = net.reach(f"{CLIENT}/32", f"{SERVER}/32", Service.parse("tcp/502"))
    assert answer.disposition == DENIED_IN and answer.flows[0].hops[0].rule == "fw.rules:1"


def test_masqueraded_office_flows_return_through_conntrack():
    out = Rule(Match(in_ifaces=("office",), out_ifaces=("wan",)), "accept", "fw.rules:3")
    net = Network([firewall([MASQ], [ESTABLISHED, out])])
    answer = net.reach(f"{OFFICE}/32", f"{CLIENT}/32", Service.parse("tcp/443"))
    assert answer.disposition == ACCEPTED and len(answer.flows) == 1
    hop = answer.flows[0].hops[0]
    assert hop.nat[0]["action"] == "masquerade" and hop.nat[0]["to"].startswith(f"{PUBLIC}:")  # the out interface's
    # the reply, addressed to the firewall's public address, is put back to the office host and forwarded to it
    assert answer.flows[0].return_hops[0].out_iface == "office"
    # without the return rule the replies stop at the firewall
    assert Network([firewall([MASQ], [out])]).reach(f"{OFFICE}/32", f"{CLIENT}/32",
                                                    Service.parse("tcp/443")).disposition == NO_RETURN


def test_masquerade_uses_the_address_of_the_out_interface_and_only_translates_what_it_matched():
    out = Rule(Match(out_ifaces=("wan",)), "accept", "fw.rules:3")
    fw = firewall([MASQ], [ESTABLISHED, out])
    net = Network([fw])
    sp = net.space
    q = net.headers(Service.parse("udp/53")) & sp.nets("s", [N("10.1.0.0/24"), N("10.3.0.0/24")])
    run = net.propagate(net._starts([N("10.1.0.0/24"), N("10.3.0.0/24")], q))
    left = run.delivered[("fw", "wan")]
    office = left & sp.net("os", "10.1.0.0/24")
    assert office != sp.false and office & ~sp.value("s", int(A(PUBLIC))) == sp.false
    ot = left & sp.net("os", "10.3.0.0/24")  # not matched by the masquerade: leaves with its own address
    assert ot != sp.false and ot & ~sp.net("s", "10.3.0.0/24") == sp.false
    assert run.nat[("fw", "snat")][0] & sp.net("s", "10.3.0.0/24") == sp.false


def test_an_exemption_rule_keeps_the_source_and_stops_translation():
    vpn = NatRule("post", "none", Match(dst=(N("10.8.0.0/16"),)), "fw.rules:9", text="-d 10.8.0.0/16 -j RETURN")
    out = Rule(Match(out_ifaces=("wan",)), "accept", "fw.rules:3")
    net = Network([firewall([vpn, MASQ], [ESTABLISHED, out])])
    answer = net.reach(f"{OFFICE}/32", "10.8.0.5/32", Service.parse("tcp/22"))
    assert answer.disposition == ACCEPTED
    assert answer.flows[0].hops[0].nat == [{"stage": "post", "action": "none", "rule": "fw.rules:9",
                                            "text": "-d 10.8.0.0/16 -j RETURN"}]
    sp = net.space
    run = net.propagate(net._starts([N(f"{OFFICE}/32")], net.headers() & sp.net("s", f"{OFFICE}/32")))
    left = run.delivered[("fw", "wan")]
    assert left & sp.net("d", "10.8.0.0/16") & ~sp.value("s", int(A(OFFICE))) == sp.false
    assert left & ~sp.net("d", "10.8.0.0/16") & ~sp.value("s", int(A(PUBLIC))) == sp.false


def asymmetric(symmetric: bool) -> Network:
    """fw1 forwards a public port to a server behind r2; r2's default route goes back through fw1 or not."""
    fw1 = Device("fw1", "firewall", {"wan": iface("wan", f"{PUBLIC}/24"), "transit": iface("transit", "10.0.12.1/24")},
                 [Route(N("0.0.0.0/0"), next_hop=A("203.0.113.254")),
                  Route(N("10.3.0.0/24"), next_hop=A("10.0.12.2"))],
                 [ruleset([NatRule("pre", "dnat", Match(dst=(N(PUBLIC),), protocols=(6,), dports=tcp(80)),
                                   "fw1.rules:5", (N(SERVER),))], [], policy="accept")])
    gw = "10.0.12.1" if symmetric else "192.0.2.254"
    r2 = Device("r2", "router", {"transit": iface("transit", "10.0.12.2/24"), "lan": iface("lan", "10.3.0.1/24"),
                                 "up": iface("up", "192.0.2.1/24")}, [Route(N("0.0.0.0/0"), next_hop=A(gw))], [])
    return Network([fw1, r2])


def test_a_port_forward_whose_replies_bypass_the_firewall_is_no_return():
    assert asymmetric(True).reach(f"{CLIENT}/32", f"{PUBLIC}/32", Service.parse("tcp/80")).disposition == ACCEPTED
    answer = asymmetric(False).reach(f"{CLIENT}/32", f"{PUBLIC}/32", Service.parse("tcp/80"))
    # the reply leaves through r2 with the server's own address: the client's socket never sees it
    assert answer.disposition == NO_RETURN
    assert [h.device for h in answer.flows[0].return_hops] == ["r2"]


def test_an_unsupported_nat_rule_is_insufficient_information_only_for_what_it_matches():
    u = Unsupported("fw.rules", 12, "-j DNAT --to-destination 10.3.0.10 --random", "--random is not modelled")
    odd = NatRule("pre", "dnat", Match(protocols=(6,), dports=tcp(80)), "fw.rules:12", (N(SERVER),),
                  text=u.text, unsupported=u)
    net = Network([firewall([odd], [ESTABLISHED, Rule(Match(), "accept", "fw.rules:3")])])
    answer = net.reach(f"{CLIENT}/32", f"{SERVER}/32", Service.parse("tcp/80"))
    assert answer.disposition == INSUFFICIENT_INFO and answer.flows[0].hops[0].rule == "fw.rules:12"
    assert net.reach(f"{CLIENT}/32", f"{SERVER}/32", Service.parse("tcp/443")).disposition == ACCEPTED


def test_networks_without_nat_carry_no_ghost_fields():
    sp = PacketSpace()
    net = Network([firewall([], [ESTABLISHED, Rule(Match(), "accept", "fw.rules:3")])], sp)
    assert not net.nat
    run = net.propagate(net._starts([N(f"{OFFICE}/32")], net.headers() & sp.net("s", f"{OFFICE}/32")))
    for s in run.delivered.values():
        assert not any(v.startswith("o") for v in sp.bdd.support(s))
    assert sp.count(sp.value("s", 1)) == 2 ** (32 + 8 + 16 + 16 + 2 + 12)


def test_nat_rule_translate_on_one_packet():
    p = Packet(int(A(CLIENT)), int(A(PUBLIC)), 6, 40000, 8502, in_iface="wan")
    q = PORT_FORWARD.translate(p, None)
    assert (str(q.dst_ip), q.dport, q.sport) == (SERVER, 502, 40000)
    assert MASQ.translate(Packet(int(A(OFFICE)), 1, 17, 5000, 53), int(A(PUBLIC))).src_ip == A(PUBLIC)
    assert MASQ.translate(Packet(int(A(OFFICE)), 1, 17, 5000, 53), None) is None


def test_without_a_topology_the_packets_a_nat_rule_could_translate_are_insufficient_information():
    from linewatch.segmentation.engine.reach import reach_series

    fw = firewall([MASQ], [ESTABLISHED, Rule(Match(), "accept", "fw.rules:3")])
    masqueraded = reach_series([fw], "10.1.0.0/24", "198.51.100.0/24", Service.parse("tcp/443"))
    assert masqueraded.disposition == INSUFFICIENT_INFO
    other = reach_series([fw], "10.2.0.0/24", "198.51.100.0/24", Service.parse("tcp/443"))  # no NAT rule matches
    assert other.disposition == ACCEPTED


def test_hairpin_nat_sends_office_clients_of_the_public_address_back_to_an_office_server():
    hairpin = NatRule("pre", "dnat", Match(dst=(N(PUBLIC),), protocols=(6,), dports=tcp(443)), "fw.rules:7",
                      (N("10.1.0.20/32"),), text="hairpin")
    snat = NatRule("post", "snat", Match(src=(N("10.1.0.0/24"),), dst=(N("10.1.0.20/32"),)), "fw.rules:8",
                   (N("10.1.0.1/32"),), text="so the server answers through the firewall")
    net = Network([firewall([hairpin, snat], [ESTABLISHED, Rule(Match(), "accept", "fw.rules:3")])])
    answer = net.reach(f"{OFFICE}/32", f"{PUBLIC}/32", Service.parse("tcp/443"))
    assert answer.disposition == ACCEPTED
    hop = answer.flows[0].hops[0]
    assert (hop.in_iface, hop.out_iface) == ("office", "office") and [n["rule"] for n in hop.nat] == [
        "fw.rules:7", "fw.rules:8"]
    # to the server: only the flows sent to the public address go through the firewall (on-link ones never reach it)
    to_server = net.reach(f"{OFFICE}/32", "10.1.0.20/32", Service.parse("tcp/443"))
    assert [str(f.witness.dst_ip) for f in to_server.flows] == [PUBLIC]
