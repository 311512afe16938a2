"""Patrol operations the guard page, the API, the CLI and the demo all call: tours from a file,
runs, scans (QR token, typed code, NFC SUN URL, GPS), photos with their checks, exceptions as pipeline
events, guard incident reports, and the idempotent offline sync. Every scan, photo, exception and
report is also an evidence record in the site's ledger."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import threading
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from linewatch import paths
from linewatch.core.models import Area, Site
from linewatch.core.permissions import Cap, can
from linewatch.errors import InputError
from linewatch.events.schema import Event, EventClass, PatrolActivity, Severity, event_uid
from linewatch.patrols.choices import EXCEPTION_LABELS, INCIDENT_CATEGORIES, SEVERITIES
from linewatch.patrols.engine import analysis, photos, qrtoken, sun
from linewatch.patrols.models import (
    Checkpoint,
    CheckpointKind,
    IncidentReport,
    PatrolException,
    PatrolRun,
    Photo,
    RunStatus,
    Scan,
    ScanMethod,
    Tour,
    TourStop,
)

MAX_PHOTO_BYTES = 12 * 1024 * 1024
MAX_SYNC_ITEMS = 500
SEVERE = {"badge_conflict", "unverified", "photo_reuse", "photo_duplicate", "too_fast", "c2pa_invalid"}


def qr_key() -> bytes:
    """The installation's key for checkpoint codes, derived from its secret key (never stored apart)."""
    return hmac.new(paths.secret_key().encode(), b"linewatch patrol checkpoint codes", hashlib.sha256).digest()


def qr_token(checkpoint: Checkpoint) -> str:
    return qrtoken.sign(qr_key(), checkpoint.site.slug, checkpoint.code)


def typed_code(checkpoint: Checkpoint) -> str:
    return qrtoken.short_code(qr_key(), checkpoint.site.slug, checkpoint.code)


def _record(site: Site, kind: str, body: dict, at: dt.datetime | None = None) -> None:
    from linewatch.evidence.records import record

    record(site, kind, body, at=at)


# ------------------------------------------------------------------ tours from a file


