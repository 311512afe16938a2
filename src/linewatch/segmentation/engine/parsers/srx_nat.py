"""Juniper SRX `security nat` into `NatRule`s.

The SRX applies static NAT, then destination NAT, before the route lookup and the policies, and source NAT after
them: the Linux order, so policies (which see the translated destination and the untranslated source) need no
rewrite. Rule sets are tried most specific context first (interface, then zone) and in file order, their rules in
order, first match wins:

- `static rule-set RS from zone|interface X`, `rule R match destination-address D` (`-name`), `then static-nat prefix
  P` (`prefix-name`): stage pre dnat D -> P arriving from X, and its outbound half stage post snat P -> D leaving by X;
- `destination rule-set RS from ...`, `match source-address/destination-address/destination-port/protocol`, `then
  destination-nat pool P|off`: stage pre dnat to the pool's addresses (and `port`) or none;
- `source rule-set RS from ... to ...`, `then source-nat interface|pool P|off`: stage post masquerade, snat to the
  pool's addresses, or none.

Reported with their line (their packets become insufficient information): routing-instance contexts, IPv6 (`inet`,
IPv6 prefixes), static prefixes of different sizes, pools with a port range, undefined pools and addresses.
"""

from __future__ import annotations

from collections.abc import Callable

from linewatch.segmentation.engine.model import Match, NatRule, PortRange, RuleSet
from linewatch.segmentation.engine.parsers import hier
from linewatch.segmentation.engine.parsers.common import (
    Accountant,
    ParseProblem,
    Svc,
    ip_range,
    matches,
    net,
    one_to_one,
)

IGNORED = {"proxy-arp", "proxy-ndp", "traceoptions", "address-persistent", "pool-utilization-alarm",
           "port-randomization", "pool-default-port-range", "interface", "allocation-group"}
KINDS = ("static", "destination", "source")
PROTOS = {"tcp": 6, "udp": 17, "icmp": 1, "sctp": 132, "gre": 47, "esp": 50}


class NatState:
    def __init__(self) -> None:
        self.pools: dict[tuple[str, str], dict] = {}
        self.sets: dict[tuple[str, str], dict] = {}


def statement(acct: Accountant, ns: NatState, line: int, w: list[str], text: str) -> None:
    """One `security nat ...` statement (w starts at `security`)."""
    kind = w[2] if len(w) > 2 else ""
    rest = w[3:]
    if kind in IGNORED or (kind == "source" and rest[:1] and rest[0] in IGNORED):
        acct.ignore(line)
        return
    if kind not in KINDS:
        raise ParseProblem(f"security nat {kind} is not modelled")
    if rest[:1] == ["pool"]:
        pool = ns.pools.setdefault((kind, rest[1]), {"line": line, "text": text, "address": [], "problems": []})
        spec = rest[2:]
        if spec[:1] == ["address"]:
            pool["address"].append(spec[1:])
        elif spec[:2] == ["port", "no-translation"] or spec[:1] == ["description"]:
            pass
        elif spec[:1] == ["port"] and kind == "source":
            pass  # source port allocation range: which port a connection gets, not whether it passes
        elif spec[:1] == ["port"] and kind == "destination":
            pool["port"] = spec[1]
        elif spec[:1] not in (["address-persistent"], ["overflow-pool"], ["host-address-base"],
                              ["address-pooling"], ["address-shared"]):
            pool["problems"].append((line, text, f"pool setting '{spec[0]}' is not modelled"))
        acct.use(line)
        return
    if rest[:1] != ["rule-set"]:
        raise ParseProblem(f"security nat {kind} {rest[0] if rest else ''}")
    rset = ns.sets.setdefault((kind, rest[1]), {"line": line, "text": text, "from": None, "to": None, "rules": {},
                                                "problems": []})
    spec = rest[2:]
    if spec[:1] in (["from"], ["to"]):
        rset[spec[0]] = (spec[1], [x for x in hier.values(spec, 2) if x not in "[]"], line, text)
    elif spec[:1] == ["rule"]:
        r = rset["rules"].setdefault(spec[1], {"line": line, "text": text, "match": {}, "then": None,
                                               "problems": []})
        body = spec[2:]
        if body[:1] == ["match"] and len(body) > 1:
            r["match"].setdefault(body[1], []).extend(x for x in hier.values(body, 2) if x not in "[]")
            if body[1] == "destination-port" and "to" in body:
                r["match"]["destination-port-to"] = [body[body.index("to") + 1]]
        elif body[:1] == ["then"]:
            r["then"] = (body[1:], line, text)
        elif body[:1] != ["description"]:
            r["problems"].append((line, text, f"rule setting '{body[0] if body else ''}' is not modelled"))
    elif spec[:1] != ["description"]:
        rset["problems"].append((line, text, f"rule-set setting '{spec[0] if spec else ''}' is not modelled"))
    acct.use(line)


