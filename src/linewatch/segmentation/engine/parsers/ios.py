"""Cisco IOS / IOS-XE running-configs: interface ACLs and the zone-based policy firewall.

Modelled: numbered and named standard/extended ACLs (object-groups network/service/protocol, `portgroup`,
`established`, the implicit deny at the end), `ip access-group NAME in|out` on interfaces (forward chains
`ingress` then `zbf` then `egress`; the inbound ACL also guards traffic to the router), interface addresses and
`ip route` statics. Zone-based firewall: `zone security`, `zone-member security`, `zone-pair security ... source A
destination B` with `service-policy type inspect`, `class-map type inspect match-any|match-all` (match access-group,
match protocol), `policy-map type inspect` with inspect (stateful: replies return), pass (one way) and drop, the
class-default drop; same-zone traffic passes, zone to non-zone is dropped, non-zone to non-zone passes.

NAT (`ip nat inside|outside source ...` with the interfaces' `ip nat inside|outside` roles) becomes `NatRule`s (see
`ios_nat`). Reported: CBAC `ip inspect` on an interface (it changes what passes: every answer through the device
becomes insufficient information), IPv6, PBR, VRFs, self-zone pairs, anything else not listed here.
"""

from __future__ import annotations

import ipaddress

from linewatch.segmentation.engine.model import Chain, Match, Route, Rule, RuleSet
from linewatch.segmentation.engine.parsers import ios_nat
from linewatch.segmentation.engine.parsers.cisco import Block, Entry, Groups, acl_entry, acl_kind, blocks, entry_rules
from linewatch.segmentation.engine.parsers.common import (
    STATEFUL,
    Accountant,
    ParseProblem,
    Svc,
    add_address,
    iface_address,
    nothing,
    reply_match,
    tcp_udp,
)

