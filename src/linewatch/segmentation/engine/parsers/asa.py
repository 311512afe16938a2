"""Cisco ASA running-configs into the vendor-neutral model.

Modelled: interfaces (`nameif`, `security-level`, addresses; a rule names an interface by both its hardware name
and its nameif, so either can be the plant model's name), `name`s, `object network|service`, `object-group
network|service|protocol` (nested), `access-list NAME extended|standard`, `access-group ACL in|out interface N`,
`access-group ACL global` (after the interface ACL, then the implicit deny), security levels when no access rule
applies (higher to lower passes, the rest is dropped), `same-security-traffic permit inter-interface|intra-interface`,
statefulness (replies of accepted connections pass), `route` statics.

NAT (8.3+ object NAT and twice NAT) becomes `NatRule`s (see `asa_nat`). Reported: legacy pre-8.3 NAT (`nat (if)
id`, `static`, `global`: device-wide, their access lists name mapped addresses), transparent mode, VPN, FQDN/IPv6
objects, ICMP types, time ranges, and anything else not listed here.
"""

from __future__ import annotations

import ipaddress

from linewatch.segmentation.engine.model import Chain, Match, Route, Rule, RuleSet
from linewatch.segmentation.engine.parsers import asa_nat
from linewatch.segmentation.engine.parsers.cisco import Block, Groups, acl_entry, blocks, entry_rules
from linewatch.segmentation.engine.parsers.common import (
    STATEFUL,
    Accountant,
    ParseProblem,
    add_address,
    iface_address,
)

IGNORED = {
    "asa", "hostname", "domain-name", "enable", "passwd", "names", "dns", "ftp", "pager", "logging", "mtu", "icmp",
    "asdm", "arp", "timeout", "user-identity", "aaa", "http", "snmp-server", "telnet", "ssh", "console",
    "threat-detection", "dhcpd", "dhcprelay", "ntp", "username", "class-map", "policy-map", "service-policy", "prompt",
    "call-home", "cryptochecksum:", "jumbo-frame", "failover", "monitor-interface", "license", "boot", "clock",
    "service", "command-alias", "xlate", "terminal", "privilege", "sysopt", "router", "no", "banner", "end",
    "dynamic-access-policy-record", "vpn-addr-assign", "ipv6", "mac-address", "flow-export", "tls-proxy",
    "ssl", "dns-guard", "crashinfo", "auth-prompt", "wccp", "multicast-routing", "ip", "management-access",
    "anyconnect-custom-data", "email", "smtp-server", "virtual", "vpn", "object-group-search", "asp", "eigrp",
    "prefix-list", "route-map", "snmp-map", "regex", "checkheaps", "password-policy", "quit", "access-session",
}
VPN = {"crypto", "group-policy", "tunnel-group", "webvpn", "vpn-sessiondb", "isakmp"}


def parse(text: str, source: str) -> RuleSet:
    rs = RuleSet(source=source, format="cisco-asa")
    acct = Accountant(rs)
    roots = blocks(text, acct, delimited=False)
    g = Groups(wildcard=False)
    acls: dict[str, tuple[int, list[tuple[int, str, list[str]]]]] = {}
    groups_in: dict[str, tuple[str, int]] = {}  # nameif -> (acl, line)
    groups_out: dict[str, tuple[str, int]] = {}
    global_acl: tuple[str, int] | None = None
    same_inter = same_intra = 0  # line of the permit, 0 = not permitted
    ifaces: list[dict] = []
    nats: list[asa_nat.NatLine] = []
    for b in roots:
        w = b.words
        head = w[0].lower()
        try:
            if head == "interface":
                ifaces.append(_interface(rs, acct, b))
            elif head == "name" and len(w) >= 3:
                g.names[w[2]] = w[1]
                acct.use(b.line)
            elif head == "object" and len(w) >= 3 and w[1] in ("network", "service"):
                _object(acct, g, b, w, nats)
            elif head == "object-group" and len(w) >= 3:
                _group(acct, g, b, w)
            elif head == "access-list" and len(w) >= 3:
                _acl_line(acct, acls, b, w)
            elif head == "access-group" and len(w) >= 3:
                if w[2] == "global":
                    global_acl = (w[1], b.line)
                elif len(w) >= 5 and w[3] == "interface":
                    (groups_in if w[2] == "in" else groups_out)[w[4]] = (w[1], b.line)
                    if len(w) > 5:
                        acct.report(b.line, b.text, f"access-group option {' '.join(w[5:])} is not modelled")
                else:
                    raise ParseProblem("access-group syntax")
                acct.use(b.line)
            elif head == "same-security-traffic" and len(w) >= 3:
                if w[2] == "inter-interface":
                    same_inter = b.line
                else:
                    same_intra = b.line
                acct.use(b.line)
            elif head == "route" and len(w) >= 5:
                _route(rs, acct, b, w)
            elif head == "nat" and len(w) > 1 and "," in w[1]:
                nats.append(asa_nat.NatLine(b.line, b.text, w))
            elif head in ("nat", "static", "global"):
                acct.report(b.line, b.text, "pre-8.3 NAT (access lists name mapped addresses) is not modelled",
                            blocking=True)
            elif head == "firewall" and "transparent" in w:
                acct.report(b.line, b.text, "transparent (bridging) mode is not modelled", blocking=True)
            elif head in VPN:
                acct.report(b.line, b.text, "VPN configuration is not modelled")
                acct.ignore(*b.all_lines()[1:])
            elif head in IGNORED:
                acct.ignore(*b.all_lines())
            else:
                acct.report(b.line, b.text, f"command '{head}' is not modelled")
                acct.ignore(*b.all_lines()[1:])
        except (ParseProblem, IndexError, ValueError) as exc:
            acct.report(b.line, b.text, f"not understood: {exc}")
            acct.ignore(*b.all_lines()[1:])
    bad = g.check_all(acct)
    for name, (line, entries) in acls.items():
        chain = Chain(f"acl:{name}", origin=f"{source}:{line}")
        for eline, etext, ew in entries:
            std = bool(ew) and ew[0] == "standard!"
            chain.rules.extend(entry_rules(rs, acct, acl_entry(ew[1:] if std else ew, g, bad, standard=std), eline,
                                           etext))
        rs.chains[chain.name] = chain
    _policy(rs, acct, ifaces, acls, groups_in, groups_out, global_acl, same_inter, same_intra)
    asa_nat.build(rs, acct, g, {i["nameif"]: (i["hw"], i["nameif"]) for i in ifaces if i["nameif"]}, nats)
    return rs


