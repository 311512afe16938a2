"""Device telemetry over MQTT: plain JSON topics (`mqtt-json`) and Eclipse Sparkplug B (`sparkplug-b`).

The MQTT message contract
-------------------------
A record is one MQTT message. A live MQTT subscriber hands each message straight to `parse`:

    source.parse(Record(place=topic, data=(topic, payload_bytes)), context)
    source.parse(Record(place=topic, data=(topic, payload_bytes, received_ms)), context)

`payload_bytes` is the message body exactly as received; `received_ms` (epoch milliseconds) is
the receive time, used when the payload carries no time of its own. For file ingest both sources
read JSON lines, one message per line:

    {"topic": "site/plant1/line2/press-07/oil_temp", "payload": {"value": 71.4, "unit": "°C"}}
    {"topic": "spBv1.0/plant1/DDATA/edge-07/press-07", "base64": "CLTw…", "received_at": "…"}

`payload` (any JSON) or `base64` (the raw bytes) holds the body; `received_at` / `time` (ISO 8601
or epoch) is the receive time; `qos` and `retain` are kept in `unmapped`.

Events: `EventClass.DEVICE_TELEMETRY`, one per metric, with `TelemetryActivity` below as the
activity (REPORT, ONLINE, OFFLINE, COMMAND, OTHER). Attributes: `device.name`, `device.uid`,
`device.type`, `metric.name`, `metric.value`, `metric.unit`, `metric.datatype`, `metric.quality`,
alarm thresholds `metric.alarm.{low_low,low,high,high_high}` and, when the value crosses one,
`metric.alarm.state` (`low_low`, `low`, `high`, `high_high`; severity MEDIUM, HIGH for the outer
ones). See docs/formats/mqtt.md.

`mqtt-json` — the topic is matched against `options["topic_pattern"]` (default
`site/{site}/{area}/{device}/{metric}`; placeholders `site`, `area`, `line`, `cell`, `device`,
`metric`, `*` for a segment to ignore). The payload is a scalar (`71.4`, `"ON"`), an object with
`value` (plus `unit`, `time`/`ts`/`timestamp`, `quality`, `alarm: {low, high, …}` or
`low`/`high`/`low_low`/`high_high`), an object with `metrics: [{name, value, unit…}]`, or an object
of several readings (`{"ts": …, "temperature": 21.5, "humidity": 40}` → one event per reading).
A metric named status/state/availability/connection whose value is online/offline (or
connected/disconnected, as MQTT last-will messages say) becomes ONLINE/OFFLINE.

`sparkplug-b` — topic `spBv1.0/<group>/<NBIRTH|NDATA|NDEATH|DBIRTH|DDATA|DDEATH|NCMD|DCMD>/<edge
node>[/<device>]` or `spBv1.0/STATE/<host id>`; the payload is the Tahu protobuf
`org.eclipse.tahu.protobuf.Payload`, decoded here by a small wire-format reader (no protobuf
dependency; a malformed payload is an error with its byte offset). Metric aliases announced in
NBIRTH/DBIRTH are remembered per edge node in `Context.state`, so NDATA/DDATA metrics that carry
only an alias get their names (and every later metric the datatype, unit and alarm limits its
birth gave). NBIRTH/DBIRTH → one ONLINE event plus a REPORT per metric; NDATA/DDATA → REPORT per
metric; NDEATH/DDEATH → OFFLINE (severity MEDIUM); NCMD/DCMD → COMMAND per metric (a write to a
device; severity LOW); STATE → ONLINE/OFFLINE of the host application (Sparkplug 3.0 JSON body
`{"online": true, "timestamp": …}` or 2.2 `ONLINE`/`OFFLINE`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
import struct
from collections.abc import Iterable, Iterator
from enum import IntEnum
from typing import IO, Any

import msgspec

from linewatch.events.schema import Event, EventClass, Severity, event_uid
from linewatch.events.sources import Context, Record, Source, register
from linewatch.events.sources._util import decode_json, norm_key, parse_time


class TelemetryActivity(IntEnum):
    """Activities of DEVICE_TELEMETRY events (a candidate for linewatch.events.schema)."""

    REPORT = 1  # a metric value
    ONLINE = 2  # birth / connected
    OFFLINE = 3  # death / last will
    COMMAND = 4  # a write to the device (Sparkplug NCMD/DCMD)
    OTHER = 99


T = TelemetryActivity


# --------------------------------------------------------------------------- the record framing


def _read_message_lines(stream: IO[bytes]) -> Iterator[Record]:
    for number, raw in enumerate(stream, 1):
        line = raw.strip()
        if not line:
            continue
        yield Record(f"line {number}", line.decode("utf-8", "replace"))


class _Message:
    """One MQTT message, whatever the record's shape."""

    __slots__ = ("topic", "payload", "received_ms", "extra", "json_payload")

    def __init__(self, topic: str, payload: bytes, received_ms: int | None, extra: dict[str, Any],
                 json_payload: Any = None) -> None:
        self.topic = topic
        self.payload = payload
        self.received_ms = received_ms
        self.extra = extra
        self.json_payload = json_payload  # already decoded by the file framing (mqtt-json)


