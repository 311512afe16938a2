"""Palo Alto PAN-OS configurations (`set` lines, the `{ ... }` tree, or XML) into the vendor-neutral model.

Modelled: layer-3 interfaces and units with addresses, zones and their interfaces, `address` (ip-netmask, ip-range),
`address-group static`, `service` (tcp/udp/sctp port and source-port lists), `service-group`, the predefined
service-http/service-https, security rules in order (from/to zones, source/destination with negate, service,
action allow/deny/drop/reset-*, disabled, rule-type intrazone/interzone), the defaults (intrazone allow, interzone
deny, overridable in `default-security-rules`), statefulness (replies of allowed sessions pass), static routes.

NAT rules become `NatRule`s in rule order (first match, one rule translating source and/or destination): from
zones -> in interfaces; the `to` zone (the zone the *original* destination routes to) -> the part of the destination
the configuration's routes send there; destination-translation (translated-address/-port) -> stage pre dnat, a rule
without one -> pre none (it is the first match); source-translation dynamic-ip-and-port (translated-address or
interface-address), dynamic-ip, static-ip (+ bi-directional: its inbound half) -> stage post snat/masquerade, none
without one. Security rules name pre-NAT addresses with the post-NAT zone: each gets a copy for the destinations a
destination-NAT rule translates (`common.pre_nat_policies`), so the Linux-order filter means the same.

Reported: NAT rules using what cannot be modelled (nat64/nptv6, dynamic-destination-translation, a translated pool
for a destination, subnet static-ip, undefined objects: their packets become insufficient information),
policy-based forwarding, rules that depend on App-ID applications, users, URL categories or HIP profiles (their
packets are insufficient information), FQDN/dynamic/wildcard addresses, layer-2/virtual-wire zones, IPv6, and
anything else not listed here.
"""

from __future__ import annotations

import ipaddress
import re

from linewatch.errors import InputError
from linewatch.segmentation.engine.model import Match, NatRule, PortRange, Route, RuleSet
from linewatch.segmentation.engine.parsers import hier
from linewatch.segmentation.engine.parsers.common import (
    Accountant,
    ParseProblem,
    Policy,
    Svc,
    add_address,
    iface_address,
    ip_range,
    matches,
    nat_problem,
    net,
    nothing,
    one_to_one,
    policy_ruleset,
    pre_nat_policies,
    routed_to,
)

PREDEFINED = {"service-http": [Svc(6, (PortRange(80, 80), PortRange(8080, 8080)))],
              "service-https": [Svc(6, (PortRange(443, 443),))]}
IGNORED_TOP = {"deviceconfig", "mgt-config", "tag", "profiles", "profile-group", "log-settings", "application",
               "application-group", "application-filter", "schedule", "external-list", "reports", "report-group",
               "pdf-summary-report", "email-scheduler", "server-profile", "certificate", "ssl-tls-service-profile",
               "response-page", "import", "setting", "user-id-collector", "authentication-profile", "admin-role",
               "local-user-database", "display-name", "threats", "ocsp-responder", "panorama", "policy", "ts-agent",
               "dynamic-user-group", "region", "global-protect", "captive-portal", "shared-gateway"}
IGNORED_RULE = {"description", "tag", "log-start", "log-end", "log-setting", "profile-setting", "option", "uuid",
                "target", "group-tag", "disable-server-response-inspection", "icmp-unreachable", "qos",
                "negate-target", "log-settings"}
ANY = {"any"}


def parse(text: str, source: str) -> RuleSet:
    s = text.lstrip()
    if s.startswith("<"):
        stmts, structure = hier.xml_statements(text, source)
        fmt = "paloalto-xml"
    elif re.search(r"^\s*set ", text, re.M):
        stmts, structure = hier.set_lines(text, source)
        fmt = "paloalto-set"
    else:
        stmts, structure = hier.flatten(text, source)
        fmt = "paloalto"
    rs = RuleSet(source=source, format=fmt)
    acct = Accountant(rs)
    acct.ignore(*structure)
    st = _State()
    for line, w in stmts:
        w = _strip(w)
        if not w:
            acct.ignore(line)
            continue
        try:
            _statement(rs, acct, st, line, w)
        except (ParseProblem, IndexError, ValueError) as exc:
            acct.report(line, "set " + " ".join(w), str(exc) or "incomplete statement")
    _build(rs, acct, st)
    return rs


