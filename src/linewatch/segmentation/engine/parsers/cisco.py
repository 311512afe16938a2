"""What Cisco IOS/IOS-XE and ASA configurations share: the block structure, object(-group)s and ACL entries.

A configuration is top-level commands with indented children. ACL entries (`permit tcp any host 10.0.0.1 eq 502
established`) become `Match`es: IOS masks are wildcards (`0.0.0.255`), ASA masks netmasks; object-groups (network,
service, protocol, port) and ASA objects and `name`s expand where they are used. Anything an entry uses that the
engine cannot express (ICMP types, time ranges, DSCP, fragments, IPv6, FQDN objects, undefined groups) makes that
entry `Unsupported` at its line, so the packets it might match are answered as insufficient information.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from linewatch.segmentation.engine.model import Match, PortRange, Rule, RuleSet
from linewatch.segmentation.engine.parsers.common import (
    Accountant,
    ParseProblem,
    Svc,
    ip_range,
    net,
    port_op,
    proto_number,
)

PORT_OPS = ("eq", "neq", "lt", "gt", "range")
ICMP_NAMES = {"echo", "echo-reply", "unreachable", "time-exceeded", "redirect", "traceroute", "packet-too-big",
              "parameter-problem", "source-quench", "timestamp-request", "timestamp-reply", "mask-request",
              "information-request", "router-advertisement", "router-solicitation", "administratively-prohibited",
              "host-unreachable", "net-unreachable", "port-unreachable", "ttl-exceeded", "icmp-echo",
              "icmp-echo-reply"}
LOG_WORDS = ("log", "log-input")
TRAILING_PROBLEMS = ("time-range", "dscp", "precedence", "tos", "fragments", "ttl", "option", "reflect",
                     "evaluate", "match-any", "match-all", "ack", "syn", "fin", "psh", "rst", "urg")


@dataclass
class Block:
    line: int
    text: str
    children: list[Block] = field(default_factory=list)

    @property
    def words(self) -> list[str]:
        return self.text.split()

    def all_lines(self) -> list[int]:
        return [self.line] + [n for c in self.children for n in c.all_lines()]


def blocks(text: str, acct: Accountant, delimited: bool = True) -> list[Block]:
    """Top-level commands with their indented children (nested by indentation); comments and banners accounted."""
    roots: list[Block] = []
    stack: list[tuple[int, Block]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw, lineno = lines[i].rstrip(), i + 1
        i += 1
        s = raw.strip()
        if not s or s.startswith("!") or s == "end" or s.startswith(":"):
            acct.ignore(lineno)
            continue
        if " !" in s:  # a trailing comment
            s = s.split(" !", 1)[0].rstrip()
        indent = len(raw) - len(raw.lstrip())
        if indent == 0 and s.startswith("banner "):
            acct.ignore(lineno)
            parts = s.split(None, 2)
            rest = parts[2] if len(parts) > 2 else ""
            delim = rest[:2] if rest.startswith("^C") else rest[:1]
            if delimited and delim and delim not in rest[len(delim):]:
                while i < len(lines):  # an IOS banner runs to its closing delimiter (ASA banners are one line)
                    acct.ignore(i + 1)
                    i += 1
                    if delim in lines[i - 1]:
                        break
            continue
        b = Block(lineno, s)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if stack:
            stack[-1][1].children.append(b)
        else:
            roots.append(b)
        stack.append((indent, b))
    return roots


@dataclass
class Groups:
    """Named address and service sets, resolved when used (a group may name one defined later)."""

    networks: dict[str, list[tuple[int, str, list[str]]]] = field(default_factory=dict)  # name -> (line, text, words)
    services: dict[str, tuple[str | None, list[tuple[int, str, list[str]]]]] = field(default_factory=dict)
    protocols: dict[str, list[tuple[int, str, list[str]]]] = field(default_factory=dict)
    ports: dict[str, list[tuple[int, str, list[str]]]] = field(default_factory=dict)  # IOS `object-group ip port`
    names: dict[str, str] = field(default_factory=dict)  # ASA `name 10.0.0.1 plc1`
    wildcard: bool = True  # IOS ACL masks are wildcards, ASA's netmasks

    # --- addresses --------------------------------------------------------------------------------
    def network(self, name: str, depth: int = 0) -> tuple:
        if name not in self.networks:
            raise ParseProblem(f"undefined object or object-group {name}")
        if depth > 16:
            raise ParseProblem(f"object-group {name} nests too deeply")
        out: list = []
        for line, _text, w in self.networks[name]:
            try:
                out.extend(self._net_item(w, depth))
            except ParseProblem as exc:
                raise ParseProblem(f"{name} (line {line}): {exc}") from None
        return tuple(out)

    def _net_item(self, w: list[str], depth: int) -> tuple:
        if w[0] == "network-object":
            w = w[1:]
        if w[0] in ("description",):
            return ()
        if w[0] in ("group-object", "object"):
            return self.network(w[1], depth + 1)
        if w[0] == "host":
            return (net(self.names.get(w[1], w[1])),)
        if w[0] == "subnet":
            return (net(w[1], w[2]),)
        if w[0] == "range":
            return ip_range(w[1], w[2])
        if w[0] in ("any", "any4"):
            return (net("0.0.0.0/0"),)
        if w[0] in ("fqdn", "any6") or ":" in w[0]:
            raise ParseProblem(f"{' '.join(w)} (FQDN and IPv6 objects are not modelled)")
        if len(w) == 2:
            return (net(self.names.get(w[0], w[0]), w[1]),)  # object-group members use netmasks
        if len(w) == 1 and "/" in w[0]:
            return (net(w[0]),)
        raise ParseProblem(f"network member {' '.join(w)}")

    # --- services ---------------------------------------------------------------------------------
    def service(self, name: str, depth: int = 0) -> list[Svc]:
        if name not in self.services:
            raise ParseProblem(f"undefined service object or object-group {name}")
        if depth > 16:
            raise ParseProblem(f"object-group {name} nests too deeply")
        kind, items = self.services[name]
        out: list[Svc] = []
        for line, _text, w in items:
            try:
                out.extend(self._svc_item(kind, w, depth))
            except ParseProblem as exc:
                raise ParseProblem(f"{name} (line {line}): {exc}") from None
        return out

    def _svc_item(self, kind: str | None, w: list[str], depth: int) -> list[Svc]:
        if w[0] == "description":
            return []
        if w[0] == "group-object":
            return self.service(w[1], depth + 1)
        if w[0] == "port-object":  # ASA: ports of the group's protocol (tcp, udp or tcp-udp)
            ranges, _ = port_op(w[1], w[2:])
            return [Svc(p, ranges) for p in _protos(kind or "tcp-udp")]
        if w[0] in ("service-object", "service"):
            w = w[1:]
            if w[0] == "object":
                return self.service(w[1], depth + 1)
        return service_words(w)

    def protocol(self, name: str, depth: int = 0) -> list[int]:
        if name not in self.protocols:
            raise ParseProblem(f"undefined protocol object-group {name}")
        if depth > 16:
            raise ParseProblem(f"object-group {name} nests too deeply")
        out: list[int] = []
        for _line, _text, w in self.protocols[name]:
            if w[0] == "description":
                continue
            if w[0] == "group-object":
                out.extend(self.protocol(w[1], depth + 1))
            else:
                out.append(proto_number(w[-1]))
        return out

    def port_group(self, name: str) -> tuple[PortRange, ...]:
        if name not in self.ports:
            raise ParseProblem(f"undefined port object-group {name}")
        out: list[PortRange] = []
        for _line, _text, w in self.ports[name]:
            if w[0] == "description":
                continue
            ranges, _ = port_op(w[0], w[1:])
            out.extend(ranges)
        return tuple(out)

    def define(self, kind: str, name: str, svc_kind: str | None = None) -> list:
        """A new (or re-opened) group's member list."""
        if kind == "network":
            return self.networks.setdefault(name, [])
        if kind == "service":
            cur = self.services.get(name)
            if cur is None:
                self.services[name] = (svc_kind, [])
            return self.services[name][1]
        if kind == "protocol":
            return self.protocols.setdefault(name, [])
        return self.ports.setdefault(name, [])

    def check_all(self, acct: Accountant) -> set[str]:
        """Resolve every group once: a member that cannot be modelled is reported at its line. Returns bad names."""
        bad = set()
        for kind, table in (("network", self.networks), ("service", self.services), ("protocol", self.protocols),
                            ("port", self.ports)):
            for name, value in table.items():
                items = value[1] if kind == "service" else value
                for line, text, w in items:
                    try:
                        if kind == "network":
                            self._net_item(w, 0)
                        elif kind == "service":
                            self._svc_item(value[0], w, 0)
                        elif kind == "protocol" and w[0] != "description":
                            if w[0] == "group-object":
                                self.protocol(w[1])
                            else:
                                proto_number(w[-1])
                        elif kind == "port" and w[0] != "description":
                            port_op(w[0], w[1:])
                    except (ParseProblem, IndexError, ValueError) as exc:
                        acct.report(line, text, f"{kind} object-group {name}: {exc}")
                        bad.add(name)
        return bad


