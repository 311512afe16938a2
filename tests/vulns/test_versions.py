"""Firmware versions per vendor, and version-range semantics (NVD cpeMatch bounds, CSAF ranges)."""

import pytest

from linewatch.vulns.engine.versions import nvd_range, parse_range, parse_version


def v(text, vendor=None):
    return parse_version(text, vendor)


@pytest.mark.parametrize(("text", "vendor", "parts"), [
    ("V2.9.4", "Siemens", (2, 9, 4, 0, 0)),
    ("V4.7 HF27", "Siemens", (4, 7, 0, 0, 27)),
    ("V7.4 SP1", None, (7, 4, 0, 1, 0)),
    ("33.011", "Rockwell Automation", (33, 11)),
    ("V5.5.0 build 170725", "Hikvision", (5, 5, 0, 170725)),
    ("1.4.0_build221212", "Hikvision", (1, 4, 0, 221212)),
    ("A11_U05", "Schneider Electric", (11, 5)),
    ("1.000.HW00.21.20190812", "Honeywell", (1, 0, "hw", 0, 21, 20190812)),
])
def test_vendor_firmware_formats_become_tuples(text, vendor, parts):
    assert v(text, vendor).parts == parts


def test_versions_without_a_number_are_unknown():
    assert v("-") is None and v("*") is None and v("unknown") is None


def test_vendor_orderings_hold():
    assert v("V4.7", "siemens") < v("V4.7 HF27", "siemens") < v("V4.8", "siemens")
    assert v("V7.4", "siemens") < v("V7.4 SP1", "siemens") < v("V7.4 SP1 HF2", "siemens")
    assert v("33.011") < v("33.012") < v("34.001")
    assert v("4.03") == v("4.3")
    assert v("V5.4.0 build 160530") < v("V5.5.0 build 170725") < v("V5.5.800 build 210628")
    assert v("A11_U05", "schneider") < v("A11_U06", "schneider") < v("A12_U01", "schneider")
    assert v("V3.5") == v("V3.5.0")
    assert v("2.10") > v("2.9")  # numeric, not lexical


def test_mixed_text_and_numbers_always_compare():
    assert (v("1.000.HW00.21") < v("1.000.0000.19")) in (True, False)


@pytest.mark.parametrize(("bounds", "version", "inside"), [
    ({"end_incl": "1.65.4"}, "1.65.4", True),
    ({"end_incl": "1.65.4"}, "1.65.5", False),
    ({"end_excl": "1.65.4"}, "1.65.4", False),
    ({"end_excl": "1.65.4"}, "1.65.3", True),
    ({"start_incl": "2.0", "end_excl": "3.0"}, "2.0", True),
    ({"start_excl": "2.0", "end_excl": "3.0"}, "2.0", False),
    ({"start_excl": "2.0", "end_excl": "3.0"}, "2.0.1", True),
    ({"start_incl": "2.0", "end_incl": "3.0"}, "3.0.0", True),
    ({"start_incl": "2.0", "end_incl": "3.0"}, "3.0.1", False),
    ({"end_excl": "V5.5.800 build 210628"}, "V5.5.0 build 170725", True),  # the demo camera's range
    ({"end_excl": "V5.5.800 build 210628"}, "V5.5.800 build 210628", False),
    ({"end_incl": "V5.5.800 build 210628"}, "V5.5.800 build 210628", True),
    ({"start_incl": "4.03", "end_incl": "4.03"}, "4.03", True),
    ({"start_incl": "4.03", "end_incl": "4.03"}, "4.07", False),
])
def test_nvd_cpematch_bounds_include_and_exclude(bounds, version, inside):
    r = nvd_range("*", bounds.get("start_incl"), bounds.get("start_excl"), bounds.get("end_incl"),
                  bounds.get("end_excl"))
    assert r.structured
    assert r.contains(v(version)) is inside


def test_cpe_version_star_and_dash_without_bounds_mean_no_version_limit():
    assert nvd_range("*", None, None, None, None).all_versions
    assert nvd_range("-", None, None, None, None).all_versions
    exact = nvd_range("2.9.4", None, None, None, None)
    assert exact.contains(v("V2.9.4")) and not exact.contains(v("V2.9.5"))


@pytest.mark.parametrize(("text", "inside", "outside"), [
    (">=  5.3.1 build 150410 | <= 5.4.4  Build 161125", "V5.4.0 build 160401", "V5.5.0 build 170725"),
    ("vers:all/<V7.0.3", "V7.0.2", "V7.0.3"),
    ("All versions < V7.4 SP1", "V7.4", "V7.4 SP1"),
    (" <1.000.0000.19.20190819", "1.000.0000.18.20190101", "1.000.0000.19.20190819"),
    (">=V3.1.0", "V3.1.0", "V3.0.9"),
    ("V5.2.0 build 140721 to V5.4.0 Build 160530", "V5.3.0 build 150101", "V5.4.1 build 161010"),
    ("<= 6.3.5.11", "6.3.5.11", "6.3.5.12"),
    ("prior to V2.1", "V2.0.9", "V2.1"),
    ("<=1.4.0_build221212", "1.4.0_build221212", "1.4.0_build221213"),
])
def test_csaf_free_text_ranges_that_can_be_read(text, inside, outside):
    r = parse_range(text, "siemens" if "SP" in text else None)
    assert r.structured, r
    assert r.contains(v(inside)) is True
    assert r.contains(v(outside)) is False


def test_cisa_vers_all_star_is_every_version():
    r = parse_range("vers:all/*")
    assert r.all_versions and not r.structured and r.contains(v("1.0"))


def test_prose_ranges_stay_free_text_and_decide_nothing():
    r = parse_range("versions before the June 2026 firmware")
    assert r.free_text and r.contains(v("1.0")) is None


def test_a_single_version_is_an_exact_range():
    r = parse_range("V3.2")
    assert r.contains(v("V3.2.0")) and not r.contains(v("V3.2.1"))
