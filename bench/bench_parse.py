"""Parse and compile 10,000-rule configurations of every vendor format; baseline: the iptables-save parser.

    python bench/bench_parse.py [--rules 10000]

Each format gets the same random first-match policy (source/destination prefixes, tcp/udp ports, accept/deny)
written in its own syntax: parse time, BDD compilation time of the forward hook, and the ratio of parse time to the
iptables-save parser on the same rules. The largest corpus configurations are parsed too when ../shared is present.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from linewatch.segmentation.engine.bdd import PacketSpace, compile_device
from linewatch.segmentation.engine.model import Device
from linewatch.segmentation.engine.parsers import parse_file, parse_text

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "segmentation"


def policy(n: int, seed: int = 7) -> list[tuple[str, str, str, int, bool]]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        s = f"10.{rnd.randrange(256)}.{rnd.randrange(256)}.0"
        d = f"10.{rnd.randrange(128, 256)}.{rnd.randrange(256)}.0"
        out.append((s, d, rnd.choice(("tcp", "udp")), rnd.randrange(1, 65536), rnd.random() < 0.7))
    return out


def iptables(rules) -> str:
    lines = ["*filter", ":FORWARD ACCEPT [0:0]"]
    lines += [f"-A FORWARD -s {s}/24 -d {d}/24 -p {p} -m {p} --dport {port} -j {'ACCEPT' if ok else 'DROP'}"
              for s, d, p, port, ok in rules]
    return "\n".join(lines + ["COMMIT", ""])


def ios(rules) -> str:
    lines = ["hostname r", "interface Gi0", " ip address 10.0.0.1 255.255.255.0", " ip access-group A in",
             "ip access-list extended A"]
    lines += [f" {'permit' if ok else 'deny'} {p} {s} 0.0.0.255 {d} 0.0.0.255 eq {port}"
              for s, d, p, port, ok in rules]
    return "\n".join(lines + [""])


def asa(rules) -> str:
    lines = ["ASA Version 9.12", "interface Gi0", " nameif outside", " security-level 0",
             " ip address 10.0.0.1 255.255.255.0", "access-group A in interface outside"]
    lines += [f"access-list A extended {'permit' if ok else 'deny'} {p} {s} 255.255.255.0 {d} 255.255.255.0 eq {port}"
              for s, d, p, port, ok in rules]
    return "\n".join(lines + [""])


def panos(rules) -> str:
    lines = ["set network interface ethernet ethernet1/1 layer3 ip 10.0.0.1/24",
             "set zone a network layer3 ethernet1/1"]
    for i, (s, d, p, port, ok) in enumerate(rules):
        r = f"set rulebase security rules r{i}"
        lines += [f"set service s{i} protocol {p} port {port}", f"{r} from any", f"{r} to any", f"{r} source {s}/24",
                  f"{r} destination {d}/24", f"{r} service s{i}", f"{r} application any",
                  f"{r} action {'allow' if ok else 'deny'}"]
    return "\n".join(lines + [""])


def fortios(rules) -> str:
    lines = ["config firewall address"]
    for i, (s, d, *_rest) in enumerate(rules):
        lines += [f'    edit "s{i}"', f"        set subnet {s} 255.255.255.0", "    next",
                  f'    edit "d{i}"', f"        set subnet {d} 255.255.255.0", "    next"]
    lines += ["end", "config firewall service custom"]
    for i, (_s, _d, p, port, _ok) in enumerate(rules):
        lines += [f'    edit "v{i}"', f"        set {p}-portrange {port}", "    next"]
    lines += ["end", "config firewall policy"]
    for i, (*_x, ok) in enumerate(rules):
        lines += [f"    edit {i + 1}", '        set srcintf "any"', '        set dstintf "any"',
                  f'        set srcaddr "s{i}"', f'        set dstaddr "d{i}"', f'        set service "v{i}"',
                  f"        set action {'accept' if ok else 'deny'}", "    next"]
    return "\n".join(lines + ["end", ""])


def junos(rules) -> str:
    lines = ["set security zones security-zone a interfaces ge-0/0/0.0",
             "set security zones security-zone b interfaces ge-0/0/1.0"]
    for i, (s, d, p, port, ok) in enumerate(rules):
        pol = f"set security policies from-zone a to-zone b policy p{i}"
        lines += [f"set security address-book global address s{i} {s}/24",
                  f"set security address-book global address d{i} {d}/24",
                  f"set applications application v{i} protocol {p}",
                  f"set applications application v{i} destination-port {port}",
                  f"{pol} match source-address s{i}", f"{pol} match destination-address d{i}",
                  f"{pol} match application v{i}", f"{pol} then {'permit' if ok else 'deny'}"]
    return "\n".join(lines + [""])


def measure(name: str, text: str, fmt: str) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    rs = parse_text(text, f"{name}.cfg", fmt)
    t1 = time.perf_counter()
    dev = Device(name, "firewall", dict(rs.interfaces), [], [rs])
    idx = {n: i + 1 for i, n in enumerate(sorted(dev.interfaces))}
    for c in rs.chains.values():
        for r in c.rules:
            for n in r.match.in_ifaces + r.match.out_ifaces:
                idx.setdefault(n, len(idx) + 1)
    compile_device(PacketSpace(), dev, "forward", idx)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, sum(len(c.rules) for c in rs.chains.values())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rules", type=int, default=10_000)
    n = ap.parse_args().rules
    rules = policy(n)
    print(f"{n} random first-match rules per configuration")
    measure("warm-up", iptables(rules[:500]), "iptables")
    print(f"{'format':10} {'lines':>8} {'parse s':>8} {'compile s':>10} {'model rules':>12} {'parse vs iptables':>18}")
    base = None
    for fmt, make in (("iptables", iptables), ("cisco-ios", ios), ("cisco-asa", asa), ("paloalto", panos),
                      ("fortios", fortios), ("junos", junos)):
        text = make(rules)
        p, c, count = measure(fmt, text, fmt)
        base = base or p
        print(f"{fmt:10} {text.count(chr(10)):8d} {p:8.2f} {c:10.2f} {count:12d} {p / base:17.1f}x")
    if CORPUS.is_dir():
        for rel in ("ciscoconfparse/sample_05.ios", "pybatfish/example-filters/current/configs/firewall.cfg"):
            t0 = time.perf_counter()
            rs = parse_file(CORPUS / rel)
            print(f"corpus {rel}: {time.perf_counter() - t0:.2f} s, {sum(len(c.rules) for c in rs.chains.values())} "
                  f"rules, {len(rs.unsupported)} reported")


if __name__ == "__main__":
    main()
