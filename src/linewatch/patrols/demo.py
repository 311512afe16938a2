"""The demo's patrol history: a month of night rounds at the Kolding plant with photos (generated images),
an NTAG 424 DNA SUN tag at the ammonia machine room, and the exceptions a supervisor should see — a guard
who reuses an earlier photo, a skipped checkpoint, a late scan and a replayed tag URL.

Deterministic ids (uuid5) make it idempotent: a second `linewatch demo` adds nothing. Small images keep
it to a few seconds."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
import uuid
from zoneinfo import ZoneInfo

from linewatch.core.models import Site

SITE = "kolding"
TOUR = "night-round"
DAYS = 30
NS = uuid.UUID("6b1f0c3e-4f57-4c1a-9d0e-5a7a7c0de001")
GUARDS = ("jens.holm", "mette.krogh", "ali.demir")
REUSER, SKIPPER = "mette.krogh", "ali.demir"
SUN_UID = "04C1A2B3C4D5E6"


def _tag_keys() -> tuple[str, str]:
    """Per-installation demo tag keys (never fixed in the repository)."""
    from linewatch import paths

    base = paths.secret_key().encode()
    return tuple(hmac.new(base, label, hashlib.sha256).digest()[:16].hex()  # type: ignore[return-value]
                 for label in (b"demo sdm meta", b"demo sdm file"))


def _tours(site: Site) -> dict:
    lat, lon = site.latitude or 55.4904, site.longitude or 9.4722
    meta, file = _tag_keys()

    def at(dn: float, de: float) -> dict:  # metres north/east of the site's point
        return {"lat": round(lat + dn / 111_320, 6), "lon": round(lon + de / (111_320 * 0.567), 6), "radius_m": 35}

    return {
        "checkpoints": [
            {"code": "gatehouse", "name": "Gatehouse", "kind": "qr", "area": "reception", **at(0, 0)},
            {"code": "cold-store-door", "name": "Cold store door", "kind": "qr", "area": "cold-store", **at(120, 40)},
            {"code": "ammonia-room", "name": "Ammonia machine room", "kind": "nfc_sun", "area": "ammonia-machine-room",
             "tag_uid": SUN_UID, "sdm_meta_key": meta, "sdm_file_key": file, **at(180, 140)},
            {"code": "loading-dock", "name": "Loading dock", "kind": "gps", **at(90, 260)},
            {"code": "fence-north", "name": "North fence", "kind": "qr", "area": "site-grounds", **at(260, 120)},
        ],
        "tours": [{"slug": TOUR, "name": "Night round", "rrule": "FREQ=DAILY;BYHOUR=22;BYMINUTE=0",
                   "starts_on": "2026-01-01", "start_time": "22:00", "walking_speed_mps": 2.0,
                   "stops": [{"checkpoint": "gatehouse", "offset_min": 0, "tolerance_min": 10},
                             {"checkpoint": "cold-store-door", "offset_min": 8, "tolerance_min": 10},
                             {"checkpoint": "ammonia-room", "offset_min": 16, "tolerance_min": 10},
                             {"checkpoint": "loading-dock", "offset_min": 26, "tolerance_min": 10},
                             {"checkpoint": "fence-north", "offset_min": 36, "tolerance_min": 10}]}],
    }


def load() -> list[str]:
    from linewatch.patrols import services
    from linewatch.patrols.models import PatrolRun, Tour

    site = Site.objects.filter(slug=SITE).first()
    if site is None:
        return [f"Patrols: no {SITE} site, skipped"]
    if not Tour.objects.filter(site=site, slug=TOUR).exists():
        services.load_tours(site, _tours(site), source="patrols demo")
    tour = Tour.objects.get(site=site, slug=TOUR)
    if PatrolRun.objects.filter(tour=tour).exists():  # loaded before: the month is anchored to that first day
        return _summary(site, tour, 0)
    return _generate(site, tour)


def _generate(site: Site, tour) -> list[str]:
    from linewatch.patrols import services
    from linewatch.patrols.engine import sun
    from linewatch.patrols.engine.schedule import occurrences
    from linewatch.patrols.models import Checkpoint, PatrolRun
    from linewatch.patrols.synthetic import camera_exif, jpeg, scene

    stops = list(tour.stops.select_related("checkpoint").order_by("position"))
    zone = ZoneInfo(site.timezone)
    today = dt.datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    starts = occurrences(tour.rrule, dt.datetime(2026, 1, 1, 22, 0), site.timezone,
                         today - dt.timedelta(days=DAYS), today)
    meta, file = (bytes.fromhex(k) for k in _tag_keys())
    rng = random.Random(424)
    counter = 100
    kept_photo: bytes | None = None
    made = 0
    for day, start in enumerate(starts):
        run_uid = uuid.uuid5(NS, f"run {start.isoformat()}")
        guard = GUARDS[day % len(GUARDS)]
        if PatrolRun.objects.filter(uid=run_uid).exists():
            counter += len(stops)
            continue
        made += 1
        run, _ = services.start_run(None, tour, run_uid, start, guard_name=guard)
        skip = guard == SKIPPER and day == 14
        late = day == 20
        replay_url = None
        for stop in stops:
            cp = stop.checkpoint
            if skip and cp.code == "loading-dock":
                continue  # walked past it: the run closes with a missed checkpoint
            at = start + dt.timedelta(minutes=stop.offset_min, seconds=rng.randrange(0, 240))
            if late and cp.code == "fence-north":
                at += dt.timedelta(minutes=17)
            lat = cp.latitude + rng.uniform(-8, 8) / 111_320
            lon = cp.longitude + rng.uniform(-8, 8) / 63_000
            scan_uid = uuid.uuid5(run_uid, cp.code)
            if cp.kind == "nfc_sun":
                counter += 1
                method, payload = "nfc", sun.tap_url(f"https://linewatch.local/patrol/nfc/{SITE}/{cp.code}/", meta,
                                                     file, SUN_UID, counter, rng.randbytes(5))
                replay_url = payload
            elif cp.kind == "gps":
                method, payload = "gps", cp.code
            else:
                method, payload = "qr", services.qr_token(cp)
            scan, _ = services.record_scan(run, scan_uid, method=method, payload=payload, at=at, lat=lat, lon=lon,
                                           accuracy=rng.uniform(4, 15), note="")
            if cp.code == "cold-store-door":
                # day 16: the same picture as on day 7, re-saved smaller with a fresh time stamp
                reuse = guard == REUSER and day == 16 and kept_photo is not None
                picture = _reencode(kept_photo) if reuse else scene(10_000 + day)
                data = jpeg(picture, 70, exif=camera_exif(at.astimezone(zone), lat, lon))
                if day == 7:
                    kept_photo = data
                services.add_photo(site, data, uuid.uuid5(scan_uid, "photo"), guard_name=guard, scan=scan)
        if day == 24 and replay_url:  # a screenshot of an earlier tap, "scanned" again at the end of the round
            services.record_scan(run, uuid.uuid5(run_uid, "replay"), method="nfc", payload=replay_url,
                                 at=start + dt.timedelta(minutes=44), note="tapped twice")
        services.analyse_run(run, finish=True)
    Checkpoint.objects.filter(pk=stops[2].checkpoint.pk, sdm_counter__lt=counter).update(sdm_counter=counter)
    return _summary(site, tour, made)


def _summary(site: Site, tour, made: int) -> list[str]:
    from linewatch.patrols.models import PatrolException, PatrolRun

    zone = ZoneInfo(site.timezone)
    runs = PatrolRun.objects.filter(tour=tour)
    done = runs.filter(status="done")
    average = sum(r.completion for r in done) / done.count() if done.count() else 0.0
    exceptions = PatrolException.objects.filter(site=site)
    by_kind: dict[str, int] = {}
    for kind in exceptions.values_list("kind", flat=True):
        by_kind[kind] = by_kind.get(kind, 0) + 1
    lines = [f"Patrols: {runs.count()} night rounds at {SITE} over {DAYS} days ({made} new), average completion "
             f"{average:.1f} %, {runs.filter(completion__lt=100).count()} with a checkpoint skipped; "
             f"{exceptions.count()} exceptions: " + ", ".join(f"{n} {k}" for k, n in sorted(by_kind.items()))]
    for e in exceptions.filter(kind__in=["photo_reuse", "missed", "unverified"]).select_related("run")[:5]:
        lines.append(f"  {e.at.astimezone(zone):%Y-%m-%d %H:%M} {e.kind} at {e.checkpoint} ({e.run.guard_name}): "
                     f"{e.detail[:110]}")
    return lines


def _reencode(data: bytes):
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        return img.convert("RGB").resize((img.width * 9 // 10, img.height * 9 // 10))
