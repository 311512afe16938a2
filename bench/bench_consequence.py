"""Benchmark: the consequence query on a large synthetic plant, against a named baseline.

    python bench/bench_consequence.py [--assets 5000] [--lines 60] [--repeat 200]

Baseline: "full fixpoint" — what a straightforward implementation does per query: mark the
failed assets, sweep every asset dependency until nothing changes, then check every group of
every line. Linewatch's engine propagates only from the failed assets through a reverse index.
Both answer the same question; the benchmark checks they agree before timing them.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from linewatch.core.engine.consequence import AssetSpec, Group, LineSpec, PlantGraph  # noqa: E402


def synthetic_plant(n_assets: int, n_lines: int, seed: int = 7) -> tuple[list[AssetSpec], list[LineSpec]]:
    """A plant shaped like a real one: redundant core switches, access switches per cell,
    PLCs, HMI pairs, drives and servers behind them, lines depending on their cell's devices."""
    rng = random.Random(seed)
    assets = [AssetSpec("core-a", "core-a", "p", "switch"), AssetSpec("core-b", "core-b", "p", "switch")]
    per_line = max((n_assets - 2) // n_lines, 6)
    lines = []
    for li in range(n_lines):
        sw = f"sw-{li}"
        assets.append(AssetSpec(sw, sw, "p", "switch", (Group("uplink", ("core-a", "core-b"), 1),)))
        cell = []
        for k in range(per_line - 1):
            key = f"dev-{li}-{k}"
            assets.append(AssetSpec(key, key, "p", "plc", (Group("access", (sw,)),)))
            cell.append(key)
        groups = [Group("plc", (cell[0],)), Group("hmis", (cell[1], cell[2]), 1)]
        drives = tuple(cell[3:9])
        groups.append(Group("drives", drives, len(drives) - 1))
        groups.append(Group("mes", (cell[-1],), 1, "degrades", 0.3))
        lines.append(LineSpec(f"line-{li}", f"Line {li}", "p", rng.randint(10, 90) * 1000, rng.randint(0, 40),
                              rng.choice([0, 250_000, 1_200_000]), rng.choice([None, 6, 8]), li % 7 == 0,
                              tuple(groups)))
    return assets, lines


def full_fixpoint(assets: list[AssetSpec], lines: list[LineSpec], failed: list[str]) -> dict[str, str]:
    down = set(failed)
    changed = True
    while changed:
        changed = False
        for asset in assets:
            if asset.key in down:
                continue
            for group in asset.groups:
                if sum(m not in down for m in group.members) < group.required:
                    down.add(asset.key)
                    changed = True
                    break
    status = {}
    for line in lines:
        failed_groups = [g for g in line.groups if sum(m not in down for m in g.members) < g.required]
        if any(g.effect == "stops" for g in failed_groups):
            status[line.key] = "stopped"
        elif failed_groups:
            status[line.key] = "degraded"
    return status


def timed(func, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--assets", type=int, default=5000)
    parser.add_argument("--lines", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    assets, lines = synthetic_plant(args.assets, args.lines)
    start = time.perf_counter()
    graph = PlantGraph(assets, lines)
    build = time.perf_counter() - start
    rng = random.Random(1)
    keys = [a.key for a in assets]
    queries = {
        "one PLC down": ["dev-3-0"],
        "one access switch down": ["sw-5"],
        "both core switches down": ["core-a", "core-b"],
        "10 random assets down": rng.sample(keys, 10),
    }
    print(f"plant: {len(assets):,} assets, {len(lines)} lines; graph built in {build * 1000:.1f} ms")
    print(f"{'query':28} {'engine':>12} {'full fixpoint':>15} {'speed-up':>9}")
    for name, failed in queries.items():
        ours = {li.line.key: li.status for li in graph.evaluate(failed).lines if li.status != "redundancy_lost"}
        assert ours == full_fixpoint(assets, lines, failed), name
        engine = timed(lambda f=failed: graph.evaluate(f), args.repeat)
        baseline = timed(lambda f=failed: full_fixpoint(assets, lines, f), max(args.repeat // 20, 3))
        print(f"{name:28} {engine * 1e3:>9.3f} ms {baseline * 1e3:>12.2f} ms {baseline / engine:>8.0f}×")


if __name__ == "__main__":
    main()
