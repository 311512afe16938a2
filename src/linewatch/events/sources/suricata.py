"""Suricata EVE JSON: one object per line (eve.json), or one JSON array of them.

Every record needs `timestamp` (ISO 8601) and `event_type`. The common fields map to OCSF
(`src_ip` → `src_endpoint.ip`, `dest_port` → `dst_endpoint.port`, `proto` →
`connection_info.protocol_name`, `flow_id` → `connection_info.uid`, `community_id` →
`connection_info.community_uid`, `app_proto` → `app_name`, `in_iface` → `device.interface_name`,
`host` → `device.hostname`), and by event type (docs/formats/suricata.md):

* `alert` → **Detection Finding (2004)**, activity Create: an IDS alert is a third party's detection,
  which is what class 2004 is for; the rule is `finding_info.analytic.uid` (the signature id, as
  text) and `finding_info.title` (the signature), `alert.severity` 1/2/3 → High/Medium/Low,
  `alert.action` → `action`/`action_id`. The packet's endpoints stay at `src_endpoint.*` and
  `dst_endpoint.*` so alerts join the other network events on the same keys; an alert's
  app-layer objects (`http`, `tls`, `dns`) are mapped as for their own event types.
* `flow` / `netflow` → Network Activity (Close / Traffic) with `traffic.*` and start/end times.
* `dns` → DNS Activity (Query/Response), `http` → HTTP Activity (by method), `tls` → Network
  Activity with `tls.*`, `ssh`/`smb`/`rdp`/`dhcp`/`ftp`/`fileinfo` → their OCSF classes.
* `anomaly` → Network Activity, activity Other, severity Low; `drop` → Network Activity Refuse.
* `modbus`, `dnp3`, `enip` (and other ICS app-layers) → the Linewatch classes: a request that
  reads, writes or changes a controller's mode is Controller Activity, anything else Industrial
  Protocol, with `controller.*` attributes as the Zeek source writes them.
* any other event type → Network Activity, activity Other.

Every field not mapped is kept in `unmapped` under its dotted path (`alert.gid`,
`flow.state`, `modbus.request.transaction_id`…). The uid hashes `flow_id`, `event_type`,
`timestamp` and the whole line, so the same record always gets the same uid.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

from linewatch.errors import InputError
from linewatch.events.schema import ControllerActivity as CA
from linewatch.events.schema import Event, EventClass, Severity, event_uid
from linewatch.events.sources import Context, Record, Source, register
from linewatch.events.sources._util import Fields, Problem, decode_json, flatten, input_error, parse_iso
from linewatch.events.sources.zeek import DNP3_BY_CODE, HTTP_ACTIVITIES, MODBUS_BY_CODE, cip_activity

ALERT_SEVERITY = {1: Severity.HIGH, 2: Severity.MEDIUM, 3: Severity.LOW}
ACTIONS = {"allowed": 1, "blocked": 2}
ICS_PROTOCOLS = frozenset({"modbus", "dnp3", "enip", "cip", "iec104", "s7comm", "bacnet", "opcua", "profinet",
                           "mqtt", "iec61850", "goose"})
SIMPLE_CLASSES = {"ssh": EventClass.SSH_ACTIVITY, "smb": EventClass.SMB_ACTIVITY, "rdp": EventClass.RDP_ACTIVITY,
                  "dhcp": EventClass.DHCP_ACTIVITY, "ftp": EventClass.FTP_ACTIVITY, "ftp_data": EventClass.FTP_ACTIVITY,
                  "fileinfo": EventClass.NETWORK_FILE_ACTIVITY}


@register
class SuricataSource(Source):
    name = "suricata"
    description = "Suricata EVE JSON (alerts, flows, DNS, HTTP, TLS, anomalies, Modbus/DNP3/ENIP…)"
    formats = ("EVE JSON lines", "JSON array of EVE records")

    def records(self, stream: IO[bytes], context: Context) -> Iterator[Record]:
        """EVE lines; when the input is one JSON array (as sample sets are), its items (`item N`)."""
        lines = iter(stream)
        number = 0
        for raw in lines:
            number += 1
            text = raw.decode("utf-8", "replace").lstrip("\ufeff") if isinstance(raw, bytes) else raw
            if not text.strip():
                continue
            if text.lstrip().startswith("["):
                first = number
                body = text + "".join(r.decode("utf-8", "replace") if isinstance(r, bytes) else r for r in lines)
                try:
                    items = decode_json(body)
                except ValueError as exc:
                    raise InputError(context.source_name or self.name, f"line {first}",
                                     f"the input starts a JSON array but is not valid JSON: {exc}") from None
                for index, item in enumerate(items, 1):
                    yield Record(f"item {index}", item)
                return
            yield Record(f"line {number}", text.rstrip("\r\n"))
            break
        for raw in lines:
            number += 1
            line = raw.rstrip(b"\r\n") if isinstance(raw, bytes) else raw.rstrip("\r\n")
            if not line.strip():
                continue
            yield Record(f"line {number}", line.decode("utf-8", "replace") if isinstance(line, bytes) else line)

    def parse(self, record: Record, context: Context) -> Iterable[Event]:
        where = context.source_name or self.name
        data = record.data
        try:
            if isinstance(data, bytes | str):
                raw = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
                try:
                    obj = decode_json(raw)
                except ValueError as exc:
                    raise Problem(str(exc)) from None
            else:
                obj = data
                raw = _encode(obj)
            if not isinstance(obj, dict):
                raise Problem(f"expected a JSON object, got {type(obj).__name__}")
            event = to_event(obj, raw, context)
        except Problem as problem:
            raise input_error(where, record.place, problem) from None
        yield event


def _encode(obj: Any) -> str:
    import msgspec

    return msgspec.json.encode(obj).decode()


class _Out:
    __slots__ = ("class_uid", "activity_id", "severity_id", "status_id", "message", "attrs")

    def __init__(self) -> None:
        self.class_uid: int = EventClass.NETWORK_ACTIVITY
        self.activity_id = 99
        self.severity_id: int = Severity.INFORMATIONAL
        self.status_id = 0
        self.message = ""
        self.attrs: dict[str, Any] = {}

    def put(self, path: str, value: Any) -> None:
        if value is not None and value != "" and value != []:
            self.attrs[path] = value


def to_event(obj: dict[str, Any], raw: str, context: Context) -> Event:
    f = Fields(flatten(obj))
    stamp = f.get("timestamp")
    kind = f.get("event_type")
    if stamp is None:
        raise Problem("an EVE record needs a timestamp", field="timestamp")
    if kind is None:
        raise Problem("an EVE record needs an event_type", field="event_type")
    if not isinstance(stamp, str):
        raise Problem(f"expected an ISO 8601 time, got {stamp!r}", field="timestamp")
    if not isinstance(kind, str):
        raise Problem(f"expected text, got {kind!r}", field="event_type")
    try:
        time = parse_iso(stamp)
    except ValueError:
        raise Problem(f"not an ISO 8601 time: {stamp!r}", field="timestamp") from None
    out = _Out()
    out.put("src_endpoint.ip", f.str("src_ip"))
    out.put("src_endpoint.port", f.int("src_port"))
    out.put("dst_endpoint.ip", f.str("dest_ip"))
    out.put("dst_endpoint.port", f.int("dest_port"))
    proto = f.str("proto")
    out.put("connection_info.protocol_name", proto.lower() if proto else None)
    flow_id = f.int("flow_id")
    out.put("connection_info.uid", None if flow_id is None else str(flow_id))
    out.put("connection_info.community_uid", f.str("community_id"))
    out.put("app_name", f.str("app_proto"))
    out.put("device.interface_name", f.str("in_iface"))
    out.put("device.hostname", f.str("host"))
    out.put("src_endpoint.mac", f.str("ether.src_mac"))
    out.put("dst_endpoint.mac", f.str("ether.dest_mac"))
    handler = HANDLERS.get(kind)
    if handler is not None:
        handler(f, out)
    elif kind in ICS_PROTOCOLS:
        _ics(f, out, kind, None, None, CA.OTHER, None)
    else:
        out.class_uid = SIMPLE_CLASSES.get(kind, EventClass.NETWORK_ACTIVITY)
        _simple(f, out, kind)
    if not out.message:
        out.message = f"{kind} {_arrow(out)}" if "src_endpoint.ip" in out.attrs else kind
    unmapped = f.rest()
    uid = event_uid("suricata", str(flow_id or ""), kind, stamp, raw)
    return Event(uid=uid, time=time, class_uid=out.class_uid, activity_id=out.activity_id,
                 severity_id=out.severity_id, status_id=out.status_id, message=out.message, source="suricata",
                 site=context.site, attrs=out.attrs, unmapped=unmapped, raw=raw)


def _arrow(out: _Out) -> str:
    a = out.attrs
    return f"{a.get('src_endpoint.ip', '?')} → {a.get('dst_endpoint.ip', '?')}:{a.get('dst_endpoint.port', '?')}"


def _time(f: Fields, key: str) -> int | None:
    value = f.get(key)
    if value is None:
        return None
    try:
        return parse_iso(str(value))
    except ValueError:
        raise Problem(f"not an ISO 8601 time: {value!r}", field=key) from None


def _alert(f: Fields, out: _Out) -> None:
    out.class_uid = EventClass.DETECTION_FINDING
    out.activity_id = 1  # Create
    signature = f.str("alert.signature")
    sid = f.int("alert.signature_id")
    out.put("finding_info.title", signature)
    out.put("finding_info.analytic.uid", None if sid is None else str(sid))
    out.put("finding_info.analytic.name", signature)
    out.put("finding_info.analytic.type_id", 1)  # Rule
    out.put("finding_info.analytic.type", "Rule")
    rev = f.int("alert.rev")
    out.put("finding_info.analytic.version", None if rev is None else str(rev))
    category = f.str("alert.category")
    out.put("finding_info.types", [category] if category else None)
    out.severity_id = ALERT_SEVERITY.get(f.int("alert.severity") or 0, Severity.INFORMATIONAL)
    action = f.str("alert.action")
    out.put("action", action)
    out.put("action_id", ACTIONS.get(action or ""))
    _flow_counters(f, out)
    for name in ("http", "tls", "dns"):  # the alerting transaction's app-layer details
        if any(key.startswith(name + ".") for key in f.data):
            APP_LAYERS[name](f, out)
    out.message = signature or "alert"


def _flow_counters(f: Fields, out: _Out, prefix: str = "flow") -> None:
    out.put("traffic.packets_out", f.int(f"{prefix}.pkts_toserver"))
    out.put("traffic.packets_in", f.int(f"{prefix}.pkts_toclient"))
    out.put("traffic.bytes_out", f.int(f"{prefix}.bytes_toserver"))
    out.put("traffic.bytes_in", f.int(f"{prefix}.bytes_toclient"))
    out.put("start_time", _time(f, f"{prefix}.start"))
    out.put("end_time", _time(f, f"{prefix}.end"))


def _flow(f: Fields, out: _Out) -> None:
    out.class_uid = EventClass.NETWORK_ACTIVITY
    out.activity_id = 2  # Close: Suricata logs a flow when it ends
    _flow_counters(f, out)
    age = f.int("flow.age")
    out.put("duration", None if age is None else age * 1000)
    state = f.data.get("flow.state")
    out.message = f"flow {_arrow(out)}" + (f" {state}" if state else "")


def _netflow(f: Fields, out: _Out) -> None:
    out.class_uid = EventClass.NETWORK_ACTIVITY
    out.activity_id = 6  # Traffic
    out.put("traffic.packets", f.int("netflow.pkts"))
    out.put("traffic.bytes", f.int("netflow.bytes"))
    out.put("start_time", _time(f, "netflow.start"))
    out.put("end_time", _time(f, "netflow.end"))
    age = f.int("netflow.age")
    out.put("duration", None if age is None else age * 1000)


def _dns(f: Fields, out: _Out) -> None:
    if out.class_uid != EventClass.DETECTION_FINDING:
        out.class_uid = EventClass.DNS_ACTIVITY
        kind = (f.str("dns.type") or "").lower()
        out.activity_id = {"query": 1, "request": 1, "answer": 2, "response": 2}.get(kind, 99)
    queries = f.data.get("dns.queries")  # EVE v3: the list stays in unmapped, its first query is mapped
    first = queries[0] if isinstance(queries, list) and queries and isinstance(queries[0], dict) else {}
    out.put("query.hostname", f.str("dns.rrname") or first.get("rrname"))
    out.put("query.type", f.str("dns.rrtype") or first.get("rrtype"))
    out.put("query.packet_uid", f.int("dns.id"))
    out.put("rcode", f.str("dns.rcode"))
    answers = f.get("dns.answers")
    mapped: list[dict[str, Any]] = []
    if isinstance(answers, list):
        for answer in answers:
            if isinstance(answer, dict):
                item = {"rdata": answer.get("rdata"), "type": answer.get("rrtype"), "ttl": answer.get("ttl")}
                mapped.append({k: v for k, v in item.items() if v is not None})
    grouped = [] if mapped else [k for k in f.data if k.startswith("dns.grouped.")]  # the same answers, grouped
    for key in grouped:
        values = f.get(key)
        for value in values if isinstance(values, list) else [values]:
            mapped.append({"rdata": value if isinstance(value, str) else str(value), "type": key[12:]})
    out.put("answers", mapped)
    if out.class_uid == EventClass.DNS_ACTIVITY:
        out.message = f"DNS {out.attrs.get('query.type', '')} {out.attrs.get('query.hostname', '')}".strip()
        if "rcode" in out.attrs:
            out.message += f" → {out.attrs['rcode']}"


def _http(f: Fields, out: _Out) -> None:
    method = f.str("http.http_method")
    if out.class_uid != EventClass.DETECTION_FINDING:
        out.class_uid = EventClass.HTTP_ACTIVITY
        out.activity_id = HTTP_ACTIVITIES.get((method or "").upper(), 99 if method else 0)
    out.put("http_request.http_method", method)
    out.put("http_request.url.hostname", f.str("http.hostname"))
    url = f.str("http.url")
    if url:
        path, _, query = url.partition("?")
        out.put("http_request.url.path", path)
        out.put("http_request.url.query_string", query)
    out.put("http_request.url.port", f.int("http.http_port"))
    out.put("http_request.user_agent", f.str("http.http_user_agent"))
    out.put("http_request.referrer", f.str("http.http_refer"))
    out.put("http_request.version", f.str("http.protocol"))
    out.put("http_response.code", f.int("http.status"))
    out.put("http_response.content_type", f.str("http.http_content_type"))
    out.put("http_response.length", f.int("http.length"))
    if out.class_uid == EventClass.HTTP_ACTIVITY:
        out.message = f"{method or 'HTTP'} {out.attrs.get('http_request.url.hostname', '')}{url or ''}"
        if "http_response.code" in out.attrs:
            out.message += f" → {out.attrs['http_response.code']}"


def _tls(f: Fields, out: _Out) -> None:
    if out.class_uid != EventClass.DETECTION_FINDING:
        out.class_uid = EventClass.NETWORK_ACTIVITY
        out.activity_id = 6  # Traffic
    out.put("tls.sni", f.str("tls.sni"))
    out.put("tls.version", f.str("tls.version"))
    out.put("tls.certificate.subject", f.str("tls.subject"))
    out.put("tls.certificate.issuer", f.str("tls.issuerdn"))
    out.put("tls.certificate.serial_number", f.str("tls.serial"))
    fingerprint = f.str("tls.fingerprint")
    out.put("tls.certificate.fingerprints", [{"algorithm": "SHA-1", "value": fingerprint}] if fingerprint else None)
    out.put("tls.certificate.created_time", _time(f, "tls.notbefore"))
    out.put("tls.certificate.expiration_time", _time(f, "tls.notafter"))
    out.put("tls.ja3_hash.value", f.str("tls.ja3.hash"))
    out.put("tls.ja3s_hash.value", f.str("tls.ja3s.hash"))
    if out.class_uid == EventClass.NETWORK_ACTIVITY:
        out.message = f"TLS {_arrow(out)} {out.attrs.get('tls.sni', '')}".strip()


def _anomaly(f: Fields, out: _Out) -> None:
    out.class_uid = EventClass.NETWORK_ACTIVITY
    out.activity_id = 99
    out.severity_id = Severity.LOW
    kind = f.str("anomaly.type") or "anomaly"
    name = f.str("anomaly.event") or f.str("anomaly.code") or "?"
    out.put("status_detail", name)
    out.message = f"{kind} anomaly: {name}"


def _drop(f: Fields, out: _Out) -> None:
    out.class_uid = EventClass.NETWORK_ACTIVITY
    out.activity_id = 5  # Refuse
    out.put("action", "blocked")
    out.put("action_id", 2)
    out.message = f"dropped {_arrow(out)}"


def _simple(f: Fields, out: _Out, kind: str) -> None:
    if kind == "fileinfo":
        out.put("file.name", f.str("fileinfo.filename"))
        out.put("file.size", f.int("fileinfo.size"))
    elif kind == "ssh":
        out.put("protocol_ver", f.str("ssh.client.proto_version"))


def _ics(f: Fields, out: _Out, protocol: str, function: str | None, code: int | None, activity: int,
         request: bool | None, *, failed: bool = False) -> None:
    operation = activity != CA.OTHER
    out.class_uid = EventClass.CONTROLLER_ACTIVITY if operation and request is not False else \
        EventClass.INDUSTRIAL_PROTOCOL
    out.activity_id = int(activity)
    out.put("controller.protocol", protocol)
    out.put("controller.operation", CA(activity).name.lower().replace("_", " "))
    out.put("controller.function", function)
    out.put("controller.function_code", code)
    if request is not None:
        out.put("controller.direction", "request" if request else "response")
    if failed:
        out.status_id = 2
    out.message = f"{protocol} {function or '?'} ({CA(activity).name.lower().replace('_', ' ')}) {_arrow(out)}"


def _modbus(f: Fields, out: _Out) -> None:
    side = "modbus.request" if any(k.startswith("modbus.request.") for k in f.data) else "modbus.response"
    raw_code = f.int(f"{side}.function_raw")
    code = None if raw_code is None else raw_code & 0x7F
    name, activity = MODBUS_BY_CODE.get(code, (None, CA.OTHER)) if code is not None else (None, CA.OTHER)
    function = f.str(f"{side}.function_code") or name
    failed = any(k.startswith("modbus.response.exception.") for k in f.data) or bool(raw_code and raw_code & 0x80)
    # one EVE modbus record is a whole transaction: request None unless only a response was seen
    _ics(f, out, "modbus", function, code, activity, None if side == "modbus.request" else False, failed=failed)
    out.put("controller.unit_id", f.int(f"{side}.unit_id"))
    out.put("controller.transaction_id", f.int(f"{side}.transaction_id"))
    # the written range when there is one (read/write multiple also has a read range, left in unmapped)
    op = "write" if f"{side}.write.address" in f else "read"
    out.put("controller.address", f.int(f"{side}.{op}.address"))
    out.put("controller.quantity", f.int(f"{side}.{op}.quantity"))
    if op == "write" and f"{side}.write.data" in f:
        data = f.get(f"{side}.write.data")
        out.put("controller.values", data if isinstance(data, list) else [data])
    out.put("controller.exception", f.str("modbus.response.exception.code"))


def _dnp3(f: Fields, out: _Out) -> None:
    kind = (f.str("dnp3.type") or "").lower()
    prefix = "dnp3"
    if not kind:  # the object form an alert carries: dnp3.request / dnp3.response
        prefix = "dnp3.request" if any(k.startswith("dnp3.request.") for k in f.data) else "dnp3.response"
        kind = "request" if prefix == "dnp3.request" else "response"
    code = f.int(f"{prefix}.application.function_code")
    name, activity = DNP3_BY_CODE.get(code, (None, CA.OTHER)) if code is not None else (None, CA.OTHER)
    request = kind == "request"
    iin = f.data.get(f"{prefix}.iin.indicators") or f.data.get(f"{prefix}.application.iin.indicators") or []
    failed = any(flag in ("no_func_code_support", "object_unknown", "parameter_error") for flag in
                 (iin if isinstance(iin, list) else []))
    _ics(f, out, "dnp3", name or (None if code is None else f"function {code}"), code, activity if request else
         CA.OTHER, request, failed=failed)


def _enip(f: Fields, out: _Out) -> None:
    side = "enip.request" if any(k.startswith("enip.request.") for k in f.data) else "enip.response"
    service = f.first(f"{side}.cip.service", "enip.request.cip.service")
    command = f.str(f"{side}.command") if service is None else None  # with a CIP service, kept in unmapped
    code = service if isinstance(service, int) else None
    activity = cip_activity(service if isinstance(service, str) else None, code) if service is not None else CA.OTHER
    status = f.str(f"{side}.status")
    _ics(f, out, "enip", str(service) if service is not None else command, code, activity,
         None if side == "enip.request" else False, failed=bool(status) and status.lower() != "success")


APP_LAYERS = {"dns": _dns, "http": _http, "tls": _tls}
HANDLERS = {"alert": _alert, "flow": _flow, "netflow": _netflow, "dns": _dns, "http": _http, "tls": _tls,
            "anomaly": _anomaly, "drop": _drop, "modbus": _modbus, "dnp3": _dnp3, "enip": _enip}
