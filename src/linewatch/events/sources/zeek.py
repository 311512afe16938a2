"""Zeek logs: the ASCII (TSV) writer with its `#` headers, or JSON, one record per line.

A line that starts with `{` is a JSON record; a `#` line is a header (`#separator`,
`#set_separator`, `#empty_field`, `#unset_field`, `#path`, `#open`, `#fields`, `#types`, `#close`),
kept per stream in `Context.state["zeek"]`; any other line is TSV data read with the last
headers: `\\xHH` and `\\\\` escapes are undone, `-` (unset) fields are left out, `(empty)` is an
empty set or string, sets and vectors become lists, `time` fields become epoch milliseconds and
`count`/`port`/`int`/`double`/`interval`/`bool` fields numbers and booleans. Concatenated logs
(several header blocks in one stream) are fine; data after `#close` needs new headers.

Which log a record belongs to: the `#path` header (TSV), the `_path` field (JSON), the option
`path`, or the input's file name (`modbus.log`, `conn.00:00:00-01:00:00.log.gz` → `modbus`,
`conn`). A headerless TSV file (`zeek-cut` output) can be read by naming its columns with the
option `fields` (a list, or one tab- or comma-separated string).

Events (docs/formats/zeek.md): conn → Network Activity; notice → Detection Finding; weird →
Network Activity (Other); dns/http/ssh/rdp/smb → their OCSF classes; ntlm and kerberos →
Authentication; software, s7comm_known_devices and cip_identity → Device Inventory Info;
syslog → Event Log Activity; ICSNPP modbus*, dnp3*, s7comm*, enip/cip and bacnet → the Linewatch
classes: a request that reads, writes, transfers a program, changes a mode, forces values or asks
for diagnostics is Controller Activity (the PLC is `dst_endpoint.ip`), everything else (responses,
notifications, session set-up, object listings, unknown functions) is Industrial Protocol with the
same activity vocabulary. Any other log keeps its fields in `unmapped`: Industrial Protocol for an
ICS protocol's log, Network Activity (Other) otherwise.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from typing import Any

from linewatch.events.schema import Category, Event, EventClass, Severity, event_uid
from linewatch.events.schema import ControllerActivity as CA
from linewatch.events.sources import Context, Record, Source, register
from linewatch.events.sources._util import (
    Fields,
    Problem,
    decode_json,
    flatten,
    from_epoch,
    input_error,
    parse_iso,
    to_int,
)

_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|\\)")
_DEFAULTS = {"separator": "\t", "set_separator": ",", "empty_field": "(empty)", "unset_field": "-"}
_ICS_PREFIXES = ("modbus", "dnp3", "s7comm", "cotp", "bacnet", "enip", "cip", "opcua", "profinet", "ethercat",
                 "genisys", "bsap", "hart_ip", "iec104", "iec61850", "goose", "mms", "omron", "ge_srtp", "c1222",
                 "synchrophasor", "roc_plus", "tds", "modicon", "umas")


def unescape(text: str) -> str:
    """Undo the ASCII writer's escapes: `\\x09` → tab, `\\\\` → backslash."""
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: "\\" if m[1] == "\\" else chr(int(m[1][1:], 16)), text)


def _scalar(value: str, ztype: str, name: str) -> Any:
    try:
        if ztype == "time":
            return from_epoch(value)
        if ztype in ("interval", "double"):
            return float(value)
        if ztype in ("count", "int", "port"):
            return int(value)
        if ztype == "bool":
            if value in ("T", "F"):
                return value == "T"
            raise ValueError(value)
    except ValueError:
        raise Problem(f"expected a Zeek {ztype}, got {value!r}", field=name) from None
    return value


def convert(value: str, ztype: str | None, name: str, header: dict[str, Any]) -> Any:
    """One TSV field as a Python value, by its `#types` type (None: unset)."""
    if value == header["unset_field"]:
        return None
    if ztype is None:  # no #types line: only the timestamp is converted
        text = unescape(value)
        return _scalar(text, "time", name) if name == "ts" else text
    if ztype.startswith(("set[", "vector[", "table[")):
        if value == header["empty_field"]:
            return []
        inner = ztype[ztype.index("[") + 1:-1]
        return [_scalar(unescape(item), inner, name) for item in value.split(header["set_separator"])]
    if value == header["empty_field"]:
        return ""
    return _scalar(unescape(value), ztype, name)


def path_from_name(name: str) -> str | None:
    base = os.path.basename(name or "")
    stem = base.split(".", 1)[0]
    return stem or None


