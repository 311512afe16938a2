"""FortiOS address translation (policy-based NAT mode) into `NatRule`s.

A VIP (`config firewall vip`, type static-nat) translates destination `extip` arriving on `extintf` to `mappedip`
(stage pre dnat; `portforward enable`: only `protocol`/`extport`, rewritten to `mappedport`); FortiOS applies it only
when a policy names the VIP (or a `vipgrp` holding it) as destination, and matches that policy against the translated
packet, so the policy's destination is the VIP's mapped address (what the Linux-order filter sees). `nat-source-vip
enable` also translates the mapped server's outbound source back to `extip` (stage post snat).

Source NAT is a setting of each accept policy, so the post stage mirrors the policy list: in policy order, a policy
with `set nat enable` masquerades to its outgoing interface's address, or with `set ippool enable` + `poolname`
translates to the pools' addresses (`config firewall ippool` startip-endip); a policy without NAT is action none, so
a packet keeps the translation of the policy that accepted it.

Reported with their line: VIP types other than static-nat, ext/mapped ranges (NETMAP), port range remapping (a policy
naming such a VIP is insufficient information), `vip6`/`vip46`/`vip64` (IPv6 NAT), `central-snat-map` (central NAT
mode: device-wide, it replaces both policy NAT and policy VIPs).
"""

from __future__ import annotations

from linewatch.segmentation.engine.model import Match, NatRule, PortRange, RuleSet
from linewatch.segmentation.engine.parsers.common import (
    Accountant,
    ParseProblem,
    Policy,
    ip_range,
    matches,
    one_to_one,
)

PROTOS = {"tcp": 6, "udp": 17, "sctp": 132}


def _val(e, key: str, default: str | None = None) -> str | None:
    v = e.values.get(key)
    return v[0][0] if v and v[0] else default


def _range(text: str) -> tuple:
    lo, _, hi = text.partition("-")
    return ip_range(lo, hi or lo)


def _ports(text: str) -> PortRange:
    lo, _, hi = text.partition("-")
    try:
        return PortRange(int(lo), int(hi or lo))
    except ValueError:
        raise ParseProblem(f"port range {text}") from None


class Vip:
    """One VIP, parsed: what it matches (dst, protocol, ports, in interfaces) and translates to."""

    def __init__(self, e) -> None:
        self.name, self.line, self.entry = e.name or "", e.line, e
        kind = _val(e, "type", "static-nat")
        if kind != "static-nat":
            raise ParseProblem(f"VIP type {kind} is not modelled")
        if "extip" not in e.values or "mappedip" not in e.values:
            raise ParseProblem("VIP without extip/mappedip")
        self.ext = _range(_val(e, "extip") or "")
        self.mapped = tuple(n for r in e.values["mappedip"][0] for n in _range(r))
        why = one_to_one(self.ext, self.mapped)
        if why:
            raise ParseProblem(why)
        intf = e.values.get("extintf", (["any"], 0, ""))[0]
        self.extintf = () if "any" in intf else tuple(intf)
        self.proto = self.ext_port = self.mapped_port = None
        if _val(e, "portforward", "disable") == "enable":
            proto = _val(e, "protocol", "tcp") or "tcp"
            if proto not in PROTOS:
                raise ParseProblem(f"port forwarding of protocol {proto} is not modelled")
            self.proto = PROTOS[proto]
            self.ext_port = _ports(_val(e, "extport", "") or "")
            self.mapped_port = _ports(_val(e, "mappedport", "") or "") if "mappedport" in e.values else self.ext_port
            if self.ext_port != self.mapped_port and (self.ext_port.lo != self.ext_port.hi
                                                      or self.mapped_port.lo != self.mapped_port.hi):
                raise ParseProblem("port range remapping is not modelled (only one port to one port)")
        self.snat_back = _val(e, "nat-source-vip", "disable") == "enable"

    def rules(self, rs: RuleSet) -> list[NatRule]:
        origin = f"{rs.source}:{self.line}"
        text = f"vip {self.name}"
        pre: dict = {"dst": self.ext}
        post: dict = {"src": self.mapped}
        if self.extintf:
            pre["in_ifaces"] = post["out_ifaces"] = self.extintf
        if self.proto is not None:
            pre |= {"protocols": (self.proto,), "dports": (self.ext_port,)}
            post |= {"protocols": (self.proto,), "sports": (self.mapped_port,)}
        keep = self.ext_port == self.mapped_port
        out = [NatRule("pre", "dnat", Match(**pre), origin, self.mapped, None if keep else self.mapped_port, text)]
        if self.snat_back:
            out.append(NatRule("post", "snat", Match(**post), origin, self.ext, None if keep else self.ext_port, text))
        return out


