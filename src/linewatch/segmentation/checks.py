"""Segmentation checks (IEC 62443-3-2/3-3, NIST SP 800-82r3, CISA) over a site's zones, conduits and firewalls.

Django-free: the plant side (`linewatch.segmentation.plant`) fills a `SiteModel` from the database; tests can build one
by hand. Every check is a question to the reachability engine (one forward and one return propagation per source
zone, whole packet sets at once) or to the compiled rule lists, and every finding carries a witness flow, the rules
that decided it (file:line) and, when an `impact` function is given, the lines its target assets would stop.

| id | check |
|---|---|
| SEG-01 | no direct IT (Purdue 4/5) -> Purdue 0-2 path |
| SEG-02 | IT <-> OT (0-3) only through the DMZ (3.5): no direct flow between IT and level 3 either way, nor OT -> IT |
| SEG-03 | remote access (SSH, Telnet, RDP, VNC, TeamViewer, WinRM) into OT (0-3) only from the jump host(s) |
| SEG-04 | safety systems isolated: a safety zone reached from level 3 or above, or beyond its declared conduits |
| SEG-05 | deny by default at every zone boundary: a forward filter whose default (or trailing catch-all) accepts |
| SEG-06 | no OT (0-3) -> Internet |
| SEG-07 | conduit least privilege: traffic allowed between two zones is within the declared conduits' services |
| SEG-08 | cell/line isolation: control zones (0-2) of different production lines do not talk directly |
| SEG-09 | working return paths: a declared conduit whose replies are dropped (NO_RETURN) |
| SEG-10 | dual-homed hosts: an asset (not a firewall or router) with addresses in two zones bridges them |
| SEG-11 | shadowed and dead rules: a rule no packet reaches first |
| SEG-12 | flow conformance: observed flows against conduits and configs (`engine/conformance.py`, not run here) |
| SEG-13 | management ports (tcp/22, 23, 80, 443, 3389, 5900) from IT into OT |
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from linewatch.segmentation.engine.bdd import _fold
from linewatch.segmentation.engine.model import PROTOCOL_NAMES, Device, Match, Packet
from linewatch.segmentation.engine.reach import ACCEPTED, NO_RETURN, Network, Service

IT_LEVELS = ("4", "5")
CONTROL_LEVELS = ("0", "1", "2")
OT_LEVELS = ("0", "1", "2", "3")
DMZ_LEVEL = "3.5"
MANAGEMENT_SERVICES = ("tcp/22", "tcp/23", "tcp/80", "tcp/443", "tcp/3389", "tcp/5900")
# Interactive remote access: SSH, Telnet, RDP, VNC, TeamViewer, WinRM.
REMOTE_ACCESS_SERVICES = ("tcp/22", "tcp/23", "tcp/3389", "tcp/5900", "tcp/5938", "tcp/5985-5986")
JUMP_HOST_KINDS = ("jump_host",)
JUMP_HOST_TAGS = ("jump-host", "remote-access")
SAFETY_KINDS = ("safety_plc",)
NETWORK_DEVICE_KINDS = ("firewall", "router")
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
_NOT_INTERNET = [ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4")]


def internet_prefixes() -> list[ipaddress.IPv4Network]:
    """Public IPv4 space: everything but private, shared, loopback, link-local, multicast and reserved ranges."""
    parts = [ipaddress.IPv4Network("0.0.0.0/0")]
    for hole in _NOT_INTERNET:
        nxt = []
        for p in parts:
            if hole.subnet_of(p):
                nxt.extend(p.address_exclude(hole))
            elif not p.subnet_of(hole):
                nxt.append(p)
        parts = nxt
    return sorted(parts)


@dataclass
class ZoneSpec:
    slug: str
    level: str  # Purdue level as in the plant model: "0".."5", "3.5"
    cidrs: list[str]
    name: str = ""


@dataclass
class ConduitSpec:
    slug: str
    from_zone: str
    to_zone: str
    services: list[str]
    direction: str = "forward"  # forward | both


@dataclass
class HostSpec:
    key: str  # the asset's primary key (for consequence)
    name: str
    zone: str | None
    ips: list[str]
    kind: str = ""
    tags: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # production lines its loss stops or degrades

    @property
    def jump_host(self) -> bool:
        return self.kind in JUMP_HOST_KINDS or any(t in JUMP_HOST_TAGS for t in self.tags)


@dataclass
class Finding:
    check: str
    severity: str
    title: str
    detail: str = ""
    from_zone: str | None = None
    to_zone: str | None = None
    device: str | None = None
    services: list[str] = field(default_factory=list)
    witness: dict | None = None
    hops: list[dict] = field(default_factory=list)
    return_hops: list[dict] = field(default_factory=list)
    rules: list[dict] = field(default_factory=list)  # {"rule": file:line, "text": ...}
    conduits: list[str] = field(default_factory=list)
    assets: list[str] = field(default_factory=list)  # target assets put at risk
    asset_keys: list[str] = field(default_factory=list)
    consequence: dict | None = None
    fix: dict | None = None  # {"remove": [file:line], "closes": bool, "breaks_conduits": [slug]}

    @property
    def id(self) -> str:
        where = self.device or ""
        if self.from_zone or self.to_zone:
            where = f"{self.from_zone}->{self.to_zone}" + (f"@{self.device}" if self.device else "")
        if self.check == "SEG-11" and self.rules:
            where = self.rules[0]["rule"]
        return f"{self.check}:{where}"

    @property
    def lines_at_risk(self) -> list[dict]:
        if not self.consequence:
            return []
        return [{"line": li["line"], "status": li["status"], "cost_per_hour": li["cost_per_hour"]}
                for li in self.consequence.get("lines", [])]

    def as_dict(self) -> dict:
        return {
            "id": self.id, "check": self.check, "severity": self.severity, "title": self.title,
            "detail": self.detail, "from_zone": self.from_zone, "to_zone": self.to_zone, "device": self.device,
            "services": self.services, "witness": self.witness, "hops": self.hops, "return_hops": self.return_hops,
            "rules": self.rules, "conduits": self.conduits, "assets": self.assets,
            "lines_at_risk": self.lines_at_risk,
            "cost_per_hour": self.consequence.get("cost_per_hour") if self.consequence else None,
            "currency": self.consequence.get("currency") if self.consequence else None,
            "fix": self.fix,
        }


@dataclass
class SiteModel:
    site: str
    zones: dict[str, ZoneSpec]
    conduits: list[ConduitSpec]
    hosts: list[HostSpec]
    devices: list[Device]
    findings: list[Finding] = field(default_factory=list)  # topology findings (interfaces facing no zone, ...)
    internet: list = field(default_factory=internet_prefixes)

    def network(self) -> Network:
        return Network(self.devices)


Impact = Callable[[list[str]], dict]


class Checker:
    """Runs the checks; one propagation (forward + return) per source zone, shared by all checks."""

    def __init__(self, model: SiteModel, impact: Impact | None = None, network: Network | None = None) -> None:
        self.model = model
        self.impact = impact
        self.net = network or model.network()
        self.sp = self.net.space
        self._reach: dict[str, tuple] = {}
        self._dev = self.net.device_addresses()
        self._host_dsts = self.sp.false
        for h in model.hosts:
            for ip in h.ips:
                self._host_dsts |= self.sp.value("d", int(ipaddress.IPv4Address(ip)))

    # --- reach sets -----------------------------------------------------------------------------
    def reach(self, zone: str) -> tuple:
        """(delivered, accepted) NEW flows from a zone; flows to or from a firewall's own address are left out."""
        if zone not in self._reach:
            z = self.model.zones[zone]
            delivered, accepted = self.net.reach_sets(z.cidrs) if z.cidrs else (self.sp.false, self.sp.false)
            if getattr(self.net, "nat", False):  # the source is the host that sent, not the address NAT gave it
                sender = self.sp.ghost_equal(("s",))
                delivered = self.sp.forget(delivered, ("s",)) & sender
                accepted = self.sp.forget(accepted, ("s",)) & sender
            mask = ~self._dev & ~self.sp.swap(self._dev)  # to or from a firewall itself is another question
            self._reach[zone] = (delivered & mask, accepted & mask)
        return self._reach[zone]

    def dst(self, zone: str):
        return self.sp.nets("d", self.model.zones[zone].cidrs)

    def services_set(self, services) -> object:
        sp = self.sp
        u = sp.false
        for text in services:
            s = Service.parse(text)
            if s.proto is None:
                return sp.true
            part = sp.value("p", s.proto)
            if s.lo is not None:
                part &= sp.port_range("t", s.lo, s.hi)
            u |= part
        return u

    def declared(self, a: str, b: str) -> tuple[object, list[str]]:
        """Packets the conduits declare from zone a to zone b (NEW, a opening), and those conduits' slugs."""
        u, slugs = self.sp.false, []
        for c in self.model.conduits:
            if (c.from_zone, c.to_zone) == (a, b) or (c.direction == "both" and (c.to_zone, c.from_zone) == (a, b)):
                u |= self.services_set(c.services)
                slugs.append(c.slug)
        return u, slugs

    # --- describing a packet set ----------------------------------------------------------------------
    def describe(self, s, limit: int = 12) -> list[str]:
        """The (protocol, destination port ranges) of a packet set, e.g. ["tcp/44818", "udp/2222", "icmp"]."""
        sp = self.sp
        keep = {f"p{i}" for i in range(8)} | {f"t{i}" for i in range(16)}
        proj = sp.bdd.exist([v for v in sp.bdd.vars if v not in keep], s)
        out: list[str] = []
        while proj != sp.false and len(out) < limit:
            proto = sp.pick(proj).proto
            per = proj & sp.value("p", proto)
            proj &= ~sp.value("p", proto)
            name = PROTOCOL_NAMES.get(proto, str(proto))
            if proto not in (6, 17, 132):
                out.append(name)
                continue
            for lo, hi in self._ranges(sp.bdd.exist(sp.vars("p"), per), 0, 65535):
                out.append(f"{name}/{lo}" if lo == hi else f"{name}/{lo}-{hi}")
                if len(out) >= limit:
                    out.append("...")
                    break
        return out

    def _ranges(self, s, lo, hi, acc=None) -> list[tuple[int, int]]:
        sp = self.sp
        acc = [] if acc is None else acc
        r = sp.port_range("t", lo, hi)
        part = s & r
        if part == sp.false or len(acc) > 12:
            return acc
        if part == r:
            if acc and acc[-1][1] == lo - 1:
                acc[-1] = (acc[-1][0], hi)
            else:
                acc.append((lo, hi))
            return acc
        mid = (lo + hi) // 2
        self._ranges(s, lo, mid, acc)
        self._ranges(s, mid + 1, hi, acc)
        return acc

    def witness(self, f: Finding, s, accepted=None, disposition: str = ACCEPTED) -> None:
        """Fill a finding's witness flow, hops and responsible rules from a packet set (accepted flows first)."""
        sp = self.sp
        if accepted is not None and (s & accepted) != sp.false:
            s, disposition = s & accepted, ACCEPTED
        elif accepted is not None:
            disposition = NO_RETURN
        on_host = s & self._host_dsts
        w = sp.pick(self.net.prefer(on_host if on_host != sp.false else s))  # a real asset as the target if any
        if w is None:
            return
        flow = self.net.trace(w, disposition, "accept")
        f.witness = dict(w.as_dict(), disposition=disposition)
        f.hops = [h.as_dict() for h in flow.hops]
        f.return_hops = [h.as_dict() for h in flow.return_hops]
        seen = {r["rule"] for r in f.rules}
        for h in flow.hops + ([h for h in flow.return_hops if not h.action.startswith("accept")]
                              if disposition == NO_RETURN else []):
            if h.rule and h.rule not in seen:
                for via in self._jumps_to(h.device, h.rule, w, h.in_iface, h.out_iface):
                    if via.origin not in seen:
                        seen.add(via.origin)
                        f.rules.append({"rule": via.origin, "text": via.text, "device": h.device, "action": via.action})
                seen.add(h.rule)
                f.rules.append({"rule": h.rule, "text": h.text, "device": h.device, "action": h.action})

    def _jumps_to(self, device: str, origin: str, p, in_if, out_if) -> list:
        """The jump/goto rules that led this packet into the user chain holding the deciding rule (outermost
        first): deleting the jump is often the fix."""
        d = self.net.devices.get(device)
        if d is None:
            return []
        pkt = Packet(p.src, p.dst, p.proto, p.sport, p.dport, p.state, in_if, out_if)
        chain_of = {r.origin: (rs, c) for rs in d.rulesets for c in rs.chains.values() for r in c.rules}
        out: list = []
        cur = chain_of.get(origin)
        while cur is not None and cur[1].hook is None and len(out) < 8:
            rs, chain = cur
            via = next((r for c in rs.chains.values() for r in c.rules
                        if r.action in ("jump", "goto") and r.target == chain.name and r.match.matches(pkt)), None)
            if via is None or via in out:
                break
            out.insert(0, via)
            cur = chain_of.get(via.origin)
        return out

    def at_risk(self, f: Finding, s, zone: str) -> None:
        """The target zone's assets whose addresses the set reaches, and what their loss stops."""
        sp = self.sp
        hosts = []
        for h in self.model.hosts:
            if h.zone != zone:
                continue
            if any((s & sp.value("d", int(ipaddress.IPv4Address(ip)))) != sp.false for ip in h.ips):
                hosts.append(h)
        f.assets = [h.name for h in hosts]
        f.asset_keys = [h.key for h in hosts]
        if self.impact and hosts:
            f.consequence = self.impact(f.asset_keys)

    # --- the checks ---------------------------------------------------------------------------------------
    def zones_at(self, levels) -> list[str]:
        return [z for z, spec in self.model.zones.items() if spec.level in levels and spec.cidrs]

    def _pair_finding(self, check, severity, a, b, s, accepted, title, detail, services=None) -> Finding:
        _, slugs = self.declared(a, b)
        f = Finding(check, severity, title, detail, from_zone=a, to_zone=b, conduits=slugs,
                    services=services if services is not None else self.describe(s))
        self.witness(f, s, accepted)
        self.at_risk(f, s, b)
        return f

    def seg01_it_to_control(self) -> list[Finding]:
        out = []
        for a in self.zones_at(IT_LEVELS):
            delivered, accepted = self.reach(a)
            for b in self.zones_at(CONTROL_LEVELS):
                s = delivered & self.dst(b)
                if s == self.sp.false:
                    continue
                lvl = self.model.zones[b].level
                _, slugs = self.declared(a, b)
                note = (f" (declared by conduit {', '.join(slugs)}: the declaration itself breaks the model)"
                        if slugs else "")
                out.append(self._pair_finding(
                    "SEG-01", "critical", a, b, s, accepted,
                    f"IT zone {a} reaches Purdue {lvl} zone {b} directly",
                    "IEC 62443-3-3 SR 5.1 / NIST SP 800-82r3: no direct path from the business network to control "
                    f"levels 0-2; traffic must terminate in the DMZ{note}."))
                self.propose_fix(out[-1])
        return out

    def propose_fix(self, f: Finding) -> None:
        """Removing the finding's outermost accepting rule (or the jump leading to it): does it close the path,
        and which declared conduits would lose traffic? Checked by propagating again without that rule."""
        if not f.rules or not f.from_zone or f.to_zone is None:
            return
        first = f.rules[0]
        if first["action"] not in ("accept", "jump", "goto"):
            return
        remove = first["rule"]
        devices = [_without(d, remove) for d in self.model.devices]
        after = Checker(SiteModel(self.model.site, self.model.zones, self.model.conduits, self.model.hosts, devices,
                                  internet=self.model.internet), network=Network(devices, self.sp))
        target = after.dst(f.to_zone) if f.to_zone in self.model.zones else after.sp.nets("d", self.model.internet)
        closes = (after.reach(f.from_zone)[0] & target) == after.sp.false
        broken = []
        for c in self.model.conduits:
            a, b = c.from_zone, c.to_zone
            if a not in self.model.zones or b not in self.model.zones or not self.model.zones[a].cidrs:
                continue
            svc = self.services_set(c.services)
            before = self.reach(a)[0] & self.dst(b) & svc
            if before != self.sp.false and (after.reach(a)[0] & after.dst(b) & after.services_set(c.services)) \
                    != before:
                broken.append(c.slug)
        f.fix = {"remove": [remove], "text": first["text"], "closes": closes, "breaks_conduits": broken}

    def seg02_dmz_brokering(self) -> list[Finding]:
        out = []
        pairs = [(a, b) for a in self.zones_at(IT_LEVELS) for b in self.zones_at(("3",))]
        pairs += [(a, b) for a in self.zones_at(OT_LEVELS) for b in self.zones_at(IT_LEVELS)]
        for a, b in pairs:
            delivered, accepted = self.reach(a)
            s = delivered & self.dst(b)
            if s == self.sp.false:
                continue
            decl, slugs = self.declared(a, b)
            severity = "medium" if (s & ~decl) == self.sp.false else "high"
            out.append(self._pair_finding(
                "SEG-02", severity, a, b, s, accepted,
                f"{a} (Purdue {self.model.zones[a].level}) and {b} (Purdue {self.model.zones[b].level}) talk "
                "without the DMZ",
                "IT <-> OT exchanges must terminate on a DMZ (3.5) host" + (
                    f"; declared by {', '.join(slugs)}" if slugs else "; no conduit declares it") + "."))
        return out

    def seg05_default_deny(self) -> list[Finding]:
        sp, out = self.sp, []
        for d in self.model.devices:
            chains = d.chains("forward")
            if not chains:
                f = Finding("SEG-05", "high", f"{d.name} has no forward filter: it forwards everything",
                            "IEC 62443-3-3 SR 5.2 RE1: deny by default at every zone boundary.", device=d.name)
                out.append(f)
                continue
            idx = self.net.iface_index[d.name]
            for rs, chain in chains:
                if (chain.policy or "accept") == "accept":
                    sets = _fold(sp, rs, chain.name, {"default": sp.true}, idx, 0)
                    s = sets.get("default", sp.false) & sp.valid & sp.value("c", 0)
                    f = Finding("SEG-05", "high", f"{d.name}: forward chain {chain.name} defaults to accept",
                                "IEC 62443-3-3 SR 5.2 RE1: deny by default, allow by exception. Packets no rule "
                                "matches are forwarded.", device=d.name,
                                rules=[{"rule": chain.origin, "text": f"policy {chain.policy or 'accept'}",
                                        "device": d.name, "action": "accept"}])
                    if s != sp.false:
                        f.witness = sp.pick(self.net.prefer(s)).as_dict()
                    out.append(f)
                for r in chain.rules:
                    if r.action == "accept" and r.unsupported is None and _catch_all(r.match):
                        out.append(Finding(
                            "SEG-05", "high", f"{d.name}: catch-all accept in {chain.name}",
                            "A rule accepting every new packet makes the default deny meaningless.", device=d.name,
                            rules=[{"rule": r.origin, "text": r.text, "device": d.name, "action": "accept"}]))
        return out

    def seg06_ot_to_internet(self) -> list[Finding]:
        out = []
        inet = self.sp.nets("d", self.model.internet)
        for a in self.zones_at(OT_LEVELS):
            delivered, accepted = self.reach(a)
            s = delivered & inet
            if s == self.sp.false:
                continue
            f = Finding("SEG-06", "high", f"OT zone {a} reaches the Internet",
                        "CISA / NIST SP 800-82r3: no OT -> Internet except through declared proxies in the DMZ.",
                        from_zone=a, to_zone="internet", services=self.describe(s))
            self.witness(f, s, accepted)
            self.propose_fix(f)
            out.append(f)
        return out

    def seg07_least_privilege(self) -> list[Finding]:
        out = []
        for a in self.model.zones:
            if not self.model.zones[a].cidrs:
                continue
            delivered, accepted = self.reach(a)
            for b in self.model.zones:
                if b == a or not self.model.zones[b].cidrs:
                    continue
                s = delivered & self.dst(b)
                if s == self.sp.false:
                    continue
                decl, slugs = self.declared(a, b)
                excess = s & ~decl
                if excess == self.sp.false:
                    continue
                services = self.describe(excess)
                title = (f"{a} -> {b} allows more than conduit {', '.join(slugs)} declares" if slugs
                         else f"{a} -> {b} is open but no conduit declares it")
                out.append(self._pair_finding(
                    "SEG-07", "high" if not slugs else "medium", a, b, excess, accepted, title,
                    "Conduit least privilege (IEC 62443-3-2 ZCR 3, SR 5.1): allowed must be within declared. "
                    f"Excess: {', '.join(services)}.", services))
        return out

    def seg09_return_paths(self) -> list[Finding]:
        out = []
        for c in self.model.conduits:
            if c.from_zone not in self.model.zones or c.to_zone not in self.model.zones:
                continue
            dirs = [(c.from_zone, c.to_zone)] + ([(c.to_zone, c.from_zone)] if c.direction == "both" else [])
            for a, b in dirs:
                if not self.model.zones[a].cidrs or not self.model.zones[b].cidrs:
                    continue
                delivered, accepted = self.reach(a)
                s = delivered & ~accepted & self.dst(b) & self.services_set(c.services)
                if s == self.sp.false:
                    continue
                f = Finding("SEG-09", "high", f"conduit {c.slug}: {a} -> {b} gets there but its replies are dropped",
                            "NO_RETURN: the forward flow is accepted, the reply (ESTABLISHED) is not; the conduit "
                            "does not work (an availability finding).", from_zone=a, to_zone=b,
                            services=self.describe(s), conduits=[c.slug])
                self.witness(f, s, None, NO_RETURN)
                self.at_risk(f, s, b)
                out.append(f)
        return out

    def seg11_rules(self) -> list[Finding]:
        """Rules no packet reaches first: dead (match nothing) or shadowed by earlier rules of the same chain.

        Per chain, from the chain's start: a jump does not consume packets (they may return); accept, drop, reject,
        goto and return do. Rules with unsupported constructs are neither judged nor counted as consuming.
        """
        sp, out = self.sp, []
        for d in self.model.devices:
            idx = self.net.iface_index[d.name]
            real = len(d.interfaces)
            ifaces = sp.false
            for i in range(real + 1):
                ifaces |= sp.iface("ii", i)
            oifaces = sp.false
            for i in range(real + 1):
                oifaces |= sp.iface("oi", i)
            universe = sp.valid & ifaces & oifaces if real else sp.valid
            for rs in d.rulesets:
                for chain in rs.chains.values():
                    remaining = universe
                    earlier: list[tuple] = []
                    for r in chain.rules:
                        if r.unsupported is not None:
                            continue
                        m = sp.match(r.match, idx) & universe
                        if m == sp.false:
                            out.append(Finding(
                                "SEG-11", "low", f"{d.name}: dead rule in {chain.name} (matches no packet)",
                                "Its match is empty on this device (e.g. an interface it does not have).",
                                device=d.name, rules=[_rule(d, r)]))
                        elif (m & remaining) == sp.false:
                            by = [_rule(d, e) for e, em in earlier if (em & m) != sp.false][:3]
                            out.append(Finding(
                                "SEG-11", "low", f"{d.name}: shadowed rule in {chain.name}",
                                "Every packet it matches is decided by an earlier rule: "
                                + ", ".join(b["rule"] for b in by) + ".", device=d.name, rules=[_rule(d, r)] + by,
                                witness=sp.pick(m).as_dict()))
                        if r.action in ("accept", "drop", "reject", "goto", "return"):
                            earlier.append((r, m & remaining))  # the packets this rule decides first
                            remaining &= ~m
        return out

    # --- SEG-03, 04, 08, 10 ---------------------------------------------------------------------------
    def internet_reach(self) -> tuple:
        """(delivered, accepted) NEW flows entering from the Internet (where routes leave the network)."""
        if "\0internet" not in self._reach:
            delivered, accepted = self.net.reach_sets(self.model.internet)
            mask = ~self._dev & ~self.sp.swap(self._dev)
            self._reach["\0internet"] = (delivered & mask, accepted & mask)
        return self._reach["\0internet"]

    def hosts_set(self, hosts: list[HostSpec], f: str = "s"):
        u = self.sp.false
        for h in hosts:
            for ip in h.ips:
                u |= self.sp.value(f, int(ipaddress.IPv4Address(ip)))
        return u

    def seg03_remote_access(self) -> list[Finding]:
        """Remote access into OT from anything but a jump host: zones outside OT (DMZ, IT) and the Internet."""
        sp, out = self.sp, []
        jumps = [h for h in self.model.hosts if h.jump_host]
        not_jump = ~self.hosts_set(jumps)
        remote = self.services_set(REMOTE_ACCESS_SERVICES)
        sources = [(a, self.reach(a)) for a in self.model.zones
                   if self.model.zones[a].level not in OT_LEVELS and self.model.zones[a].cidrs]
        sources.append(("internet", self.internet_reach()))
        names = ", ".join(h.name for h in jumps) or "none modelled"
        for a, (delivered, accepted) in sources:
            with_jump = any(h.zone == a for h in jumps)
            for b in self.zones_at(OT_LEVELS):
                s = delivered & self.dst(b) & remote & not_jump
                if s == sp.false:
                    continue
                if a == "internet":
                    s &= sp.nets("s", self.model.internet)
                named = s & self.hosts_set([h for h in self.model.hosts if h.zone == a and not h.jump_host])
                if named != sp.false:  # a real asset as the witness source when there is one
                    s = named
                severity = "critical" if a == "internet" else "medium" if with_jump else "high"
                title = (f"remote access into OT zone {b} from {a} hosts other than the jump host" if with_jump
                         else f"remote access into OT zone {b} from {a} without a jump host")
                f = self._pair_finding(
                    "SEG-03", severity, a, b, s, accepted, title,
                    "IEC 62443-3-3 SR 1.13 / NIST SP 800-82r3 / CISA: interactive remote access into OT only "
                    f"through the jump host (jump hosts: {names}); narrow the rule's source to the jump host.")
                out.append(f)
        return out

    def safety_zones(self) -> list[str]:
        by_zone = {h.zone for h in self.model.hosts if h.kind in SAFETY_KINDS or "sis" in h.tags}
        return [z for z, spec in self.model.zones.items() if spec.cidrs and (
            z in by_zone or any(w in f"{z} {spec.name}".lower() for w in ("sis", "safety")))]

    def seg04_safety(self) -> list[Finding]:
        """A safety zone reached from level 3 or above (never acceptable), or beyond its declared conduits."""
        sp, out = self.sp, []
        for b in self.safety_zones():
            for a in self.model.zones:
                if a == b or not self.model.zones[a].cidrs:
                    continue
                delivered, accepted = self.reach(a)
                s = delivered & self.dst(b)
                if s == sp.false:
                    continue
                decl, slugs = self.declared(a, b)
                above = self.model.zones[a].level not in CONTROL_LEVELS
                excess = s & ~decl
                if not above and excess == sp.false:
                    continue
                out.append(self._pair_finding(
                    "SEG-04", "critical" if above else "high", a, b, s if above else excess, accepted,
                    f"safety zone {b} reachable from {a} (Purdue {self.model.zones[a].level})",
                    "IEC 61511 / IEC 62443-3-2 / NIST SP 800-82r3: the safety instrumented system talks only to the "
                    "control zones it protects, over declared conduits"
                    + (f" (declared: {', '.join(slugs)})" if slugs else "") + "."))
        return out

    def zone_lines(self, zone: str) -> set[str]:
        return {li for h in self.model.hosts if h.zone == zone for li in h.lines}

    def seg08_line_isolation(self) -> list[Finding]:
        """Control zones (0-2) serving different production lines (disjoint line sets) that reach each other."""
        sp, out = self.sp, []
        safety = set(self.safety_zones())
        control = [z for z in self.zones_at(CONTROL_LEVELS) if z not in safety and self.zone_lines(z)]
        for a in control:
            delivered, accepted = self.reach(a)
            for b in control:
                if a == b or self.zone_lines(a) & self.zone_lines(b):
                    continue
                s = delivered & self.dst(b)
                if s == sp.false:
                    continue
                decl, slugs = self.declared(a, b)
                out.append(self._pair_finding(
                    "SEG-08", "medium" if (s & ~decl) == sp.false else "high", a, b, s, accepted,
                    f"cell/line isolation: {a} ({', '.join(sorted(self.zone_lines(a)))}) reaches {b} "
                    f"({', '.join(sorted(self.zone_lines(b)))})",
                    "IEC 62443-3-2 ZCR 3.2: one line's cell must not reach another's; a fault or compromise in one "
                    "line then stops two" + (f" (declared: {', '.join(slugs)})" if slugs else "") + "."))
        return out

    def zone_of_ip(self, ip: str) -> str | None:
        best = None
        addr = ipaddress.IPv4Address(ip)
        for z, spec in self.model.zones.items():
            for c in spec.cidrs:
                n = ipaddress.IPv4Network(c, strict=False)
                if addr in n and (best is None or n.prefixlen > best[1]):
                    best = (z, n.prefixlen)
        return best[0] if best else None

    def seg10_dual_homed(self) -> list[Finding]:
        """An asset other than a firewall/router with addresses in two zones: traffic can cross it, unfiltered."""
        out = []
        rank = {"5": 6, "4": 5, "3.5": 4, "3": 3, "2": 2, "1": 1, "0": 0}
        for h in self.model.hosts:
            if h.kind in NETWORK_DEVICE_KINDS:
                continue
            zones = sorted({z for z in (self.zone_of_ip(ip) for ip in h.ips) if z},
                           key=lambda z: -rank.get(self.model.zones[z].level, 0))
            if len(zones) < 2:
                continue
            levels = [self.model.zones[z].level for z in zones]
            crosses = any(lv in IT_LEVELS + (DMZ_LEVEL,) for lv in levels) and any(lv in OT_LEVELS for lv in levels)
            safety = bool(set(zones) & set(self.safety_zones()))
            low = zones[-1]
            f = Finding(
                "SEG-10", "high" if crosses or safety else "medium",
                f"{h.name} is dual-homed: {' and '.join(zones)}",
                f"Addresses {', '.join(h.ips)} put it in {len(zones)} zones (Purdue {', '.join(levels)}): whoever "
                "controls it reaches every one of them without passing a firewall (IEC 62443-3-3 SR 5.1).",
                from_zone=zones[0], to_zone=low, device=h.name)
            f.witness = {"src": h.ips[0], "dst": next(ip for ip in h.ips if self.zone_of_ip(ip) == low),
                         "protocol": "any", "sport": 0, "dport": 0, "state": "NEW", "disposition": "BRIDGED",
                         "via": h.name}
            self.at_risk(f, self.dst(low), low)
            out.append(f)
        return out

    def seg13_management(self) -> list[Finding]:
        out = []
        mgmt = self.services_set(MANAGEMENT_SERVICES)
        for a in self.zones_at(IT_LEVELS):
            delivered, accepted = self.reach(a)
            for b in self.zones_at(OT_LEVELS):
                s = delivered & self.dst(b) & mgmt
                if s == self.sp.false:
                    continue
                decl, slugs = self.declared(a, b)
                out.append(self._pair_finding(
                    "SEG-13", "medium" if (s & ~decl) == self.sp.false else "high", a, b, s, accepted,
                    f"management ports open from IT zone {a} into OT zone {b}",
                    "NIST SP 800-82r3 / CISA: no SSH, Telnet, RDP, VNC or web management from IT into OT; use the "
                    "DMZ jump host" + (f" (declared by {', '.join(slugs)})" if slugs else "") + "."))
        return out

    def run(self, only: list[str] | None = None) -> list[Finding]:
        checks = {
            "SEG-01": self.seg01_it_to_control, "SEG-02": self.seg02_dmz_brokering,
            "SEG-03": self.seg03_remote_access, "SEG-04": self.seg04_safety,
            "SEG-05": self.seg05_default_deny, "SEG-06": self.seg06_ot_to_internet,
            "SEG-07": self.seg07_least_privilege, "SEG-08": self.seg08_line_isolation,
            "SEG-09": self.seg09_return_paths, "SEG-10": self.seg10_dual_homed,
            "SEG-11": self.seg11_rules, "SEG-13": self.seg13_management,
        }
        findings = list(self.model.findings)
        for cid, fn in checks.items():
            if only and cid not in only:
                continue
            findings += fn()
        findings.sort(key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.check, f.id))
        return findings


