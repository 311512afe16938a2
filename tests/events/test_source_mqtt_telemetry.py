"""Device telemetry over MQTT: JSON topics and Sparkplug B protobuf payloads."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import pytest

from linewatch.errors import InputError
from linewatch.events.schema import EventClass, Severity
from linewatch.events.sources import Context, Record, get
from linewatch.events.sources.mqtt_telemetry import ProtobufError, decode_payload, parse_topic
from linewatch.events.sources.mqtt_telemetry import TelemetryActivity as T

DATA = Path(__file__).resolve().parent.parent / "data" / "logs"


def read(source_name: str, path: Path, **options):
    source = get(source_name)
    context = Context(source_name=path.name, options=options)
    events, errors = [], []
    with path.open("rb") as stream:
        for record in source.records(stream, context):
            try:
                events.extend((record.place, e) for e in source.parse(record, context))
            except InputError as exc:
                errors.append(exc)
    return events, errors


# ---------------------------------------------------------------------------- a protobuf writer, per the spec


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, wire: int, body: bytes | int) -> bytes:
    key = varint(number << 3 | wire)
    if wire == 0:
        return key + varint(body)  # type: ignore[arg-type]
    if wire == 2:
        return key + varint(len(body)) + body  # type: ignore[arg-type]
    return key + body  # type: ignore[operator]


def metric(name: str | None = None, *, alias: int | None = None, datatype: int | None = None, ts: int | None = None,
           value: bytes = b"", properties: bytes = b"", is_null: bool = False) -> bytes:
    out = b""
    if name is not None:
        out += field(1, 2, name.encode())
    if alias is not None:
        out += field(2, 0, alias)
    if ts is not None:
        out += field(3, 0, ts)
    if datatype is not None:
        out += field(4, 0, datatype)
    if is_null:
        out += field(7, 0, 1)
    if properties:
        out += field(9, 2, properties)
    return out + value


def payload(*metrics: bytes, ts: int = 1741935600000, seq: int | None = 0) -> bytes:
    out = field(1, 0, ts)
    for m in metrics:
        out += field(2, 2, m)
    return out + (field(3, 0, seq) if seq is not None else b"")


def string_property(key: str, text: str) -> tuple[bytes, bytes]:
    return field(1, 2, key.encode()), field(2, 2, field(1, 0, 12) + field(8, 2, text.encode()))


def double_property(key: str, number: float) -> tuple[bytes, bytes]:
    return field(1, 2, key.encode()), field(2, 2, field(1, 0, 10) + field(6, 1, struct.pack("<d", number)))


def properties(*pairs: tuple[bytes, bytes]) -> bytes:
    return b"".join(k for k, _ in pairs) + b"".join(v for _, v in pairs)


# ---------------------------------------------------------------------------- decoder


def test_decoder_reads_every_scalar_type():
    body = payload(
        metric("i8", datatype=1, value=field(10, 0, 0xFF)),  # -1 as Int8
        metric("i32", datatype=3, value=field(10, 0, (1 << 32) - 42)),
        metric("i64", datatype=4, value=field(11, 0, -5)),
        metric("u64", datatype=8, value=field(11, 0, 2**63 + 1)),
        metric("f", datatype=9, value=field(12, 5, struct.pack("<f", 1.5))),
        metric("d", datatype=10, value=field(13, 1, struct.pack("<d", -2.25))),
        metric("b", datatype=11, value=field(14, 0, 1)),
        metric("s", datatype=12, value=field(15, 2, "Grün".encode())),
        metric("when", datatype=13, value=field(11, 0, 1741000000000)),
        metric("raw", datatype=17, value=field(16, 2, b"\x00\xff")),
        metric("u32s", datatype=28, value=field(16, 2, struct.pack("<2I", 7, 4000000000))),
        metric("doubles", datatype=31, value=field(16, 2, struct.pack("<2d", 0.5, -1.0))),
        metric("none", datatype=9, is_null=True),
    )
    decoded = decode_payload(body)
    values = {m["name"]: m.get("value") for m in decoded["metrics"]}
    assert values == {"i8": -1, "i32": -42, "i64": -5, "u64": 2**63 + 1, "f": 1.5, "d": -2.25, "b": True,
                      "s": "Grün", "when": 1741000000000, "raw": "00ff", "u32s": [7, 4000000000],
                      "doubles": [0.5, -1.0], "none": None}
    assert decoded["timestamp"] == 1741935600000 and decoded["seq"] == 0


def test_decoder_keeps_unknown_fields():
    decoded = decode_payload(payload(metric("x", datatype=3, value=field(10, 0, 1)) + field(30, 0, 9)) +
                             field(7, 2, b"ext"))
    assert decoded["unknown"] == [7] and decoded["metrics"][0]["unknown"] == [30]


@pytest.mark.parametrize(("data", "offset", "text"), [
    (b"\x08\x80\x80", 1, "truncated varint"),
    (field(2, 2, b"\x0a\x03ab"), 2, "runs past the end"),
    (b"\x0b", 0, "unsupported wire type 3"),
    (field(1, 2, b"x"), 0, "Payload.timestamp (field 1) has wire type 2"),
    (field(2, 2, field(12, 0, 1)), 2, "Metric value (field 12) has wire type 0"),
    (field(2, 2, field(1, 2, b"\xff\xfe")), 2, "string is not UTF-8"),
    (field(2, 2, field(4, 0, 24) + field(16, 2, b"\x01\x02\x03")), 4, "Int32Array of 3 bytes"),
    (b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 0, "varint longer than 10 bytes"),
])
def test_decoder_errors_name_the_byte(data, offset, text):
    with pytest.raises(ProtobufError) as info:
        decode_payload(data)
    assert info.value.offset == offset and text in str(info.value)


def test_topics():
    assert parse_topic("spBv1.0/plant1/DDATA/edge-07/press-07") == {
        "message_type": "DDATA", "group_id": "plant1", "edge_node_id": "edge-07", "device_id": "press-07"}
    assert parse_topic("spBv1.0/STATE/scada-1") == {"message_type": "STATE", "host_id": "scada-1"}
    for bad in ("spBv1.0/plant1/NDATA", "spBv1.0/plant1/NDATA/edge/dev", "spBv1.0/plant1/DDATA/edge",
                "spBv1.0/plant1/XDATA/edge", "plant/x/y/z"):
        with pytest.raises(ValueError):
            parse_topic(bad)


# ---------------------------------------------------------------------------- sparkplug-b source


def test_sparkplug_session_from_file():
    """Payloads encoded with the Eclipse Tahu protobuf definition (sparkplug_b.proto)."""
    events, errors = read("sparkplug-b", DATA / "sparkplug-b" / "session.jsonl")
    assert not errors
    assert all(e.class_uid == EventClass.DEVICE_TELEMETRY for _, e in events)
    by_metric = {(place, e.attrs.get("metric.name")): e for place, e in events}
    birth = by_metric[("line 1", None)]
    assert birth.activity_id == T.ONLINE and birth.attrs["device.name"] == "edge-07"
    assert birth.attrs["device.uid"] == "plant1/edge-07" and birth.attrs["device.type"] == "edge node"
    oil = by_metric[("line 1", "Press/OilTemp")]
    assert oil.attrs["metric.value"] == 71.5 and oil.attrs["metric.unit"] == "degC"
    assert oil.attrs["metric.quality"] == 192 and oil.attrs["metric.datatype"] == "Float"
    assert oil.unmapped["properties.engHigh"] == 90.0 and oil.unmapped["topic"] == "spBv1.0/plant1/NBIRTH/edge-07"
    assert by_metric[("line 1", "Press/Offset")].attrs["metric.value"] == -42
    assert by_metric[("line 1", "Press/Stroke")].attrs["metric.value"] == -5
    assert by_metric[("line 1", "Press/Flags")].attrs["metric.value"] == [True, False, True, True, False]
    assert by_metric[("line 1", "Press/Tags")].attrs["metric.value"] == ["a", "bc"]
    assert by_metric[("line 1", "Press/Temps")].attrs["metric.value"] == [-1, 300, 7]
    recipe = by_metric[("line 1", "Press/Recipe")].attrs["metric.value"]
    assert recipe == {"columns": ["step", "setpoint"], "types": ["UInt32", "Double"], "rows": [[1, 120.5], [2, 140.0]]}
    template = by_metric[("line 1", "Press/Tmpl")].attrs["metric.value"]
    assert template["template_ref"] == "PressUDT" and template["parameters"] == {"Line": "L2"}
    assert by_metric[("line 1", "Press/Spare")].attrs["metric.is_null"] is True
    # NDATA carries aliases only: names, datatype, unit and alarm limits come from the NBIRTH
    pressure = by_metric[("line 3", "Press/Pressure")]
    assert pressure.attrs["metric.value"] == 255.5 and pressure.attrs["metric.unit"] == "bar"
    assert pressure.attrs["metric.alarm.high_high"] == 250.0 and pressure.attrs["metric.alarm.state"] == "high_high"
    assert pressure.severity_id == Severity.HIGH and "high-high alarm" in pressure.message
    assert by_metric[("line 3", "Press/Offset")].attrs["metric.value"] == -7  # Int32 from the birth
    door = by_metric[("line 4", "Door/Open")]
    assert door.attrs["device.name"] == "press-07" and door.attrs["device.uid"] == "plant1/edge-07/press-07"
    assert door.attrs["metric.value"] is True
    command = by_metric[("line 5", "Speed")]
    assert command.activity_id == T.COMMAND and command.severity_id == Severity.LOW
    assert command.attrs["metric.value"] == 3000
    ddeath = by_metric[("line 6", None)]
    assert ddeath.activity_id == T.OFFLINE and ddeath.attrs["device.name"] == "press-07"
    ndeath = by_metric[("line 7", None)]
    assert ndeath.activity_id == T.OFFLINE and ndeath.attrs["sparkplug.bd_seq"] == 3 and ndeath.time == 1741935950000
    state = by_metric[("line 8", None)]
    assert state.activity_id == T.OFFLINE and state.attrs["device.type"] == "host application"
    assert state.time == 1741936000000
    assert len({e.uid for _, e in events}) == len(events)


def test_sparkplug_live_subscriber_contract():
    source = get("sparkplug-b")
    context = Context(source_name="mqtt://broker")
    birth = payload(metric("Temp", alias=5, datatype=10, value=field(13, 1, struct.pack("<d", 20.0)),
                           properties=properties(string_property("engUnit", "degC"),
                                                 double_property("alarmHigh", 80.0))))
    events = source.parse(Record("spBv1.0/g/DBIRTH/n/d", ("spBv1.0/g/DBIRTH/n/d", birth)), context)
    assert [e.activity_id for e in events] == [T.ONLINE, T.REPORT]
    data = payload(metric(alias=5, value=field(13, 1, struct.pack("<d", 81.5))), ts=1741935700000, seq=1)
    (event,) = source.parse(Record("spBv1.0/g/DDATA/n/d", ("spBv1.0/g/DDATA/n/d", data)), context)
    assert event.attrs["metric.name"] == "Temp" and event.attrs["metric.value"] == 81.5
    assert event.attrs["metric.unit"] == "degC" and event.attrs["metric.alarm.state"] == "high"
    assert event.severity_id == Severity.MEDIUM and event.time == 1741935700000
    # a payload without a timestamp takes the receive time
    (event,) = source.parse(Record("t", ("spBv1.0/g/DDATA/n/d", payload(metric("Temp", datatype=10, value=field(
        13, 1, struct.pack("<d", 1.0)))).replace(field(1, 0, 1741935600000), b""), 1741935800000)), context)
    assert event.time == 1741935800000
    (state,) = source.parse(Record("t", ("spBv1.0/STATE/host-1", b"ONLINE", 1741935900000)), context)
    assert state.activity_id == T.ONLINE and state.time == 1741935900000
    with pytest.raises(InputError) as info:
        source.parse(Record("spBv1.0/g/NDATA/n", ("spBv1.0/g/NDATA/n", payload(metric("x", datatype=9))[:-3])),
                     context)
    assert info.value.place == "spBv1.0/g/NDATA/n" and "bad Sparkplug payload at byte" in info.value.message


def test_sparkplug_broken_file():
    events, errors = read("sparkplug-b", DATA / "sparkplug-b" / "broken.jsonl")
    assert not events
    assert [e.place for e in errors] == ["line 1", "line 2", "line 3", "line 4", "line 5"]
    assert errors[0].message == ("bad Sparkplug payload at byte 29: length 35 of field 2 runs past the end "
                                 "(26 bytes left)")
    assert "alias 10, which no NBIRTH/DBIRTH of plant1/edge-42 defined" in errors[1].message
    assert "DDATA needs a device id" in errors[2].message
    assert "not a Sparkplug B topic" in errors[3].message
    assert "give it as 'base64'" in errors[4].message


# ---------------------------------------------------------------------------- mqtt-json source


def test_mqtt_json_file():
    events, errors = read("mqtt-json", DATA / "mqtt-json" / "plant-telemetry.jsonl")
    assert not errors
    assert all(e.class_uid == EventClass.DEVICE_TELEMETRY for _, e in events)
    places = [(p, e.attrs.get("metric.name")) for p, e in events]
    assert places == [("line 1", "oil_temp"), ("line 2", "oil_temp"), ("line 3", "hydraulic_pressure"),
                      ("line 4", "temperature"), ("line 4", "humidity"), ("line 4", "fw"), ("line 5", "status"),
                      ("line 6", "status"), ("line 7", "airflow"), ("line 7", "fan_rpm"),
                      ("line 8", "vibration_rms")]
    first = events[0][1]
    assert first.attrs["device.name"] == "press-07" and first.attrs["device.uid"] == "plant1/press-shop/press-07"
    assert first.attrs["device.location.desc"] == "plant1" and first.attrs["device.zone"] == "press-shop"
    assert first.attrs["metric.value"] == 71.4 and first.attrs["metric.unit"] == "°C"
    assert first.attrs["metric.alarm.high"] == 85 and "metric.alarm.state" not in first.attrs
    assert first.unmapped["qos"] == 1 and first.time == 1741935600000
    hot = events[1][1]
    assert hot.attrs["metric.alarm.state"] == "high_high" and hot.severity_id == Severity.HIGH
    assert events[2][1].attrs["metric.value"] == 212.5 and events[2][1].time == 1741935901000
    assert events[3][1].time == 1741935960000 and events[3][1].unmapped["payload.humidity"] == 62
    offline, online = events[6][1], events[7][1]
    assert offline.activity_id == T.OFFLINE and online.activity_id == T.ONLINE and offline.unmapped["retain"] is True
    airflow = events[8][1]
    assert airflow.attrs["metric.alarm.state"] == "low" and airflow.attrs["metric.unit"] == "m/s"
    robot = events[10][1]
    assert robot.attrs["device.name"] == "robot-11" and robot.attrs["metric.unit"] == "g"


def test_mqtt_json_topic_pattern_and_live_contract():
    source = get("mqtt-json")
    context = Context(options={"topic_pattern": "factory/{line}/{cell}/{device}/+"})
    (event,) = source.parse(Record("factory/line2/cell3/robot-11/temp", (
        "factory/line2/cell3/robot-11/temp", b'{"value": 41.0, "unit": "degC"}', 1741935600000)), context)
    assert event.attrs["device.name"] == "robot-11" and event.attrs["device.line"] == "line2"
    assert event.attrs["device.cell"] == "cell3" and event.attrs["metric.name"] == "value"
    assert event.attrs["device.uid"] == "line2/cell3/robot-11" and event.time == 1741935600000
    (event,) = source.parse(Record("x", ("site/p1/a1/pump-3/speed", b"1450", 1741935600000)), Context())
    assert event.attrs["metric.name"] == "speed" and event.attrs["metric.value"] == 1450
    (event,) = source.parse(Record("x", ("site/p1/a1/pump-3/status", b"offline", 1741935600000)), Context())
    assert event.activity_id == T.OFFLINE
    with pytest.raises(InputError) as info:
        source.parse(Record("site/p1/a1/pump-3/speed", ("site/p1/a1/pump-3/speed", b"\xff\xfe")), Context())
    assert info.value.place == "site/p1/a1/pump-3/speed"


def test_mqtt_json_broken_file():
    events, errors = read("mqtt-json", DATA / "mqtt-json" / "broken.jsonl")
    assert len(events) == 1
    assert [(e.place, e.message.split(":")[0]) for e in errors] == [
        ("line 2", "no time"),
        ("line 3", "topic 'misc/something' does not match 'site/{site}/{area}/{device}/{metric}' and the payload "
                   "names no device"),
        ("line 4", "missing 'topic'"), ("line 5", "invalid JSON"), ("line 6", "bad base64 payload")]


def test_file_line_and_tuple_give_the_same_events():
    line = {"topic": "spBv1.0/g/NBIRTH/n", "base64": base64.b64encode(payload(metric("a", datatype=3, value=field(
        10, 0, 3)))).decode()}
    source = get("sparkplug-b")
    from_file = source.parse(Record("line 1", json.dumps(line)), Context())
    from_tuple = source.parse(Record("t", (line["topic"], base64.b64decode(line["base64"]))), Context())
    assert [e.uid for e in from_file] == [e.uid for e in from_tuple]