def vips(acct: Accountant, sections: dict) -> tuple[dict[str, Vip], dict[str, list[str]]]:
    """VIPs and VIP groups by name (each VIP that cannot be modelled is reported at its line and left out; a policy
    naming it becomes insufficient information)."""
    out: dict[str, Vip] = {}
    failed: dict[str, list[str]] = {}
    for e in sections.get("firewall vip", (0, []))[1]:
        try:
            out[e.name or ""] = Vip(e)
        except (ParseProblem, IndexError, ValueError) as exc:
            acct.report(e.line, f"edit {e.name}", f"vip {e.name}: {exc}")
            failed[e.name or ""] = [e.name or ""]  # a policy naming it: "vip ... not modelled", its packets unknown
    groups = {e.name or "": list(e.values.get("member", ([], 0, ""))[0])
              for e in sections.get("firewall vipgrp", (0, []))[1]}
    return out, failed | groups


def pools(acct: Accountant, sections: dict) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    for e in sections.get("firewall ippool", (0, []))[1]:
        try:
            kind = _val(e, "type", "overload")
            if kind not in ("overload", "one-to-one", "fixed-port-range", "port-block-allocation"):
                raise ParseProblem(f"ippool type {kind}")
            out[e.name or ""] = ip_range(_val(e, "startip", "") or "", _val(e, "endip", "") or "")
        except (ParseProblem, IndexError, ValueError) as exc:
            acct.report(e.line, f"edit {e.name}", f"ippool {e.name}: {exc}")
    return out


def build(rs: RuleSet, acct: Accountant, entries: list, policies: list[Policy], used_vips: list[Vip],
          ippools: dict[str, tuple]) -> None:
    """`entries` and `policies` pair up (the policy entries and their parsed Policy)."""
    seen: set[str] = set()
    for v in used_vips:
        if v.name not in seen:
            seen.add(v.name)
            rs.nat.extend(v.rules(rs))
    for e, p in zip(entries, policies, strict=True):
        if p.disabled or p.action != "accept":
            continue
        base: dict = {}
        if p.from_ifaces:
            base["in_ifaces"] = p.from_ifaces
        if p.to_ifaces:
            base["out_ifaces"] = p.to_ifaces
        ms = matches(p.src, p.dst, p.services, base, p.src_negated, p.dst_negated)
        origin = f"{rs.source}:{e.line}"
        nat = e.values.get("nat")
        if not nat or nat[0][:1] != ["enable"]:
            rs.nat.extend(NatRule("post", "none", m, origin, text=p.name) for m in ms)
            continue
        at = nat  # the statement a problem is reported at
        try:
            if p.problem:
                raise ParseProblem(f"source NAT of a policy that is not modelled ({p.problem})")
            pool: tuple = ()
            if _val(e, "ippool", "disable") == "enable":
                at = e.values.get("poolname", e.values["ippool"])
                names = e.values.get("poolname", ([], 0, ""))[0]
                for n in names:
                    if n not in ippools:
                        raise ParseProblem(f"ippool {n} is not defined (or not modelled)")
                    pool += ippools[n]
                if not pool:
                    raise ParseProblem("ippool enable without a poolname")
            for m in ms:
                rs.nat.append(NatRule("post", "snat", m, origin, pool, text=p.name) if pool
                              else NatRule("post", "masquerade", m, origin, text=p.name))
        except ParseProblem as exc:
            u = acct.report(at[1], at[2], str(exc))
            rs.nat.extend(NatRule("post", "none", m, origin, text=p.name, unsupported=u) for m in ms)


__all__ = ["build", "pools", "vips", "Vip"]
