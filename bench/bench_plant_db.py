"""Benchmark: the plant model on a real database with the demo manufacturer.

    python bench/bench_plant_db.py [--repeat 50]        (DATABASE_URL picks PostgreSQL)

Figures: demo import (first and repeated), export of every site, the consequence query as the
API and the UI run it (cached plant graph, with the cache check) against the baseline
"rebuild the graph from the database on every query", and ownership-gap ranking.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def timed(func, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("LINEWATCH_DATA", tempfile.mkdtemp(prefix="linewatch-bench-"))
    from linewatch.clitools import setup_django

    setup_django()
    from django.db import connection

    from linewatch.core import services
    from linewatch.core.models import Asset, Site
    from linewatch.core.sitefile.exporter import export_text
    from linewatch.core.sitefile.importer import import_files
    from linewatch.demo.cli import demo_site_files

    files = [str(p) for p in demo_site_files()]
    start = time.perf_counter()
    import_files(files)
    first = time.perf_counter() - start
    start = time.perf_counter()
    report = import_files(files)
    again = time.perf_counter() - start
    assert not report.changed
    n_assets = Asset.objects.count()
    export = timed(lambda: [export_text(s) for s in Site.objects.all()], 3)
    plc = Asset.objects.filter(kind="plc").select_related("site").first()
    services.plant_graph()
    cached = timed(lambda: services.consequence([plc]), args.repeat)
    rebuilt = timed(lambda: services.build_graph().evaluate([str(plc.pk)]), max(args.repeat // 5, 3))
    gaps = timed(lambda: services.ownership_gaps(Site.objects.all()), 3)
    print(f"database: {connection.vendor}; demo: {Site.objects.count()} sites, {n_assets} assets")
    print(f"import demo (first):           {first * 1000:8.0f} ms")
    print(f"import demo (again, no change): {again * 1000:8.0f} ms")
    print(f"export every site:              {export * 1000:8.0f} ms")
    print(f"consequence of one PLC:         {cached * 1000:8.2f} ms   "
          f"baseline 'rebuild graph per query' {rebuilt * 1000:.1f} ms  → {rebuilt / cached:.0f}× faster")
    print(f"ownership gaps, all sites:      {gaps * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
