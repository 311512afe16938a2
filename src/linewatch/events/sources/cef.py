"""ArcSight Common Event Format (CEF), one event per line, with or without a syslog prefix.

`CEF:Version|Device Vendor|Device Product|Device Version|Device Event Class ID|Name|Severity|Extension`
— the header's `\\|` and `\\\\` are unescaped; the extension is `key=value` pairs separated by
spaces, where a value runs (spaces included) up to the next ` key=`, and `\\=`, `\\\\`, `\\n`,
`\\r` (and `\\|`) are unescaped. A prefix in front of `CEF:` is read as a syslog header (RFC 3164
or 5424, the ArcSight `May 02 2017 15:27:43.000 UTC host` form, or `1493738863000 host`).

`parse_cef(line)` returns the header and extensions as a dict in the shape of the
jcustenborder/cef-parser test vectors (`cefVersion`, `deviceVendor`…, `severity`, `extensions`,
plus `timestamp` and `host` from a prefix); the tests check it against all 90 of them.

Events: CEF is the interchange format of security products (IDS, OT monitors, HIDS, AV), and each
record names a detection (class id, name, severity), so a CEF line becomes an OCSF Detection
Finding (2004) by default. A feed of another kind (a firewall's traffic log) is mapped to its class
with the option `class` (`network_activity`, `authentication`, a class_uid…). The standard
dictionary keys go to OCSF paths (docs/formats/cef.md); custom fields (`cs1`…`cs6`, `cn1`…,
`flexString1`…) go to `unmapped` under their label when a `…Label` names them; every other key is
kept in `unmapped` under its own name. Options: `class`, `year` and `tz` (for prefix and `rt`
times that carry no year or zone).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from linewatch.events.schema import Event, EventClass, Severity, event_uid
from linewatch.events.sources import Context, Record, Source, register
from linewatch.events.sources._util import (
    Problem,
    class_option,
    epoch_ms,
    from_epoch,
    input_error,
    parse_iso,
    parse_java_time,
    to_int,
)
from linewatch.events.sources.syslog import FACILITIES, SEVERITIES, SyslogMessage, is_ip, options, parse_prefix

HEADER_NAMES = ("deviceVendor", "deviceProduct", "deviceVersion", "deviceEventClassId", "name", "severity")
_START = re.compile(r"CEF:\s*(?P<version>\d+)(?:\.\d+)?\|")
_EXT_KEY = re.compile(r"(?:(?<=\s)|^)([A-Za-z0-9_.\-\[\]]+)=")
_CUSTOM = re.compile(r"(cs|cn|cfp|c6a|flexString|flexNumber|flexDate|deviceCustomString|deviceCustomNumber|"
                     r"deviceCustomFloatingPoint|deviceCustomIPv6Address|deviceCustomDate)(\d)\Z")

# CEF dictionary keys (short and full names) → (OCSF path, kind). Kinds: str, int, lower, time.
KEYS: dict[str, tuple[str, str]] = {}
for _names, _path, _kind in (
    (("src", "sourceAddress", "c6a2", "sourceTranslatedAddress"), "src_endpoint.ip", "str"),
    (("dst", "destinationAddress"), "dst_endpoint.ip", "str"),
    (("spt", "sourcePort"), "src_endpoint.port", "int"),
    (("dpt", "destinationPort"), "dst_endpoint.port", "int"),
    (("shost", "sourceHostName"), "src_endpoint.hostname", "str"),
    (("dhost", "destinationHostName"), "dst_endpoint.hostname", "str"),
    (("smac", "sourceMacAddress"), "src_endpoint.mac", "str"),
    (("dmac", "destinationMacAddress"), "dst_endpoint.mac", "str"),
    (("sntdom", "sourceNtDomain"), "src_endpoint.domain", "str"),
    (("dntdom", "destinationNtDomain"), "dst_endpoint.domain", "str"),
    (("suser", "sourceUserName"), "actor.user.name", "str"),
    (("suid", "sourceUserId"), "actor.user.uid", "str"),
    (("duser", "destinationUserName"), "user.name", "str"),
    (("duid", "destinationUserId"), "user.uid", "str"),
    (("sproc", "sourceProcessName"), "actor.process.name", "str"),
    (("spid", "sourceProcessId"), "actor.process.pid", "int"),
    (("dproc", "destinationProcessName"), "process.name", "str"),
    (("dpid", "destinationProcessId"), "process.pid", "int"),
    (("act", "deviceAction"), "action", "str"),
    (("outcome", "eventOutcome"), "status", "str"),
    (("reason",), "status_detail", "str"),
    (("proto", "transportProtocol"), "connection_info.protocol_name", "lower"),
    (("app", "applicationProtocol"), "app_name", "str"),
    (("start", "startTime"), "start_time", "time"),
    (("end", "endTime"), "end_time", "time"),
    (("deviceExternalId",), "device.uid", "str"),
    (("dvc", "deviceAddress"), "device.ip", "str"),
    (("dvchost", "deviceHostName"), "device.hostname", "str"),
    (("dvcmac", "deviceMacAddress"), "device.mac", "str"),
    (("request", "requestUrl"), "http_request.url.url_string", "str"),
    (("requestMethod",), "http_request.http_method", "str"),
    (("requestClientApplication",), "http_request.user_agent", "str"),
    (("fname", "fileName"), "file.name", "str"),
    (("filePath",), "file.path", "str"),
    (("fsize", "fileSize"), "file.size", "int"),
    (("in", "bytesIn"), "traffic.bytes_in", "int"),
    (("out", "bytesOut"), "traffic.bytes_out", "int"),
    (("cnt", "baseEventCount"), "count", "int"),
):
    for _name in _names:
        KEYS[_name] = (_path, _kind)
KEYS.pop("c6a2")  # c6a2 is a custom IPv6 field with a label, not the source address
KEYS.pop("sourceTranslatedAddress")

# The CEF time formats for rt/start/end besides epoch milliseconds (CEF Implementation Standard).
TIME_FORMATS = ("MMM dd yyyy HH:mm:ss.SSS zzz", "MMM dd yyyy HH:mm:ss.SSS", "MMM dd yyyy HH:mm:ss zzz",
                "MMM dd yyyy HH:mm:ss", "MMM dd HH:mm:ss.SSS zzz", "MMM dd HH:mm:ss.SSS", "MMM dd HH:mm:ss zzz",
                "MMM dd HH:mm:ss")

OUTCOMES = {"success": 1, "succeeded": 1, "successful": 1, "allow": 1, "allowed": 1, "ok": 1, "true": 1,
            "failure": 2, "failed": 2, "fail": 2, "deny": 2, "denied": 2, "blocked": 2, "false": 2}
ACTIONS = {"allow": 1, "allowed": 1, "accept": 1, "accepted": 1, "permit": 1, "permitted": 1, "pass": 1,
           "deny": 2, "denied": 2, "block": 2, "blocked": 2, "drop": 2, "dropped": 2, "reject": 2, "rejected": 2}


def split_header(text: str, start: int, count: int, what: str) -> tuple[list[str], int]:
    """`count` pipe-separated header fields from `text[start:]`, with `\\|` and `\\\\` unescaped
    (any other backslash is kept). The last field may end the line. Returns them and the index
    after the last field's `|`."""
    fields: list[str] = []
    field_start = search = start
    n = len(text)
    while len(fields) < count:
        bar = text.find("|", search)
        if bar < 0:
            if len(fields) == count - 1:
                fields.append(_unescape_header(text[field_start:]))
                return fields, n
            raise Problem(f"{what} header is cut off: {len(fields) + 1} of its {count + 1} '|'-separated fields",
                          column=n + 1)
        slashes = bar
        while slashes > field_start and text[slashes - 1] == "\\":
            slashes -= 1
        if (bar - slashes) % 2:  # an odd run of backslashes escapes this pipe
            search = bar + 1
            continue
        fields.append(_unescape_header(text[field_start:bar]))
        field_start = search = bar + 1
    return fields, field_start


