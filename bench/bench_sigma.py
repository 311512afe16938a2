"""Benchmark: the Sigma engine on the SigmaHQ Windows rule tree, against the naive engine and Zircolite.

    python bench/bench_sigma.py [--events 100000] [--baseline-seconds 60] [--seconds 120]

Input: ../shared/corpus/logs/evtx-attack-samples.jsonl (8,255 Windows events, evtx JSON), repeated
until `--events` are read; rules: ../shared/corpus/correlation/sigmahq-rules/{rules/windows,
rules-emerging-threats,rules-threat-hunting} — the same YAML trees the Zircolite measurement in
docs (design/peers.md, research/correlation.md §4) used.

Each engine runs the same loop on one core: decode the JSON line (msgspec), flatten it, match it.
- engine: routing by log source + EventID, literal pre-filter, generated predicates;
- routing only: the same without the pre-filter (what the pre-filter buys);
- baseline: the same engine with routing and pre-filter off — every rule, with its log source's
  conditions folded in, evaluated on every event (the naive "evaluate every rule on every event").
  It is slow, so it gets as much CPU time as the engine (in turns, see Runner) on the distinct events
  in a fixed random order, up to `--baseline-seconds`.
The benchmark first checks that all three produce identical hits on every event the baseline saw,
then prints events/s and the ratios, and Zircolite's figures from peers.md beside them.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from linewatch.detect.engine import RuleSet, flatten  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
RULE_DIRS = ("rules/windows", "rules-emerging-threats", "rules-threat-hunting")
# From docs/design/peers.md (same machine kind, same input file repeated, one run each).
ZIRCOLITE_WALL = 1_600  # input events/s wall-clock, its pre-converted 2,171-rule Windows pack
ZIRCOLITE_YAML_CPU = 778  # events per CPU-second, the same SigmaHQ YAML trees as here
THROWAWAY = 8_000  # the research's throw-away compiled matcher with an Aho-Corasick pre-filter
STEP = 2048  # events per turn of the engine; routing-only and the baseline take smaller turns


class Runner:
    """One engine working through the event stream in steps (decode + flatten + match per line).

    Engines take turns in small steps so that a shared machine's changing load falls on all of them
    alike: the ratios stay meaningful even when the absolute figures move.
    """

    def __init__(self, ruleset: RuleSet, lines: list[bytes], keep: int = 0) -> None:
        self.match = ruleset.match
        self.lines = lines
        self.keep = keep
        self.kept: list[list[str]] = []
        self.decode = msgspec.json.Decoder().decode
        self.done = 0
        self.hits = 0
        self.wall = 0.0
        self.cpu = 0.0

    @property
    def finished(self) -> bool:
        return self.done >= len(self.lines)

    def step(self, count: int) -> float:
        """Process the next `count` lines; returns the CPU seconds spent."""
        decode, match, keep, kept = self.decode, self.match, self.keep, self.kept
        chunk = self.lines[self.done : self.done + count]
        wall0, cpu0 = time.perf_counter(), time.process_time()
        hits = 0
        for i, line in enumerate(chunk, self.done):
            found = match(flatten(decode(line)))
            hits += len(found)
            if i < keep:
                kept.append([m.rule_id or m.title for m in found])
        cpu = time.process_time() - cpu0
        self.cpu += cpu
        self.wall += time.perf_counter() - wall0
        self.done += len(chunk)
        self.hits += hits
        return cpu

    def step_for(self, cpu_seconds: float, batch: int) -> None:
        """Process lines in batches until `cpu_seconds` of CPU time are spent (or the lines run out)."""
        spent = 0.0
        while spent < cpu_seconds and not self.finished:
            spent += self.step(batch)


def timed(label: str, func: Callable[[], RuleSet]) -> RuleSet:
    start = time.perf_counter()
    result = func()
    print(f"{label}: {time.perf_counter() - start:.1f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events to run through the engine")
    parser.add_argument("--seconds", type=float, default=120, help="CPU-time cap for the routing-only run")
    parser.add_argument("--baseline-seconds", type=float, default=60, help="CPU-time cap for the baseline")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()

    rules_root = args.corpus / "correlation" / "sigmahq-rules"
    source = args.corpus / "logs" / "evtx-attack-samples.jsonl"
    if not rules_root.is_dir() or not source.is_file():
        sys.exit(f"corpus not found under {args.corpus}")

    ruleset = timed("parse + load rules", lambda: RuleSet.from_paths([rules_root / d for d in RULE_DIRS]))
    print(
        f"rules: {len(ruleset.rules):,} loaded, {len(ruleset.errors)} reported as not loadable, "
        f"{len(ruleset.unrouted)} for log sources without Windows events (linux, web, proxy…)"
    )
    distinct = source.read_bytes().splitlines()
    # A fixed random order, so that any prefix an engine gets through in its time has the same mix
    # of channels as the whole file; repeated to the requested number of events.
    sample = distinct[:]
    random.Random(7).shuffle(sample)
    lines = (sample * (args.events // len(sample) + 1))[: args.events]
    print(f"events: {len(distinct):,} distinct, {len(lines):,} in the run\n")

    routed = ruleset.configured(routing=True, prefilter=False)
    naive = ruleset.configured(routing=False, prefilter=False)

    # Warm-up on the distinct events: buckets and predicates are built on first sight of a route,
    # which is a one-off cost per process (reported), not per event.
    start = time.perf_counter()
    Runner(ruleset, distinct).step(len(distinct))
    Runner(routed, distinct).step(len(distinct))
    print(
        f"first pass (builds {ruleset.stats().buckets} route buckets, compiles rules): "
        f"{time.perf_counter() - start:.1f} s"
    )
    start = time.perf_counter()
    naive._naive_predicates()
    print(
        f"baseline compile ({len(naive._naive_predicates()):,} rule×log-source predicates): "
        f"{time.perf_counter() - start:.1f} s"
    )
    print(f"load average before the run: {os.getloadavg()[0]:.1f} (2 cores; above ~1 means shared CPU)\n")

    base = Runner(naive, sample, keep=len(sample))
    rout = Runner(routed, lines)
    engine = Runner(ruleset, lines)
    while not engine.finished:
        spent = engine.step(STEP)
        # Each turn, the others get as much CPU as the engine just used: equal exposure to load.
        if rout.cpu < args.seconds:
            rout.step_for(spent, 64)
        if base.cpu < args.baseline_seconds:
            base.step_for(spent, 4)
    print(f"load average after the run: {os.getloadavg()[0]:.1f}")
    results = {
        "baseline (no routing, no pre-filter)": base,
        "routing only": rout,
        "engine (routing + pre-filter)": engine,
    }
    # Hits must be identical: replay the baseline's events through the other two (untimed).
    n_base = base.done
    kept = {"baseline": base.kept}
    for name, rs in (("routed", routed), ("engine", ruleset)):
        check = Runner(rs, sample[:n_base], keep=n_base)
        check.step(n_base)
        kept[name] = check.kept

    same = kept["engine"] == kept["routed"] == kept["baseline"]
    fired = collections.Counter(r for hit in kept["engine"] for r in hit)
    print(
        f"identical hits in all three on the {n_base:,} events the baseline saw: {'yes' if same else 'NO'} "
        f"({sum(fired.values()):,} hits of {len(fired)} rules)"
    )
    if not same:
        bad = next(i for i in range(n_base) if not kept["engine"][i] == kept["routed"][i] == kept["baseline"][i])
        print(
            f"  first difference at event {bad}: engine {kept['engine'][bad]}, "
            f"routed {kept['routed'][bad]}, baseline {kept['baseline'][bad]}"
        )

    base_rate = base.done / base.cpu
    print(f"\n{'run':40} {'events':>9} {'ev/s wall':>10} {'ev/CPU-s':>10} {'× baseline':>11} {'hits':>9}")
    for label, r in results.items():
        print(
            f"{label:40} {r.done:>9,} {r.done / r.wall:>10,.0f} {r.done / r.cpu:>10,.0f} "
            f"{r.done / r.cpu / base_rate:>10.1f}× {r.hits:>9,}"
        )
    # Matching alone, on events decoded and flattened beforehand: the engine's own share of the work.
    flat = [flatten(msgspec.json.decode(line)) for line in sample]
    match = ruleset.match
    cpu0 = time.process_time()
    n_flat = 0
    while n_flat < len(lines):
        for event in flat:
            match(event)
        n_flat += len(flat)
    flat_rate = n_flat / (time.process_time() - cpu0)
    print(f"{'engine, matching only (pre-flattened)':40} {n_flat:>9,} {'':>10} {flat_rate:>10,.0f}")

    rate_cpu = engine.done / engine.cpu
    rate_wall = engine.done / engine.wall
    print("\npeers (docs/design/peers.md, same input, same machine kind):")
    print(
        f"  Zircolite, pre-converted generic pack: {ZIRCOLITE_WALL:>6,} ev/s wall   -> engine is "
        f"{rate_wall / ZIRCOLITE_WALL:.1f}× (wall), {rate_cpu / ZIRCOLITE_WALL:.1f}× (per CPU-s)"
    )
    print(
        f"  Zircolite, same SigmaHQ YAML rules:    {ZIRCOLITE_YAML_CPU:>6,} ev/CPU-s -> engine is "
        f"{rate_cpu / ZIRCOLITE_YAML_CPU:.1f}×"
    )
    print(
        f"  research throw-away matcher + AC:      {THROWAWAY:>6,} ev/s      -> engine is {rate_cpu / THROWAWAY:.1f}×"
    )


if __name__ == "__main__":
    main()
