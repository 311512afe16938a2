"""FortiGate FortiOS configurations (`config ... edit ... set ... next ... end`) into the vendor-neutral model.

Modelled: `system interface` addresses, `system zone` members (`set`/`append` interface, intrazone allow|deny),
`firewall address` (ipmask, iprange, the predefined `all`), `firewall addrgrp`, `firewall service custom`
(tcp/udp/sctp port ranges with `dst:src`, IP protocol numbers, ICMP), `firewall service group` and common predefined
services, `firewall policy` in order (srcintf/dstintf as interfaces or zones, srcaddr/dstaddr with negate, service,
action accept/deny, status disable), the implicit deny at the end, statefulness (replies of accepted sessions pass),
`router static` routes.

Address translation: VIPs named by policies, IP pools and each policy's `set nat enable` become `NatRule`s (see
`fortios_nat`). Reported: central SNAT (device-wide), IPv6 VIPs, policy6/IPv6, identity-based policies
(users, groups, internet-service), non-`always` schedules, FQDN/geography/dynamic/wildcard addresses, ICMP types,
local-in policies, VPN, and anything else not listed here.
"""

from __future__ import annotations

import ipaddress

from linewatch.errors import InputError
from linewatch.segmentation.engine.model import Match, PortRange, Route, RuleSet
from linewatch.segmentation.engine.parsers import fortios_nat, hier
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

PREDEFINED: dict[str, list[Svc]] = {
    "ALL": [Svc()], "ALL_TCP": [Svc(6)], "ALL_UDP": [Svc(17)], "ALL_ICMP": [Svc(1)], "HTTP": list(tcp_udp(80)),
    "HTTPS": list(tcp_udp(443)), "SSH": list(tcp_udp(22)), "TELNET": list(tcp_udp(23)), "FTP": list(tcp_udp(21)),
    "DNS": list(tcp_udp(53, ("tcp", "udp"))), "NTP": list(tcp_udp(123, ("tcp", "udp"))),
    "SNMP": list(tcp_udp((161, 162), ("tcp", "udp"))), "RDP": list(tcp_udp(3389)), "SMTP": list(tcp_udp(25)),
    "SAMBA": list(tcp_udp(139)), "SMB": list(tcp_udp(445)), "MYSQL": list(tcp_udp(3306)),
    "MS-SQL": list(tcp_udp((1433, 1434))), "LDAP": list(tcp_udp(389)), "SYSLOG": list(tcp_udp(514, ("udp",))),
    "TFTP": list(tcp_udp(69, ("udp",))), "IMAP": list(tcp_udp(143)), "POP3": list(tcp_udp(110)),
    "PING": [Svc(1, icmp_typed=True)], "VNC": list(tcp_udp(5900)), "BGP": list(tcp_udp(179)),
}
IGNORED_FAMILIES = ("system", "log", "user", "antivirus", "webfilter", "ips", "application", "dlp",
                    "wireless-controller", "switch-controller", "report", "alertemail", "endpoint-control", "wanopt",
                    "web-proxy", "dnsfilter",
                    "emailfilter", "spamfilter", "icap", "voip", "waf", "ssh-filter", "certificate", "authentication",
                    "extender-controller", "ftp-proxy", "gui", "credential-store", "automation", "dpdk", "hardware",
                    "file-filter", "videofilter", "cifs", "monitoring", "wireless", "sctp-filter", "virtual-patch")
IGNORED_FIREWALL = {"schedule", "ssl-ssh-profile", "profile-protocol-options", "profile-group", "ssl", "ldb-monitor",
                    "identity-based-route", "shaper", "shaping-policy", "shaping-profile", "address6-template",
                    "internet-service-name", "auth-portal", "ipmacbinding", "access-proxy", "DoS-policy", "ttl-policy",
                    "service category", "wildcard-fqdn", "traffic-class", "region", "city", "country"}