@register
class ZeekSource(Source):
    name = "zeek"
    description = "Zeek logs (TSV with #headers, or JSON lines), including the CISA ICSNPP OT protocol logs"
    formats = ("Zeek ASCII/TSV", "Zeek JSON")

    def parse(self, record: Record, context: Context) -> Iterable[Event]:
        text = record.data if isinstance(record.data, str) else bytes(record.data).decode("utf-8", "replace")
        where = context.source_name or self.name
        state = context.state.setdefault("zeek", dict(_DEFAULTS))
        try:
            if text.startswith("#"):
                self._header(text, state)
                return
            stripped = text.lstrip()
            if stripped.startswith("{"):
                rec, path = self._json(stripped, context)
            else:
                rec, path = self._tsv(text, state, context)
            event = to_event(path, rec, text, context)
        except Problem as problem:
            raise input_error(where, record.place, problem) from None
        yield event

    @staticmethod
    def _header(text: str, state: dict[str, Any]) -> None:
        if text.startswith("#separator"):
            state["separator"] = unescape(text[len("#separator"):].strip(" ")) or "\t"
            return
        name, *values = text[1:].split(state["separator"])
        if name in ("set_separator", "empty_field", "unset_field"):
            state[name] = unescape(values[0]) if values else _DEFAULTS[name]
        elif name == "path":
            state["path"] = values[0] if values else None
        elif name == "fields":
            state["fields"] = values
            state["types"] = None
            state["closed"] = False
        elif name == "types":
            state["types"] = values
        elif name == "close":
            state["closed"] = True
        # `#open` and comments (btest's `### …`) carry nothing a record needs

    def _tsv(self, text: str, state: dict[str, Any], context: Context) -> tuple[dict[str, Any], str]:
        fields = state.get("fields")
        if not fields or state.get("closed"):
            option = context.options.get("fields")
            if option:
                fields = option if isinstance(option, list | tuple) else re.split(r"[\t,]", str(option))
                state["fields"], state["types"], state["closed"] = list(fields), None, False
            else:
                after = " after #close" if state.get("closed") else ""
                raise Problem(f"a TSV data line{after} without a #fields header; give the columns with the "
                              "option fields, or read the whole log with its headers", column=1)
        values = text.split(state["separator"])
        if len(values) != len(fields):
            raise Problem(f"{len(values)} fields where #fields names {len(fields)}", column=1)
        types = state.get("types")
        if types is not None and len(types) != len(fields):
            types = None
        rec = {name: convert(value, types[i] if types else None, name, state)
               for i, (name, value) in enumerate(zip(fields, values, strict=True))}
        path = state.get("path") or context.options.get("path") or path_from_name(context.source_name) or "unknown"
        return rec, path

    @staticmethod
    def _json(text: str, context: Context) -> tuple[dict[str, Any], str]:
        try:
            obj = decode_json(text)
        except ValueError as exc:
            raise Problem(str(exc)) from None
        if not isinstance(obj, dict):
            raise Problem("expected a JSON object")
        rec = flatten(obj)
        ts = rec.get("ts")
        if isinstance(ts, str):
            try:
                rec["ts"] = parse_iso(ts) if not ts.replace(".", "", 1).isdigit() else from_epoch(ts)
            except ValueError:
                raise Problem(f"not a time: {ts!r}", field="ts") from None
        elif isinstance(ts, int | float) and not isinstance(ts, bool):
            rec["ts"] = from_epoch(ts)
        elif ts is not None:
            raise Problem(f"expected epoch seconds or an ISO 8601 time, got {ts!r}", field="ts")
        path = rec.pop("_path", None) or context.options.get("path") or path_from_name(context.source_name)
        return rec, str(path or "unknown")


# --- mapping ------------------------------------------------------------------------------------


class Out:
    """The event being built for one record."""

    __slots__ = ("class_uid", "activity_id", "severity_id", "status_id", "message", "attrs", "unmapped")

    def __init__(self, class_uid: int, activity_id: int = 0) -> None:
        self.class_uid = class_uid
        self.activity_id = activity_id
        self.severity_id: int = Severity.INFORMATIONAL
        self.status_id = 0
        self.message = ""
        self.attrs: dict[str, Any] = {}
        self.unmapped: dict[str, Any] = {}  # derived values that have no OCSF place

    def put(self, path: str, value: Any) -> None:
        if value is not None and value != "" and value != []:
            self.attrs[path] = value


def to_event(path: str, rec: dict[str, Any], raw: str, context: Context) -> Event:
    f = Fields(rec)
    time = f.get("ts")
    if time is None:
        raise Problem("the record has no ts", field="ts")
    if not isinstance(time, int):
        raise Problem(f"expected a time, got {time!r}", field="ts")
    handler = HANDLERS.get(path)
    if handler is None:
        handler = _generic_ics if path.startswith(_ICS_PREFIXES) else _generic
    out = handler(f, path)
    if out.class_uid < _CORE_LIMIT and out.class_uid // 1000 != Category.NETWORK:
        _off_network(out)
    unmapped = f.rest()
    unmapped.update(out.unmapped)
    unmapped["_path"] = path
    return Event(uid=event_uid("zeek", path, raw), time=time, class_uid=out.class_uid, activity_id=out.activity_id,
                 severity_id=out.severity_id, status_id=out.status_id, message=out.message, source="zeek",
                 site=context.site, attrs=out.attrs, unmapped=unmapped, raw=raw)


_CORE_LIMIT = 100000  # OCSF core class_uids; the Linewatch extension's are far above
_NATIVE_ENDPOINT = {"src_endpoint.ip": "id.orig_h", "src_endpoint.port": "id.orig_p", "dst_endpoint.ip": "id.resp_h",
                    "dst_endpoint.port": "id.resp_p"}


def _off_network(out: Out) -> None:
    """OCSF has `connection_info` only on Network Activity classes: elsewhere (notice, kerberos, ntlm,
    syslog, inventory) Zeek's connection uid is `metadata.correlation_uid`, and its community id and
    protocol stay unmapped (`community_id`, `proto`). Device Inventory Info has no endpoints (the
    device is `device.*`), so its connection's addresses stay unmapped under their Zeek names."""
    uid = out.attrs.pop("connection_info.uid", None)
    if uid is not None:
        out.attrs["metadata.correlation_uid"] = uid
    community = out.attrs.pop("connection_info.community_uid", None)
    if community is not None:
        out.unmapped["community_id"] = community
    proto = out.attrs.pop("connection_info.protocol_name", None)
    if proto is not None:
        out.unmapped["proto"] = proto
    if out.class_uid == EventClass.DEVICE_INVENTORY_INFO:
        for path in [p for p in out.attrs if p.startswith(("src_endpoint.", "dst_endpoint."))]:
            out.unmapped[_NATIVE_ENDPOINT.get(path, path)] = out.attrs.pop(path)


