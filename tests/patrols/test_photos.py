"""Photo checks: reuse through resizing, recompression and light cropping; different scenes stay apart;
EXIF time and GPS plausibility; the hash index finds exactly what comparing all pairs finds."""

from __future__ import annotations

import datetime as dt
import io
import random
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from linewatch.patrols.engine import photos
from linewatch.patrols.synthetic import camera_exif, jpeg, scene

BERLIN = ZoneInfo("Europe/Berlin")


def crop(img: Image.Image, fraction: float) -> Image.Image:
    w, h = img.size
    dx, dy = int(w * fraction / 2), int(h * fraction / 2)
    return img.crop((dx, dy, w - dx, h - dy))


def corner(img: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = img.size
    return img.crop((int(w * left), int(h * top), w - int(w * right), h - int(h * bottom)))


@pytest.mark.parametrize("seed", range(1, 13))
def test_resized_recompressed_and_cropped_copies_are_caught(seed):
    original = scene(seed)
    base = photos.photo_hashes(jpeg(original, 90))
    copies = {
        "resized": jpeg(original.resize((160, 120))),
        "upscaled": jpeg(original.resize((640, 480))),
        "jpeg q40": jpeg(original, 40),
        "cropped 8% centred": jpeg(crop(original, 0.08)),
        "cropped 6% top-left": jpeg(corner(original, 0.06, 0.06, 0, 0)),
        "cropped 5% right, 4% bottom": jpeg(corner(original, 0, 0, 0.05, 0.04)),
        "cropped + resized + q40": jpeg(crop(original, 0.06).resize((200, 150)), 40),
    }
    for name, data in copies.items():
        assert photos.reuse_distance(base, photos.photo_hashes(data)) <= photos.REUSE_DISTANCE, name
        # and the other way round: the original sent after its copy
        assert photos.reuse_distance(photos.photo_hashes(data), base) <= photos.REUSE_DISTANCE, name


def test_plain_phash_alone_misses_some_crops_which_is_why_crops_are_hashed():
    misses = [seed for seed in range(1, 30) if photos.hamming(photos.phash(jpeg(scene(seed))), photos.phash(
        jpeg(crop(scene(seed), 0.08)))) > photos.REUSE_DISTANCE]
    assert misses


def test_different_scenes_are_not_flagged():
    hashes = [photos.photo_hashes(jpeg(scene(seed))) for seed in range(100, 160)]
    closest = min(photos.reuse_distance(a, b) for i, a in enumerate(hashes) for b in hashes[i + 1:])
    assert closest > photos.REUSE_DISTANCE


def test_hash_index_finds_exactly_what_all_pairs_comparison_finds():
    rng = random.Random(7)
    values = [rng.getrandbits(64) for _ in range(2000)]
    # near copies, 1 to 11 bits away
    values += [v ^ sum(1 << b for b in rng.sample(range(64), rng.randrange(1, 12))) for v in values[:300]]
    tree = photos.HashIndex()
    for i, v in enumerate(values):
        tree.add(v, i)
    for radius in (0, 3, 10, 11):
        for query in values[:50] + [rng.getrandbits(64) for _ in range(50)]:
            want = sorted((photos.hamming(query, v), i) for i, v in enumerate(values)
                          if photos.hamming(query, v) <= radius)
            assert sorted(tree.near(query, radius)) == want
    with pytest.raises(ValueError):
        list(tree.near(0, 12))


def test_exif_summary_reads_time_offset_gps_and_device():
    taken = dt.datetime(2026, 3, 10, 22, 5, 30, tzinfo=BERLIN)
    data = jpeg(scene(1), exif=camera_exif(taken, 53.0809, 8.8001))
    summary = photos.exif_summary(data)
    assert summary["taken"] == "2026:03:10 22:05:30" and summary["offset"] == "+01:00"
    assert summary["lat"] == pytest.approx(53.0809, abs=1e-5) and summary["lon"] == pytest.approx(8.8001, abs=1e-5)
    assert summary["make"] == "Linewatch" and summary["model"] == "GuardPhone 1"
    assert photos.exif_time(summary, "UTC") == taken


def test_plausible_photo_passes_and_implausible_ones_are_named():
    scan_at = dt.datetime(2026, 3, 10, 22, 6, tzinfo=BERLIN)
    place = (53.0809, 8.8000)
    good = photos.exif_summary(jpeg(scene(1), exif=camera_exif(scan_at - dt.timedelta(minutes=1), 53.0809, 8.8001)))
    assert photos.plausibility(good, scan_at=scan_at, tz="Europe/Berlin", place=place) == []
    old = photos.exif_summary(jpeg(scene(1), exif=camera_exif(scan_at - dt.timedelta(days=3), 53.0809, 8.8)))
    assert [p.kind for p in photos.plausibility(old, scan_at=scan_at, tz="Europe/Berlin", place=place)] == ["exif_time"]
    away = photos.exif_summary(jpeg(scene(1), exif=camera_exif(scan_at, 53.0900, 8.8)))
    assert [p.kind for p in photos.plausibility(away, scan_at=scan_at, tz="Europe/Berlin", place=place)] == ["exif_gps"]
    edited = photos.exif_summary(jpeg(scene(1), exif=camera_exif(scan_at, software="Adobe Photoshop 25.0")))
    assert [p.kind for p in photos.plausibility(edited, scan_at=scan_at, tz="Europe/Berlin", place=place)] == [
        "exif_software"]
    stripped = photos.exif_summary(jpeg(scene(1)))
    assert [p.kind for p in photos.plausibility(stripped, scan_at=scan_at, tz="Europe/Berlin", place=place)] == [
        "exif_missing"]


def test_exif_time_without_offset_is_read_in_the_site_zone():
    assert photos.exif_time({"taken": "2026:07:01 12:00:00"}, "Europe/Berlin").utcoffset() == dt.timedelta(hours=2)
    assert photos.exif_time({"taken": "garbage"}, "Europe/Berlin") is None


def test_not_an_image_is_a_clear_error():
    with pytest.raises(photos.PhotoError, match="not a readable image"):
        photos.phash(b"\xff\xd8 this is no jpeg")
    assert "error" in photos.exif_summary(b"\x00" * 10) or photos.exif_summary(b"\x00" * 10) == {}


def test_c2pa_absent_on_a_plain_jpeg():
    assert photos.c2pa_state(jpeg(scene(3)))["state"] == "absent"


def test_damaged_c2pa_or_image_does_not_raise():
    state = photos.c2pa_state(b"\xff\xd8\xff\xe0garbage")
    assert state["state"] in {"absent", "error"}
    assert isinstance(Image.open(io.BytesIO(jpeg(scene(3)))).size, tuple)


def test_reuse_index_finds_exactly_what_reuse_distance_over_all_photos_finds():
    rng = random.Random(3)
    stored = [[rng.getrandbits(64) for _ in range(8)] for _ in range(1500)]
    for i in range(0, 300, 3):  # a copy whose whole image is close to one of an earlier photo's crops
        stored.append([stored[i][rng.randrange(8)] ^ (1 << rng.randrange(64))] + [rng.getrandbits(64)
                                                                                    for _ in range(7)])
    index = photos.ReuseIndex()
    for key, hashes in enumerate(stored):
        index.add(hashes, key)
    for query in stored[:40] + stored[-40:]:
        want = sorted((photos.reuse_distance(query, h), k) for k, h in enumerate(stored)
                      if photos.reuse_distance(query, h) <= photos.REUSE_DISTANCE)
        assert index.near(query) == want