IGNORED = {
    "hostname", "version", "service", "boot", "boot-start-marker", "boot-end-marker", "logging", "ntp", "snmp-server",
    "line", "enable", "username", "aaa", "clock", "spanning-tree", "vlan", "router", "cdp", "lldp", "archive",
    "redundancy", "license", "control-plane", "alias", "key", "privilege", "no", "exit", "mac", "errdisable", "vtp",
    "udld", "monitor", "tacacs-server", "radius-server", "radius", "tacacs", "call-home", "platform", "diagnostic",
    "memory", "transceiver", "multilink", "process", "scheduler", "spd", "security", "vpdn", "card",
    "network-clock-participate", "hw-module", "subscriber", "route-map", "mgcp", "voice", "voice-card", "dial-peer",
    "sccp", "telephony-service", "gatekeeper", "netconf", "restconf", "file", "login", "system", "track", "event",
    "kron", "cts", "port-channel", "wsma", "policy-map", "class-map", "snmp", "stopbits", "default", "end",
    "exception", "dot11", "fax", "ipc", "dspfarm", "queue-monitor", "access-session", "mls", "power", "vrrp",
}
IGNORED_IP = {
    "domain", "domain-name", "domain-lookup", "name-server", "ssh", "http", "cef", "classless", "subnet-zero",
    "forward-protocol", "dhcp", "ftp", "tcp", "wccp", "sla", "flow-export", "flow-cache", "flow", "multicast-routing",
    "bgp-community", "prefix-list", "as-path", "community-list", "routing", "source-route", "options", "host", "scp",
    "tftp", "igmp", "pim", "default-gateway", "finger", "bootp", "gratuitous-arps", "icmp", "rcmd", "audit", "ips",
    "extcommunity-list", "explicit-path", "multicast", "vrf", "arp", "local", "ospf", "radius", "tacacs",
    "name", "default-network", "accounting-threshold", "accounting-list", "telnet", "nbar", "device",
}
IGNORED_IFACE = {
    "description", "duplex", "speed", "mtu", "negotiation", "load-interval", "bandwidth", "delay", "cdp", "media-type",
    "keepalive", "hold-queue", "encapsulation", "channel-group", "standby", "vrrp", "service-policy", "ppp", "dialer",
    "pvc", "logging", "snmp", "spanning-tree", "storm-control", "shutdown", "no", "arp", "ntp",
    "max-reserved-bandwidth",
    "carrier-delay", "lldp", "switchport", "power", "mls", "priority-queue", "queue-set", "tx-ring-limit",
    "dampening", "source", "macro", "auto", "mac-address", "platform", "ethernet", "authentication", "dot1x",
    "mab", "serial", "clock", "fair-queue", "random-detect", "bfd", "glbp", "hsrp", "udld", "pppoe", "pppoe-client",
    "atm", "dsl", "hardware", "nameif", "security-level",
}
IGNORED_IFACE_IP = {
    "ospf", "pim", "igmp", "virtual-reassembly", "tcp", "redirects", "unreachables", "proxy-arp", "route-cache",
    "mtu", "helper-address", "flow", "directed-broadcast", "mroute-cache", "nbar", "dhcp", "accounting",
    "load-sharing", "split-horizon", "summary-address", "authentication", "hello-interval", "hold-time", "rip",
    "eigrp", "bgp", "mask-reply", "sap", "wccp", "cef", "mfib", "multicast", "ddns", "local-proxy-arp",
    "information-reply", "irdp", "dvmrp", "sdr", "rsvp", "nat",
}
APP_SERVICES: dict[str, tuple[Svc, ...]] = {
    "tcp": (Svc(6),), "udp": (Svc(17),), "icmp": (Svc(1),), "http": tcp_udp(80), "https": tcp_udp(443),
    "ssh": tcp_udp(22), "telnet": tcp_udp(23), "ftp": tcp_udp(21), "smtp": tcp_udp(25),
    "dns": tcp_udp(53, ("tcp", "udp")), "domain": tcp_udp(53, ("tcp", "udp")), "ntp": tcp_udp(123, ("udp",)),
    "snmp": tcp_udp(161, ("udp",)), "tftp": tcp_udp(69, ("udp",)), "ldap": tcp_udp(389), "ldaps": tcp_udp(636),
    "syslog": tcp_udp(514, ("udp",)), "pop3": tcp_udp(110), "imap": tcp_udp(143), "bgp": tcp_udp(179),
    "sqlnet": tcp_udp(1521), "ms-sql": tcp_udp(1433), "mysql": tcp_udp(3306), "rdp": tcp_udp(3389),
    "netbios-ssn": tcp_udp(139), "cifs": tcp_udp(445), "isakmp": tcp_udp(500, ("udp",)),
}


def parse(text: str, source: str) -> RuleSet:
    rs = RuleSet(source=source, format="cisco-ios")
    acct = Accountant(rs)
    roots = blocks(text, acct)
    g = Groups(wildcard=True)
    acls: dict[str, tuple[int, str, list[tuple[int, str, list[str]]]]] = {}  # name -> (line, kind, entries)
    ifaces: dict[str, Block] = {}
    zones: dict[str, int] = {}
    pairs: list[tuple[Block, str, str, str | None]] = []  # (block, source zone, destination zone, policy)
    classes: dict[str, tuple[Block, str]] = {}
    policies: dict[str, Block] = {}
    nats: list[tuple[int, str, list[str]]] = []
    for b in roots:
        try:
            _top(rs, acct, g, b, acls, ifaces, zones, pairs, classes, policies, nats)
        except (IndexError, ValueError, ParseProblem) as exc:
            acct.report(b.line, b.text, f"not understood: {exc or 'incomplete statement'}")
            _account_nested(acct, b, skip_first=True)
    _model(rs, acct, g, acls, ifaces, zones, pairs, classes, policies, nats)
    return rs