def _endpoints(f: Fields, out: Out) -> None:
    out.put("src_endpoint.ip", f.get("id.orig_h"))
    out.put("src_endpoint.port", f.int("id.orig_p"))
    out.put("dst_endpoint.ip", f.get("id.resp_h"))
    out.put("dst_endpoint.port", f.int("id.resp_p"))
    out.put("connection_info.uid", f.get("uid"))
    out.put("connection_info.community_uid", f.get("community_id"))


def _status(flag: bool | None) -> int:
    return 0 if flag is None else (1 if flag else 2)


def _arrow(out: Out) -> str:
    a = out.attrs
    return f"{a.get('src_endpoint.ip', '?')} → {a.get('dst_endpoint.ip', '?')}:{a.get('dst_endpoint.port', '?')}"


_CONN_STATES = {"S0": 4, "REJ": 5, "RSTO": 3, "RSTR": 3, "RSTOS0": 3, "RSTRH": 3, "SF": 2, "S1": 2, "S2": 2, "S3": 2}


def _conn(f: Fields, path: str) -> Out:
    state = f.get("conn_state")
    out = Out(EventClass.NETWORK_ACTIVITY, _CONN_STATES.get(state, 6))  # Close/Reset/Fail/Refuse, else Traffic
    _endpoints(f, out)
    out.put("connection_info.protocol_name", f.str("proto"))
    out.put("app_name", f.str("service"))
    duration = f.float("duration")
    out.put("duration", None if duration is None else int(duration * 1000))
    out.put("traffic.bytes_out", f.int("orig_bytes"))
    out.put("traffic.bytes_in", f.int("resp_bytes"))
    out.put("traffic.packets_out", f.int("orig_pkts"))
    out.put("traffic.packets_in", f.int("resp_pkts"))
    out.put("src_endpoint.mac", f.get("orig_l2_addr"))
    out.put("dst_endpoint.mac", f.get("resp_l2_addr"))
    out.message = f"{out.attrs.get('connection_info.protocol_name', '')} {_arrow(out)} {state or ''}".strip()
    return out


def _notice(f: Fields, path: str) -> Out:
    out = Out(EventClass.DETECTION_FINDING, 1)
    out.severity_id = Severity.MEDIUM
    _endpoints(f, out)
    if "src_endpoint.ip" not in out.attrs:
        out.put("src_endpoint.ip", f.get("src"))
    if "dst_endpoint.ip" not in out.attrs:
        out.put("dst_endpoint.ip", f.get("dst"))
        out.put("dst_endpoint.port", f.int("p"))
    out.put("connection_info.protocol_name", f.str("proto"))
    note = f.str("note") or "Notice"
    out.put("finding_info.title", note)
    out.put("finding_info.analytic.name", note)
    out.put("finding_info.desc", f.str("sub"))
    out.message = f.str("msg") or note
    return out


def _weird(f: Fields, path: str) -> Out:
    out = Out(EventClass.NETWORK_ACTIVITY, 99)
    out.severity_id = Severity.LOW
    _endpoints(f, out)
    name = f.str("name") or "weird"
    out.message = f"weird: {name}" + (f" ({f.str('addl')})" if "addl" in f else "")
    out.put("status_detail", name)
    return out


def _dns(f: Fields, path: str) -> Out:
    out = Out(EventClass.DNS_ACTIVITY)
    _endpoints(f, out)
    out.put("connection_info.protocol_name", f.str("proto"))
    out.put("query.hostname", f.str("query"))
    out.put("query.type", f.str("qtype_name"))
    out.put("query.class", f.str("qclass_name"))
    out.put("query.packet_uid", f.int("trans_id"))
    rcode = f.int("rcode")
    out.activity_id = 1 if rcode is None else 2  # Query (no answer seen) / Response
    out.put("rcode_id", rcode)
    out.put("rcode", f.str("rcode_name"))
    answers = f.get("answers") or []
    ttls = f.get("TTLs") or []
    out.put("answers", [{"rdata": str(a), **({"ttl": int(ttls[i])} if i < len(ttls) else {})}
                        for i, a in enumerate(answers if isinstance(answers, list) else [answers])])
    rtt = f.float("rtt")
    out.put("response_time", None if rtt is None else int(rtt * 1000))
    out.message = f"DNS {out.attrs.get('query.type', '')} {out.attrs.get('query.hostname', '')}".strip()
    if "rcode" in out.attrs:
        out.message += f" → {out.attrs['rcode']}"
    return out


HTTP_ACTIVITIES = {"CONNECT": 1, "DELETE": 2, "GET": 3, "HEAD": 4, "OPTIONS": 5, "POST": 6, "PUT": 7, "TRACE": 8,
                   "PATCH": 9}


def _http(f: Fields, path: str) -> Out:
    method = f.str("method")
    out = Out(EventClass.HTTP_ACTIVITY, HTTP_ACTIVITIES.get((method or "").upper(), 99 if method else 0))
    _endpoints(f, out)
    out.put("http_request.http_method", method)
    out.put("http_request.url.hostname", f.str("host"))
    uri = f.str("uri")
    if uri:
        path_part, _, query = uri.partition("?")
        out.put("http_request.url.path", path_part)
        out.put("http_request.url.query_string", query)
    out.put("http_request.referrer", f.str("referrer"))
    out.put("http_request.version", f.str("version"))
    out.put("http_request.user_agent", f.str("user_agent"))
    out.put("http_request.length", f.int("request_body_len"))
    out.put("http_response.code", f.int("status_code"))
    out.put("http_response.message", f.str("status_msg"))
    out.put("http_response.length", f.int("response_body_len"))
    out.message = f"{method or 'HTTP'} {out.attrs.get('http_request.url.hostname', '')}{uri or ''}"
    if "http_response.code" in out.attrs:
        out.message += f" → {out.attrs['http_response.code']}"
    return out


