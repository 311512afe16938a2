"""Matching devices to feeds: confidence tiers with evidence, including the planted demo camera."""

import pytest

from linewatch.vulns.engine.matching import Confidence, Device, match
from linewatch.vulns.engine.readers import read_feed
from linewatch.vulns.engine.store import FeedStore

from .conftest import VULN_CORPUS

DEMO_CAMERA = Device("Hikvision", "DS-2CD2142FWD-I", "V5.5.0 build 170725", name="gate-camera-1")


@pytest.fixture
def store(data):
    s = FeedStore()
    for name in ("nvd_CVE-2021-36260_synthetic.json", "kev_small.json", "csaf_small.json", "epss_small.csv"):
        kind, recs = read_feed(data / name)
        s.add_all(recs, kind)
    return s


def by_cve(matches):
    return {m.cve: m for m in matches}


def test_demo_camera_matches_the_known_exploited_hikvision_cve_with_evidence(store):
    m = by_cve(match(DEMO_CAMERA, store))["CVE-2021-36260"]
    assert m.confidence == Confidence.CONFIRMED
    feeds = {e.feed for e in m.evidence}
    assert {"nvd", "kev"} <= feeds
    fw = next(e for e in m.evidence if e.feed == "nvd" and "firmware" in e.reason)
    assert "cpeMatch[0]" in fw.locator and "ds-2cd2142fwd-i_firmware" in fw.detail
    assert "V5.5.0 build 170725" in fw.device_attribute and "in < V5.5.800 build 210628" in fw.reason


def test_patched_firmware_is_not_a_match(store):
    patched = Device("Hikvision", "DS-2CD2142FWD-I", "V5.5.800 build 210628")
    assert "CVE-2021-36260" not in by_cve(match(patched, store, Confidence.POSSIBLE))


def test_unknown_firmware_makes_a_product_match_probable(store):
    m = by_cve(match(Device("Hikvision", "DS-2CD2142FWD-I"), store))["CVE-2021-36260"]
    assert m.confidence == Confidence.PROBABLE
    assert any("firmware unknown" in e.reason for e in m.evidence)


def test_a_device_cpe_is_enough(store):
    d = Device("", cpe="cpe:2.3:o:hikvision:ds-2cd2142fwd-i_firmware:5.5.0:*:*:*:*:*:*:*")
    assert by_cve(match(d, store))["CVE-2021-36260"].confidence == Confidence.CONFIRMED


def test_vendor_aliases_and_order_numbers_reach_csaf_products(store):
    plc = Device("Siemens AG", "6ES7 516-3AN01-0AB0", "V2.9.2")
    m = by_cve(match(plc, store))["CVE-2099-0001"]
    assert m.confidence == Confidence.CONFIRMED and m.evidence[0].locator == "product_id P-1516"
    assert any("V2.9.4" in r for r in m.remediations)
    assert not match(Device("Siemens", "6ES7 516-3AN01-0AB0", "V2.9.4"), store, Confidence.PROBABLE)
    enbt = Device("Allen-Bradley", "1756-ENBT/A", "33.011")
    assert by_cve(match(enbt, store))["CVE-2099-0001"].confidence == Confidence.CONFIRMED


def test_siemens_hotfix_bound_is_exclusive(store):
    assert not match(Device("Siemens", "SCALANCE X212-2", "V4.7 HF27"), store, Confidence.PROBABLE)
    m = by_cve(match(Device("Siemens", "SCALANCE X212-2", "V4.7 HF26"), store))["CVE-2099-0001"]
    assert m.confidence == Confidence.CONFIRMED


def test_free_text_range_gives_probable(store):
    m = by_cve(match(Device("Schneider Electric", "Modicon M340 BMX P34 2020", "A11_U05"), store))
    assert m["CVE-2099-0001"].confidence == Confidence.PROBABLE
    assert "free text" in m["CVE-2099-0001"].evidence[0].reason


def test_wildcard_family_in_range_is_probable_not_confirmed(store):
    m = by_cve(match(DEMO_CAMERA, store))["CVE-2099-0001"]
    assert m.confidence == Confidence.PROBABLE and m.evidence[0].reason.startswith("family product match")


def test_vendor_only_kev_entries_are_possible_and_drop_out_above_that_tier(store):
    d = Device("Fortinet", "FortiGate 60F", "7.0.1")
    assert "CVE-2019-6693" not in by_cve(match(d, store, Confidence.PROBABLE))
    m = by_cve(match(d, store))["CVE-2019-6693"]
    assert m.confidence == Confidence.POSSIBLE and m.evidence[0].feed == "kev"


def test_other_vendors_never_match(store):
    assert not match(Device("Dahua", "DS-2CD2142FWD-I", "V5.5.0 build 170725"), store, Confidence.POSSIBLE)


@pytest.fixture
def corpus_store():
    s = FeedStore()
    for f in [*sorted((VULN_CORPUS / "nvd").glob("*.json")), *sorted((VULN_CORPUS / "csaf").glob("*.json")),
              VULN_CORPUS / "kev" / "known_exploited_vulnerabilities.json"]:
        kind, recs = read_feed(f)
        s.add_all(recs, kind)
    return s