def load_tours(site: Site, doc: dict, source: str = "tours") -> dict[str, int]:
    """Create or update the site's checkpoints and tours from a document:
    `{checkpoints: [{code, name, kind, area, lat, lon, radius_m, tag_uid, sdm_meta_key, sdm_file_key}],
      tours: [{slug, name, rrule, starts_on, start_time, walking_speed_mps, stops: [{checkpoint, offset_min,
      tolerance_min}]}]}`. Every problem is reported with its path before anything is written."""
    errors: list[InputError] = []
    cps = doc.get("checkpoints") or []
    tours = doc.get("tours") or []
    codes = set()
    for i, cp in enumerate(cps):
        where = f"checkpoints[{i}]"
        if not isinstance(cp, dict) or not cp.get("code") or not cp.get("name"):
            errors.append(InputError(source, where, "a checkpoint needs code and name"))
            continue
        codes.add(cp["code"])
        if cp.get("kind", "qr") not in CheckpointKind.values:
            errors.append(InputError(source, f"{where}.kind", f"one of {', '.join(CheckpointKind.values)}"))
        if cp.get("kind") == CheckpointKind.NFC_SUN:
            for key in ("sdm_meta_key", "sdm_file_key"):
                try:
                    if len(bytes.fromhex(str(cp.get(key, "")))) != 16:
                        raise ValueError
                except ValueError:
                    errors.append(InputError(source, f"{where}.{key}", "a SUN tag needs a 16-byte AES key in hex"))
        if cp.get("kind") == CheckpointKind.GPS and not (cp.get("lat") is not None and cp.get("radius_m")):
            errors.append(InputError(source, where, "a GPS checkpoint needs lat, lon and radius_m"))
        if cp.get("area") and not Area.objects.filter(site=site, slug=cp["area"]).exists():
            errors.append(InputError(source, f"{where}.area", f"no area {cp['area']!r} at {site.slug}"))
    known = codes | set(Checkpoint.objects.filter(site=site).values_list("code", flat=True))
    for i, tour in enumerate(tours):
        where = f"tours[{i}]"
        if not isinstance(tour, dict) or not tour.get("slug") or not tour.get("stops"):
            errors.append(InputError(source, where, "a tour needs slug and stops"))
            continue
        if tour.get("rrule"):
            from linewatch.patrols.engine.schedule import occurrences

            try:
                occurrences(tour["rrule"], dt.datetime(2026, 1, 1), site.timezone, timezone.now(), timezone.now())
            except ValueError as exc:
                errors.append(InputError(source, f"{where}.rrule", str(exc)))
        for j, stop in enumerate(tour["stops"]):
            if not isinstance(stop, dict) or stop.get("checkpoint") not in known:
                errors.append(InputError(source, f"{where}.stops[{j}]", f"unknown checkpoint {stop!r}"))
    if errors:
        from linewatch.errors import InputErrors

        raise InputErrors(errors)
    counts = {"checkpoints": 0, "tours": 0}
    with transaction.atomic():
        for cp in cps:
            area = Area.objects.filter(site=site, slug=cp["area"]).first() if cp.get("area") else None
            Checkpoint.objects.update_or_create(site=site, code=cp["code"], defaults={
                "name": cp["name"], "kind": cp.get("kind", CheckpointKind.QR), "area": area,
                "latitude": cp.get("lat"), "longitude": cp.get("lon"), "radius_m": cp.get("radius_m"),
                "tag_uid": str(cp.get("tag_uid", "")).upper(), "sdm_meta_key": cp.get("sdm_meta_key", ""),
                "sdm_file_key": cp.get("sdm_file_key", "")})
            counts["checkpoints"] += 1
        for t in tours:
            tour, _ = Tour.objects.update_or_create(site=site, slug=t["slug"], defaults={
                "name": t.get("name", t["slug"]), "rrule": t.get("rrule", ""),
                "starts_on": t.get("starts_on"), "start_time": t.get("start_time"),
                "walking_speed_mps": float(t.get("walking_speed_mps", 2.0))})
            tour.stops.all().delete()
            for position, stop in enumerate(t["stops"], 1):
                TourStop.objects.create(tour=tour, position=position,
                                        checkpoint=Checkpoint.objects.get(site=site, code=stop["checkpoint"]),
                                        offset_min=int(stop.get("offset_min", 0)),
                                        tolerance_min=int(stop.get("tolerance_min", 10)))
            counts["tours"] += 1
    return counts


def tours_for(sites) -> list[dict]:
    """The active tours at these sites with their stops, as the guard page and the API hand them out."""
    out = []
    for tour in Tour.objects.filter(site__in=sites, active=True).select_related("site").prefetch_related(
            "stops__checkpoint").order_by("site__slug", "slug"):
        out.append({"site": tour.site.slug, "site_name": tour.site.name, "tour": tour.slug, "name": tour.name,
                    "stops": [{"code": s.checkpoint.code, "name": s.checkpoint.name, "kind": s.checkpoint.kind,
                               "offset_min": s.offset_min} for s in tour.stops.all()]})
    return out


# ------------------------------------------------------------------ runs and scans