def _ssh(f: Fields, path: str) -> Out:
    out = Out(EventClass.SSH_ACTIVITY, 1)  # Open
    _endpoints(f, out)
    success = f.bool("auth_success")
    out.status_id = _status(success)
    version = f.get("version")
    out.put("protocol_ver", None if version is None else str(version))
    out.put("client_hassh.value", f.str("hassh"))
    out.put("server_hassh.value", f.str("hasshServer"))
    outcome = {None: "", True: " (authenticated)", False: " (authentication failed)"}[success]
    out.message = f"SSH {_arrow(out)}{outcome}"
    return out


def _rdp(f: Fields, path: str) -> Out:
    out = Out(EventClass.RDP_ACTIVITY, 1)  # Initial Request
    _endpoints(f, out)
    out.put("user.name", f.str("cookie"))
    result = f.str("result")
    out.put("status", result)
    if result:
        out.status_id = 1 if result.lower() in ("success", "encrypted") else 2
    out.put("src_endpoint.hostname", f.str("client_name"))
    out.message = f"RDP {_arrow(out)}" + (f" as {out.attrs['user.name']}" if "user.name" in out.attrs else "")
    return out


def _ntlm(f: Fields, path: str) -> Out:
    out = Out(EventClass.AUTHENTICATION, 1)  # Logon
    _endpoints(f, out)
    out.put("auth_protocol_id", 1)
    out.put("auth_protocol", "NTLM")
    out.put("user.name", f.str("username"))
    out.put("user.domain", f.str("domainname"))
    out.put("src_endpoint.hostname", f.str("hostname"))
    out.put("dst_endpoint.name", f.str("server_nb_computer_name"))
    out.put("dst_endpoint.hostname", f.str("server_dns_computer_name"))
    out.put("dst_endpoint.domain", f.str("server_tree_name"))
    out.status_id = _status(f.bool("success"))
    out.put("status_detail", f.str("status"))
    out.message = f"NTLM logon {out.attrs.get('user.domain', '')}\\{out.attrs.get('user.name', '')} {_arrow(out)}"
    return out


def _kerberos(f: Fields, path: str) -> Out:
    kind = (f.str("request_type") or "").upper()
    out = Out(EventClass.AUTHENTICATION, {"AS": 3, "TGS": 4}.get(kind, 99))  # Authentication / Service Ticket
    _endpoints(f, out)
    out.put("auth_protocol_id", 2)
    out.put("auth_protocol", "Kerberos")
    client = f.str("client")
    if client:
        name, _, realm = client.rpartition("/") if "/" in client else (client, "", "")
        out.put("user.name", name)
        out.put("user.domain", realm)
    out.put("service.name", f.str("service"))
    out.status_id = _status(f.bool("success"))
    out.put("status_detail", f.str("error_msg"))
    out.message = f"Kerberos {kind or '?'} {client or ''} → {out.attrs.get('service.name', '')}".strip()
    return out


def _software(f: Fields, path: str) -> Out:
    # Strictly OCSF's Software Inventory Info (5020); Linewatch's EventClass has Device Inventory Info only.
    out = Out(EventClass.DEVICE_INVENTORY_INFO, 1)
    out.put("device.ip", f.get("host"))
    out.put("device.port", f.int("host_p"))
    out.put("package.name", f.str("name"))
    out.put("package.type", f.str("software_type"))
    parts = [f.get(f"version.{p}") for p in ("major", "minor", "minor2", "minor3")]
    numbers = ".".join(str(p) for p in parts if p is not None)
    addl = f.str("version.addl")
    version = (numbers + (f"-{addl}" if addl and numbers else addl or "")) or f.str("unparsed_version")
    out.put("package.version", version)
    out.message = f"software {out.attrs.get('package.name', '?')} {version or ''} on {out.attrs.get('device.ip', '?')}"
    return out


def _syslog(f: Fields, path: str) -> Out:
    from linewatch.events.sources.syslog import SEVERITY_ID, SEVERITY_NAMES, cee_payload, header_attrs, parse_message

    out = Out(EventClass.EVENT_LOG_ACTIVITY, 99)
    _endpoints(f, out)
    out.put("connection_info.protocol_name", f.str("proto"))
    # `facility` and `severity` (names) stay in unmapped under their own keys; the severity also sets severity_id
    severity = SEVERITY_NAMES.get(str(f.data.get("severity") or "").lower())
    out.severity_id = SEVERITY_ID[severity] if severity is not None else Severity.UNKNOWN
    message = f.str("message") or ""
    out.message = message
    try:  # the message is the syslog line after its PRI: read its header when it has one
        inner = parse_message(message, pri_required=False)
    except Problem:
        inner = None
    if inner is not None and inner.time is not None:
        header_attrs(inner, out.attrs, out.unmapped)
        out.unmapped["message_time"] = inner.time
        out.message = cee_payload(inner.message, out.unmapped)
    if "device.hostname" not in out.attrs and "device.ip" not in out.attrs:
        out.put("device.ip", out.attrs.get("src_endpoint.ip"))
    return out


def _tls(f: Fields, path: str) -> Out:
    out = Out(EventClass.NETWORK_ACTIVITY, 6)
    _endpoints(f, out)
    out.put("tls.version", f.str("version"))
    out.put("tls.cipher", f.str("cipher"))
    out.put("tls.sni", f.str("server_name"))
    out.put("tls.certificate.subject", f.str("subject"))
    out.put("tls.certificate.issuer", f.str("issuer"))
    out.put("tls.ja3_hash.value", f.str("ja3"))
    out.put("tls.ja3s_hash.value", f.str("ja3s"))
    out.message = f"TLS {_arrow(out)} {out.attrs.get('tls.sni', '')}".strip()
    return out


