"""Cisco ASA (8.3 and later) NAT into `NatRule`s, in the order the ASA applies them.

Section 1 is twice NAT (`nat (real,mapped) source ...` at top level) in file order (a line number inserts), section 2
object NAT (`nat` inside `object network`: static before dynamic, then fewer real addresses, lower address, name),
section 3 twice NAT `after-auto`. A static translation is two rules: the inbound half (stage pre: the mapped
destination arriving on the mapped interface becomes the real address) and the outbound half (stage post: the real
source leaving by the mapped interface becomes the mapped address). Dynamic NAT/PAT is the outbound half only
(`interface` as the mapped address: that interface's address). Identity NAT (mapped = real) is action none. Since
8.3 access lists name real (untranslated) addresses, which is what the Linux-order filter sees: no rewrite needed.

Reported with their line (their packets become insufficient information, the rest of the device stays answerable):
one-to-one subnet mappings, twice-NAT `service` translation, IPv6/FQDN objects, `interface ipv6`, undefined objects.
Legacy pre-8.3 `nat (if) id`/`global`/`static` stay device-wide.
"""

from __future__ import annotations

from dataclasses import dataclass

from linewatch.segmentation.engine.model import Match, NatRule, PortRange, RuleSet
from linewatch.segmentation.engine.parsers.cisco import Groups
from linewatch.segmentation.engine.parsers.common import (
    Accountant,
    ParseProblem,
    net,
    one_to_one,
    port_number,
    static_nat,
)

OPTIONS = {"no-proxy-arp", "route-lookup", "dns", "net-to-net", "unidirectional", "round-robin", "extended", "flat",
           "include-reserve", "block-allocation"}


@dataclass
class NatLine:
    line: int
    text: str
    words: list[str]
    obj: str | None = None  # object NAT: the object's name


def ifpair(w: str) -> tuple[str, str]:
    """`(inside,outside)` -> ("inside", "outside")."""
    if not (w.startswith("(") and w.endswith(")") and "," in w):
        raise ParseProblem(f"interface pair {w} (pre-8.3 NAT syntax is not modelled)")
    a, b = w[1:-1].split(",", 1)
    return a.strip(), b.strip()


def build(rs: RuleSet, acct: Accountant, g: Groups, names: dict[str, tuple[str, ...]], lines: list[NatLine]) -> None:
    """All NAT statements of the file, in ASA order, appended to `rs.nat`."""
    sec1: list[NatLine] = []
    sec3: list[NatLine] = []
    objs: list[tuple[tuple, NatLine]] = []
    for n in lines:
        w = n.words
        if "inactive" in w:
            acct.ignore(n.line)
            continue
        if n.obj is not None:
            try:
                real = g.network(n.obj)
            except ParseProblem:
                real = ()
            kind = 0 if "static" in w[:3] else 1
            first = min((int(x.network_address) for x in real), default=0)
            objs.append(((kind, sum(x.num_addresses for x in real) or 2 ** 32, first, n.obj), n))
            continue
        pos = w[2] if len(w) > 2 else ""
        if pos == "after-auto":
            at = w[3] if len(w) > 3 and w[3].isdigit() else None
            n.words = w[:2] + w[4 if at else 3:]
            _insert(sec3, n, at)
        else:
            n.words = w[:2] + w[3:] if pos.isdigit() else w
            _insert(sec1, n, pos if pos.isdigit() else None)
    for n in sec1:
        _one(rs, acct, g, names, n, _twice)
    for _key, n in sorted(objs, key=lambda kv: kv[0]):
        _one(rs, acct, g, names, n, _object)
    for n in sec3:
        _one(rs, acct, g, names, n, _twice)


def _insert(section: list[NatLine], n: NatLine, at: str | None) -> None:
    if at is None:
        section.append(n)
    else:
        section.insert(max(0, int(at) - 1), n)