class _State:
    def __init__(self) -> None:
        self.zones: dict[str, list[str]] = {}
        self.zone_line: dict[str, int] = {}
        self.addresses: dict[str, tuple[int, list[str]]] = {}
        self.groups: dict[str, list[tuple[int, str]]] = {}
        self.services: dict[str, dict] = {}
        self.service_groups: dict[str, list[tuple[int, str]]] = {}
        self.rules: dict[str, dict] = {}
        self.defaults = {"intrazone-default": ("accept", 0), "interzone-default": ("drop", 0)}
        self.nat: dict[str, dict] = {}
        self.routes: dict[str, dict] = {}
        self.iface_objects: list[tuple[int, str, str, str]] = []


def _strip(w: list[str]) -> list[str]:
    while w:
        if w[0] == "config":
            w = w[1:]
        elif w[0] in ("devices", "vsys", "device-group", "template") and len(w) > 1:
            w = w[2:]
        elif w[0] == "shared":
            w = w[1:]
        else:
            break
    return w


def _statement(rs: RuleSet, acct: Accountant, st: _State, line: int, w: list[str]) -> None:
    head = w[0]
    text = "set " + " ".join(w)
    if head.startswith("!"):
        acct.report(line, " ".join([head[1:], *w[1:]]), f"'{head[1:]}' statements are not modelled")
        return
    if head == "network":
        _network(rs, acct, st, line, w)
    elif head == "zone":
        z = w[1]
        st.zones.setdefault(z, [])
        st.zone_line.setdefault(z, line)
        if len(w) > 3 and w[2] == "network":
            if w[3] != "layer3":
                acct.report(line, text, f"{w[3]} zones are not modelled (only layer3)")
                return
            st.zones[z].extend(x for x in hier.values(w, 4) if x not in "[]")
        acct.use(line)
    elif head == "address":
        st.addresses.setdefault(w[1], (line, []))
        if len(w) > 3 and w[2] in ("ip-netmask", "ip-range", "fqdn", "ip-wildcard"):
            st.addresses[w[1]] = (line, w[2:4])
        acct.use(line)
    elif head == "address-group":
        members = st.groups.setdefault(w[1], [])
        if len(w) > 2 and w[2] == "static":
            members.extend((line, x) for x in hier.values(w, 3))
        elif len(w) > 2 and w[2] == "dynamic":
            members.append((line, "!dynamic"))
        acct.use(line)
    elif head == "service":
        svc = st.services.setdefault(w[1], {"line": line})
        if len(w) > 4 and w[2] == "protocol":
            svc["proto"] = w[3]
            if w[4] in ("port", "source-port"):
                svc[w[4]] = hier.values(w, 5)
        acct.use(line)
    elif head == "service-group":
        members = st.service_groups.setdefault(w[1], [])
        if len(w) > 2 and w[2] == "members":
            members.extend((line, x) for x in hier.values(w, 3))
        acct.use(line)
    elif head in ("rulebase", "pre-rulebase", "post-rulebase"):
        _rulebase(acct, st, line, w, text)
    elif head in IGNORED_TOP:
        acct.ignore(line)
    else:
        acct.report(line, text, f"'{head}' is not modelled")


