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


# --- Tabular and vendor-export helpers (physical-security, VPN, telemetry sources) ---------------

_EMPTY = frozenset({"", "-", "n/a", "na", "null", "none", "(none)"})


def clean(value: Any) -> Any:
    """A field's value, or None when it is empty or a placeholder (`-`, `N/A`, `null`); strings are stripped."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return None if value.lower() in _EMPTY else value
    return value


def norm_key(name: str) -> str:
    """A column name reduced to lowercase letters and digits: `Event Time`, `event_time` and `EventTime` agree."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def dotted(obj: Any, path: str) -> Any:
    """`a.b.c` looked up in nested dicts (None when absent); a key that itself contains dots wins."""
    if isinstance(obj, dict) and path in obj:
        return obj[path]
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def flatten(obj: Any, prefix: str = "", sep: str = ".") -> dict[str, Any]:
    """Nested dicts to one level (`{"a": {"b": 1}}` → `{"a.b": 1}`); lists and primitives are kept as they are."""
    out: dict[str, Any] = {}
    if not isinstance(obj, dict):
        return {prefix: obj} if prefix else {}
    for key, value in obj.items():
        name = f"{prefix}{sep}{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            out.update(flatten(value, name, sep))
        else:
            out[name] = value
    return out


def pick_fields(row: dict[str, Any], aliases: dict[str, tuple[str, ...]],
                mapping: dict[str, str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a record into (known fields, the rest).

    `aliases` maps each canonical field to the column names it may have (compared by `norm_key`,
    dotted paths allowed for nested JSON); `mapping` (from `Context.options["mapping"]`) names the
    column explicitly and wins. Values are `clean`ed; the columns no field claimed are returned
    untouched so the caller can keep them in `unmapped`.
    """
    flat = flatten(row)
    by_norm = {norm_key(key): key for key in flat}
    used: set[str] = set()
    fields: dict[str, Any] = {}
    for field, names in aliases.items():
        candidates = (mapping[field],) if mapping and field in mapping else names
        for name in candidates:
            key = name if name in flat else by_norm.get(norm_key(name))
            if key is not None:
                used.add(key)
                fields[field] = clean(flat[key])
                break
    rest = {key: value for key, value in flat.items() if key not in used}
    return fields, rest


_TIME_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
    "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %I:%M:%S %p", "%d.%m.%Y %H:%M:%S", "%d-%b-%Y %H:%M:%S",
    "%b %d %Y %H:%M:%S", "%a %b %d %H:%M:%S %Y", "%Y%m%dT%H%M%S",
)
_DAYFIRST_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M")


def parse_time(value: Any, tz: str | dt.tzinfo | None = None, dayfirst: bool = False) -> int:
    """A timestamp as vendor exports write it, to epoch milliseconds.

    Accepts epoch seconds or milliseconds (numbers or digit strings), ISO 8601, and the usual
    report formats (`3/14/2025 7:02:11 AM`, `2025-03-14 07:02:11`, `14.03.2025 07:02:11`…;
    `dayfirst` reads `14/03/2025`). A time without an offset is taken in `tz` (an IANA name such
    as `Europe/Berlin`, from the source's `timezone` option), UTC when none is given.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        return from_epoch(value)
    text = str(value).strip()
    if text.replace(".", "", 1).isdigit() and len(text) >= 9:
        return from_epoch(text)
    zone = _zone(tz)
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    if len(iso) > 5 and iso[-5] in "+-" and iso[-4:].isdigit() and iso[-3] != ":" and ("T" in iso or " " in iso):
        iso = iso[:-2] + ":" + iso[-2:]
    parsed: dt.datetime | None = None
    try:
        parsed = dt.datetime.fromisoformat(iso)
    except ValueError:
        formats = (_DAYFIRST_FORMATS + _TIME_FORMATS) if dayfirst else _TIME_FORMATS
        for fmt in formats:
            try:
                parsed = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise ValueError(f"not a recognised time: {text!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return epoch_ms(parsed)


def _zone(tz: str | dt.tzinfo | None) -> dt.tzinfo:
    if tz is None or tz == "":
        return dt.UTC
    if isinstance(tz, dt.tzinfo):
        return tz
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r} (use an IANA name such as Europe/Berlin)") from None


def table_records(stream: Any, context: Any) -> Any:
    """Frame JSON lines, a JSON array or a CSV file with a header row into records of dicts.

    The first non-blank line decides: `{` → one JSON object per line (`line N`), `[` → the whole
    input is one JSON array (`item N`), anything else → CSV whose first row names the columns
    (delimiter `,` `;` tab or `|`, guessed from the header unless `options["delimiter"]` is set;
    `line N` is the row's first physical line). A line that is not valid JSON is passed on as
    text, so `parse` reports it at its place (`undecodable(record.data)` says why); a CSV row with
    more cells than the header keeps the surplus under the key `_extra`, one with fewer has None
    for the missing columns. Blank lines and a UTF-8 byte-order mark are skipped. The CSV header
    is left in `context.state["columns"]`.
    """
    import csv

    from linewatch.events.sources import Record

    lines = _text_lines(stream)
    first_number, first_line = 0, ""
    for number, line in lines:
        if line.strip():
            first_number, first_line = number, line
            break
    if not first_line:
        return
    head = first_line.lstrip()
    if head.startswith("["):
        body = first_line + "".join(line for _, line in lines)
        try:
            items = decode_json(body)
        except ValueError as exc:
            yield Record(f"line {first_number}", _Undecodable(body[:200], str(exc)))
            return
        for index, item in enumerate(items if isinstance(items, list) else [items], 1):
            yield Record(f"item {index}", item if isinstance(item, dict) else _Undecodable(str(item), "not an object"))
        return
    if head.startswith("{"):
        for number, line in _chain_lines(first_number, first_line, lines):
            if not line.strip():
                continue
            try:
                data = decode_json(line)
            except ValueError as exc:
                yield Record(f"line {number}", _Undecodable(line.rstrip("\r\n"), str(exc)))
                continue
            yield Record(f"line {number}", data if isinstance(data, dict) else _Undecodable(line, "not a JSON object"))
        return
    delimiter = context.options.get("delimiter") if context is not None else None
    if not delimiter:
        counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
        delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    feed = _RowFeed(_chain_lines(first_number, first_line, lines))
    reader = csv.reader(feed, delimiter=delimiter, skipinitialspace=True)
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        yield Record(f"line {first_number}", _Undecodable("", f"bad CSV header: {exc}"))
        return
    if context is not None:
        context.state["columns"] = header
    while True:
        feed.start = None
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Record(f"line {feed.start or feed.number}", _Undecodable("", f"bad CSV: {exc}"))
            continue
        if not any(cell.strip() for cell in row):
            continue
        data: dict[str, Any] = {}
        for index, column in enumerate(header):
            data[column] = row[index] if index < len(row) else None
        if len(row) > len(header):
            data["_extra"] = row[len(header):]
        yield Record(f"line {feed.start}", data)


class _Undecodable(str):
    """A record `table_records` could not decode: the text, with why, for the parser to report."""

    why: str

    def __new__(cls, text: str, why: str) -> _Undecodable:
        obj = super().__new__(cls, text)
        obj.why = why
        return obj


def undecodable(data: Any) -> str | None:
    """Why a framed record could not be decoded (None when it could)."""
    if isinstance(data, _Undecodable):
        return data.why
    if isinstance(data, str):
        return "not a JSON object"
    return None


def _text_lines(stream: Any) -> Any:
    """Numbered text lines of a byte stream (UTF-8, invalid bytes replaced, a leading BOM dropped)."""
    for number, raw in enumerate(stream, 1):
        line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if number == 1:
            line = line.lstrip("\ufeff")
        yield number, line


def _chain_lines(first_number: int, first: str, rest: Any) -> Any:
    yield first_number, first
    yield from rest


class _RowFeed:
    """Feeds csv.reader with numbered lines, remembering where the current row started."""

    def __init__(self, numbered: Any) -> None:
        self._numbered = iter(numbered)
        self.number = 0
        self.start: int | None = None

    def __iter__(self) -> _RowFeed:
        return self

    def __next__(self) -> str:
        number, line = next(self._numbered)
        self.number = number
        if self.start is None and line.strip():
            self.start = number
        return line


# --- Network and syslog-family parsers (suricata, zeek, syslog, cef, leef) ----------------------


class Problem(ValueError):
    """Bad input found inside a record, with where in the record: a 1-based column or a field name.

    Parsers raise it from their helpers and turn it into an `InputError` with `input_error`, whose
    place then reads `line 7, column 42` or `line 7, field 'src_port'`.
    """

    def __init__(self, message: str, *, column: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.field = field

    @property
    def where(self) -> str:
        if self.field is not None:
            return f"field {self.field!r}"
        if self.column is not None:
            return f"column {self.column}"
        return ""


def input_error(source: str, place: str, problem: Problem) -> Any:
    """The `InputError` for a `Problem` found at `place` (a record's place such as `line 7`)."""
    from linewatch.errors import InputError

    where = problem.where
    return InputError(source, f"{place}, {where}" if where and place else (place or where), problem.message)


class Fields:
    """A record's fields that remembers which ones the mapping used: `rest()` is what is left for
    `unmapped`, so nothing a source sent is dropped. Typed getters raise `Problem(field=…)`."""

    __slots__ = ("data", "used")

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.used: set[str] = set()

    def __contains__(self, key: str) -> bool:
        return self.data.get(key) is not None

    def get(self, key: str, default: Any = None) -> Any:
        self.used.add(key)
        value = self.data.get(key)
        return default if value is None else value

    def first(self, *keys: str) -> Any:
        """The value of the first of `keys` that has one (only that key counts as used)."""
        for key in keys:
            value = self.data.get(key)
            if value is not None:
                self.used.add(key)
                return value
        return None

    def str(self, key: str) -> str | None:
        value = self.get(key)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool | int | float):
            return str(value)
        raise Problem(f"expected text, got {type(value).__name__}", field=key)

    def int(self, key: str) -> int | None:
        return to_int(self.get(key), key)

    def float(self, key: str) -> float | None:
        value = self.get(key)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise Problem(f"expected a number, got {value!r}", field=key)

    def bool(self, key: str) -> bool | None:
        value = self.get(key)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _BOOLS:
            return _BOOLS[value.lower()]
        raise Problem(f"expected true or false, got {value!r}", field=key)

    def rest(self) -> dict[str, Any]:
        return {key: value for key, value in self.data.items() if key not in self.used and value is not None}


_BOOLS = {"t": True, "true": True, "1": True, "yes": True, "f": False, "false": False, "0": False, "no": False}


def to_int(value: Any, field: str | None = None) -> int | None:
    """An integer from a JSON number or a decimal (or 0x-hex) string; `Problem(field=…)` otherwise."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text, 16) if text[:2].lower() == "0x" else int(text)
        except ValueError:
            pass
    raise Problem(f"expected an integer, got {value!r}", field=field)


# Zone abbreviations that logs write after a time; each is a fixed offset in hours. Ambiguous ones
# (IST, CST in China) are taken in their most common log meaning.
_ZONE_ABBREVIATIONS = {
    "UTC": 0, "UT": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2, "MET": 1, "MEST": 2,
    "EET": 2, "EEST": 3, "MSK": 3, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8,
    "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "ACST": 9.5,
    "AWST": 8, "NZST": 12, "NZDT": 13, "IST": 5.5, "SGT": 8, "HKT": 8,
}


def zone_named(name: str) -> dt.tzinfo:
    """A time zone from what a log writes: `UTC`, `CEST`, `+02:00`, `-0500` or an IANA name."""
    text = name.strip()
    hours = _ZONE_ABBREVIATIONS.get(text.upper())
    if hours is not None:
        return dt.timezone(dt.timedelta(hours=hours)) if hours else dt.UTC
    if text[:1] in "+-" and text[1:].replace(":", "").isdigit():
        digits = text[1:].replace(":", "")
        if len(digits) in (2, 4):
            sign = -1 if text[0] == "-" else 1
            return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0)))
    return _zone(text)


_JAVA_TOKENS = {
    "y": ("year", r"\d{4}|\d{2}"), "M": ("month", r"\d{1,2}|[A-Za-z]{3,9}"), "d": ("day", r"\d{1,2}"),
    "H": ("hour", r"\d{1,2}"), "k": ("hour", r"\d{1,2}"), "h": ("hour12", r"\d{1,2}"), "m": ("minute", r"\d{1,2}"),
    "s": ("second", r"\d{1,2}"), "S": ("fraction", r"\d{1,9}"), "a": ("ampm", r"[AaPp][Mm]"),
    "E": (None, r"[A-Za-z]{2,9}"), "z": ("zone", r"[A-Za-z][A-Za-z0-9/_+\-]*"),
    "Z": ("offset", r"Z|[+-]\d{2}:?\d{2}"), "X": ("offset", r"Z|[+-]\d{2}(?::?\d{2})?"),
}
_MONTH_NAMES = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


def _java_regex(pattern: str) -> Any:
    import re

    cached = _JAVA_CACHE.get(pattern)
    if cached is not None:
        return cached
    parts: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end < 0:
                raise ValueError(f"unterminated quote in time format {pattern!r}")
            parts.append(re.escape(pattern[i + 1:end] or "'"))
            i = end + 1
            continue
        if ch.isalpha():
            j = i
            while j < len(pattern) and pattern[j] == ch:
                j += 1
            token = _JAVA_TOKENS.get(ch)
            if token is None:
                raise ValueError(f"unsupported letter {ch!r} in time format {pattern!r}")
            name, regex = token
            if ch == "y" and j - i == 2:
                name, regex = "year2", r"\d{2}"
            if name is None or name in seen:
                parts.append(f"(?:{regex})")
            else:
                seen.add(name)
                parts.append(f"(?P<{name}>{regex})")
            i = j
            continue
        parts.append(r"\s+" if ch == " " else re.escape(ch))
        i += 1
    compiled = re.compile("".join(parts) + r"\Z")
    _JAVA_CACHE[pattern] = compiled
    return compiled


_JAVA_CACHE: dict[str, Any] = {}


def parse_java_time(text: str, pattern: str, tz: str | dt.tzinfo | None = None, year: int | None = None) -> int:
    """A time written with a Java `SimpleDateFormat` pattern (`MMM dd yyyy HH:mm:ss.SSS zzz`, as CEF,
    LEEF's `devTimeFormat` and ArcSight use) to epoch milliseconds. Without a zone in the text the
    time is taken in `tz` (UTC when none); without a year, in `year` (the current year when none)."""
    match = _java_regex(pattern).match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} does not match the time format {pattern!r}")
    got = match.groupdict()
    month_text = got.get("month") or "1"
    month = int(month_text) if month_text.isdigit() else _MONTH_NAMES.get(month_text[:3].lower())
    if month is None:
        raise ValueError(f"unknown month {month_text!r}")
    if got.get("year"):
        the_year = int(got["year"])
    elif got.get("year2"):
        the_year = 2000 + int(got["year2"])
    else:
        the_year = year or dt.datetime.now(dt.UTC).year
    hour = int(got.get("hour") or 0)
    if got.get("hour12"):
        hour = int(got["hour12"]) % 12 + (12 if (got.get("ampm") or "").lower() == "pm" else 0)
    fraction = (got.get("fraction") or "0")[:6].ljust(6, "0")
    if got.get("offset"):
        zone = zone_named(got["offset"])
    elif got.get("zone"):
        zone = zone_named(got["zone"])
    else:
        zone = _zone(tz)
    value = dt.datetime(the_year, month, int(got.get("day") or 1), hour, int(got.get("minute") or 0),
                        int(got.get("second") or 0), int(fraction), tzinfo=zone)
    return epoch_ms(value)


def class_option(value: Any) -> int | None:
    """An event class named by a source option (`class: network_activity`, `4001`, `DETECTION_FINDING`)."""
    from linewatch.events.schema import EventClass

    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        return int(EventClass[text.upper().replace("-", "_").replace(" ", "_")])
    except KeyError:
        names = ", ".join(c.name.lower() for c in EventClass)
        raise ValueError(f"unknown event class {value!r}; one of {names} or a class_uid") from None


class TableSource:
    """A mixin for sources that read JSON lines, a JSON array or CSV rows (`table_records`):
    the framing and the first checks of a row, shared so each source only maps its fields."""

    def records(self, stream, context):
        return table_records(stream, context)

    def row_of(self, record, context) -> dict:
        """The record as a row, or an InputError naming why it cannot be read."""
        why = undecodable(record.data)
        if why is not None:
            raise self.error(context, record, why)
        return record.data

    def picked(self, record, context, fields_spec) -> tuple[dict, dict, dict]:
        """(row, the known fields under their canonical names, the rest) using the `mapping` option."""
        row = self.row_of(record, context)
        fields, rest = pick_fields(row, fields_spec, context.options.get("mapping") or None)
        return row, fields, rest
