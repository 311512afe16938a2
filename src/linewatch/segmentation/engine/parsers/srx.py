"""Juniper SRX (Junos) configurations, as `set` lines or the `{ ... }` tree, into the vendor-neutral model.

Modelled: `interfaces IF unit N family inet address` (interface `IF.N`), `security zones security-zone Z interfaces`,
address books (global `security address-book NAME address|address-set`, and zone-level ones; `range-address`),
`applications application` (protocol, destination-port, source-port, terms) and `application-set`, the predefined
`junos-*` applications listed below, `security policies from-zone A to-zone B policy P match ... then permit|deny|
reject` in order per zone pair, `security policies global` policies after them, `default-policy permit-all|deny-all`
(deny-all when absent; traffic within one zone also needs a policy), statefulness (replies of permitted sessions
pass), `routing-options static route`.

`security nat` static/destination/source rule sets become `NatRule`s (see `srx_nat`). Reported: stateless
`firewall` filters applied on interfaces (the same), dynamic applications, source identities, DNS-name addresses,
IPv6, the junos-host zone, VPN, `deactivate`/`delete` statements, and anything else not listed here.
"""

from __future__ import annotations

import ipaddress
import re

from linewatch.segmentation.engine.model import PortRange, Route, RuleSet
from linewatch.segmentation.engine.parsers import hier, srx_nat
from linewatch.segmentation.engine.parsers.common import (
    Accountant,
    ParseProblem,
    Policy,
    Svc,
    add_address,
    iface_address,
    ip_range,
    net,
    nothing,
    policy_ruleset,
    tcp_udp,
)

JUNOS_APPS: dict[str, list[Svc]] = {
    "junos-http": list(tcp_udp(80)), "junos-https": list(tcp_udp(443)), "junos-ssh": list(tcp_udp(22)),
    "junos-telnet": list(tcp_udp(23)), "junos-ftp": list(tcp_udp(21)), "junos-smtp": list(tcp_udp(25)),
    "junos-dns-udp": list(tcp_udp(53, ("udp",))), "junos-dns-tcp": list(tcp_udp(53)),
    "junos-ntp": list(tcp_udp(123, ("udp",))), "junos-snmp-get": list(tcp_udp(161, ("udp",))),
    "junos-snmp-get-next": list(tcp_udp(161, ("udp",))), "junos-snmp-trap": list(tcp_udp(162, ("udp",))),
    "junos-syslog": list(tcp_udp(514, ("udp",))), "junos-tftp": list(tcp_udp(69, ("udp",))),
    "junos-bgp": list(tcp_udp(179)), "junos-ldap": list(tcp_udp(389)), "junos-smb": list(tcp_udp(445)),
    "junos-ms-sql": list(tcp_udp(1433)), "junos-mysql": list(tcp_udp(3306)), "junos-rdp": list(tcp_udp(3389)),
    "junos-ms-rpc-tcp": list(tcp_udp(135)), "junos-radius": list(tcp_udp(1812, ("udp",))),
    "junos-imap": list(tcp_udp(143)), "junos-pop3": list(tcp_udp(110)), "junos-vnc": list(tcp_udp(5900)),
    "junos-icmp-all": [Svc(1)], "junos-icmp-ping": [Svc(1, icmp_typed=True)], "junos-ping": [Svc(1, icmp_typed=True)],
    "junos-http-ext": list(tcp_udp((7001, 7001))), "junos-ike": list(tcp_udp(500, ("udp",))),
    "junos-netbios-session": list(tcp_udp(139)), "junos-nfs": list(tcp_udp(2049, ("tcp", "udp"))),
}
IGNORED_TOP = {"version", "system", "snmp", "protocols", "chassis", "services", "policy-options", "class-of-service",
               "forwarding-options", "event-options", "poe", "vlans", "access", "ethernet-switching-options",
               "switch-options", "multi-chassis", "bridge-domains"}
IGNORED_SECURITY = {"screen", "flow", "log", "alg", "forwarding-options", "pki", "ssh-known-hosts", "idp", "utm",
                    "application-tracking", "user-identification", "authentication-key-chains", "dynamic-address"}
PROTOS = {"tcp": 6, "udp": 17, "icmp": 1, "sctp": 132, "gre": 47, "esp": 50, "ah": 51, "ospf": 89}