def _top(rs, acct, g, b: Block, acls, ifaces, zones, pairs, classes, policies, nats) -> None:
    """One top-level command and its children."""
    w = b.words
    head = w[0]
    if head == "interface":
        ifaces[" ".join(w[1:])] = b
    elif head == "ip" and len(w) > 2 and w[1] == "access-list" and (w[2] in ("extended", "standard")
                                                                    or (len(w) == 3 and b.children)):
        acct.use(b.line)
        kind, name = (w[2], w[3] if len(w) > 3 else "") if len(w) > 3 else ("extended", w[2])
        lst = acls.setdefault(name, (b.line, kind, []))[2]
        for c in b.children:
            lst.append((c.line, c.text, c.words))
            _account_nested(acct, c)
    elif head == "access-list" and len(w) > 2:
        _numbered(acct, acls, b, w)
    elif head == "object-group" and len(w) > 2:
        _group(acct, g, b, w)
    elif head == "class-map" and len(w) > 2 and w[1] == "type" and w[2] == "inspect":
        acct.use(b.line)
        kind = "match-any" if "match-any" in w else "match-all"
        classes[w[-1]] = (b, kind)
        acct.use(*b.all_lines())  # a class no policy uses does not filter
    elif head == "policy-map" and len(w) > 2 and w[1] == "type" and w[2] == "inspect":
        acct.use(*b.all_lines())
        policies[w[-1]] = b
    elif head == "zone" and len(w) > 2 and w[1] == "security":
        zones[w[2]] = b.line
        acct.use(*b.all_lines())
    elif head == "zone-pair" and len(w) > 2 and w[1] == "security":
        src = w[w.index("source") + 1] if "source" in w[:-1] else ""
        dst = w[w.index("destination") + 1] if "destination" in w[:-1] else ""
        pol = None
        acct.use(b.line)
        for c in b.children:
            cw = c.words
            if cw[:3] == ["service-policy", "type", "inspect"] and len(cw) > 3:
                pol = cw[3]
                acct.use(c.line)
            elif cw[0] == "description":
                acct.ignore(c.line)
            else:
                acct.report(c.line, c.text, "zone-pair statement not modelled")
        pairs.append((b, src, dst, pol))
    elif head == "ip" and len(w) > 2 and w[1] == "nat":
        if w[2] in ("inside", "outside", "source", "destination", "static", "pool"):
            nats.append((b.line, b.text, w))  # translations and pools: modelled once every ACL is known
        else:
            acct.ignore(b.line)  # timeouts, translation settings, logging
        _account_nested(acct, b, skip_first=True)
    elif head == "ip" and len(w) > 1:
        _ip_top(rs, acct, b, w)
    elif head in ("ipv6",):
        acct.report(b.line, b.text, "IPv6 configuration (only IPv4 is modelled)")
        _account_nested(acct, b, skip_first=True)
    elif head in ("crypto",):
        acct.report(b.line, b.text, "VPN/crypto configuration is not modelled")
        _account_nested(acct, b, skip_first=True)
    elif head in IGNORED:
        acct.ignore(*b.all_lines())
    else:
        acct.report(b.line, b.text, f"command '{head}' is not modelled")
        _account_nested(acct, b, skip_first=True)


