"""FeedStore: merging per CVE, incremental re-import without duplicates, persistence."""

import json

import pytest

from linewatch.errors import InputError
from linewatch.vulns.engine.readers import read_feed
from linewatch.vulns.engine.store import STORE_FILE, FeedStore


def load_all(store, data):
    for name in ("nvd_CVE-2021-36260_synthetic.json", "kev_small.json", "csaf_small.json", "epss_small.csv"):
        kind, recs = read_feed(data / name)
        store.add_all(recs, kind)


def test_sources_merge_into_one_record_per_cve(data):
    s = FeedStore()
    load_all(s, data)
    rec = s.get("CVE-2021-36260")
    assert rec.nvd and rec.kev and rec.epss and rec.in_kev
    assert sorted(s.records) == ["CVE-2019-6693", "CVE-2021-36260", "CVE-2099-0001"]
    assert list(s.get("CVE-2099-0001").csaf) == ["LW-TEST-2026-01"]


def test_reimport_changes_nothing_and_never_duplicates(data):
    s = FeedStore()
    load_all(s, data)
    before = json.dumps({k: str(v) for k, v in s.records.items()})
    kind, recs = read_feed(data / "kev_small.json")
    stats = s.add_all(recs, kind)
    assert (stats.added, stats.updated, stats.unchanged) == (0, 0, 2)
    assert len(s) == 3 and json.dumps({k: str(v) for k, v in s.records.items()}) == before


def test_newer_records_update_older_ones_are_ignored(tmp_path, data):
    s = FeedStore()
    load_all(s, data)
    doc = json.loads((data / "nvd_CVE-2021-36260_synthetic.json").read_text())
    cve = doc["vulnerabilities"][0]["cve"]
    cve["lastModified"] = "2027-01-01T00:00:00.000"
    cve["metrics"]["cvssMetricV31"][0]["cvssData"]["baseScore"] = 9.9
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(doc))
    assert s.add_all(read_feed(newer)[1]).updated == 1
    assert s.get("CVE-2021-36260").nvd.scores[0].base_score == 9.9
    cve["lastModified"] = "2020-01-01T00:00:00.000"
    cve["metrics"]["cvssMetricV31"][0]["cvssData"]["baseScore"] = 1.0
    older = tmp_path / "older.json"
    older.write_text(json.dumps(doc))
    assert s.add_all(read_feed(older)[1]).unchanged == 1
    assert s.get("CVE-2021-36260").nvd.scores[0].base_score == 9.9


def test_a_second_csaf_advisory_for_the_same_cve_is_kept_beside_the_first(tmp_path, data):
    s = FeedStore()
    load_all(s, data)
    doc = json.loads((data / "csaf_small.json").read_text())
    doc["document"]["tracking"]["id"] = "LW-TEST-2026-02"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(doc))
    s.add_all(read_feed(other)[1])
    assert sorted(s.get("CVE-2099-0001").csaf) == ["LW-TEST-2026-01", "LW-TEST-2026-02"]


def test_save_and_load_round_trip(tmp_path, data):
    s = FeedStore()
    load_all(s, data)
    path = s.save(tmp_path / "store")
    assert path.name == STORE_FILE and len(path.read_text().splitlines()) == 3
    again = FeedStore.load(tmp_path / "store")
    assert again.records == s.records
    assert len(FeedStore.load(tmp_path / "nothing-here")) == 0


def test_broken_store_file_names_the_line(tmp_path):
    (tmp_path / STORE_FILE).write_text('{"cve": "CVE-2021-36260"}\n{broken\n')
    with pytest.raises(InputError) as e:
        FeedStore.load(tmp_path)
    assert e.value.place == "line 2"