def _smb(f: Fields, path: str) -> Out:
    out = Out(EventClass.SMB_ACTIVITY, 99)
    _endpoints(f, out)
    if path == "smb_mapping":
        out.put("share", f.str("path"))
        out.put("share_type", f.str("share_type"))
    else:
        out.put("file.name", f.str("name"))
        out.put("share", f.str("path"))
        out.put("file.size", f.int("size"))
    out.message = f"SMB {_arrow(out)} {out.attrs.get('share', '')}".strip()
    return out


def _generic(f: Fields, path: str) -> Out:
    out = Out(GENERIC_CLASSES.get(path, EventClass.NETWORK_ACTIVITY), 99)
    _endpoints(f, out)
    out.message = f"{path} {_arrow(out)}" if "src_endpoint.ip" in out.attrs else path
    return out


GENERIC_CLASSES = {"dhcp": EventClass.DHCP_ACTIVITY, "ftp": EventClass.FTP_ACTIVITY,
                   "files": EventClass.NETWORK_FILE_ACTIVITY}


# --- industrial protocols -------------------------------------------------------------------------

def _ics(f: Fields, protocol: str, function: str | None, code: int | None, activity: int, request: bool | None,
         *, failed: bool = False) -> Out:
    """Controller Activity for a request with a known operation, Industrial Protocol otherwise.
    `request` None means the record is a whole transaction (request and response together)."""
    operation = activity != CA.OTHER
    out = Out(EventClass.CONTROLLER_ACTIVITY if operation and request is not False else EventClass.INDUSTRIAL_PROTOCOL,
              activity)
    _endpoints(f, out)
    name = CA(activity).name.lower().replace("_", " ")  # "program upload", "write", "mode change"…
    out.put("controller.protocol", protocol)
    out.put("controller.operation", name)
    out.put("controller.function", function)
    out.put("controller.function_code", code)
    if request is not None:
        out.put("controller.direction", "request" if request else "response")
    if failed:
        out.status_id = 2
    out.message = f"{protocol} {function or '?'} ({name}) {_arrow(out)}"
    return out


MODBUS_FUNCTIONS: dict[str, tuple[int, int]] = {
    "READ_COILS": (1, CA.READ), "READ_DISCRETE_INPUTS": (2, CA.READ), "READ_HOLDING_REGISTERS": (3, CA.READ),
    "READ_INPUT_REGISTERS": (4, CA.READ), "WRITE_SINGLE_COIL": (5, CA.WRITE), "WRITE_SINGLE_REGISTER": (6, CA.WRITE),
    "READ_EXCEPTION_STATUS": (7, CA.DIAGNOSTIC), "DIAGNOSTICS": (8, CA.DIAGNOSTIC),
    "GET_COMM_EVENT_COUNTER": (11, CA.DIAGNOSTIC), "GET_COMM_EVENT_LOG": (12, CA.DIAGNOSTIC),
    "WRITE_MULTIPLE_COILS": (15, CA.WRITE), "WRITE_MULTIPLE_REGISTERS": (16, CA.WRITE),
    "REPORT_SLAVE_ID": (17, CA.DIAGNOSTIC), "READ_FILE_RECORD": (20, CA.READ), "WRITE_FILE_RECORD": (21, CA.WRITE),
    "MASK_WRITE_REGISTER": (22, CA.WRITE), "READ_WRITE_MULTIPLE_REGISTERS": (23, CA.WRITE),
    "READ_FIFO_QUEUE": (24, CA.READ), "ENCAP_INTERFACE_TRANSPORT": (43, CA.DIAGNOSTIC),
}
MODBUS_BY_CODE = {code: (name, activity) for name, (code, activity) in MODBUS_FUNCTIONS.items()}


def modbus_function(name: str | None) -> tuple[int | None, int, bool]:
    """A Zeek Modbus function name (`WRITE_SINGLE_COIL`, `READ_COILS_EXCEPTION`, `unknown-100`) →
    (function code, activity, is an exception response)."""
    if not name:
        return None, CA.OTHER, False
    upper = name.upper()
    exception = upper.endswith("_EXCEPTION")
    if exception:
        upper = upper[: -len("_EXCEPTION")]
    if upper in MODBUS_FUNCTIONS:
        code, activity = MODBUS_FUNCTIONS[upper]
        return code, activity, exception
    if upper.startswith("UNKNOWN-") and upper[8:].isdigit():
        code = int(upper[8:]) & 0x7F
        return code, MODBUS_BY_CODE.get(code, ("", CA.OTHER))[1], exception
    return None, CA.OTHER, exception


def _direction(f: Fields, *keys: str) -> bool | None:
    """True for a request, False for a response, None when the record does not say."""
    for key in keys:
        value = f.get(key)
        if value is None:
            continue
        if isinstance(value, bool):  # is_orig
            return value
        text = str(value).upper()
        if text in ("REQ", "REQUEST", "T", "TRUE") or text.endswith("REQUEST"):
            return True
        if text in ("RESP", "RESPONSE", "F", "FALSE") or text.endswith(("ACK", "RESPONSE", "ERROR", "REJECT",
                                                                         "ABORT")):
            return False
    return None


