"""What the vendor parsers share: line accounting, address and port helpers, well-known services, and the
zone-policy rule set (stateful firewalls whose policies name a from-zone and a to-zone).

Every line of a vendor configuration ends up in one of three places: used for the model, known not to affect
filtering (`ignore`, e.g. hostname, logging, routing protocols), or reported as `Unsupported` with its line.
`RuleSet.accounted` holds the first two, `RuleSet.unsupported` the third, so a test can check nothing is dropped.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace

from linewatch.segmentation.engine.model import (
    PROTOCOLS,
    Chain,
    Interface,
    Match,
    NatRule,
    PortRange,
    Rule,
    RuleSet,
    Unsupported,
)

ANY_PORTS = (PortRange(0, 65535),)
STATEFUL = ("ESTABLISHED", "RELATED")

# Cisco keyword port names (IOS and ASA `eq www` etc.); the tcp/udp split matters only where a name is one-sided.
CISCO_PORTS = {
    "bgp": 179, "chargen": 19, "cmd": 514, "daytime": 13, "discard": 9, "domain": 53, "echo": 7, "exec": 512,
    "finger": 79, "ftp": 21, "ftp-data": 20, "gopher": 70, "hostname": 101, "ident": 113, "irc": 194, "klogin": 543,
    "kshell": 544, "login": 513, "lpd": 515, "nntp": 119, "pim-auto-rp": 496, "pop2": 109, "pop3": 110, "smtp": 25,
    "sunrpc": 111, "tacacs": 49, "talk": 517, "telnet": 23, "time": 37, "uucp": 540, "whois": 43, "www": 80,
    "http": 80, "https": 443, "ssh": 22, "ldap": 389, "ldaps": 636, "imap4": 143, "lotusnotes": 1352,
    "netbios-ssn": 139, "sqlnet": 1521, "h323": 1720, "rtsp": 554, "sip": 5060, "citrix-ica": 1494,
    "ctiqbe": 2748, "pptp": 1723, "kerberos": 88, "aol": 5190, "biff": 512, "bootpc": 68, "bootps": 67,
    "dnsix": 195, "isakmp": 500, "mobile-ip": 434, "nameserver": 42, "netbios-dgm": 138, "netbios-ns": 137,
    "ntp": 123, "rip": 520, "snmp": 161, "snmptrap": 162, "syslog": 514, "tftp": 69, "xdmcp": 177, "radius": 1645,
    "radius-acct": 1646, "secureid-udp": 5510, "non500-isakmp": 4500, "rdp": 3389, "modbus": 502,
    "cifs": 3020, "nfs": 2049, "rsh": 514, "pcanywhere-data": 5631, "pcanywhere-status": 5632, "vxlan": 4789,
}
PROTO_ALIASES = {"ipinip": 4, "eigrp": 88, "pim": 103, "pcp": 108, "nos": 94, "ipsec": 50, "pptp": 47, "snp": 109}


class ParseProblem(Exception):
    """A construct the parser cannot model; becomes an Unsupported at the current line."""


@dataclass
class Accountant:
    """Line bookkeeping for one file."""

    rs: RuleSet

    def use(self, *lines: int) -> None:
        self.rs.accounted.update(lines)

    ignore = use  # a line known not to affect filtering counts as accounted for

    def report(self, line: int, text: str, why: str, blocking: bool = False) -> Unsupported:
        u = Unsupported(self.rs.source, line, text.strip(), why)
        self.rs.unsupported.append(u)
        if blocking:
            self.rs.blocking.append(u)
        return u


def net(addr: str, mask: str | None = None, wildcard: bool = False) -> ipaddress.IPv4Network:
    """`10.0.0.0/24`, `10.0.0.0 255.255.255.0` or (wildcard) `10.0.0.0 0.0.0.255`; IPv6 raises ParseProblem."""
    try:
        if mask is None:
            return ipaddress.IPv4Network(addr, strict=False)
        if wildcard:
            inv = int(ipaddress.IPv4Address(mask))
            mask = str(ipaddress.IPv4Address(inv ^ 0xFFFFFFFF))
        return ipaddress.IPv4Network(f"{addr}/{mask}", strict=False)
    except ValueError:
        if ":" in addr:
            raise ParseProblem(f"IPv6 address {addr} (only IPv4 is modelled)") from None
        raise ParseProblem(f"address {addr}{' ' + mask if mask else ''} (not an IPv4 prefix, or a "
                           f"non-contiguous {'wildcard' if wildcard else 'mask'})") from None


def ip_range(lo: str, hi: str) -> tuple[ipaddress.IPv4Network, ...]:
    try:
        a, b = ipaddress.IPv4Address(lo), ipaddress.IPv4Address(hi)
    except ValueError:
        raise ParseProblem(f"address range {lo}-{hi} (IPv4 only)") from None
    if a > b:
        raise ParseProblem(f"address range {lo}-{hi} ends before it starts")
    return tuple(ipaddress.summarize_address_range(a, b))


def iface_address(addr: str, mask: str | None = None) -> ipaddress.IPv4Interface:
    try:
        return ipaddress.IPv4Interface(f"{addr}/{mask}" if mask else addr)
    except ValueError:
        raise ParseProblem(f"interface address {addr} {mask or ''} (IPv4 only)") from None


def add_address(rs: RuleSet, name: str, addr: ipaddress.IPv4Interface) -> None:
    old = rs.interfaces.get(name)
    rs.interfaces[name] = Interface(name, (old.addresses if old else ()) + (addr,))


def proto_number(name: str) -> int:
    n = name.lower()
    if n.isdigit() and int(n) < 256:
        return int(n)
    if n in PROTOCOLS:
        return PROTOCOLS[n]
    if n in PROTO_ALIASES:
        return PROTO_ALIASES[n]
    raise ParseProblem(f"protocol {name}")


def port_number(name: str, names: dict[str, int] = CISCO_PORTS) -> int:
    if name.isdigit() and int(name) <= 65535:
        return int(name)
    if name.lower() in names:
        return names[name.lower()]
    raise ParseProblem(f"port {name}")


def port_op(op: str, args: list[str], names: dict[str, int] = CISCO_PORTS) -> tuple[tuple[PortRange, ...], int]:
    """Cisco port operators (eq, neq, lt, gt, range); returns the ranges and how many arguments were consumed."""
    if op == "range":
        return (PortRange(port_number(args[0], names), port_number(args[1], names)),), 2
    p = port_number(args[0], names)
    if op == "eq":
        i, vals = 1, [p]
        while i < len(args) and (args[i].isdigit() or args[i].lower() in names) and op == "eq":
            vals.append(port_number(args[i], names))  # IOS allows `eq 80 443`
            i += 1
        return tuple(PortRange(v, v) for v in vals), i
    if op == "lt":
        if p == 0:
            raise ParseProblem("port lt 0 matches nothing")
        return (PortRange(0, p - 1),), 1
    if op == "gt":
        if p == 65535:
            raise ParseProblem("port gt 65535 matches nothing")
        return (PortRange(p + 1, 65535),), 1
    if op == "neq":
        return tuple(r for r in (PortRange(0, p - 1) if p else None, PortRange(p + 1, 65535) if p < 65535 else None)
                     if r), 1
    raise ParseProblem(f"port operator {op}")


@dataclass(frozen=True)
class Svc:
    """One service: a protocol (None: any) with destination and source port ranges (empty: any)."""

    proto: int | None = None
    dports: tuple[PortRange, ...] = ()
    sports: tuple[PortRange, ...] = ()
    icmp_typed: bool = False  # an ICMP type/code restriction, which the engine cannot express

    def match_fields(self) -> dict:
        f: dict = {}
        if self.proto is not None:
            f["protocols"] = (self.proto,)
        if self.dports:
            f["dports"] = self.dports
        if self.sports:
            f["sports"] = self.sports
        return f


ANY_SVC = Svc()


def tcp_udp(port: int | tuple[int, int], protos: tuple[str, ...] = ("tcp",)) -> tuple[Svc, ...]:
    lo, hi = (port, port) if isinstance(port, int) else port
    return tuple(Svc(PROTOCOLS[p], (PortRange(lo, hi),)) for p in protos)


def matches(src, dst, services: list[Svc] | tuple[Svc, ...], base: dict | None = None,
            src_negated: bool = False, dst_negated: bool = False) -> list[Match]:
    """One Match per service (a policy naming several services is several rules with the same origin)."""
    out = []
    for s in services or (ANY_SVC,):
        f = dict(base or {})
        if src:
            f["src"], f["src_negated"] = tuple(src), src_negated
        if dst:
            f["dst"], f["dst_negated"] = tuple(dst), dst_negated
        f |= s.match_fields()
        out.append(Match(**f))
    return out


def nothing(what: str) -> tuple[str, ...]:
    """An interface list that matches no interface (a zone without members): a name no device has."""
    return (f"<{what}: no interfaces>",)


def reply_match(m: Match) -> Match:
    """The replies of what a match selects: addresses, ports and interfaces exchanged, state ESTABLISHED/RELATED."""
    return Match(src=m.dst, src_negated=m.dst_negated, dst=m.src, dst_negated=m.src_negated,
                 protocols=m.protocols, protocols_negated=m.protocols_negated,
                 sports=m.dports, sports_negated=m.dports_negated, dports=m.sports, dports_negated=m.sports_negated,
                 states=STATEFUL, in_ifaces=m.out_ifaces, in_negated=m.out_negated,
                 out_ifaces=m.in_ifaces, out_negated=m.in_negated)


@dataclass
class Policy:
    """One security policy of a zone-based stateful firewall, before it becomes rules."""

    name: str
    line: int
    text: str
    from_ifaces: tuple[str, ...] = ()  # () = any zone
    to_ifaces: tuple[str, ...] = ()
    src: tuple = ()
    dst: tuple = ()
    src_negated: bool = False
    dst_negated: bool = False
    services: list[Svc] = field(default_factory=list)
    action: str = "drop"  # accept | drop | reject
    reject_with: str | None = None
    problem: str | None = None
    problem_line: int = 0
    problem_text: str = ""
    disabled: bool = False


def policy_ruleset(rs: RuleSet, acct: Accountant, policies: list[Policy], defaults: list[tuple[Match, str, str, str]],
                   default_action: str, default_origin: str, default_text: str, stateful: bool = True) -> None:
    """A forward chain: replies of accepted sessions (stateful), the policies in order, the per-zone defaults
    (match, action, origin, text), then the default action as the chain policy."""
    chain = Chain("security-policy", hook="forward", policy=default_action, origin=default_origin)
    if stateful:
        chain.rules.append(Rule(Match(states=STATEFUL), "accept", f"{rs.source}:0",
                                text="implicit: replies of accepted sessions (stateful firewall)"))
    for p in policies:
        if p.disabled:
            continue
        origin = f"{rs.source}:{p.line}"
        unsupported = None
        if p.problem:
            unsupported = acct.report(p.problem_line or p.line, p.problem_text or p.text, p.problem)
        if any(s.icmp_typed for s in p.services) and unsupported is None:
            unsupported = acct.report(p.line, p.text, "ICMP type/code match is not modelled")
        base = {}
        if p.from_ifaces:
            base["in_ifaces"] = p.from_ifaces
        if p.to_ifaces:
            base["out_ifaces"] = p.to_ifaces
        for m in matches(p.src, p.dst, p.services, base, p.src_negated, p.dst_negated):
            if unsupported is not None:
                chain.rules.append(Rule(m, "continue", origin, text=f"{p.name}: {p.text}", unsupported=unsupported))
            else:
                chain.rules.append(Rule(m, p.action, origin, reject_with=p.reject_with, text=f"{p.name}: {p.text}"))
    for m, action, origin, text in defaults:
        chain.rules.append(Rule(m, action, origin, text=text))
    chain.rules.append(Rule(Match(), default_action, default_origin, text=default_text))
    rs.chains[chain.name] = chain


def strip_quotes(s: str) -> str:
    return s[1:-1] if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'" else s


# --- address translation (NatRule) -------------------------------------------------------------------------------
def nat_problem(rs: RuleSet, acct: Accountant, line: int, text: str, why: str, stage: str | None = None,
                match: Match | None = None) -> None:
    """A NAT construct that cannot be modelled: its packets (those `match` selects, any when None) become
    insufficient information in the stage(s) it might translate, instead of every answer through the device."""
    u = acct.report(line, text, why)
    for st in (stage,) if stage else ("pre", "post"):
        m = match or Match()
        if st == "pre" and (m.out_ifaces or m.out_negated):  # before routing there is no out interface yet
            m = replace(m, out_ifaces=(), out_negated=False)
        rs.nat.append(NatRule(st, "none", m, f"{rs.source}:{line}", text=text.strip(), unsupported=u))


def host_count(nets) -> int:
    return sum(n.num_addresses for n in nets)


def one_to_one(real: tuple, mapped: tuple) -> str | None:
    """Why a static (one-to-one) translation of `real` to `mapped` cannot be a NatRule, or None.

    A NatRule rewrites to any address of its pool, so a static translation is exact only between single hosts; a
    subnet to an equal-sized subnet is a prefix mapping (NETMAP), which the model does not have."""
    if not real or not mapped:
        return "a static translation of 'any'"
    if host_count(real) == 1 and host_count(mapped) == 1:
        return None
    a, b = host_count(real), host_count(mapped)
    if a == b:
        return f"static one-to-one translation of {a} addresses (a subnet mapping, NETMAP) is not modelled"
    return f"static translation of {a} addresses to {b} is not modelled (only host to host)"


def static_nat(rs: RuleSet, real: tuple, mapped: tuple, real_ifs: tuple[str, ...], mapped_ifs: tuple[str, ...],
               origin: str, text: str, proto: int | None = None, real_port: int | None = None,
               mapped_port: int | None = None, problem: Unsupported | None = None,
               identity: bool = False, inbound: bool = True) -> None:
    """A bidirectional static translation as two NatRules: the inbound half (stage pre, destination `mapped` -> `real`
    arriving on a mapped-side interface) and the outbound half (stage post, source `real` -> `mapped` leaving by a
    mapped-side interface). `identity`: both halves match and translate nothing (action none)."""
    base: dict = {}
    if proto is not None:
        base["protocols"] = (proto,)
    pre = dict(base, dst=tuple(mapped))
    post = dict(base, src=tuple(real))
    if real_port is not None and mapped_port is not None:
        pre["dports"] = (PortRange(mapped_port, mapped_port),)
        post["sports"] = (PortRange(real_port, real_port),)
    if mapped_ifs:
        pre["in_ifaces"] = mapped_ifs
        post["out_ifaces"] = mapped_ifs
    if real_ifs:
        post["in_ifaces"] = real_ifs
    if inbound:
        rs.nat.append(NatRule("pre", "none" if identity or problem else "dnat", Match(**pre), origin,
                              () if identity or problem else tuple(real),
                              None if identity or problem or real_port is None else PortRange(real_port, real_port),
                              text, problem))
    rs.nat.append(NatRule("post", "none" if identity or problem else "snat", Match(**post), origin,
                          () if identity or problem else tuple(mapped),
                          None if identity or problem or mapped_port is None else PortRange(mapped_port, mapped_port),
                          text, problem))


def routed_to(rs: RuleSet, ifaces: tuple[str, ...], dst: tuple, cache: dict | None = None) -> tuple | None:
    """The part of `dst` (() = any) the configuration's own routes (connected + static, longest prefix) send out one
    of `ifaces`: a vendor rule naming a destination zone before destination NAT selects by the route of the original
    destination. None when the configuration has no routes to tell. `cache` keeps the region per interface set."""
    key = tuple(sorted(ifaces))
    if cache is not None and key in cache:
        region = cache[key]
    else:
        region = _routed_region(rs, ifaces)
        if cache is not None:
            cache[key] = region
    if region is None:
        return None
    targets = dst or (ipaddress.IPv4Network("0.0.0.0/0"),)
    out_nets: list[ipaddress.IPv4Network] = []
    for d in targets:
        for r in region:
            if r.subnet_of(d):
                out_nets.append(r)
            elif d.subnet_of(r):
                out_nets.append(d)
    return tuple(ipaddress.collapse_addresses(out_nets))


def _routed_region(rs: RuleSet, ifaces: tuple[str, ...]) -> list | None:
    table: list[tuple[ipaddress.IPv4Network, str | None]] = []
    for name, itf in rs.interfaces.items():
        table.extend((n, name) for n in itf.networks)
    for r in rs.routes:
        out = r.interface
        if out is None and r.next_hop is not None:
            out = next((n for n, itf in rs.interfaces.items() if any(r.next_hop in x for x in itf.networks)), None)
        table.append((r.prefix, out))
    if not table:
        return None
    wanted = set(ifaces)
    mine = [p for p, out in table if out in wanted]
    other = [p for p, out in table if out not in wanted]
    region: list[ipaddress.IPv4Network] = []
    for p in mine:
        parts = [p]
        for q in other:
            if q.prefixlen > p.prefixlen and q.subnet_of(p):
                parts = [x for part in parts for x in (part.address_exclude(q) if q.subnet_of(part) else (part,))]
        region.extend(parts)
    return region


def covers(outer: tuple, inner: tuple) -> bool | None:
    """Does address set `outer` (() = any) hold all of `inner`: True, False (disjoint) or None (in part)."""
    if not outer:
        return True
    if not inner:
        return None
    inside = [any(i.subnet_of(o) for o in outer) for i in inner]
    if all(inside):
        return True
    if not any(i.overlaps(o) for i in inner for o in outer):
        return False
    return None


def _port_cover(outer: tuple[PortRange, ...], inner: tuple[PortRange, ...]) -> bool | None:
    if not outer:
        return True
    if not inner:
        return None
    if all(any(o.lo <= i.lo and i.hi <= o.hi for o in outer) for i in inner):
        return True
    if not any(o.lo <= i.hi and i.lo <= o.hi for o in outer for i in inner):
        return False
    return None


def pre_nat_policies(policies: list[Policy], dnats: list[NatRule]) -> list[Policy]:
    """Policies written against pre-NAT destinations (PAN-OS security rules), made to mean the same in the Linux-order
    model whose filter sees the translated destination: before each policy, a copy per destination-NAT rule whose
    original destinations (and ports) the policy names, matching the translated address (and port) instead.

    Exact for translated packets; a copy also matches packets sent to the translated address directly from the same
    zone and source (the model has no conntrack original-destination match to tell them apart). A policy naming only
    part of a rule's original destinations or ports makes its copy insufficient information."""
    out: list[Policy] = []
    for p in policies:
        if not p.disabled:
            for n in dnats:
                q = _translated_view(p, n)
                if q is not None:
                    out.append(q)
        out.append(p)
    return out


