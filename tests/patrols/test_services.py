"""Patrol services against the database: scans of every kind verified, SUN replay refused, the offline
sync idempotent, exceptions becoming pipeline events and ledger records, photo reuse across runs."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from linewatch.events.models import StoredEvent
from linewatch.events.schema import EventClass, PatrolActivity
from linewatch.evidence.models import Entry
from linewatch.patrols import services
from linewatch.patrols.models import Checkpoint, IncidentReport, PatrolException, PatrolRun, Photo, Scan
from linewatch.patrols.synthetic import camera_exif, jpeg, scene

AN12196_URL = "https://lw.example/patrol/nfc/alpha/hall/?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086"
START = dt.datetime(2026, 3, 10, 21, 0, tzinfo=dt.UTC)
M = dt.timedelta(minutes=1)


def op_run(run_id, site="alpha", at=START):
    return {"type": "run", "id": str(run_id), "site": site, "tour": "night", "at": at.isoformat()}


def op_scan(run_id, payload, at, method="manual", **extra):
    return {"type": "scan", "id": str(uuid.uuid4()), "run": str(run_id), "method": method, "payload": payload,
            "at": at.isoformat(), **extra}


def typed(code, site="alpha"):
    return services.typed_code(Checkpoint.objects.get(site__slug=site, code=code))


def kinds(run):
    return sorted((e.kind, e.checkpoint) for e in PatrolException.objects.filter(run=run))


def test_a_full_round_is_verified_complete_and_in_the_ledger(tours):
    guard = tours["guard"]
    run_id = uuid.uuid4()
    items = [op_run(run_id), op_scan(run_id, typed("gate"), START + M, lat=53.08, lon=8.8, accuracy=8),
             op_scan(run_id, AN12196_URL, START + 11 * M, method="nfc", lat=53.0809, lon=8.8, accuracy=8),
             op_scan(run_id, "yard", START + 21 * M, method="gps", lat=53.0818, lon=8.8001, accuracy=10),
             {"type": "finish", "id": str(uuid.uuid4()), "run": str(run_id)}]
    answer = services.sync(guard, items)
    assert answer["accepted"] == 5, answer
    run = PatrolRun.objects.get(uid=run_id)
    assert run.completion == 100.0 and run.status == "done" and kinds(run) == []
    assert [s.verification[:12] for s in run.scans.all()] == ["typed checkp", "SUN tap veri", "position ins"]
    assert Checkpoint.objects.get(site__slug="alpha", code="hall").sdm_counter == 61
    assert Entry.objects.filter(kind="patrol.scan").count() == 3


def test_sync_is_idempotent_when_the_same_batch_is_sent_again(tours):
    guard = tours["guard"]
    run_id = uuid.uuid4()
    items = [op_run(run_id), op_scan(run_id, typed("gate"), START + M)]
    items.append({"type": "photo", "id": str(uuid.uuid4()), "run": str(run_id), "scan": items[1]["id"],
                  "data": __import__("base64").b64encode(jpeg(scene(5))).decode()})
    first = services.sync(guard, items)
    entries = Entry.objects.count()
    second = services.sync(guard, items)
    assert first["accepted"] == 3 and second["duplicate"] == 3 and second["accepted"] == 0
    assert Scan.objects.count() == 1 and Photo.objects.count() == 1 and Entry.objects.count() == entries


def test_a_replayed_sun_url_is_refused_and_reported(tours):
    guard = tours["guard"]
    run_id = uuid.uuid4()
    services.sync(guard, [op_run(run_id), op_scan(run_id, AN12196_URL, START + 11 * M, method="nfc")])
    services.sync(guard, [op_scan(run_id, AN12196_URL, START + 12 * M, method="nfc")])
    tampered = AN12196_URL.replace("c=94EED9EE65337086", "c=94EED9EE65337087")
    services.sync(guard, [op_scan(run_id, tampered, START + 13 * M, method="nfc")])
    scans = list(Scan.objects.filter(run__uid=run_id).order_by("at"))
    assert [s.verified for s in scans] == [True, False, False]
    assert "replayed" in scans[1].verification and "SDMMAC" in scans[2].verification
    run = PatrolRun.objects.get(uid=run_id)
    assert [k for k, _ in kinds(run)].count("unverified") == 2
    events = StoredEvent.objects.filter(class_uid=EventClass.PATROL_CHECKPOINT, source="patrols")
    assert sum(e.body["attrs"].get("patrol.exception") == "unverified" for e in events) == 2


def test_forged_and_foreign_codes_are_not_verified(tours):
    guard = tours["guard"]
    run_id = uuid.uuid4()
    services.sync(guard, [op_run(run_id), op_scan(run_id, "gate AAAAAAAA", START + M),
                          op_scan(run_id, typed("gate", "beta"), START + 2 * M)])
    scans = list(Scan.objects.filter(run__uid=run_id).order_by("at"))
    assert [s.verified for s in scans] == [False, False]
    assert "do not match" in scans[0].verification and "do not match" in scans[1].verification


def test_missed_checkpoint_on_finish_becomes_an_event_and_a_ledger_record(tours):
    guard = tours["guard"]
    run_id = uuid.uuid4()
    services.sync(guard, [op_run(run_id), op_scan(run_id, typed("gate"), START + M),
                          {"type": "finish", "id": str(uuid.uuid4()), "run": str(run_id)}])
    run = PatrolRun.objects.get(uid=run_id)
    assert kinds(run) == [("missed", "hall"), ("missed", "yard")]
    assert run.completion == pytest.approx(33.3)
    missed = StoredEvent.objects.filter(class_uid=EventClass.PATROL_CHECKPOINT,
                                        activity_id=PatrolActivity.CHECKPOINT_MISSED)
    assert missed.count() == 2 and {e.site_slug for e in missed} == {"alpha"}
    assert Entry.objects.filter(kind="patrol.exception").count() == 2
    services.analyse_run(run)  # analysing again adds nothing
    assert missed.count() == 2 and PatrolException.objects.filter(run=run).count() == 2


def test_badge_log_at_another_site_contradicts_the_scan(tours):
    from linewatch.events.schema import Event, PhysicalAccessActivity
    from linewatch.events.store import store_events

    store_events([Event(uid="badge-beta-guard", time=int((START + 2 * M).timestamp() * 1000),
                        class_uid=EventClass.PHYSICAL_ACCESS, activity_id=PhysicalAccessActivity.GRANTED,
                        site="beta", source="test", attrs={"actor.user.name": "guard", "area.name": "lobby"})])
    run_id = uuid.uuid4()
    services.sync(tours["guard"], [op_run(run_id), op_scan(run_id, typed("gate"), START + M)])
    assert ("badge_conflict", "gate") in kinds(PatrolRun.objects.get(uid=run_id))


def test_a_guard_cannot_patrol_at_another_site(tours):
    answer = services.sync(tours["guard"], [op_run(uuid.uuid4(), site="beta")])
    assert answer["rejected"] == 1 and "do not patrol at site beta" in answer["results"][0]["reason"]
    answer = services.sync(tours["guard"], [{"type": "scan", "id": "nope"}, "x", {"type": "dance", "id": str(
        uuid.uuid4()), "run": str(uuid.uuid4())}])
    assert answer["rejected"] == 3
    assert "not a UUID" in answer["results"][0]["reason"] and "unknown run" in answer["results"][2]["reason"]


def test_reused_photo_in_a_later_run_is_caught_and_a_new_scene_is_not(tours):
    guard = tours["guard"]
    original = scene(42)
    runs = []
    for day, image in enumerate([jpeg(original), jpeg(original.resize((200, 150)), 40), jpeg(scene(43))]):
        run_id = uuid.uuid4()
        at = START + dt.timedelta(days=day) + M
        data = image
        scan = op_scan(run_id, typed("gate"), at)
        photo = {"type": "photo", "id": str(uuid.uuid4()), "run": str(run_id), "scan": scan["id"],
                 "data": __import__("base64").b64encode(data).decode()}
        services.sync(guard, [op_run(run_id, at=at - M), scan, photo])
        runs.append(PatrolRun.objects.get(uid=run_id))
    assert "photo_reuse" not in [k for k, _ in kinds(runs[0])]
    assert ("photo_reuse", "gate") in kinds(runs[1])
    assert "photo_reuse" not in [k for k, _ in kinds(runs[2])]
    stored = Entry.objects.filter(kind="patrol.photo")
    assert stored.count() == 3
    photo = Photo.objects.order_by("pk").first()
    assert services.photo_bytes(photo) == jpeg(original)


def test_photo_exif_far_from_the_scan_is_flagged(tours):
    guard = tours["guard"]
    run_id = uuid.uuid4()
    scan = op_scan(run_id, typed("gate"), START + M)
    old = jpeg(scene(77), exif=camera_exif(START - dt.timedelta(days=2), 53.2, 8.8))
    photo = {"type": "photo", "id": str(uuid.uuid4()), "run": str(run_id), "scan": scan["id"],
             "data": __import__("base64").b64encode(old).decode()}
    services.sync(guard, [op_run(run_id), scan, photo])
    found = kinds(PatrolRun.objects.get(uid=run_id))
    assert ("exif_gps", "gate") in found and ("exif_time", "gate") in found


def test_incident_report_through_sync_with_a_photo(tours):
    guard = tours["guard"]
    report_id = uuid.uuid4()
    item = {"type": "report", "id": str(report_id), "site": "alpha", "category": "door", "severity": "high",
            "what": "Fire door 3 propped open with a wedge", "where": "Hall 1 east", "when": START.isoformat(),
            "who": "nobody seen", "actions": "closed the door, informed the shift lead",
            "photos": [__import__("base64").b64encode(jpeg(scene(3))).decode()]}
    assert services.sync(guard, [item])["accepted"] == 1
    assert services.sync(guard, [item])["duplicate"] == 1
    report = IncidentReport.objects.get(uid=report_id)
    assert report.photos.count() == 1 and report.guard_name == "guard"
    assert StoredEvent.objects.filter(activity_id=PatrolActivity.INCIDENT_REPORTED, site_slug="alpha").count() == 1
    entry = Entry.objects.get(kind="patrol.incident_report")
    assert report.photos.first().sha256 in entry.canonical
    bad = dict(item, id=str(uuid.uuid4()), category="aliens", when="yesterday")
    assert "category" in services.sync(guard, [bad])["results"][0]["reason"]


def test_load_tours_reports_every_problem_with_its_path(tours):
    from linewatch.core.models import Site
    from linewatch.errors import InputErrors

    with pytest.raises(InputErrors) as caught:
        services.load_tours(Site.objects.get(slug="alpha"), {
            "checkpoints": [{"code": "x", "name": "X", "kind": "laser"},
                            {"code": "y", "name": "Y", "kind": "nfc_sun", "sdm_meta_key": "00"}],
            "tours": [{"slug": "t", "rrule": "FREQ=SOMETIMES", "stops": [{"checkpoint": "nowhere"}]}]}, "t.yaml")
    text = str(caught.value)
    for place in ("checkpoints[0].kind", "checkpoints[1].sdm_meta_key", "tours[0].rrule", "tours[0].stops[0]"):
        assert f"t.yaml:{place}" in text
