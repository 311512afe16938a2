"""Photo checks: content hashes, EXIF summary and plausibility against the scan, C2PA content
credentials, and an index over 64-bit perceptual hashes so reuse is found against every earlier photo
without comparing all pairs.

pHash (imagehash, DCT of a 32×32 greyscale) survives resizing and recompression almost unchanged and
a light crop within a few bits; different scenes sit 25–35 bits apart, so a Hamming distance of 10 or
less is treated as the same picture. pHash alone drifts 10–20 bits when 5–10 % is cropped off, so each photo
is also hashed over centred and corner-anchored crops: a cropped copy then matches one of its original's
crop hashes (measured in tests/patrols/test_photos.py; unrelated scenes stay ≥ 12 bits apart).
Every earlier photo is searched through `HashIndex`, not by comparing all pairs."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import exifread
import imagehash
from PIL import Image, UnidentifiedImageError

from linewatch.patrols.engine.geo import haversine_m

REUSE_DISTANCE = 10  # Hamming bits out of 64
MAX_PIXELS = 40_000_000  # refuse decompression bombs


class PhotoError(ValueError):
    """The bytes are not an image Linewatch can read."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def phash(data: bytes) -> int:
    """The 64-bit DCT perceptual hash as an integer."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise PhotoError(f"image of {img.width}×{img.height} pixels is too large")
            return int(str(imagehash.phash(img.convert("RGB"))), 16)
    except (UnidentifiedImageError, OSError) as exc:
        raise PhotoError(f"not a readable image: {exc}") from None


CENTRE_CROPS = (0.05, 0.10, 0.15)  # share of each dimension removed, half on each side
CORNER_CROP = 0.08  # share removed from two adjacent edges, for each corner kept


def _boxes(w: int, h: int) -> list[tuple[int, int, int, int]]:
    out = [(0, 0, w, h)]
    for f in CENTRE_CROPS:
        dx, dy = int(w * f / 2), int(h * f / 2)
        out.append((dx, dy, w - dx, h - dy))
    dx, dy = int(w * CORNER_CROP), int(h * CORNER_CROP)
    out += [(dx, dy, w, h), (0, 0, w - dx, h - dy), (dx, 0, w, h - dy), (0, dy, w - dx, h)]
    return out


def photo_hashes(data: bytes) -> list[int]:
    """pHash of the whole image first, then of its crops (see the module docstring)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise PhotoError(f"image of {img.width}×{img.height} pixels is too large")
            rgb = img.convert("RGB")
            rgb.thumbnail((512, 512))  # pHash works on 32×32 anyway; keeps big photos fast
            return [int(str(imagehash.phash(rgb.crop(box))), 16) for box in _boxes(*rgb.size)]
    except (UnidentifiedImageError, OSError) as exc:
        raise PhotoError(f"not a readable image: {exc}") from None


def reuse_distance(a: list[int], b: list[int]) -> int:
    """How close two photos' hashes come, over the pairs where at least one side is a whole image: a copy
    is a crop of the original or the original a crop of the copy, never a crop of a crop."""
    return min(min(hamming(a[0], y) for y in b), min(hamming(x, b[0]) for x in a[1:]))


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def _flips(bits: int, up_to: int) -> list[int]:
    """Every mask of `bits` bits with at most `up_to` bits set."""
    masks = [0]
    for a in range(bits):
        masks.append(1 << a)
        if up_to >= 2:
            masks += [(1 << a) | (1 << b) for b in range(a + 1, bits)]
    return masks


class ReuseIndex:
    """Photos by their hashes, for `reuse_distance` lookups: the new photo's whole-image hash against every
    hash of the earlier photos, and its crop hashes against their whole-image hashes only."""

    def __init__(self) -> None:
        self.whole = HashIndex()
        self.every = HashIndex()

    def add(self, hashes: list[int], key: Any) -> None:
        self.whole.add(hashes[0], key)
        for value in hashes:
            self.every.add(value, key)

    def near(self, hashes: list[int], radius: int = REUSE_DISTANCE) -> list[tuple[int, Any]]:
        """(distance, key) of the earlier photos within `radius`, closest first, each photo once."""
        best: dict[Any, int] = {}
        hits = list(self.every.near(hashes[0], radius))
        for value in hashes[1:]:
            hits += self.whole.near(value, radius)
        for d, key in hits:
            if d < best.get(key, radius + 1):
                best[key] = d
        return sorted((d, key) for key, d in best.items())


class HashIndex:
    """Multi-index hashing over 64-bit hashes (Norouzi, Punjani & Fleet): each hash is filed under its four
    16-bit quarters. Two hashes at most 11 bits apart agree within 2 bits on at least one quarter (if every
    quarter differed in 3 or more, they would differ in 12 or more), so probing each quarter's value with
    up to 2 bits flipped (137 probes) finds every candidate; candidates are then checked in full. With
    hundreds of thousands of photos each bucket holds a handful of hashes, so a lookup touches thousands of
    entries instead of all of them (bench/bench_patrol_photos.py)."""

    QUARTERS = 4
    MAX_RADIUS = 11
    _MASKS = _flips(16, 2)

    def __init__(self) -> None:
        self._buckets: list[dict[int, list[tuple[int, Any]]]] = [{} for _ in range(self.QUARTERS)]
        self.size = 0

    def add(self, value: int, key: Any) -> None:
        self.size += 1
        for q in range(self.QUARTERS):
            self._buckets[q].setdefault((value >> (16 * q)) & 0xFFFF, []).append((value, key))

    def near(self, value: int, radius: int = REUSE_DISTANCE) -> Iterator[tuple[int, Any]]:
        """(distance, key) of every stored hash within `radius` bits (radius ≤ 11), each once."""
        if radius > self.MAX_RADIUS:
            raise ValueError(f"radius above {self.MAX_RADIUS} needs more quarters")
        seen: set[tuple[int, Any]] = set()  # keys must be hashable (photo ids are)
        for q in range(self.QUARTERS):
            part, buckets = (value >> (16 * q)) & 0xFFFF, self._buckets[q]
            for mask in self._MASKS:
                for stored, key in buckets.get(part ^ mask, ()):
                    d = (stored ^ value).bit_count()
                    if d <= radius and (stored, key) not in seen:
                        seen.add((stored, key))
                        yield d, key