_HEADER_ESCAPE = re.compile(r"\\([|\\])")


def _unescape_header(field: str) -> str:
    return _HEADER_ESCAPE.sub(r"\1", field) if "\\" in field else field


def unescape_value(value: str) -> str:
    if "\\" not in value:
        return value
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        ch = value[i]
        if ch == "\\" and i + 1 < n:
            nxt = value[i + 1]
            if nxt in "\\=|":
                out.append(nxt)
                i += 2
                continue
            if nxt in "nr":
                out.append("\n" if nxt == "n" else "\r")
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def parse_extension(ext: str, column: int = 1) -> dict[str, str]:
    """The CEF extension as a dict; a value runs up to the whitespace before the next `key=`."""
    out: dict[str, str] = {}
    if not ext.strip():
        return out
    lead = len(ext) - len(ext.lstrip())
    matches = list(_EXT_KEY.finditer(ext, lead))
    if not matches or matches[0].start() != lead:
        raise Problem("the extension must be key=value pairs separated by spaces", column=column + lead)
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(ext)
        out[match[1]] = unescape_value(ext[match.end():end].rstrip(" \t"))
    return out


def _parse(text: str, year: int | None, tz: Any) -> tuple[dict[str, Any], SyslogMessage | None, str]:
    match = _START.search(text)
    if match is None:
        raise Problem("not CEF: expected 'CEF:0|Vendor|Product|Version|Class ID|Name|Severity|Extension'", column=1)
    out: dict[str, Any] = {}
    prefix = text[:match.start()]
    header, unread = read_prefix(prefix, year, tz)
    if header is not None:
        if header.time is not None:
            out["timestamp"] = header.time
        if header.hostname:
            out["host"] = header.hostname
    out["cefVersion"] = int(match["version"])
    fields, end = split_header(text, match.end(), 6, "CEF")
    out.update(zip(HEADER_NAMES, fields, strict=True))
    out["extensions"] = parse_extension(text[end:], end + 1)
    return out, header, unread


