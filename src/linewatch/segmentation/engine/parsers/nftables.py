"""`nft list ruleset` text into the vendor-neutral model.

Tables of family ip and inet; chains with `type filter hook forward|input|output priority P; policy P;`; rules with
ip saddr/daddr (prefixes, ranges, anonymous and named sets), ip protocol / meta l4proto, tcp/udp/th sport/dport
(ports, ranges, sets), ct state, iifname/oifname, counter/log/comment (no effect on the verdict) and the verdicts
accept, drop, reject [with ...], jump, goto, return, continue. NAT chains (`type nat hook prerouting|postrouting`)
become the model's NAT rules: `dnat [ip] to A[-B][:P[-Q]]`, `snat [ip] to ...`, `masquerade [to :P[-Q]]`,
`redirect [to :P]` (with random/fully-random/persistent flags), accept/return (no translation) and jumps into user
chains (natflat.py); maps, IPv6 translation and nat chains on input/output hooks are reported with their line. Tables
of other families (ip6, arp, bridge, netdev) and other objects are reported; a route chain with rules marks the
device as insufficient information.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace

from linewatch.errors import InputError
from linewatch.segmentation.engine.model import (
    PROTOCOLS,
    STATES,
    Chain,
    Match,
    PortRange,
    Rule,
    RuleSet,
    Unsupported,
)
from linewatch.segmentation.engine.parsers import natflat

TOKEN = re.compile(r'"[^"]*"|\{|\}|,|;|[^\s{},;]+')
SERVICES = {"ssh": 22, "http": 80, "https": 443, "domain": 53, "telnet": 23, "ftp": 21, "smtp": 25, "snmp": 161,
            "ntp": 123, "rdp": 3389, "ms-wbt-server": 3389, "modbus": 502, "iso-tsap": 102, "bootps": 67}
PRIORITIES = {"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}
VERDICTS = {"accept", "drop", "reject", "jump", "goto", "return", "continue"}
SKIP_ARGS = {"prefix", "level", "flags", "group", "snaplen", "queue-threshold"}
NAT_STATEMENTS = {"dnat", "snat", "masquerade", "redirect"}
NAT_FLAGS = {"random", "fully-random", "persistent"}
NAT_HOOKS = {"prerouting": "pre", "postrouting": "post"}
EPHEMERAL_ALL = PortRange(1024, 65535)


class _Unsupported(Exception):
    pass


def parse(text: str, source: str) -> RuleSet:
    rs = RuleSet(source=source)
    lines = _logical_lines(text)
    stack: list[tuple[str, object]] = []  # ("table", family) | ("chain", Chain) | ("set", dict) | ("skip", None)
    sets: dict[str, dict] = {}
    pending_rules: list[tuple[Chain, list[str], int, str]] = []
    for lineno, line in lines:
        toks = [t for t in TOKEN.findall(line)]
        if not toks:
            continue
        head = toks[0]
        if head == "}":
            if not stack:
                raise InputError(source, str(lineno), "unbalanced '}'")
            stack.pop()
            continue
        ctx = stack[-1] if stack else None
        if ctx is None:
            if head == "table" and toks[-1] == "{":
                family = toks[1] if len(toks) == 4 else "ip"
                if family not in ("ip", "inet"):
                    rs.unsupported.append(Unsupported(source, lineno, line, f"{family} tables (only IPv4 is modelled)"))
                    stack.append(("skip", None))
                else:
                    stack.append(("table", family))
                continue
            if head in ("flush", "define") or head.startswith("#"):
                continue
            raise InputError(source, str(lineno), f"expected 'table', got {line.strip()!r}")
        kind, obj = ctx
        if kind == "skip":
            if toks[-1] == "{":
                stack.append(("skip", None))
            continue
        if kind == "table":
            if head == "chain" and toks[-1] == "{":
                c = Chain(name=toks[1], origin=f"{source}:{lineno}")
                rs.chains[c.name] = c
                stack.append(("chain", c))
            elif head == "set" and toks[-1] == "{":
                s = {"name": toks[1], "type": None, "elements": [], "line": lineno}
                sets[toks[1]] = s
                stack.append(("set", s))
            elif toks[-1] == "{":
                rs.unsupported.append(Unsupported(source, lineno, line.strip(), f"nft object '{head}'"))
                stack.append(("skip", None))
            else:
                rs.unsupported.append(Unsupported(source, lineno, line.strip(), f"table statement '{head}'"))
            continue
        if kind == "set":
            s = obj
            if head == "type" or head == "typeof":
                s["type"] = " ".join(toks[1:])
            elif head == "elements":
                s["elements"] = [t for t in toks[2:] if t not in ("{", "}", ",")]
            continue
        chain = obj
        if head == "type":
            _chain_header(rs, chain, toks, lineno, line)
            continue
        if head == "policy":
            chain.policy = toks[1]
            continue
        pending_rules.append((chain, toks, lineno, line.strip()))
    if stack:
        raise InputError(source, str(len(text.splitlines())), "unterminated block: missing '}'")
    nat_chains = _nat_reachable(rs, pending_rules)
    entries: dict[str, list[natflat.Entry]] = {name: [] for name in nat_chains}
    for chain, toks, lineno, line in pending_rules:
        kind = getattr(chain, "_nat", None)
        if kind == "route":
            u = Unsupported(source, lineno, line, "rules in route chains are not modelled")
            rs.unsupported.append(u)
            rs.blocking.append(u)
            continue
        if kind in ("input", "output"):
            rs.unsupported.append(Unsupported(source, lineno, line, f"nat {kind} chains (translation of locally "
                                              f"{'generated' if kind == 'output' else 'delivered'} packets) "
                                              "are not modelled"))
            continue
        if chain.name in nat_chains:
            entries[chain.name].append(_nat_entry(rs, toks, lineno, line, sets))
            if kind is not None or not chain.hook and _only_nat(chain.name, nat_chains, pending_rules):
                continue
        chain.rules.append(_rule(rs, toks, lineno, line, sets))
    for stage in ("pre", "post"):
        bases = sorted((c for c in rs.chains.values() if getattr(c, "_nat", None) == stage), key=lambda c: c.priority)
        for n, c in enumerate(bases):
            flat = natflat.flatten(rs, entries, c.name, stage)
            if n < len(bases) - 1:  # an accept ends only its own base chain: the next one still runs
                flat = [_not_last(rs, r) for r in flat]
            rs.nat.extend(flat)
    for c in list(rs.chains.values()):
        if getattr(c, "_nat", None) is not None or (c.name in nat_chains and _only_nat(c.name, nat_chains,
                                                                                          pending_rules)):
            del rs.chains[c.name]
    return rs


def _nat_reachable(rs: RuleSet, pending) -> set[str]:
    """NAT base chains on prerouting/postrouting and the user chains their rules jump to."""
    found = {c.name for c in rs.chains.values() if getattr(c, "_nat", None) in ("pre", "post")}
    todo = list(found)
    while todo:
        name = todo.pop()
        for chain, toks, _ln, _line in pending:
            if chain.name != name:
                continue
            for i, tok in enumerate(toks[:-1]):
                if tok in ("jump", "goto") and toks[i + 1] in rs.chains and toks[i + 1] not in found:
                    found.add(toks[i + 1])
                    todo.append(toks[i + 1])
    return found


def _only_nat(name: str, nat_chains: set[str], pending) -> bool:
    """A user chain reached from NAT chains only (not also jumped to from filter chains)."""
    for chain, toks, _ln, _line in pending:
        if chain.name not in nat_chains and any(t == name for t in toks):
            return False
    return True


def _not_last(rs: RuleSet, r):
    if r.action != "none" or r.unsupported is not None:
        return r
    u = Unsupported(rs.source, int(r.origin.rsplit(":", 1)[1]), r.text,
                    "accept/return in a NAT chain followed by another NAT chain on the same hook is not modelled")
    rs.unsupported.append(u)
    return replace(r, unsupported=u)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """One statement per entry; a `{ ... }` set literal that spans lines is joined onto its first line."""
    out, buf, start, depth = [], "", 0, 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0] if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        for part in _split_semicolons(line):
            if not buf:
                start = lineno
            buf += " " + part
            # braces that open a block end the line; braces inside a statement must balance
            depth = buf.count("{") - buf.count("}")
            tail = buf.rstrip()
            if depth > 0 and ((not tail.endswith("{") and "=" in buf) or tail.endswith(",")):
                continue
            out.append((start, buf.strip()))
            buf = ""
    if buf:
        out.append((start, buf.strip()))
    return out


def _split_semicolons(line: str) -> list[str]:
    # "type filter hook forward priority 0; policy drop;" stays one header line; elsewhere ';' separates statements
    s = line.strip()
    if s.startswith("type "):
        return [s]
    return [p for p in s.split(";") if p.strip()]


def _chain_header(rs, chain: Chain, toks, lineno, line) -> None:
    parts = " ".join(toks).replace(" ;", ";").split(";")
    for p in parts:
        w = p.split()
        if not w:
            continue
        if w[0] == "type":
            ctype = w[1]
            if "hook" in w:
                hook = w[w.index("hook") + 1]
                if ctype == "nat":
                    # prerouting/postrouting: translated; input/output: reported rule by rule
                    chain._nat = NAT_HOOKS.get(hook, hook)  # type: ignore[attr-defined]
                elif ctype != "filter":
                    chain._nat = "route"  # type: ignore[attr-defined]
                    rs.unsupported.append(Unsupported(rs.source, lineno, line.strip(), f"{ctype} chains"))
                    return
                if ctype == "nat":
                    pass
                elif hook in ("forward", "input", "output"):
                    chain.hook = hook
                    chain.policy = chain.policy or "accept"
                else:
                    u = Unsupported(rs.source, lineno, line.strip(), f"filter hook {hook}")
                    rs.unsupported.append(u)
                    rs.blocking.append(u)
            if "priority" in w:
                pr = w[w.index("priority") + 1:]
                try:
                    base = PRIORITIES.get(pr[0])
                    chain.priority = base if base is not None else int(pr[0])
                    if len(pr) == 3:
                        chain.priority += int(pr[2]) * (1 if pr[1] == "+" else -1)
                except (ValueError, IndexError):
                    raise InputError(rs.source, str(lineno), f"bad chain priority in {line.strip()!r}") from None
        elif w[0] == "policy":
            if w[1] not in ("accept", "drop"):
                raise InputError(rs.source, str(lineno), f"chain policy must be accept or drop, not {w[1]!r}")
            chain.policy = w[1]


def _values(toks: list[str], i: int) -> tuple[list[str], int]:
    """The value at toks[i] (a single token or a `{ a, b }` set); returns (values, next index)."""
    if toks[i] == "{":
        vals = []
        i += 1
        while toks[i] != "}":
            if toks[i] != ",":
                vals.append(toks[i])
            i += 1
        return vals, i + 1
    vals = [toks[i]]
    i += 1
    while i + 1 < len(toks) and toks[i] == ",":  # ct state established,related
        vals.append(toks[i + 1])
        i += 2
    return vals, i


def _rule(rs: RuleSet, toks: list[str], lineno: int, line: str, sets: dict) -> Rule:
    origin = f"{rs.source}:{lineno}"
    f: dict = {}
    action, target, reject_with = "continue", None, None
    i = 0
    try:
        while i < len(toks):
            t = toks[i]
            if t in ("ip", "tcp", "udp", "th", "meta", "ct") and i + 1 < len(toks):
                key = f"{t} {toks[i + 1]}"
                i += 2
                neg = False
                if i < len(toks) and toks[i] in ("!=", "=="):
                    neg = toks[i] == "!="
                    i += 1
                if i < len(toks) and toks[i] == ".":
                    raise _Unsupported("concatenation '.'")
                vals, i = _values(toks, i)
                if i < len(toks) and toks[i] == ".":
                    raise _Unsupported("concatenation '.'")
                vals = _expand(rs, vals, sets, lineno)
                if key in ("ip saddr", "ip daddr"):
                    field = "src" if key == "ip saddr" else "dst"
                    f[field], f[f"{field}_negated"] = _nets(rs, vals, lineno), neg
                elif key in ("ip protocol", "meta l4proto"):
                    f["protocols"], f["protocols_negated"] = tuple(_proto(v) for v in vals), neg
                elif key in ("tcp dport", "tcp sport", "udp dport", "udp sport", "th dport", "th sport"):
                    field = "dports" if key.endswith("dport") else "sports"
                    f[field], f[f"{field}_negated"] = _ports(rs, vals, lineno), neg
                    if t != "th":
                        f["protocols"], f["protocols_negated"] = (PROTOCOLS[t],), False
                    elif "protocols" not in f:
                        f["protocols"] = (6, 17, 132)
                elif key == "ct state":
                    states = tuple(v.upper() for v in vals)
                    if any(s not in STATES for s in states):
                        raise _Unsupported(f"ct state {','.join(vals)}")
                    f["states"], f["states_negated"] = states, neg
                else:
                    raise _Unsupported(f"match '{key}'")
            elif t in ("iifname", "oifname", "iif", "oif"):
                i += 1
                neg = False
                if toks[i] in ("!=", "=="):
                    neg = toks[i] == "!="
                    i += 1
                vals, i = _values(toks, i)
                names = tuple(v.strip('"') for v in vals)
                if t.startswith("i"):
                    f["in_ifaces"], f["in_negated"] = names, neg
                else:
                    f["out_ifaces"], f["out_negated"] = names, neg
            elif t == "counter":
                i += 1
                while i + 1 < len(toks) and toks[i] in ("packets", "bytes"):
                    i += 2
            elif t in ("log", "comment"):
                i += 1 if t == "log" else 2
                while t == "log" and i + 1 < len(toks) and toks[i] in SKIP_ARGS:
                    i += 2
            elif t in VERDICTS:
                action = t
                i += 1
                if t in ("jump", "goto"):
                    target = toks[i]
                    i += 1
                elif t == "reject":
                    reject_with = "icmp-port-unreachable"
                    if i < len(toks) and toks[i] == "with":
                        rest = toks[i + 1:]
                        if rest[:2] == ["tcp", "reset"]:
                            reject_with, i = "tcp-reset", i + 3
                        elif len(rest) >= 3 and rest[1] == "type":
                            reject_with, i = _icmp(rest[2]), i + 4
                        elif len(rest) >= 2:
                            reject_with, i = _icmp(rest[1]), i + 3
                if i < len(toks):
                    raise _Unsupported(f"'{' '.join(toks[i:])}' after the verdict")
            else:
                raise _Unsupported(f"statement '{t}'")
    except _Unsupported as exc:
        u = Unsupported(rs.source, lineno, line, f"{exc} is not supported")
        rs.unsupported.append(u)
        return Rule(Match(**f), "continue", origin, text=line, unsupported=u)
    except IndexError:
        raise InputError(rs.source, str(lineno), f"incomplete rule: {line!r}") from None
    return Rule(Match(**f), action, origin, target=target, reject_with=reject_with, text=line)


def _icmp(name: str) -> str:
    return {"port-unreachable": "icmp-port-unreachable", "host-prohibited": "icmp-host-prohibited",
            "admin-prohibited": "icmp-admin-prohibited", "host-unreachable": "icmp-host-unreachable",
            "net-unreachable": "icmp-net-unreachable", "net-prohibited": "icmp-net-prohibited"}.get(name, name)


def _expand(rs, vals: list[str], sets: dict, lineno: int) -> list[str]:
    out = []
    for v in vals:
        if v.startswith("@"):
            s = sets.get(v[1:])
            if s is None:
                raise InputError(rs.source, str(lineno), f"unknown set {v}")
            if s["type"] is None or "." in s["type"] or "map" in s["type"]:
                raise _Unsupported(f"set {v} of type {s['type']}")
            out.extend(s["elements"])
        elif v.startswith("$"):
            raise _Unsupported(f"variable {v}")
        else:
            out.append(v)
    return out


def _nets(rs, vals, lineno) -> tuple[ipaddress.IPv4Network, ...]:
    out: list[ipaddress.IPv4Network] = []
    for v in vals:
        try:
            if "-" in v:
                a, b = (ipaddress.IPv4Address(x) for x in v.split("-", 1))
                out.extend(ipaddress.summarize_address_range(a, b))
            else:
                out.append(ipaddress.IPv4Network(v, strict=False))
        except ValueError:
            raise InputError(rs.source, str(lineno), f"not an IPv4 address, prefix or range: {v!r}") from None
    return tuple(out)


def _ports(rs, vals, lineno) -> tuple[PortRange, ...]:
    out = []
    for v in vals:
        lo, _, hi = v.partition("-")
        try:
            lo_n = SERVICES[lo] if lo in SERVICES else int(lo)
            hi_n = (SERVICES[hi] if hi in SERVICES else int(hi)) if hi else lo_n
            out.append(PortRange(lo_n, hi_n))
        except (ValueError, KeyError):
            if not lo.isdigit() and lo.isalpha():
                raise _Unsupported(f"service name {lo}") from None
            raise InputError(rs.source, str(lineno), f"not a port or port range: {v!r}") from None
    return tuple(out)


def _proto(v: str) -> int:
    if v.isdigit():
        return int(v)
    if v in PROTOCOLS:
        return PROTOCOLS[v]
    raise _Unsupported(f"protocol {v}")


def _nat_entry(rs: RuleSet, toks: list[str], lineno: int, line: str, sets: dict) -> natflat.Entry:
    """A rule of a NAT chain (or of a user chain it jumps to): its match and what it does."""
    origin = f"{rs.source}:{lineno}"
    at = next((i for i, t in enumerate(toks) if t in NAT_STATEMENTS), None)
    if at is None:  # a plain verdict (accept, return, jump, goto) or nothing
        rule = _rule(rs, toks, lineno, line, sets)
        base = {"match": rule.match, "origin": origin, "line": lineno, "text": line}
        if rule.unsupported is not None:
            return natflat.Entry(kind="none", unsupported=rule.unsupported, **base)
        kind = {"accept": "none", "return": "return", "jump": "jump", "goto": "goto"}.get(rule.action, rule.action)
        if kind in ("drop", "reject"):
            u = Unsupported(rs.source, lineno, line, f"{kind} in a NAT chain is not modelled")
            rs.unsupported.append(u)
            return natflat.Entry(kind="none", unsupported=u, **base)
        return natflat.Entry(kind=kind, target=rule.target, **base)
    rule = _rule(rs, toks[:at], lineno, line, sets)
    base = {"match": rule.match, "origin": origin, "line": lineno, "text": line}
    if rule.unsupported is not None:
        return natflat.Entry(kind="none", unsupported=rule.unsupported, **base)
    try:
        action, pool, ports = _nat_statement(toks[at:])
    except _Unsupported as exc:
        u = Unsupported(rs.source, lineno, line, f"{exc} is not supported")
        rs.unsupported.append(u)
        return natflat.Entry(kind="none", unsupported=u, **base)
    except (ValueError, IndexError) as exc:
        raise InputError(rs.source, str(lineno), f"bad NAT statement in {line!r}: {exc}") from None
    if ports is not None and ports != EPHEMERAL_ALL and not rule.match.protocols:
        raise InputError(rs.source, str(lineno), f"a NAT port needs a transport protocol match: {line!r}")
    return natflat.Entry(kind="nat", action=action, to_addresses=pool, to_ports=ports, **base)


def _nat_statement(toks: list[str]) -> tuple[str, tuple, PortRange | None]:
    """`dnat ip to 10.0.0.1-10.0.0.3:80-81 persistent` -> ("dnat", pool, ports); the rule ends with it."""
    action, i = toks[0], 1
    if i < len(toks) and toks[i] in ("ip", "ip6"):
        if toks[i] == "ip6":
            raise _Unsupported("IPv6 translation")
        i += 1
    pool: tuple = ()
    ports = None
    if i < len(toks) and toks[i] == "to":
        spec = toks[i + 1]
        i += 2
        if i < len(toks) and toks[i] in ("map", ".") or spec in ("ip", "tcp", "udp", "th", "meta"):
            raise _Unsupported("NAT map")
        if spec.startswith("$") or spec.startswith("@"):
            raise _Unsupported(f"NAT to {spec}")
        addr, port = natflat.split_target(spec)
        if addr.startswith("[") or addr.count(":"):
            raise _Unsupported("IPv6 translation")
        if addr and action in ("masquerade", "redirect"):
            raise ValueError(f"{action} takes only ports")
        pool = natflat.addresses(addr) if addr else ()
        ports = natflat.port_range(port) if port else None
    flags = set()
    while i < len(toks) and (toks[i] in NAT_FLAGS or toks[i] == ","):
        flags.add(toks[i])
        i += 1
    if i < len(toks) and toks[i] == "comment":
        i += 2
    if i < len(toks):
        raise _Unsupported(f"'{' '.join(toks[i:])}' after {action}")
    if action in ("dnat", "snat") and not pool and ports is None:
        raise ValueError(f"{action} needs 'to'")
    if flags & {"random", "fully-random"} and action in ("snat", "masquerade") and ports is None:
        ports = EPHEMERAL_ALL  # the kernel maps source ports of 1024 and above anywhere in 1024-65535
    return action, pool, ports