def _network(rs, acct, st: _State, line: int, w: list[str]) -> None:
    text = "set " + " ".join(w)
    if w[1] == "interface":
        if "ip" in w:
            i = w.index("ip")
            name = w[i - 1] if w[i - 1] not in ("layer3",) else w[3]
            for a in hier.values(w, i + 1):
                if a in "[]":
                    continue
                if ":" in a:
                    acct.report(line, text, "IPv6 interface address (only IPv4 is modelled)")
                    return
                try:
                    add_address(rs, name, iface_address(a))
                except ParseProblem:
                    st.iface_objects.append((line, text, name, a))  # an address object's name: resolved later
                    return
            acct.use(line)
        elif "layer2" in w or "virtual-wire" in w:
            acct.report(line, text, "layer-2 / virtual-wire interfaces are not modelled")
        elif "ipv6" in w:
            acct.report(line, text, "IPv6 (only IPv4 is modelled)")
        else:
            acct.ignore(line)
    elif w[1] == "virtual-router" and "static-route" in w:
        i = w.index("static-route")
        r = st.routes.setdefault(w[i + 1], {"line": line})
        rest = w[i + 2:]
        if rest[:1] == ["destination"]:
            r["prefix"] = rest[1]
        elif rest[:2] == ["nexthop", "ip-address"]:
            r["via"] = rest[2]
        elif rest[:1] == ["interface"]:
            r["interface"] = rest[1]
        acct.use(line)
    elif w[1] in ("ike", "tunnel", "qos", "gre"):
        acct.report(line, text, f"network {w[1]} (VPN/tunnels) is not modelled")
    else:
        acct.ignore(line)  # virtual-router membership, profiles, dhcp, dns-proxy, ...


def _rulebase(acct: Accountant, st: _State, line: int, w: list[str], text: str) -> None:
    kind = w[1] if len(w) > 1 else ""
    if kind == "security" and len(w) > 4 and w[2] == "rules":
        name, field_, vals = w[3], w[4], [x for x in hier.values(w, 5) if x not in "[]"]
        r = st.rules.setdefault(name, {"line": line, "text": text, "fields": {}, "problems": [], "lines": {}})
        r["lines"].setdefault(field_, (line, text))
        if field_ in ("from", "to", "source", "destination", "service", "application", "source-user", "category",
                      "source-hip", "destination-hip"):
            r["fields"].setdefault(field_, []).extend(vals)
            if field_ in ("application", "source-user", "category", "source-hip", "destination-hip") \
                    and set(vals) - ANY:
                r["problems"].append((line, text, f"{field_} {' '.join(vals)} (App-ID, users, URL categories and "
                                                  "HIP profiles are not modelled)"))
        elif field_ in ("action", "disabled", "negate-source", "negate-destination", "rule-type"):
            r["fields"][field_] = vals[0] if vals else ""
        elif field_ == "schedule":
            r["problems"].append((line, text, "a schedule (time-dependent rule) is not modelled"))
        elif field_ in IGNORED_RULE:
            pass
        else:
            r["problems"].append((line, text, f"rule field '{field_}' is not modelled"))
        acct.use(line)
    elif kind == "default-security-rules" and "action" in w:
        which = w[3] if len(w) > 3 else ""
        act = w[w.index("action") + 1]
        st.defaults[which] = ("accept" if act == "allow" else "drop", line)
        acct.use(line)
    elif kind == "default-security-rules":
        acct.ignore(line)
    elif kind == "nat" and len(w) > 4 and w[2] == "rules":
        r = st.nat.setdefault(w[3], {"line": line, "text": text, "fields": {}, "lines": {}, "problems": []})
        field_, rest = w[4], [x for x in w[5:] if x not in "[]"]
        r["lines"].setdefault(field_, (line, text))
        if field_ in ("from", "to", "source", "destination", "service"):
            r["fields"].setdefault(field_, []).extend(rest)
        elif field_ in ("source-translation", "destination-translation", "to-interface", "disabled", "nat-type"):
            r["fields"].setdefault(field_, []).append(rest)
        elif field_ == "dynamic-destination-translation":
            r["problems"].append((line, text, "dynamic-destination-translation (an FQDN pool) is not modelled"))
        elif field_ not in IGNORED_RULE and field_ not in ("active-active-device-binding",):
            r["problems"].append((line, text, f"NAT rule field '{field_}' is not modelled"))
        acct.use(line)
    elif kind in ("pbf", "application-override", "tunnel-inspect", "sdwan"):
        acct.report(line, text, f"{kind} rules are not modelled")
    else:
        acct.ignore(line)  # decryption, qos, authentication, dos, network-packet-broker: no effect on allow/deny