def _one(rs, acct, g, names, n: NatLine, fn) -> None:
    try:
        real_if, mapped_if = ifpair(n.words[1]) if len(n.words) > 1 else ("", "")
        ifs = []
        for x in (real_if, mapped_if):
            if x == "any":
                ifs.append(())
            elif x in names:
                ifs.append(names[x])
            else:
                raise ParseProblem(f"no interface with nameif {x}")
        fn(rs, acct, g, n, ifs[0], ifs[1])
        acct.use(n.line)
    except (ParseProblem, IndexError, ValueError) as exc:
        u = acct.report(n.line, n.text, f"NAT not modelled: {exc}")
        if "IPv6" in str(exc):
            return  # translates IPv6 packets only: nothing the IPv4 model answers is affected
        for stage, m in _fallback(rs, g, n):
            rs.nat.append(NatRule(stage, "none", m, f"{rs.source}:{n.line}", text=n.text, unsupported=u))


def _fallback(rs: RuleSet, g: Groups, n: NatLine) -> list[tuple[str, Match]]:
    """The packets a NAT statement that cannot be modelled might translate, as narrow as what can be read of it:
    a dynamic rule only sources of its real addresses (stage post), a static one also any destination (stage pre)."""
    w = n.words
    try:
        real = g.network(n.obj) if n.obj is not None else _addrs(rs, g, w[4], ())
    except (ParseProblem, IndexError, ValueError):
        return [("pre", Match()), ("post", Match())]
    dynamic = "dynamic" in w[2:4]
    out = [("post", Match(src=real))]
    if not dynamic or "destination" in w:
        out.insert(0, ("pre", Match(src=real) if dynamic else Match()))
    return out


def _addrs(rs: RuleSet, g: Groups, word: str, iface: tuple[str, ...]) -> tuple:
    if word in ("any", "any4"):
        return ()
    if word in g.networks:
        return g.network(word)
    if word in g.names:
        return (net(g.names[word]),)
    return (net(word),)


def _iface_addr(rs: RuleSet, iface: tuple[str, ...]) -> tuple:
    if not iface:
        raise ParseProblem("'interface' as the mapped address with mapped interface any")
    for name in iface:
        itf = rs.interfaces.get(name)
        if itf and itf.addresses:
            return tuple(net(str(a.ip)) for a in itf.addresses)
    raise ParseProblem(f"interface {iface[-1]} has no static IPv4 address")


def _own_address(rs: RuleSet, iface: tuple[str, ...]) -> tuple:
    """The mapped interface's configured address (what `interface` PAT uses), () when the config does not give it
    (masquerade: the engine takes the out interface's address)."""
    try:
        return _iface_addr(rs, iface)
    except ParseProblem:
        return ()


def _object(rs: RuleSet, acct: Accountant, g: Groups, n: NatLine, real_if, mapped_if) -> None:
    """`nat (real,mapped) static <mapped|interface> [service tcp|udp real mapped] ...` or `dynamic <pool|interface>`."""
    w = n.words
    origin = f"{rs.source}:{n.line}"
    real = g.network(n.obj or "")
    kind = w[2]
    rest = w[3:]
    if "ipv6" in rest:
        raise ParseProblem("IPv6 NAT (only IPv4 is modelled)")
    if kind == "static":
        mapped_word = rest[0]
        proto = rport = mport = None
        if "service" in rest:
            i = rest.index("service")
            proto = {"tcp": 6, "udp": 17, "sctp": 132}[rest[i + 1]]
            rport, mport = port_number(rest[i + 2]), port_number(rest[i + 3])
        _unknown_options(rest[1:], ("service",), 3)
        if mapped_word == "interface":
            if len(real) != 1 or real[0].num_addresses != 1:
                raise ParseProblem("static NAT of several addresses to the interface address")
            _interface_static(rs, real, real_if, mapped_if, origin, n.text, proto, rport, mport)
            return
        mapped = _addrs(rs, g, mapped_word, mapped_if)
        identity = set(mapped) == set(real)
        why = None if identity else one_to_one(real, mapped)
        problem = acct.report(n.line, n.text, why) if why else None
        static_nat(rs, real, mapped, real_if, mapped_if, origin, n.text, proto, rport, mport, problem, identity)
    elif kind == "dynamic":
        _dynamic(rs, g, real, (), (), real_if, mapped_if, rest, origin, n.text)
    else:
        raise ParseProblem(f"NAT type {kind}")


