"""Attack paths on top of reachability: a monotone MulVAL-style fixpoint, the k best paths and the smallest fix.

Facts: where the attacker starts (a zone: any address in it, or one host), which services each host offers (from its
kind, or a vulnerability the vulnerability module reports), and network reachability from the engine (per zone pair
and service class with BDDs: one forward and one return propagation per source zone, then the hosts of the pair are
read off the packet sets). Rules (monotone, so a fixpoint of at most |hosts| rounds):

    code(v)    <= code(u) and reach(u, v, remote management) and v offers a shell   (credentials assumed weak)
    code(v)    <= code(u) and reach(u, v, s) and vulnerable(v, s, code)
    control(v) <= code(u) and reach(u, v, industrial protocol) and v is a controller
    control(v) <= code(v)

The goal is control of a target (a line's assets, an asset or a zone). Paths: Yen's k shortest simple paths
(networkx) from the attacker to the goal. Fixes: the fewest hosts to harden (a minimum node cut, max-flow) and a
small set of firewall rules to remove: an upper bound from the rule-node construction (each edge's witness flow
needs all of its rules; rule nodes cost 1, hosts are uncuttable) pruned greedily, improved by exhaustive search when
the candidate rules are few, then *verified* by recomputing the graph without those rules (new witnesses found on
the way are added and the search repeats). Django-free: the plant side gives a `SiteModel` and an impact function.
"""

from __future__ import annotations

import ipaddress
import itertools
import time
from dataclasses import dataclass, field

import networkx as nx

from linewatch.segmentation.checks import Checker, Finding, HostSpec, SiteModel, _without
from linewatch.segmentation.engine.reach import Network

REMOTE_MANAGEMENT = ("tcp/22", "tcp/23", "tcp/445", "tcp/3389", "tcp/5900", "tcp/5938", "tcp/5985-5986")
# Industrial protocols whose requests write values, change modes or download programs.
INDUSTRIAL = ("tcp/102", "tcp/502", "tcp/2404", "tcp/4840", "tcp/20000", "tcp/44818", "udp/2222", "udp/34964",
              "udp/47808", "tcp/1911", "tcp/4911", "tcp/9600", "tcp/18245", "tcp/5007")
CONTROLLER_KINDS = ("plc", "safety_plc", "rtu", "io_module", "drive", "bms_controller", "robot", "hmi",
                    "scada_server", "door_controller", "access_controller", "gate_controller")
NO_SHELL_KINDS = ("plc", "safety_plc", "rtu", "io_module", "drive", "bms_controller", "robot", "sensor", "camera",
                  "badge_reader", "printer", "phone", "intercom", "ups", "door_controller", "access_controller",
                  "gate_controller", "alarm_panel", "guard_device", "handheld", "firewall", "router")
PREFERRED_TARGETS = ("plc", "safety_plc", "rtu")
HARDENED_TAGS = ("mfa", "hardened")  # remote management there needs more than a password
ATTACKER = "@attacker"
GOAL = "@goal"
EXACT_LIMIT = 12  # candidate rules up to which every smaller rule set is tried
MAX_ROUNDS = 6


@dataclass
class Edge:
    src: str
    dst: str
    privilege: str  # code | control
    via: str  # remote-management | industrial | vuln:<id>
    services: list[str]
    witness: dict | None = None
    hops: list[dict] = field(default_factory=list)
    rules: list[dict] = field(default_factory=list)  # the rules that let the witness through (file:line)
    conduits: list[str] = field(default_factory=list)  # declared conduits covering it

    @property
    def removable(self) -> frozenset[str]:
        """Rules whose removal stops this edge's witness flow (accepts and the jumps leading to them)."""
        return frozenset(r["rule"] for r in self.rules if r["action"] in ("accept", "jump", "goto"))

    def as_dict(self) -> dict:
        return {"from": self.src, "to": self.dst, "privilege": self.privilege, "via": self.via,
                "services": self.services, "witness": self.witness, "hops": self.hops, "rules": self.rules,
                "conduits": self.conduits}


