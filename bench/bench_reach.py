"""Benchmark: reachability through a chain of three 10,000-rule first-match firewalls, 20,000 hosts.

    python bench/bench_reach.py [--rules 10000] [--hosts 20000] [--queries 200] [--baseline-pairs 200] [--nat]

Random rules as in the research bench (shared/design/research/bdd-bench.py): prefixes inside 10.0.0.0/8, TCP/UDP
services with a few port ranges, half accept / half drop, plus a conntrack ESTABLISHED accept on top; FORWARD policy
ACCEPT (with DROP, random rules let almost nothing through three firewalls and every answer is "denied").
Topology: 10.0.0.0/9 - fw1 - fw2 - fw3 - 10.128.0.0/9. Measured: build time per firewall (BDD compilation of
the whole rule list), an 8-zone matrix (forward + return propagation), single queries (host to host for one service,
with witness, per-hop rules and the return path), and the projection of one zone's reach onto 20,000 hosts.

Baseline: the naive per-packet first-match scan (linewatch.segmentation.engine.model.evaluate, the same code that
attributes hops) through the three firewalls, for a sample of host pairs and services; the benchmark checks that it
agrees with the BDD answer on every sampled pair before timing it. One BDD query answers *every* source port of a
service at once; the naive scan answers one packet, so the ratio is a lower bound.

`--nat` gives fw1 a source NAT for the office range 172.16.0.0/12 (no sampled host is in it) and fw3 a port forward
(10.255.255.254 tcp/8443 to 10.128.0.10:443): the answers for the sampled pairs stay those of the naive scan, while
every packet set now carries its original header (the ghost fields of NAT mode), so the figures show what NAT mode
costs; one more query measures the port forward itself.
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

from linewatch.segmentation.engine.bdd import BACKEND  # noqa: E402
from linewatch.segmentation.engine.model import (  # noqa: E402
    Chain,
    Device,
    Interface,
    Match,
    NatRule,
    Packet,
    PortRange,
    Route,
    Rule,
    RuleSet,
    evaluate,
)
from linewatch.segmentation.engine.reach import ACCEPTED, EPHEMERAL, Network, Service  # noqa: E402

PORTS = [22, 80, 102, 443, 502, 1024, 3389, 20000, 44818]
SERVICES = ["tcp/22", "tcp/80", "tcp/102", "tcp/443", "tcp/502", "tcp/3389", "tcp/44818", "udp/161"]


def rand_net(rng: random.Random, lo: int, hi: int) -> ipaddress.IPv4Network:
    plen = rng.randint(lo, hi)
    addr = int(ipaddress.IPv4Address("10.0.0.0")) | rng.getrandbits(24)
    return ipaddress.IPv4Network((addr, plen), strict=False)


def random_rules(rng: random.Random, n: int, name: str) -> RuleSet:
    rs = RuleSet(source=f"{name}.rules")
    rules = [Rule(Match(states=("ESTABLISHED", "RELATED")), "accept", f"{name}.rules:1")]
    for i in range(n):
        proto = rng.choice([6, 6, 6, 17, None])
        lo = rng.choice(PORTS)
        hi = lo if rng.random() < 0.8 else min(65535, lo + rng.randint(1, 5000))
        m = Match(src=(rand_net(rng, 8, 32),), dst=(rand_net(rng, 16, 32),), protocols=(proto,) if proto else (),
                  dports=(PortRange(lo, hi),) if proto else ())
        rules.append(Rule(m, "accept" if rng.random() < 0.5 else "drop", f"{name}.rules:{i + 2}"))
    rs.chains["FORWARD"] = Chain("FORWARD", rules, hook="forward", policy="accept", origin=f"{name}.rules:0")
    return rs


def add_nat(fw1: Device, fw3: Device) -> None:
    net = ipaddress.IPv4Network
    fw1.rulesets[0].nat.append(NatRule("post", "snat", Match(src=(net("172.16.0.0/12"),), out_ifaces=("b",)),
                                       "fw1.rules:nat1", (net("192.168.12.1/32"),)))
    fw3.rulesets[0].nat.append(NatRule("pre", "dnat", Match(dst=(net("10.255.255.254/32"),), protocols=(6,),
                                                             dports=(PortRange(8443, 8443),), in_ifaces=("a",)),
                                       "fw3.rules:nat1", (net("10.128.0.10/32"),), PortRange(443, 443)))


def network(n_rules: int, seed: int, nat: bool = False) -> Network:
    rng = random.Random(seed)
    iface = Interface
    ip = ipaddress.IPv4Interface
    net = ipaddress.IPv4Network
    hop = ipaddress.IPv4Address
    fw1 = Device("fw1", interfaces={"a": iface("a", (ip("10.0.0.1/9"),)), "b": iface("b", (ip("192.168.12.1/30"),))},
                 routes=[Route(net("10.128.0.0/9"), next_hop=hop("192.168.12.2"))],
                 rulesets=[random_rules(rng, n_rules, "fw1")])
    fw2 = Device("fw2", interfaces={"a": iface("a", (ip("192.168.12.2/30"),)),
                                    "b": iface("b", (ip("192.168.23.1/30"),))},
                 routes=[Route(net("10.0.0.0/9"), next_hop=hop("192.168.12.1")),
                         Route(net("10.128.0.0/9"), next_hop=hop("192.168.23.2"))],
                 rulesets=[random_rules(rng, n_rules, "fw2")])
    fw3 = Device("fw3", interfaces={"a": iface("a", (ip("192.168.23.2/30"),)), "b": iface("b", (ip("10.128.0.1/9"),))},
                 routes=[Route(net("10.0.0.0/9"), next_hop=hop("192.168.23.1"))],
                 rulesets=[random_rules(rng, n_rules, "fw3")])
    if nat:
        add_nat(fw1, fw3)
    return Network([fw1, fw2, fw3])


def naive(net: Network, p: Packet) -> bool:
    """Forward through fw1 a->b, fw2 a->b, fw3 a->b and the reply back, one packet at a time."""
    for name in ("fw1", "fw2", "fw3"):
        d = evaluate(net.devices[name], "forward", Packet(p.src, p.dst, p.proto, p.sport, p.dport, "NEW", "a", "b"),
                     indexed=False)
        if d.action != "accept":
            return False
    for name in ("fw3", "fw2", "fw1"):
        d = evaluate(net.devices[name], "forward",
                     Packet(p.dst, p.src, p.proto, p.dport, p.sport, "ESTABLISHED", "b", "a"), indexed=False)
        if d.action != "accept":
            return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rules", type=int, default=10000)
    ap.add_argument("--hosts", type=int, default=20000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--baseline-pairs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--nat", action="store_true", help="NAT mode: a source NAT on fw1 and a port forward on fw3")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print(f"backend={BACKEND} dynamic_reordering=off rules/firewall={args.rules} hosts={args.hosts} "
          f"nat={'on' if args.nat else 'off'}")

    net = network(args.rules, args.seed, args.nat)
    build = []
    for name in ("fw1", "fw2", "fw3"):
        t0 = time.perf_counter()
        net.filter(name, "forward")
        net.filter_pair(name, "forward", "a", "b")
        net.filter_pair(name, "forward", "b", "a")
        build.append(time.perf_counter() - t0)
        print(f"build {name}: {build[-1]:.2f} s  (BDD nodes in manager: {len(net.space.bdd)})")

    half = args.hosts // 2
    left = [int(ipaddress.IPv4Address("10.0.0.0")) + rng.randrange(2, 1 << 23) for _ in range(half)]
    right = [int(ipaddress.IPv4Address("10.128.0.0")) + rng.randrange(2, 1 << 23) for _ in range(half)]
    zones = {f"L{i}": [str(ipaddress.IPv4Network((0x0A000000 + (i << 21), 11)))] for i in range(4)}
    zones |= {f"R{i}": [str(ipaddress.IPv4Network((0x0A800000 + (i << 21), 11)))] for i in range(4)}

    t0 = time.perf_counter()
    matrix = net.zone_matrix(zones)
    t_matrix = time.perf_counter() - t0
    accepted = sum(v == ACCEPTED for row in matrix.values() for v in row.values())
    print(f"zone matrix (8 zones, all services, forward + return): {t_matrix:.3f} s, {accepted} of 56 cells ACCEPTED")

    # projection of one source zone's reach onto the destination hosts
    sp = net.space
    t0 = time.perf_counter()
    src = zones["L0"][0]
    run = net.propagate(net._starts([ipaddress.IPv4Network(src)], net.headers() & sp.net("s", src)))
    reached = sp.false
    for s in run.delivered.values():
        reached |= s
    dst_only = sp.bdd.exist([v for v in sp.bdd.vars if not v.startswith("d")], reached)
    dvars = sp.vars("d")
    hit = sum(1 for h in right if sp.bdd.let({v: bool((h >> (31 - i)) & 1) for i, v in enumerate(dvars)}, dst_only)
              == sp.true)
    t_proj = time.perf_counter() - t0
    print(f"projection of L0's reach onto {len(right)} destination hosts: {t_proj:.2f} s ({hit} reachable)")

    pairs = [(rng.choice(left), rng.choice(right), rng.choice(SERVICES)) for _ in range(args.queries)]
    times, dispositions = [], {}
    for s, d, svc in pairs:
        t0 = time.perf_counter()
        a = net.reach(f"{ipaddress.IPv4Address(s)}/32", f"{ipaddress.IPv4Address(d)}/32", Service.parse(svc))
        times.append(time.perf_counter() - t0)
        dispositions[a.disposition] = dispositions.get(a.disposition, 0) + 1
    q_med, q_p95 = statistics.median(times) * 1e3, sorted(times)[int(len(times) * 0.95) - 1] * 1e3
    print(f"single query (host->host, one service, witness + hops + return): median {q_med:.2f} ms, "
          f"p95 {q_p95:.2f} ms over {len(times)}; dispositions {dispositions}")

    if args.nat:
        fwd = []
        for s in left[:20]:
            t0 = time.perf_counter()
            a = net.reach(f"{ipaddress.IPv4Address(s)}/32", "10.255.255.254/32", Service.parse("tcp/8443"))
            fwd.append(time.perf_counter() - t0)
        hops = a.flows[0].hops if a.flows else []
        print(f"port-forward query (to 10.255.255.254 tcp/8443, DNAT on fw3): median {statistics.median(fwd) * 1e3:.2f}"
              f" ms over {len(fwd)}; last: {a.disposition}, NAT at "
              f"{[n['rule'] for h in hops for n in h.nat] or 'no hop'}")

    # baseline: naive first-match scan, one concrete packet per pair, checked against the BDD answer first
    sample = pairs[: args.baseline_pairs]
    t0 = time.perf_counter()
    naive_results = []
    for s, d, svc in sample:
        sv = Service.parse(svc)
        naive_results.append(naive(net, Packet(s, d, sv.proto, EPHEMERAL[0], sv.lo)))
    t_naive = (time.perf_counter() - t0) / len(sample)
    mismatches = 0
    for (s, d, svc), ok in zip(sample, naive_results, strict=True):
        sv = Service.parse(svc)
        a = net.reach(f"{ipaddress.IPv4Address(s)}/32", f"{ipaddress.IPv4Address(d)}/32", sv,
                      client_ports=(EPHEMERAL[0], EPHEMERAL[0]))
        mismatches += ok != (a.disposition == ACCEPTED)
    print(f"baseline naive per-packet scan: {t_naive * 1e3:.2f} ms per packet (forward + reply through 3 firewalls); "
          f"agreement with BDD on {len(sample) - mismatches}/{len(sample)} sampled pairs")
    all_pairs = half * half * len(SERVICES)
    print(f"naive scan of every host pair x {len(SERVICES)} services (one source port each): "
          f"{all_pairs * t_naive / 3600:.0f} h extrapolated vs zone matrix {t_matrix:.2f} s "
          f"(ratio {all_pairs * t_naive / t_matrix:,.0f}x); per query naive/BDD {t_naive * 1e3 / q_med:.1f}x "
          "(BDD answers all source ports at once)")
    ok = max(build) <= 5 and q_med <= 10
    print(f"targets: build <= 5 s per firewall (max {max(build):.2f} s), query <= 10 ms (median {q_med:.2f} ms): "
          f"{'met' if ok else 'NOT met'}")
    if mismatches:
        sys.exit(1)


if __name__ == "__main__":
    main()