def parse(text: str, source: str) -> RuleSet:
    if re.search(r"^\s*(set|deactivate|delete) ", text, re.M):
        stmts, structure = hier.set_lines(text, source)
        fmt = "junos-set"
    else:
        stmts, structure = hier.flatten(text, source)
        fmt = "junos"
    rs = RuleSet(source=source, format=fmt)
    acct = Accountant(rs)
    acct.ignore(*structure)
    st = _State()
    for line, w in stmts:
        if any(t.startswith("inactive:") for t in w):
            acct.report(line, " ".join(w), "inactive statement (ignored by the device)")
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
        self.sets: dict[str, list[str]] = {}
        self.apps: dict[str, dict[str, dict]] = {}  # app -> term ("" for a single one) -> fields
        self.app_sets: dict[str, list[str]] = {}
        self.policies: dict[tuple, dict] = {}  # (from, to, name) or ("global", name) -> fields
        self.default = ("drop", 0)
        self.nat = srx_nat.NatState()
        self.routes: list[tuple[int, str, list[str]]] = []


def _statement(rs: RuleSet, acct: Accountant, st: _State, line: int, w: list[str]) -> None:
    text = "set " + " ".join(w)
    head = w[0]
    if head.startswith("!"):
        acct.report(line, " ".join([head[1:], *w[1:]]), f"'{head[1:]}' statements are not modelled")
        return
    if head == "security":
        _security(acct, st, line, w, text)
    elif head == "applications":
        if w[1] == "application":
            name, rest = w[2], w[3:]
            term = ""
            if rest[:1] == ["term"]:
                term, rest = rest[1], rest[2:]
            fields = st.apps.setdefault(name, {}).setdefault(term, {"line": line})
            if rest and rest[0] in ("protocol", "destination-port", "source-port"):
                fields[rest[0]] = rest[1]
            elif rest and rest[0] in ("icmp-type", "icmp-code"):
                fields["icmp"] = True
            elif rest and rest[0] not in ("description", "inactivity-timeout", "application-protocol", "alg"):
                raise ParseProblem(f"application setting '{rest[0]}' is not modelled")
        elif w[1] == "application-set":
            st.app_sets.setdefault(w[2], []).extend(x for x in hier.values(w, 4) if x not in "[]")
        acct.use(line)
    elif head == "interfaces":
        _interface(rs, acct, line, w, text)
    elif head == "routing-options" and "static" in w and "route" in w:
        st.routes.append((line, text, w[w.index("route") + 1:]))
        acct.use(line)
    elif head == "firewall":
        acct.report(line, text, "stateless firewall filters are not modelled")
    elif head in ("groups", "apply-groups"):
        acct.report(line, text, "configuration groups are not expanded (show the configuration with "
                                "`| display inheritance | display set`)")
    elif head == "routing-instances":
        acct.report(line, text, "routing instances are not modelled")
    elif head in IGNORED_TOP or head == "routing-options":
        acct.ignore(line)
    else:
        acct.report(line, text, f"'{head}' is not modelled")


def _interface(rs, acct, line, w, text) -> None:
    if "unit" in w and "family" in w:
        i = w.index("unit")
        name = f"{w[1]}.{w[i + 1]}"
        fam = w[w.index("family") + 1]
        rest = w[w.index("family") + 2:]
        if fam == "inet" and rest[:1] == ["address"]:
            add_address(rs, name, iface_address(rest[1]))
            acct.use(line)
        elif fam == "inet" and rest[:1] == ["filter"]:
            acct.report(line, text, "a stateless filter on an interface is not modelled", blocking=True)
        elif fam == "inet6":
            acct.report(line, text, "IPv6 (only IPv4 is modelled)")
        else:
            acct.ignore(line)
    else:
        acct.ignore(line)  # description, speed, vlan-tagging, ...


def _address_book(st: _State, rest: list[str], line: int) -> None:
    if rest[0] == "address":
        name, spec = rest[1], rest[2:]
        if spec and spec[0] == "description":
            st.addresses.setdefault(name, (line, []))
            return
        st.addresses[name] = (line, spec)
    elif rest[0] == "address-set":
        vals = rest[2:]
        if vals[:1] in (["address"], ["address-set"]):
            st.sets.setdefault(rest[1], []).extend(x for x in hier.values(vals, 1) if x not in "[]")
    # attach zone, description: no effect on matching