@dataclass
class Source:
    """Where the attacker starts: a zone (any address in it) or one host."""

    label: str
    prefixes: list[str]
    zone: str | None
    host: str | None = None


@dataclass
class AttackGraph:
    graph: nx.DiGraph
    edges: dict[tuple[str, str], Edge]
    code: set[str]
    control: set[str]
    targets: list[str]

    @property
    def reached(self) -> list[str]:
        return [t for t in self.targets if t in self.control]


class AttackModel:
    """The fixpoint over one site model (and optional vulnerability facts)."""

    def __init__(self, model: SiteModel, vulns: dict[str, list[dict]] | None = None,
                 network: Network | None = None) -> None:
        self.model = model
        self.vulns = vulns or {}
        self.checker = Checker(model, network=network or model.network())
        self.sp = self.checker.sp
        self.sp.memo_matches = True  # fixes recompile the devices with rules removed
        self.hosts = {h.name: h for h in model.hosts if h.ips and h.kind not in ("firewall", "router")}
        self._zone_of = {n: h.zone or self.checker.zone_of_ip(h.ips[0]) for n, h in self.hosts.items()}
        self.remote = self.checker.services_set(REMOTE_MANAGEMENT)
        self.industrial = self.checker.services_set(INDUSTRIAL)
        self._dst = {n: self._addrs(h, "d") for n, h in self.hosts.items()}
        self._src = {n: self._addrs(h, "s") for n, h in self.hosts.items()}

    def _addrs(self, h: HostSpec, f: str):
        u = self.sp.false
        for ip in h.ips:
            u |= self.sp.value(f, int(ipaddress.IPv4Address(ip)))
        return u

    # --- facts ------------------------------------------------------------------------------------
    def usable(self, zone: str):
        """Flows an attacker in a zone can use: TCP (and others) need the reply back; UDP writes work one-way."""
        delivered, accepted = self.checker.reach(zone)
        return accepted | (delivered & self.sp.value("p", 17))

    def classes(self, v: str) -> list[tuple[str, str, object]]:
        """(privilege, via, service set) that an attacker reaching host v can gain there."""
        h = self.hosts[v]
        out = []
        if h.kind not in NO_SHELL_KINDS and not any(t in HARDENED_TAGS for t in h.tags):
            out.append(("code", "remote-management", self.remote))
        if h.kind in CONTROLLER_KINDS:
            out.append(("control", "industrial", self.industrial))
        by_vuln: dict[tuple[str, str], object] = {}  # one class per vulnerability, over all its services
        for vuln in self.vulns.get(h.key, []):
            try:
                svc = self.checker.services_set([vuln["service"]])
            except (KeyError, ValueError):
                continue
            key = ("code" if vuln.get("gives", "code") == "code" else "control", f"vuln:{vuln['id']}")
            by_vuln[key] = by_vuln[key] | svc if key in by_vuln else svc
        out.extend((privilege, via, svc) for (privilege, via), svc in by_vuln.items())
        return out

    def zone_sources(self, zone: str) -> dict[str, object]:
        """Per target host: per class index, the source addresses of the zone that can use it (packet sets)."""
        cache = getattr(self, "_zs", None)
        if cache is None:
            cache = self._zs = {}
        if zone in cache:
            return cache[zone]
        sp = self.sp
        usable = self.usable(zone)
        out: dict[str, list] = {}
        svc_all = self.remote | self.industrial
        for vs in self.vulns.values():
            for v in vs:
                try:
                    svc_all |= self.checker.services_set([v["service"]])
                except (KeyError, ValueError):
                    continue
        keep_s = [v for v in sp.bdd.vars if not v.startswith("s") or not v[1:].isdigit()]
        for z in self.model.zones:  # zone pair first: most pairs have nothing and are skipped with one AND
            if not self.model.zones[z].cidrs:
                continue
            pair = usable & self.checker.dst(z) & svc_all
            if pair == sp.false:
                continue
            for v, vz in self._zone_of.items():
                if vz != z:
                    continue
                qv = pair & self._dst[v]
                if qv == sp.false:
                    continue
                out[v] = [sp.bdd.exist(keep_s, qv & svc) for _priv, _via, svc in self.classes(v)]
        cache[zone] = out
        return out

    # --- the fixpoint ---------------------------------------------------------------------------
    def source(self, spec: str) -> Source:
        if spec in self.model.zones:
            return Source(f"zone {spec}", self.model.zones[spec].cidrs, spec)
        if spec in self.hosts:
            h = self.hosts[spec]
            return Source(spec, [f"{ip}/32" for ip in h.ips], self._zone_of[spec], spec)
        raise KeyError(spec)

    def solve(self, source: Source, targets: list[str], label_edges: bool = True) -> AttackGraph:
        """Everything the attacker gains from `source`, as a graph ATTACKER -> hosts -> GOAL."""
        sp = self.sp
        g = nx.DiGraph()
        g.add_node(ATTACKER)
        code: set[str] = set()
        control: set[str] = set()
        edges: dict[tuple[str, str], Edge] = {}
        start_src = sp.nets("s", source.prefixes)
        frontier: list[tuple[str, object, str | None]] = [(ATTACKER, start_src, source.zone)]
        if source.host:
            code.add(source.host)
        done: set[str] = set()
        while frontier:
            node, src_set, zone = frontier.pop()
            if node in done or zone is None:
                continue
            done.add(node)
            for v, per_class in self.zone_sources(zone).items():
                if v == source.host or v == node:
                    continue
                for (priv, via, _svc), srcs in zip(self.classes(v), per_class, strict=True):
                    if (srcs & src_set) == sp.false:
                        continue
                    key = (node, v)
                    old = edges.get(key)
                    if old is not None and (old.privilege == "code" or priv == "control"):
                        continue  # keep the strongest privilege per edge
                    edges[key] = Edge(node, v, priv, via, [])
                    g.add_edge(node, v, weight=1)
                    if priv == "code" and v not in code:
                        code.add(v)
                        frontier.append((v, self._src[v], self._zone_of[v]))
                    control.add(v)
        control |= code
        for t in targets:
            if t in control:  # among equal paths, show the one ending at the controller
                g.add_edge(t, GOAL, weight=0 if self.hosts.get(t) and self.hosts[t].kind in PREFERRED_TARGETS else 0.01)
        ag = AttackGraph(g, edges, code, control, targets)
        if label_edges and GOAL in g:  # only edges on some way to the goal matter for paths and cuts
            relevant = nx.ancestors(g, GOAL)
            for (u, v), e in edges.items():
                if u in relevant and v in relevant:
                    self.label(e, source)
        return ag

    def label(self, e: Edge, source: Source) -> None:
        """The edge's services, a witness flow and the rules that let it through (file:line)."""
        sp = self.sp
        if e.services:
            return
        src_set = sp.nets("s", source.prefixes) if e.src == ATTACKER else self._src[e.src]
        zone = source.zone if e.src == ATTACKER else self._zone_of[e.src]
        svc = next((s for p, via, s in self.classes(e.dst) if via == e.via and p == e.privilege), sp.true)
        s = self.usable(zone) & src_set & self._dst[e.dst] & svc
        e.services = self.checker.describe(s)
        f = Finding("ATTACK", "info", "")
        _d, accepted = self.checker.reach(zone)
        self.checker.witness(f, s, accepted)
        e.witness, e.hops, e.rules = f.witness, f.hops, f.rules
        to_zone = self._zone_of[e.dst]
        if zone and to_zone:
            decl, slugs = self.checker.declared(zone, to_zone)
            if (s & decl) != sp.false:
                e.conduits = slugs


