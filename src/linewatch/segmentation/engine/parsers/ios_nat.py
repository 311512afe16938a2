"""Cisco IOS / IOS-XE NAT (`ip nat inside|outside source ...`) into `NatRule`s.

Interfaces carry a role (`ip nat inside` / `ip nat outside`); translation happens only between the two. Inside source
translation happens after routing for inside -> outside packets (stage post: source local -> global) and, for a static
one, before routing for outside -> inside packets (stage pre: destination global -> local). `ip nat outside source
static G L` is the mirror image (outside sources appear inside as L). Static translations (`static`, `static tcp|udp
... ports`, `static ... interface IF port`) come before dynamic ones (`source list ACL pool P|interface IF [overload]`)
whose ACL entries become rules in order: permit translates, deny is action none (not translated).

Reported with their line (their packets become insufficient information): `static network` subnet mappings, `vrf`,
`route-map`, `inside destination` (TCP load distribution), NVI (`ip nat source`, `ip nat enable`), undefined ACLs or
pools, and ACL entries the engine cannot express.
"""

from __future__ import annotations

from dataclasses import replace

from linewatch.segmentation.engine.model import Match, NatRule, RuleSet
from linewatch.segmentation.engine.parsers.cisco import Groups, acl_entry
from linewatch.segmentation.engine.parsers.common import (
    Accountant,
    ParseProblem,
    ip_range,
    nat_problem,
    net,
    nothing,
    one_to_one,
    port_number,
    static_nat,
)

HARMLESS = {"extendable", "no-alias", "no-payload", "reversible", "add-route", "overload", "match-in-vrf"}


def build(rs: RuleSet, acct: Accountant, g: Groups, bad: set[str], acls: dict, roles: dict[str, str],
          stmts: list[tuple[int, str, list[str]]]) -> None:
    """`stmts`: the `ip nat ...` lines (translations and pools) in file order; `roles`: interface -> inside|outside."""
    inside = tuple(n for n, r in roles.items() if r == "inside") or nothing("ip nat inside")
    outside = tuple(n for n, r in roles.items() if r == "outside") or nothing("ip nat outside")
    pools: dict[str, tuple] = {}
    statics, dynamics = [], []
    for line, text, w in stmts:
        if w[2] == "pool":
            try:
                pools[w[3]] = _pool(w[4:])
                acct.use(line)
            except (ParseProblem, IndexError, ValueError) as exc:
                acct.report(line, text, f"NAT pool: {exc or 'incomplete'}")
        elif w[2] in ("inside", "outside") and len(w) > 4 and w[3] == "source":
            (statics if w[4] == "static" else dynamics).append((line, text, w))
        else:
            nat_problem(rs, acct, line, text, f"'ip nat {w[2]}' is not modelled")
    for line, text, w in statics + dynamics:
        try:
            if w[4] == "static":
                _static(rs, acct, line, text, w, inside, outside)
            else:
                _dynamic(rs, acct, g, bad, acls, pools, line, text, w, inside, outside)
            acct.use(line)
        except (ParseProblem, IndexError, ValueError, KeyError) as exc:
            u = acct.report(line, text, f"NAT not modelled: {exc or 'incomplete statement'}")
            local, glob = (inside, outside) if w[2] == "inside" else (outside, inside)
            scope = [("post", Match(in_ifaces=local, out_ifaces=glob))]  # only local -> global packets translate
            if w[4] == "static":
                scope.insert(0, ("pre", Match(in_ifaces=glob)))  # and, for a static one, global -> local
            for stage, m in scope:
                rs.nat.append(NatRule(stage, "none", m, f"{rs.source}:{line}", text=text, unsupported=u))


def _pool(w: list[str]) -> tuple:
    """`start end netmask M` | `start end prefix-length N` [type ...]."""
    return ip_range(w[0], w[1])


def _options(rest: list[str]) -> str | None:
    """Why the options keep a translation from being modelled (None: they do not change what it translates)."""
    i = 0
    while i < len(rest):
        x = rest[i]
        if x in ("vrf", "route-map"):
            return f"'{x} {rest[i + 1] if i + 1 < len(rest) else ''}' on a NAT translation is not modelled"
        if x in ("redundancy", "mapping-id"):
            i += 2
            continue
        if x not in HARMLESS:
            raise ParseProblem(f"NAT option {x}")
        i += 1
    return None


