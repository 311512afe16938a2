"""Benchmark: the detection pipeline on the demo plant's mixed stream, and ingest-to-alert latency.

    python bench/bench_correlate.py [--events 50000] [--rate 5000] [--seconds 20]

(0) The SigmaHQ Windows rule set on the corpus's real Windows events: `bench/bench_sigma.py`, run
    here as a step (needs ../shared/corpus; skipped without it; `--skip-sigmahq` to leave it out).
(a) Throughput on one core of the whole detection step (`detect.worker.process`: plant-model
    enrichment, workforce context, the Linewatch Sigma pack and its correlations) over the demo's
    simulated stream (normal traffic plus incidents), against the baseline of the same step with
    the engine's routing and pre-filter off, and beside Zircolite's figure from
    ../shared/design/peers.md (1,600 events/s; a different rule set, named for scale only).
    The SigmaHQ Windows figure is `bench/bench_sigma.py`'s.
(b) End-to-end latency at a steady rate: a producer stores simulator events at --rate events/s
    (batches every 100 ms, as the HTTP endpoint and listeners do) while the embedded detection
    worker runs beside it (as `linewatch worker` in its own process, then as a thread of the
    producer). An alert's latency is its creation time minus the ingest time of its newest evidence
    event. Event times are stamped at arrival (a live feed), so correlation alerts include the
    correlation engine's allowed lateness. Prints p50/p95/p99 and the achieved rate.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
ZIRCOLITE_EPS = 1600


def setup() -> None:
    os.environ.setdefault("LINEWATCH_DATA", tempfile.mkdtemp(prefix="linewatch-bench-"))
    from linewatch.clitools import setup_django

    setup_django()
    from linewatch.core.models import Site
    from linewatch.demo.cli import load_demo

    if not Site.objects.exists():
        load_demo()


def stream(n: int, start_ms: int, incident_every: int = 30):
    """`n` simulator events, one tick (about 40 events) per second of event time, an incident every
    `incident_every` ticks."""
    from linewatch.demo.simulator import Plant, Simulator

    simulator = Simulator(Plant(), seed=3, incident_every=incident_every)
    events, now = [], start_ms
    while len(events) < n:
        tick = simulator.tick(now)
        events.extend(tick)
        now += 1000
    return events[:n]


def throughput(n: int) -> None:
    import msgspec

    from linewatch.detect.context import ContextTracker
    from linewatch.detect.sigma import PACK, SigmaDetector
    from linewatch.detect.worker import process

    events = stream(n, 1_780_000_000_000)
    fast = SigmaDetector.from_paths([PACK])
    naive = SigmaDetector(fast.ruleset.configured(routing=False, prefilter=False),
                          SigmaDetector.from_paths([PACK]).correlations)
    for name, detector in (("pipeline (routing + pre-filter)", fast), ("baseline (no routing, no pre-filter)", naive)):
        # Fresh copies and fresh context for each run, so both start from the same state.
        batch = [msgspec.structs.replace(e, attrs=dict(e.attrs)) for e in events]
        context = ContextTracker()
        cpu, wall = time.process_time(), time.perf_counter()
        found = 0
        for i in range(0, len(batch), 1000):
            found += len(process(batch[i:i + 1000], [detector], context))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"  {name:38} {n / cpu:>9,.0f} events/CPU-s  {n / wall:>9,.0f} events/s wall  {found} detections")
        if detector is fast:
            ours = n / cpu
        else:
            print(f"  speed-up over the baseline: {ours / (n / cpu):.1f}×;  "
                  f"vs Zircolite's {ZIRCOLITE_EPS:,} events/s (peers.md): {ours / ZIRCOLITE_EPS:.1f}×")


def latency(rate: int, seconds: float, in_process: bool = False) -> None:
    import subprocess

    from django.db import close_old_connections

    from linewatch.detect.models import Alert
    from linewatch.events.models import StoredEvent
    from linewatch.events.store import store_events

    start_ms = int(time.time() * 1000)
    # About one cross-domain incident per second of wall time at 5,000 events/s (ticks are ~40 events).
    events = stream(int(rate * seconds), start_ms, incident_every=max(1, rate // 40))
    Alert.objects.all().delete()
    stop = threading.Event()
    if in_process:
        from linewatch.detect.worker import DetectionWorker, default_detectors
        from linewatch.events.models import ConsumerPosition

        worker = DetectionWorker(default_detectors(), name=f"bench-{start_ms}")
        last = StoredEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        ConsumerPosition.objects.update_or_create(name=worker.name, defaults={"position": last})
        thread = threading.Thread(target=worker.run, args=(stop, 0.02), daemon=True)
        thread.start()
    else:  # the deployment's shape: `linewatch serve` (here: this producer) and `linewatch worker`
        process = subprocess.Popen([sys.executable, "-m", "linewatch.cli", "worker"], stderr=subprocess.PIPE,
                                   text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")})
        while "running" not in (line := process.stderr.readline()):
            if not line:
                raise SystemExit("the worker did not start")
    per_batch = max(1, rate // 10)
    began = time.perf_counter()
    for i in range(0, len(events), per_batch):
        due = began + i / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        batch = events[i:i + per_batch]
        now_ms = int(time.time() * 1000)
        for event in batch:  # event time is the time of arrival, as for a live sensor
            event.time = now_ms
        store_events(batch)
    produced = time.perf_counter() - began
    time.sleep(2.0)
    stop.set()
    if in_process:
        thread.join(10)
    else:
        process.terminate()
        process.wait(20)
    close_old_connections()
    received = dict(StoredEvent.objects.filter(uid__in=[e.uid for e in events]).values_list("uid", "received"))
    delays = []
    for alert in Alert.objects.all():
        times = [received[u] for u in alert.event_uids if u in received]
        if times:
            delays.append((alert.created - max(times)).total_seconds())
    where = "worker thread in the producer's process" if in_process else "worker in its own process"
    print(f"  {where}: offered {len(events):,} events at {rate:,}/s over {seconds:g} s; produced in "
          f"{produced:.1f} s ({len(events) / produced:,.0f}/s achieved)")
    if not delays:
        print("  no alerts: nothing to measure")
        return
    delays.sort()
    q = statistics.quantiles(delays, n=100)
    print(f"  {len(delays)} alerts; ingest→alert latency p50 {q[49] * 1000:.0f} ms, p95 {q[94] * 1000:.0f} ms, "
          f"p99 {q[98] * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms (target p99 < 1,000 ms at 5,000/s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--latency-only", action="store_true")
    parser.add_argument("--skip-sigmahq", action="store_true")
    args = parser.parse_args()
    here = Path(__file__).resolve().parent
    if not (args.latency_only or args.skip_sigmahq):
        if (here.parents[1] / "shared" / "corpus").is_dir():
            import subprocess

            print("(0) SigmaHQ Windows rules on Windows events (bench_sigma.py)", flush=True)
            subprocess.run([sys.executable, str(here / "bench_sigma.py")], check=False)
        else:
            print("(0) skipped: ../shared/corpus is absent")
    setup()
    if not args.latency_only:
        print("(a) detection throughput, demo mixed stream, Linewatch pack")
        throughput(args.events)
    print("(b) end-to-end latency, embedded mode")
    latency(args.rate, args.seconds)
    latency(args.rate, args.seconds, in_process=True)


if __name__ == "__main__":
    main()
