"""Syslog: RFC 5424 and RFC 3164 (BSD) messages, one per line.

Sources: `syslog` tells the two apart by the version digit after the PRI; `syslog5424` and
`syslog3164` insist on one. Each line becomes an OCSF Event Log Activity (1008, activity Other)
with the sending host as `device.hostname` (or `device.ip`), the APP-NAME as
`metadata.log_provider`, a numeric PROCID as `actor.process.pid`, the MSGID as
`metadata.event_code`, PRI's severity as `severity_id`, and the facility, severity names and
structured data in `unmapped` (docs/formats/syslog.md). A line whose message is CEF or LEEF is
handed to that parser, so `syslog` can read a mixed feed.

Options (`Context.options`): `year` — the year of RFC 3164 timestamps, which have none (default:
the current year, or the previous one when that would put the line more than a week in the future,
as happens with December logs read in January); `tz` — the zone of timestamps that carry none
(an IANA name, default UTC).

The header parser here (`parse_message`, `parse_prefix`) is shared with the CEF and LEEF sources,
which accept the same syslog prefixes, and with the Zeek source for syslog.log.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from linewatch.events.schema import Event, EventClass, Severity, event_uid
from linewatch.events.sources import Context, Record, Source, register
from linewatch.events.sources._util import (
    Problem,
    _zone,
    decode_json,
    epoch_ms,
    flatten,
    from_epoch,
    input_error,
    parse_iso,
    zone_named,
)

FACILITIES = ("kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
              "ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4",
              "local5", "local6", "local7")
SEVERITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
# syslog severity → OCSF severity_id
SEVERITY_ID = {0: Severity.FATAL, 1: Severity.CRITICAL, 2: Severity.CRITICAL, 3: Severity.HIGH, 4: Severity.MEDIUM,
               5: Severity.LOW, 6: Severity.INFORMATIONAL, 7: Severity.INFORMATIONAL}
# the names Zeek and others write (`INFO`, `WARNING`, `ERR`…) → syslog severity
SEVERITY_NAMES = {"emerg": 0, "emergency": 0, "panic": 0, "alert": 1, "crit": 2, "critical": 2, "err": 3,
                  "error": 3, "warning": 4, "warn": 4, "notice": 5, "info": 6, "informational": 6, "debug": 7}

_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}

# The timestamps a BSD-style header may start with: `Mmm dd [yyyy] hh:mm:ss[.fff] [zone]` (RFC 3164,
# ArcSight and Cisco variants, Cisco's `*` / `.` clock-state marks and trailing `:`), ISO 8601
# (rsyslog's high-precision template) and epoch seconds or milliseconds.
_ZONE_WORD = r"UTC|GMT|Z|[+-]\d{2}:?\d{2}|[ECMPA][SD]T|CES?T|EES?T|WES?T|BST|JST|AES?T|AEDT|IST|MSK"
_BSD = (r"[*.]?(?P<mon>[A-Za-z]{3})\s+(?P<day>\d{1,2})(?:\s+(?P<year>\d{4}))?\s+"
        r"(?P<hms>\d{1,2}:\d{2}:\d{2})(?P<frac>\.\d{1,9})?(?:\s+(?P<zone>" + _ZONE_WORD + r"))?")
_ISO = r"(?P<iso>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?)"
_EPOCH = r"(?P<epoch>\d{10}(?:\d{3})?(?:\.\d{1,6})?)"
_TIME = re.compile(r"(?:" + _BSD + "|" + _ISO + "|" + _EPOCH + r"):?(?=\s|$)")
_SEQUENCE = re.compile(r"\d{1,10}:\s+")  # Cisco's message sequence number before the time
_TAG = re.compile(r"(?P<app>[^\s\[\]:%][^\s\[\]:]{0,47})(?:\[(?P<pid>[^\]\s]{1,128})\])?:(?:\s|$)")
_5424_HEAD = re.compile(r"(?P<version>[1-9]\d{0,2}) ")
_SPACE = re.compile(r"\s+")


@dataclass
class SyslogMessage:
    """One parsed syslog line. `time` is epoch ms, None when the line has no timestamp."""

    format: str  # "rfc5424" | "rfc3164"
    pri: int | None = None
    time: int | None = None
    hostname: str | None = None
    app_name: str | None = None
    procid: str | None = None
    msgid: str | None = None
    structured_data: dict[str, dict[str, Any]] = field(default_factory=dict)
    message: str = ""
    version: int | None = None

    @property
    def facility(self) -> int | None:
        return None if self.pri is None else self.pri >> 3

    @property
    def severity(self) -> int | None:
        return None if self.pri is None else self.pri & 7


def split_pri(text: str) -> tuple[int | None, str]:
    """The PRI of a line (None when it has none) and the rest; `Problem` when it starts with a bad one."""
    if not text.startswith("<"):
        return None, text
    end = text.find(">", 1, 6)
    digits = text[1:end] if end > 0 else ""
    if not digits.isdigit():
        raise Problem("bad PRI: a syslog line starting with '<' needs <0>…<191>, e.g. <134>", column=1)
    pri = int(digits)
    if pri > 191:
        raise Problem(f"bad PRI <{digits}>: facility*8+severity is at most 191", column=2)
    return pri, text[end + 1:]


def parse_message(text: str, *, mode: str | None = None, year: int | None = None, tz: Any = None,
                  now: dt.datetime | None = None, pri_required: bool = True) -> SyslogMessage:
    """Parse one syslog line. `mode` is "5424", "3164" or None (decide by the version digit).
    `pri_required=False` reads an RFC 5424 line whose PRI a collector has already taken off."""
    pri, rest = split_pri(text)
    offset = len(text) - len(rest)
    head = _5424_HEAD.match(rest)
    is_5424 = head is not None and (rest[head.end():head.end() + 1] == "-" or rest[head.end():head.end() + 4].isdigit())
    if mode == "5424" or (mode is None and is_5424):
        if pri is None and pri_required:
            raise Problem("RFC 5424 needs a PRI such as <134> at the start", column=1)
        if head is None:
            raise Problem("RFC 5424 needs a version number after the PRI (e.g. '<134>1 ')", column=offset + 1)
        return _parse_5424(rest, pri, offset, tz=tz)
    return _parse_3164(rest, pri, offset, year=year, tz=tz, now=now)


def parse_prefix(text: str, *, year: int | None = None, tz: Any = None,
                 now: dt.datetime | None = None) -> SyslogMessage:
    """The syslog header in front of a CEF or LEEF payload (`<134>Feb 12 10:00:00 host app: `,
    `<134>1 2025-… host app - - - `, `1493738863000 host `, `May 02 2017 15:27:43 UTC host `).
    Whatever follows the header (a tag such as `app[12]:`) is parsed as APP-NAME and PROCID."""
    msg = parse_message(text.rstrip() + " ", year=year, tz=tz, now=now) if text.strip() else SyslogMessage("none")
    if msg.message:
        tag = _TAG.match(msg.message + " ")
        if tag and not msg.app_name:
            msg.app_name, msg.procid = tag["app"], tag["pid"]
            msg.message = msg.message[tag.end():].strip()
    return msg


def _parse_5424(rest: str, pri: int | None, offset: int, *, tz: Any) -> SyslogMessage:
    parts = rest.split(" ", 6)
    names = ("VERSION", "TIMESTAMP", "HOSTNAME", "APP-NAME", "PROCID", "MSGID")
    if len(parts) < 6:
        column = offset + len(rest) + 1
        raise Problem(f"RFC 5424 header ends after {len(parts)} of its 6 fields; missing {names[len(parts)]}",
                      column=column)
    msg = SyslogMessage("rfc5424", pri=pri, version=int(parts[0]))
    column = offset + len(parts[0]) + 2
    stamp = parts[1]
    if stamp != "-":
        try:
            if "T" not in stamp.upper():
                raise ValueError(stamp)
            msg.time = parse_iso(stamp)
        except ValueError:
            raise Problem(f"bad RFC 5424 TIMESTAMP {stamp!r}: expected ISO 8601 such as 2025-03-14T07:02:11.5Z",
                          column=column) from None
    nil = None
    msg.hostname, msg.app_name, msg.procid, msg.msgid = (nil if p == "-" else p for p in parts[2:6])
    remainder = parts[6] if len(parts) > 6 else ""
    sd_column = offset + len(rest) - len(remainder) + 1
    if remainder:
        msg.structured_data, end = parse_structured_data(remainder, sd_column)
        body = remainder[end:]
        if body and body[0] != " ":
            raise Problem("expected a space after the structured data", column=sd_column + end)
        body = body[1:]
        msg.message = body[1:] if body.startswith("\ufeff") else body
    return msg


def parse_structured_data(text: str, column: int = 1) -> tuple[dict[str, dict[str, Any]], int]:
    """RFC 5424 STRUCTURED-DATA at the start of `text`: `-` or `[id name="value" …]…`, with the
    value escapes `\\"`, `\\\\` and `\\]`. Returns the elements (a repeated parameter becomes a
    list) and where they end."""
    if text.startswith("-"):
        return {}, 1
    if not text.startswith("["):
        raise Problem("STRUCTURED-DATA must be '-' or start with '['", column=column)
    elements: dict[str, dict[str, Any]] = {}
    pos, n = 0, len(text)
    while pos < n and text[pos] == "[":
        start = pos
        pos += 1
        end = pos
        while end < n and text[end] not in " ]=\"":
            end += 1
        sd_id = text[pos:end]
        if not sd_id:
            raise Problem("an SD-ELEMENT needs an SD-ID after '['", column=column + pos)
        params: dict[str, Any] = {}
        pos = end
        while pos < n and text[pos] == " ":
            pos += 1
            eq = pos
            while eq < n and text[eq] not in "= ]\"":
                eq += 1
            name = text[pos:eq]
            if not name or eq >= n or text[eq] != "=":
                raise Problem(f"SD-ELEMENT [{sd_id}: expected PARAM-NAME=\"value\"", column=column + pos)
            if eq + 1 >= n or text[eq + 1] != '"':
                raise Problem(f"SD-PARAM {name}: the value must be in double quotes", column=column + eq + 1)
            k = eq + 2
            buf: list[str] = []
            while True:
                if k >= n:
                    raise Problem(f"SD-PARAM {name}: unterminated value (no closing '\"')", column=column + eq + 1)
                ch = text[k]
                if ch == "\\" and k + 1 < n and text[k + 1] in '"\\]':
                    buf.append(text[k + 1])
                    k += 2
                    continue
                if ch == '"':
                    break
                buf.append(ch)
                k += 1
            value = "".join(buf)
            if name in params:
                previous = params[name]
                params[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
            else:
                params[name] = value
            pos = k + 1
        if pos >= n or text[pos] != "]":
            raise Problem(f"SD-ELEMENT [{sd_id} is not closed with ']'", column=column + start)
        pos += 1
        key = sd_id
        number = 2
        while key in elements:  # a repeated SD-ID keeps its own parameters
            key = f"{sd_id}#{number}"
            number += 1
        elements[key] = params
    return elements, pos


def _parse_3164(rest: str, pri: int | None, offset: int, *, year: int | None, tz: Any,
                now: dt.datetime | None) -> SyslogMessage:
    msg = SyslogMessage("rfc3164", pri=pri)
    pos = 0
    seq = _SEQUENCE.match(rest)
    match = _TIME.match(rest, seq.end() if seq else 0)
    if match is None:
        # A relay's address in front: `172.16.5.10 6705: Feb 17 13:40:03.673: %PARSER-5-…` (Cisco).
        first = rest.split(" ", 1)
        if len(first) == 2 and first[0]:
            after = len(first[0]) + 1
            seq = _SEQUENCE.match(rest, after)
            match = _TIME.match(rest, seq.end() if seq else after)
            if match is not None:
                msg.hostname = first[0]
    if match is None:
        if pri is None:
            raise Problem("not a syslog line: expected a <PRI> or a timestamp such as 'Mar  4 07:02:11'", column=1)
        # RFC 3164 4.3.2: no valid TIMESTAMP, so the whole remainder is the message
        msg.message = rest
        return msg
    msg.time = _header_time(match, year=year, tz=tz, now=now, column=offset + match.start() + 1)
    pos = match.end()
    while pos < len(rest) and rest[pos] == " ":
        pos += 1
    body = rest[pos:]
    if msg.hostname is None and body:
        token, _, after = body.partition(" ")
        if not (token.endswith(":") or "[" in token or token.startswith("%") or token.startswith(("CEF:", "LEEF:"))):
            msg.hostname = token
            body = after.lstrip(" ")
    if body.startswith(("CEF:", "LEEF:")):
        msg.message = body
        return msg
    tag = _TAG.match(body)
    if tag:
        msg.app_name, msg.procid = tag["app"], tag["pid"]
        body = body[tag.end():]
    msg.message = body
    return msg


def _header_time(match: re.Match[str], *, year: int | None, tz: Any, now: dt.datetime | None, column: int) -> int:
    if match["epoch"]:
        return from_epoch(match["epoch"])
    if match["iso"]:
        stamp = match["iso"].replace(" ", "T", 1)
        try:
            if stamp.endswith("Z") or "+" in stamp[10:] or "-" in stamp[10:]:
                return parse_iso(stamp)
            return epoch_ms(dt.datetime.fromisoformat(stamp).replace(tzinfo=_zone(tz)))
        except ValueError:
            raise Problem(f"bad timestamp {match['iso']!r}", column=column) from None
    month = _MONTHS.get(match["mon"].lower())
    if month is None:
        raise Problem(f"bad timestamp: {match['mon']!r} is not a month", column=column)
    hour, minute, second = (int(x) for x in match["hms"].split(":"))
    micros = int((match["frac"] or ".0")[1:7].ljust(6, "0"))
    zone = zone_named(match["zone"]) if match["zone"] else _zone(tz)
    explicit = int(match["year"]) if match["year"] else year
    try:
        the_year = explicit or (now or dt.datetime.now(dt.UTC)).year
        value = dt.datetime(the_year, month, int(match["day"]), hour, minute, second, micros, tzinfo=zone)
        if explicit is None:
            reference = now or dt.datetime.now(dt.UTC)
            if value - reference > dt.timedelta(days=7):  # December's logs read in January
                value = value.replace(year=the_year - 1)
    except ValueError as exc:
        raise Problem(f"bad timestamp {match.group(0)!r}: {exc}", column=column) from None
    return epoch_ms(value)


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def header_attrs(msg: SyslogMessage, attrs: dict[str, Any], unmapped: dict[str, Any]) -> None:
    """The syslog header's fields as OCSF attributes (and the rest in `unmapped`)."""
    if msg.hostname:
        attrs["device.ip" if is_ip(msg.hostname) else "device.hostname"] = msg.hostname
    if msg.app_name:
        attrs["metadata.log_provider"] = msg.app_name
    if msg.procid:
        if msg.procid.isdigit():
            attrs["actor.process.pid"] = int(msg.procid)
        else:
            unmapped["procid"] = msg.procid
    if msg.msgid:
        attrs["metadata.event_code"] = msg.msgid
    if msg.pri is not None:
        unmapped["facility"] = FACILITIES[msg.facility] if msg.facility is not None else None
        unmapped["facility_code"] = msg.facility
        unmapped["severity"] = SEVERITIES[msg.severity] if msg.severity is not None else None
        unmapped["severity_code"] = msg.severity
    for sd_id, params in msg.structured_data.items():
        for name, value in params.items():
            unmapped[f"structured_data.{sd_id}.{name}"] = value