CHECKS = ("SEG-01", "SEG-02", "SEG-03", "SEG-04", "SEG-05", "SEG-06", "SEG-07", "SEG-08", "SEG-09", "SEG-10",
          "SEG-11", "SEG-13")


def run_checks(model: SiteModel, impact: Impact | None = None, only: list[str] | None = None) -> list[Finding]:
    return Checker(model, impact).run(only)


def _catch_all(m: Match) -> bool:
    """A match with no test but possibly `ct state NEW` (iptables `-j ACCEPT`, nft `accept`)."""
    return m == Match() or m == Match(states=("NEW",))


def _without(d: Device, origin: str) -> Device:
    """A copy of a device without the rule at `origin` (file:line)."""
    rulesets = []
    for rs in d.rulesets:
        chains = {n: replace(c, rules=[r for r in c.rules if r.origin != origin]) for n, c in rs.chains.items()}
        rulesets.append(replace(rs, chains=chains))
    return replace(d, rulesets=rulesets)


def _rule(d: Device, r) -> dict:
    return {"rule": r.origin, "text": r.text, "device": d.name, "action": r.action}


__all__ = ["CHECKS", "Checker", "ConduitSpec", "Finding", "HostSpec", "SiteModel", "ZoneSpec",
           "internet_prefixes", "run_checks"]
