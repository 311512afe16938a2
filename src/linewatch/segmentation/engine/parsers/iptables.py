"""`iptables-save` (and `iptables` argument lists) into the vendor-neutral model.

The filter table's FORWARD/INPUT/OUTPUT chains and user chains (jump, goto, RETURN) are modelled, with
-s/-d/-p/-i/-o, `!` negation, --sport/--dport, multiport, conntrack/state and REJECT --reject-with. The nat table's
PREROUTING (DNAT --to-destination a[-b][:p[-q]], REDIRECT --to-ports) and POSTROUTING (SNAT --to-source, MASQUERADE
--to-ports, --random/--random-fully/--persistent) chains, ACCEPT/RETURN (no translation) and jumps into user chains
become the model's NAT rules (natflat.py); NETMAP and other targets are reported for the packets they match, and nat
OUTPUT/INPUT rules (locally generated or delivered packets) are reported. Rules in other tables (mangle, raw) change
or drop packets we do not model: each is reported, and marks the device's answers as insufficient information.
Anything else a rule uses is reported with its line.
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
from linewatch.segmentation.engine.parsers import natflat

BUILTIN = {"filter": {"INPUT": "input", "FORWARD": "forward", "OUTPUT": "output"}}
OTHER_TABLE_CHAINS = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}
TARGETS = {"ACCEPT": "accept", "DROP": "drop", "REJECT": "reject", "RETURN": "return"}
NONTERMINAL_TARGETS = {"LOG", "NFLOG", "ULOG"}
COUNTERS = re.compile(r"^\[\d+:\d+\]\s*")
STATE_NAMES = {"NEW", "ESTABLISHED", "RELATED", "INVALID"}
NAT_STAGES = {"PREROUTING": "pre", "POSTROUTING": "post"}
NAT_TARGET_OPTIONS = {"--to-destination": 1, "--to-source": 1, "--to-ports": 1, "--to": 1, "--random": 0,
                      "--random-fully": 0, "--persistent": 0}
EPHEMERAL_ALL = PortRange(1024, 65535)  # where --random maps source ports of 1024 and above (the kernel's rule)


class _Unsupported(Exception):
    pass


def parse(text: str, source: str) -> RuleSet:
    rs = RuleSet(source=source)
    table = "filter"
    policies: dict[tuple[str, str], tuple[str, int]] = {}
    nat: dict[str, list[natflat.Entry]] = {}
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
            _declare(rs, table, parts[0], parts[1], lineno, line, policies, nat)
            continue
        try:
            args = shlex.split(line)
        except ValueError as exc:
            raise InputError(source, str(lineno), f"cannot split rule: {exc}") from None
        _command(rs, table, args, lineno, line, policies, nat)
    for chain, stage in NAT_STAGES.items():
        rs.nat.extend(natflat.flatten(rs, nat, chain, stage))
    for chain in ("OUTPUT", "INPUT"):
        for e in nat.get(chain, []):
            if e.kind != "continue":
                rs.unsupported.append(Unsupported(source, e.line, e.text, f"nat {chain} (translation of locally "
                                                  f"{'generated' if chain == 'OUTPUT' else 'delivered'} packets) "
                                                  "is not modelled"))
    for (tbl, name), (policy, lineno) in policies.items():
        if tbl != "filter" and policy not in ("ACCEPT", "-"):  # "-": a user chain, which has no policy
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


def _declare(rs, table, name, policy, lineno, line, policies, nat=None) -> None:
    if table == "nat" and nat is not None:
        nat.setdefault(name, [])
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


def _command(rs: RuleSet, table: str, args: list[str], lineno: int, line: str, policies, nat) -> None:
    cmd = args[0]
    if cmd in ("-t", "--table") and len(args) > 2:
        table, args = args[1], args[2:]
        cmd = args[0]
    if cmd in ("-N", "--new-chain") and len(args) == 2:
        if table == "filter":
            _chain(rs, args[1]).origin = _origin(rs, lineno)
        elif table == "nat":
            nat.setdefault(args[1], [])
        return
    if cmd in ("-P", "--policy") and len(args) == 3:
        _declare(rs, table, args[1], args[2], lineno, line, policies, nat)
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
    if table == "nat":
        entries = nat.setdefault(name, [])
        entries.insert(len(entries) if insert_at is None else insert_at, _nat_entry(rs, rest, lineno, line, nat))
        return
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


def _nat_entry(rs: RuleSet, args: list[str], lineno: int, line: str, chains: dict) -> natflat.Entry:
    """A nat-table rule: its match (as a filter rule's) and its target with the target's own options."""
    origin = _origin(rs, lineno)
    match_args: list[str] = []
    target, goto, opts = None, False, {}
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-j", "--jump", "-g", "--goto") and i + 1 < len(args):
            target, goto = args[i + 1], a in ("-g", "--goto")
            i += 2
            continue
        if target is not None and a in NAT_TARGET_OPTIONS:
            n = NAT_TARGET_OPTIONS[a]
            if n and i + 1 >= len(args):
                raise InputError(rs.source, str(lineno), f"option {a} needs a value")
            if a in opts and n:
                opts["repeated"] = a
            opts[a] = args[i + 1] if n else True
            i += 1 + n
            continue
        match_args.append(a)
        i += 1
    rule = _rule(rs, match_args, lineno, line)  # reports what the match uses that is not understood
    base = {"match": rule.match, "origin": origin, "line": lineno, "text": line}
    if rule.unsupported is not None:
        return natflat.Entry(kind="none", unsupported=rule.unsupported, **base)

    def unsupported(why: str) -> natflat.Entry:
        u = Unsupported(rs.source, lineno, line, why)
        rs.unsupported.append(u)
        return natflat.Entry(kind="none", unsupported=u, **base)

    if target is None or target in NONTERMINAL_TARGETS:
        return natflat.Entry(kind="continue", **base)
    if goto:
        return natflat.Entry(kind="goto", target=target, **base)
    if target == "ACCEPT":
        return natflat.Entry(kind="none", **base)
    if target == "RETURN":
        return natflat.Entry(kind="return", **base)
    if "repeated" in opts:
        return unsupported(f"{opts['repeated']} given twice (several pools) is not modelled")
    action = {"DNAT": "dnat", "SNAT": "snat", "MASQUERADE": "masquerade", "REDIRECT": "redirect"}.get(target)
    if action is None:
        if target.isupper() and target not in chains:
            return unsupported(f"nat target {target} is not modelled")
        return natflat.Entry(kind="jump", target=target, **base)
    to_opt = "--to-destination" if action == "dnat" else "--to-source"
    spec = opts.get(to_opt) if action in ("dnat", "snat") else None
    if action in ("dnat", "snat") and not isinstance(spec, str):
        raise InputError(rs.source, str(lineno), f"{target} needs {to_opt}")
    try:
        pool: tuple = ()
        ports = None
        if isinstance(spec, str):
            addr, port = natflat.split_target(spec)
            pool = natflat.addresses(addr) if addr else ()
            ports = natflat.port_range(port) if port else None
        elif isinstance(opts.get("--to-ports"), str):
            ports = natflat.port_range(opts["--to-ports"])
    except ValueError as exc:
        if ":" in str(spec).strip("[]") and str(spec).count(":") > 1:
            return unsupported(f"IPv6 translation {spec} is not modelled")
        what = spec or opts.get("--to-ports")
        raise InputError(rs.source, str(lineno), f"bad {target} target {what!r}: {exc}") from None
    if ports is not None and not _has_ports(rule.match):
        raise InputError(rs.source, str(lineno), f"{target} with ports needs -p tcp, udp or sctp")
    if (opts.get("--random") or opts.get("--random-fully")) and action in ("snat", "masquerade") and ports is None:
        ports = EPHEMERAL_ALL
    return natflat.Entry(kind="nat", action=action, to_addresses=pool, to_ports=ports, **base)


def _has_ports(m: Match) -> bool:
    return bool(m.protocols) and not m.protocols_negated and all(p in (6, 17, 132) for p in m.protocols)
