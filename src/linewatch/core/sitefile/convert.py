"""Conversions between site-file values and database values, used by both import and export
so that a round trip is exact."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from linewatch.core.sitefile.validate import parse_datetime

RESTRICTED_NAMES = ("public", "controlled", "restricted", "high_security")


def restricted_to_db(name: str) -> int:
    return RESTRICTED_NAMES.index(name)


def restricted_to_file(level: int) -> str:
    return RESTRICTED_NAMES[level]


def purdue_to_db(level: float | int) -> str:
    return "3.5" if level == 3.5 else str(int(level))


def purdue_to_file(level: str) -> float | int:
    return 3.5 if level == "3.5" else int(level)


def money_to_db(value: float | int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def money_to_file(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


def number_to_file(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def mac_to_db(mac: str) -> str:
    return mac.replace("-", ":").lower()


def date_to_db(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def date_to_file(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def datetime_to_db(text: str | None) -> dt.datetime | None:
    return parse_datetime(text) if text else None


def datetime_to_file(value: dt.datetime | None, timezone: str) -> str | None:
    """In the site's local time with its offset: what the people at the site read."""
    if value is None:
        return None
    return value.astimezone(zoneinfo.ZoneInfo(timezone)).isoformat()
