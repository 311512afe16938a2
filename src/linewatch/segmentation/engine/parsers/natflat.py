"""NAT chains of netfilter (iptables-save, nft text, nft JSON) into the model's flat first-match `NatRule` lists.

A parser turns each rule of a NAT chain into an `Entry`; `flatten` walks a base chain, following jumps into user
chains: a rule reached through a jump also needs the jump's match (`NatRule.also`), and a RETURN in a user chain
exempts the packets it matches from the rest of that chain (`NatRule.unless`), so the flat list decides exactly as
the chain walk does. A translation or an accept ends the walk (in iptables for the whole table, in nft for the base
chain). What cannot be flattened (goto, a jump to a missing chain, nesting too deep) becomes a rule with
`unsupported` for the packets it might match.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from linewatch.segmentation.engine.model import Match, NatRule, PortRange, RuleSet, Unsupported

MAX_DEPTH = 16


@dataclass(frozen=True)
class Entry:
    """One rule of a NAT chain, before flattening."""

    match: Match
    kind: str  # nat | none | return | jump | goto | continue
    origin: str
    line: int
    text: str = ""
    action: str = ""  # for kind nat: dnat | snat | masquerade | redirect
    to_addresses: tuple[ipaddress.IPv4Network, ...] = ()
    to_ports: PortRange | None = None
    target: str | None = None
    unsupported: Unsupported | None = None


def flatten(rs: RuleSet, chains: dict[str, list[Entry]], base: str, stage: str) -> list[NatRule]:
    out: list[NatRule] = []
    _walk(rs, chains, base, stage, (), (), 0, out)
    return out


def _walk(rs, chains, name, stage, also, unless, depth, out) -> None:
    returns: list[Match] = []
    for e in chains.get(name, []):
        guard = unless + tuple(returns)
        if e.unsupported is not None:
            out.append(_unknown(stage, e, e.unsupported, also, guard))
        elif e.kind == "nat":
            try:
                out.append(NatRule(stage, e.action, e.match, e.origin, e.to_addresses, e.to_ports, e.text,
                                   also=also, unless=guard))
            except ValueError as exc:  # e.g. DNAT in POSTROUTING: the kernel refuses it too
                out.append(_unknown(stage, e, _report(rs, e, str(exc)), also, guard))
        elif e.kind == "none" or (e.kind == "return" and depth == 0):
            out.append(NatRule(stage, "none", e.match, e.origin, text=e.text, also=also, unless=guard))
        elif e.kind == "return":
            returns.append(e.match)
        elif e.kind == "jump":
            if e.target not in chains:
                out.append(_unknown(stage, e, _report(rs, e, f"jump to undefined or non-NAT chain {e.target}"),
                                    also, guard))
            elif depth >= MAX_DEPTH:
                out.append(_unknown(stage, e, _report(rs, e, f"jumps nested deeper than {MAX_DEPTH}"), also, guard))
            else:
                _walk(rs, chains, e.target, stage, also + (e.match,), guard, depth + 1, out)
        elif e.kind == "goto":
            out.append(_unknown(stage, e, _report(rs, e, "goto in a NAT chain is not modelled"), also, guard))
        # continue (log, counter): no effect on translation


def _report(rs: RuleSet, e: Entry, why: str) -> Unsupported:
    u = Unsupported(rs.source, e.line, e.text, why)
    rs.unsupported.append(u)
    return u


def _unknown(stage, e: Entry, u: Unsupported, also, unless) -> NatRule:
    return NatRule(stage, "none", e.match, e.origin, text=e.text, unsupported=u, also=also, unless=unless)


def addresses(spec: str) -> tuple[ipaddress.IPv4Network, ...]:
    """`a`, `a-b` or `a/len` as networks; ValueError for anything else (IPv6 included)."""
    if "-" in spec:
        a, b = (ipaddress.IPv4Address(x) for x in spec.split("-", 1))
        if int(b) < int(a):
            raise ValueError(f"empty address range {spec}")
        return tuple(ipaddress.summarize_address_range(a, b))
    return (ipaddress.IPv4Network(spec, strict=False),)


def port_range(spec: str) -> PortRange:
    lo, _, hi = spec.partition("-")
    return PortRange(int(lo), int(hi or lo))


def split_target(spec: str) -> tuple[str, str | None]:
    """`10.0.0.1-10.0.0.4:80-90` -> ("10.0.0.1-10.0.0.4", "80-90"); `:80` -> ("", "80"); an IPv6 `[..]` stays."""
    if spec.startswith("["):
        return spec, None
    addr, sep, ports = spec.rpartition(":") if spec.count(":") == 1 else (spec, "", "")
    return (addr, ports) if sep else (spec, None)
