"""RFC 8785 JSON Canonicalization Scheme (JCS): the exact bytes an evidence record is hashed and signed as.

Serialisation is delegated to `rfc8785` (Trail of Bits, pure Python): UTF-16 code-unit key order, ECMAScript number
formatting, minimal string escaping. This module adds the parsing side: a record read back from disk or from a pack
must be I-JSON (no duplicate keys, no NaN/Infinity, integers within ±(2**53 − 1)) so that re-canonicalising it gives
the same bytes that were hashed.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from linewatch.errors import InputError


def canonicalize(value: Any, source: str = "", place: str = "") -> bytes:
    """The RFC 8785 bytes of `value` (dicts, lists, str, int, float, bool, None).

    Raises InputError naming `source` and `place` for values JCS cannot represent (NaN, infinities, integers
    beyond ±(2**53 − 1), non-string keys, other types, lone surrogates)."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise InputError(source, place, f"not representable as canonical JSON (RFC 8785): {exc}") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(data: bytes | str, source: str = "", place: str = "") -> Any:
    """Parse I-JSON strictly: duplicate keys and NaN/Infinity are errors (RFC 8785 §3.1 requires I-JSON input)."""
    try:
        return json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(source, place, f"not valid JSON: {exc}") from None


def is_canonical(data: bytes) -> bool:
    """True when `data` is already in RFC 8785 form (parsing it and canonicalising gives the same bytes)."""
    try:
        return rfc8785.dumps(json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)) == data
    except (ValueError, UnicodeDecodeError, rfc8785.CanonicalizationError):
        return False