def build(rs: RuleSet, acct: Accountant, ns: NatState, zones: dict[str, list[str]],
          addrs: Callable[[list[str]], tuple], apps: Callable[[list[str]], list[Svc]]) -> None:
    """Every rule set into `rs.nat`, in the SRX's order."""
    rank = {"interface": 0, "zone": 1, "routing-instance": 2}
    for kind in KINDS:
        sets = sorted(((k, v) for k, v in ns.sets.items() if k[0] == kind),
                      key=lambda kv: (rank.get((kv[1]["from"] or ("",))[0], 3), kv[1]["line"]))
        for (_k, name), rset in sets:
            for rname, r in rset["rules"].items():
                try:
                    problems = rset["problems"] + r["problems"]
                    if problems:
                        raise ParseProblem(problems[0][2])
                    _rule(rs, ns, kind, rset, r, zones, addrs, apps)
                except (ParseProblem, IndexError, ValueError, KeyError) as exc:
                    if "IPv6" in str(exc) or "NAT64" in str(exc):  # IPv6 packets only: IPv4 answers unaffected
                        acct.report(r["line"], r["text"], f"NAT rule {name}/{rname}: {exc}")
                        continue
                    u = acct.report(r["line"], r["text"], f"NAT rule {name}/{rname}: {exc or 'incomplete'}")
                    for stage, m in _scope(kind, rset, r, zones, addrs, apps):
                        rs.nat.append(NatRule(stage, "none", m, f"{rs.source}:{r['line']}", text=r["text"],
                                              unsupported=u))


def _scope(kind: str, rset: dict, r: dict, zones, addrs, apps) -> list[tuple[str, Match]]:
    """What a rule that cannot be modelled might translate, as narrow as what of it can be read (each part that
    cannot be read matches anything)."""
    def part(fn, default):
        try:
            return fn()
        except (ParseProblem, IndexError, ValueError, KeyError):
            return default

    m = r["match"]
    base: dict = {"in_ifaces": part(lambda: _ctx(rset["from"], zones), ())}
    if kind == "source":
        base["out_ifaces"] = part(lambda: _ctx(rset["to"], zones), ())
    src = part(lambda: _prefixes(m, "source-address", addrs), ())
    dst = part(lambda: _prefixes(m, "destination-address", addrs), ())
    svcs = part(lambda: _services(m, apps), [])
    ms = matches(src, dst, svcs, {k: v for k, v in base.items() if v})
    if kind == "static":  # the inbound half's destinations, and any source of the outbound half
        return [("pre", x) for x in ms] + [("post", Match(out_ifaces=base["in_ifaces"]))]
    return [("post" if kind == "source" else "pre", x) for x in ms]


def _ctx(spec, zones: dict[str, list[str]]) -> tuple[str, ...]:
    if spec is None:
        raise ParseProblem("rule-set without from/to")
    typ, vals = spec[0], spec[1]
    if typ == "zone":
        for z in vals:
            if z not in zones:
                raise ParseProblem(f"zone {z} is not defined")
        return tuple(i for z in vals for i in zones[z]) or (f"<zone {vals[0]}: no interfaces>",)
    if typ == "interface":
        return tuple(vals)
    raise ParseProblem(f"{typ} context (routing instances are not modelled)")