def read_prefix(prefix: str, year: int | None, tz: Any) -> tuple[SyslogMessage | None, str]:
    """The syslog header in front of a CEF/LEEF payload, and any text in it that is not a header
    (kept by the caller in `unmapped`). A bad PRI or timestamp after a PRI is an error."""
    if not prefix.strip():
        return None, ""
    try:
        header = parse_prefix(prefix, year=year, tz=tz)
    except Problem:
        if prefix.lstrip().startswith("<"):
            raise
        return None, prefix.strip()
    return header, header.message.strip()


def parse_cef(text: str, *, year: int | None = None, tz: Any = None) -> dict[str, Any]:
    """One CEF line's header and extensions (the test vectors' `expected` shape); `Problem` if broken."""
    return _parse(text, year, tz)[0]


def cef_severity(value: str) -> int:
    """CEF severity (0–10 or Low/Medium/High/Very-High) → OCSF severity_id."""
    text = value.strip().lower()
    if text.isdigit():
        number = int(text)
        if number <= 3:
            return Severity.LOW
        if number <= 6:
            return Severity.MEDIUM
        if number <= 8:
            return Severity.HIGH
        if number <= 10:
            return Severity.CRITICAL
        return Severity.UNKNOWN
    return {"low": Severity.LOW, "medium": Severity.MEDIUM, "high": Severity.HIGH, "very-high": Severity.CRITICAL,
            "very high": Severity.CRITICAL, "critical": Severity.CRITICAL}.get(text, Severity.UNKNOWN)


def parse_time_value(value: str, field: str, year: int | None, tz: Any) -> int:
    """A CEF/LEEF time: epoch milliseconds (or seconds), ISO 8601, or one of the CEF formats."""
    text = value.strip()
    if text.replace(".", "", 1).isdigit():
        return from_epoch(text)
    if len(text) >= 19 and text[4] == "-" and text[10] in "T ":
        try:
            return parse_iso(text.replace(" ", "T", 1))
        except ValueError:
            pass
    for pattern in TIME_FORMATS:
        try:
            return parse_java_time(text, pattern, tz=tz, year=year)
        except ValueError:
            continue
    raise Problem(f"not a time: {value!r} (epoch ms, ISO 8601 or 'MMM dd yyyy HH:mm:ss[.SSS] [zone]')", field=field)


def prefix_fields(header: SyslogMessage | None, unread: str, attrs: dict[str, Any], unmapped: dict[str, Any]) -> None:
    """A syslog prefix's fields: the host as the reporting device (unless the payload names it),
    the rest in `unmapped` under `syslog.*`."""
    if unread:
        unmapped["syslog.prefix"] = unread
    if header is None:
        return
    if header.hostname:
        key = "device.ip" if is_ip(header.hostname) else "device.hostname"
        if key in attrs:
            unmapped["syslog.hostname"] = header.hostname
        else:
            attrs[key] = header.hostname
    if header.pri is not None:
        unmapped["syslog.facility"] = FACILITIES[header.pri >> 3]
        unmapped["syslog.severity"] = SEVERITIES[header.pri & 7]
    for name, value in (("app_name", header.app_name), ("procid", header.procid), ("msgid", header.msgid)):
        if value:
            unmapped[f"syslog.{name}"] = value
    for sd_id, params in header.structured_data.items():
        for name, value in params.items():
            unmapped[f"syslog.structured_data.{sd_id}.{name}"] = value


def map_value(path: str, kind: str, value: str, key: str, year: int | None, tz: Any) -> Any:
    if kind == "int":
        try:
            return to_int(value, key)
        except Problem:
            raise Problem(f"expected an integer, got {value!r}", field=key) from None
    if kind == "lower":
        return value.lower()
    if kind == "time":
        return parse_time_value(value, key, year, tz)
    return value


def event_class(context: Context) -> int:
    try:
        return class_option(context.options.get("class")) or EventClass.DETECTION_FINDING
    except ValueError as exc:
        raise Problem(str(exc)) from None