def _unknown_options(rest: list[str], skip: tuple[str, ...], width: int) -> None:
    i = 0
    while i < len(rest):
        if rest[i] in skip:
            i += width + 1
            continue
        if rest[i] not in OPTIONS and rest[i] != "description":
            raise ParseProblem(f"NAT option {rest[i]}")
        if rest[i] == "description":
            return
        i += 1


def _interface_static(rs, real, real_if, mapped_if, origin, text, proto, rport, mport) -> None:
    """Static NAT to the mapped interface's own address: port forwarding in, that address out."""
    addr = _iface_addr(rs, mapped_if)
    pre: dict = {"dst": addr, "in_ifaces": mapped_if}
    post: dict = {"src": real, "out_ifaces": mapped_if}
    if real_if:
        post["in_ifaces"] = real_if
    if proto is not None:
        pre |= {"protocols": (proto,), "dports": (PortRange(mport, mport),)}
        post |= {"protocols": (proto,), "sports": (PortRange(rport, rport),)}
    rs.nat.append(NatRule("pre", "dnat", Match(**pre), origin, real,
                          PortRange(rport, rport) if rport is not None else None, text))
    rs.nat.append(NatRule("post", "snat", Match(**post), origin, addr,
                          PortRange(mport, mport) if mport is not None else None, text))


def _dynamic(rs, g, real, dst_match, dst_real, real_if, mapped_if, rest, origin, text) -> None:
    """Dynamic NAT/PAT: the outbound half only (stage post)."""
    words = [x for x in rest if x not in OPTIONS]
    pool: tuple = ()
    masq = False
    i = 0
    while i < len(words):
        x = words[i]
        if x == "pat-pool":
            pool += _addrs(rs, g, words[i + 1], mapped_if)
            i += 2
            continue
        if x == "interface":
            if not pool:
                masq = True
        elif x in ("destination", "service", "description"):
            break
        else:
            pool += _addrs(rs, g, x, mapped_if)
        i += 1
    if not pool and not masq:
        raise ParseProblem("dynamic NAT without a mapped address")
    m: dict = {"out_ifaces": mapped_if}
    if real:
        m["src"] = real
    if real_if:
        m["in_ifaces"] = real_if
    if dst_real:
        m["dst"] = dst_real
    if masq:
        pool = _own_address(rs, mapped_if)
    if pool:
        rs.nat.append(NatRule("post", "snat", Match(**m), origin, pool, text=text))
    else:
        rs.nat.append(NatRule("post", "masquerade", Match(**m), origin, text=text))


