"""`iptables-save` (and `iptables` argument lists) into the vendor-neutral model.

The filter table's FORWARD/INPUT/OUTPUT chains and user chains (jump, goto, RETURN) are modelled, with
-s/-d/-p/-i/-o, `!` negation, --sport/--dport, multiport, conntrack/state and REJECT --reject-with. Rules in other
tables (nat, mangle, raw) change or drop packets we do not model: each is reported, and marks the device's answers as
insufficient information. Anything else a rule uses is reported with its line.
"""

from __future__ import annotations

import ipaddress
import re
import shlex

from linewatch.errors import InputError
from linewatch.segmentation.engine.model import (
    PROTOCOLS,
    Chain,
    Match,
    PortRange,
    Rule,
    RuleSet,
    Unsupported,
)

BUILTIN = {"filter": {"INPUT": "input", "FORWARD": "forward", "OUTPUT": "output"}}
OTHER_TABLE_CHAINS = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}
TARGETS = {"ACCEPT": "accept", "DROP": "drop", "REJECT": "reject", "RETURN": "return"}
NONTERMINAL_TARGETS = {"LOG", "NFLOG", "ULOG"}
COUNTERS = re.compile(r"^\[\d+:\d+\]\s*")
STATE_NAMES = {"NEW", "ESTABLISHED", "RELATED", "INVALID"}


class _Unsupported(Exception):
    pass


def parse(text: str, source: str) -> RuleSet:
    rs = RuleSet(source=source)
    table = "filter"
    policies: dict[tuple[str, str], tuple[str, int]] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = COUNTERS.sub("", raw.strip())
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            table = line[1:].strip()
            continue
        if line == "COMMIT":
            table = "filter"
            continue
        if line.startswith(":"):
            parts = line[1:].split()
            if len(parts) < 2:
                raise InputError(source, str(lineno), f"chain declaration needs a name and a policy: {line!r}")
            _declare(rs, table, parts[0], parts[1], lineno, line, policies)
            continue
        try:
            args = shlex.split(line)
        except ValueError as exc:
            raise InputError(source, str(lineno), f"cannot split rule: {exc}") from None
        _command(rs, table, args, lineno, line, policies)
    for (tbl, name), (policy, lineno) in policies.items():
        if tbl != "filter" and policy != "ACCEPT":
            u = Unsupported(source, lineno, f":{name} {policy}", f"{tbl} table policy {policy} is not modelled")
            rs.unsupported.append(u)
            rs.blocking.append(u)
    return rs


def _origin(rs: RuleSet, lineno: int) -> str:
    return f"{rs.source}:{lineno}"


def _chain(rs: RuleSet, name: str) -> Chain:
    if name not in rs.chains:
        hook = BUILTIN["filter"].get(name)
        rs.chains[name] = Chain(name=name, hook=hook, policy="accept" if hook else None)
    return rs.chains[name]


def _declare(rs, table, name, policy, lineno, line, policies) -> None:
    if table != "filter":
        policies[(table, name)] = (policy, lineno)
        return
    c = _chain(rs, name)
    c.origin = _origin(rs, lineno)
    if policy != "-":
        if policy not in ("ACCEPT", "DROP"):
            raise InputError(rs.source, str(lineno), f"chain policy must be ACCEPT or DROP, not {policy!r}")
        if c.hook is None:
            rs.unsupported.append(Unsupported(rs.source, lineno, line, "a policy on a user chain"))
            return
        c.policy = policy.lower()


def _command(rs: RuleSet, table: str, args: list[str], lineno: int, line: str, policies) -> None:
    cmd = args[0]
    if cmd in ("-t", "--table") and len(args) > 2:
        table, args = args[1], args[2:]
        cmd = args[0]
    if cmd in ("-N", "--new-chain") and len(args) == 2:
        if table == "filter":
            _chain(rs, args[1]).origin = _origin(rs, lineno)
        return
    if cmd in ("-P", "--policy") and len(args) == 3:
        _declare(rs, table, args[1], args[2], lineno, line, policies)
        return
    if cmd not in ("-A", "--append", "-I", "--insert") or len(args) < 2:
        rs.unsupported.append(Unsupported(rs.source, lineno, line, f"command {cmd} is not supported"))
        return
    name, rest = args[1], args[2:]
    insert_at = None
    if cmd in ("-I", "--insert"):
        insert_at = 0
        if rest and rest[0].isdigit():
            insert_at, rest = int(rest[0]) - 1, rest[1:]
    if table != "filter":
        u = Unsupported(rs.source, lineno, line, f"rules in the {table} table are not modelled")
        rs.unsupported.append(u)
        rs.blocking.append(u)
        return
    rule = _rule(rs, rest, lineno, line)
    chain = _chain(rs, name)
    if insert_at is None:
        chain.rules.append(rule)
    else:
        chain.rules.insert(insert_at, rule)