def _addresses(st: _State, names: list[str], depth: int = 0) -> tuple:
    out: list = []
    for n in names:
        if n == "any":
            return ()
        if depth > 16:
            raise ParseProblem(f"address-group {n} nests too deeply")
        if n in st.addresses:
            _line, spec = st.addresses[n]
            if not spec:
                raise ParseProblem(f"address {n} has no value")
            if spec[0] == "ip-netmask":
                out.append(net(spec[1]))
            elif spec[0] == "ip-range":
                out.extend(ip_range(*spec[1].split("-", 1)))
            else:
                raise ParseProblem(f"address {n} of type {spec[0]} is not modelled")
        elif n in st.groups:
            members = [m for _ln, m in st.groups[n]]
            if "!dynamic" in members:
                raise ParseProblem(f"dynamic address-group {n} is not modelled")
            if not members:
                raise ParseProblem(f"address-group {n} is empty (it matches nothing)")
            out.extend(_addresses(st, members, depth + 1) or (net("0.0.0.0/0"),))
        elif "-" in n and n[0].isdigit():
            out.extend(ip_range(*n.split("-", 1)))
        else:
            try:
                out.append(net(n))
            except ParseProblem:
                raise ParseProblem(f"address {n} is not defined") from None
    return tuple(out)


def _ports(vals: list[str]) -> tuple[PortRange, ...]:
    out = []
    for v in ",".join(vals).split(","):
        if not v:
            continue
        lo, _, hi = v.partition("-")
        try:
            out.append(PortRange(int(lo), int(hi or lo)))
        except ValueError:
            raise ParseProblem(f"port {v}") from None
    return tuple(out)


def _services(st: _State, names: list[str], depth: int = 0) -> list[Svc]:
    out: list[Svc] = []
    for n in names:
        if n == "any":
            return []
        if n == "application-default":
            raise ParseProblem("service application-default (ports follow the App-ID application)")
        if depth > 16:
            raise ParseProblem(f"service-group {n} nests too deeply")
        if n in st.services:
            s = st.services[n]
            proto = {"tcp": 6, "udp": 17, "sctp": 132}.get(s.get("proto", ""))
            if proto is None:
                raise ParseProblem(f"service {n} has no tcp/udp/sctp protocol")
            out.append(Svc(proto, _ports(s.get("port", [])), _ports(s.get("source-port", []))))
        elif n in st.service_groups:
            out.extend(_services(st, [m for _ln, m in st.service_groups[n]], depth + 1))
        elif n in PREDEFINED:
            out.extend(PREDEFINED[n])
        else:
            raise ParseProblem(f"service {n} is not defined")
    return out


def _zones(st: _State, names: list[str]) -> dict[str, tuple[str, ...]]:
    if not names or "any" in names:
        return {}
    out = {}
    for z in names:
        if z not in st.zones:
            raise ParseProblem(f"zone {z} is not defined")
        out[z] = tuple(st.zones[z]) or nothing(f"zone {z}")
    return out


