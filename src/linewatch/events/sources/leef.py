"""IBM QRadar Log Event Extended Format (LEEF) 1.0 and 2.0, one event per line, with or without a
syslog prefix.

`LEEF:1.0|Vendor|Product|Version|EventID|key=value<TAB>key=value…`
`LEEF:2.0|Vendor|Product|Version|EventID|DelimiterCharacter|key=value<delim>key=value…`

LEEF 2.0's delimiter field is one character (`^`, `|`…) or its code in hex (`x09`, `0x5E`); when
it is empty, or absent (the field after EventID already holds `key=value`), the delimiter is a tab
as in 1.0. A tab that rsyslog has escaped to `#011` on the way is accepted. A piece between
delimiters that has no `=` continues the previous value (a value that contained the delimiter).
`devTime` is read with `devTimeFormat` (a Java date pattern such as `MMM dd yyyy HH:mm:ss.SSS z`)
when given, otherwise as epoch milliseconds, ISO 8601 or the CEF formats.

Events: as for CEF (the same module does the mapping): an OCSF Detection Finding (2004) unless the
option `class` says otherwise — except that `isLoginEvent=true` / `isLogoutEvent=true` make an
Authentication (3002) Logon / Logoff. Predefined LEEF keys go to OCSF paths (docs/formats/leef.md);
the others are kept in `unmapped` under their own names. Options: `class`, `year`, `tz`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from linewatch.events.schema import Event, EventClass, Severity
from linewatch.events.sources import Context, Record, Source, register
from linewatch.events.sources._util import Problem, class_option, input_error, parse_java_time
from linewatch.events.sources.cef import (
    cef_severity,
    finish,
    map_value,
    parse_time_value,
    prefix_fields,
    read_prefix,
    split_header,
)
from linewatch.events.sources.syslog import SyslogMessage, options

_START = re.compile(r"LEEF:\s*(?P<version>[12](?:\.0)?)\|")
_HEX_DELIMITER = re.compile(r"(?:0?[xX])([0-9A-Fa-f]{2,4})\Z")

# LEEF predefined attributes → (OCSF path, kind)
KEYS: dict[str, tuple[str, str]] = {
    "src": ("src_endpoint.ip", "str"), "dst": ("dst_endpoint.ip", "str"),
    "srcPort": ("src_endpoint.port", "int"), "dstPort": ("dst_endpoint.port", "int"),
    "srcMAC": ("src_endpoint.mac", "str"), "dstMAC": ("dst_endpoint.mac", "str"),
    "usrName": ("actor.user.name", "str"), "proto": ("connection_info.protocol_name", "lower"),
    "srcBytes": ("traffic.bytes_out", "int"), "dstBytes": ("traffic.bytes_in", "int"),
    "srcPackets": ("traffic.packets_out", "int"), "dstPackets": ("traffic.packets_in", "int"),
    "totalPackets": ("traffic.packets", "int"), "url": ("http_request.url.url_string", "str"),
    "identHostName": ("src_endpoint.hostname", "str"), "policy": ("policy.name", "str"),
    "domain": ("user.domain", "str"), "resource": ("resource.name", "str"),
}
_TRUE = {"true", "yes", "1", "t"}


def parse_leef(text: str, *, year: int | None = None, tz: Any = None) -> dict[str, Any]:
    """One LEEF line's header and attributes: `leefVersion`, `vendor`, `product`, `version`,
    `eventId`, `delimiter`, `attributes` (plus `timestamp`/`host` from a syslog prefix)."""
    return _parse(text, year, tz)[0]


def _parse(text: str, year: int | None, tz: Any) -> tuple[dict[str, Any], SyslogMessage | None, str]:
    match = _START.search(text)
    if match is None:
        raise Problem("not LEEF: expected 'LEEF:1.0|Vendor|Product|Version|EventID|' or 'LEEF:2.0|…'", column=1)
    header, unread = read_prefix(text[:match.start()], year, tz)
    out: dict[str, Any] = {}
    if header is not None:
        if header.time is not None:
            out["timestamp"] = header.time
        if header.hostname:
            out["host"] = header.hostname
    version = match["version"]
    out["leefVersion"] = version if "." in version else f"{version}.0"
    fields, end = split_header(text, match.end(), 4, "LEEF")
    out.update(zip(("vendor", "product", "version", "eventId"), fields, strict=True))
    delimiter = "\t"
    if out["leefVersion"] == "2.0":
        bar = text.find("|", end)
        segment = text[end:bar] if bar >= 0 else None
        if segment is not None and "=" not in segment:
            hexa = _HEX_DELIMITER.match(segment.strip())
            if hexa:
                delimiter = chr(int(hexa[1], 16))
            elif len(segment) == 1:
                delimiter = segment
            elif segment.strip():
                raise Problem(f"LEEF 2.0 delimiter must be one character or its hex code (x09), got {segment!r}",
                              column=end + 1)
            end = bar + 1
    body = text[end:]
    if delimiter == "\t" and "\t" not in body and "#011" in body:
        delimiter = "#011"  # rsyslog's escape of a tab
    out["delimiter"] = delimiter
    out["attributes"] = parse_attributes(body, delimiter, end + 1)
    return out, header, unread


def parse_attributes(body: str, delimiter: str, column: int = 1) -> dict[str, str]:
    attributes: dict[str, str] = {}
    last: str | None = None
    offset = 0
    for piece in body.split(delimiter):
        here = column + offset
        offset += len(piece) + len(delimiter)
        if not piece.strip():
            continue
        key, eq, value = piece.partition("=")
        key = key.strip()
        if eq and key and " " not in key:
            attributes[key] = value
            last = key
        elif last is not None:
            attributes[last] += delimiter + piece  # the value itself held the delimiter
        else:
            raise Problem(f"expected key=value attributes separated by {delimiter!r}, got {piece[:40]!r}",
                          column=here)
    return attributes


def to_event(source: str, text: str, context: Context) -> Event:
    year, tz = options(context)
    parsed, header, unread = _parse(text, year, tz)
    attributes: dict[str, str] = parsed["attributes"]
    attrs: dict[str, Any] = {
        "metadata.product.vendor_name": parsed["vendor"],
        "metadata.product.name": parsed["product"],
        "metadata.product.version": parsed["version"],
        "metadata.event_code": parsed["eventId"],
        "metadata.log_version": f"LEEF:{parsed['leefVersion']}",
    }
    unmapped: dict[str, Any] = {}
    severity_id: int = Severity.UNKNOWN
    time = None
    message = ""
    categories: list[str] = []
    login = logout = False
    for key, value in attributes.items():
        if key == "devTime":
            pattern = attributes.get("devTimeFormat")
            if pattern:
                try:
                    time = parse_java_time(value, pattern, tz=tz, year=year)
                except ValueError as exc:
                    raise Problem(f"devTime {value!r} does not fit devTimeFormat {pattern!r}: {exc}",
                                  field="devTime") from None
            else:
                time = parse_time_value(value, key, year, tz)
            continue
        if key == "devTimeFormat":
            continue
        if key == "sev":
            severity_id = cef_severity(value)
            if severity_id == Severity.UNKNOWN:
                unmapped["sev"] = value
            continue
        if key == "cat":
            categories.append(value)
            continue
        if key in ("msg", "message"):
            message = value
            continue
        if key == "isLoginEvent":
            login = value.strip().lower() in _TRUE
            continue
        if key == "isLogoutEvent":
            logout = value.strip().lower() in _TRUE
            continue
        mapped = KEYS.get(key)
        if mapped is not None and value != "":
            attrs[mapped[0]] = map_value(mapped[0], mapped[1], value, key, year, tz)
        else:
            unmapped[key] = value
    prefix_fields(header, unread, attrs, unmapped)
    if time is None and header is not None:
        time = header.time
    try:
        class_uid = class_option(context.options.get("class"))
    except ValueError as exc:
        raise Problem(str(exc)) from None
    if class_uid is None:
        class_uid = EventClass.AUTHENTICATION if (login or logout) else EventClass.DETECTION_FINDING
    title = parsed["eventId"]
    event = finish(source, text, context, class_uid=class_uid, severity_id=severity_id, time=time, title=title,
                   event_code=parsed["eventId"], message=message or f"{parsed['vendor']} {parsed['product']} {title}",
                   attrs=attrs, unmapped=unmapped, categories=categories)
    if class_uid == EventClass.AUTHENTICATION:
        event.activity_id = 2 if logout and not login else 1  # Logoff / Logon
        if "actor.user.name" in event.attrs and "user.name" not in event.attrs:
            event.attrs["user.name"] = event.attrs.pop("actor.user.name")
    if login or logout:
        event.unmapped["isLoginEvent" if login else "isLogoutEvent"] = "true"
    return event


@register
class LeefSource(Source):
    name = "leef"
    description = "IBM QRadar LEEF 1.0/2.0 lines, bare or behind a syslog header"
    formats = ("LEEF 1.0", "LEEF 2.0")

    def parse(self, record: Record, context: Context) -> Iterable[Event]:
        text = record.data if isinstance(record.data, str) else bytes(record.data).decode("utf-8", "replace")
        try:
            yield to_event(self.name, text, context)
        except Problem as problem:
            raise input_error(context.source_name or self.name, record.place, problem) from None