def _protos(kind: str) -> tuple[int, ...]:
    return {"tcp": (6,), "udp": (17,), "tcp-udp": (6, 17)}.get(kind, (6, 17))


def service_words(w: list[str]) -> list[Svc]:
    """`tcp [source op p] [destination op p]`, `tcp eq 80`, `tcp 65000`, `udp range 1 2`, `icmp echo`, `ip`, `esp`."""
    proto = w[0].lower()
    if proto == "ip":
        return [Svc()]
    protos = (6, 17) if proto == "tcp-udp" else (proto_number(proto),)
    if protos[0] in (1, 58) and len(w) > 1:
        return [Svc(p, icmp_typed=True) for p in protos]
    if protos[0] == 58:
        raise ParseProblem("ICMPv6 (only IPv4 is modelled)")
    i, dports, sports = 1, (), ()
    while i < len(w):
        side = "destination"
        if w[i] in ("source", "destination"):
            side, i = w[i], i + 1
        if i < len(w) and w[i] in PORT_OPS:
            ranges, n = port_op(w[i], w[i + 1:])
            i += 1 + n
        elif i < len(w) and w[i].isdigit():
            ranges, i = (PortRange(int(w[i]), int(w[i])),), i + 1
        else:
            raise ParseProblem(f"service {' '.join(w)}")
        if side == "source":
            sports = ranges
        else:
            dports = ranges
    return [Svc(p, dports, sports) for p in protos]


