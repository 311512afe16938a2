"""Benchmark: reading the corpus vulnerability feeds, and matching devices against them.

    python bench/bench_vulns.py [--devices 300] [--feeds ../shared/corpus/discovery/vuln]

Reading: the engine's readers (validation, CPE checks, one record per CVE/advisory) against the named baseline
"json.loads only" on the same files (the least any reader must do).
Matching: devices (drawn from the corpus records' own vendors and products, with and without firmware) against the
merged store, against the named baseline "full scan" (the same matcher over every record, without the store's
vendor index, as Linewatch matched before the index) and "full scan, no parse cache" (its name/CPE/version caches
cleared before each device). All runs must give the same matches.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from linewatch.vulns.engine import cpe, names, versions  # noqa: E402
from linewatch.vulns.engine.matching import Confidence, Device, match  # noqa: E402
from linewatch.vulns.engine.readers import read_feed  # noqa: E402
from linewatch.vulns.engine.store import FeedStore  # noqa: E402

DEFAULT_FEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "discovery" / "vuln"


def feed_files(folder: Path) -> list[Path]:
    return sorted(f for f in folder.rglob("*.json") if "schema" not in f.name)


def devices_from(store: FeedStore, n: int, seed: int = 11) -> list[Device]:
    rng = random.Random(seed)
    pairs = sorted({(r.kev.vendor_project, r.kev.product) for r in store if r.kev})
    firmware = ["", "1.0", "V5.5.0 build 170725", "20.011", "V2.9.4", "4.03"]
    return [Device(v, p, rng.choice(firmware), name=f"d{i}") for i, (v, p) in
            enumerate(rng.choice(pairs) for _ in range(n))]


def clear_caches() -> None:
    for module in (cpe, names, versions):
        for obj in vars(module).values():
            if isinstance(obj, functools._lru_cache_wrapper):
                obj.cache_clear()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=300)
    ap.add_argument("--feeds", type=Path, default=DEFAULT_FEEDS)
    args = ap.parse_args()
    files = feed_files(args.feeds)
    if not files:
        sys.exit(f"no feed files under {args.feeds}")
    size = sum(f.stat().st_size for f in files)

    gc.collect()
    t = time.perf_counter()
    for f in files:
        json.loads(f.read_bytes())
    base_read = time.perf_counter() - t
    store = FeedStore()
    t = time.perf_counter()
    records = 0
    for f in files:
        kind, recs = read_feed(f)
        records += len(recs)
        store.add_all(recs, kind)
    read = time.perf_counter() - t
    print(f"feeds: {len(files)} files, {size / 1e6:.1f} MB, {records} records, {len(store)} CVEs")
    print(f"  read+merge   {read * 1000:8.1f} ms  {records / read:10.0f} records/s")
    print(f"  json.loads   {base_read * 1000:8.1f} ms  (baseline)   ratio {read / base_read:.1f}x the baseline's time")

    devices = devices_from(store, args.devices)
    records = list(store)  # a plain list: no vendor index

    def run(source, clear: bool) -> tuple[float, list]:
        clear_caches()
        t = time.perf_counter()
        got = []
        for d in devices:
            if clear:
                clear_caches()
            got.append([(m.cve, m.confidence) for m in match(d, source, Confidence.POSSIBLE)])
        return time.perf_counter() - t, got

    store.candidates("")  # build the vendor index once, as a long-lived store would have it
    fast, indexed = run(store, False)
    scan, scanned = run(records, False)
    slow, uncached = run(records, True)
    assert indexed == scanned == uncached, "the matchers disagree"
    found = sum(len(c) for c in indexed)
    n = len(devices)
    print(f"matching: {n} devices x {len(store)} CVEs, {found} matches")
    print(f"  linewatch    {fast / n * 1000:8.2f} ms/device  {n / fast:8.1f} devices/s")
    print(f"  full scan    {scan / n * 1000:8.2f} ms/device  (baseline)   speed-up {scan / fast:.1f}x")
    print(f"  + no cache   {slow / n * 1000:8.2f} ms/device  (baseline)   speed-up {slow / fast:.1f}x")


if __name__ == "__main__":
    main()
