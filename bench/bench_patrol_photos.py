"""Benchmark: photo-reuse lookup against every earlier photo, hash index versus comparing all pairs.

    python bench/bench_patrol_photos.py [--photos 100000] [--queries 200]

Each stored photo carries 8 perceptual hashes (whole image + crops, linewatch.patrols.engine.photos);
a new photo is matched within Hamming distance 10 under `reuse_distance` (pairs where at least one side
is a whole image) through `ReuseIndex`. Baseline: "all pairs" — `reuse_distance` against every earlier
photo. Hashes are random 64-bit values (unrelated
scenes sit ~32 bits apart, as real pHashes of different scenes do), plus planted near-copies, and the
two methods must return the same matches before they are timed. Also times hashing one real JPEG.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from linewatch.patrols.engine.photos import REUSE_DISTANCE, ReuseIndex, photo_hashes, reuse_distance  # noqa: E402
from linewatch.patrols.synthetic import jpeg, scene  # noqa: E402

VARIANTS = 8


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(11)
    stored = [[rng.getrandbits(64) for _ in range(VARIANTS)] for _ in range(args.photos)]
    t0 = time.perf_counter()
    index = ReuseIndex()
    for pk, hashes in enumerate(stored):
        index.add(hashes, pk)
    build = time.perf_counter() - t0
    queries = []
    for i in range(args.queries):
        if i % 4 == 0:  # a near-copy of a stored photo
            src = stored[rng.randrange(args.photos)]
            queries.append([h ^ (1 << rng.randrange(64)) ^ (1 << rng.randrange(64)) for h in src])
        else:
            queries.append([rng.getrandbits(64) for _ in range(VARIANTS)])

    def naive(q: list[int]) -> set[int]:
        return {pk for pk, hashes in enumerate(stored) if reuse_distance(q, hashes) <= REUSE_DISTANCE}

    def indexed(q: list[int]) -> set[int]:
        return {pk for _, pk in index.near(q, REUSE_DISTANCE)}

    sample = queries[: max(4, args.queries // 20)]
    for q in sample:
        assert naive(q) == indexed(q), "hash index and all-pairs disagree"
    t_tree, t_naive = [], []
    for q in queries:
        t = time.perf_counter()
        indexed(q)
        t_tree.append(time.perf_counter() - t)
    for q in sample:
        t = time.perf_counter()
        naive(q)
        t_naive.append(time.perf_counter() - t)
    data = jpeg(scene(1))
    t = time.perf_counter()
    for _ in range(20):
        photo_hashes(data)
    hashing = (time.perf_counter() - t) / 20
    tree_ms, naive_ms = statistics.median(t_tree) * 1000, statistics.median(t_naive) * 1000
    print(f"photos stored: {args.photos:,} ({args.photos * VARIANTS:,} hashes); index built in {build:.1f} s")
    print(f"lookup of one new photo (8 hashes, distance ≤ {REUSE_DISTANCE}): index {tree_ms:.2f} ms median, "
          f"all pairs {naive_ms:.1f} ms median → {naive_ms / tree_ms:.0f}× faster")
    print(f"hashing one 320×240 JPEG (8 pHashes): {hashing * 1000:.1f} ms")


if __name__ == "__main__":
    main()