# --- paths and fixes ------------------------------------------------------------------------------------------
PATHS_SCANNED = 400  # simple paths looked at to find k of different shapes
PATHS_SECONDS = 0.5  # and at most this long (Yen's algorithm on thousands of equal hosts)
PATHS_ALWAYS = 50  # paths always looked at, however long they take (answers must not depend on the load)


def k_paths(ag: AttackGraph, k: int, zone_of: dict[str, str | None] | None = None) -> list[list[str]]:
    """The k shortest attacker -> goal paths (Yen), one per shape: paths that only swap a host for another of
    the same zone and privilege (four equal DMZ servers, eight devices of one cell) count once."""
    if GOAL not in ag.graph or not nx.has_path(ag.graph, ATTACKER, GOAL):
        return []
    out, shapes = [], set()
    deadline = time.monotonic() + PATHS_SECONDS
    for i, p in enumerate(nx.shortest_simple_paths(ag.graph, ATTACKER, GOAL, weight="weight")):
        path = p[:-1]
        shape = tuple((zone_of or {}).get(n, n) for n in path[1:]) + tuple(
            ag.edges[(u, v)].privilege for u, v in zip(path, path[1:], strict=False))
        if shape not in shapes:
            shapes.add(shape)
            out.append(path)
        if len(out) >= k or i >= PATHS_SCANNED or (i >= PATHS_ALWAYS and time.monotonic() > deadline):
            break
    return out


