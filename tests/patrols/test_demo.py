"""The demo's month of patrols: the reused photo and the skipped checkpoint are there, and loading twice
adds nothing."""

from __future__ import annotations

import time

from linewatch.evidence.models import Entry
from linewatch.patrols import demo
from linewatch.patrols.models import PatrolException, PatrolRun, Photo, Scan


def test_demo_month_has_the_reuse_and_the_skip_and_is_idempotent(demo_loaded):
    began = time.perf_counter()
    lines = demo.load()
    elapsed = time.perf_counter() - began
    assert lines[0].startswith("Patrols: 30 night rounds at kolding"), lines
    runs = PatrolRun.objects.filter(tour__site__slug="kolding")
    assert runs.count() == 30 and Photo.objects.count() == 30
    reuse = PatrolException.objects.get(kind="photo_reuse")
    assert reuse.run.guard_name == demo.REUSER and reuse.checkpoint == "cold-store-door"
    missed = PatrolException.objects.filter(kind="missed")
    assert [(m.run.guard_name, m.checkpoint) for m in missed] == [(demo.SKIPPER, "loading-dock")]
    assert PatrolException.objects.filter(kind="unverified").count() == 1  # the replayed tag URL
    assert PatrolException.objects.filter(kind="late").count() == 1
    assert Scan.objects.filter(method="nfc", verified=True).count() == 30
    counts = (Scan.objects.count(), Photo.objects.count(), PatrolException.objects.count(), Entry.objects.count())
    again = demo.load()
    assert again[0] == lines[0].replace("(30 new)", "(0 new)")
    assert (Scan.objects.count(), Photo.objects.count(), PatrolException.objects.count(),
            Entry.objects.count()) == counts
    print("\n".join(lines), f"\ndemo patrols loaded in {elapsed:.1f} s")