def _modbus(f: Fields, path: str) -> Out:
    function = f.str("func")
    code, activity, exception = modbus_function(function)
    request = _direction(f, "request_response", "pdu_type", "is_orig")
    # request None: Zeek's classic modbus.log and ICSNPP modbus_detailed log one line per transaction
    exception_text = f.first("exception", "exception_code")
    failed = exception or bool(exception_text)
    out = _ics(f, "modbus", function, code, activity, request, failed=failed)
    out.put("controller.unit_id", f.int("unit"))
    out.put("controller.transaction_id", f.int("tid"))
    out.put("controller.address", f.int("address"))
    out.put("controller.quantity", f.int("quantity"))
    values = f.get("request_values")
    if values is not None and activity == CA.WRITE:
        out.put("controller.values", values if isinstance(values, list) else [values])
    else:
        f.used.discard("request_values")
    out.put("controller.exception", exception_text)
    return out


DNP3_FUNCTIONS: dict[str, tuple[int, int]] = {
    "CONFIRM": (0, CA.OTHER), "READ": (1, CA.READ), "WRITE": (2, CA.WRITE), "SELECT": (3, CA.OTHER),
    "OPERATE": (4, CA.WRITE), "DIRECT_OPERATE": (5, CA.WRITE), "DIRECT_OPERATE_NR": (6, CA.WRITE),
    "IMMED_FREEZE": (7, CA.OTHER), "IMMED_FREEZE_NR": (8, CA.OTHER), "FREEZE_CLEAR": (9, CA.OTHER),
    "FREEZE_CLEAR_NR": (10, CA.OTHER), "FREEZE_AT_TIME": (11, CA.OTHER), "FREEZE_AT_TIME_NR": (12, CA.OTHER),
    "COLD_RESTART": (13, CA.MODE_CHANGE), "WARM_RESTART": (14, CA.MODE_CHANGE), "INITIALIZE_DATA": (15, CA.MODE_CHANGE),
    "INITIALIZE_APPL": (16, CA.MODE_CHANGE), "START_APPL": (17, CA.MODE_CHANGE), "STOP_APPL": (18, CA.MODE_CHANGE),
    "SAVE_CONFIG": (19, CA.OTHER), "ENABLE_UNSOLICITED": (20, CA.OTHER), "DISABLE_UNSOLICITED": (21, CA.OTHER),
    "ASSIGN_CLASS": (22, CA.OTHER), "DELAY_MEASURE": (23, CA.OTHER), "RECORD_CURRENT_TIME": (24, CA.OTHER),
    "OPEN_FILE": (25, CA.OTHER), "CLOSE_FILE": (26, CA.OTHER), "DELETE_FILE": (27, CA.OTHER),
    "GET_FILE_INFO": (28, CA.OTHER), "AUTHENTICATE_FILE": (29, CA.OTHER), "ABORT_FILE": (30, CA.OTHER),
    "ACTIVATE_CONFIG": (31, CA.PROGRAM_DOWNLOAD), "AUTHENTICATE_REQ": (32, CA.OTHER),
    "AUTHENTICATE_ERR": (33, CA.OTHER), "RESPONSE": (129, CA.OTHER), "UNSOLICITED_RESPONSE": (130, CA.OTHER),
    "AUTHENTICATE_RESP": (131, CA.OTHER),
}
DNP3_BY_CODE = {code: (name, activity) for name, (code, activity) in DNP3_FUNCTIONS.items()}
_DNP3_RESPONSES = {"RESPONSE", "UNSOLICITED_RESPONSE", "AUTHENTICATE_RESP"}
_IIN_ERRORS = 0x0007  # IIN2: function not supported, object unknown, parameter error


def dnp3_function(name: str | None) -> tuple[int | None, int]:
    if not name:
        return None, CA.OTHER
    found = DNP3_FUNCTIONS.get(name.upper().replace(" ", "_"))
    if found is None:
        return None, CA.OTHER
    return found


def _dnp3(f: Fields, path: str) -> Out:
    if path == "dnp3":  # Zeek's dnp3.log: one line per request/reply pair
        request_name = f.str("fc_request")
        iin = f.data.get("iin")  # stays in unmapped; its error bits set the status
        failed = isinstance(iin, int) and bool(iin & _IIN_ERRORS)
        if request_name:
            code, activity = dnp3_function(request_name)
            out = _ics(f, "dnp3", request_name, code, activity, None, failed=failed)
        else:  # unsolicited response
            reply_name = f.str("fc_reply")
            code, _ = dnp3_function(reply_name)
            out = _ics(f, "dnp3", reply_name, code, CA.OTHER, False, failed=failed)
        return out
    function = f.str("function_code")
    code, activity = dnp3_function(function)
    request = _direction(f, "is_orig")
    if function and function.upper() in _DNP3_RESPONSES:
        request = False
    status = f.str("status_code")
    failed = bool(status) and status.lower() not in ("success", "-")
    if path == "dnp3_objects":  # the objects of a message already logged in dnp3.log
        out = _ics(f, "dnp3", function, code, activity, False if request is None else request, failed=failed)
        if out.class_uid == EventClass.CONTROLLER_ACTIVITY:
            out.class_uid = EventClass.INDUSTRIAL_PROTOCOL
        out.put("controller.object", f.str("object_type"))
        out.put("controller.quantity", f.int("object_count"))
        out.put("controller.address", f.int("range_low"))
        return out
    out = _ics(f, "dnp3", function, code, activity, request, failed=failed)
    out.put("controller.object", f.str("block_type"))
    out.put("controller.address", f.int("index_number"))
    out.put("controller.status", status)
    return out