def _prefixes(m: dict, key: str, addrs) -> tuple:
    out: tuple = ()
    for v in m.get(key, []):
        if ":" in v:
            raise ParseProblem(f"IPv6 address {v} (only IPv4 is modelled)")
        out += (net(v),) if v[0].isdigit() else addrs([v])
    out += addrs(m[key + "-name"]) if key + "-name" in m else ()
    return out


def _services(m: dict, apps) -> list[Svc]:
    if "application" in m:
        return apps(m["application"])
    protos = [PROTOS[p] if not p.isdigit() else int(p) for p in m.get("protocol", [])]
    ports: tuple[PortRange, ...] = ()
    if "destination-port" in m:
        lo = m["destination-port"][0]
        a, _, b = lo.partition("-")
        ports = (PortRange(int(a), int(m.get("destination-port-to", [b or a])[0])),)
    if ports and not protos:
        protos = [6, 17]
    return [Svc(p, ports) for p in protos]


def _pool(ns: NatState, kind: str, name: str) -> tuple[tuple, PortRange | None]:
    pool = ns.pools.get((kind, name))
    if pool is None:
        raise ParseProblem(f"{kind} pool {name} is not defined")
    if pool["problems"]:
        raise ParseProblem(pool["problems"][0][2])
    out: tuple = ()
    for a in pool["address"]:
        first = a[0]
        if ":" in first:
            raise ParseProblem(f"IPv6 pool address {first}")
        if "to" in a:
            out += ip_range(str(net(first).network_address), str(net(a[a.index("to") + 1]).broadcast_address))
        else:
            out += (net(first),)
        if "port" in a:
            pool["port"] = a[a.index("port") + 1]
    if not out:
        raise ParseProblem(f"{kind} pool {name} has no address")
    port = pool.get("port")
    return out, PortRange(int(port), int(port)) if port else None


def _rule(rs: RuleSet, ns: NatState, kind: str, rset: dict, r: dict, zones, addrs, apps) -> None:
    origin = f"{rs.source}:{r['line']}"
    text = r["text"]
    m = r["match"]
    then, _tline, _ttext = r["then"] or ([], r["line"], text)
    if not then:
        raise ParseProblem("rule without 'then'")
    src_ifs = _ctx(rset["from"], zones)
    src = _prefixes(m, "source-address", addrs)
    dst = _prefixes(m, "destination-address", addrs)
    svcs = _services(m, apps)
    if kind == "static":
        if then[0] != "static-nat":
            raise ParseProblem(f"then {then[0]}")
        if then[1:2] == ["inet"]:
            raise ParseProblem("static-nat inet (NAT64) is not modelled")
        if then[1] == "prefix":
            mapped = (net(then[2]),)
        elif then[1] == "prefix-name":
            mapped = addrs([then[2]])
        else:
            raise ParseProblem(f"static-nat {then[1]}")
        if svcs or src:
            raise ParseProblem("static NAT matching source addresses or ports is not modelled")
        why = one_to_one(mapped, dst)
        if why:
            raise ParseProblem(why)
        pre = Match(dst=dst, in_ifaces=src_ifs)
        rs.nat.append(NatRule("pre", "dnat", pre, origin, mapped, text=text))
        rs.nat.append(NatRule("post", "snat", Match(src=mapped, out_ifaces=src_ifs), origin, dst, text=text))
        return
    base: dict = {"in_ifaces": src_ifs}
    if kind == "source":
        base["out_ifaces"] = _ctx(rset["to"], zones)
    stage = "post" if kind == "source" else "pre"
    verb = then[0]
    if verb != ("source-nat" if kind == "source" else "destination-nat"):
        raise ParseProblem(f"then {verb}")
    how = then[1:]
    for mt in matches(src, dst, svcs, base):
        if how[:1] == ["off"]:
            rs.nat.append(NatRule(stage, "none", mt, origin, text=text))
        elif how[:1] == ["interface"] and kind == "source":
            rs.nat.append(NatRule(stage, "masquerade", mt, origin, text=text))
        elif how[:1] == ["pool"]:
            pool, port = _pool(ns, kind, how[1])
            rs.nat.append(NatRule(stage, "snat" if kind == "source" else "dnat", mt, origin, pool,
                                  port if kind == "destination" else None, text))
        else:
            raise ParseProblem(f"then {' '.join(then)}")