def finish(source: str, text: str, context: Context, *, class_uid: int, severity_id: int, time: int | None,
           title: str, event_code: str, message: str, attrs: dict[str, Any], unmapped: dict[str, Any],
           categories: list[str]) -> Event:
    """The event for a CEF or LEEF record, once its fields are mapped."""
    if class_uid == EventClass.DETECTION_FINDING:
        attrs["finding_info.title"] = title
        if event_code:
            attrs["finding_info.analytic.uid"] = event_code
        if categories:
            attrs["finding_info.types"] = categories
        activity = 1  # Create
    else:
        if title:
            unmapped["name"] = title
        if categories:
            unmapped["cat"] = categories[0] if len(categories) == 1 else categories
        activity = 99
    if time is None:
        time = epoch_ms(dt.datetime.now(dt.UTC))
        unmapped["time_is_receipt"] = True  # the record carried no time: this is when it was read
    status = attrs.get("status")
    status_id = OUTCOMES.get(status.lower(), 99) if isinstance(status, str) else 0
    action = attrs.get("action")
    if isinstance(action, str) and action.lower() in ACTIONS:
        attrs["action_id"] = ACTIONS[action.lower()]
    return Event(uid=event_uid(source, text), time=time, class_uid=class_uid, activity_id=activity,
                 severity_id=severity_id, status_id=status_id, message=message or title, source=source,
                 site=context.site, attrs=attrs, unmapped=unmapped, raw=text)


def to_event(source: str, text: str, context: Context) -> Event:
    year, tz = options(context)
    parsed, header, unread = _parse(text, year, tz)
    class_uid = event_class(context)
    ext: dict[str, str] = parsed["extensions"]
    attrs: dict[str, Any] = {
        "metadata.product.vendor_name": parsed["deviceVendor"],
        "metadata.product.name": parsed["deviceProduct"],
        "metadata.product.version": parsed["deviceVersion"],
        "metadata.event_code": parsed["deviceEventClassId"],
        "metadata.log_version": f"CEF:{parsed['cefVersion']}",
    }
    unmapped: dict[str, Any] = {}
    severity_id = cef_severity(parsed["severity"])
    if severity_id == Severity.UNKNOWN and parsed["severity"].strip():
        unmapped["severity"] = parsed["severity"]
    labels = {key[:-5]: value for key, value in ext.items() if key.endswith("Label") and _CUSTOM.match(key[:-5])}
    time = None
    message = ""
    categories: list[str] = []
    for key, value in ext.items():
        if key in ("rt", "deviceReceiptTime"):
            if value.strip():
                time = parse_time_value(value, key, year, tz)
            continue
        if key in ("msg", "message"):
            message = value
            continue
        if key in ("cat", "deviceEventCategory"):
            if value:
                categories.append(value)
            continue
        if key.endswith("Label") and key[:-5] in labels and key[:-5] in ext:
            continue  # used as the name of its custom field
        mapped = KEYS.get(key)
        if mapped is not None and value != "":
            path, kind = mapped
            if path.endswith(".ip") and not is_ip(value.strip()):
                # OCSF ip_t holds addresses only: a host name in an address field (`dvc=ubuntusvr`) is the
                # endpoint's host name, or stays unmapped under its own key when that is taken.
                host = path[:-3] + ".hostname"
                if host not in attrs and host not in {KEYS.get(k, ("",))[0] for k in ext}:
                    attrs[host] = value
                else:
                    unmapped[key] = value
                continue
            attrs[path] = map_value(path, kind, value, key, year, tz)
            continue
        custom = _CUSTOM.match(key)
        label = labels.get(key) if custom else None
        if label and label not in unmapped and label not in ext:
            unmapped[label] = value
        else:
            unmapped[key] = value
    prefix_fields(header, unread, attrs, unmapped)
    if time is None and header is not None:
        time = header.time
    if time is None:
        time = attrs.get("start_time") or attrs.get("end_time")
    return finish(source, text, context, class_uid=class_uid, severity_id=severity_id, time=time,
                  title=parsed["name"], event_code=parsed["deviceEventClassId"], message=message,
                  attrs=attrs, unmapped=unmapped, categories=categories)


@register
class CefSource(Source):
    name = "cef"
    description = "ArcSight CEF lines, bare or behind a syslog header"
    formats = ("CEF 0/1",)

    def parse(self, record: Record, context: Context) -> Iterable[Event]:
        text = record.data if isinstance(record.data, str) else bytes(record.data).decode("utf-8", "replace")
        try:
            yield to_event(self.name, text, context)
        except Problem as problem:
            raise input_error(context.source_name or self.name, record.place, problem) from None
