"""`nft -j list ruleset` JSON into the vendor-neutral model.

The same subset as the ruleset text parser: ip/inet tables, filter chains on forward/input/output, matches on ip
saddr/daddr, ip protocol / meta l4proto, tcp/udp/th ports, ct state, iifname/oifname (values, prefixes, ranges,
anonymous and named sets), and the verdicts. Line numbers are those of each object's opening in the JSON text
(`nft -j` prints one line; a pretty-printed dump gives one line per object). NAT chains on prerouting/postrouting
become the model's NAT rules as in the text parser (`dnat`/`snat`/`masquerade`/`redirect` objects, accept/return,
jumps into user chains); NAT maps, IPv6 translation and nat chains on input/output are reported. `xt` expressions
(iptables-nft compatibility, whose options the JSON does not show), concatenations, maps and other families are
reported.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import replace

from linewatch.errors import InputError
from linewatch.segmentation.engine.model import PROTOCOLS, STATES, Chain, Match, PortRange, Rule, RuleSet
from linewatch.segmentation.engine.parsers import natflat
from linewatch.segmentation.engine.parsers.common import Accountant
from linewatch.segmentation.engine.parsers.nftables import EPHEMERAL_ALL, NAT_HOOKS, PRIORITIES, SERVICES, _icmp

NO_VERDICT = {"counter", "log", "comment", "limit", "quota"}
NAT_STATEMENTS = ("dnat", "snat", "masquerade", "redirect")


class _Unsupported(Exception):
    pass


def _object_lines(text: str) -> list[int]:
    """The line of each top-level object of the `nftables` array, in order."""
    lines, depth, out, i, n = 1, 0, [], 0, len(text)
    in_str = False
    while i < n:
        ch = text[i]
        if in_str:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if ch == "{" and depth == 3:  # {"nftables": [ {obj} ...
                out.append(lines)
        elif ch in "]}":
            depth -= 1
        elif ch == "\n":
            lines += 1
        if ch == "\n" and in_str:
            lines += 1
        i += 1
    return out


def parse(text: str, source: str) -> RuleSet:
    rs = RuleSet(source=source, format="nft-json")
    acct = Accountant(rs)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(source, str(exc.lineno), f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("nftables"), list):
        raise InputError(source, "1", "an `nft -j` document needs a top-level {\"nftables\": [...]} list")
    objs = doc["nftables"]
    lines = _object_lines(text)
    if len(lines) != len(objs):
        lines = [1] * len(objs)
    acct.use(*range(1, text.count("\n") + 2))  # the structure; each object below is used or reported
    families: dict[tuple[str, str], str] = {}
    sets: dict[tuple[str, str, str], list] = {}
    nat: dict[str, str] = {}  # chain -> its NAT hook (pre, post, input, output) or "route"
    rules: list[tuple[dict, int, str, str, str]] = []
    for obj, line in zip(objs, lines, strict=True):
        if not isinstance(obj, dict) or len(obj) != 1:
            raise InputError(source, str(line), "each entry of the nftables list must be one {kind: {...}} object")
        kind, body = next(iter(obj.items()))
        if kind == "metainfo":
            continue
        if not isinstance(body, dict):
            raise InputError(source, str(line), f"{kind}: expected an object")
        for key in ("family", "table", "name", "chain", "type", "hook", "policy"):
            if kind not in ("table", "chain", "rule") and key not in ("family", "table", "name"):
                continue  # a set's type may be a list or typeof; a ct timeout's policy an object
            if key in body and not isinstance(body[key], str):
                raise InputError(source, str(line), f"{kind}: '{key}' must be a string, not {body[key]!r}")
        for key, typ in (("prio", (int, str)), ("expr", list), ("elem", list)):
            if key in body and not isinstance(body[key], typ):
                raise InputError(source, str(line), f"{kind}: '{key}' has the wrong type ({body[key]!r})")
        fam, table = body.get("family", "ip"), body.get("table", body.get("name"))
        short = json.dumps(obj)[:160]
        if fam not in ("ip", "inet"):
            if kind == "table":
                acct.report(line, short, f"{fam} tables (only IPv4 is modelled)")
            continue
        if kind == "table":
            families[(fam, body.get("name", ""))] = fam
        elif kind == "chain":
            _chain(rs, acct, body, line, short, nat)
        elif kind == "set":
            t = body.get("type")
            elems = body.get("elem", [])
            simple = isinstance(t, str) and t in ("ipv4_addr", "inet_service", "inet_proto", "ifname")
            sets[(fam, table, body.get("name", ""))] = elems if simple else None  # type: ignore[assignment]
        elif kind == "rule":
            rules.append((body, line, short, fam, table))
        else:
            acct.report(line, short, f"nft object '{kind}'")
    _rules(rs, acct, rules, sets, nat)
    return rs


def _rules(rs: RuleSet, acct: Accountant, rules: list, sets: dict, nat: dict[str, str]) -> None:
    """Rules after every chain and set is known: filter chains get Rules, NAT chains (and the user chains they
    jump to) flat NatRules."""
    reach = {c for c, h in nat.items() if h in ("pre", "post")}
    todo = list(reach)
    while todo:
        name = todo.pop()
        for body, _line, _s, fam, table in rules:
            if _cname(fam, table, body.get("chain", "")) != name:
                continue
            for e in body.get("expr", []) or []:
                for k in ("jump", "goto"):
                    target = e.get(k, {}).get("target") if isinstance(e, dict) and isinstance(e.get(k), dict) else None
                    tname = _cname(fam, table, str(target)) if target is not None else None
                    if tname in rs.chains and tname not in reach:
                        reach.add(tname)
                        todo.append(tname)
    from_filter = {_cname(fam, table, str(e[k]["target"])) for body, _l, _s, fam, table in rules
                   if _cname(fam, table, body.get("chain", "")) not in reach
                   for e in body.get("expr", []) or [] if isinstance(e, dict)
                   for k in ("jump", "goto") if isinstance(e.get(k), dict) and "target" in e[k]}
    entries: dict[str, list[natflat.Entry]] = {name: [] for name in reach}
    for body, line, short, fam, table in rules:
        cname = _cname(fam, table, body.get("chain", ""))
        hook = nat.get(cname)
        if hook == "route":
            acct.report(line, short, "rules in route chains are not modelled", blocking=True)
            continue
        if hook in ("input", "output"):
            acct.report(line, short, f"nat {hook} chains (translation of locally "
                        f"{'generated' if hook == 'output' else 'delivered'} packets) are not modelled")
            continue
        if cname in reach:
            entries[cname].append(_nat_entry(rs, acct, body, line, sets, fam, table))
            if hook is not None or cname not in from_filter:
                continue
        chain = rs.chains.get(cname)
        if chain is None:
            raise InputError(rs.source, str(line), f"rule for an undeclared chain {body.get('chain')!r}")
        chain.rules.append(_rule(rs, acct, body, line, sets, fam, table))
    for stage in ("pre", "post"):
        bases = sorted((c for c, h in nat.items() if h == stage), key=lambda c: rs.chains[c].priority)
        for n, c in enumerate(bases):
            for r in natflat.flatten(rs, entries, c, stage):
                if n < len(bases) - 1 and r.action == "none" and r.unsupported is None:
                    u = acct.report(int(r.origin.rsplit(":", 1)[1]), r.text, "accept/return in a NAT chain followed "
                                    "by another NAT chain on the same hook is not modelled")
                    r = replace(r, unsupported=u)
                rs.nat.append(r)
    for c in list(rs.chains):
        if c in nat or (c in reach and c not in from_filter):
            del rs.chains[c]


def _nat_entry(rs: RuleSet, acct: Accountant, body: dict, line: int, sets, fam: str, table: str) -> natflat.Entry:
    """A rule of a NAT chain: its match (as a filter rule's) and what it does."""
    expr = body.get("expr", []) or []
    stmt = next((e for e in expr if isinstance(e, dict) and len(e) == 1 and next(iter(e)) in NAT_STATEMENTS), None)
    rule = _rule(rs, acct, {**body, "expr": [e for e in expr if e is not stmt]}, line, sets, fam, table)
    text = body.get("comment") or json.dumps(expr)[:200]
    base = {"match": rule.match, "origin": rule.origin, "line": line, "text": text}
    if rule.unsupported is not None:
        return natflat.Entry(kind="none", unsupported=rule.unsupported, **base)
    if stmt is None:
        kind = {"accept": "none", "return": "return", "jump": "jump", "goto": "goto"}.get(rule.action, rule.action)
        if kind in ("drop", "reject"):
            return natflat.Entry(kind="none", unsupported=acct.report(line, text, f"{kind} in a NAT chain is "
                                                                      "not modelled"), **base)
        return natflat.Entry(kind=kind, target=rule.target, **base)
    action, v = next(iter(stmt.items()))
    v = v or {}
    try:
        if not isinstance(v, dict):
            raise _Unsupported(f"{action} {json.dumps(v)}")
        if v.get("family", "ip") != "ip":
            raise _Unsupported(f"{v.get('family')} translation")
        pool = _nat_addr(v.get("addr"))
        ports = _nat_port(v.get("port"))
        flags = v.get("flags", [])
        flags = [flags] if isinstance(flags, str) else list(flags)
    except _Unsupported as exc:
        u = acct.report(line, text, f"{exc} is not supported")
        return natflat.Entry(kind="none", unsupported=u, **base)
    except (ValueError, TypeError, KeyError) as exc:
        raise InputError(rs.source, str(line), f"bad {action} statement {json.dumps(v)}: {exc}") from None
    if pool and action in ("masquerade", "redirect"):
        raise InputError(rs.source, str(line), f"{action} takes only ports: {json.dumps(v)}")
    if action in ("dnat", "snat") and not pool and ports is None:
        raise InputError(rs.source, str(line), f"{action} needs an address or a port: {json.dumps(v)}")
    if {"random", "fully-random"} & set(flags) and action in ("snat", "masquerade") and ports is None:
        ports = EPHEMERAL_ALL
    return natflat.Entry(kind="nat", action=action, to_addresses=pool, to_ports=ports, **base)


def _nat_addr(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, str):
        if x.startswith(("$", "@")):
            raise _Unsupported(f"NAT to {x}")
        if ":" in x:
            raise _Unsupported("IPv6 translation")
        return natflat.addresses(x)
    if isinstance(x, dict) and "range" in x:
        return natflat.addresses(f"{x['range'][0]}-{x['range'][1]}")
    if isinstance(x, dict) and "prefix" in x:
        return natflat.addresses(f"{x['prefix']['addr']}/{x['prefix']['len']}")
    raise _Unsupported("NAT map" if isinstance(x, dict) and "map" in x else f"NAT address {json.dumps(x)}")


def _nat_port(x) -> PortRange | None:
    if x is None:
        return None
    if isinstance(x, int):
        return PortRange(x, x)
    if isinstance(x, dict) and "range" in x:
        return PortRange(int(x["range"][0]), int(x["range"][1]))
    raise _Unsupported("NAT map" if isinstance(x, dict) and "map" in x else f"NAT port {json.dumps(x)}")


def _cname(fam: str, table: str, name: str) -> str:
    return f"{fam} {table} {name}"


def _chain(rs: RuleSet, acct: Accountant, body: dict, line: int, short: str, nat: dict) -> None:
    fam, table, name = body.get("family", "ip"), body.get("table", ""), body.get("name", "")
    c = Chain(_cname(fam, table, name), origin=f"{rs.source}:{line}")
    hook = body.get("hook")
    if hook is not None:
        if body.get("type", "filter") == "nat":
            nat[c.name] = NAT_HOOKS.get(hook, hook)
            prio = body.get("prio", 0)
            c.priority = prio if isinstance(prio, int) else PRIORITIES.get(str(prio), 0)
            rs.chains[c.name] = c  # removed once its rules are NAT rules
            return
        if body.get("type", "filter") != "filter":
            nat[c.name] = "route"
            rs.chains[c.name] = c
            acct.report(line, short, f"{body.get('type')} chains")
            return
        if hook not in ("forward", "input", "output"):
            acct.report(line, short, f"filter hook {hook}", blocking=True)
        else:
            c.hook = hook
            policy = body.get("policy", "accept")
            if policy not in ("accept", "drop"):
                raise InputError(rs.source, str(line), f"chain policy must be accept or drop, not {policy!r}")
            c.policy = policy
        prio = body.get("prio", 0)
        c.priority = prio if isinstance(prio, int) else PRIORITIES.get(str(prio), 0)
    rs.chains[c.name] = c


def _rule(rs: RuleSet, acct: Accountant, body: dict, line: int, sets: dict, fam: str, table: str) -> Rule:
    origin = f"{rs.source}:{line}"
    text = body.get("comment") or json.dumps(body.get("expr", []))[:200]
    f: dict = {}
    action, target, reject_with = "continue", None, None
    try:
        for e in body.get("expr", []):
            if not isinstance(e, dict) or len(e) != 1:
                raise _Unsupported(f"expression {e!r}")
            k, v = next(iter(e.items()))
            if k == "match":
                _match(rs, f, v, sets, fam, table, line)
            elif k in ("accept", "drop", "return", "continue"):
                action = k
            elif k in ("jump", "goto"):
                action, target = k, _cname(fam, table, v["target"])
            elif k == "reject":
                action = "reject"
                v = v or {}
                tcp_reset = v.get("type") == "tcp reset"
                reject_with = "tcp-reset" if tcp_reset else _icmp(v.get("expr", "port-unreachable"))
            elif k in NO_VERDICT:
                continue
            elif k == "xt":
                raise _Unsupported(f"xt {v.get('type')} {v.get('name')} (iptables-nft compatibility: its options "
                                   "are not in the JSON; use iptables-save)")
            else:
                raise _Unsupported(f"statement '{k}'")
    except _Unsupported as exc:
        u = acct.report(line, text, f"{exc} is not supported")
        return Rule(Match(**f), "continue", origin, text=text, unsupported=u)
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(rs.source, str(line), f"malformed rule expression: {exc!r}") from None
    return Rule(Match(**f), action, origin, target=target, reject_with=reject_with, text=text)


def _values(rs, right, sets, fam, table, line) -> list:
    if isinstance(right, dict) and "set" in right:
        return list(right["set"])
    if isinstance(right, str) and right.startswith("@"):
        elems = sets.get((fam, table, right[1:]), "missing")
        if elems == "missing":
            raise InputError(rs.source, str(line), f"unknown set {right}")
        if elems is None:
            raise _Unsupported(f"set {right} (concatenated or typeof type)")
        return list(elems)
    if isinstance(right, list):
        return right
    return [right]


def _match(rs, f: dict, v: dict, sets, fam, table, line) -> None:
    left, right, op = v["left"], v["right"], v.get("op", "==")
    if op not in ("==", "!=", "in"):
        raise _Unsupported(f"operator {op}")
    neg = op == "!="
    if not isinstance(left, dict) or len(left) != 1:
        raise _Unsupported(f"match on {left!r}")
    lk, lv = next(iter(left.items()))
    vals = _values(rs, right, sets, fam, table, line)
    if lk == "payload":
        proto, fld = lv.get("protocol"), lv.get("field")
        if proto == "ip" and fld in ("saddr", "daddr"):
            name = "src" if fld == "saddr" else "dst"
            f[name], f[f"{name}_negated"] = _nets(rs, vals, line), neg
        elif proto == "ip" and fld == "protocol":
            f["protocols"], f["protocols_negated"] = tuple(_proto(x) for x in vals), neg
        elif proto in ("tcp", "udp", "th") and fld in ("sport", "dport"):
            name = "dports" if fld == "dport" else "sports"
            f[name], f[f"{name}_negated"] = _ports(rs, vals, line), neg
            if proto != "th":
                f["protocols"], f["protocols_negated"] = (PROTOCOLS[proto],), False
            elif "protocols" not in f:
                f["protocols"] = (6, 17, 132)
        else:
            raise _Unsupported(f"match '{proto} {fld}'")
    elif lk == "meta" and lv.get("key") in ("l4proto",):
        f["protocols"], f["protocols_negated"] = tuple(_proto(x) for x in vals), neg
    elif lk == "meta" and lv.get("key") in ("iifname", "oifname"):
        names = tuple(str(x) for x in vals)
        side = "in" if lv["key"] == "iifname" else "out"
        f[f"{side}_ifaces"], f[f"{side}_negated"] = names, neg
    elif lk == "meta" and lv.get("key") == "nfproto" and vals == ["ipv4"]:
        return
    elif lk == "ct" and lv.get("key") == "state":
        states = tuple(str(x).upper() for x in vals)
        if any(s not in STATES for s in states):
            raise _Unsupported(f"ct state {','.join(states)}")
        f["states"], f["states_negated"] = states, neg
    else:
        raise _Unsupported(f"match on {json.dumps(left)}")


def _nets(rs, vals, line) -> tuple[ipaddress.IPv4Network, ...]:
    out = []
    for x in vals:
        try:
            if isinstance(x, dict) and "prefix" in x:
                out.append(ipaddress.IPv4Network(f"{x['prefix']['addr']}/{x['prefix']['len']}", strict=False))
            elif isinstance(x, dict) and "range" in x:
                a, b = (ipaddress.IPv4Address(y) for y in x["range"])
                out.extend(ipaddress.summarize_address_range(a, b))
            elif isinstance(x, str):
                out.append(ipaddress.IPv4Network(x, strict=False))
            else:
                raise _Unsupported(f"address value {json.dumps(x)}")
        except ValueError:
            raise InputError(rs.source, str(line), f"not an IPv4 address, prefix or range: {x!r}") from None
    return tuple(out)


def _ports(rs, vals, line) -> tuple[PortRange, ...]:
    out = []
    for x in vals:
        try:
            if isinstance(x, dict) and "range" in x:
                lo, hi = (SERVICES.get(y, y) for y in x["range"])
                out.append(PortRange(int(lo), int(hi)))
            elif isinstance(x, int) or (isinstance(x, str) and x.isdigit()):
                out.append(PortRange(int(x), int(x)))
            elif isinstance(x, str) and x in SERVICES:
                out.append(PortRange(SERVICES[x], SERVICES[x]))
            else:
                raise _Unsupported(f"port value {json.dumps(x)}")
        except (ValueError, TypeError):
            raise InputError(rs.source, str(line), f"not a port or port range: {x!r}") from None
    return tuple(out)


def _proto(x) -> int:
    if isinstance(x, int):
        return x
    if isinstance(x, str) and x in PROTOCOLS:
        return PROTOCOLS[x]
    raise _Unsupported(f"protocol {x}")