def _model(rs, acct, g, acls, ifaces, zones, pairs, classes, policies, nats) -> None:
    """Chains from what the commands declared."""
    source = rs.source
    bad = g.check_all(acct)
    # interfaces
    in_acl: list[tuple[str, str, int]] = []
    out_acl: list[tuple[str, str, int]] = []
    member: dict[str, list[str]] = {}
    roles: dict[str, str] = {}
    for name, b in ifaces.items():
        acct.use(b.line)
        for c in b.children:
            _iface_child(rs, acct, name, c, in_acl, out_acl, member, roles)
    # ACL chains
    for name, (line, kind, entries) in acls.items():
        chain = Chain(f"acl:{name}", origin=f"{source}:{line}")
        for eline, etext, ew in entries:
            ew = ew[1:] if ew and ew[0].isdigit() else ew
            if not ew or ew[0] == "remark":
                acct.ignore(eline)
                continue
            e = acl_entry(ew, g, bad, standard=kind == "standard")
            chain.rules.extend(entry_rules(rs, acct, e, eline, etext))
        chain.rules.append(Rule(Match(), "drop", f"{source}:{line}", text=f"implicit deny at the end of ACL {name}"))
        rs.chains[chain.name] = chain
    for chain_name, hook, prio, bound, side in (("ingress", "forward", 0, in_acl, "in"),
                                                ("ingress-local", "input", 0, in_acl, "in"),
                                                ("egress", "forward", 10, out_acl, "out")):
        if not bound:
            continue
        chain = Chain(chain_name, hook=hook, policy="accept", priority=prio, origin=f"{source}:{bound[0][2]}")
        for iface, acl, line in bound:
            m = Match(in_ifaces=(iface,)) if side == "in" else Match(out_ifaces=(iface,))
            if acl not in acls:  # IOS: an access-group naming an ACL that does not exist permits everything
                chain.rules.append(Rule(m, "accept", f"{source}:{line}", text=f"ACL {acl} is not defined: permits all"))
            else:
                chain.rules.append(Rule(m, "goto", f"{source}:{line}", target=f"acl:{acl}",
                                        text=f"ip access-group {acl} {side} on {iface}"))
        rs.chains[chain_name] = chain
    if zones or member:
        _zbf(rs, acct, g, bad, acls, zones, member, pairs, classes, policies)
    if nats:
        ios_nat.build(rs, acct, g, bad, acls, roles, nats)


def _account_nested(acct: Accountant, b: Block, skip_first: bool = False) -> None:
    lines = b.all_lines()
    acct.ignore(*(lines[1:] if skip_first else lines))


def _numbered(acct: Accountant, acls, b: Block, w: list[str]) -> None:
    name = w[1]
    kind = acl_kind(name)
    rest = w[2:]
    if rest and rest[0] in ("extended", "standard"):  # `access-list NAME extended permit ...`
        kind, rest = rest[0], rest[1:]
    if rest and rest[0] == "remark":
        acct.ignore(b.line)
        return
    if kind is None:
        acct.report(b.line, b.text, f"access-list {name}: not a standard/extended number")
        return
    lst = acls.setdefault(name, (b.line, kind, []))[2]
    if rest:
        lst.append((b.line, b.text, rest))
    else:
        acct.use(b.line)
    for c in b.children:
        lst.append((c.line, c.text, c.words))


def _group(acct: Accountant, g: Groups, b: Block, w: list[str]) -> None:
    kind = w[1]
    if kind == "ip" and len(w) > 3 and w[2] == "port":
        kind, name = "port", w[3]
    elif kind in ("network", "service", "protocol"):
        name = w[2]
    else:
        acct.report(b.line, b.text, f"object-group {kind}")
        _account_nested(acct, b, skip_first=True)
        return
    acct.use(b.line)
    members = g.define(kind, name, w[3] if kind == "service" and len(w) > 3 else None)
    for c in b.children:
        members.append((c.line, c.text, c.words))
        acct.use(c.line)


def _ip_top(rs: RuleSet, acct: Accountant, b: Block, w: list[str]) -> None:
    sub = w[1]
    if sub == "route":
        try:
            if w[2] == "vrf":
                raise ParseProblem("VRF routes")
            prefix = ipaddress.IPv4Network(f"{w[2]}/{w[3]}", strict=False)
            via = w[4]
            try:
                rs.routes.append(Route(prefix, None, ipaddress.IPv4Address(via)))
            except ValueError:
                nh = w[5] if len(w) > 5 and w[5].count(".") == 3 else None
                rs.routes.append(Route(prefix, via, ipaddress.IPv4Address(nh) if nh else None))
            acct.use(b.line)
        except (ParseProblem, IndexError, ValueError) as exc:
            acct.report(b.line, b.text, f"static route: {exc}")
    elif sub == "inspect":
        acct.ignore(*b.all_lines())  # CBAC definitions; applying one on an interface is reported there
    elif sub in IGNORED_IP:
        acct.ignore(*b.all_lines())
    else:
        acct.report(b.line, b.text, f"'ip {sub}' is not modelled")
        _account_nested(acct, b, skip_first=True)


