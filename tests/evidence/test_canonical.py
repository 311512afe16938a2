"""RFC 8785 canonical JSON, checked on the RFC's own examples."""

from __future__ import annotations

import math
import struct

import pytest

from linewatch.errors import InputError
from linewatch.evidence.engine.canonical import canonicalize, is_canonical, parse_json


def test_rfc8785_section_3_2_2_sample_is_canonicalised_exactly():
    text = (
        '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n'
        '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n'
        '  "literals": [null, true, false]\n}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()
    assert canonicalize(parse_json(text)) == expected


def test_rfc8785_section_3_2_3_keys_sort_by_utf16_code_units():
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys_in_order = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    expected = "{" + ",".join(f'"{k if k != chr(13) else chr(92) + "r"}":"{value[k]}"' for k in keys_in_order) + "}"
    assert canonicalize(value) == expected.encode()


# RFC 8785 Appendix B: IEEE 754 bit patterns and their ECMAScript serialisation.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), APPENDIX_B)
def test_rfc8785_appendix_b_numbers_use_ecmascript_formatting(bits, expected):
    number = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert canonicalize(number) == expected.encode()


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 2**53, {1: "non-string key"}, {"x": object()}])
def test_values_json_cannot_represent_canonically_are_input_errors(value):
    with pytest.raises(InputError, match="canonical JSON"):
        canonicalize(value, "record", "7")


def test_parsing_rejects_duplicate_keys_and_nan():
    with pytest.raises(InputError, match="duplicate key 'a'"):
        parse_json('{"a": 1, "a": 2}', "records.jsonl", "line 3")
    with pytest.raises(InputError, match="NaN"):
        parse_json('{"a": NaN}')


def test_is_canonical_tells_canonical_bytes_from_equivalent_json():
    assert is_canonical(b'{"a":1,"b":[true,null]}')
    assert not is_canonical(b'{"b":[true,null],"a":1}')
    assert not is_canonical(b'{"a": 1}')
    assert not is_canonical(b'{"a":1.0}')
    assert not is_canonical(b"not json")