def node_cut(ag: AttackGraph, source: Source) -> list[str]:
    """The fewest hosts whose hardening separates the attacker from every target (max-flow min cut on split
    nodes). A target costs a little more than any other host, so the cut sits in front of the targets when that is
    as small (hardening the jump host rather than the PLC behind it)."""
    if GOAL not in ag.graph or not nx.has_path(ag.graph, ATTACKER, GOAL):
        return []
    h = nx.DiGraph()
    big = float(len(ag.graph) + 10)
    extra = 1.0 / big
    targets = set(ag.targets)
    for n in ag.graph.nodes:
        cap = big if n in (ATTACKER, GOAL) else 1.0 + (extra if n in targets else 0.0)
        h.add_edge(("in", n), ("out", n), capacity=cap)
    for u, v in ag.graph.edges:
        h.add_edge(("out", u), ("in", v), capacity=big)
    _value, (reach, _rest) = nx.minimum_cut(h, ("out", ATTACKER), ("in", GOAL))
    return sorted(n for n in ag.graph.nodes
                  if n not in (ATTACKER, GOAL) and ("in", n) in reach and ("out", n) not in reach)


def _alive(ag: AttackGraph, witnesses: dict[tuple[str, str], list[frozenset]], removed: frozenset) -> bool:
    """Is the goal still reachable when `removed` rules are gone (each edge lives while one witness survives)?"""
    seen, stack = {ATTACKER}, [ATTACKER]
    while stack:
        u = stack.pop()
        for v in ag.graph.successors(u):
            if v in seen:
                continue
            ws = witnesses.get((u, v))
            if ws is not None and all(w & removed for w in ws):
                continue
            if v == GOAL:
                return True
            seen.add(v)
            stack.append(v)
    return False


def _rule_node_cut(ag: AttackGraph, witnesses, cost: dict[str, float]) -> set[str]:
    """Upper bound: hosts uncuttable, each witness a chain of its rules (rule nodes shared, cost per rule).

    Sharing rule nodes adds paths that do not exist, so any cut found is a valid cut of the real edges."""
    h = nx.DiGraph()
    big = 10 ** 9

    def node(n, c):
        h.add_edge(("in", n), ("out", n), capacity=c)

    for n in ag.graph.nodes:
        node(n, big)
    for (u, v) in ag.graph.edges:
        ws = witnesses.get((u, v))
        if not ws or any(not w for w in ws):  # no rule to remove decides it (e.g. no firewall on the way)
            h.add_edge(("out", u), ("in", v), capacity=big)
            continue
        for w in ws:
            prev = ("out", u)
            for r in sorted(w):
                node(("rule", r), cost.get(r, 1.0))
                h.add_edge(prev, ("in", ("rule", r)), capacity=big)
                prev = ("out", ("rule", r))
            h.add_edge(prev, ("in", v), capacity=big)
    value, (reach, _rest) = nx.minimum_cut(h, ("out", ATTACKER), ("in", GOAL))
    if value >= big:
        return set()
    return {n[1][1] for n in h.nodes if n[0] == "in" and isinstance(n[1], tuple) and n[1][0] == "rule"
            and n in reach and ("out", n[1]) not in reach}


