"""Guard tours: checkpoint scans and tour events from CSV and JSON lines."""

from __future__ import annotations

from linewatch.events.schema import EventClass
from linewatch.events.schema import PatrolActivity as P
from tests.events.samples import read_one_per_record


def read(name: str, **options):
    return read_one_per_record("patrol", "patrol", name, **options)


def test_tour_csv():
    events, errors = read("tour-scans.csv", timezone="Europe/Berlin")
    assert not errors and len(events) == 7
    assert all(e.class_uid == EventClass.PATROL_CHECKPOINT for e in events.values())
    assert events["line 2"].activity_id == P.TOUR_STARTED
    gps = events["line 3"]
    assert gps.activity_id == P.CHECKPOINT_SCAN and gps.status_id == 1
    assert gps.attrs["actor.user.name"] == "Tomasz Kowalczyk" and gps.attrs["actor.user.uid"] == "G-014"
    assert gps.attrs["patrol.tour.name"] == "Night Perimeter A" and gps.attrs["patrol.tour.uid"] == "TR-20250314-2200"
    assert gps.attrs["checkpoint.name"] == "Gate 2 Fence Corner" and gps.attrs["checkpoint.uid"] == "CP-02"
    assert gps.attrs["checkpoint.method"] == "gps"
    assert (gps.attrs["location.lat"], gps.attrs["location.long"], gps.attrs["location.accuracy"]) == \
        (51.234871, 6.78123, 8.5)
    assert gps.attrs["device.uid"] == "TT-PHONE-07" and gps.attrs["area.name"] == "Perimeter North"
    assert gps.time == 1741986291000  # 22:04:51 CET
    assert events["line 4"].attrs["checkpoint.method"] == "qr" and events["line 4"].attrs["patrol.note"]
    missed = events["line 6"]
    assert missed.activity_id == P.CHECKPOINT_MISSED and missed.status_id == 2 and "actor.user.name" not in missed.attrs
    assert events["line 7"].activity_id == P.INCIDENT_REPORTED
    assert events["line 8"].activity_id == P.TOUR_COMPLETED
    assert len({e.uid for e in events.values()}) == 7


def test_json_lines_keep_unknown_fields():
    events, errors = read("scans.jsonl")
    assert not errors
    assert events["line 1"].attrs["checkpoint.method"] == "nfc" and "location.lat" not in events["line 1"].attrs
    assert events["line 2"].attrs["location.accuracy"] == 35.0 and events["line 2"].unmapped == {"battery": 41}


def test_broken_rows():
    events, errors = read("broken.csv")
    assert not events
    assert [(e.place, e.message) for e in errors] == [
        ("line 2", "unknown scan method 'telepathy'; one of qr, nfc, gps, barcode, beacon, manual, virtual"),
        ("line 3", "latitude 151.2 is outside -90..90"),
        ("line 4", "latitude and longitude must come together"),
        ("line 5", "missing required column 'checkpoint' (or checkpoint_id)"),
        ("line 6", "unknown action 'napping'; one of scan, tour_started, tour_completed, missed, incident"),
        ("line 7", "empty 'time'"),
    ]