def _iface_child(rs, acct: Accountant, name: str, c: Block, in_acl, out_acl, member, roles) -> None:
    w = c.words
    try:
        if w[:2] == ["ip", "address"]:
            if len(w) >= 4 and w[2].count(".") == 3 and w[3].count(".") == 3:
                add_address(rs, name, iface_address(w[2], w[3]))
                acct.use(c.line)
            elif len(w) >= 3 and "/" in w[2]:
                add_address(rs, name, iface_address(w[2]))
                acct.use(c.line)
            else:
                acct.report(c.line, c.text, "interface address not given statically (DHCP/negotiated)")
        elif w[:2] == ["ip", "access-group"] and len(w) >= 4:
            (in_acl if w[3] == "in" else out_acl).append((name, w[2], c.line))
            acct.use(c.line)
        elif w[:2] == ["zone-member", "security"] and len(w) > 2:
            member.setdefault(w[2], []).append(name)
            member.setdefault(f"line:{w[2]}", []).append(str(c.line))
            acct.use(c.line)
        elif w[:2] == ["ip", "inspect"]:
            acct.report(c.line, c.text, "CBAC inspection opens return traffic dynamically: not modelled",
                        blocking=True)
        elif w[:2] == ["ip", "nat"] and len(w) > 2 and w[2] in ("inside", "outside"):
            roles[name] = w[2]
            acct.use(c.line)
        elif w[:2] == ["ip", "nat"]:
            acct.report(c.line, c.text, "NAT virtual interface (ip nat enable) is not modelled")
        elif w[0] == "ip" and len(w) > 1 and w[1] in IGNORED_IFACE_IP:
            acct.ignore(c.line)
        elif w[0] in ("ipv6",):
            acct.report(c.line, c.text, "IPv6 on an interface (only IPv4 is modelled)")
        elif w[0] in IGNORED_IFACE:
            acct.ignore(*c.all_lines())
            return
        else:
            acct.report(c.line, c.text, f"interface statement '{' '.join(w[:2])}' is not modelled")
    except (ParseProblem, IndexError, ValueError) as exc:
        acct.report(c.line, c.text, str(exc) or "incomplete statement")
    acct.ignore(*c.all_lines()[1:])


def _zbf(rs, acct, g, bad, acls, zones, member, pairs, classes, policies) -> None:
    src = rs.source
    lines = {k[5:]: int(v[0]) for k, v in member.items() if k.startswith("line:")}
    member = {k: v for k, v in member.items() if not k.startswith("line:")}
    for z in member:
        if z not in zones:
            acct.report(lines[z], f"zone-member security {z}", f"zone {z} is used but not defined")
    members = {z: tuple(member.get(z, ())) or nothing(f"zone {z}") for z in set(zones) | set(member)}
    everyone = tuple(i for z in member for i in member[z])
    chain = Chain("zbf", hook="forward", policy="accept", priority=5,
                  origin=f"{src}:{min(zones.values()) if zones else 0}")
    replies: list[Rule] = []
    body: list[Rule] = []
    paired: set[tuple[str, str]] = set()
    for b, a, d, pol in pairs:
        origin = f"{src}:{b.line}"
        if "self" in (a, d):
            acct.report(b.line, b.text, "zone-pair with the self zone (traffic to/from the router) is not modelled")
            continue
        if a not in members or d not in members:
            acct.report(b.line, b.text, f"zone-pair names an undefined zone ({a} -> {d})")
            continue
        paired.add((a, d))
        zp = Chain(f"zp:{b.words[2]}", origin=origin)
        inspected: list[Rule] = []
        _zone_pair(rs, acct, g, bad, acls, classes, policies, pol, zp, b, inspected)
        rs.chains[zp.name] = zp
        body.append(Rule(Match(in_ifaces=members[a], out_ifaces=members[d]), "goto", origin, target=zp.name,
                         text=b.text))
        if inspected:  # replies of inspected sessions return: the inspected classes' rules, mirrored
            back = Chain(f"zp-reply:{b.words[2]}", origin=origin)
            back.rules = [_mirror(rs, r) for r in inspected]
            rs.chains[back.name] = back
            replies.append(Rule(Match(states=STATEFUL, in_ifaces=members[d], out_ifaces=members[a]), "jump", origin,
                                target=back.name, text=f"replies of sessions inspected by {b.text}"))
    for z, line in zones.items():
        if (z, z) not in paired:
            body.append(Rule(Match(in_ifaces=members[z], out_ifaces=members[z]), "accept", f"{src}:{line}",
                             text=f"zone {z}: traffic within one zone passes"))
    if everyone:
        body.append(Rule(Match(in_ifaces=everyone), "drop", chain.origin,
                         text="zone member to another zone without a zone-pair policy: dropped"))
        body.append(Rule(Match(out_ifaces=everyone), "drop", chain.origin,
                         text="interface in no zone to a zone member: dropped"))
    chain.rules = replies + body
    rs.chains[chain.name] = chain