def _security(acct: Accountant, st: _State, line: int, w: list[str], text: str) -> None:
    sub = w[1]
    if sub == "zones" and w[2] == "security-zone":
        z = w[3]
        st.zones.setdefault(z, [])
        st.zone_line.setdefault(z, line)
        rest = w[4:]
        if rest[:1] == ["interfaces"]:
            st.zones[z].extend(x for x in hier.values(rest, 1) if x not in "[]")
        elif rest[:1] == ["address-book"]:
            _address_book(st, rest[1:], line)
        acct.use(line)
    elif sub == "zones" and w[2] == "functional-zone":
        acct.ignore(line)
    elif sub == "address-book":
        _address_book(st, w[3:], line)
        acct.use(line)
    elif sub == "policies":
        rest = w[2:]
        if rest[0] == "default-policy":
            st.default = ("accept" if rest[1] == "permit-all" else "drop", line)
        elif rest[0] == "from-zone" and rest[2] == "to-zone" and rest[4] == "policy":
            _policy(st, (rest[1], rest[3], rest[5]), rest[6:], line, text)
        elif rest[0] == "global" and rest[1] == "policy":
            _policy(st, ("global", rest[2]), rest[3:], line, text)
        elif rest[0] in ("policy-rematch", "pre-id-default-policy", "traceoptions"):
            pass
        else:
            raise ParseProblem(f"policies statement '{rest[0]}' is not modelled")
        acct.use(line)
    elif sub == "nat":
        srx_nat.statement(acct, st.nat, line, w, text)
    elif sub in ("ike", "ipsec"):
        acct.report(line, text, "VPN is not modelled")
    elif sub in IGNORED_SECURITY:
        acct.ignore(line)
    else:
        acct.report(line, text, f"security {sub} is not modelled")


def _policy(st: _State, key: tuple, rest: list[str], line: int, text: str) -> None:
    p = st.policies.setdefault(key, {"line": line, "text": text, "match": {}, "then": None, "problems": [],
                                     "lines": {}})
    if rest[:1] == ["match"] and len(rest) > 1:
        fld = rest[1]
        p["match"].setdefault(fld, []).extend(x for x in hier.values(rest, 2) if x not in "[]")
        p["lines"].setdefault(fld, (line, text))
        known = ("source-address", "destination-address", "application", "from-zone", "to-zone")
        if fld.endswith("-excluded"):
            p["problems"].append((line, text, f"match {fld} (negation) is not modelled"))
        elif fld not in known:
            p["problems"].append((line, text, f"match {fld} is not modelled"))
    elif rest[:1] == ["then"] and len(rest) > 1:
        act = rest[1]
        if act in ("permit", "deny", "reject"):
            p["then"] = act
            if act == "permit" and len(rest) > 2 and rest[2] in ("tunnel", "destination-address",
                                                                  "application-services"):
                p["problems"].append((line, text, f"then permit {rest[2]} is not modelled"))
        elif act not in ("log", "count"):
            p["problems"].append((line, text, f"then {act} is not modelled"))
    elif rest[:1] == ["scheduler-name"]:
        p["problems"].append((line, text, "a scheduler (time-dependent policy) is not modelled"))


def _addresses(st: _State, names: list[str], depth: int = 0) -> tuple:
    out: list = []
    for n in names:
        if n in ("any", "any-ipv4"):
            return ()
        if n == "any-ipv6":
            raise ParseProblem("any-ipv6 (only IPv4 is modelled)")
        if depth > 16:
            raise ParseProblem(f"address-set {n} nests too deeply")
        if n in st.addresses:
            spec = st.addresses[n][1]
            if not spec:
                raise ParseProblem(f"address {n} has no value")
            if spec[0] == "range-address":
                out.extend(ip_range(spec[1], spec[3]))
            elif spec[0] in ("dns-name", "wildcard-address"):
                raise ParseProblem(f"address {n} ({spec[0]}) is not modelled")
            else:
                out.append(net(spec[0]))
        elif n in st.sets:
            out.extend(_addresses(st, st.sets[n], depth + 1) or (net("0.0.0.0/0"),))
        else:
            raise ParseProblem(f"address {n} is not defined")
    return tuple(out)