def _nets(rs, value: str, lineno: int) -> tuple[ipaddress.IPv4Network, ...]:
    out = []
    for v in value.split(","):
        try:
            out.append(ipaddress.IPv4Network(v, strict=False))
        except ValueError:
            try:
                ipaddress.IPv6Network(v, strict=False)
            except ValueError:
                raise InputError(rs.source, str(lineno), f"not an IPv4 address or prefix: {v!r}") from None
            raise _Unsupported(f"IPv6 address {v}") from None
    return tuple(out)


def _ports(rs, value: str, lineno: int) -> tuple[PortRange, ...]:
    out = []
    for v in value.split(","):
        lo, _, hi = v.partition(":")
        try:
            out.append(PortRange(int(lo or 0), int(hi or (65535 if ":" in v else lo))))
        except ValueError:
            raise InputError(rs.source, str(lineno), f"not a port or port range: {v!r}") from None
    return tuple(out)


def _rule(rs: RuleSet, args: list[str], lineno: int, line: str) -> Rule:
    origin = _origin(rs, lineno)
    f: dict = {}
    action, target, reject_with = "continue", None, None
    proto_name = None
    modules: set[str] = set()
    problems: list[str] = []
    i, neg = 0, False

    def value() -> str:
        nonlocal i
        if i + 1 >= len(args):
            raise InputError(rs.source, str(lineno), f"option {args[i]} needs a value")
        i += 1
        return args[i]

    try:
        while i < len(args):
            a = args[i]
            if a == "!":
                neg = True
                i += 1
                continue
            if a in ("-s", "--source", "--src"):
                f["src"], f["src_negated"] = _nets(rs, value(), lineno), neg
            elif a in ("-d", "--destination", "--dst"):
                f["dst"], f["dst_negated"] = _nets(rs, value(), lineno), neg
            elif a in ("-p", "--protocol"):
                v = value().lower()
                proto_name = v
                if v != "all":
                    if v.isdigit():
                        f["protocols"] = (int(v),)
                    elif v in PROTOCOLS:
                        f["protocols"] = (PROTOCOLS[v],)
                    else:
                        raise _Unsupported(f"protocol {v}")
                    f["protocols_negated"] = neg
            elif a in ("-i", "--in-interface"):
                f["in_ifaces"], f["in_negated"] = (value(),), neg
            elif a in ("-o", "--out-interface"):
                f["out_ifaces"], f["out_negated"] = (value(),), neg
            elif a in ("-m", "--match"):
                m = value()
                if m in ("tcp", "udp") and proto_name != m:
                    raise _Unsupported(f"-m {m} without -p {m}")
                if m not in ("tcp", "udp", "multiport", "conntrack", "state", "comment"):
                    raise _Unsupported(f"match module {m}")
                modules.add(m)
            elif a in ("--dport", "--destination-port", "--dports", "--destination-ports"):
                _need_ports(a, proto_name, modules)
                f["dports"], f["dports_negated"] = _ports(rs, value(), lineno), neg
            elif a in ("--sport", "--source-port", "--sports", "--source-ports"):
                _need_ports(a, proto_name, modules)
                f["sports"], f["sports_negated"] = _ports(rs, value(), lineno), neg
            elif a in ("--ctstate", "--state"):
                states = tuple(s.upper() for s in value().split(","))
                bad = [s for s in states if s not in STATE_NAMES]
                if bad:
                    raise _Unsupported(f"connection state {','.join(bad)}")
                f["states"], f["states_negated"] = states, neg
            elif a == "--comment":
                value()
            elif a in ("-j", "--jump", "-g", "--goto"):
                t = value()
                if a in ("-g", "--goto"):
                    action, target = "goto", t
                elif t in TARGETS:
                    action = TARGETS[t]
                elif t in NONTERMINAL_TARGETS:
                    action = "continue"
                    # LOG options follow; they do not change the verdict
                    while i + 1 < len(args) and args[i + 1].startswith("--log"):
                        i += 2
                elif t.isupper() and t not in rs.chains:
                    raise _Unsupported(f"target {t}")
                else:
                    action, target = "jump", t
            elif a == "--reject-with":
                reject_with = value()
            else:
                raise _Unsupported(f"option {a}")
            neg = False
            i += 1
    except _Unsupported as exc:
        problems.append(str(exc))
    if problems:
        # keep what was understood before the problem: it bounds which packets are uncertain
        u = Unsupported(rs.source, lineno, line, problems[0] + " is not supported")
        rs.unsupported.append(u)
        return Rule(Match(**f), "continue", origin, text=line, unsupported=u)
    if action == "reject" and reject_with is None:
        reject_with = "icmp-port-unreachable"
    return Rule(Match(**f), action, origin, target=target, reject_with=reject_with, text=line)


def _need_ports(opt: str, proto_name: str | None, modules: set[str]) -> None:
    if proto_name not in ("tcp", "udp", "sctp", "6", "17", "132"):
        raise _Unsupported(f"{opt} without -p tcp/udp")