# ------------------------------------------------------------------ EXIF


def _ratio(value: Any) -> float:
    return float(value.num) / float(value.den) if getattr(value, "den", 0) else float(value)


def _dms(values: Any, ref: str) -> float:
    d, m, s = (_ratio(v) for v in values.values)
    out = d + m / 60 + s / 3600
    return -out if ref.upper() in ("S", "W") else out


def exif_summary(data: bytes) -> dict[str, Any]:
    """The EXIF fields the checks use: capture time (with its offset when recorded), GPS, device, software."""
    try:
        tags = exifread.process_file(io.BytesIO(data), details=False)
    except Exception as exc:  # exifread raises many types on damaged files
        return {"error": f"EXIF unreadable: {exc}"}
    out: dict[str, Any] = {}
    for name, key in (("EXIF DateTimeOriginal", "taken"), ("EXIF OffsetTimeOriginal", "offset"),
                      ("Image Make", "make"), ("Image Model", "model"), ("Image Software", "software")):
        if name in tags:
            out[key] = str(tags[name]).strip().strip("\x00")
    if "taken" not in out and "Image DateTime" in tags:
        out["taken"] = str(tags["Image DateTime"]).strip()
    try:
        if "GPS GPSLatitude" in tags and "GPS GPSLongitude" in tags:
            out["lat"] = round(_dms(tags["GPS GPSLatitude"], str(tags.get("GPS GPSLatitudeRef", "N"))), 7)
            out["lon"] = round(_dms(tags["GPS GPSLongitude"], str(tags.get("GPS GPSLongitudeRef", "E"))), 7)
    except (ValueError, ZeroDivisionError, AttributeError) as exc:
        out["gps_error"] = f"GPS tags unreadable: {exc}"
    return out


def exif_time(summary: dict[str, Any], tz: str) -> dt.datetime | None:
    """The capture time as an aware datetime: its own offset when recorded, else the site's zone."""
    taken = summary.get("taken")
    if not taken:
        return None
    try:
        naive = dt.datetime.strptime(taken[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = summary.get("offset")
    if offset:
        try:
            return dt.datetime.strptime(f"{taken[:19]}{offset}", "%Y:%m:%d %H:%M:%S%z")
        except ValueError:
            pass
    return naive.replace(tzinfo=ZoneInfo(tz))


@dataclass(frozen=True)
class Problem:
    kind: str  # exif_time | exif_gps | exif_missing | exif_software
    detail: str


def plausibility(summary: dict[str, Any], *, scan_at: dt.datetime, tz: str, place: tuple[float, float] | None,
                 max_skew: dt.timedelta = dt.timedelta(minutes=10), max_distance_m: float = 150.0) -> list[Problem]:
    """Does the photo's own metadata agree with the scan it is attached to?"""
    problems: list[Problem] = []
    taken = exif_time(summary, tz)
    if taken is None:
        problems.append(Problem("exif_missing", "no capture time in EXIF (stripped, or not a camera photo)"))
    else:
        skew = abs(taken - scan_at)
        if skew > max_skew:
            problems.append(Problem("exif_time", f"taken {taken.isoformat()} — {int(skew.total_seconds() // 60)} min "
                                    f"from the scan at {scan_at.isoformat(timespec='seconds')}"))
    if place is not None and "lat" in summary:
        metres = haversine_m(summary["lat"], summary["lon"], *place)
        if metres > max_distance_m:
            problems.append(Problem("exif_gps", f"taken {metres:.0f} m from the checkpoint"))
    software = summary.get("software", "")
    if any(editor in software.lower() for editor in ("photoshop", "gimp", "lightroom", "snapseed", "picsart")):
        problems.append(Problem("exif_software", f"edited with {software}"))
    return problems


# ------------------------------------------------------------------ C2PA


def c2pa_state(data: bytes, mime: str = "image/jpeg") -> dict[str, Any]:
    """Content credentials where present: `state` is absent, Valid/Trusted/Invalid, or error."""
    try:
        import c2pa
    except ImportError:  # pragma: no cover - c2pa-python is locked, but keep ingest alive without it
        return {"state": "unavailable"}
    try:
        reader = c2pa.Reader(mime, io.BytesIO(data))
        import json

        report = json.loads(reader.json())
    except c2pa.C2paError as exc:
        text = str(exc)
        if "ManifestNotFound" in type(exc).__name__ or "no JUMBF" in text:
            return {"state": "absent"}
        return {"state": "error", "detail": text[:300]}
    active = report.get("manifests", {}).get(report.get("active_manifest", ""), {})
    statuses = [s.get("code", "") for s in report.get("validation_status", []) or []]
    generator = active.get("claim_generator") or ((active.get("claim_generator_info") or [{}])[0] or {}).get("name", "")
    return {"state": report.get("validation_state", "unknown"), "claim_generator": generator,
            "signer": (active.get("signature_info") or {}).get("issuer", ""), "status_codes": statuses[:20]}