def _iface_host(rs: RuleSet, name: str) -> tuple:
    itf = rs.interfaces.get(name)
    if itf is None or not itf.addresses:
        raise ParseProblem(f"interface {name} has no static IPv4 address")
    return (net(str(itf.addresses[0].ip)),)


def _static(rs, acct, line, text, w, inside, outside) -> None:
    """`ip nat inside|outside source static [tcp|udp|network] A [p] B [q] [options]`."""
    side = w[2]
    rest = w[5:]
    proto = rport = mport = None
    if rest[0] == "network":
        a, b = net(rest[1]), net(rest[2])
        plen = rest[3][1:] if rest[3].startswith("/") else str(net(f"0.0.0.0/{rest[3]}").prefixlen)
        real, mapped = (net(f"{a.network_address}/{plen}"),), (net(f"{b.network_address}/{plen}"),)
        rest = rest[4:]
    elif rest[0] in ("tcp", "udp"):
        proto = 6 if rest[0] == "tcp" else 17
        real, rport = (net(rest[1]),), port_number(rest[2])
        if rest[3] == "interface":
            mapped, mport, rest = _iface_host(rs, rest[4]), port_number(rest[5]), rest[6:]
        else:
            mapped, mport, rest = (net(rest[3]),), port_number(rest[4]), rest[5:]
    else:
        real = (net(rest[0]),)
        if rest[1] == "interface":
            mapped, rest = _iface_host(rs, rest[2]), rest[3:]
        else:
            mapped, rest = (net(rest[1]),), rest[2:]
    why = _options(rest) or one_to_one(real, mapped)
    problem = acct.report(line, text, why) if why else None
    local_ifs, global_ifs = (inside, outside) if side == "inside" else (outside, inside)
    static_nat(rs, real, mapped, local_ifs, global_ifs, f"{rs.source}:{line}", text, proto, rport, mport, problem)


def _dynamic(rs, acct, g: Groups, bad, acls, pools, line, text, w, inside, outside) -> None:
    """`ip nat inside|outside source list ACL pool P|interface IF [overload]`: the ACL's entries in order."""
    side = w[2]
    if w[4] != "list":
        raise ParseProblem(f"'source {w[4]}' (only static and list are modelled)")
    acl = w[5]
    rest = w[6:]
    masq_if = None
    if rest[0] == "pool":
        if rest[1] not in pools:
            raise ParseProblem(f"NAT pool {rest[1]} is not defined")
        pool = pools[rest[1]]
        rest = rest[2:]
    elif rest[0] == "interface":
        masq_if, rest = rest[1], rest[2:]
        pool = _iface_host(rs, masq_if) if masq_if in rs.interfaces and rs.interfaces[masq_if].addresses else ()
    else:
        raise ParseProblem(f"'{rest[0]}' as the translated address")
    why = _options(rest)
    if why:
        raise ParseProblem(why)
    if acl not in acls:
        raise ParseProblem(f"ACL {acl} is not defined")
    from_ifs, to_ifs = (inside, outside) if side == "inside" else (outside, inside)
    origin_of = f"{rs.source}:{{}}"
    _aline, kind, entries = acls[acl]
    for eline, etext, ew in entries:
        ew = ew[1:] if ew and ew[0].isdigit() else ew
        if not ew or ew[0] == "remark":
            continue
        e = acl_entry(ew, g, bad, standard=kind == "standard")
        if e.inactive:
            continue
        for m in e.matches:
            m = replace(m, in_ifaces=from_ifs, out_ifaces=(masq_if,) if masq_if and not pool else to_ifs)
            origin = origin_of.format(line)
            label = f"{text} / {etext.strip()}"
            if e.problem:
                u = next((x for x in rs.unsupported if x.line == eline), None) or acct.report(
                    eline, etext, f"{e.problem} in NAT ACL {acl}")
                rs.nat.append(NatRule("post", "none", m, origin, text=label, unsupported=u))
            elif e.action == "deny":
                rs.nat.append(NatRule("post", "none", m, origin, text=label))
            elif pool:
                rs.nat.append(NatRule("post", "snat", m, origin, pool, text=label))
            else:
                rs.nat.append(NatRule("post", "masquerade", m, origin, text=label))


__all__ = ["build", "Match"]