def _mirror(rs: RuleSet, r: Rule) -> Rule:
    """The rule for the replies of what `r` selects (addresses, ports, interfaces exchanged; chains mirrored)."""
    target = r.target
    if target is not None:
        name = f"reply:{target}"
        if name not in rs.chains:
            rs.chains[name] = Chain(name, origin=rs.chains[target].origin)  # placeholder against cycles
            rs.chains[name].rules = [_mirror(rs, x) for x in rs.chains[target].rules]
        target = name
    return Rule(reply_match(r.match), r.action, r.origin, target=target, text=f"reply: {r.text}",
                unsupported=r.unsupported)


def _zone_pair(rs, acct, g, bad, acls, classes, policies, pol, zp: Chain, pair: Block,
               inspected: list[Rule]) -> set[str]:
    """The zone-pair's chain; the rules of its inspected classes are added to `inspected` (for their replies)."""
    src = rs.source
    actions: set[str] = set()
    if pol is None or pol not in policies:
        zp.rules.append(Rule(Match(), "drop", f"{src}:{pair.line}",
                             text=f"{pair.text}: {'no' if pol is None else 'undefined'} inspect policy: dropped"))
        return actions
    pm = policies[pol]
    default = ("drop", pm.line, "class-default drop")
    for c in pm.children:
        cw = c.words
        act_block = c.children[0] if c.children else None
        act = act_block.words[0] if act_block else "drop"
        acct.use(c.line)
        if act_block is not None:
            acct.use(act_block.line)
            for extra in c.children[1:]:
                acct.report(extra.line, extra.text, "policy-map class statement not modelled")
        if act not in ("inspect", "pass", "drop"):
            acct.report(act_block.line if act_block else c.line, c.text, f"policy-map action {act}")
            act = "unknown"
        if cw[:2] == ["class", "class-default"]:
            default = (act, c.line, f"class-default {act}")
            continue
        if cw[0] == "description":
            continue
        name = cw[-1]
        actions.add(act)
        verdict = "accept" if act in ("inspect", "pass") else "drop"
        rules = _class_rules(rs, acct, g, bad, acls, classes, name, verdict, act, c, zp.name)
        zp.rules.extend(rules)
        if act == "inspect":
            inspected.extend(rules)
    act, line, text = default
    if act == "unknown":
        u = acct.report(line, text, "class-default action not modelled")
        zp.rules.append(Rule(Match(), "continue", f"{src}:{line}", text=text, unsupported=u))
    else:
        actions.add(act)
        zp.rules.append(Rule(Match(), "accept" if act in ("inspect", "pass") else "drop", f"{src}:{line}", text=text))
    return actions


