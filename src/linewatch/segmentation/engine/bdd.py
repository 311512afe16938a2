"""Packet sets as binary decision diagrams, and first-match rule lists compiled into them.

A packet is (in interface, out interface, connection state, src ip, dst ip, protocol, dst port, src port). The variable
order is fixed (dynamic reordering off: it made builds 3.5x slower in the research bench): interface and state bits
first, then src/dst IP bits interleaved from the most significant end (prefixes stay compact), protocol, ports.

Address translation adds "ghost" fields os/od/ot/ou: the flow's original src/dst/ports as its source sent them. They
are interleaved bit by bit with the real fields (so "ghost = real" is a linear-size BDD) and are constrained only in
networks that translate; a set that does not mention them is the same BDD as without them.

`dd.cudd` (CUDD in C) is used when importable; `dd.autoref` (pure Python, much slower) otherwise.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from linewatch.segmentation.engine.model import (
    PORT_PROTOCOLS,
    STATES,
    Device,
    Match,
    Packet,
    PortRange,
    RuleSet,
)

try:
    from dd.cudd import BDD

    BACKEND = "dd.cudd"
except ImportError:  # pragma: no cover - fallback when the CUDD extension is missing
    from dd.autoref import BDD

    BACKEND = "dd.autoref"

IFACE_BITS = 6  # up to 63 interfaces per device; index 0 means "no interface" (locally generated/delivered)
FIELDS = {"s": 32, "d": 32, "p": 8, "t": 16, "u": 16, "c": 2, "ii": IFACE_BITS, "oi": IFACE_BITS,
          "os": 32, "od": 32, "ot": 16, "ou": 16}
# field letters: s src ip, d dst ip, p protocol, t dst port, u src port, c conntrack state, ii/oi in/out interface;
# os/od/ot/ou the original (pre-translation) s/d/t/u of the flow
GHOST = {"s": "os", "d": "od", "t": "ot", "u": "ou"}
REAL_BITS = sum(w for f, w in FIELDS.items() if f not in GHOST.values())


class PacketSpace:
    """One BDD manager and the encodings of packet fields into it."""

    def __init__(self) -> None:
        self.bdd = BDD()
        order = [f"ii{i}" for i in range(IFACE_BITS)] + [f"oi{i}" for i in range(IFACE_BITS)]
        order += ["c0", "c1"]
        for i in range(32):
            order += [f"s{i}", f"d{i}", f"os{i}", f"od{i}"]
        order += [f"p{i}" for i in range(8)]
        for f in ("t", "u"):
            order += [v for i in range(16) for v in (f"{f}{i}", f"o{f}{i}")]
        self.bdd.declare(*order)
        if BACKEND == "dd.cudd":
            self.bdd.configure(reordering=False)
        else:  # pragma: no cover
            self.bdd.configure(reordering=False)
        self.true, self.false = self.bdd.true, self.bdd.false
        self._cube: dict = {}
        self.memo_matches = False
        self._swap = {}
        for f, g in (("s", "d"), ("t", "u"), ("os", "od"), ("ot", "ou")):
            for i in range(FIELDS[f]):
                self._swap[f"{f}{i}"] = f"{g}{i}"
                self._swap[f"{g}{i}"] = f"{f}{i}"
        self.iface_vars = [f"ii{i}" for i in range(IFACE_BITS)] + [f"oi{i}" for i in range(IFACE_BITS)]
        self.state_vars = ["c0", "c1"]
        # ports mean nothing for protocols without them: keep those packets at port 0 so sets stay canonical
        no_port_proto = ~self.protocols(PORT_PROTOCOLS)
        self.valid = ~no_port_proto | (self.value("t", 0) & self.value("u", 0))

    def vars(self, f: str) -> list[str]:
        return [f"{f}{i}" for i in range(FIELDS[f])]

    # --- field encodings -------------------------------------------------------------------------
    def prefix(self, f: str, value: int, plen: int):
        key = (f, value, plen)
        node = self._cube.get(key)
        if node is None:
            w = FIELDS[f]
            node = self.bdd.cube({f"{f}{i}": bool((value >> (w - 1 - i)) & 1) for i in range(plen)})
            self._cube[key] = node
        return node

    def value(self, f: str, v: int):
        return self.prefix(f, v, FIELDS[f])

    def net(self, f: str, net: ipaddress.IPv4Network | str):
        n = ipaddress.IPv4Network(net, strict=False)
        return self.prefix(f, int(n.network_address), n.prefixlen)

    def nets(self, f: str, nets: Iterable) -> object:
        u = self.false
        for n in nets:
            u |= self.net(f, n)
        return u

    def port_range(self, f: str, lo: int, hi: int):
        key = (f, "range", lo, hi)
        node = self._cube.get(key)
        if node is None:
            node, a = self.false, lo
            while a <= hi:
                size = a & -a if a else 1 << 16
                while size > hi - a + 1:
                    size >>= 1
                node |= self.prefix(f, a, 16 - size.bit_length() + 1)
                a += size
            self._cube[key] = node
        return node

    def ports(self, f: str, ranges: Iterable[PortRange]):
        u = self.false
        for r in ranges:
            u |= self.port_range(f, r.lo, r.hi)
        return u

    def protocols(self, protos: Iterable[int]):
        u = self.false
        for p in protos:
            u |= self.value("p", p)
        return u

    def states(self, names: Iterable[str]):
        u = self.false
        for s in names:
            u |= self.value("c", STATES.index(s))
        return u

    def iface(self, direction: str, index: int):
        return self.value(direction, index)

    def match(self, m: Match, iface_index: dict[str, int]):
        """The set of packets a rule's match selects. With `memo_matches` set (the attack-path fixes recompile a
        device with one rule removed, again and again) encodings are kept; off by default, as it keeps every
        rule's set alive."""
        if not self.memo_matches:
            return self._match(m, iface_index)
        key = (m, tuple(sorted(iface_index.items())) if (m.in_ifaces or m.out_ifaces) else None)
        memo = self._cube.get(("match", key))
        if memo is None:
            memo = self._cube[("match", key)] = self._match(m, iface_index)
        return memo

    def _match(self, m: Match, iface_index: dict[str, int]):
        node = self.true

        def add(values, negated, encoded):
            nonlocal node
            if values:
                node &= ~encoded if negated else encoded

        add(m.states, m.states_negated, self.states(m.states) if m.states else None)
        add(m.in_ifaces, m.in_negated, self._ifaces("ii", m.in_ifaces, iface_index) if m.in_ifaces else None)
        add(m.out_ifaces, m.out_negated, self._ifaces("oi", m.out_ifaces, iface_index) if m.out_ifaces else None)
        add(m.src, m.src_negated, self.nets("s", m.src) if m.src else None)
        add(m.dst, m.dst_negated, self.nets("d", m.dst) if m.dst else None)
        add(m.protocols, m.protocols_negated, self.protocols(m.protocols) if m.protocols else None)
        if m.dports or m.sports:
            node &= self.protocols(PORT_PROTOCOLS)  # a port test never matches a protocol without ports
        add(m.dports, m.dports_negated, self.ports("t", m.dports) if m.dports else None)
        add(m.sports, m.sports_negated, self.ports("u", m.sports) if m.sports else None)
        return node

    def _ifaces(self, direction, names, iface_index):
        u = self.false
        for w in names:
            for name, idx in iface_index.items():
                if name == w or (w.endswith(("+", "*")) and name.startswith(w[:-1])):
                    u |= self.iface(direction, idx)
        return u

    # --- transformations -------------------------------------------------------------------------
    def swap(self, u):
        """The replies of a packet set: src and dst addresses and ports exchanged."""
        return self.bdd.let(self._swap, u)

    def with_state(self, u, state: str):
        return self.bdd.exist(self.state_vars, u) & self.value("c", STATES.index(state))

    def forget_ifaces(self, u):
        return self.bdd.exist(self.iface_vars, u)

    def restrict_ifaces(self, u, in_index: int, out_index: int):
        vals = {}
        for d, idx in (("ii", in_index), ("oi", out_index)):
            for i in range(IFACE_BITS):
                vals[f"{d}{i}"] = bool((idx >> (IFACE_BITS - 1 - i)) & 1)
        return self.bdd.let(vals, u)

    def pick(self, u, original: bool = False) -> Packet | None:
        """One concrete packet of a set (unconstrained bits are 0); `original`: its ghost (untranslated) header."""
        if u == self.false:
            return None
        a = self.bdd.pick(u)

        def field(f):
            w, v = FIELDS[f], 0
            for i in range(w):
                v = (v << 1) | int(bool(a.get(f"{f}{i}", False)))
            return v

        if original:
            return Packet(field("os"), field("od"), field("p"), field("ou"), field("ot"), STATES[field("c")])
        return Packet(field("s"), field("d"), field("p"), field("u"), field("t"), STATES[field("c")])

    def packet(self, p: Packet):
        return (self.value("s", p.src) & self.value("d", p.dst) & self.value("p", p.proto) & self.value("t", p.dport)
                & self.value("u", p.sport) & self.value("c", STATES.index(p.state)))

    def count(self, u) -> int:
        """Packets in a set that does not mention the ghost fields."""
        return int(self.bdd.count(u, nvars=REAL_BITS))

    # --- address translation (see reach.py for where each step happens) ----------------------------
    def ghost_equal(self, fields=("s", "d", "t", "u")):
        """Ghost fields equal to the real ones: the flows as their sources send them."""
        key = ("ghost_equal", tuple(fields))
        node = self._cube.get(key)
        if node is None:
            node = self.true
            for f in fields:
                g = GHOST[f]
                for i in reversed(range(FIELDS[f])):
                    a, b = self.bdd.var(f"{f}{i}"), self.bdd.var(f"{g}{i}")
                    node &= (a & b) | (~a & ~b)
            self._cube[key] = node
        return node

    def forget(self, u, fields):
        """∃ the bits of some fields: what a rewrite of those fields starts from."""
        return self.bdd.exist([v for f in fields for v in self.vars(f)], u)

    def originals(self, u):
        """The flows (by ghost fields) of a set, whatever their real headers now are."""
        return self.forget(u, ("s", "d", "t", "u"))

    def rewrite(self, u, addr_field: str, pool, port_field: str, ports):
        """Packets of `u` with `addr_field` rewritten to any address of `pool` (None: kept) and, for protocols with
        ports, `port_field` to any port of `ports` (None: kept)."""
        if pool is not None:
            u = self.forget(u, (addr_field,)) & pool
        if ports is not None:
            with_ports = self.protocols(PORT_PROTOCOLS)
            u = (u & ~with_ports) | (self.forget(u & with_ports, (port_field,)) & ports)
        return u

    def untranslate(self, reply, before, after, fields):
        """Replies of translated flows put back as conntrack does: `before`/`after` are the forward packets before
        and after one device's translation (state removed); `fields` the reply fields that translation changed.
        Returns (replies translated back, replies of flows this device did not translate)."""
        mine = self.swap(after)
        hit = reply & mine
        if hit == self.false:
            return self.false, reply
        return self.forget(hit, fields) & self.swap(before), reply & ~mine


