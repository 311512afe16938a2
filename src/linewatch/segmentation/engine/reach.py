"""Reachability over the device graph: packet sets propagated HSA-style, with stateful return traffic.

A `Network` is devices with interfaces, routes and rule sets. Packets enter at the interfaces attached to a source
prefix, are filtered by each device's forward hook (per in/out interface, all rules compiled once into BDDs), routed
by longest-prefix match and handed to the device owning the next hop, until they are delivered to a connected
subnet, to a device itself (input hook), or stopped. Whole packet sets move at once: never host pair by host pair.

The reply of every delivered NEW flow (addresses and ports swapped, state ESTABLISHED) is propagated back; a flow whose
reply does not arrive is reported as NO_RETURN. Results use Batfish's flow dispositions; each carries a witness packet
and, per hop, the rule that decided (file:line), found by evaluating the witness through the same rules.

Address translation, in Linux order at each device: stage "pre" NAT rules (DNAT, redirect) rewrite NEW packets as
they arrive, before routing and before the input/forward filter; stage "post" rules (SNAT, masquerade) rewrite them
after the forward filter. In a network with NAT every packet carries its original header in ghost fields (bdd.py), so
an answer can name the flow as its source sent it, and each device records the packets before and after each
translation: a reply is translated back only for the flows that device translated (un-SNAT of its destination on
arrival, un-DNAT of its source after the filter, as conntrack does), and counts as returned only if it reaches the
source as the exact reverse of what the source sent.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from linewatch.segmentation.engine.bdd import PacketSpace, compile_device
from linewatch.segmentation.engine.model import PROTOCOLS, Device, Packet, evaluate, nat_decision

ACCEPTED = "ACCEPTED"
DELIVERED_TO_SUBNET = "DELIVERED_TO_SUBNET"
DENIED_IN = "DENIED_IN"
DENIED_OUT = "DENIED_OUT"
NO_ROUTE = "NO_ROUTE"
NO_RETURN = "NO_RETURN"  # the forward flow is accepted, its reply is not
INSUFFICIENT_INFO = "INSUFFICIENT_INFO"
LOOP = "LOOP"
MAX_HOPS = 32
# Clients pick their source port from the ephemeral range (Linux net.ipv4.ip_local_port_range default); a query about
# a service asks about such clients, or a `--sport 22` return rule would make any service "reachable" from port 22.
EPHEMERAL = (32768, 60999)


@dataclass(frozen=True)
class Service:
    proto: int | None = None
    lo: int | None = None
    hi: int | None = None

    @classmethod
    def parse(cls, text: str | None) -> Service:
        """`tcp/502`, `udp/161-162`, `tcp`, `icmp`, or None/`any`."""
        if not text or text == "any":
            return cls()
        name, _, ports = text.lower().partition("/")
        proto = int(name) if name.isdigit() else PROTOCOLS.get(name)
        if proto is None:
            raise ValueError(f"unknown protocol {name!r} (use tcp, udp, icmp or a number)")
        if not ports:
            return cls(proto)
        lo, _, hi = ports.partition("-")
        lo_n, hi_n = int(lo), int(hi or lo)
        if not 0 <= lo_n <= hi_n <= 65535:
            raise ValueError(f"bad port range {ports!r}")
        return cls(proto, lo_n, hi_n)


@dataclass
class Hop:
    device: str
    in_iface: str | None
    out_iface: str | None
    action: str
    rule: str
    text: str = ""
    nat: list[dict] = field(default_factory=list)  # translations at this hop: rule, text, the header before/after

    def as_dict(self) -> dict:
        d = {"device": self.device, "in": self.in_iface, "out": self.out_iface, "action": self.action,
             "rule": self.rule, "text": self.text}
        if self.nat:
            d["nat"] = self.nat
        return d


@dataclass
class Flow:
    disposition: str
    witness: Packet | None
    hops: list[Hop] = field(default_factory=list)
    action: str = ""  # drop | reject:<with> | accept | unknown
    return_hops: list[Hop] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = {"disposition": self.disposition, "action": self.action,
             "witness": self.witness.as_dict() if self.witness else None,
             "hops": [h.as_dict() for h in self.hops]}
        if self.return_hops:
            d["return_hops"] = [h.as_dict() for h in self.return_hops]
        return d


@dataclass
class Answer:
    disposition: str
    flows: list[Flow]

    def as_dict(self) -> dict:
        return {"disposition": self.disposition, "flows": [f.as_dict() for f in self.flows]}


@dataclass
class _Run:
    """The outcome of one propagation: packet sets per place and per verdict."""

    delivered: dict = field(default_factory=dict)  # (device, out iface or None) -> set
    stopped: dict = field(default_factory=dict)  # (disposition, action, device) -> set
    nat: dict = field(default_factory=dict)  # (device, "dnat"|"snat") -> (before, after) forward packet sets


class Network:
    def __init__(self, devices: list[Device], space: PacketSpace | None = None) -> None:
        self.space = space or PacketSpace()
        self.devices = {d.name: d for d in devices}
        self.iface_index = {d.name: {n: i + 1 for i, n in enumerate(sorted(d.interfaces))} for d in devices}
        for d in devices:  # interface names that only appear in rules get an index too, so they can match nothing
            idx = self.iface_index[d.name]
            for rs in d.rulesets:
                for c in rs.chains.values():
                    for r in c.rules:
                        for n in r.match.in_ifaces + r.match.out_ifaces:
                            if not n.endswith(("+", "*")) and n not in idx:
                                idx[n] = len(idx) + 1
                for r in rs.nat:
                    for n in r.match.in_ifaces + r.match.out_ifaces:
                        if not n.endswith(("+", "*")) and n not in idx:
                            idx[n] = len(idx) + 1
        self.owner: dict[ipaddress.IPv4Address, tuple[str, str]] = {}
        for d in devices:
            for iface in d.interfaces.values():
                for a in iface.addresses:
                    self.owner[a.ip] = (d.name, iface.name)
        self.nat = any(rs.nat for d in devices for rs in d.rulesets)
        self._nat_sets: dict = {}
        self._filters: dict = {}
        self._fib: dict = {}
        self._own: dict = {}
        self._routes: dict = {}
        for d in devices:
            self._build_fib(d)

    # --- compilation ------------------------------------------------------------------------------
    def compile(self) -> None:
        for name in self.devices:
            self.filter(name, "forward")

    def filter(self, device: str, hook: str) -> dict:
        key = (device, hook)
        if key not in self._filters:
            self._filters[key] = compile_device(self.space, self.devices[device], hook, self.iface_index[device])
        return self._filters[key]

    def filter_pair(self, device: str, hook: str, in_iface: str | None, out_iface: str | None) -> dict:
        key = (device, hook, in_iface, out_iface)
        if key not in self._filters:
            idx = self.iface_index[device]
            sets = self.filter(device, hook)
            self._filters[key] = {k: self.space.restrict_ifaces(v, idx.get(in_iface, 0), idx.get(out_iface, 0))
                                  for k, v in sets.items()}
        return self._filters[key]

    def _build_fib(self, d: Device) -> None:
        """Longest-prefix match compiled to destination sets: (out iface, next-hop (device, iface) or None) -> set."""
        sp = self.space
        own = sp.false
        entries = []
        for iface in d.interfaces.values():
            for a in iface.addresses:
                own |= sp.value("d", int(a.ip))
                entries.append((a.network, iface.name, None))
        for r in d.routes:
            out = r.interface
            if out is None and r.next_hop is not None:
                out = next((i.name for i in d.interfaces.values() if any(r.next_hop in n for n in i.networks)), None)
            if out is not None:
                entries.append((r.prefix, out, r.next_hop))
        entries.sort(key=lambda e: -e[0].prefixlen)
        covered, fib = own, {}
        for prefix, out, nh in entries:
            s = sp.net("d", prefix) & ~covered
            covered |= s
            if s == sp.false:
                continue
            nxt = self.owner.get(nh) if nh is not None else None
            key = (out, nxt, nh is not None)
            fib[key] = fib.get(key, sp.false) | s
        self._fib[d.name] = fib
        self._own[d.name] = own
        self._routes[d.name] = sorted(entries, key=lambda e: -e[0].prefixlen)

    # --- locations --------------------------------------------------------------------------------
    def attachments(self, prefix: ipaddress.IPv4Network) -> list[tuple[str, str, ipaddress.IPv4Network]]:
        """Where packets from/to a prefix enter the modelled network: (device, interface, the part of the prefix)."""
        out = []
        for d in self.devices.values():
            for iface in d.interfaces.values():
                for n in iface.networks:
                    if n.overlaps(prefix):
                        out.append((d.name, iface.name, n if n.subnet_of(prefix) else prefix))
        if not out:  # beyond the modelled subnets: where routes leave the network towards it
            for d in self.devices.values():
                for pfx, iface, nh in self._routes[d.name]:
                    if nh is not None and nh not in self.owner and pfx.overlaps(prefix):
                        out.append((d.name, iface, prefix))
        return out

    # --- propagation ------------------------------------------------------------------------------
    def propagate(self, starts: list[tuple[str, str, object]], replies_of: _Run | None = None) -> _Run:
        """Move packet sets from (device, in iface, set) until nothing new arrives anywhere.

        NEW packets meet the NAT rules; with `replies_of` (the forward run) the sets are replies, translated back
        with what that run's devices recorded."""
        sp = self.space
        run = _Run()
        seen: dict = {}
        work = [(dev, in_if, s, True) for dev, in_if, s in starts]
        while work:
            dev, in_if, s, first = work.pop()
            new = s & ~seen.get((dev, in_if), sp.false)
            if new == sp.false:
                continue
            seen[(dev, in_if)] = seen.get((dev, in_if), sp.false) | new
            if self.nat:
                if first:  # on-link traffic never reaches the router, unless a DNAT rule of the router names it
                    answers = self._dnat_here(dev, in_if)
                    snat = replies_of.nat.get((dev, "snat")) if replies_of is not None else None
                    if snat is not None:  # or it replies to a source this device translated (a pool, proxy-ARP)
                        answers |= sp.swap(snat[1])
                    new &= ~self._hairpin(dev, in_if) | answers
                new = self._translate(run, replies_of, dev, "pre", in_if, None, new)
            local = new & self._own[dev]
            if local != sp.false:
                self._verdict(run, dev, "input", in_if, None, local, (dev, None), work, replies_of)
            routed = sp.false
            for (out_if, nxt, via), dst in self._fib[dev].items():
                if first and out_if == in_if and not self.nat:
                    # a host sends on-link traffic directly, and to the router that routes onwards (no hairpin)
                    continue
                part = new & dst
                if part == sp.false:
                    continue
                routed |= part
                self._verdict(run, dev, "forward", in_if, out_if, part, (dev, out_if) if not via else nxt, work,
                              replies_of)
            rest = new & ~routed & ~self._own[dev]
            if first and not self.nat:
                rest &= ~self._hairpin(dev, in_if)
            if rest != sp.false:
                self._stop(run, NO_ROUTE, "drop", dev, rest)
        return run

    def _verdict(self, run, dev, hook, in_if, out_if, part, nxt, work, replies_of=None) -> None:
        sp = self.space
        sets = self.filter_pair(dev, hook, in_if, out_if)
        decided = sp.false
        for label, v in sets.items():
            hit = part & v
            decided |= v
            if hit == sp.false or label == "accept":
                continue
            self._stop(run, INSUFFICIENT_INFO if label == "unknown" else DENIED_IN, label, dev, hit)
        dropped = part & ~decided
        if dropped != sp.false:
            self._stop(run, DENIED_IN, "drop", dev, dropped)
        acc = part & sets.get("accept", sp.false)
        if acc != sp.false and self.nat and hook == "forward":
            acc = self._translate(run, replies_of, dev, "post", in_if, out_if, acc)
        if acc == sp.false:
            return
        if nxt is None:  # next hop outside the model: the flow leaves the network here
            run.delivered[(dev, out_if)] = run.delivered.get((dev, out_if), sp.false) | acc
        elif nxt[1] is None or nxt == (dev, out_if):
            run.delivered[nxt] = run.delivered.get(nxt, sp.false) | acc
        else:
            work.append((nxt[0], nxt[1], acc, False))

    # --- address translation ---------------------------------------------------------------------------
    def _nat_pair(self, dev: str, stage: str, in_if: str | None, out_if: str | None) -> list:
        """A device's NAT rules of a stage as (rule, the packets it matches on this interface pair), in order."""
        key = (dev, stage, in_if, out_if)
        if key not in self._nat_sets:
            sp, idx = self.space, self.iface_index[dev]
            rows = []
            for rs in self.devices[dev].rulesets:
                for r in rs.nat_rules(stage):
                    m = sp.match(r.match, idx)
                    for also in r.also:
                        m &= sp.match(also, idx)
                    for unless in r.unless:
                        m &= ~sp.match(unless, idx)
                    m = sp.restrict_ifaces(m, idx.get(in_if, 0), idx.get(out_if, 0))
                    if m != sp.false:
                        rows.append((r, m))
            self._nat_sets[key] = rows
        return self._nat_sets[key]

    def _dnat_here(self, dev: str, in_if: str):
        """What a device's stage-pre rules translate (or cannot read) arriving on an interface: addresses it answers
        for (a public address of a port forward), even when they are on the arrival segment."""
        key = (dev, "here", in_if)
        if key not in self._nat_sets:
            u = self.space.false
            for r, m in self._nat_pair(dev, "pre", in_if, None):
                if r.action != "none" or r.unsupported is not None:
                    u |= m
            self._nat_sets[key] = u
        return self._nat_sets[key]

    def _iface_address(self, dev: str, iface: str | None) -> int | None:
        i = self.devices[dev].interfaces.get(iface) if iface else None
        return int(i.addresses[0].ip) if i is not None and i.addresses else None

    def _translate(self, run: _Run, replies_of: _Run | None, dev: str, stage: str, in_if, out_if, s):
        """NAT of a packet set at one stage of a device: first-match rules for NEW packets, conntrack's reverse
        translation for replies. Packets of a rule whose construct is not understood stop as INSUFFICIENT_INFO."""
        sp = self.space
        if replies_of is not None:  # replies: un-SNAT the destination on arrival, un-DNAT the source after the filter
            kind, fields = ("snat", ("d", "t")) if stage == "pre" else ("dnat", ("s", "u"))
            rec = replies_of.nat.get((dev, kind))
            if rec is None:
                return s
            back, rest = sp.untranslate(s, rec[0], rec[1], fields)
            return back | rest
        rows = self._nat_pair(dev, stage, in_if, out_if)
        if not rows:
            return s
        new = s & sp.value("c", 0)
        out, rest = s & ~new, new
        for r, m in rows:
            hit = rest & m
            if hit == sp.false:
                continue
            rest &= ~m
            if r.unsupported is not None:
                self._stop(run, INSUFFICIENT_INFO, "unknown", dev, hit)
                continue
            if r.action == "none":
                out |= hit
                continue
            dst_side = r.action in ("dnat", "redirect")
            if r.action in ("masquerade", "redirect"):
                addr = self._iface_address(dev, out_if if r.action == "masquerade" else in_if)
                if addr is None:  # the kernel drops what it cannot translate; the model cannot tell its address
                    self._stop(run, INSUFFICIENT_INFO, "unknown", dev, hit)
                    continue
                pool = sp.value("d" if dst_side else "s", addr)
            else:
                pool = sp.nets("d" if dst_side else "s", r.to_addresses) if r.to_addresses else None
            ports = sp.port_range("t" if dst_side else "u", r.to_ports.lo, r.to_ports.hi) if r.to_ports else None
            after = sp.rewrite(hit, "d" if dst_side else "s", pool, "t" if dst_side else "u", ports)
            key = (dev, "dnat" if dst_side else "snat")
            before0, after0 = run.nat.get(key, (sp.false, sp.false))
            run.nat[key] = (before0 | sp.forget(hit, ("c",)), after0 | sp.forget(after, ("c",)))
            out |= after
        return out | rest

    def _device_addresses(self):
        u = self.space.false
        for own in self._own.values():
            u |= own
        return u

    def _hairpin(self, dev: str, in_if: str):
        u = self.space.false
        for (out_if, _nxt, _via), dst in self._fib[dev].items():
            if out_if == in_if:
                u |= dst
        return u

    def _stop(self, run, disposition, action, dev, s) -> None:
        key = (disposition, action, dev)
        run.stopped[key] = run.stopped.get(key, self.space.false) | s

    def _starts(self, src_prefixes, space_set) -> list:
        sp = self.space
        starts = []
        for p in src_prefixes:
            for dev, iface, part in self.attachments(p):
                starts.append((dev, iface, space_set & sp.net("s", part) & sp.net("s", p)))
        if self.nat:  # each packet remembers the header its source sent
            starts = [(dev, iface, s & sp.ghost_equal()) for dev, iface, s in starts]
        return starts

    def _dnat_scope(self):
        """Every packet some stage-pre NAT rule might match: the only ones that can end up at another destination."""
        sp = self.space
        if "scope" not in self._nat_sets:
            u = sp.false
            for name, d in self.devices.items():
                for rs in d.rulesets:
                    for r in rs.nat_rules("pre"):
                        u |= sp.forget_ifaces(sp.match(r.match, self.iface_index[name]))
            self._nat_sets["scope"] = u
        return self._nat_sets["scope"]

    def _to(self, dst, service: Service | None, devices: bool = True):
        """Packets to a destination for a service: as addressed, and, with NAT, as sent (ghost fields) too.
        `devices` False leaves out the modelled devices' own addresses."""
        sp = self.space
        out = sp.false
        for f, port in (("d", "t"), ("od", "ot")) if self.nat else (("d", "t"),):
            s = sp.nets(f, dst)
            if service and service.lo is not None:
                s &= sp.port_range(port, service.lo, service.hi)
            if not devices:
                for own in self._own.values():
                    s &= ~sp.bdd.let({f"d{i}": f"{f}{i}" for i in range(32)}, own) if f != "d" else ~own
            out |= s
        return out

    # --- questions --------------------------------------------------------------------------------
    def headers(self, service: Service | None = None, client_ports: tuple[int, int] | None = EPHEMERAL):
        """NEW packets of a service; TCP/UDP clients use `client_ports` as source ports (None: any)."""
        sp = self.space
        h = sp.valid & sp.value("c", 0)  # NEW
        if client_ports is not None:
            h &= ~sp.protocols((6, 17)) | sp.port_range("u", *client_ports)
        if service and service.proto is not None:
            h &= sp.value("p", service.proto)
            if service.lo is not None:
                h &= sp.port_range("t", service.lo, service.hi)
        return h

    def reach(self, src, dst, service: Service | None = None, max_flows: int = 4,
              client_ports: tuple[int, int] | None = EPHEMERAL) -> Answer:
        """All flows from src prefixes to dst prefixes for a service, by disposition, with witnesses and hops."""
        sp = self.space
        src, dst = _nets(src), _nets(dst)
        q = self.headers(service, client_ports) & sp.nets("s", src) & sp.nets("d", dst)
        sel = sp.nets("d", dst)
        if self.nat:  # flows addressed to dst, and flows a DNAT delivers to dst (whatever they were addressed to)
            sel = self._to(dst, service)
            base = self.headers(Service(service.proto) if service else None, client_ports) & sp.nets("s", src)
            q = base & (q | self._dnat_scope())
        run = self.propagate(self._starts(src, q))
        delivered = sp.false
        for s in run.delivered.values():
            delivered |= s & sel
        both = self._returned(run, delivered, src)
        flows: list[Flow] = []
        order = [(ACCEPTED, "accept", both), (NO_RETURN, "accept", delivered & ~both)]
        for (disp, action, _dev), s in sorted(run.stopped.items(), key=lambda kv: kv[0]):
            order.append((disp, action, s & sel))
        for disp, action, s in order:
            if len(flows) >= max_flows or s == sp.false:
                continue
            w = sp.pick(self.prefer(s), original=self.nat)
            flows.append(self.trace(w, disp, action))
        disposition = flows[0].disposition if flows else NO_ROUTE
        return Answer(disposition, flows)

    def prefer(self, s):
        """A witness that looks like real hosts: an ephemeral source port, addresses that are neither a firewall's
        nor end in .0, whenever the set allows it."""
        sp = self.space
        wishes = [~sp.protocols((6, 17)) | sp.port_range("u", *EPHEMERAL)]
        devices = self._device_addresses()
        wishes.append(~devices & ~sp.swap(devices))
        for f in ("s", "d"):
            wishes.append(~sp.bdd.cube({f"{f}{i}": False for i in range(24, 32)}))
        for w in wishes:
            nicer = s & w
            if nicer != sp.false:
                s = nicer
        return s

    def _returned(self, run, delivered, src):
        """The forward flows whose replies make it back (as ESTABLISHED) to the source."""
        sp = self.space
        if delivered == sp.false:
            return sp.false
        starts, local = [], sp.false
        for (dev, out_if), s in run.delivered.items():
            part = s & delivered
            if part == sp.false:
                continue
            if out_if is None:  # delivered to the device itself: its output hook is not modelled yet
                local |= part
            else:
                starts.append((dev, out_if, sp.with_state(sp.swap(part), "ESTABLISHED")))
        back = self.propagate(starts, replies_of=run if self.nat else None)
        arrived = sp.false
        for s in back.delivered.values():
            arrived |= s & sp.nets("d", src)
        if self.nat:  # a reply counts only if it arrives as the exact reverse of what the source sent
            sent = sp.originals(sp.with_state(sp.swap(arrived & sp.ghost_equal()), "NEW"))
            return (delivered & sent) | local
        return (delivered & sp.with_state(sp.swap(arrived), "NEW")) | local

    def reach_sets(self, src, headers=None, client_ports: tuple[int, int] | None = EPHEMERAL):
        """Everything a source reaches: (delivered, accepted) NEW packet sets after one forward and one return
        propagation. `accepted` are the delivered flows whose replies come back; the rest is NO_RETURN."""
        sp = self.space
        src = _nets(src)
        q = (self.headers(None, client_ports) if headers is None else headers) & sp.nets("s", src)
        run = self.propagate(self._starts(src, q))
        delivered = sp.false
        for s in run.delivered.values():
            delivered |= s
        return delivered, self._returned(run, delivered, src)

    def device_addresses(self):
        """The addresses of the modelled devices themselves, as a destination set."""
        return self._device_addresses()

    def zone_matrix(self, zones: dict[str, list], service: Service | None = None,
                    client_ports: tuple[int, int] | None = EPHEMERAL) -> dict[str, dict[str, str]]:
        """Disposition per (from zone, to zone): one forward and one return propagation per source zone."""
        sp = self.space
        nets = {z: _nets(p) for z, p in zones.items()}
        matrix: dict[str, dict[str, str]] = {}
        for z, src in nets.items():
            q = self.headers(service, client_ports) & sp.nets("s", src)
            run = self.propagate(self._starts(src, q))
            delivered = sp.false
            for s in run.delivered.values():
                delivered |= s
            both = self._returned(run, delivered, src)
            row = {}
            for z2, dst in nets.items():
                if z2 == z:
                    continue
                d = self._to(dst, None, devices=False)  # traffic to a firewall itself is another question
                if both & d != sp.false:
                    row[z2] = ACCEPTED
                elif delivered & d != sp.false:
                    row[z2] = NO_RETURN
                else:
                    stops = {k[0] for k, v in run.stopped.items() if v & d != sp.false}
                    row[z2] = (INSUFFICIENT_INFO if INSUFFICIENT_INFO in stops else DENIED_IN if DENIED_IN in stops
                               else NO_ROUTE)
            matrix[z] = row
        return matrix

    # --- concrete traces (attribution) --------------------------------------------------------------
    def trace(self, p: Packet, disposition: str = "", action: str = "") -> Flow:
        """The hops of one packet as its source sends it (the same NAT rules applied) and, if it is delivered, of
        its reply (translated back by the devices that translated it)."""
        ct: dict = {}
        hops, last = self._walk(p, ct)
        flow = Flow(disposition or (hops[-1].action if hops else NO_ROUTE), p, hops, action)
        if disposition in (ACCEPTED, NO_RETURN):
            reply = Packet(last.dst, last.src, last.proto, last.dport, last.sport, "ESTABLISHED")
            flow.return_hops, _ = self._walk(reply, None, ct)
        return flow

    def _route(self, dev: str, ip: ipaddress.IPv4Address):
        return next(((pfx, o, nh) for pfx, o, nh in self._routes[dev] if ip in pfx), None)

    def _nat_hop(self, dev: str, stage: str, p: Packet, in_if, out_if, notes: list) -> Packet | None:
        """One NAT stage of the concrete walk; None when the packet's fate is unknown there."""
        rule = nat_decision(self.devices[dev], stage, Packet(p.src, p.dst, p.proto, p.sport, p.dport, p.state,
                                                             in_if, out_if))
        if rule is None:
            return p
        note = {"stage": stage, "action": rule.action, "rule": rule.origin, "text": rule.text}
        notes.append(note)
        if rule.unsupported is not None:
            return None
        iface = out_if if rule.action == "masquerade" else in_if
        q = rule.translate(p, self._iface_address(dev, iface))
        if q is not None and rule.action != "none":
            note["to"] = _endpoint(q, "dst" if stage == "pre" else "src")
        return q

    def _walk(self, p: Packet, ct: dict | None = None, replies: dict | None = None) -> tuple[list[Hop], Packet]:
        """Hops of one concrete packet, and the packet as it leaves the last one. Forward walks of NEW packets meet
        the NAT rules and fill `ct` (device -> header on arrival, header on leaving); a reply walk is translated
        back with the `replies` entries of its forward walk."""
        hops: list[Hop] = []
        starts = [a for a in self.attachments(ipaddress.IPv4Network(p.src)) if p.src_ip in a[2]]
        if not starts:
            return hops, p

        def onward(a) -> bool:
            r = self._route(a[0], p.dst_ip)
            return r is not None and r[1] != a[1]

        dev, in_if, _ = next((a for a in starts if onward(a)), starts[0])
        for _ in range(MAX_HOPS):
            d = self.devices[dev]
            notes: list[dict] = []
            arrival = p
            back = (replies or {}).get(dev)
            if back is not None and (p.src, p.dst, p.sport, p.dport) != (back[1].dst, back[1].src, back[1].dport,
                                                                        back[1].sport):
                back = None  # a reply of a connection this device did not see
            if back is not None:
                p = Packet(p.src, back[0].src, p.proto, p.sport, back[0].sport, p.state)  # un-SNAT
            elif self.nat and replies is None:
                q = self._nat_hop(dev, "pre", p, in_if, None, notes)
                if q is None:
                    hops.append(Hop(dev, in_if, None, "unknown", notes[-1]["rule"], notes[-1]["text"], notes))
                    return hops, p
                p = q
            if any(a.ip == p.dst_ip for i in d.interfaces.values() for a in i.addresses):
                dec = evaluate(d, "input", Packet(p.src, p.dst, p.proto, p.sport, p.dport, p.state, in_if, None))
                hops.append(Hop(dev, in_if, None, dec.action, dec.origin, dec.text, notes))
                return hops, p
            route = self._route(dev, p.dst_ip)
            if route is None:
                hops.append(Hop(dev, in_if, None, "no-route", "", nat=notes))
                return hops, p
            _, out_if, nh = route
            dec = evaluate(d, "forward", Packet(p.src, p.dst, p.proto, p.sport, p.dport, p.state, in_if, out_if))
            action = dec.action + (f":{dec.reject_with}" if dec.reject_with else "")
            hop = Hop(dev, in_if, out_if, action, dec.origin, dec.text, notes)
            hops.append(hop)
            if dec.action != "accept":
                return hops, p
            if back is not None:
                p = Packet(back[0].dst, p.dst, p.proto, back[0].dport, p.dport, p.state)  # un-DNAT
            elif self.nat and replies is None:
                q = self._nat_hop(dev, "post", p, in_if, out_if, notes)
                if q is None:
                    hop.action, hop.rule, hop.text = "unknown", notes[-1]["rule"], notes[-1]["text"]
                    return hops, p
                p = q
            if ct is not None:
                ct[dev] = (arrival, p)
            if nh is None or nh not in self.owner:
                return hops, p
            dev, in_if = self.owner[nh]
        hops.append(Hop(dev, in_if, None, "loop", ""))
        return hops, p