def _interface(rs: RuleSet, acct: Accountant, b: Block) -> dict:
    w = b.words
    hw = " ".join(w[1:])
    info = {"hw": hw, "nameif": None, "level": None, "line": b.line}
    acct.use(b.line)
    for c in b.children:
        cw = c.words
        try:
            if cw[0] == "nameif" and len(cw) > 1:
                info["nameif"] = cw[1]
            elif cw[0] == "security-level" and len(cw) > 1:
                info["level"] = int(cw[1])
            elif cw[:2] == ["ip", "address"] and len(cw) >= 4 and cw[2].count(".") == 3:
                add_address(rs, hw, iface_address(cw[2], cw[3]))
            elif cw[0] in ("description", "shutdown", "no", "speed", "duplex", "vlan", "management-only", "mtu",
                           "channel-group", "lacp", "member-interface", "ddns", "dhcp", "nve-only", "pppoe",
                           "delay", "flowcontrol", "negotiation", "switchport"):
                pass
            elif cw[0] == "ipv6":
                acct.report(c.line, c.text, "IPv6 on an interface (only IPv4 is modelled)")
                continue
            else:
                acct.report(c.line, c.text, f"interface statement '{cw[0]}' is not modelled")
                continue
            acct.use(c.line)
        except (ParseProblem, ValueError) as exc:
            acct.report(c.line, c.text, str(exc))
    if info["nameif"] and info["level"] is None:
        info["level"] = 100 if info["nameif"] == "inside" else 0  # the ASA's defaults
    return info


def _object(acct: Accountant, g: Groups, b: Block, w: list[str], nats: list[asa_nat.NatLine]) -> None:
    acct.use(b.line)
    kind, name = w[1], w[2]
    members = g.define(kind, name)
    for c in b.children:
        if c.words[0] == "nat":
            nats.append(asa_nat.NatLine(c.line, c.text, c.words, name))
            continue
        if c.words[0] == "description":
            acct.ignore(c.line)
            continue
        members.append((c.line, c.text, c.words))
        acct.use(c.line)


def _group(acct: Accountant, g: Groups, b: Block, w: list[str]) -> None:
    kind = w[1]
    if kind not in ("network", "service", "protocol"):
        acct.report(b.line, b.text, f"object-group {kind} is not modelled")
        acct.ignore(*b.all_lines()[1:])
        return
    acct.use(b.line)
    members = g.define(kind, w[2], w[3] if kind == "service" and len(w) > 3 else None)
    for c in b.children:
        members.append((c.line, c.text, c.words))
        acct.use(c.line)


def _acl_line(acct: Accountant, acls, b: Block, w: list[str]) -> None:
    name, rest = w[1], w[2:]
    if rest[:1] == ["line"]:
        rest = rest[2:]
    if rest[:1] == ["remark"]:
        acct.ignore(b.line)
        return
    entries = acls.setdefault(name, (b.line, []))[1]
    if rest[:1] == ["extended"]:
        entries.append((b.line, b.text, rest[1:]))
    elif rest[:1] == ["standard"]:
        entries.append((b.line, b.text, ["standard!", *rest[1:]]))
    else:
        acct.report(b.line, b.text, f"access-list type {rest[0] if rest else '?'} is not modelled")