S7_JOB_FUNCTIONS: dict[int, tuple[str, int]] = {
    0x00: ("CPU services", CA.OTHER), 0xF0: ("Setup Communication", CA.OTHER), 0x04: ("Read Variable", CA.READ),
    0x05: ("Write Variable", CA.WRITE), 0x1A: ("Request Download", CA.PROGRAM_DOWNLOAD),
    0x1B: ("Download Block", CA.PROGRAM_DOWNLOAD), 0x1C: ("Download Ended", CA.PROGRAM_DOWNLOAD),
    0x1D: ("Start Upload", CA.PROGRAM_UPLOAD), 0x1E: ("Upload", CA.PROGRAM_UPLOAD),
    0x1F: ("End Upload", CA.PROGRAM_UPLOAD),
    0x28: ("PI-Service", CA.MODE_CHANGE), 0x29: ("PLC Stop", CA.MODE_CHANGE),
}
# User-Data function groups (the low nibble of the function code; the high nibble 4 = request, 8 = response)
S7_USERDATA_GROUPS: dict[int, int] = {0x0: CA.MODE_CHANGE, 0x1: CA.DIAGNOSTIC, 0x2: CA.READ, 0x3: CA.READ,
                                      0x4: CA.DIAGNOSTIC, 0x5: CA.OTHER, 0x6: CA.OTHER, 0x7: CA.OTHER, 0xF: CA.OTHER}


def s7_transfer(function_name: str | None) -> int:
    name = (function_name or "").lower()
    if "upload" in name:
        return CA.PROGRAM_UPLOAD
    if "download" in name:
        return CA.PROGRAM_DOWNLOAD
    return CA.OTHER


def _s7comm(f: Fields, path: str) -> Out:
    rosctr = str(f.data.get("rosctr_name") or f.data.get("rosctr") or "")  # kept in unmapped
    function_name = f.str("function_name")
    code = to_int(f.get("function_code"), "function_code") if "function_code" in f else None
    request = rosctr.lower().startswith("job") if rosctr else _direction(f, "is_orig")
    activity = CA.OTHER
    if rosctr.lower().startswith("user"):
        if code is not None:
            request = (code >> 4) == 0x4
            activity = S7_USERDATA_GROUPS.get(code & 0x0F, CA.OTHER)
        sub = (f.str("subfunction_name") or "").lower()
        if "force" in sub:
            activity = CA.FORCE_VALUES
    elif code is not None:
        activity = S7_JOB_FUNCTIONS.get(code, ("", CA.OTHER))[1]
    else:
        activity = s7_transfer(function_name)
    if request is None:
        request = _direction(f, "is_orig")
    error = f.str("error_class") or ""
    failed = bool(error) and error.lower() != "no error"
    out = _ics(f, "s7comm", function_name, code, activity, request, failed=failed)
    out.put("controller.status", error)
    out.put("controller.subfunction", f.str("subfunction_name"))
    out.put("controller.transaction_id", f.int("pdu_reference"))
    return out


def _s7_upload_download(f: Fields, path: str) -> Out:
    rosctr = str(f.data.get("rosctr") or "")  # kept in unmapped
    function_name = f.str("function_name")
    request = rosctr.lower().startswith("job") if rosctr else _direction(f, "is_orig")
    status = f.str("function_status")
    failed = bool(status) and status not in ("0x00", "0", "Success")
    out = _ics(f, "s7comm", function_name, None, s7_transfer(function_name), request, failed=failed)
    out.put("controller.status", status)
    out.put("controller.block_type", f.str("block_type"))
    out.put("controller.block_number", f.str("block_number"))
    out.put("controller.filename", f.str("filename"))
    out.put("controller.session_id", f.int("session_id"))
    out.put("controller.transaction_id", f.int("pdu_reference"))
    return out


def s7plus_activity(function_name: str | None) -> int:
    name = (function_name or "").lower().replace(" ", "")
    if name.startswith("set") or name in ("setmultivariables", "setvarsubstreamed"):
        return CA.WRITE
    if name.startswith("get") or name == "explore":
        return CA.READ
    return CA.OTHER


def _s7comm_plus(f: Fields, path: str) -> Out:
    opcode = str(f.data.get("opcode_name") or "").lower()  # kept in unmapped
    function_name = f.str("function_name")
    code = to_int(f.get("function_code"), "function_code") if "function_code" in f else None
    request = True if opcode == "request" else False if opcode else _direction(f, "is_orig")
    out = _ics(f, "s7comm_plus", function_name, code, s7plus_activity(function_name), request)
    out.put("controller.version", f.int("version"))
    return out


def _s7_read_szl(f: Fields, path: str) -> Out:
    request = _direction(f, "method", "is_orig")
    ret = f.str("return_code_name")
    out = _ics(f, "s7comm", "Read SZL", None, CA.DIAGNOSTIC, request,
               failed=bool(ret) and ret.lower() != "success")
    out.put("controller.status", ret)
    out.put("controller.object", f.str("szl_id_name"))
    out.put("controller.transaction_id", f.int("pdu_reference"))
    return out


def _inventory(f: Fields, path: str) -> Out:
    out = Out(EventClass.DEVICE_INVENTORY_INFO, 1)  # Log
    _endpoints(f, out)
    if path == "s7comm_known_devices":
        out.put("device.ip", out.attrs.get("dst_endpoint.ip"))
        out.put("device.name", f.str("automation_system_name"))
        out.put("device.model", f.str("module_name"))
        out.put("device.hw_info.serial_number", f.str("module_serial"))
        out.put("device.location.desc", f.str("plant_name"))
    else:  # cip_identity
        out.put("device.ip", f.get("device_ip") or out.attrs.get("src_endpoint.ip"))
        out.put("device.vendor_name", f.str("vendor_name"))
        out.put("device.type", f.str("device_type_name"))
        out.put("device.model", f.str("product_name"))
        out.put("device.hw_info.serial_number", f.str("serial_number"))
    out.message = (f"device {out.attrs.get('device.model', '?')} at {out.attrs.get('device.ip', '?')}"
                   f" ({out.attrs.get('device.hw_info.serial_number', 'no serial')})")
    return out