def _build(rs: RuleSet, acct: Accountant, st: _State) -> None:
    src = rs.source
    for line, text, iface, obj in st.iface_objects:
        spec = st.addresses.get(obj, (0, []))[1]
        try:
            if spec[:1] != ["ip-netmask"]:
                raise ParseProblem(f"interface address {obj} is not an ip-netmask address object")
            add_address(rs, iface, iface_address(spec[1]))
            acct.use(line)
        except ParseProblem as exc:
            acct.report(line, text, str(exc))
    for name, r in st.routes.items():
        try:
            rs.routes.append(Route(ipaddress.IPv4Network(r["prefix"], strict=False), r.get("interface"),
                                   ipaddress.IPv4Address(r["via"]) if r.get("via") else None))
        except (KeyError, ValueError):
            acct.report(r["line"], f"static-route {name}", "static route without an IPv4 destination/next hop")
    policies: list[Policy] = []
    all_zones = {z: tuple(m) or nothing(f"zone {z}") for z, m in st.zones.items()}
    for name, r in st.rules.items():
        f = r["fields"]
        p = Policy(name, r["line"], r["text"])
        p.disabled = f.get("disabled") == "yes"
        act = f.get("action", "")
        p.action = {"allow": "accept", "deny": "drop", "drop": "drop"}.get(act, "reject")
        if act.startswith("reset"):
            p.reject_with = "tcp-reset"
        elif p.action == "reject":
            p.problem, p.problem_line = f"action {act or '(none)'}", r["line"]
        if r["problems"]:
            p.problem_line, p.problem_text, p.problem = r["problems"][0]
        froms, tos, where = {}, {}, "from"
        try:
            froms, where = _zones(st, f.get("from", [])), "to"
            tos, where = _zones(st, f.get("to", [])), "source"
            p.src, where = _addresses(st, f.get("source", ["any"])), "destination"
            p.dst, where = _addresses(st, f.get("destination", ["any"])), "service"
            p.src_negated = f.get("negate-source") == "yes"
            p.dst_negated = f.get("negate-destination") == "yes"
            p.services = _services(st, f.get("service", ["any"]))
        except (ParseProblem, IndexError, ValueError) as exc:
            if not p.problem:
                p.problem = str(exc) or "incomplete statement"
                p.problem_line, p.problem_text = r["lines"].get(where, (r["line"], r["text"]))
        kind = f.get("rule-type", "universal")
        if kind == "universal" or p.problem:
            p.from_ifaces = tuple(i for z in froms.values() for i in z)
            p.to_ifaces = tuple(i for z in tos.values() for i in z)
            policies.append(p)
            continue
        pairs = [(a, b) for a in (froms or all_zones) for b in (tos or all_zones)
                 if (a == b) == (kind == "intrazone")]
        for a, b in pairs:
            q = Policy(**{**p.__dict__, "services": p.services})
            q.from_ifaces, q.to_ifaces = all_zones[a], all_zones[b]
            policies.append(q)
    _nat(rs, acct, st)
    policies = pre_nat_policies(policies, [n for n in rs.nat if n.stage == "pre" and n.action == "dnat"])
    intra_action, intra_line = st.defaults["intrazone-default"]
    defaults = [(Match(in_ifaces=m, out_ifaces=m), intra_action, f"{src}:{intra_line or st.zone_line.get(z, 0)}",
                 f"intrazone-default {'allow' if intra_action == 'accept' else 'deny'} (zone {z})")
                for z, m in all_zones.items()]
    inter_action, inter_line = st.defaults["interzone-default"]
    policy_ruleset(rs, acct, policies, defaults, inter_action, f"{src}:{inter_line}",
                   f"interzone-default {'allow' if inter_action == 'accept' else 'deny'}")



def _nat(rs: RuleSet, acct: Accountant, st: _State) -> None:
    """The NAT rulebase, in order, into `rs.nat`."""
    routes: dict = {}
    for name, r in st.nat.items():
        f = r["fields"]
        if any(v[:1] == ["yes"] for v in f.get("disabled", [])):
            continue
        text = f"NAT rule {name}: {r['text']}"
        try:
            if r["problems"]:
                raise ParseProblem(r["problems"][0][2])
            if any(v[:1] in (["nat64"], ["nptv6"]) for v in f.get("nat-type", [])):
                acct.report(r["line"], r["text"], f"NAT rule {name}: IPv6 NAT (nat64/nptv6) is not modelled")
                continue  # it translates IPv6 packets only: nothing the IPv4 model answers is affected
            _nat_rule(rs, st, r, text, routes)
        except (ParseProblem, IndexError, ValueError) as exc:
            nat_problem(rs, acct, r["line"], r["text"], f"NAT rule {name}: {exc or 'incomplete'}")