_NO_JSON = object()


def message_of(data: Any, tz: str | None = None) -> _Message:
    """The message in a record: a (topic, payload[, received_ms]) tuple or a JSON line (text or dict)."""
    if isinstance(data, tuple):
        if len(data) not in (2, 3) or not isinstance(data[0], str):
            raise ValueError("an MQTT record is (topic, payload_bytes[, received_ms])")
        payload = data[1]
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        if not isinstance(payload, bytes | bytearray | memoryview):
            raise ValueError("the payload must be bytes")
        received = int(data[2]) if len(data) == 3 and data[2] is not None else None
        return _Message(data[0], bytes(payload), received, {}, _NO_JSON)
    doc = decode_json(data) if isinstance(data, str | bytes) else data
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    topic = doc.get("topic")
    if not isinstance(topic, str) or not topic:
        raise ValueError("missing 'topic'")
    extra = {k: v for k, v in doc.items() if k not in ("topic", "payload", "base64", "received_at", "time")}
    stamp = doc.get("received_at", doc.get("time"))
    received = parse_time(stamp, tz) if stamp not in (None, "") else None
    if "base64" in doc:
        try:
            payload = base64.b64decode(str(doc["base64"]), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"bad base64 payload: {exc}") from None
        return _Message(topic, payload, received, extra, _NO_JSON)
    if "payload" not in doc:
        raise ValueError("missing 'payload' (or 'base64')")
    body = doc["payload"]
    return _Message(topic, body.encode("utf-8") if isinstance(body, str) else b"", received, extra, body)


def _put(attrs: dict[str, Any], path: str, value: Any) -> None:
    if value is not None and value != "":
        attrs[path] = value


# --------------------------------------------------------------------------- alarm thresholds

_ALARM_KEYS = {
    "lowlow": "low_low", "lolo": "low_low", "ll": "low_low", "alarmlowlow": "low_low",
    "low": "low", "lo": "low", "l": "low", "alarmlow": "low", "min": "low", "lowlimit": "low",
    "high": "high", "hi": "high", "h": "high", "alarmhigh": "high", "max": "high", "highlimit": "high",
    "highhigh": "high_high", "hihi": "high_high", "hh": "high_high", "alarmhighhigh": "high_high",
}