NAT_FIREWALL = {"vip", "vipgrp", "ippool"}  # modelled in fortios_nat


class _Entry:
    def __init__(self, name: str | None, line: int) -> None:
        self.name, self.line = name, line
        self.values: dict[str, tuple[list[str], int, str]] = {}


def parse(text: str, source: str) -> RuleSet:
    rs = RuleSet(source=source, format="fortios")
    acct = Accountant(rs)
    sections: dict[str, tuple[int, list[_Entry]]] = {}
    stack: list[tuple[str, object]] = []  # ("config", path) | ("edit", _Entry)
    for n, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        if not s or s.startswith("#"):
            acct.ignore(n)
            continue
        w = hier.words(s)
        verb = w[0]
        if verb == "config":
            if len(w) < 2:
                raise InputError(source, str(n), "'config' needs a section name")
            parent = ".".join(p for k, p in stack if k == "config")  # type: ignore[misc]
            path = " ".join(w[1:]) if not parent else f"{parent}/{' '.join(w[1:])}"
            stack.append(("config", path))
            sections.setdefault(path, (n, []))
            acct.use(n)
        elif verb == "edit":
            if not stack or stack[-1][0] != "config":
                raise InputError(source, str(n), "'edit' outside a 'config' block")
            e = _Entry(w[1] if len(w) > 1 else "", n)
            sections[stack[-1][1]][1].append(e)  # type: ignore[index]
            stack.append(("edit", e))
            acct.use(n)
        elif verb in ("next", "end"):
            want = "edit" if verb == "next" else "config"
            if not stack or stack[-1][0] != want:
                raise InputError(source, str(n), f"'{verb}' without a matching '{want}'")
            stack.pop()
            acct.use(n)
        elif verb in ("set", "append", "unset", "select", "unselect"):
            if not stack:
                raise InputError(source, str(n), f"'{verb}' outside a 'config' block")
            if stack[-1][0] == "config":  # settings of a section without entries
                path = stack[-1][1]
                entries = sections[path][1]  # type: ignore[index]
                if not entries or entries[-1].name is not None:
                    entries.append(_Entry(None, n))
                e = entries[-1]
            else:
                e = stack[-1][1]  # type: ignore[assignment]
            if len(w) < 2:
                raise InputError(source, str(n), f"'{verb}' needs a setting name")
            key, vals = w[1], w[2:]
            if verb in ("set", "select", "append") and not vals:
                acct.report(n, s, f"'{verb} {key}' without a value")
                continue
            if verb in ("set", "select"):
                e.values[key] = (vals, n, s)
            elif verb == "append":
                old = e.values.get(key, ([], n, s))[0]
                e.values[key] = (old + vals, n, s)
            else:
                e.values.pop(key, None)
            acct.use(n)
        else:
            acct.report(n, s, f"'{verb}' is not a FortiOS configuration statement")
    if stack:
        raise InputError(source, str(len(text.splitlines())), f"unterminated '{stack[-1][0]}' block: missing "
                                                              f"'{'next' if stack[-1][0] == 'edit' else 'end'}'")
    _build(rs, acct, sections)
    return rs