def _port(v: str | None) -> tuple[PortRange, ...]:
    if v is None:
        return ()
    names = {"http": 80, "https": 443, "ssh": 22, "telnet": 23, "ftp": 21, "smtp": 25, "domain": 53, "ntp": 123,
             "snmp": 161, "syslog": 514, "ldap": 389, "bgp": 179}
    lo, _, hi = v.partition("-")
    try:
        a = names.get(lo) or int(lo)
        b = names.get(hi) or int(hi) if hi else a
        return (PortRange(a, b),)
    except ValueError:
        raise ParseProblem(f"port {v}") from None


def _apps(st: _State, names: list[str], depth: int = 0) -> list[Svc]:
    out: list[Svc] = []
    for n in names:
        if n == "any":
            return []
        if depth > 16:
            raise ParseProblem(f"application-set {n} nests too deeply")
        if n in st.apps:
            for term in st.apps[n].values():
                proto = term.get("protocol")
                if proto is None:
                    raise ParseProblem(f"application {n} has no protocol")
                p = PROTOS.get(proto) if not proto.isdigit() else int(proto)
                if p is None:
                    raise ParseProblem(f"application {n}: protocol {proto}")
                out.append(Svc(p, _port(term.get("destination-port")), _port(term.get("source-port")),
                               icmp_typed=bool(term.get("icmp"))))
        elif n in st.app_sets:
            out.extend(_apps(st, st.app_sets[n], depth + 1))
        elif n in JUNOS_APPS:
            out.extend(JUNOS_APPS[n])
        else:
            raise ParseProblem(f"application {n} is not defined (or a predefined junos application not modelled)")
    return out


def _build(rs: RuleSet, acct: Accountant, st: _State) -> None:
    src = rs.source
    for line, text, r in st.routes:
        try:
            via = r[r.index("next-hop") + 1] if "next-hop" in r else None
            rs.routes.append(Route(ipaddress.IPv4Network(r[0], strict=False), None,
                                   ipaddress.IPv4Address(via) if via else None))
        except (ValueError, IndexError):
            acct.report(line, text, "static route not modelled (IPv4 prefix and next-hop address only)")
    members = {z: tuple(m) or nothing(f"zone {z}") for z, m in st.zones.items()}
    ordered = sorted(st.policies.items(), key=lambda kv: (kv[0][0] == "global", kv[1]["line"]))
    out: list[Policy] = []
    for key, f in ordered:
        name = key[-1]
        p = Policy(f"policy {name}", f["line"], f["text"])
        p.action = {"permit": "accept", "deny": "drop", "reject": "reject", None: "drop"}[f["then"]]
        p.reject_with = "tcp-reset" if p.action == "reject" else None
        if f["then"] is None:
            p.problem, p.problem_line = "policy without a 'then' action", f["line"]
        if f["problems"]:
            p.problem_line, p.problem_text, p.problem = f["problems"][0]
        m = f["match"]
        where = "from-zone"
        try:
            if key[0] == "global":
                zf, zt = m.get("from-zone", ["any"]), m.get("to-zone", ["any"])
            else:
                zf, zt = [key[0]], [key[1]]
            for z in zf + zt:
                if z == "junos-host":
                    raise ParseProblem("the junos-host zone (traffic to the device) is not modelled")
                if z != "any" and z not in members:
                    raise ParseProblem(f"zone {z} is not defined")
            p.from_ifaces = () if "any" in zf else tuple(i for z in zf for i in members[z])
            p.to_ifaces = () if "any" in zt else tuple(i for z in zt for i in members[z])
            where = "source-address"
            p.src = _addresses(st, m.get("source-address", []))
            where = "destination-address"
            p.dst = _addresses(st, m.get("destination-address", []))
            where = "application"
            p.services = _apps(st, m.get("application", []))
            for fld in ("source-address", "destination-address", "application"):
                if fld not in m and not p.problem:
                    raise ParseProblem(f"policy without 'match {fld}' (the device rejects it)")
        except (ParseProblem, IndexError, ValueError) as exc:
            if not p.problem:
                p.problem = str(exc) or "incomplete statement"
                p.problem_line, p.problem_text = f["lines"].get(where, (f["line"], f["text"]))
        out.append(p)
    srx_nat.build(rs, acct, st.nat, st.zones, lambda n: _addresses(st, n), lambda n: _apps(st, n))
    action, line = st.default
    policy_ruleset(rs, acct, out, [], action, f"{src}:{line}",
                   f"default-policy {'permit-all' if action == 'accept' else 'deny-all'}")