def rule_cut(ag: AttackGraph, witnesses, cost: dict[str, float]) -> tuple[set[str], str]:
    """A small rule set that kills every path under the witness abstraction: upper bound, pruning, exact search."""
    if not _alive(ag, witnesses, frozenset()):
        return set(), "none needed"
    ub = _rule_node_cut(ag, witnesses, cost)
    if not ub or _alive(ag, witnesses, frozenset(ub)):
        return set(), "no rule set closes it (a path crosses no modelled firewall rule)"
    for r in sorted(ub, key=lambda r: -cost.get(r, 1.0)):  # greedy pruning: drop rules not needed
        if not _alive(ag, witnesses, frozenset(ub - {r})):
            ub.discard(r)
    method = "rule-node cut, pruned"
    on_paths = set()
    for (u, v), ws in witnesses.items():
        if u in ag.graph and v in ag.graph and nx.has_path(ag.graph, ATTACKER, u) and nx.has_path(ag.graph, v, GOAL):
            for w in ws:
                on_paths |= w
    cand = sorted(on_paths)
    if len(cand) <= EXACT_LIMIT:
        best = (len(ub), sum(cost.get(r, 1.0) for r in ub))
        for size in range(1, len(ub) + 1):
            for combo in itertools.combinations(cand, size):
                c = (size, sum(cost.get(r, 1.0) for r in combo))
                if c < best and not _alive(ag, witnesses, frozenset(combo)):
                    ub, best = set(combo), c
            if len(ub) <= size:
                break
        method = f"exact over {len(cand)} candidate rules"
    return ub, method


@dataclass
class Result:
    source: Source
    targets: list[str]
    graph: AttackGraph
    paths: list[list[str]]
    hosts_cut: list[str]
    rules_cut: list[str]
    rules_method: str
    rules_verified: bool
    rounds: int
    model: AttackModel | None = None
    broken: dict[str, list[str]] = field(default_factory=dict)  # chosen rule -> declared conduits it would break

    def edge(self, u: str, v: str) -> Edge:
        return self.graph.edges[(u, v)]


def analyse(model: SiteModel, source_spec: str, targets: list[str], k: int = 3,
            vulns: dict[str, list[dict]] | None = None) -> Result:
    """Paths and fixes from a zone or host to target hosts."""
    am = AttackModel(model, vulns)
    source = am.source(source_spec)
    ag = am.solve(source, targets)
    paths = k_paths(ag, k, am._zone_of)
    hosts = node_cut(ag, source) if paths else []
    witnesses: dict[tuple[str, str], list[frozenset]] = {key: [e.removable] for key, e in ag.edges.items()}
    broken: dict[str, list[str]] = {}
    cost = _rule_costs(am, ag, broken)
    removed: set[str] = set()
    method, verified, rounds = "none needed", not paths, 0
    while paths and rounds < MAX_ROUNDS:
        rounds += 1
        removed, method = rule_cut(ag, witnesses, cost)
        if not removed:
            break
        devices = [device_without(d, removed) for d in model.devices]
        after_model = SiteModel(model.site, model.zones, model.conduits, model.hosts, devices, [], model.internet)
        after = AttackModel(after_model, vulns, Network(devices, am.sp))
        ag2 = after.solve(source, targets)
        if not ag2.reached:
            verified = True
            break
        for key, e in ag2.edges.items():  # a counterexample: the same hop by other rules
            if not e.services:  # on no way to the goal
                continue
            if key in witnesses and e.removable not in witnesses[key]:
                witnesses[key].append(e.removable)
            elif key not in witnesses:
                witnesses[key] = [e.removable]
                ag.graph.add_edge(*key, weight=1)
                ag.edges[key] = e
        for t in ag2.reached:
            ag.graph.add_edge(t, GOAL, weight=0)
        cost |= _rule_costs(am, ag2, broken)
    exact = {r: conduits_broken(am.checker, [r]) for r in removed}  # recomputed for the chosen rules only
    return Result(source, targets, ag, paths, hosts, sorted(removed), method, verified, rounds, am, exact)


