"""Suricata EVE: real alerts, every mapped event type, ICS app-layers, framing and broken records."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from linewatch.errors import InputError
from linewatch.events.ingest import parse_stream
from linewatch.events.schema import ControllerActivity, Event, EventClass, Severity
from linewatch.events.sources import Context, get
from tests.conftest import CORPUS

DATA = Path(__file__).resolve().parent.parent / "data" / "logs" / "suricata"


def read_bytes(data: bytes, name: str = "eve.json") -> list[Event | InputError]:
    return list(parse_stream(get("suricata"), io.BytesIO(data), Context(source_name=name)))


def read_file(path: Path) -> list[Event | InputError]:
    return list(parse_stream(get("suricata"), path.open("rb"), Context(source_name=path.name)))


def synthetic() -> dict[str, Event]:
    """The hand-written EVE fixture, keyed by a short name for each record."""
    items = read_file(DATA / "eve-synthetic.jsonl")
    assert all(isinstance(i, Event) for i in items), [i for i in items if isinstance(i, InputError)]
    names = ["flow", "dns_query", "dns_answer", "dns_v3", "http", "tls", "anomaly", "modbus_write", "modbus_read",
             "dnp3_request", "dnp3_response", "enip", "fileinfo", "stats", "alert_modbus"]
    assert len(items) == len(names)
    return dict(zip(names, items, strict=True))  # type: ignore[arg-type]


# --- real alerts (FrankHassanabad/suricata-sample-data, MIT) ---------------------------------------------


def test_wrccdc_alerts_in_a_json_array_become_detection_findings():
    items = read_file(DATA / "wrccdc-2018-alerts-excerpt.json")
    assert len(items) == 6 and all(isinstance(i, Event) for i in items)
    first = items[0]
    assert first.class_uid == EventClass.DETECTION_FINDING
    assert first.activity_id == 1
    assert first.attrs["finding_info.analytic.uid"] == "2001219"
    assert first.attrs["finding_info.title"] == "ET SCAN Potential SSH Scan"
    assert first.attrs["finding_info.types"] == ["Attempted Information Leak"]
    assert first.severity_id == Severity.MEDIUM  # Suricata severity 2
    assert first.attrs["dst_endpoint.ip"] == "10.47.8.150"
    assert first.attrs["dst_endpoint.port"] == 22
    assert first.attrs["connection_info.uid"] == "928532049924531"
    assert first.attrs["traffic.bytes_out"] == 74
    assert first.time == 1521923839037  # 2018-03-24T14:37:19.037299-0600
    assert first.unmapped == {"pcap_cnt": 169577, "alert.gid": 1}


def test_an_alert_carries_its_http_transaction():
    alert = read_file(DATA / "wrccdc-2018-alerts-excerpt.json")[5]
    assert alert.class_uid == EventClass.DETECTION_FINDING
    assert alert.severity_id == Severity.HIGH
    assert alert.attrs["http_request.url.hostname"] == "cfg.crawler.com"
    assert alert.attrs["http_request.user_agent"] == "UtilMind HTTPGet"
    assert alert.attrs["http_response.code"] == 200


def test_array_items_are_placed_by_item_number():
    items = read_bytes(b'[{"timestamp":"2025-03-14T07:02:11Z","event_type":"flow"}, 7]')
    assert isinstance(items[0], Event)
    assert isinstance(items[1], InputError) and items[1].place == "item 2"


# --- every event type (hand-written fixture) ---------------------------------------------------------------


def test_flow_is_a_closed_connection_with_traffic_counters():
    flow = synthetic()["flow"]
    assert (flow.class_uid, flow.activity_id) == (EventClass.NETWORK_ACTIVITY, 2)
    assert flow.attrs["traffic.packets_out"] == 12 and flow.attrs["traffic.bytes_in"] == 840
    assert flow.attrs["connection_info.community_uid"] == "1:6Ne0h6c8o2nq9QbqJ1Uj8Sl0rCk="
    assert flow.attrs["device.interface_name"] == "ens1f0"
    assert flow.attrs["app_name"] == "modbus"
    assert flow.attrs["duration"] == 10000
    assert flow.unmapped["tcp.syn"] is True and flow.unmapped["flow.state"] == "closed"


def test_dns_query_answer_and_v3_queries():
    found = synthetic()
    assert found["dns_query"].activity_id == 1
    assert found["dns_query"].attrs["query.hostname"] == "historian.plant.example"
    answer = found["dns_answer"]
    assert (answer.class_uid, answer.activity_id) == (EventClass.DNS_ACTIVITY, 2)
    assert answer.attrs["answers"] == [{"rdata": "10.20.3.15", "type": "A", "ttl": 300}]
    assert answer.attrs["rcode"] == "NOERROR"
    assert found["dns_v3"].attrs["query.type"] == "AAAA"


def test_http_post():
    http = synthetic()["http"]
    assert (http.class_uid, http.activity_id) == (EventClass.HTTP_ACTIVITY, 6)
    assert http.attrs["http_request.url.path"] == "/api/tags"
    assert http.attrs["http_request.url.query_string"] == "line=3"
    assert http.attrs["http_response.code"] == 201


def test_tls_certificate_and_ja3():
    tls = synthetic()["tls"]
    assert tls.class_uid == EventClass.NETWORK_ACTIVITY
    assert tls.attrs["tls.sni"] == "remote.vendor.example"
    assert tls.attrs["tls.ja3_hash.value"] == "e7d705a3286e19ea42f587b344ee6865"
    assert tls.attrs["tls.certificate.expiration_time"] == 1767225600000
    assert tls.unmapped["tls.ja3.string"].startswith("771,")


def test_anomaly_is_low_severity_network_activity():
    anomaly = synthetic()["anomaly"]
    assert (anomaly.class_uid, anomaly.activity_id, anomaly.severity_id) == (EventClass.NETWORK_ACTIVITY, 99,
                                                                             Severity.LOW)
    assert anomaly.message == "applayer anomaly: INVALID_PROTOCOL_ID"


def test_modbus_write_single_register_is_a_controller_write():
    write = synthetic()["modbus_write"]
    assert write.class_uid == EventClass.CONTROLLER_ACTIVITY
    assert write.activity_id == ControllerActivity.WRITE
    assert write.attrs["dst_endpoint.ip"] == "10.20.11.10"
    assert write.attrs["controller.function_code"] == 6
    assert write.attrs["controller.address"] == 40010
    assert write.attrs["controller.values"] == [1500]


def test_modbus_read_with_an_exception_response_failed():
    read = synthetic()["modbus_read"]
    assert read.activity_id == ControllerActivity.READ
    assert read.status_id == 2
    assert read.attrs["controller.exception"] == "IllegalDataAddr"
    assert read.attrs["controller.quantity"] == 10


def test_dnp3_direct_operate_request_and_its_response():
    found = synthetic()
    request, response = found["dnp3_request"], found["dnp3_response"]
    assert (request.class_uid, request.activity_id) == (EventClass.CONTROLLER_ACTIVITY, ControllerActivity.WRITE)
    assert request.attrs["controller.function"] == "DIRECT_OPERATE"
    assert response.class_uid == EventClass.INDUSTRIAL_PROTOCOL
    assert response.status_id == 2  # IIN parameter_error


def test_enip_list_identity_is_industrial_protocol_with_the_identity_kept():
    enip = synthetic()["enip"]
    assert enip.class_uid == EventClass.INDUSTRIAL_PROTOCOL
    assert enip.attrs["controller.function"] == "ListIdentity"
    assert enip.unmapped["enip.response.identity.product_name"] == "1756-L71/B LOGIX5571"


def test_cip_write_service_in_enip_is_a_controller_write():
    line = (b'{"timestamp":"2025-03-14T07:02:11Z","event_type":"enip","src_ip":"10.0.0.1","dest_ip":"10.0.0.2",'
            b'"enip":{"request":{"command":"SendRRData","status":"success","cip":{"service":"Write Tag"}}}}')
    (event,) = read_bytes(line)
    assert (event.class_uid, event.activity_id) == (EventClass.CONTROLLER_ACTIVITY, ControllerActivity.WRITE)
    assert event.unmapped["enip.request.command"] == "SendRRData"


def test_fileinfo_stats_and_an_alert_with_modbus_details():
    found = synthetic()
    assert found["fileinfo"].class_uid == EventClass.NETWORK_FILE_ACTIVITY
    assert found["fileinfo"].attrs["file.name"] == "/firmware/plc-fw-2.4.bin"
    stats = found["stats"]
    assert stats.class_uid == EventClass.NETWORK_ACTIVITY and stats.message == "stats"
    assert stats.unmapped["stats.capture.kernel_drops"] == 12
    alert = found["alert_modbus"]
    assert alert.attrs["action_id"] == 2  # blocked
    assert alert.severity_id == Severity.HIGH
    assert alert.unmapped["alert.metadata.mitre_technique_id"] == ["T0814"]
    assert alert.unmapped["modbus.request.function_raw"] == 8


def test_the_same_line_gets_the_same_uid_and_different_lines_do_not():
    data = (DATA / "eve-synthetic.jsonl").read_bytes()
    first, second = read_bytes(data), read_bytes(data)
    assert [e.uid for e in first] == [e.uid for e in second]
    assert len({e.uid for e in first}) == len(first)


# --- broken input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("line, place, words", [
    (b'{"timestamp":"2025-03-14T07:02:11Z","event_type":"flow","src_ip":"10.0', "line 1", "invalid JSON"),
    (b'{"event_type":"flow"}', "line 1, field 'timestamp'", "needs a timestamp"),
    (b'{"timestamp":"2025-03-14T07:02:11Z"}', "line 1, field 'event_type'", "needs an event_type"),
    (b'{"timestamp":"2025-03-14T07:02:11Z","event_type":"flow","src_port":"ssh"}', "line 1, field 'src_port'",
     "integer"),
    (b'{"timestamp":1741935731,"event_type":"flow"}', "line 1, field 'timestamp'", "ISO 8601"),
    (b'{"timestamp":"yesterday","event_type":"flow"}', "line 1, field 'timestamp'", "not an ISO 8601"),
    (b'{"timestamp":"2025-03-14T07:02:11Z","event_type":["alert"]}', "line 1, field 'event_type'", "text"),
    (b'{"timestamp":"2025-03-14T07:02:11Z","event_type":"alert","alert":{"signature_id":"x"}}',
     "line 1, field 'alert.signature_id'", "integer"),
    (b'"just a string"', "line 1", "expected a JSON object"),
    (b"garbage line", "line 1", "invalid JSON"),
])
def test_broken_records_name_their_place(line, place, words):
    (err,) = read_bytes(line)
    assert isinstance(err, InputError), err
    assert err.place == place
    assert words in err.message


def test_a_broken_json_array_is_one_error_at_its_start():
    items = read_bytes(b'\n[{"timestamp":"2025-03-14T07:02:11Z","event_type":"flow"},\n{"timestamp"')
    assert len(items) == 1 and isinstance(items[0], InputError)
    assert items[0].place == "line 2" and "not valid JSON" in items[0].message


def test_the_stream_goes_on_after_a_bad_line():
    good = b'{"timestamp":"2025-03-14T07:02:11Z","event_type":"flow"}'
    items = read_bytes(good + b"\n{broken\n\n" + good.replace(b"11Z", b"12Z") + b"\n")
    assert [type(i).__name__ for i in items] == ["Event", "InputError", "Event"]
    assert items[1].place == "line 2"


# --- the whole corpus ----------------------------------------------------------------------------------------


@pytest.mark.corpus
def test_every_corpus_alert_parses():
    files = sorted((CORPUS / "logs" / "suricata" / "frankhassanabad" / "samples").glob("*/alerts-only.json"))
    assert len(files) == 4
    items = [item for path in files for item in read_file(path)]
    assert not [i for i in items if isinstance(i, InputError)]
    assert len(items) == 548
    assert all(e.class_uid == EventClass.DETECTION_FINDING and e.attrs["finding_info.analytic.uid"] for e in items)
    assert {e.severity_id for e in items} == {Severity.HIGH, Severity.MEDIUM, Severity.LOW}