def options(context: Context) -> tuple[int | None, Any]:
    """The `year` and `tz` options, checked."""
    year = context.options.get("year")
    if year is not None:
        try:
            year = int(year)
        except (TypeError, ValueError):
            raise ValueError(f"option year must be a number, got {year!r}") from None
    return year, context.options.get("tz") or context.options.get("timezone")


_OCTET_COUNT = re.compile(r"\d{1,6} (?=<)")  # RFC 6587 octet counting, as saved from a TCP stream


@register
class SyslogSource(Source):
    name = "syslog"
    description = "Syslog lines, RFC 5424 or RFC 3164 (told apart per line); embedded CEF/LEEF go to those parsers"
    formats = ("RFC 5424", "RFC 3164")
    mode: str | None = None

    def parse(self, record: Record, context: Context) -> Iterable[Event]:
        text = record.data if isinstance(record.data, str) else bytes(record.data).decode("utf-8", "replace")
        count = _OCTET_COUNT.match(text)
        body = text[count.end():] if count else text
        year, tz = options(context)
        try:
            msg = parse_message(body, mode=self.mode, year=year, tz=tz)
        except Problem as problem:
            if count:
                problem.column = (problem.column or 1) + count.end()
            raise input_error(context.source_name or self.name, record.place, problem) from None
        if msg.message.startswith(("CEF:", "LEEF:")):
            # A CEF or LEEF payload: that parser reads the whole line, syslog header included.
            from linewatch.events.sources import cef, leef

            delegate = cef.CefSource() if msg.message.startswith("CEF:") else leef.LeefSource()
            yield from delegate.parse(Record(record.place, body), context)
            return
        yield make_event(self.name, msg, text, context)