def device_without(d, origins):
    """A copy of a device without the rules at these origins (file:line)."""
    for o in origins:
        d = _without(d, o)
    return d


def _rule_costs(am: AttackModel, ag: AttackGraph, broken: dict[str, list[str]]) -> dict[str, float]:
    """1 per rule, plus 0.1 per declared conduit it would break (prefer fixes that break nothing)."""
    cost: dict[str, float] = {}
    for e in ag.edges.values():
        if not e.services:  # not labelled: on no way to the goal
            continue
        for r in e.removable:
            if r not in broken:
                broken[r] = conduits_touched(am.checker, r)
            cost[r] = 1.0 + 0.1 * len(broken[r])
    return cost


def conduits_touched(checker: Checker, origin: str) -> list[str]:
    """Declared conduits whose packets the rule matches (a jump: and some accept of its chain does), interfaces
    aside: a cheap stand-in for `conduits_broken` while searching (which recompiles the device)."""
    sp = checker.sp
    found = next(((d, rs, r) for d in checker.model.devices for rs in d.rulesets for c in rs.chains.values()
                  for r in c.rules if r.origin == origin), None)
    if found is None:
        return []
    d, rs, rule = found
    idx = checker.net.iface_index[d.name]
    m = sp.forget_ifaces(sp.match(rule.match, idx))
    if rule.action in ("jump", "goto") and rule.target in rs.chains:
        inner = sp.false
        for r in rs.chains[rule.target].rules:
            if r.action in ("accept", "jump", "goto"):
                inner |= sp.forget_ifaces(sp.match(r.match, idx))
        m &= inner
    out = []
    for c in checker.model.conduits:
        dirs = [(c.from_zone, c.to_zone)] + ([(c.to_zone, c.from_zone)] if c.direction == "both" else [])
        for a, b in dirs:
            if a not in checker.model.zones or b not in checker.model.zones:
                continue
            s = (sp.nets("s", checker.model.zones[a].cidrs) & sp.nets("d", checker.model.zones[b].cidrs)
                 & checker.services_set(c.services))
            if (s & m) != sp.false:
                out.append(c.slug)
                break
    return out


def conduits_broken(checker: Checker, origins) -> list[str]:
    """Declared conduits that would lose traffic they have today if these rules were removed (recomputed)."""
    model = checker.model
    devices = [device_without(d, origins) for d in model.devices]
    after = Checker(SiteModel(model.site, model.zones, model.conduits, model.hosts, devices, [], model.internet),
                    network=Network(devices, checker.sp))
    out = []
    for c in model.conduits:
        dirs = [(c.from_zone, c.to_zone)] + ([(c.to_zone, c.from_zone)] if c.direction == "both" else [])
        for a, b in dirs:
            if a not in model.zones or b not in model.zones or not model.zones[a].cidrs:
                continue
            svc = checker.services_set(c.services)
            before = checker.reach(a)[0] & checker.dst(b) & svc
            if before != checker.sp.false and (after.reach(a)[0] & after.dst(b) & svc) != before:
                out.append(c.slug)
                break
    return out