def _nat_rule(rs: RuleSet, st: _State, r: dict, text: str, routes: dict) -> None:
    f = r["fields"]
    origin = f"{rs.source}:{r['line']}"
    froms = tuple(i for z in _zones(st, f.get("from", [])).values() for i in z)
    tos = tuple(i for z in _zones(st, f.get("to", [])).values() for i in z)
    src = _addresses(st, f.get("source", ["any"]))
    dst = _addresses(st, f.get("destination", ["any"]))
    services = _services(st, f.get("service", ["any"]))
    egress = tos
    for v in f.get("to-interface", []):
        if v and v[0] != "any":
            egress = tuple(x for x in egress if x == v[0]) if egress else (v[0],)
    if egress:  # the to zone is where the original destination routes: a condition on the destination
        routed = routed_to(rs, egress, dst, routes)
        if routed is None:
            raise ParseProblem("the 'to' zone cannot be resolved: the configuration has no routes")
        if not routed:
            return  # no original destination of this rule routes to its zone: it never matches
        dst = routed
    dnat = _dnat(st, f.get("destination-translation", []))
    snat = _snat(rs, st, f.get("source-translation", []), src)
    base = {"in_ifaces": froms} if froms else {}
    for m in matches(src, dst, services, base):
        if dnat is None:
            rs.nat.append(NatRule("pre", "none", m, origin, text=text))
        else:
            rs.nat.append(NatRule("pre", "dnat", m, origin, dnat[0], dnat[1], text))
    after = [Svc(s.proto, (dnat[1],), s.sports) if dnat and dnat[1] and s.proto else s for s in services]
    post_base = dict(base) | ({"out_ifaces": egress} if egress and dnat is None else {})
    for m in matches(src, dnat[0] if dnat else dst, after, post_base):
        if snat is None:
            rs.nat.append(NatRule("post", "none", m, origin, text=text))
        else:
            rs.nat.append(NatRule("post", snat[0], m, origin, snat[1], text=text))
    if snat is not None and snat[2]:  # bi-directional static-ip: the translated address answers for the source
        for m in matches((), snat[1], [], {"in_ifaces": tos} if tos else {}):
            rs.nat.append(NatRule("pre", "dnat", m, origin, src, text=text + " (bi-directional)"))


def _dnat(st: _State, specs: list[list[str]]) -> tuple | None:
    """destination-translation translated-address A [translated-port P] -> (addresses, PortRange | None)."""
    if not specs:
        return None
    addr: tuple = ()
    port = None
    for v in specs:
        if v[:1] == ["translated-address"]:
            addr += _addresses(st, v[1:2])
        elif v[:1] == ["translated-port"]:
            port = PortRange(int(v[1]), int(v[1]))
        elif v[:1] not in (["dns-rewrite"],):
            raise ParseProblem(f"destination-translation {' '.join(v)}")
    if not addr or sum(n.num_addresses for n in addr) != 1:
        raise ParseProblem("destination translation to several addresses (a pool) is not modelled")
    return addr, port


def _snat(rs: RuleSet, st: _State, specs: list[list[str]], src: tuple) -> tuple | None:
    """source-translation ... -> (action, addresses, bi-directional)."""
    if not specs:
        return None
    kind = specs[0][0]
    pool: tuple = ()
    iface = ip = None
    bidir = False
    for v in specs:
        if v[0] != kind:
            raise ParseProblem(f"source-translation {v[0]} with {kind}")
        rest = v[1:]
        if rest[:1] == ["translated-address"]:
            pool += _addresses(st, rest[1:2])
        elif rest[:2] == ["interface-address", "interface"]:
            iface = rest[2]
        elif rest[:2] == ["interface-address", "ip"]:
            ip = rest[2]
        elif rest[:1] == ["bi-directional"]:
            bidir = rest[1:2] == ["yes"]
        elif rest[:1] != ["fallback"]:
            raise ParseProblem(f"source-translation {' '.join(v)}")
    if kind not in ("dynamic-ip-and-port", "dynamic-ip", "static-ip"):
        raise ParseProblem(f"source-translation {kind}")
    if iface is not None or ip is not None:
        if ip:  # an address (with its prefix length) or an address object's name
            spec = st.addresses.get(ip, (0, ["ip-netmask", ip]))[1]
            return "snat", (net(str(iface_address(spec[1]).ip)),), False
        if iface in rs.interfaces and rs.interfaces[iface].addresses:
            return "snat", (net(str(rs.interfaces[iface].addresses[0].ip)),), False
        return "masquerade", (), False
    if not pool:
        raise ParseProblem("source translation without a translated address")
    if kind == "static-ip":
        why = one_to_one(src, pool)
        if why:
            raise ParseProblem(why)
    return "snat", pool, bidir


__all__ = ["parse", "InputError"]