def _endpoint(p: Packet, side: str) -> str:
    addr = p.dst_ip if side == "dst" else p.src_ip
    port = p.dport if side == "dst" else p.sport
    return f"{addr}:{port}" if p.proto in (6, 17, 132) else str(addr)


def _nets(prefixes) -> list[ipaddress.IPv4Network]:
    if isinstance(prefixes, (str, ipaddress.IPv4Network)):
        prefixes = [prefixes]
    return [ipaddress.IPv4Network(p, strict=False) for p in prefixes]


def reach_series(devices: list[Device], src, dst, service: Service | None = None, space: PacketSpace | None = None,
                 client_ports: tuple[int, int] | None = EPHEMERAL) -> Answer:
    """Reachability through firewalls in series when no topology says which interface faces what.

    A packet set passes each firewall in order; a rule that tests an interface makes the packets it could decide
    INSUFFICIENT_INFO (accepted on some interface pair, not on all), rather than guessing. Without a topology there
    is no routing to place a translation (nor an interface address to masquerade to): the packets any NAT rule of a
    firewall could translate are INSUFFICIENT_INFO there; use a topology (`Network`) to have NAT modelled.
    """
    sp = space or PacketSpace()
    net = Network([], sp)
    src, dst = _nets(src), _nets(dst)
    q = net.headers(service, client_ports) & sp.nets("s", src) & sp.nets("d", dst)

    def passes(order, s):
        stops = []
        for d in order:
            names = {n for rs in d.rulesets for c in rs.chains.values() for r in c.rules
                     for n in r.match.in_ifaces + r.match.out_ifaces}
            names |= {n for rs in d.rulesets for r in rs.nat for n in r.match.in_ifaces + r.match.out_ifaces}
            idx = {n: i + 1 for i, n in enumerate(sorted(names))}
            sets = compile_device(sp, d, "forward", idx)
            translated = sp.false
            for rs in d.rulesets:
                for r in rs.nat:
                    if r.action != "none" or r.unsupported is not None:
                        translated |= sp.forget_ifaces(sp.match(r.match, idx))
            hit = s & translated
            if hit != sp.false:
                stops.append((INSUFFICIENT_INFO, "unknown", d.name, hit))
                s &= ~translated
            acc = sets.get("accept", sp.false)
            sure = sp.bdd.forall(sp.iface_vars, acc)
            maybe = sp.bdd.exist(sp.iface_vars, acc) | sp.bdd.exist(sp.iface_vars, sets.get("unknown", sp.false))
            for label, v in sets.items():
                if label.startswith("reject:"):
                    hit = s & sp.bdd.forall(sp.iface_vars, v)
                    if hit != sp.false:
                        stops.append((DENIED_IN, label, d.name, hit))
            unknown = s & maybe & ~sure
            if unknown != sp.false:
                stops.append((INSUFFICIENT_INFO, "unknown", d.name, unknown))
            denied = s & ~maybe
            if denied != sp.false:
                stops.append((DENIED_IN, "drop", d.name, denied))
            s = s & sure
        return s, stops

    delivered, stops = passes(devices, q)
    back, _ = passes(list(reversed(devices)), sp.with_state(sp.swap(delivered), "ESTABLISHED"))
    both = delivered & sp.with_state(sp.swap(back), "NEW")
    order = [(ACCEPTED, "accept", both), (NO_RETURN, "accept", delivered & ~both)]
    seen = set()
    for disp, action, _dev, s in stops:
        if (disp, action) not in seen:
            seen.add((disp, action))
            order.append((disp, action, s))
    flows = []
    for disp, action, s in order:
        if s == sp.false or len(flows) >= 4:
            continue
        w = sp.pick(net.prefer(s))
        hops = []
        for d in devices:
            dec = evaluate(d, "forward", w)
            hops.append(Hop(d.name, None, None, dec.action + (f":{dec.reject_with}" if dec.reject_with else ""),
                            dec.origin, dec.text))
            if dec.action != "accept":
                break
        flows.append(Flow(disp, w, hops, action))
    return Answer(flows[0].disposition if flows else NO_ROUTE, flows)