def compile_device(space: PacketSpace, device: Device, hook: str, iface_index: dict[str, int]) -> dict:
    """Fold a device's base chains for a hook into verdict sets over all interface pairs at once."""
    if any(rs.blocking for rs in device.rulesets):  # e.g. NAT or mangle rules: nothing through it is certain
        return {"unknown": space.true}
    chains = device.chains(hook)
    if not chains:
        return {"accept": space.true}
    result: dict | None = None
    for rs, chain in chains:
        if rs.blocking:
            sets = {"unknown": space.true}
        else:
            cont = {"accept": space.true} if (chain.policy or "accept") == "accept" else {}
            sets = _fold(space, rs, chain.name, cont, iface_index, 0)
        result = sets if result is None else _then(space, result, sets)
    return result


def _then(space, first: dict, second: dict) -> dict:
    """Sequential base chains on one hook: an accept passes to the next chain, anything else ends there."""
    acc = first.get("accept", space.false)
    out = {k: v for k, v in first.items() if k != "accept"}
    for k, v in second.items():
        out[k] = out.get(k, space.false) | (acc & v)
    return out


def _fold(space: PacketSpace, rs: RuleSet, name: str, cont: dict, iface_index, depth: int) -> dict:
    """Reverse fold of a first-match chain: cur = ite(match_r, verdict_r, cur), from the last rule to the first.

    `cont` is what happens to packets that fall off the end (the policy, or the caller's remainder after a jump).
    """
    if depth > 64:
        return {"unknown": space.true}
    chain = rs.chains.get(name)
    if chain is None:
        return {"unknown": space.true}
    cur = dict(cont)
    for r in reversed(chain.rules):
        m = space.match(r.match, iface_index)
        if m == space.false:
            continue
        if r.unsupported is not None:
            label_sets = {"unknown": space.true}
        elif r.action == "accept":
            label_sets = {"accept": space.true}
        elif r.action == "drop":
            label_sets = {}
        elif r.action == "reject":
            label_sets = {f"reject:{r.reject_with}": space.true}
        elif r.action == "return":
            label_sets = cont
        elif r.action == "jump":
            label_sets = _fold(space, rs, r.target, cur, iface_index, depth + 1)
        elif r.action == "goto":
            label_sets = _fold(space, rs, r.target, cont, iface_index, depth + 1)
        else:  # continue, log, counter
            continue
        for k in set(cur) | set(label_sets):
            x = cur.get(k, space.false)
            y = label_sets.get(k, space.false)
            if y == space.true:
                cur[k] = m | x
            elif y == space.false:
                cur[k] = x & ~m
            else:
                cur[k] = space.bdd.ite(m, y, x)
    return cur