@pytest.mark.corpus
def test_corpus_axis_door_controller_range(corpus_store):
    m = by_cve(match(Device("Axis Communications", "A1001", "1.65.4"), corpus_store))["CVE-2023-21406"]
    assert m.confidence == Confidence.CONFIRMED
    assert {e.record for e in m.evidence} >= {"CVE-2023-21406", "ICSA-23-206-01"}
    assert "CVE-2023-21406" not in by_cve(match(Device("Axis", "A1001", "1.65.5"), corpus_store,
                                                Confidence.POSSIBLE))


@pytest.mark.corpus
def test_corpus_logix_without_version_bounds_is_only_probable(corpus_store):
    m = by_cve(match(Device("Rockwell Automation", "1768-L43", "20.011"), corpus_store))["CVE-2022-1161"]
    assert m.confidence == Confidence.PROBABLE
    assert any("no version limit" in e.reason for e in m.evidence)


@pytest.mark.corpus
def test_corpus_hikvision_dash_versions_and_csaf_family_ranges(corpus_store):
    m = by_cve(match(Device("Hikvision", "DS-2CD2032-I", ""), corpus_store))["CVE-2017-7921"]
    assert m.confidence == Confidence.PROBABLE
    # The demo camera is in the DS-2CD2xx2FWD family, but its firmware is past the advisory's range.
    demo = by_cve(match(DEMO_CAMERA, corpus_store, Confidence.POSSIBLE))
    assert "CVE-2017-7921" not in demo or demo["CVE-2017-7921"].confidence == Confidence.POSSIBLE
    old = by_cve(match(Device("Hikvision", "DS-2CD2142FWD-I", "V5.4.0 build 160401"), corpus_store))
    assert old["CVE-2017-7921"].confidence == Confidence.PROBABLE


@pytest.mark.corpus
def test_corpus_demo_camera_is_known_exploited_via_kev_alone(corpus_store):
    # Without the NVD record the corpus still has the KEV entry: vendor-level evidence only.
    m = by_cve(match(DEMO_CAMERA, corpus_store, Confidence.POSSIBLE))["CVE-2021-36260"]
    assert m.confidence == Confidence.POSSIBLE and m.evidence[0].feed == "kev"


def _store_of(*records):
    s = FeedStore()
    for r in records:
        s.add(r)
    return s


def test_exact_structured_range_excluding_the_firmware_outweighs_an_unbounded_cpe():
    from linewatch.vulns.engine.model import ConfigNode, Configuration, CpeMatch, CsafFinding, CsafProduct, NvdRecord

    nvd = NvdRecord(cve="CVE-2099-0002", configurations=[Configuration(nodes=[ConfigNode(cpe_match=[
        CpeMatch(criteria="cpe:2.3:o:rockwellautomation:1756-l85e_firmware:*:*:*:*:*:*:*:*")])])])
    csaf = CsafFinding(advisory="LW-TEST-2", cve="CVE-2099-0002", products=[
        CsafProduct(product_id="A", vendor="Rockwell Automation", product_name="1756-L85E", version_range="< 33.011")])
    s = _store_of(nvd, csaf)
    unbounded_only = by_cve(match(Device("Allen-Bradley", "1756-L85E", "33.011"), _store_of(nvd)))
    assert unbounded_only["CVE-2099-0002"].confidence == Confidence.PROBABLE
    m = by_cve(match(Device("Allen-Bradley", "1756-L85E", "33.011"), s))["CVE-2099-0002"]
    assert m.confidence == Confidence.POSSIBLE and "excludes the firmware" in m.notes[0]
    assert by_cve(match(Device("Allen-Bradley", "1756-L85E", "32.011"), s))["CVE-2099-0002"].confidence \
        == Confidence.CONFIRMED


def test_negated_and_or_configuration_nodes():
    from linewatch.vulns.engine.model import ConfigNode, Configuration, CpeMatch, NvdRecord

    fw = CpeMatch(criteria="cpe:2.3:o:axis:a1001_firmware:*:*:*:*:*:*:*:*", version_end_excluding="2.0")
    other_hw = CpeMatch(criteria="cpe:2.3:h:axis:p1455-le:-:*:*:*:*:*:*:*", vulnerable=False)
    and_other = NvdRecord(cve="CVE-2099-0003", configurations=[Configuration(operator="AND", nodes=[
        ConfigNode(cpe_match=[fw]), ConfigNode(cpe_match=[other_hw])])])
    or_other = NvdRecord(cve="CVE-2099-0004", configurations=[Configuration(operator="OR", nodes=[
        ConfigNode(cpe_match=[fw]), ConfigNode(cpe_match=[other_hw])])])
    not_other = NvdRecord(cve="CVE-2099-0005", configurations=[Configuration(operator="AND", nodes=[
        ConfigNode(cpe_match=[fw]), ConfigNode(cpe_match=[other_hw], negate=True)])])
    found = by_cve(match(Device("Axis", "A1001", "1.9"), _store_of(and_other, or_other, not_other)))
    assert "CVE-2099-0003" not in found  # runs on other hardware only
    assert found["CVE-2099-0004"].confidence == Confidence.CONFIRMED
    assert found["CVE-2099-0005"].confidence == Confidence.CONFIRMED


def test_packaged_demo_feeds_make_the_demo_camera_a_confirmed_kev_finding():
    from linewatch.vulns import demo_feeds

    s = FeedStore()
    for path in demo_feeds():
        kind, recs = read_feed(path)
        s.add_all(recs, kind)
    m = by_cve(match(DEMO_CAMERA, s))["CVE-2021-36260"]
    assert m.confidence == Confidence.CONFIRMED and s.get("CVE-2021-36260").in_kev