@dataclass
class Entry:
    """One parsed ACL entry: permit/deny and the matches (one per service), or the problem that stops it."""

    action: str
    matches: list[Match]
    problem: str | None = None
    inactive: bool = False


def acl_entry(words: list[str], g: Groups, bad_groups: set[str], standard: bool = False) -> Entry:
    """`permit|deny <proto> <src> [ports] <dst> [ports] [established] [log ...]` (or a standard `permit <src>`)."""
    if not words:
        return Entry("permit", [Match()], "empty ACL entry")
    action = words[0]
    w = words[1:]
    partial: dict = {}
    try:
        if action not in ("permit", "deny"):
            raise ParseProblem(f"ACL action {action}")
        if standard:
            src, i = _addr(w, 0, g, bad_groups)
            if src:
                partial["src"] = src
            _trailing(w[i:], {}, None)
            return Entry(action, [Match(**partial)])
        i = 0
        services: list[Svc] = [Svc()]
        proto_is_group = False
        if w[0] in ("object-group", "object"):
            name = w[1]
            if name in bad_groups:
                raise ParseProblem(f"object-group {name} has members that are not modelled")
            if name in g.protocols:
                services = [Svc(p) for p in g.protocol(name)]
            else:
                services, proto_is_group = g.service(name), True
            i = 2
        else:
            services = [Svc(None if w[0].lower() == "ip" else proto_number(w[0]))]
            i = 1
            if w[0].lower() in ("ipv6", "icmp6", "icmpv6"):
                raise ParseProblem("IPv6 entry (only IPv4 is modelled)")
        protos = {s.proto for s in services}
        if None not in protos:  # an entry reported later still only concerns these protocols
            partial["protocols"] = tuple(sorted(protos))
        src, i = _addr(w, i, g, bad_groups)
        if src:
            partial["src"] = src
        sports, i = _ports(w, i, g, services, bad_groups)
        dst, i = _addr(w, i, g, bad_groups)
        if dst:
            partial["dst"] = dst
        dports, i = _ports(w, i, g, services, bad_groups)
        if isinstance(dports, tuple) and dports:
            partial["dports"] = dports
        if (sports or dports) and proto_is_group:
            raise ParseProblem("ports after a service object-group")
        extra: dict = {}
        inactive = _trailing(w[i:], extra, services)
        out = []
        for s in services:
            f = dict(partial) | s.match_fields() | extra
            if isinstance(sports, list):
                f["sports"] = tuple(x for sv in sports for x in sv.dports)  # ASA: a service group as source ports
            elif sports:
                f["sports"] = sports
            if isinstance(dports, list):
                f["dports"] = tuple(x for sv in dports for x in sv.dports)
            elif dports:
                f["dports"] = dports
            if s.icmp_typed:
                raise ParseProblem("ICMP type match (the engine does not model ICMP types)")
            out.append(Match(**f))
        return Entry(action, out, inactive=inactive)
    except ParseProblem as exc:
        return Entry(action, [Match(**partial)], str(exc))
    except IndexError:
        return Entry(action, [Match(**partial)], "entry ends early")


