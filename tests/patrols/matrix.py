"""Patrol objects at alpha and beta with fixed ids, for the role matrices and the page tests."""

from __future__ import annotations

import datetime as dt
import uuid

RUN_UIDS = {"alpha": uuid.UUID("00000000-0000-4000-8000-0000000a1fa1"),
            "beta": uuid.UUID("00000000-0000-4000-8000-0000000be7a1")}
PHOTO_UIDS = {"alpha": uuid.UUID("00000000-0000-4000-8000-0000000a1f01"),
              "beta": uuid.UUID("00000000-0000-4000-8000-0000000be701")}
ZERO_KEY = "00" * 16
# checkpoints and one tour per site; the SUN tag is the AN12196 example tag (factory keys)
TOURS = {
    "checkpoints": [
        {"code": "gate", "name": "Main gate", "kind": "qr", "lat": 53.0800, "lon": 8.8000, "radius_m": 40},
        {"code": "hall", "name": "Hall 1 east door", "kind": "nfc_sun", "area": "hall-1", "lat": 53.0809,
         "lon": 8.8000, "radius_m": 40, "tag_uid": "04DE5F1EACC040", "sdm_meta_key": ZERO_KEY,
         "sdm_file_key": ZERO_KEY},
        {"code": "yard", "name": "Tank yard", "kind": "gps", "lat": 53.0818, "lon": 8.8000, "radius_m": 40},
    ],
    "tours": [{"slug": "night", "name": "Night round", "rrule": "FREQ=DAILY;BYHOUR=22;BYMINUTE=0",
               "starts_on": "2026-01-01", "start_time": "22:00", "walking_speed_mps": 2.0,
               "stops": [{"checkpoint": "gate", "offset_min": 0, "tolerance_min": 10},
                         {"checkpoint": "hall", "offset_min": 10, "tolerance_min": 10},
                         {"checkpoint": "yard", "offset_min": 20, "tolerance_min": 10}]}],
}


def load_test_tours(slug: str):
    from linewatch.core.models import Site
    from linewatch.patrols import services

    site = Site.objects.get(slug=slug)
    doc = {"checkpoints": [dict(c) for c in TOURS["checkpoints"]], "tours": TOURS["tours"]}
    if slug != "alpha":
        for c in doc["checkpoints"]:
            c.pop("area", None)
    services.load_tours(site, doc)
    return site


def record_matrix_patrols() -> None:
    """A tour, a run and a photo at alpha and at beta (for the per-site rows of the matrices)."""
    from linewatch.patrols import services
    from linewatch.patrols.models import PatrolRun, Tour
    from linewatch.patrols.synthetic import jpeg, scene

    for n, slug in enumerate(("alpha", "beta")):
        if PatrolRun.objects.filter(uid=RUN_UIDS[slug]).exists():
            continue
        site = load_test_tours(slug)
        tour = Tour.objects.get(site=site, slug="night")
        start = dt.datetime(2026, 3, 10, 21, 0, tzinfo=dt.UTC)
        run, _ = services.start_run(None, tour, RUN_UIDS[slug], start, guard_name=f"guard-{slug}")
        scan, _ = services.record_scan(run, uuid.uuid5(RUN_UIDS[slug], "scan"), method="manual",
                                       payload=services.typed_code(tour.stops.first().checkpoint), at=start)
        services.add_photo(site, jpeg(scene(9000 + n)), PHOTO_UIDS[slug], guard_name=run.guard_name, scan=scan)