def _build(rs: RuleSet, acct: Accountant, sections) -> None:
    src = rs.source
    zones: dict[str, tuple[tuple[str, ...], bool, int]] = {}
    addresses: dict[str, _Entry] = {}
    groups: dict[str, _Entry] = {}
    services: dict[str, _Entry] = {}
    service_groups: dict[str, _Entry] = {}
    policies: list[_Entry] = []
    vdoms = sections.get("vdom", (0, []))
    if len(vdoms[1]) > 1:
        acct.report(vdoms[0], "config vdom", f"{len(vdoms[1])} VDOMs (virtual firewalls) in one file: load each "
                    "VDOM's configuration on its own", blocking=True)
    merged: dict[str, tuple[int, list[_Entry]]] = {}
    for path, (line, entries) in sections.items():
        # multi-VDOM layout: `config global` and `config vdom / edit root` wrap the usual sections
        path = path.split("/", 1)[1] if path.startswith(("global/", "vdom/")) else path
        if path in ("global", "vdom"):
            continue
        old = merged.get(path)
        merged[path] = (old[0], old[1] + entries) if old else (line, list(entries))
    for path, (line, entries) in merged.items():
        top = path.split("/")[0]
        family = (top.split() or [""])[0]
        if path == "system interface":
            for e in entries:
                _interface(rs, acct, e)
        elif path == "system zone":
            for e in entries:
                members = tuple(e.values.get("interface", ([], 0, ""))[0])
                intra = e.values.get("intrazone", (["deny"], 0, ""))[0][0] == "allow"
                zones[e.name or ""] = (members, intra, e.line)
        elif path == "firewall address":
            addresses |= {e.name or "": e for e in entries}
        elif path == "firewall addrgrp":
            groups |= {e.name or "": e for e in entries}
        elif path == "firewall service custom":
            services |= {e.name or "": e for e in entries}
        elif path == "firewall service group":
            service_groups |= {e.name or "": e for e in entries}
        elif path == "firewall policy":
            policies.extend(entries)
        elif path == "router static":
            for e in entries:
                _route(rs, acct, e)
        elif family == "firewall" and " ".join(top.split()[1:]) in NAT_FIREWALL:
            continue
        elif top == "firewall central-snat-map":
            for e in entries:
                acct.report(e.line, f"edit {e.name}", "central SNAT (central NAT mode) is not modelled", blocking=True)
        elif top in ("firewall vip6", "firewall vip46", "firewall vip64"):
            for e in entries:
                acct.report(e.line, f"edit {e.name}", f"{top}: IPv6 NAT is not modelled (only IPv4)")
        elif top in ("firewall policy6", "firewall address6", "firewall addrgrp6", "firewall policy64",
                     "firewall policy46"):
            if entries:
                acct.report(line, f"config {top}", "IPv6 (only IPv4 is modelled)")
        elif family == "firewall" and " ".join(top.split()[1:]) in IGNORED_FIREWALL:
            continue
        elif family == "router" or family in IGNORED_FAMILIES:
            continue  # routing protocols, system settings, security profiles: no effect on allow/deny
        elif path.startswith(("firewall ", "vpn ")) or "/" in path:
            if entries:
                acct.report(line, f"config {path}", f"config {path} is not modelled")
        else:
            if entries:
                acct.report(line, f"config {path}", f"config {path} is not modelled")
    ctx = (addresses, groups, services, service_groups)
    vip_map, vip_groups = fortios_nat.vips(acct, merged)
    used_vips: list[fortios_nat.Vip] = []
    vctx = (vip_map, vip_groups, used_vips)
    zone_members = {z: m or nothing(f"zone {z}") for z, (m, _i, _l) in zones.items()}
    out: list[Policy] = []
    for e in policies:
        v = e.values

        def get(key, default=None, e=e):
            return e.values.get(key, (default or [], e.line, ""))

        p = Policy(f"policy {e.name}" + (f" ({get('name')[0][0]})" if get("name")[0] else ""), e.line,
                   f"edit {e.name}")
        p.disabled = get("status", ["enable"])[0][:1] == ["disable"]
        action = get("action", ["deny"])[0][0]
        p.action = {"accept": "accept", "deny": "drop"}.get(action, "drop")
        for key, why in (("service-negate", "a negated service"), ("internet-service", "internet-service objects"),
                         ("srcaddr-negate", None), ("dstaddr-negate", None)):
            if key in v and v[key][0][:1] == ["enable"] and why:
                p.problem, p.problem_line, p.problem_text = f"{why} is not modelled", v[key][1], v[key][2]
        for key in ("users", "groups", "fsso-groups"):
            if key in v and v[key][0]:
                p.problem, p.problem_line, p.problem_text = f"identity-based policy ({key})", v[key][1], v[key][2]
        if action not in ("accept", "deny"):
            p.problem, p.problem_line, p.problem_text = f"action {action}", get("action")[1], get("action")[2]
        sched = get("schedule", ["always"])
        if sched[0] and sched[0][0] != "always":
            p.problem, p.problem_line, p.problem_text = "a schedule (time-dependent policy)", sched[1], sched[2]
        where = "srcintf"
        try:
            p.from_ifaces = _ifaces(get("srcintf")[0], zone_members)
            where = "dstintf"
            p.to_ifaces = _ifaces(get("dstintf")[0], zone_members)
            where = "srcaddr"
            p.src = _addresses(ctx, get("srcaddr")[0])
            where = "dstaddr"
            p.dst = _addresses(ctx, get("dstaddr")[0], vips=vctx if not p.disabled else None)
            where = "service"
            p.services = _services(ctx, get("service")[0])
            p.src_negated = get("srcaddr-negate", ["disable"])[0][:1] == ["enable"]
            p.dst_negated = get("dstaddr-negate", ["disable"])[0][:1] == ["enable"]
        except (ParseProblem, ValueError, IndexError) as exc:
            if not p.problem:
                p.problem, p.problem_line, p.problem_text = str(exc) or "incomplete", get(where)[1], get(where)[2]
        if not v.get("srcaddr") and not p.problem and not p.disabled:
            p.problem, p.problem_line = "policy without srcaddr/dstaddr/service (incomplete)", e.line
        out.append(p)
    defaults = [(Match(in_ifaces=zone_members[z], out_ifaces=zone_members[z]), "accept", f"{src}:{line}",
                 f"zone {z}: intrazone allow") for z, (_m, intra, line) in zones.items() if intra]
    first = policies[0].line if policies else 0
    policy_ruleset(rs, acct, out, defaults, "drop", f"{src}:{first}", "implicit deny (policy 0)")
    fortios_nat.build(rs, acct, policies, out, used_vips, fortios_nat.pools(acct, merged))