def _addr(w: list[str], i: int, g: Groups, bad: set[str]) -> tuple[tuple, int]:
    t = w[i]
    if t in ("any", "any4"):
        return (), i + 1
    if t == "any6":
        raise ParseProblem("any6 (only IPv4 is modelled)")
    if t == "host":
        return (net(g.names.get(w[i + 1], w[i + 1])),), i + 2
    if t in ("object-group", "object", "addrgroup"):
        if w[i + 1] in bad:
            raise ParseProblem(f"object-group {w[i + 1]} has members that are not modelled")
        return g.network(w[i + 1]), i + 2
    if t == "interface":
        raise ParseProblem(f"interface {w[i + 1]} as an address (the firewall's own address)")
    if "/" in t:
        return (net(t),), i + 1
    addr = g.names.get(t, t)
    if i + 1 < len(w) and w[i + 1].count(".") == 3:
        return (net(addr, w[i + 1], wildcard=g.wildcard),), i + 2
    return (net(addr),), i + 1  # a bare address (standard ACLs, or `name`)


def _ports(w, i, g: Groups, services: list[Svc], bad: set[str]):
    if i >= len(w):
        return (), i
    if w[i] in PORT_OPS:
        if not all(s.proto in (6, 17, 132) for s in services):
            raise ParseProblem(f"port match on a protocol without ports: {' '.join(w)}")
        ranges, n = port_op(w[i], w[i + 1:])
        return ranges, i + 1 + n
    if w[i] == "portgroup":
        return g.port_group(w[i + 1]), i + 2
    if w[i] == "object-group" and w[i + 1] in g.services:  # ASA: a service group naming ports
        if w[i + 1] in bad:
            raise ParseProblem(f"object-group {w[i + 1]} has members that are not modelled")
        return g.service(w[i + 1]), i + 2
    return (), i


def _trailing(rest: list[str], extra: dict, services: list[Svc] | None) -> bool:
    inactive = False
    j = 0
    while j < len(rest):
        t = rest[j]
        if t == "established":
            extra["states"] = ("ESTABLISHED",)  # TCP with ACK/RST: the replies of established connections
        elif t in LOG_WORDS:
            j += 1
            while j < len(rest) and rest[j] not in ("established",) + TRAILING_PROBLEMS + ("inactive",):
                j += 1  # log level/interval/disable arguments
            continue
        elif t == "inactive":
            inactive = True
        elif t in ICMP_NAMES or (services and services[0].proto == 1 and t.isdigit()):
            raise ParseProblem(f"ICMP type {t} (the engine does not model ICMP types)")
        elif t in TRAILING_PROBLEMS:
            raise ParseProblem(f"'{t}' in an ACL entry")
        elif t == "line":
            j += 2
            continue
        else:
            raise ParseProblem(f"'{' '.join(rest[j:])}' in an ACL entry")
        j += 1
    return inactive


def entry_rules(rs: RuleSet, acct: Accountant, e: Entry, line: int, text: str, permit: str = "accept",
                deny: str = "drop") -> list[Rule]:
    origin = f"{rs.source}:{line}"
    if e.inactive:
        acct.ignore(line)
        return []
    if e.problem:
        u = acct.report(line, text, f"{e.problem} is not supported")
        return [Rule(m, "continue", origin, text=text, unsupported=u) for m in e.matches]
    acct.use(line)
    return [Rule(m, permit if e.action == "permit" else deny, origin, text=text) for m in e.matches]


def acl_kind(name: str) -> str | None:
    """Numbered ACLs: 1-99 and 1300-1999 standard, 100-199 and 2000-2699 extended."""
    if name.isdigit():
        n = int(name)
        if 1 <= n <= 99 or 1300 <= n <= 1999:
            return "standard"
        if 100 <= n <= 199 or 2000 <= n <= 2699:
            return "extended"
    return None