CIP_SERVICES: dict[str, int] = {
    "get_attribute_all": CA.READ, "set_attribute_all": CA.WRITE, "get_attribute_list": CA.READ,
    "set_attribute_list": CA.WRITE, "reset": CA.MODE_CHANGE, "start": CA.MODE_CHANGE, "stop": CA.MODE_CHANGE,
    "apply_attribute": CA.WRITE, "get_attribute_single": CA.READ, "set_attribute_single": CA.WRITE,
    "find_next_object_instance": CA.READ, "restore": CA.WRITE, "get_member": CA.READ, "set_member": CA.WRITE,
    "read_tag": CA.READ, "read_tag_fragmented": CA.READ, "write_tag": CA.WRITE, "write_tag_fragmented": CA.WRITE,
    "read_modify_write_tag": CA.WRITE, "read_modify_write": CA.WRITE,
}
CIP_BY_CODE: dict[int, int] = {0x01: CA.READ, 0x02: CA.WRITE, 0x03: CA.READ, 0x04: CA.WRITE, 0x05: CA.MODE_CHANGE,
                               0x06: CA.MODE_CHANGE, 0x07: CA.MODE_CHANGE, 0x0E: CA.READ, 0x10: CA.WRITE,
                               0x4C: CA.READ, 0x4D: CA.WRITE, 0x52: CA.READ, 0x53: CA.WRITE}


def cip_activity(name: str | None, code: int | None) -> int:
    key = re.sub(r"[^a-z0-9]+", "_", (name or "").lower()).strip("_").replace("attributes", "attribute")
    key = key.removesuffix("_service")
    if key in CIP_SERVICES:
        return CIP_SERVICES[key]
    if key in ("", "unknown") and code is not None:
        return CIP_BY_CODE.get(code & 0x7F, CA.OTHER)
    return CA.OTHER


def _cip(f: Fields, path: str) -> Out:
    name = f.first("cip_service", "service_name", "service")
    raw_code = f.first("cip_service_code", "service_code")
    code = to_int(raw_code, "cip_service_code") if raw_code is not None else None
    request = _direction(f, "direction", "is_orig")
    status = f.first("cip_status", "status")
    failed = bool(status) and str(status).lower() != "success"
    out = _ics(f, "cip", name, code, cip_activity(name, code), request, failed=failed)
    out.put("controller.status", status)
    out.put("controller.object", f.first("class_name", "cip_class"))
    out.put("controller.address", f.str("instance_id"))
    return out


def _enip(f: Fields, path: str) -> Out:
    command = f.first("enip_command", "command")
    status = f.first("enip_status", "status")
    request = _direction(f, "is_orig")
    out = _ics(f, "enip", command, None, CA.OTHER, request,
               failed=bool(status) and str(status).lower() != "success")
    out.put("controller.status", status)
    return out


BACNET_SERVICES: dict[str, int] = {
    "read_property": CA.READ, "read_property_multiple": CA.READ, "read_range": CA.READ,
    "write_property": CA.WRITE, "write_property_multiple": CA.WRITE, "write_group": CA.WRITE,
    "reinitialize_device": CA.MODE_CHANGE, "device_communication_control": CA.MODE_CHANGE,
    "atomic_write_file": CA.PROGRAM_DOWNLOAD, "atomic_read_file": CA.PROGRAM_UPLOAD,
}


def _bacnet(f: Fields, path: str) -> Out:
    service = f.str("pdu_service")
    pdu_type = str(f.data.get("pdu_type") or "").upper()  # kept in unmapped
    request = ("REQUEST" in pdu_type) if pdu_type else _direction(f, "is_orig")
    key = re.sub(r"[^a-z0-9]+", "_", (service or "").lower()).strip("_").removesuffix("_request")
    activity = BACNET_SERVICES.get(key, CA.OTHER)
    result = f.str("result_code")
    failed = pdu_type in ("ERROR", "REJECT", "ABORT") or bool(result)
    if path != "bacnet" and request:
        request = False  # property / discovery / device-control details of a request bacnet.log has
    out = _ics(f, "bacnet", service, None, activity, request, failed=failed)
    out.put("controller.status", result)
    out.put("controller.transaction_id", f.int("invoke_id"))
    out.put("controller.object", f.str("object_type"))
    out.put("controller.property", f.str("property"))
    return out


def _generic_ics(f: Fields, path: str) -> Out:
    out = _ics(f, path.split("_", 1)[0], f.first("function_name", "function", "func", "service", "command"), None,
               CA.OTHER, _direction(f, "is_orig"))
    return out


HANDLERS: dict[str, Callable[[Fields, str], Out]] = {
    "conn": _conn, "notice": _notice, "weird": _weird, "dns": _dns, "http": _http, "ssh": _ssh, "rdp": _rdp,
    "ntlm": _ntlm, "kerberos": _kerberos, "software": _software, "syslog": _syslog, "ssl": _tls,
    "smb_mapping": _smb, "smb_files": _smb,
    "modbus": _modbus, "modbus_detailed": _modbus, "modbus_mask_write_register": _modbus,
    "modbus_read_write_multiple_registers": _modbus, "modbus_read_device_identification": _modbus,
    "dnp3": _dnp3, "dnp3_control": _dnp3, "dnp3_objects": _dnp3,
    "s7comm": _s7comm, "s7comm_upload_download": _s7_upload_download, "s7comm_plus": _s7comm_plus,
    "s7comm_read_szl": _s7_read_szl, "s7comm_known_devices": _inventory, "cip_identity": _inventory,
    "cip": _cip, "enip": _enip, "bacnet": _bacnet, "bacnet_property": _bacnet, "bacnet_discovery": _bacnet,
    "bacnet_device_control": _bacnet,
}