def cee_payload(message: str, unmapped: dict[str, Any]) -> str:
    """A CEE (lumberjack) message, `@cee: {json}`: its fields go to `unmapped` as `cee.*` and its
    `msg` becomes the message. Any other message is returned as it is."""
    if not message.startswith("@cee:"):
        return message
    try:
        payload = decode_json(message[5:].strip())
    except ValueError:
        return message  # not JSON after all: keep the text
    if not isinstance(payload, dict):
        return message
    unmapped.update(flatten(payload, "cee"))
    return payload["msg"] if isinstance(payload.get("msg"), str) else message


def make_event(source: str, msg: SyslogMessage, raw: str, context: Context) -> Event:
    attrs: dict[str, Any] = {}
    unmapped: dict[str, Any] = {"format": msg.format}
    header_attrs(msg, attrs, unmapped)
    message = cee_payload(msg.message, unmapped)
    time = msg.time
    if time is None:
        time = epoch_ms(dt.datetime.now(dt.UTC))
        unmapped["time_is_receipt"] = True  # the line had no timestamp: this is when it was read
    severity = SEVERITY_ID.get(msg.severity, Severity.UNKNOWN) if msg.severity is not None else Severity.UNKNOWN
    return Event(uid=event_uid(source, raw), time=time, class_uid=EventClass.EVENT_LOG_ACTIVITY, activity_id=99,
                 severity_id=severity, message=message, source=source, site=context.site, attrs=attrs,
                 unmapped=unmapped, raw=raw)


@register
class Syslog5424Source(SyslogSource):
    name = "syslog5424"
    description = "Syslog lines in RFC 5424 only"
    formats = ("RFC 5424",)
    mode = "5424"


@register
class Syslog3164Source(SyslogSource):
    name = "syslog3164"
    description = "Syslog lines in RFC 3164 (BSD) only"
    formats = ("RFC 3164",)
    mode = "3164"