def _route(rs: RuleSet, acct: Accountant, b: Block, w: list[str]) -> None:
    try:
        prefix = ipaddress.IPv4Network(f"{w[2]}/{w[3]}", strict=False)
        rs.routes.append(Route(prefix, w[1], ipaddress.IPv4Address(w[4])))
        acct.use(b.line)
    except ValueError as exc:
        acct.report(b.line, b.text, f"static route: {exc}")


def _policy(rs, acct, ifaces, acls, groups_in, groups_out, global_acl, same_inter, same_intra) -> None:
    src = rs.source
    named = [i for i in ifaces if i["nameif"]]
    names = {i["nameif"]: (i["hw"], i["nameif"]) for i in named}
    line0 = named[0]["line"] if named else 1
    chain = Chain("asa-ingress", hook="forward", policy="drop", priority=0, origin=f"{src}:{line0}")
    r = chain.rules
    r.append(Rule(Match(states=STATEFUL), "accept", f"{src}:0", text="implicit: replies of accepted connections"))
    for nameif, (acl, line) in list(groups_in.items()) + list(groups_out.items()):
        if nameif not in names:
            acct.report(line, f"access-group {acl} interface {nameif}", f"no interface with nameif {nameif}")
    for i in named:
        me = names[i["nameif"]]
        if not same_intra:
            r.append(Rule(Match(in_ifaces=me, out_ifaces=me), "drop", f"{src}:{i['line']}",
                          text=f"{i['nameif']}: traffic back out the same interface needs same-security-traffic "
                               "permit intra-interface"))
        peers = tuple(n for j in named if j is not i and j["level"] == i["level"] for n in names[j["nameif"]])
        if peers and not same_inter:
            r.append(Rule(Match(in_ifaces=me, out_ifaces=peers), "drop", f"{src}:{i['line']}",
                          text=f"{i['nameif']}: same security level {i['level']} needs same-security-traffic "
                               "permit inter-interface"))
    for i in named:
        me = names[i["nameif"]]
        bound = groups_in.get(i["nameif"])
        for acl, line in [x for x in (bound, global_acl) if x]:
            if acl not in acls:
                u = acct.report(line, f"access-group {acl}", f"access-list {acl} is not defined")
                r.append(Rule(Match(in_ifaces=me), "continue", f"{src}:{line}", text=f"access-group {acl}",
                              unsupported=u))
            else:
                r.append(Rule(Match(in_ifaces=me), "jump", f"{src}:{line}", target=f"acl:{acl}",
                              text=f"access-group {acl} {'global' if (acl, line) == global_acl else 'in'}"))
        if bound or global_acl:
            r.append(Rule(Match(in_ifaces=me), "drop", f"{src}:{(bound or global_acl)[1]}",
                          text="implicit deny at the end of the access rules"))
            continue
        lower = tuple(n for j in named if j["level"] < i["level"] or (
            j["level"] == i["level"] and (same_intra if j is i else same_inter)) for n in names[j["nameif"]])
        if lower:
            r.append(Rule(Match(in_ifaces=me, out_ifaces=lower), "accept", f"{src}:{i['line']}",
                          text=f"{i['nameif']} (security-level {i['level']}) to lower security levels "
                               "(and permitted same-security ones): permitted"))
        r.append(Rule(Match(in_ifaces=me), "drop", f"{src}:{i['line']}",
                      text=f"{i['nameif']} (security-level {i['level']}): no access rule, not to a lower level"))
    rs.chains[chain.name] = chain
    if groups_out:
        eg = Chain("asa-egress", hook="forward", policy="accept", priority=10, origin=f"{src}:{line0}")
        eg.rules.append(Rule(Match(states=STATEFUL), "accept", f"{src}:0", text="implicit: replies of accepted "
                                                                                "connections"))
        for nameif, (acl, line) in groups_out.items():
            me = names.get(nameif, (nameif,))
            if acl not in acls:
                u = acct.report(line, f"access-group {acl} out interface {nameif}", f"access-list {acl} is not defined")
                eg.rules.append(Rule(Match(out_ifaces=me), "continue", f"{src}:{line}", text=f"access-group {acl}",
                                     unsupported=u))
                continue
            eg.rules.append(Rule(Match(out_ifaces=me), "jump", f"{src}:{line}", target=f"acl:{acl}",
                                 text=f"access-group {acl} out interface {nameif}"))
            eg.rules.append(Rule(Match(out_ifaces=me), "drop", f"{src}:{line}",
                                 text=f"implicit deny at the end of access-list {acl}"))
        rs.chains[eg.name] = eg
