"""Helpers shared by source modules: time parsing and JSON decoding with clear errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

_json = msgspec.json.Decoder()


def decode_json(text: str | bytes) -> Any:
    """Decode JSON; raise ValueError with msgspec's position-bearing message."""
    try:
        return _json.decode(text)
    except msgspec.DecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None


def epoch_ms(value: dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp() * 1000)


def parse_iso(text: str) -> int:
    """ISO 8601 (with Z, offsets, fractions, or Suricata's +0000) to epoch milliseconds."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]  # +0000 → +00:00
    try:
        return epoch_ms(dt.datetime.fromisoformat(text))
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {text!r}") from None


def from_epoch(value: Any) -> int:
    """Epoch seconds (float or str, as Zeek writes them) or milliseconds to epoch milliseconds."""
    number = float(value)
    return int(number if number > 1e11 else number * 1000)