def _translated_view(p: Policy, n: NatRule) -> Policy | None:
    m = n.match
    if p.from_ifaces and m.in_ifaces and not set(p.from_ifaces) & set(m.in_ifaces):
        return None
    partial: list[str] = []
    if p.dst_negated:
        partial.append("a negated destination")
    c = covers(p.dst, m.dst) if not p.dst_negated else None
    if c is False:
        return None
    if c is None and not p.dst_negated:
        partial.append("part of its original destinations")
    services: list[Svc] = []
    for s in p.services or [ANY_SVC]:
        if s.proto is not None and m.protocols and s.proto not in m.protocols:
            continue
        if n.to_ports is None or not s.dports:
            services.append(s)
            continue
        pc = _port_cover(s.dports, m.dports)
        if pc is False:
            continue
        if pc is None:
            partial.append("part of its original ports")
        services.append(Svc(s.proto, (n.to_ports,), s.sports, s.icmp_typed))
    if not services:
        return None
    if not p.dst and n.to_ports is None and not partial:
        return None  # destination any, port kept: the policy itself already matches the translated packets
    if not p.services and m.protocols:
        services = [Svc(x) for x in m.protocols]
    q = Policy(**{**p.__dict__, "services": services})
    q.name = f"{p.name} (pre-NAT destination, translated by {n.origin})"
    q.dst, q.dst_negated = n.to_addresses, False
    if not q.from_ifaces:
        q.from_ifaces = m.in_ifaces
    if partial and not q.problem:
        q.problem = f"policy names {' and '.join(partial)} of the destination NAT at {n.origin}"
    return q