def _aware(value: Any, field: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        when = value
    else:
        when = parse_datetime(str(value or ""))
        if when is None:
            raise InputError("sync", field, f"not an ISO 8601 time: {value!r}")
    if when.tzinfo is None:
        raise InputError("sync", field, "the time needs an offset (e.g. 2026-03-29T02:30:00+02:00)")
    return when


def _uuid(value: Any, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InputError("sync", field, f"not a UUID: {value!r}") from None


def start_run(user, tour: Tour, uid: uuid.UUID, started: dt.datetime, guard_name: str = "") -> tuple[PatrolRun, bool]:
    """The run with this client id, created once."""
    run = PatrolRun.objects.filter(uid=uid).first()
    if run is not None:
        if run.tour_id != tour.pk:
            raise InputError("sync", str(uid), "this run id belongs to another tour")
        return run, False
    name = guard_name or (user.get_username() if user is not None else "")
    run = PatrolRun.objects.create(uid=uid, tour=tour, guard=user if getattr(user, "pk", None) else None,
                                   guard_name=name, started=started)
    return run, True


def verify_payload(site: Site, method: str, payload: str, lat: float | None = None, lon: float | None = None,
                   accuracy: float | None = None) -> tuple[Checkpoint | None, bool, str, int | None]:
    """(checkpoint, verified, why, SUN counter) for what the guard scanned. A SUN tap moves the tag's
    counter, under a row lock, so the same URL sent twice is accepted once."""
    payload = payload.strip()
    if method == ScanMethod.NFC and ("e=" in payload or "picc_data=" in payload):
        code = _nfc_code(payload)
        with transaction.atomic():
            cp = Checkpoint.objects.select_for_update().filter(site=site, code=code).first()
            if cp is None:
                return None, False, f"no checkpoint {code!r} at {site.slug}", None
            if cp.kind != CheckpointKind.NFC_SUN:
                return cp, False, "this checkpoint has no SUN tag", None
            try:
                params = sun.params_of(payload)
                result = sun.verify(bytes.fromhex(cp.sdm_meta_key), bytes.fromhex(cp.sdm_file_key),
                                    params["picc_data"], params["mac"], params.get("enc"),
                                    expected_uid=cp.tag_uid or None)
                sun.check_counter(result.counter, cp.sdm_counter)
            except sun.SunError as exc:
                return cp, False, str(exc), None
            cp.sdm_counter = result.counter
            cp.save(update_fields=["sdm_counter"])
            return cp, True, f"SUN tap verified (tag {result.uid}, counter {result.counter})", result.counter
    if method == ScanMethod.NFC:
        cp = Checkpoint.objects.filter(site=site, tag_uid=payload.upper().replace(":", "")).first()
        if cp is None:
            return None, False, f"no checkpoint with tag {payload!r} at {site.slug}", None
        if cp.kind == CheckpointKind.NFC_SUN:
            return cp, False, "a SUN tag must be read as its URL (a bare UID can be cloned)", None
        return cp, True, "NFC tag UID (static, not cryptographically proven)", None
    if method == ScanMethod.GPS:
        cp = Checkpoint.objects.filter(site=site, code=payload).first()
        if cp is None or cp.kind != CheckpointKind.GPS:
            return cp, False, f"no GPS checkpoint {payload!r} at {site.slug}", None
        if lat is None or lon is None:
            return cp, False, "no position from the device", None
        from linewatch.patrols.engine.geo import outside_fence

        beyond = outside_fence(lat, lon, accuracy, (cp.latitude, cp.longitude), cp.radius_m or 0)
        if beyond is not None:
            return cp, False, f"position {beyond:.0f} m outside the geofence", None
        return cp, True, "position inside the geofence", None
    try:
        code = qrtoken.verify_typed(qr_key(), site.slug, payload)
    except ValueError as exc:
        return None, False, str(exc), None
    cp = Checkpoint.objects.filter(site=site, code=code).first()
    if cp is None:
        return None, False, f"no checkpoint {code!r} at {site.slug}", None
    if cp.kind != CheckpointKind.QR:  # a code would bypass the tag's or the position's proof
        return cp, False, f"{cp.get_kind_display()} checkpoint: tap its tag or send the position, not a code", None
    return cp, True, "signed checkpoint code" if method == ScanMethod.QR else "typed checkpoint code (signed)", None


def _nfc_code(payload: str) -> str:
    """The checkpoint code in a tag URL: `…/patrol/nfc/<site>/<code>/?e=…&c=…` or `?cp=<code>`."""
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(payload)
    if cp := parse_qs(parts.query).get("cp"):
        return cp[0]
    segments = [s for s in parts.path.split("/") if s]
    return segments[-1] if segments else ""


def record_scan(run: PatrolRun, uid: uuid.UUID, *, method: str, payload: str, at: dt.datetime,
                lat: float | None = None, lon: float | None = None, accuracy: float | None = None,
                note: str = "") -> tuple[Scan, bool]:
    """Store one scan once (by its client id), verified, and put it in the ledger."""
    existing = Scan.objects.filter(uid=uid).first()
    if existing is not None:
        return existing, False
    if method not in ScanMethod.values:
        raise InputError("sync", str(uid), f"method is one of {', '.join(ScanMethod.values)}")
    site = run.tour.site
    cp, ok, why, counter = verify_payload(site, method, payload, lat, lon, accuracy)
    if cp is not None and not run.tour.stops.filter(checkpoint=cp).exists():
        ok, why = False, f"{cp.code} is not on tour {run.tour.slug}"
    scan = Scan.objects.create(uid=uid, run=run, checkpoint=cp, at=at, method=method, payload=payload[:2000],
                               latitude=lat, longitude=lon, accuracy_m=accuracy, verified=ok,
                               verification=why[:300], sun_counter=counter, note=note[:4000])
    _record(site, "patrol.scan", {
        "scan": scan.uid, "run": run.uid, "tour": run.tour.slug, "guard": run.guard_name,
        "checkpoint": cp.code if cp else None, "method": method, "payload": payload[:2000],
        "position": {"lat": lat, "lon": lon, "accuracy_m": accuracy} if lat is not None else None,
        "verified": ok, "verification": why, "sun_counter": counter, "note": note or None}, at=at)
    return scan, True


# ------------------------------------------------------------------ photos


class _ReuseIndex:
    """pHashes of every stored photo in a hash index, brought up to date from the newest rows on each use.
    If rows it holds have gone (a rolled-back transaction, another database), it is rebuilt."""

    def __init__(self) -> None:
        self.index = photos.ReuseIndex()
        self.last_id = 0
        self.rows = 0
        self.lock = threading.Lock()

    def refresh(self) -> None:
        if self.rows and Photo.objects.filter(pk__lte=self.last_id).count() != self.rows:
            self.index, self.last_id, self.rows = photos.ReuseIndex(), 0, 0
        rows = Photo.objects.filter(pk__gt=self.last_id).order_by("pk").values_list("pk", "phash", "crop_hashes")
        for pk, ph, crops in rows:
            self.add(pk, [int(v, 16) for v in [ph, *crops]])

    def add(self, pk: int, hashes: list[int]) -> None:
        self.index.add(hashes, pk)
        self.last_id = max(self.last_id, pk)
        self.rows += 1


_index = _ReuseIndex()


def reset_reuse_index() -> None:
    global _index
    _index = _ReuseIndex()


def add_photo(site: Site, data: bytes, uid: uuid.UUID, *, guard_name: str, scan: Scan | None = None,
              report: IncidentReport | None = None) -> tuple[Photo, bool]:
    """Store a photo once (by client id): bytes content-addressed, pHash, EXIF, C2PA, and the checks
    against the scan and every earlier photo. Problems become exceptions of the run."""
    existing = Photo.objects.filter(uid=uid).first()
    if existing is not None:
        return existing, False
    if len(data) > MAX_PHOTO_BYTES:
        raise InputError("photo", str(uid), f"larger than {MAX_PHOTO_BYTES // 1024 // 1024} MB")
    try:
        hashes = photos.photo_hashes(data)
    except photos.PhotoError as exc:
        raise InputError("photo", str(uid), str(exc)) from None
    digest = photos.sha256(data)
    from linewatch.evidence.records import attach_blob

    attach_blob(data, "image/jpeg")
    summary = photos.exif_summary(data)
    credentials = photos.c2pa_state(data)
    checks: list[dict[str, Any]] = []
    if scan is not None:
        cp = scan.checkpoint
        place = (cp.latitude, cp.longitude) if cp and cp.latitude is not None else None
        for problem in photos.plausibility(summary, scan_at=scan.at, tz=site.timezone, place=place):
            checks.append({"kind": problem.kind, "detail": problem.detail})
    with _index.lock:
        _index.refresh()
        earlier = Photo.objects.filter(sha256=digest).order_by("pk").first()
        if earlier is not None:
            checks.append({"kind": "photo_duplicate", "detail": f"byte-identical to photo {earlier.uid} "
                           f"({earlier.guard_name}, {_taken(earlier, site):%Y-%m-%d %H:%M})", "of": str(earlier.uid)})
        else:
            near = _index.index.near(hashes, photos.REUSE_DISTANCE)
            found = {p.pk: p for p in Photo.objects.filter(pk__in={pk for _, pk in near}).select_related("scan")}
            near = [(d, pk) for d, pk in near if pk in found]
            if near:
                distance, pk = near[0]
                first = found[pk]
                checks.append({"kind": "photo_reuse", "detail": f"the same picture as photo {first.uid} "
                               f"({first.guard_name}, {_taken(first, site):%Y-%m-%d %H:%M}; pHash distance {distance})",
                               "of": str(first.uid), "distance": distance})
        if credentials.get("state") == "Invalid":
            checks.append({"kind": "c2pa_invalid", "detail": "content credentials do not validate: "
                           + ", ".join(credentials.get("status_codes", []))[:200]})
        photo = Photo.objects.create(uid=uid, site=site, scan=scan, report=report, guard_name=guard_name,
                                     sha256=digest, phash=f"{hashes[0]:016x}",
                                     crop_hashes=[f"{h:016x}" for h in hashes[1:]], size=len(data), exif=summary,
                                     c2pa=credentials, checks=checks)
        _index.add(photo.pk, hashes)
    _record(site, "patrol.photo", {
        "photo": photo.uid, "scan": scan.uid if scan else None, "report": report.uid if report else None,
        "guard": guard_name, "sha256": digest, "media_type": "image/jpeg", "phash": photo.phash,
        "exif": summary, "c2pa": credentials.get("state"), "checks": checks}, at=scan.at if scan else None)
    if scan is not None:
        for check in checks:
            _raise_exception(scan.run, check["kind"], scan.checkpoint.code if scan.checkpoint else "",
                             check["detail"], scan.at, scan=scan, photo=photo)
    return photo, True


def _taken(photo: Photo, site: Site) -> dt.datetime:
    return (photo.scan.at if photo.scan_id else photo.received).astimezone(ZoneInfo(site.timezone))


def photo_bytes(photo: Photo) -> bytes:
    from linewatch.evidence.records import read_blob

    return read_blob(photo.sha256)


# ------------------------------------------------------------------ exceptions


def _stops(tour: Tour) -> list[analysis.Stop]:
    return [analysis.Stop(code=s.checkpoint.code, position=s.position, offset=dt.timedelta(minutes=s.offset_min),
                          tolerance=dt.timedelta(minutes=s.tolerance_min), lat=s.checkpoint.latitude,
                          lon=s.checkpoint.longitude, radius_m=s.checkpoint.radius_m,
                          area=s.checkpoint.area.slug if s.checkpoint.area else "")
            for s in tour.stops.select_related("checkpoint__area").order_by("position")]


def _scans(run: PatrolRun) -> list[analysis.Scan]:
    return [analysis.Scan(uid=str(s.uid), code=s.checkpoint.code if s.checkpoint else "", at=s.at, lat=s.latitude,
                          lon=s.longitude, accuracy_m=s.accuracy_m, verified=s.verified,
                          why_unverified=s.verification)
            for s in run.scans.select_related("checkpoint").order_by("at", "id")]


def badges_of(guard_name: str, start: dt.datetime, end: dt.datetime) -> list[analysis.Badge]:
    """The guard's badge grants from the stored physical-access events in [start, end]."""
    from linewatch.events.models import StoredEvent
    from linewatch.events.schema import PhysicalAccessActivity

    out = []
    rows = StoredEvent.objects.filter(class_uid=EventClass.PHYSICAL_ACCESS, activity_id=PhysicalAccessActivity.GRANTED,
                                      time__gte=start, time__lte=end).values_list("time", "site_slug", "body")
    for time, site_slug, body in rows:
        attrs = (body or {}).get("attrs", {})
        if guard_name and guard_name in (attrs.get("actor.user.name"), attrs.get("actor.user.uid")):
            out.append(analysis.Badge(at=time, site=site_slug, area=attrs.get("area.name") or ""))
    return out


GRACE = dt.timedelta(minutes=30)  # how long after a tour's last window a silent run is closed as missed


def analyse_run(run: PatrolRun, now: dt.datetime | None = None, finish: bool = False,
                scans_only: bool = False) -> list[PatrolException]:
    """Find the run's exceptions, keep new ones (each once) and publish them; update completion.

    A checkpoint is `missed` only when the run closes: the guard finished it (`finish`), or its last window
    plus GRACE has passed (the `linewatch patrols analyse` job). `scans_only` (while a sync is still bringing
    in a run's scans, possibly hours late from an offline phone) checks the scans alone and closes nothing."""
    now = now or timezone.now()
    stops, scans = _stops(run.tour), _scans(run)
    window = max((s.offset + s.tolerance for s in stops), default=dt.timedelta(0))
    closing = not scans_only and (finish or run.status == RunStatus.DONE or now > run.started + window + GRACE)
    engine_now = max(now, run.started + window + dt.timedelta(seconds=1)) if closing else run.started
    end = max([run.started + window] + [s.at for s in scans])
    badges = badges_of(run.guard_name, run.started - dt.timedelta(hours=1), end + dt.timedelta(hours=1))
    settings = analysis.Settings(walking_speed_mps=run.tour.walking_speed_mps)
    local_start = run.started.astimezone(ZoneInfo(run.tour.site.timezone))
    findings = analysis.analyse(stops, local_start, scans, site=run.tour.site.slug, now=engine_now, badges=badges,
                                settings=settings)
    scan_rows = {str(s.uid): s for s in run.scans.all()}
    made = [_raise_exception(run, f.kind, f.code, f.detail, f.at, scan=scan_rows.get(f.scan_uid)) for f in findings]
    run.completion = analysis.completion(stops, scans)
    if closing and run.status == RunStatus.OPEN:
        run.status, run.finished = RunStatus.DONE, max([s.at for s in scans], default=engine_now)
    run.save(update_fields=["completion", "status", "finished"])
    return [m for m in made if m is not None]


def _raise_exception(run: PatrolRun, kind: str, code: str, detail: str, at: dt.datetime, *, scan: Scan | None = None,
                     photo: Photo | None = None) -> PatrolException | None:
    site = run.tour.site
    uid = event_uid("patrol-exception", str(run.uid), kind, code, str(scan.uid) if scan else "")
    if PatrolException.objects.filter(event_uid=uid).exists():
        return None
    row = PatrolException.objects.create(run=run, site=site, kind=kind, checkpoint=code, scan=scan, photo=photo,
                                         detail=detail[:400], at=at, event_uid=uid)
    label = EXCEPTION_LABELS.get(kind, kind)
    event = Event(uid=uid, time=int(at.timestamp() * 1000), class_uid=int(EventClass.PATROL_CHECKPOINT),
                  activity_id=int(PatrolActivity.CHECKPOINT_MISSED if kind == "missed" else PatrolActivity.OTHER),
                  severity_id=int(Severity.HIGH if kind in SEVERE else Severity.MEDIUM), status_id=2,
                  message=f"{label}: {code or 'tour'} on {run.tour.name} ({run.guard_name}) — {detail}",
                  source="patrols", site=site.slug,
                  attrs={k: v for k, v in {
                      "actor.user.name": run.guard_name, "patrol.tour.name": run.tour.name,
                      "patrol.tour.uid": str(run.uid), "checkpoint.uid": code or None, "patrol.exception": kind,
                      "patrol.status": "exception", "patrol.note": detail}.items() if v is not None})
    from linewatch.events.bus import get_bus

    get_bus().publish([event])
    _record(site, "patrol.exception", {"exception": kind, "run": run.uid, "tour": run.tour.slug,
                                       "guard": run.guard_name, "checkpoint": code or None, "detail": detail,
                                       "scan": scan.uid if scan else None, "event": uid}, at=at)
    return row


# ------------------------------------------------------------------ guard incident reports


def file_report(user, site: Site, uid: uuid.UUID, fields: dict[str, Any], photo_data: list[bytes] = (),
                guard_name: str = "") -> tuple[IncidentReport, bool]:
    existing = IncidentReport.objects.filter(uid=uid).first()
    if existing is not None:
        return existing, False
    errors = []
    category = str(fields.get("category") or "")
    if category not in dict(INCIDENT_CATEGORIES):
        errors.append(InputError("report", "category", f"one of {', '.join(dict(INCIDENT_CATEGORIES))}"))
    severity = str(fields.get("severity") or "medium")
    if severity not in dict(SEVERITIES):
        errors.append(InputError("report", "severity", f"one of {', '.join(dict(SEVERITIES))}"))
    for name in ("what", "where"):
        if not str(fields.get(name) or "").strip():
            errors.append(InputError("report", name, "required"))
    try:
        occurred = _aware(fields.get("when"), "when")
    except InputError as exc:
        errors.append(InputError("report", "when", exc.message))
    if errors:
        raise errors[0]
    name = guard_name or (user.get_username() if user is not None else "")
    with transaction.atomic():
        report = IncidentReport.objects.create(
            uid=uid, site=site, guard=user if getattr(user, "pk", None) else None, guard_name=name,
            category=category, what=str(fields["what"])[:8000], where=str(fields["where"])[:200], occurred=occurred,
            who=str(fields.get("who") or "")[:4000], actions=str(fields.get("actions") or "")[:8000],
            severity=severity)
        stored = [add_photo(site, data, uuid.uuid5(uid, str(i)), guard_name=name, report=report)[0]
                  for i, data in enumerate(photo_data)]
        _record(site, "patrol.incident_report", {
            "report": report.uid, "guard": name, "category": category, "severity": severity, "what": report.what,
            "where": report.where, "when": occurred, "who": report.who, "actions": report.actions,
            "photos": [{"sha256": p.sha256, "media_type": "image/jpeg"} for p in stored]}, at=occurred)
        sev = {"low": Severity.LOW, "medium": Severity.MEDIUM, "high": Severity.HIGH, "critical": Severity.CRITICAL}
        from linewatch.events.bus import get_bus

        get_bus().publish([Event(
            uid=event_uid("patrol-report", str(uid)), time=int(occurred.timestamp() * 1000),
            class_uid=int(EventClass.PATROL_CHECKPOINT), activity_id=int(PatrolActivity.INCIDENT_REPORTED),
            severity_id=int(sev[severity]), message=f"{name} reported {category} at {report.where}: "
            f"{report.what[:200]}", source="patrols", site=site.slug,
            attrs={"actor.user.name": name, "patrol.note": report.what[:1000], "area.name": report.where,
                   "patrol.status": "incident"})])
    return report, True


# ------------------------------------------------------------------ offline sync


def sync(user, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply the guard's queued operations in order; each has a client id, so re-sending is harmless.
    Kinds: run (start a tour), scan, photo (base64 JPEG, of a scan), finish, report. Answers per item."""
    if not isinstance(items, list):
        raise InputError("sync", "items", "a list of operations")
    if len(items) > MAX_SYNC_ITEMS:
        raise InputError("sync", "items", f"at most {MAX_SYNC_ITEMS} per request")
    results = []
    for n, item in enumerate(items):
        ident = str(item.get("id", "")) if isinstance(item, dict) else ""
        try:
            if not isinstance(item, dict):
                raise InputError("sync", f"items[{n}]", "an object")
            status = _apply(user, item, f"items[{n}]")
            results.append({"id": ident, "status": status})
        except InputError as exc:
            results.append({"id": ident, "status": "rejected", "reason": str(exc)})
    counts = {s: sum(r["status"] == s for r in results) for s in ("accepted", "duplicate", "rejected")}
    return {**counts, "results": results}


def _site_for(user, site: Site, place: str) -> Site:
    if not can(user, Cap.PATROL, site):
        raise InputError("sync", place, f"you do not patrol at site {site.slug}")
    return site


def _apply(user, item: dict[str, Any], place: str) -> str:
    kind = item.get("type")
    uid = _uuid(item.get("id"), f"{place}.id")
    if kind == "run":
        tour = Tour.objects.select_related("site").filter(site__slug=item.get("site"), slug=item.get("tour")).first()
        if tour is None:
            raise InputError("sync", f"{place}.tour", f"no tour {item.get('tour')!r} at {item.get('site')!r}")
        _site_for(user, tour.site, place)
        _, created = start_run(user, tour, uid, _aware(item.get("at"), f"{place}.at"))
        return "accepted" if created else "duplicate"
    if kind == "report":
        site = Site.objects.filter(slug=item.get("site")).first()
        if site is None:
            raise InputError("sync", f"{place}.site", f"no site {item.get('site')!r}")
        _site_for(user, site, place)
        _, created = file_report(user, site, uid, item, [_b64(p, f"{place}.photos") for p in item.get("photos") or []])
        return "accepted" if created else "duplicate"
    run = PatrolRun.objects.select_related("tour__site").filter(uid=_uuid(item.get("run"), f"{place}.run")).first()
    if run is None:
        raise InputError("sync", f"{place}.run", "unknown run (send its `run` item first)")
    _site_for(user, run.tour.site, place)
    if run.guard_id and run.guard_id != getattr(user, "pk", None):
        raise InputError("sync", f"{place}.run", "another guard's run")
    if kind == "scan":
        _, created = record_scan(run, uid, method=str(item.get("method") or "manual"),
                                 payload=str(item.get("payload") or ""), at=_aware(item.get("at"), f"{place}.at"),
                                 lat=_float(item.get("lat")), lon=_float(item.get("lon")),
                                 accuracy=_float(item.get("accuracy")), note=str(item.get("note") or ""))
        if created:
            analyse_run(run, scans_only=True)
        return "accepted" if created else "duplicate"
    if kind == "photo":
        scan = Scan.objects.filter(uid=_uuid(item.get("scan"), f"{place}.scan"), run=run).first()
        if scan is None:
            raise InputError("sync", f"{place}.scan", "unknown scan of this run")
        _, created = add_photo(run.tour.site, _b64(item.get("data"), f"{place}.data"), uid,
                               guard_name=run.guard_name, scan=scan)
        return "accepted" if created else "duplicate"
    if kind == "finish":
        if run.finish_uid == uid:
            return "duplicate"
        run.finish_uid = uid
        run.save(update_fields=["finish_uid"])
        analyse_run(run, finish=True)
        return "accepted"
    raise InputError("sync", f"{place}.type", "one of run, scan, photo, finish, report")


def _float(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _b64(value: Any, place: str) -> bytes:
    text = str(value or "")
    if text.startswith("data:"):
        text = text.split(",", 1)[-1]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("sync", place, "not base64 image data") from None