def _twice(rs: RuleSet, acct: Accountant, g: Groups, n: NatLine, real_if, mapped_if) -> None:
    """`nat (real,mapped) source static|dynamic A B [destination static C D] [service S T] [unidirectional] ...`:
    outbound, source A -> B and destination C (mapped) -> D (real); a static source also translates inbound."""
    w = n.words
    origin = f"{rs.source}:{n.line}"
    if w[2] != "source":
        raise ParseProblem(f"twice NAT '{w[2]}'")
    kind = w[3]
    if kind not in ("static", "dynamic"):
        raise ParseProblem(f"NAT type {kind}")
    if "ipv6" in w:
        raise ParseProblem("IPv6 NAT (only IPv4 is modelled)")
    real = _addrs(rs, g, w[4], real_if)
    rest = w[5:]
    dst_mapped = dst_real = ()
    has_dst = "destination" in rest
    if has_dst:
        i = rest.index("destination")
        if rest[i + 1] != "static":
            raise ParseProblem("destination dynamic")
        dst_mapped = _iface_addr(rs, real_if) if rest[i + 2] == "interface" else _addrs(rs, g, rest[i + 2], real_if)
        dst_real = _addrs(rs, g, rest[i + 3], mapped_if)
    problem = None
    if "service" in rest:
        problem = acct.report(n.line, n.text, "twice NAT with service (port) translation is not modelled")
    if kind == "dynamic":
        if has_dst and set(dst_mapped) != set(dst_real):
            _pre(rs, real_if, real, dst_mapped, dst_real, origin, n.text, problem)
        if problem:
            nat_problem_rule(rs, "post", Match(src=real, out_ifaces=mapped_if), origin, n.text, problem)
            return
        _dynamic(rs, g, real, dst_mapped, dst_real if has_dst else (), real_if, mapped_if, rest, origin, n.text)
        return
    mapped_word = rest[0] if rest else ""
    masq = mapped_word == "interface"
    mapped = _iface_addr(rs, mapped_if) if masq else _addrs(rs, g, mapped_word, mapped_if)
    src_identity = set(mapped) == set(real)
    dst_identity = set(dst_mapped) == set(dst_real)
    if not src_identity and not masq and problem is None:
        why = one_to_one(real, mapped)
        problem = acct.report(n.line, n.text, why) if why else None
    if has_dst and not dst_identity and problem is None:
        why = one_to_one(dst_real, dst_mapped)
        problem = acct.report(n.line, n.text, why) if why else None
    # outbound: destination first (pre), then source (post)
    if has_dst:
        _pre(rs, real_if, real, dst_mapped, dst_real, origin, n.text, problem)
    post: dict = {"src": real, "out_ifaces": mapped_if, "in_ifaces": real_if, "dst": dst_real}
    post = {k: v for k, v in post.items() if v}
    if problem or src_identity:
        rs.nat.append(NatRule("post", "none", Match(**post), origin, text=n.text, unsupported=problem))
    else:
        rs.nat.append(NatRule("post", "snat", Match(**post), origin, mapped, text=n.text))
    if "unidirectional" in rest:
        return
    # inbound (the reverse of a static source): destination B -> A before routing, source D -> C after
    pre = {k: v for k, v in {"dst": mapped, "src": dst_real, "in_ifaces": mapped_if}.items() if v}
    if problem or src_identity:
        rs.nat.append(NatRule("pre", "none", Match(**pre), origin, text=n.text, unsupported=problem))
    else:
        rs.nat.append(NatRule("pre", "dnat", Match(**pre), origin, real, text=n.text))
    if has_dst:
        back = {k: v for k, v in {"src": dst_real, "dst": real, "out_ifaces": real_if,
                                  "in_ifaces": mapped_if}.items() if v}
        if problem or dst_identity:
            rs.nat.append(NatRule("post", "none", Match(**back), origin, text=n.text, unsupported=problem))
        else:
            rs.nat.append(NatRule("post", "snat", Match(**back), origin, dst_mapped, text=n.text))


def _pre(rs, real_if, real, dst_mapped, dst_real, origin, text, problem) -> None:
    m = {k: v for k, v in {"src": real, "dst": dst_mapped, "in_ifaces": real_if}.items() if v}
    if problem or set(dst_mapped) == set(dst_real):
        rs.nat.append(NatRule("pre", "none", Match(**m), origin, text=text, unsupported=problem))
    else:
        rs.nat.append(NatRule("pre", "dnat", Match(**m), origin, dst_real, text=text))


def nat_problem_rule(rs: RuleSet, stage: str, m: Match, origin: str, text: str, problem) -> None:
    rs.nat.append(NatRule(stage, "none", m, origin, text=text, unsupported=problem))


__all__ = ["build", "NatLine"]
