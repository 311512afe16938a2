"""Vendor, product and model name normalisation; CPE parsing."""

import pytest

from linewatch.vulns.engine.cpe import parse_cpe
from linewatch.vulns.engine.names import families, family_pattern, model_key, same_model, vendor_key


@pytest.mark.parametrize(("name", "key"), [
    ("Siemens AG", "siemens"), ("SIEMENS", "siemens"), ("Rockwell Automation", "rockwell"),
    ("Allen-Bradley", "rockwell"), ("rockwellautomation", "rockwell"), ("Axis Communications", "axis"),
    ("Hangzhou Hikvision Digital Technology Co., Ltd.", "hikvision"), ("Schneider Electric SE", "schneider"),
    ("schneider-electric", "schneider"), ("Acme Widgets GmbH", "acmewidgets"),
])
def test_vendor_aliases_and_legal_suffixes(name, key):
    assert vendor_key(name) == key


def test_model_key_ignores_case_punctuation_and_stray_spaces():
    assert model_key("DS-2CD2142FWD-I") == model_key("ds 2cd2142fwd i") == "ds2cd2142fwdi"
    assert model_key("6ES7 516-3AN01-0AB0") == model_key("6ES7516-3AN01-0AB0")


def test_x_wildcards_only_inside_codes_with_digits():
    assert family_pattern("DS-2CD2xx2FWD Series").fullmatch(model_key("DS-2CD2142FWD-I"))
    assert family_pattern("DS- 2CD4x2xFWD Series").fullmatch(model_key("DS-2CD4225FWD"))
    assert family_pattern("6ES7 5xx").fullmatch(model_key("6ES7 516"))
    assert family_pattern("DS-K1T804AXX").fullmatch(model_key("DS-K1T804AMF"))
    assert family_pattern("AXIS A1001") is None
    assert not family_pattern("DS-2CD2xx2FWD Series").fullmatch(model_key("DS-2CD2143FWD"))


@pytest.mark.parametrize(("device", "product", "vendor", "relation"), [
    ("A1001", "AXIS A1001", "Axis Communications", "exact"),
    ("AXIS A1001", "a1001", "axis", "exact"),
    ("6ES7518-4AX00-1AB0", "SIMATIC S7-1500 CPU 1518-4 PN/DP MFP (6ES7518-4AX00-1AB0)", "Siemens", "exact"),
    ("1768-L43", "compactlogix_1768-l43", "rockwellautomation", "exact"),
    ("DS-2CD2412F-I(W)", "ds-2cd2412f-i(w)", "hikvision", "exact"),
    ("DS-2CD2142FWD-I", "DS-2CD2xx2FWD Series", "Hikvision", "family"),
    ("DS-2CD2142FWD-I", "DS-2CD2032-I", "Hikvision", None),
])
def test_device_models_meet_product_names(device, product, vendor, relation):
    assert same_model(device, product, vendor) == relation


def test_families_by_order_number_and_name():
    assert families("Siemens AG", "6ES7 516-3AN01-0AB0") == {"s71500"}
    assert families("Siemens", "CPU 1516-3 PN/DP") == {"s71500"}
    assert "compactlogix" in families("Allen-Bradley", "1769-L33ER")


def test_cpe_23_parse_with_escapes():
    c = parse_cpe(r"cpe:2.3:o:hikvision:ds-2cd2412f-i\(w\)_firmware:-:*:*:*:*:*:*:*")
    assert (c.part, c.vendor, c.product, c.version) == ("o", "hikvision", "ds-2cd2412f-i(w)_firmware", "-")
    assert c.device_product == "ds-2cd2412f-i(w)"
    with pytest.raises(ValueError):
        parse_cpe("cpe:/o:hikvision:x")
    with pytest.raises(ValueError):
        parse_cpe("cpe:2.3:o:hikvision:too:short")