def _class_rules(rs, acct, g, bad, acls, classes, name, verdict, act, c: Block, zp_name) -> list[Rule]:
    """Rules of one class of a zone-pair: matching packets get the class's verdict, others fall through."""
    src = rs.source
    origin = f"{src}:{c.line}"
    text = f"{c.text} {act}"
    if act == "unknown":
        u = acct.report(c.line, c.text, "class with an unmodelled action")
        return [Rule(Match(), "continue", origin, text=text, unsupported=u)]
    if name not in classes:
        u = acct.report(c.line, c.text, f"class-map {name} is not defined")
        return [Rule(Match(), "continue", origin, text=text, unsupported=u)]
    cb, kind = classes[name]
    acl_names, svcs, problem = [], [], None
    for m in cb.children:
        mw = m.words
        acct.use(m.line)
        if mw[0] == "description":
            continue
        if mw[:2] == ["match", "access-group"]:
            acl_names.append((mw[-1], m.line))
        elif mw[:2] == ["match", "protocol"] and len(mw) > 2:
            if mw[2] in APP_SERVICES:
                svcs.append(APP_SERVICES[mw[2]])
            else:
                problem = (m.line, m.text, f"match protocol {mw[2]} (application not modelled)")
        else:
            problem = (m.line, m.text, f"class-map statement '{' '.join(mw[:2])}' not modelled")
    for acl, line in acl_names:
        if acl not in acls:
            problem = problem or (line, f"match access-group name {acl}", f"ACL {acl} is not defined")
    if kind == "match-all" and (len(acl_names) > 1 or len(svcs) > 1 or any(len(s) > 1 for s in svcs)):
        problem = problem or (cb.line, cb.text, "match-all of several ACLs or multi-service protocols")
    if problem:
        u = acct.report(*problem)
        return [Rule(Match(), "continue", origin, text=text, unsupported=u)]
    rules: list[Rule] = []
    if kind == "match-any":
        for s in svcs:
            for sv in s:
                rules.append(Rule(Match(**sv.match_fields()), verdict, origin, text=text))
        for acl, _line in acl_names:
            rules.append(Rule(Match(), "jump", origin, target=_acl_class(rs, acls, acl, verdict, zp_name, name),
                              text=text))
        return rules
    # match-all: at most one ACL and one single-service protocol; packets outside the protocol fall through
    sub = Chain(f"class:{zp_name}:{name}", origin=origin)
    if svcs:
        sv = svcs[0][0]
        if sv.proto is not None:
            sub.rules.append(Rule(Match(protocols=(sv.proto,), protocols_negated=True), "return", origin, text=text))
        if sv.dports:
            sub.rules.append(Rule(Match(protocols=(sv.proto,), dports=sv.dports, dports_negated=True), "return",
                                  origin, text=text))
    if acl_names:
        sub.rules.append(Rule(Match(), "goto", origin, target=_acl_class(rs, acls, acl_names[0][0], verdict,
                                                                          zp_name, name), text=text))
    else:
        sub.rules.append(Rule(Match(), verdict, origin, text=text))
    rs.chains[sub.name] = sub
    return [Rule(Match(), "jump", origin, target=sub.name, text=text)]


def _acl_class(rs, acls, acl: str, verdict: str, zp_name: str, cls: str) -> str:
    """A copy of an ACL's chain where permit means the class's verdict and deny/no match falls through."""
    name = f"class-acl:{zp_name}:{cls}:{acl}"
    if name in rs.chains:
        return name
    base = rs.chains[f"acl:{acl}"]
    c = Chain(name, origin=base.origin)
    for r in base.rules[:-1]:  # without the implicit deny
        if r.unsupported is not None:
            c.rules.append(r)
        else:
            c.rules.append(Rule(r.match, verdict if r.action == "accept" else "return", r.origin, text=r.text))
    rs.chains[name] = c
    return name


__all__ = ["parse", "Entry"]