def _interface(rs: RuleSet, acct: Accountant, e: _Entry) -> None:
    ip = e.values.get("ip")
    if not ip or not ip[0]:
        return
    vals, line, text = ip
    try:
        add_address(rs, e.name or "", iface_address(vals[0], vals[1] if len(vals) > 1 else None))
    except ParseProblem as exc:
        acct.report(line, text, str(exc))


def _route(rs: RuleSet, acct: Accountant, e: _Entry) -> None:
    dst = e.values.get("dst", (["0.0.0.0", "0.0.0.0"], e.line, ""))[0]
    gw = e.values.get("gateway", ([], 0, ""))[0]
    dev = e.values.get("device", ([], 0, ""))[0]
    try:
        prefix = ipaddress.IPv4Network(f"{dst[0]}/{dst[1]}" if len(dst) > 1 else dst[0], strict=False)
        rs.routes.append(Route(prefix, dev[0] if dev else None, ipaddress.IPv4Address(gw[0]) if gw else None))
    except (ValueError, IndexError):
        acct.report(e.line, f"edit {e.name}", "static route without an IPv4 destination/gateway")


def _ifaces(names: list[str], zones: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    if not names:
        raise ParseProblem("no interface given")
    if "any" in names:
        return ()
    return tuple(i for n in names for i in zones.get(n, (n,)))


def _addresses(ctx, names: list[str], depth: int = 0, vips=None) -> tuple:
    """Addresses of names; `vips` (VIPs, VIP groups, the used list) when a VIP may be named: a destination VIP is its
    mapped address, the destination the policy sees after the VIP's translation."""
    addresses, groups, _s, _g = ctx
    if not names:
        raise ParseProblem("no address given")
    out: list = []
    for n in names:
        if vips is not None and (n in vips[0] or n in vips[1]):
            for v in ([n] if n in vips[0] else vips[1][n]):
                if v not in vips[0]:
                    raise ParseProblem(f"vip {v} is not modelled" if v == n else f"vipgrp {n}: vip {v} is not "
                                       "defined or not modelled")
                vips[2].append(vips[0][v])
                out.extend(vips[0][v].mapped)
        elif n in addresses:
            e = addresses[n]
            kind = e.values.get("type", (["ipmask"], 0, ""))[0][0]
            if kind == "ipmask":
                sub = e.values.get("subnet")
                if sub is None:
                    if n == "all":
                        return ()
                    raise ParseProblem(f"address {n} has no subnet")
                out.append(net(*sub[0][:2]) if len(sub[0]) > 1 else net(sub[0][0]))
            elif kind == "iprange":
                a = e.values.get("start-ip", (["0.0.0.0"], 0, ""))[0][0]
                b = e.values.get("end-ip", (["0.0.0.0"], 0, ""))[0][0]
                out.extend(ip_range(a, b))
            else:
                raise ParseProblem(f"address {n} of type {kind} is not modelled")
        elif n in groups:
            if depth > 16:
                raise ParseProblem(f"addrgrp {n} nests too deeply")
            g = groups[n]
            if g.values.get("exclude", (["disable"], 0, ""))[0][:1] == ["enable"]:
                raise ParseProblem(f"addrgrp {n} with exclusions is not modelled")
            members = g.values.get("member", ([], 0, ""))[0]
            if not members:
                raise ParseProblem(f"addrgrp {n} is empty")
            sub = _addresses(ctx, members, depth + 1, vips)
            if not sub:
                return ()
            out.extend(sub)
        elif n == "all":
            return ()
        elif n == "none":
            raise ParseProblem("address none (matches nothing)")
        else:
            raise ParseProblem(f"address {n} is not defined")
    return tuple(out)


def _port_items(vals: list[str], proto: int) -> list[Svc]:
    out = []
    for item in vals:
        d, _, s = item.partition(":")

        def rng(x: str, item: str = item) -> PortRange:
            lo, _, hi = x.partition("-")
            try:
                a, b = int(lo), int(hi or lo)
                return PortRange(min(a, b), max(a, b))
            except ValueError:
                raise ParseProblem(f"port range {item}") from None

        out.append(Svc(proto, (rng(d),), (rng(s),) if s else ()))
    return out


def _services(ctx, names: list[str], depth: int = 0) -> list[Svc]:
    _a, _g, services, groups = ctx
    if not names:
        raise ParseProblem("no service given")
    out: list[Svc] = []
    for n in names:
        if n in services:
            v = services[n].values
            proto = v.get("protocol", (["TCP/UDP/SCTP"], 0, ""))[0][0].upper()
            if proto == "IP":
                num = int(v.get("protocol-number", (["0"], 0, ""))[0][0])
                if num == 0:
                    return []
                out.append(Svc(num))
            elif proto == "ICMP":
                out.append(Svc(1, icmp_typed="icmptype" in v))
            elif proto == "TCP/UDP/SCTP":
                found = False
                for key, p in (("tcp-portrange", 6), ("udp-portrange", 17), ("sctp-portrange", 132)):
                    if key in v:
                        out.extend(_port_items(v[key][0], p))
                        found = True
                if not found:
                    raise ParseProblem(f"service {n} has no port range")
            else:
                raise ParseProblem(f"service {n} with protocol {proto} is not modelled")
        elif n in groups:
            if depth > 16:
                raise ParseProblem(f"service group {n} nests too deeply")
            out.extend(_services(ctx, groups[n].values.get("member", ([], 0, ""))[0], depth + 1))
        elif n in PREDEFINED:
            if n == "ALL":
                return []
            out.extend(PREDEFINED[n])
        else:
            raise ParseProblem(f"service {n} is not defined")
    return out
