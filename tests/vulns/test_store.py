"""FeedStore: merging per CVE, incremental re-import without duplicates."""

import json

from linewatch.vulns.engine.readers import read_feed
from linewatch.vulns.engine.store import FeedStore


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


def test_the_vendor_index_hands_out_only_records_naming_the_vendor_and_loses_no_match(data):
    from linewatch.vulns.engine.matching import Confidence, Device, match

    s = FeedStore()
    load_all(s, data)
    HIK = ["CVE-2021-36260", "CVE-2099-0001"]  # NVD's cpeMatch and KEV; the CSAF sample's DS-2CD2xx2FWD family
    assert [r.cve for r in s.candidates("Hangzhou Hikvision Digital Technology Co., Ltd.")] == HIK
    assert s.candidates("Nobody Inc.") == []
    for dev in (Device("Hikvision", "DS-2CD2142FWD-I", "V5.5.0 build 170725"), Device("Fortinet", "FortiOS", ""),
                Device("Siemens", "SIMATIC S7-1500", "V2.9.4")):
        assert match(dev, s, Confidence.POSSIBLE) == match(dev, list(s), Confidence.POSSIBLE)
    kind, recs = read_feed(data / "epss_small.csv")
    s.add_all(recs, kind)  # adding invalidates the index
    assert [r.cve for r in s.candidates("hikvision")] == HIK