def _thresholds(source: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in source.items():
        name = _ALARM_KEYS.get(norm_key(str(key)))
        if name is not None and isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def _apply_alarm(attrs: dict[str, Any], value: Any, limits: dict[str, float]) -> int:
    """Set metric.alarm.* and return the severity the value earns."""
    for name, limit in limits.items():
        attrs[f"metric.alarm.{name}"] = limit
    if not limits or not isinstance(value, int | float) or isinstance(value, bool) or \
            (isinstance(value, float) and math.isnan(value)):
        return Severity.INFORMATIONAL
    for name, crossed in (("high_high", lambda v, lim: v >= lim), ("low_low", lambda v, lim: v <= lim),
                          ("high", lambda v, lim: v >= lim), ("low", lambda v, lim: v <= lim)):
        if name in limits and crossed(value, limits[name]):
            attrs["metric.alarm.state"] = name
            return Severity.HIGH if name in ("high_high", "low_low") else Severity.MEDIUM
    return Severity.INFORMATIONAL


_STATUS_METRICS = {"status", "state", "availability", "connection", "online", "lwt"}
_ONLINE_VALUES = {"online", "connected", "up", "true", "1", "alive", "ready"}
_OFFLINE_VALUES = {"offline", "disconnected", "down", "false", "0", "dead", "lost"}


# --------------------------------------------------------------------------- mqtt-json

_TIME_KEYS = ("time", "ts", "timestamp", "@timestamp", "datetime", "t")
_UNIT_KEYS = ("unit", "units", "uom", "eng_unit", "engunit")
_RESERVED = set(_TIME_KEYS) | set(_UNIT_KEYS) | {"quality", "q", "device", "device_id", "sensor", "alarm", "alarms",
                                                "limits", "site", "area", "line", "cell", "metric", "name", "value",
                                                "metrics", "seq", "id", "type", "datatype"}


def _compile_pattern(pattern: str) -> re.Pattern[str]:
    parts = []
    for segment in pattern.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        elif segment in ("*", "+"):
            parts.append("[^/]+")
        elif segment == "#":
            parts.append(".*")
        else:
            parts.append(re.escape(segment))
    return re.compile("^" + "/".join(parts) + "$")


DEFAULT_TOPIC_PATTERN = "site/{site}/{area}/{device}/{metric}"


@register
class MqttJsonSource(Source):
    name = "mqtt-json"
    description = "Device telemetry as MQTT JSON messages (topic site/<site>/<area>/<device>/<metric>)"
    formats = ("MQTT message", "JSON lines {topic, payload}")

    def records(self, stream: IO[bytes], context: Context) -> Iterator[Record]:
        return _read_message_lines(stream)

    def parse(self, record: Record, context: Context) -> Iterable[Event]:
        tz = context.options.get("timezone")
        try:
            message = message_of(record.data, tz)
            body = message.json_payload
            if body is _NO_JSON:
                text = message.payload.decode("utf-8").strip()
                try:
                    body = decode_json(text)
                except ValueError:
                    body = text  # a bare word such as ON / offline
            return self._events(message, body, context)
        except (ValueError, UnicodeDecodeError) as exc:
            raise self.error(context, record, str(exc)) from None

    def _events(self, message: _Message, body: Any, context: Context) -> list[Event]:
        pattern_text = context.options.get("topic_pattern") or DEFAULT_TOPIC_PATTERN
        cache = context.state.setdefault("mqtt_patterns", {})
        pattern = cache.get(pattern_text) or cache.setdefault(pattern_text, _compile_pattern(pattern_text))
        match = pattern.match(message.topic)
        parts = {k: v for k, v in match.groupdict().items() if v} if match else {}
        obj = body if isinstance(body, dict) else {}
        device = parts.get("device") or obj.get("device") or obj.get("device_id") or obj.get("sensor")
        if not device:
            raise ValueError(f"topic {message.topic!r} does not match {pattern_text!r} and the payload names no "
                             "device")
        stamp = next((obj[k] for k in _TIME_KEYS if obj.get(k) not in (None, "")), None)
        time_ms = parse_time(stamp, context.options.get("timezone")) if stamp is not None else message.received_ms
        if time_ms is None:
            raise ValueError("no time: the payload has none and the message carries no receive time")
        path = [str(parts[k]) for k in ("site", "area", "line", "cell") if parts.get(k)]
        base: dict[str, Any] = {"device.name": str(device), "device.uid": "/".join([*path, str(device)])}
        for key in ("site", "area", "line", "cell"):
            value = parts.get(key) or (obj.get(key) if isinstance(obj.get(key), str) else None)
            _put(base, {"site": "device.location.desc", "area": "device.zone", "line": "device.line",
                        "cell": "device.cell"}[key], value)
        readings: list[tuple[str, Any, dict[str, Any]]] = []  # (name, value, details)
        topic_metric = parts.get("metric") or obj.get("metric") or obj.get("name")
        if isinstance(body, dict) and isinstance(body.get("metrics"), list):
            for item in body["metrics"]:
                if not isinstance(item, dict) or "name" not in item:
                    raise ValueError("each of 'metrics' needs a 'name'")
                readings.append((str(item["name"]), item.get("value"), item))
        elif isinstance(body, dict) and "value" in body:
            readings.append((str(topic_metric or "value"), body["value"], body))
        elif isinstance(body, dict):
            for key, value in body.items():
                if key in _RESERVED or isinstance(value, dict | list):
                    continue
                readings.append((str(key), value, {}))
            if not readings:
                raise ValueError("the payload holds no reading")
        else:
            readings.append((str(topic_metric or "value"), body, {}))
        events = []
        for name, value, details in readings:
            attrs = dict(base)
            attrs["metric.name"] = name
            attrs["metric.value"] = value
            unit = next((details.get(k) for k in _UNIT_KEYS if details.get(k)), None) or \
                (next((obj.get(k) for k in _UNIT_KEYS if obj.get(k)), None) if len(readings) == 1 else None)
            _put(attrs, "metric.unit", unit)
            _put(attrs, "metric.quality", details.get("quality", details.get("q")))
            limits: dict[str, float] = {}
            for holder in (details, details.get("alarm"), details.get("alarms"), details.get("limits")):
                if isinstance(holder, dict):
                    limits.update(_thresholds(holder))
            severity = _apply_alarm(attrs, value, limits)
            activity = T.REPORT
            if norm_key(name) in _STATUS_METRICS and isinstance(value, str | bool):
                word = str(value).strip().lower()
                activity = T.ONLINE if word in _ONLINE_VALUES else T.OFFLINE if word in _OFFLINE_VALUES else T.REPORT
                if activity == T.OFFLINE:
                    severity = Severity.MEDIUM
            unmapped = {k: v for k, v in details.items() if k not in ("name", "value", "unit", "quality", "q")
                        and not (isinstance(v, dict) and k in ("alarm", "alarms", "limits"))}
            if details is not obj:
                unmapped.update({f"payload.{k}": v for k, v in obj.items()
                                 if k not in _TIME_KEYS and k not in ("metrics",) and k != name and k not in _RESERVED})
            unmapped["topic"] = message.topic
            unmapped.update(message.extra)
            verb = {T.ONLINE: "online", T.OFFLINE: "offline"}.get(activity)
            text = f"{device} {verb}" if verb else f"{device} {name} = {value}{' ' + str(unit) if unit else ''}"
            if "metric.alarm.state" in attrs:
                text += f" ({attrs['metric.alarm.state'].replace('_', '-')} alarm)"
            digest = hashlib.blake2b(message.payload or repr(body).encode(), digest_size=8).hexdigest()
            events.append(Event(uid=event_uid(self.name, message.topic, str(time_ms), digest, name), time=time_ms,
                                class_uid=int(EventClass.DEVICE_TELEMETRY), activity_id=int(activity),
                                severity_id=int(severity), message=text, source=self.name, site=context.site,
                                attrs=attrs, unmapped=unmapped))
        return events


# --------------------------------------------------------------------------- protobuf wire format


class ProtobufError(ValueError):
    """A malformed protobuf message; `offset` is the byte where reading failed."""

    def __init__(self, offset: int, message: str) -> None:
        self.offset = offset
        super().__init__(f"bad Sparkplug payload at byte {offset}: {message}")


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    start = pos
    while True:
        if pos >= end:
            raise ProtobufError(start, "truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError(start, "varint longer than 10 bytes")


def fields_of(buf: bytes, pos: int = 0, end: int | None = None) -> Iterator[tuple[int, int, Any, int]]:
    """(field number, wire type, value, offset) for each field of a message in buf[pos:end].

    Varints are ints, fixed32/fixed64 the raw bytes, length-delimited a (start, end) pair into buf."""
    end = len(buf) if end is None else end
    while pos < end:
        offset = pos
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufError(offset, "field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
        elif wire == 1:
            if pos + 8 > end:
                raise ProtobufError(pos, f"truncated fixed64 (field {number})")
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 5:
            if pos + 4 > end:
                raise ProtobufError(pos, f"truncated fixed32 (field {number})")
            value, pos = buf[pos:pos + 4], pos + 4
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            if pos + length > end:
                raise ProtobufError(offset, f"length {length} of field {number} runs past the end "
                                         f"({end - pos} bytes left)")
            value, pos = (pos, pos + length), pos + length
        else:
            raise ProtobufError(offset, f"unsupported wire type {wire} (field {number})")
        yield number, wire, value, offset


def _expect(wire: int, want: int, number: int, offset: int, what: str) -> None:
    if wire != want:
        raise ProtobufError(offset, f"{what} (field {number}) has wire type {wire}, expected {want}")


def _span(wire: int, value: Any, number: int, offset: int, what: str) -> tuple[int, int]:
    """The (start, end) of a length-delimited field, or an error naming it."""
    _expect(wire, 2, number, offset, what)
    return value  # type: ignore[no-any-return]


def _text(buf: bytes, span: Any, offset: int) -> str:
    if not isinstance(span, tuple):
        raise ProtobufError(offset, "expected a length-delimited string")
    try:
        return buf[span[0]:span[1]].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtobufError(offset, "string is not UTF-8") from None


# Sparkplug B DataType
DATATYPES = {
    0: "Unknown", 1: "Int8", 2: "Int16", 3: "Int32", 4: "Int64", 5: "UInt8", 6: "UInt16", 7: "UInt32", 8: "UInt64",
    9: "Float", 10: "Double", 11: "Boolean", 12: "String", 13: "DateTime", 14: "Text", 15: "UUID", 16: "DataSet",
    17: "Bytes", 18: "File", 19: "Template", 20: "PropertySet", 21: "PropertySetList", 22: "Int8Array",
    23: "Int16Array", 24: "Int32Array", 25: "Int64Array", 26: "UInt8Array", 27: "UInt16Array", 28: "UInt32Array",
    29: "UInt64Array", 30: "FloatArray", 31: "DoubleArray", 32: "BooleanArray", 33: "StringArray",
    34: "DateTimeArray",
}
_SIGNED_BITS = {1: 8, 2: 16, 3: 32, 4: 64}
_ARRAY_FORMATS = {22: "b", 23: "h", 24: "i", 25: "q", 26: "B", 27: "H", 28: "I", 29: "Q", 30: "f", 31: "d", 34: "q"}


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _scalar(datatype: int | None, wire: int, raw: Any, kind: str, buf: bytes, offset: int) -> Any:
    """A oneof value by its field kind, interpreted with the metric's datatype."""
    if kind in ("int", "long"):
        if datatype in _SIGNED_BITS:
            return _signed(raw, _SIGNED_BITS[datatype])
        return raw & (0xFFFFFFFF if kind == "int" else 0xFFFFFFFFFFFFFFFF)
    if kind == "float":
        return struct.unpack("<f", raw)[0]
    if kind == "double":
        return struct.unpack("<d", raw)[0]
    if kind == "bool":
        return bool(raw)
    if kind == "string":
        return _text(buf, raw, offset)
    if kind == "bytes":
        data = buf[raw[0]:raw[1]]
        return _array(datatype, data, offset) if datatype in _ARRAY_FORMATS or datatype in (32, 33) else data.hex()
    raise ProtobufError(offset, f"unexpected value kind {kind}")


def _array(datatype: int | None, data: bytes, offset: int) -> list[Any]:
    if datatype == 33:  # StringArray: NUL-terminated UTF-8 strings
        try:
            return [part.decode("utf-8") for part in data.split(b"\x00")[:-1]] if data else []
        except UnicodeDecodeError:
            raise ProtobufError(offset, "StringArray is not UTF-8") from None
    if datatype == 32:  # BooleanArray: uint32 LE count, then bits MSB first
        if len(data) < 4:
            raise ProtobufError(offset, "BooleanArray shorter than its 4-byte count")
        count = struct.unpack_from("<I", data)[0]
        bits = data[4:]
        if len(bits) * 8 < count:
            raise ProtobufError(offset, f"BooleanArray announces {count} values but has {len(bits) * 8} bits")
        return [bool(bits[i // 8] >> (7 - i % 8) & 1) for i in range(count)]
    code = _ARRAY_FORMATS[datatype]  # type: ignore[index]
    size = struct.calcsize(code)
    if len(data) % size:
        raise ProtobufError(offset, f"{DATATYPES[datatype]} of {len(data)} bytes is not a multiple of {size}")  # type: ignore[index]
    return list(struct.unpack(f"<{len(data) // size}{code}", data))


_VALUE_KINDS_METRIC = {10: ("int", 0), 11: ("long", 0), 12: ("float", 5), 13: ("double", 1), 14: ("bool", 0),
                       15: ("string", 2), 16: ("bytes", 2)}
_VALUE_KINDS_PROPERTY = {3: ("int", 0), 4: ("long", 0), 5: ("float", 5), 6: ("double", 1), 7: ("bool", 0),
                         8: ("string", 2)}
_VALUE_KINDS_DATASET = {1: ("int", 0), 2: ("long", 0), 3: ("float", 5), 4: ("double", 1), 5: ("bool", 0),
                        6: ("string", 2)}


def _property_value(buf: bytes, start: int, end: int) -> Any:
    datatype: int | None = None
    found: list[tuple[int, int, Any, int]] = []
    is_null = False
    for number, wire, value, offset in fields_of(buf, start, end):
        if number == 1:
            _expect(wire, 0, number, offset, "PropertyValue.type")
            datatype = value
        elif number == 2:
            is_null = bool(value)
        else:
            found.append((number, wire, value, offset))
    if is_null:
        return None
    for number, wire, value, offset in found:
        if number in _VALUE_KINDS_PROPERTY:
            kind, want = _VALUE_KINDS_PROPERTY[number]
            _expect(wire, want, number, offset, "PropertyValue value")
            return _scalar(datatype, wire, value, kind, buf, offset)
        if number == 9:
            return _property_set(buf, *_span(wire, value, number, offset, "PropertyValue.propertyset_value"))
        if number == 10:
            _span(wire, value, number, offset, "PropertyValue.propertysets_value")
            return [_property_set(buf, *v) for n, w, v, _ in fields_of(buf, *value) if n == 1 and w == 2]
    return None


def _property_set(buf: bytes, start: int, end: int) -> dict[str, Any]:
    keys: list[str] = []
    values: list[Any] = []
    for number, wire, value, offset in fields_of(buf, start, end):
        if number == 1:
            _expect(wire, 2, number, offset, "PropertySet.keys")
            keys.append(_text(buf, value, offset))
        elif number == 2:
            values.append(_property_value(buf, *_span(wire, value, number, offset, "PropertySet.values")))
    if len(keys) != len(values):
        raise ProtobufError(start, f"PropertySet has {len(keys)} keys but {len(values)} values")
    return dict(zip(keys, values, strict=True))


def _dataset(buf: bytes, start: int, end: int) -> dict[str, Any]:
    columns: list[str] = []
    types: list[int] = []
    rows: list[list[Any]] = []
    for number, wire, value, offset in fields_of(buf, start, end):
        if number == 2:
            columns.append(_text(buf, value, offset))
        elif number == 3:
            if wire == 2:  # packed
                pos, stop = value
                while pos < stop:
                    item, pos = _varint(buf, pos, stop)
                    types.append(item)
            else:
                types.append(value)
        elif number == 4:
            row = []
            for n, w, v, o in fields_of(buf, *_span(wire, value, number, offset, "DataSet.rows")):
                if n == 1:
                    cell = None
                    for cn, cw, cv, co in fields_of(buf, *_span(w, v, n, o, "DataSet.Row.elements")):
                        if cn in _VALUE_KINDS_DATASET:
                            kind, want = _VALUE_KINDS_DATASET[cn]
                            _expect(cw, want, cn, co, "DataSetValue")
                            column_type = types[len(row)] if len(row) < len(types) else None
                            cell = _scalar(column_type, cw, cv, kind, buf, co)
                    row.append(cell)
            rows.append(row)
    return {"columns": columns, "types": [DATATYPES.get(t, str(t)) for t in types], "rows": rows}


def _template(buf: bytes, start: int, end: int) -> dict[str, Any]:
    out: dict[str, Any] = {"metrics": [], "parameters": {}}
    for number, wire, value, offset in fields_of(buf, start, end):
        if number == 1:
            out["version"] = _text(buf, value, offset)
        elif number == 2:
            metric = decode_metric(buf, *_span(wire, value, number, offset, "Template.metrics"))
            out["metrics"].append({k: metric[k] for k in ("name", "value", "datatype") if k in metric})
        elif number == 3:
            name, param_type, param_value = None, None, None
            for n, w, v, o in fields_of(buf, *_span(wire, value, number, offset, "Template.parameters")):
                if n == 1:
                    name = _text(buf, v, o)
                elif n == 2:
                    param_type = v
                elif n in _VALUE_KINDS_PROPERTY:
                    kind, want = _VALUE_KINDS_PROPERTY[n]
                    _expect(w, want, n, o, "Template.Parameter value")
                    param_value = _scalar(param_type, w, v, kind, buf, o)
            if name is not None:
                out["parameters"][name] = param_value
        elif number == 4:
            out["template_ref"] = _text(buf, value, offset)
        elif number == 5:
            out["is_definition"] = bool(value)
    return out


def decode_metric(buf: bytes, start: int, end: int) -> dict[str, Any]:
    """One Payload.Metric as a dict: name, alias, timestamp, datatype (number), flags, properties,
    metadata, value (None when is_null or absent), unknown (fields this reader does not know)."""
    metric: dict[str, Any] = {}
    values: list[tuple[int, int, Any, int]] = []
    unknown: list[int] = []
    for number, wire, value, offset in fields_of(buf, start, end):
        if number == 1:
            _expect(wire, 2, number, offset, "Metric.name")
            metric["name"] = _text(buf, value, offset)
        elif number in (2, 3, 4):
            _expect(wire, 0, number, offset, ("Metric.alias", "Metric.timestamp", "Metric.datatype")[number - 2])
            metric[("alias", "timestamp", "datatype")[number - 2]] = value
        elif number in (5, 6, 7):
            _expect(wire, 0, number, offset, "Metric flag")
            metric[("is_historical", "is_transient", "is_null")[number - 5]] = bool(value)
        elif number == 8:
            _expect(wire, 2, number, offset, "Metric.metadata")
            metric["metadata"] = _metadata(buf, *value)
        elif number == 9:
            _expect(wire, 2, number, offset, "Metric.properties")
            metric["properties"] = _property_set(buf, *value)
        elif 10 <= number <= 19:
            values.append((number, wire, value, offset))
        else:
            unknown.append(number)
    datatype = metric.get("datatype")
    if not metric.get("is_null"):
        for number, wire, value, offset in values:
            if number in _VALUE_KINDS_METRIC:
                kind, want = _VALUE_KINDS_METRIC[number]
                _expect(wire, want, number, offset, "Metric value")
                metric["value"] = _scalar(datatype, wire, value, kind, buf, offset)
            elif number == 17:
                metric["value"] = _dataset(buf, *_span(wire, value, number, offset, "Metric.dataset_value"))
            elif number == 18:
                metric["value"] = _template(buf, *_span(wire, value, number, offset, "Metric.template_value"))
            else:
                metric["value"] = buf[value[0]:value[1]].hex() if wire == 2 else value
    if unknown:
        metric["unknown"] = unknown
    return metric


def _metadata(buf: bytes, start: int, end: int) -> dict[str, Any]:
    names = {1: "is_multi_part", 2: "content_type", 3: "size", 4: "seq", 5: "file_name", 6: "file_type", 7: "md5",
             8: "description"}
    out: dict[str, Any] = {}
    for number, wire, value, offset in fields_of(buf, start, end):
        name = names.get(number)
        if name is None:
            continue
        out[name] = _text(buf, value, offset) if wire == 2 else bool(value) if number == 1 else value
    return out


def decode_payload(buf: bytes) -> dict[str, Any]:
    """An `org.eclipse.tahu.protobuf.Payload` as a dict: timestamp, seq, uuid, body (hex), metrics."""
    payload: dict[str, Any] = {"metrics": []}
    unknown: list[int] = []
    for number, wire, value, offset in fields_of(buf):
        if number == 1:
            _expect(wire, 0, number, offset, "Payload.timestamp")
            payload["timestamp"] = value
        elif number == 2:
            _expect(wire, 2, number, offset, "Payload.metrics")
            payload["metrics"].append(decode_metric(buf, *value))
        elif number == 3:
            _expect(wire, 0, number, offset, "Payload.seq")
            payload["seq"] = value
        elif number == 4:
            _expect(wire, 2, number, offset, "Payload.uuid")
            payload["uuid"] = _text(buf, value, offset)
        elif number == 5:
            _expect(wire, 2, number, offset, "Payload.body")
            payload["body"] = buf[value[0]:value[1]].hex()
        else:
            unknown.append(number)
    if unknown:
        payload["unknown"] = unknown
    return payload


# --------------------------------------------------------------------------- Sparkplug B

SPARKPLUG_NAMESPACE = "spBv1.0"
_NODE_TYPES = {"NBIRTH", "NDATA", "NDEATH", "NCMD"}
_DEVICE_TYPES = {"DBIRTH", "DDATA", "DDEATH", "DCMD"}


def parse_topic(topic: str) -> dict[str, str]:
    """The parts of a Sparkplug B topic; ValueError when it is not one."""
    parts = topic.split("/")
    if not parts or parts[0] != SPARKPLUG_NAMESPACE:
        raise ValueError(f"not a Sparkplug B topic (must start with {SPARKPLUG_NAMESPACE}/): {topic!r}")
    if len(parts) >= 3 and parts[1] == "STATE":
        return {"message_type": "STATE", "host_id": "/".join(parts[2:])}
    if len(parts) == 3 and parts[2] == "STATE":  # Sparkplug 2.2: STATE/<host id> under the namespace's sibling
        return {"message_type": "STATE", "host_id": parts[1]}
    if len(parts) < 4:
        raise ValueError(f"Sparkplug B topic too short: {topic!r} (spBv1.0/<group>/<type>/<edge node>[/<device>])")
    group, message_type, edge_node = parts[1], parts[2], parts[3]
    device = "/".join(parts[4:]) if len(parts) > 4 else ""
    if message_type in _NODE_TYPES and device:
        raise ValueError(f"{message_type} is a node message but the topic names a device: {topic!r}")
    if message_type in _DEVICE_TYPES and not device:
        raise ValueError(f"{message_type} needs a device id in the topic: {topic!r}")
    if message_type not in _NODE_TYPES | _DEVICE_TYPES:
        raise ValueError(f"unknown Sparkplug message type {message_type!r}")
    out = {"message_type": message_type, "group_id": group, "edge_node_id": edge_node}
    if device:
        out["device_id"] = device
    return out


_UNIT_PROPERTIES = ("engUnit", "EngUnit", "unit", "units", "Units")


@register
class SparkplugSource(Source):
    name = "sparkplug-b"
    description = "Eclipse Sparkplug B MQTT messages (Tahu protobuf payloads): births, data, deaths, commands"
    formats = ("MQTT message", "JSON lines {topic, base64}")

    def records(self, stream: IO[bytes], context: Context) -> Iterator[Record]:
        return _read_message_lines(stream)

    def parse(self, record: Record, context: Context) -> Iterable[Event]:
        try:
            message = message_of(record.data, context.options.get("timezone"))
            topic = parse_topic(message.topic)
            body = message.json_payload
            if body is not _NO_JSON and not isinstance(body, str):
                if topic["message_type"] != "STATE" or not isinstance(body, dict):
                    raise ValueError("a Sparkplug payload is binary protobuf: give it as 'base64'")
                message.payload = msgspec.json.encode(body)
            if topic["message_type"] == "STATE":
                return [self._state(message, topic, context)]
            payload = decode_payload(message.payload)
            return self._events(message, topic, payload, context)
        except ValueError as exc:
            raise self.error(context, record, str(exc)) from None

    def _state(self, message: _Message, topic: dict[str, str], context: Context) -> Event:
        text = message.payload.decode("utf-8", "replace").strip()
        online: bool | None = None
        stamp: Any = None
        if text.upper() in ("ONLINE", "OFFLINE"):
            online = text.upper() == "ONLINE"
        else:
            try:
                body = decode_json(text)
            except ValueError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("online"), bool):
                online, stamp = body["online"], body.get("timestamp")
        if online is None:
            raise ValueError("STATE payload is neither ONLINE/OFFLINE nor {\"online\": true|false, \"timestamp\": …}")
        time_ms = parse_time(stamp) if stamp is not None else message.received_ms
        if time_ms is None:
            raise ValueError("no time: the STATE payload has none and the message carries no receive time")
        host = topic["host_id"]
        attrs = {"device.name": host, "device.uid": f"STATE/{host}", "device.type": "host application",
                 "sparkplug.message_type": "STATE"}
        activity = T.ONLINE if online else T.OFFLINE
        return Event(uid=event_uid(self.name, message.topic, str(time_ms), text), time=time_ms,
                     class_uid=int(EventClass.DEVICE_TELEMETRY), activity_id=int(activity),
                     severity_id=int(Severity.MEDIUM if not online else Severity.INFORMATIONAL),
                     message=f"Sparkplug host application {host} {'online' if online else 'offline'}",
                     source=self.name, site=context.site, attrs=attrs,
                     unmapped={"topic": message.topic, **message.extra})

    def _events(self, message: _Message, topic: dict[str, str], payload: dict[str, Any],
                context: Context) -> list[Event]:
        kind = topic["message_type"]
        group, node, device = topic["group_id"], topic["edge_node_id"], topic.get("device_id")
        # what births announced: aliases per edge node, datatype / unit / alarm limits per metric and device
        aliases: dict[int, str] = context.state.setdefault("sparkplug_aliases", {}).setdefault((group, node), {})
        births: dict[tuple[str, str, str], dict[str, Any]] = context.state.setdefault("sparkplug_births", {})
        if kind == "NBIRTH":
            aliases.clear()  # a new session of the edge node redefines its aliases
            for key in [k for k in births if k[:2] == (group, node)]:
                del births[key]
        if kind in ("NBIRTH", "DBIRTH"):
            births[(group, node, device or "")] = {}
        time_ms = payload.get("timestamp") or message.received_ms
        if time_ms is None:
            raise ValueError("no time: the payload has no timestamp and the message carries no receive time")
        uid_device = f"{group}/{node}" + (f"/{device}" if device else "")
        base = {"device.name": device or node, "device.uid": uid_device,
                "device.type": "device" if device else "edge node", "sparkplug.group_id": group,
                "sparkplug.edge_node_id": node, "sparkplug.message_type": kind}
        _put(base, "sparkplug.device_id", device)
        _put(base, "sparkplug.seq", payload.get("seq"))
        _put(base, "sparkplug.uuid", payload.get("uuid"))
        digest = hashlib.blake2b(message.payload, digest_size=8).hexdigest()
        common_unmapped = {"topic": message.topic, **message.extra}
        if "body" in payload:
            common_unmapped["body"] = payload["body"]
        if "unknown" in payload:
            common_unmapped["protobuf.unknown_fields"] = payload["unknown"]
        events: list[Event] = []
        who = f"{device} on {node}" if device else node

        def emit(activity: int, severity: int, text: str, attrs: dict[str, Any], unmapped: dict[str, Any],
                 key: str, when: int) -> None:
            events.append(Event(uid=event_uid(self.name, message.topic, digest, key), time=int(when),
                                class_uid=int(EventClass.DEVICE_TELEMETRY), activity_id=int(activity),
                                severity_id=int(severity), message=text, source=self.name, site=context.site,
                                attrs=attrs, unmapped={**common_unmapped, **unmapped}))

        if kind in ("NDEATH", "DDEATH"):
            attrs = dict(base)
            bd_seq = next((m.get("value") for m in payload["metrics"] if m.get("name") == "bdSeq"), None)
            _put(attrs, "sparkplug.bd_seq", bd_seq)
            emit(T.OFFLINE, Severity.MEDIUM, f"Sparkplug {'device' if device else 'edge node'} {who} offline "
                 f"({kind})", attrs, {}, "death", time_ms)
            if kind == "NDEATH":
                aliases.clear()
                for key in [k for k in births if k[:2] == (group, node)]:
                    del births[key]
            return events
        if kind in ("NBIRTH", "DBIRTH"):
            emit(T.ONLINE, Severity.INFORMATIONAL, f"Sparkplug {'device' if device else 'edge node'} {who} online "
                 f"({kind})", dict(base), {}, "birth", time_ms)
        activity = T.COMMAND if kind in ("NCMD", "DCMD") else T.REPORT
        for index, metric in enumerate(payload["metrics"]):
            name = metric.get("name")
            alias = metric.get("alias")
            datatype = metric.get("datatype")
            properties = metric.get("properties") or {}
            if kind in ("NBIRTH", "DBIRTH") and name:
                if alias is not None:
                    aliases[alias] = name
                births[(group, node, device or "")][name] = {
                    "datatype": datatype, "limits": _thresholds(properties),
                    "unit": next((properties[k] for k in _UNIT_PROPERTIES if properties.get(k)), None)}
            if name is None and alias is not None:
                if alias not in aliases:
                    raise ValueError(f"metric {index} uses alias {alias}, which no NBIRTH/DBIRTH of {group}/{node} "
                                     "defined")
                name = aliases[alias]
            if name is None:
                raise ValueError(f"metric {index} has neither a name nor an alias")
            born = births.get((group, node, device or ""), {}).get(name, {})
            if datatype is None:
                datatype = born.get("datatype")
            attrs = dict(base)
            attrs["metric.name"] = name
            value = metric.get("value")
            if datatype in _SIGNED_BITS and isinstance(value, int) and not isinstance(value, bool):
                value = _signed(value, _SIGNED_BITS[datatype])  # the datatype came from the birth certificate
            attrs["metric.value"] = value
            _put(attrs, "metric.alias", alias)
            _put(attrs, "metric.datatype", DATATYPES.get(datatype, str(datatype)) if datatype is not None else None)
            if metric.get("is_historical"):
                attrs["metric.is_historical"] = True
            if metric.get("is_transient"):
                attrs["metric.is_transient"] = True
            if metric.get("is_null"):
                attrs["metric.is_null"] = True
            unit = next((properties[k] for k in _UNIT_PROPERTIES if properties.get(k)), None) or born.get("unit")
            _put(attrs, "metric.unit", unit)
            _put(attrs, "metric.quality", properties.get("Quality", properties.get("quality")))
            severity = _apply_alarm(attrs, value, {**born.get("limits", {}), **_thresholds(properties)})
            if activity == T.COMMAND and severity < Severity.LOW:
                severity = Severity.LOW
            unmapped = {f"properties.{k}": v for k, v in properties.items()}
            for extra in ("metadata", "unknown"):
                if extra in metric:
                    unmapped[f"metric.{extra}"] = metric[extra]
            when = metric.get("timestamp") or time_ms
            shown = value if not isinstance(value, dict | list) else type(value).__name__
            text = (f"command to {who}: {name} = {shown}" if activity == T.COMMAND
                    else f"{who} {name} = {shown}{' ' + str(unit) if unit else ''}")
            if "metric.alarm.state" in attrs:
                text += f" ({attrs['metric.alarm.state'].replace('_', '-')} alarm)"
            emit(activity, severity, text, attrs, unmapped, f"{index}:{name}", when)
        return events
