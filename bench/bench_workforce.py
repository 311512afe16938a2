"""Benchmark: the workforce detections on the generated insider scenario, against a named baseline.

    python bench/bench_workforce.py [--seeds 2026,7,99] [--repeat 3]

Baseline: "sort and resolve" — what any detector must do per event at least: order the events by
time and resolve each to a person through the credential index. The figure is the detections'
cost on top of that. It also prints detection quality: planted insiders found, and the
false-positive rate per alert (alerts counted once per rule, subject and day, as the pipeline
raises them) and per benign person.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from linewatch.workforce.engine.detections import WorkforceDetector  # noqa: E402
from linewatch.workforce.engine.scenario import generate  # noqa: E402


def baseline(scenario) -> int:
    d, found = scenario.directory, 0
    for event in sorted(scenario.events, key=lambda e: e.time):
        ident = event.attrs.get("credential.uid") or event.attrs.get("user.name")
        found += d.credential(str(ident)) is not None if ident else 0
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="2026,7,99")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for seed in (int(s) for s in args.seeds.split(",")):
        scenario = generate(seed)
        base, engine = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            baseline(scenario)
            base.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            detector = WorkforceDetector(scenario.directory)
            findings = detector.process(scenario.events) + detector.flush()
            engine.append(time.perf_counter() - t0)
        planted = set(scenario.insiders)

        def about(f, planted=planted):
            return {s for s in (f.person, f.credential, *f.related) if s} & planted

        alerts = {(f.rule, f.credential or f.person,
                   dt.datetime.fromtimestamp(f.events[-1].time / 1000, dt.UTC).date()): f for f in findings}
        false = [f for f in alerts.values() if not about(f)]
        found = {s for f in findings for s in about(f)}
        n, b, e = len(scenario.events), statistics.median(base), statistics.median(engine)
        print(f"seed {seed}: {n} events, {scenario.people} people, {len(planted)} planted insiders")
        print(f"  detections {n / e:,.0f} events/s ({e * 1000:.0f} ms); baseline sort+resolve {n / b:,.0f} events/s;"
              f" ratio {e / b:.1f}x the baseline's time")
        print(f"  insiders found {len(found)}/{len(planted)}; alerts {len(alerts)}, false {len(false)} "
              f"({len(false) / len(alerts):.1%}); benign people flagged "
              f"{len({f.person or f.credential for f in false})}/{scenario.people - len(planted)}")
        rules = sorted({f.rule for f in false})
        print(f"  false alerts by rule: {', '.join(f'{r} {sum(f.rule == r for f in false)}' for r in rules)}")


if __name__ == "__main__":
    main()
