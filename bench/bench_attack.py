"""Benchmark: attack paths and the smallest fix on a synthetic plant behind one large first-match firewall.

    python bench/bench_attack.py [--cells 20] [--office 2000] [--noise 5000] [--k 5]

Plant: an office zone (Purdue 4, `--office` workstations), a DMZ with servers and one jump host, an operations zone
(SCADA, engineering workstations), and `--cells` control cells (Purdue 1, one line each: a PLC, drives, an HMI, I/O).
One firewall: conntrack ESTABLISHED accept, one rule block per declared conduit (office -> DMZ tcp/443,3389; jump
host -> ops tcp/3389; ops -> each cell tcp/102,44818), a planted hole (office -> cell 3 tcp/44818 through a user
chain), and `--noise` random rules between unmodelled prefixes (they cost compilation, not reach); policy DROP.

Measured: build (parse-free: the rule list is made in memory; BDD compilation), the attack-graph fixpoint from the
office to line 3 (zone-pair BDD reach, hosts read off the sets), k paths, the minimum node cut, and the whole
`analyse` (paths, node cut, rule cut with verification). Baseline: deciding the same host-to-host facts pair by
pair with the naive first-match evaluator (one packet per pair and service class), timed on a sample and
extrapolated to every pair the fixpoint considers.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from linewatch.segmentation.checks import ConduitSpec, HostSpec, SiteModel, ZoneSpec  # noqa: E402
from linewatch.segmentation.engine import attack  # noqa: E402
from linewatch.segmentation.engine.bdd import BACKEND  # noqa: E402
from linewatch.segmentation.engine.model import (  # noqa: E402
    Chain,
    Device,
    Interface,
    Match,
    Packet,
    PortRange,
    Route,
    Rule,
    RuleSet,
    evaluate,
)
from linewatch.segmentation.engine.reach import Network  # noqa: E402


def net(text: str) -> tuple[ipaddress.IPv4Network, ...]:
    return (ipaddress.IPv4Network(text),)


def ports(*ps: int) -> tuple[PortRange, ...]:
    return tuple(PortRange(p, p) for p in ps)


def build_site(cells: int, office: int, noise: int, seed: int = 7) -> SiteModel:
    rng = random.Random(seed)
    zones = {"office": ZoneSpec("office", "4", ["10.1.0.0/16"]), "dmz": ZoneSpec("dmz", "3.5", ["10.2.0.0/24"]),
             "ops": ZoneSpec("ops", "3", ["10.3.0.0/24"])}
    ifaces = {"eth-office": "10.1.0.1/16", "eth-dmz": "10.2.0.1/24", "eth-ops": "10.3.0.1/24",
              "eth-wan": "192.0.2.1/30"}
    conduits = [ConduitSpec("office-to-dmz", "office", "dmz", ["tcp/443", "tcp/3389"]),
                ConduitSpec("dmz-to-ops", "dmz", "ops", ["tcp/3389"])]
    hosts = [HostSpec(f"o{i}", f"ws-{i}", "office", [str(ipaddress.IPv4Address("10.1.0.10") + i)], "workstation")
             for i in range(office)]
    hosts += [HostSpec(f"d{i}", f"dmz-{i}", "dmz", [f"10.2.0.{10 + i}"], "server") for i in range(9)]
    hosts.append(HostSpec("jump", "jump-1", "dmz", ["10.2.0.5"], "jump_host", ["remote-access"]))
    hosts += [HostSpec(f"s{i}", f"ops-{i}", "ops", [f"10.3.0.{10 + i}"],
                       "engineering_workstation" if i < 5 else "scada_server") for i in range(40)]
    rules = [Rule(Match(states=("ESTABLISHED", "RELATED")), "accept", "fw.rules:1")]
    n = 2

    def add(match: Match, action: str = "accept", target: str | None = None) -> None:
        nonlocal n
        rules.append(Rule(match, action, f"fw.rules:{n}", target))
        n += 1

    add(Match(src=net("10.1.0.0/16"), dst=net("10.2.0.0/24"), protocols=(6,), dports=ports(443, 3389)))
    add(Match(src=net("10.2.0.5/32"), dst=net("10.3.0.0/24"), protocols=(6,), dports=ports(3389)))
    for c in range(cells):
        cidr = f"10.10.{c}.0/24"
        zones[f"cell-{c}"] = ZoneSpec(f"cell-{c}", "1", [cidr])
        ifaces[f"eth-c{c}"] = f"10.10.{c}.1/24"
        conduits.append(ConduitSpec(f"ops-to-cell-{c}", "ops", f"cell-{c}", ["tcp/102", "tcp/44818"]))
        add(Match(src=net("10.3.0.0/24"), dst=net(cidr), protocols=(6,), dports=ports(102, 44818)))
        kinds = ["plc", "hmi", "drive", "drive", "io_module", "io_module", "sensor"]
        for j, kind in enumerate(kinds):
            hosts.append(HostSpec(f"c{c}-{j}", f"cell{c}-{kind}-{j}", f"cell-{c}", [f"10.10.{c}.{10 + j}"], kind,
                                  [], [f"Line {c}"]))
    add(Match(src=net("10.1.0.0/16"), dst=net("10.10.3.0/24")), "jump", "PILOT")
    for _ in range(noise):  # rules between unmodelled prefixes: compilation cost only
        src = ipaddress.IPv4Network((int(ipaddress.IPv4Address("10.200.0.0")) | rng.getrandbits(16),
                                     rng.randint(20, 28)), strict=False)
        dst = ipaddress.IPv4Network((int(ipaddress.IPv4Address("10.201.0.0")) | rng.getrandbits(16),
                                     rng.randint(20, 28)), strict=False)
        add(Match(src=(src,), dst=(dst,), protocols=(6,), dports=ports(rng.choice([22, 80, 443, 502, 3389]))),
            rng.choice(["accept", "drop"]))
    pilot = [Rule(Match(protocols=(6,), dports=ports(44818)), "accept", f"fw.rules:{n}")]
    rs = RuleSet("fw.rules", {"FORWARD": Chain("FORWARD", rules, "forward", "drop", 0, "fw.rules:0"),
                              "PILOT": Chain("PILOT", pilot)})
    fw = Device("fw", "firewall", {k: Interface(k, (ipaddress.IPv4Interface(v),)) for k, v in ifaces.items()},
                [Route(ipaddress.IPv4Network("0.0.0.0/0"), None, ipaddress.IPv4Address("192.0.2.2"))], [rs])
    return SiteModel("bench", zones, conduits, hosts, [fw])


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=20)
    ap.add_argument("--office", type=int, default=2000)
    ap.add_argument("--noise", type=int, default=5000)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--sample", type=int, default=300)
    args = ap.parse_args()
    model, t_site = timed(lambda: build_site(args.cells, args.office, args.noise))
    rules = sum(len(c.rules) for c in model.devices[0].rulesets[0].chains.values())
    print(f"backend {BACKEND}; {len(model.hosts)} hosts, {len(model.zones)} zones, {rules} rules "
          f"(site built in {t_site:.2f} s)")
    network = Network(model.devices)
    _, t_build = timed(network.compile)
    print(f"build (BDD compilation of the firewall)     {t_build:6.2f} s")
    am = attack.AttackModel(model, network=network)
    targets = [h.name for h in model.hosts if "Line 3" in h.lines]
    source = am.source("office")
    ag, t_solve = timed(lambda: am.solve(source, targets))
    print(f"fixpoint office -> line 3 (+ edge labels)   {t_solve:6.2f} s  ({len(ag.edges)} edges, "
          f"{len(ag.code)} hosts with code, {len(ag.control)} controlled)")
    paths, t_paths = timed(lambda: attack.k_paths(ag, args.k, am._zone_of))
    print(f"k={args.k} paths of different shapes            {t_paths * 1000:6.1f} ms ({len(paths)} found; "
          f"best: {' -> '.join(paths[0][1:]) if paths else '-'})")
    cut, t_cut = timed(lambda: attack.node_cut(ag, source))
    print(f"minimum node cut                            {t_cut * 1000:6.1f} ms ({len(cut)} hosts)")
    result, t_all = timed(lambda: attack.analyse(model, "office", targets, args.k))
    print(f"analyse: paths + node cut + rule cut        {t_all:6.2f} s  (rules {len(result.rules_cut)}, "
          f"{result.rules_method}, verified {result.rules_verified}, {result.rounds} round(s))")

    # baseline: pair by pair, one packet per (source host, target host, service class)
    fw = model.devices[0]
    hosts = [h for h in model.hosts if h.ips]
    rng = random.Random(3)
    classes = [(6, 3389), (6, 44818)]
    sample = [(rng.choice(hosts), rng.choice(hosts), rng.choice(classes)) for _ in range(args.sample)]
    times = []
    for a, b, (proto, port) in sample:
        p = Packet(int(ipaddress.IPv4Address(a.ips[0])), int(ipaddress.IPv4Address(b.ips[0])), proto, 40000, port)
        t = time.perf_counter()
        evaluate(fw, "forward", Packet(p.src, p.dst, p.proto, p.sport, p.dport, "NEW", "eth-office", "eth-dmz"),
                 indexed=False)
        evaluate(fw, "forward", Packet(p.dst, p.src, p.proto, p.dport, p.sport, "ESTABLISHED", "eth-dmz",
                                       "eth-office"), indexed=False)
        times.append(time.perf_counter() - t)
    per = statistics.median(times)
    pairs = len(hosts) * len(hosts) * len(classes)
    print(f"baseline: naive scan per pair and class      {per * 1000:6.2f} ms; all {pairs:,} pairs x classes "
          f"extrapolated {per * pairs / 3600:,.1f} h vs fixpoint {t_solve:.2f} s "
          f"(ratio {per * pairs / t_solve:,.0f}x)")


if __name__ == "__main__":
    main()
