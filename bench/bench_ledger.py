"""Benchmark: evidence ledger appends per second and the time to verify a pack of 1,000,000 records.

    python bench/bench_ledger.py [--records 1000000] [--db-appends 2000] [--engine-appends 100000]

Appends: (a) the database ledger, `linewatch.evidence.records.record()` on SQLite in a fresh data folder (one
transaction per record: row lock on the site's log head, insert, checkpoint every 100); (b) the engine alone, the
file-backed `Ledger.extend` in batches of 1,000 (canonicalise, hash, tree, fsync per batch).

Verification of a pack of N records (default 1,000,000) built by the engine (checkpoints every 10,000; the pack
holds the whole tree). Baseline: the per-record verifier — parse each record, re-canonicalise it (RFC 8785) and
check its inclusion proof against the signed checkpoint (`verify_pack(fast=False)`). Linewatch's verifier hashes
each record's canonical bytes as they stand in the line and recomputes the root once, falling back to the proofs
only when the root differs. Both must agree that the pack is valid before they are timed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def engine_appends(n: int, folder: Path) -> float:
    from linewatch.evidence.engine.checkpoint import Signer
    from linewatch.evidence.engine.ledger import Ledger

    ledger = Ledger.create(folder / "engine", Signer.generate("bench/engine"), checkpoint_every=10_000)
    t = time.perf_counter()
    batch = 1000
    for start in range(0, n, batch):
        ledger.extend(record(i) for i in range(start, min(n, start + batch)))
    return n / (time.perf_counter() - t)


def record(i: int) -> dict:
    return {"kind": "patrol.scan", "site": "bench", "time": f"2026-03-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:"
            f"{i % 60:02d}.000000Z", "body": {"tour": "night", "checkpoint": f"cp-{i % 12}", "guard": f"g-{i % 7}",
                                              "verified": i % 17 != 0, "seq": i}}


def db_appends(n: int, folder: Path) -> float:
    os.environ["LINEWATCH_DATA"] = str(folder / "data")
    os.environ.pop("DATABASE_URL", None)
    from linewatch.clitools import setup_django

    setup_django()
    from linewatch.core.sitefile.importer import import_files

    import_files(sorted(str(p) for p in (Path(__file__).resolve().parents[1] / "tests" / "data" / "sites")
                        .glob("*.yaml")))
    from linewatch.core.models import Site
    from linewatch.evidence.records import record as append

    site = Site.objects.select_related("organisation").get(slug="alpha")
    append(site, "control.check", {"warm": True})
    t = time.perf_counter()
    for i in range(n):
        append(site, "patrol.scan", record(i)["body"])
    return n / (time.perf_counter() - t)


def build(n: int, folder: Path):
    from linewatch.evidence.engine.checkpoint import Signer
    from linewatch.evidence.engine.ledger import Ledger
    from linewatch.evidence.engine.pack import build_pack

    signer = Signer.generate("bench/verify")
    ledger = Ledger.create(folder / "big", signer, checkpoint_every=10_000)
    for start in range(0, n, 10_000):
        ledger.extend(record(i) for i in range(start, min(n, start + 10_000)))
    ledger.checkpoint()
    return build_pack(ledger, folder / "big.zip"), [signer.verifier]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="records in the verified pack")
    parser.add_argument("--db-appends", type=int, default=2000)
    parser.add_argument("--engine-appends", type=int, default=100_000)
    args = parser.parse_args()
    from linewatch.evidence.engine.verify import verify_pack

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        engine = engine_appends(args.engine_appends, folder)
        db = db_appends(args.db_appends, folder)
        print(f"appends/s  engine (file ledger, batches of 1000): {engine:>10,.0f}")
        print(f"appends/s  database ledger record() on SQLite:    {db:>10,.0f}   (engine is {engine / db:.0f}x)")

        t = time.perf_counter()
        pack, keys = build(args.records, folder)
        built = time.perf_counter() - t
        print(f"pack of {args.records:,} records built in {built:.1f} s ({pack.stat().st_size / 1e6:.0f} MB)")
        t = time.perf_counter()
        fast = verify_pack(pack, keys)
        fast_s = time.perf_counter() - t
        t = time.perf_counter()
        slow = verify_pack(pack, keys, fast=False)
        slow_s = time.perf_counter() - t
        assert fast.ok and slow.ok and fast.records_verified == slow.records_verified == args.records, \
            (fast.failures[:3], slow.failures[:3])
        print(f"verify {args.records:,} records  Linewatch (root recomputed once): {fast_s:8.1f} s")
        print(f"verify {args.records:,} records  baseline (re-canonicalise + proof per record): {slow_s:8.1f} s"
              f"   ratio {slow_s / fast_s:.1f}x")


if __name__ == "__main__":
    main()
