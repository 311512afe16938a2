"""CEF: the 90 jcustenborder/cef-parser vectors as golden tests, the OCSF mapping, and broken lines."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from linewatch.errors import InputError
from linewatch.events.ingest import parse_stream
from linewatch.events.schema import Event, EventClass, Severity
from linewatch.events.sources import Context, get
from linewatch.events.sources._util import Problem
from linewatch.events.sources.cef import parse_cef
from tests.conftest import CORPUS

DATA = Path(__file__).resolve().parent.parent / "data" / "logs" / "cef"
VECTORS = [json.loads(line) for line in (DATA / "cef-parser-testvectors.jsonl").read_text().splitlines()]

# The vectors' year-less prefixes (`May 02 15:27:43 host`) expect 2017-05-02: the Java tests pin the
# clock's year, so we pin it with the `year` option. Everything else is compared as it is: `cefVersion`
# and `timestamp` (epoch ms) are numbers, header fields and extension values are strings.
VECTOR_YEAR = 2017


def read(lines: list[str], **options) -> list[Event | InputError]:
    data = "\n".join(lines).encode()
    return list(parse_stream(get("cef"), io.BytesIO(data), Context(source_name="test.cef", options=options)))


def one(line: str, **options) -> Event:
    (item,) = read([line], **options)
    assert isinstance(item, Event), item
    return item


def error(line: str, **options) -> InputError:
    (item,) = read([line], **options)
    assert isinstance(item, InputError), item
    return item


def test_all_ninety_vectors_are_here():
    assert len(VECTORS) == 90


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_cef_parser_vector_gives_its_expected_header_and_extensions(vector):
    assert parse_cef(vector["input"], year=VECTOR_YEAR) == vector["expected"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_every_vector_also_becomes_an_event(vector):
    event = one(vector["input"], year=VECTOR_YEAR)
    assert event.class_uid == EventClass.DETECTION_FINDING
    assert event.attrs["finding_info.title"] == vector["expected"]["name"]
    if "timestamp" in vector["expected"] and "rt" not in vector["expected"]["extensions"]:
        assert event.time == vector["expected"]["timestamp"]


@pytest.mark.corpus
def test_the_corpus_vectors_match_the_copied_ones():
    folder = CORPUS / "logs" / "cef" / "cef-parser-testvectors" / "messages"
    files = sorted(folder.glob("*.json"))
    assert len(files) == 90
    passed = sum(parse_cef(d["input"], year=VECTOR_YEAR) == d["expected"]
                 for d in (json.loads(f.read_text()) for f in files))
    assert passed == 90


def test_arcsight_logger_event_maps_labels_receipt_time_and_device():
    event = one(VECTORS[4]["input"])  # Message0004: ArcSight Logger sensor event
    assert event.time == 1305034099211  # rt
    assert event.attrs["device.ip"] == "10.0.0.1"
    assert event.attrs["metadata.product.vendor_name"] == "ArcSight"
    assert event.attrs["metadata.event_code"] == "sensor:115"
    assert event.attrs["finding_info.types"] == ["/Monitor/Sensor/Fan5"]
    assert event.attrs["count"] == 1
    assert event.severity_id == Severity.LOW
    # custom strings under their labels; a label without its field stays as it is
    assert event.unmapped["unit"] == "null"
    assert event.unmapped["timeframe"] == "Current Value"
    assert event.unmapped["Status"] == "Ok"
    assert event.unmapped["cn1Label"] == "value"
    assert event.unmapped["type"] == "0"


def test_header_and_extension_escapes_are_undone():
    event = one(r"CEF:0|Acme\|Corp|Gate\\keeper|1.0|7|Door \| forced|9|msg=line one\nline two "
                r"cs1=a\=b c\\d cs1Label=Pair act=blocked")
    assert event.attrs["metadata.product.vendor_name"] == "Acme|Corp"
    assert event.attrs["metadata.product.name"] == "Gate\\keeper"
    assert event.attrs["finding_info.title"] == "Door | forced"
    assert event.message == "line one\nline two"
    assert event.unmapped["Pair"] == "a=b c\\d"
    assert event.attrs["action_id"] == 2
    assert event.severity_id == Severity.CRITICAL


def test_values_with_spaces_run_to_the_next_key():
    parsed = parse_cef("CEF:0|V|P|1|1|n|5|msg=Program download to PLC line 3 suser=eng 3 dst=10.1.11.10")
    assert parsed["extensions"] == {"msg": "Program download to PLC line 3", "suser": "eng 3", "dst": "10.1.11.10"}


def test_syslog_prefixed_cef_takes_host_and_time_from_the_header():
    event = one("<134>Mar 14 07:02:11 ot-monitor CEF:0|Claroty|CTD|4.7|PLC_DOWNLOAD|Program download|8|"
                "src=10.20.4.77 dst=10.20.11.10 dpt=102 suser=eng3 proto=TCP outcome=success", year=2025)
    assert event.time == 1741935731000
    assert event.attrs["device.hostname"] == "ot-monitor"
    assert event.attrs["dst_endpoint.ip"] == "10.20.11.10"
    assert event.attrs["dst_endpoint.port"] == 102
    assert event.attrs["actor.user.name"] == "eng3"
    assert event.attrs["connection_info.protocol_name"] == "tcp"
    assert event.status_id == 1
    assert event.unmapped["syslog.facility"] == "local0"
    assert event.severity_id == Severity.HIGH


def test_rfc5424_prefix_is_read_too():
    event = one("<134>1 2025-03-14T07:02:11Z fw01 cef-forwarder 77 - - CEF:0|V|P|1|42|name|3|src=10.0.0.1")
    assert event.time == 1741935731000
    assert event.attrs["device.hostname"] == "fw01"
    assert event.unmapped["syslog.app_name"] == "cef-forwarder"


def test_device_host_from_the_payload_wins_over_the_syslog_host():
    event = one("Mar 14 07:02:11 relay CEF:0|V|P|1|42|name|3|dvchost=plc-gw", year=2025)
    assert event.attrs["device.hostname"] == "plc-gw"
    assert event.unmapped["syslog.hostname"] == "relay"


def test_class_option_maps_a_traffic_feed_to_network_activity():
    event = one("CEF:0|Fortinet|FortiGate|7.2|13|traffic forward|3|src=10.0.0.1 dst=10.0.0.2 in=10 out=20",
                **{"class": "network_activity"})
    assert event.class_uid == EventClass.NETWORK_ACTIVITY
    assert event.attrs["traffic.bytes_in"] == 10
    assert "finding_info.title" not in event.attrs
    assert event.unmapped["name"] == "traffic forward"


def test_unknown_keys_are_kept_in_unmapped():
    event = one("CEF:0|V|P|1|42|n|3|vendorSpecificThing=42 deviceDirection=1")
    assert event.unmapped == {"vendorSpecificThing": "42", "deviceDirection": "1", "time_is_receipt": True}


def test_the_same_line_gets_the_same_uid():
    line = VECTORS[0]["input"]
    assert one(line).uid == one(line).uid


# --- broken input ----------------------------------------------------------------------------------


def test_a_line_without_a_cef_header_is_an_error_at_column_1():
    err = error("just some text")
    assert err.place == "line 1, column 1"
    assert "not CEF" in err.message


def test_an_unterminated_header_names_where_it_stops():
    err = error("CEF:0|Vendor|Product|1.0")
    assert err.place == "line 1, column 25"
    assert "cut off" in err.message and "of its 7" in err.message


def test_an_extension_that_is_not_key_value_is_an_error_with_its_column():
    err = error("CEF:0|V|P|1|42|n|3|this is not an extension")
    assert err.place == "line 1, column 20"
    assert "key=value" in err.message


def test_a_port_that_is_not_a_number_names_the_field():
    err = error("CEF:0|V|P|1|42|n|3|spt=http")
    assert err.place == "line 1, field 'spt'"
    assert "integer" in err.message


def test_a_bad_receipt_time_names_the_field():
    err = error("CEF:0|V|P|1|42|n|3|rt=yesterday")
    assert err.place == "line 1, field 'rt'"


def test_a_bad_pri_in_the_prefix_is_an_error():
    err = error("<999>Mar 14 07:02:11 host CEF:0|V|P|1|42|n|3|src=10.0.0.1")
    assert err.place == "line 1, column 2"
    assert "PRI" in err.message


def test_a_prefix_that_is_no_syslog_header_is_kept_not_dropped():
    event = one("some-relay-tag CEF:0|V|P|1|42|n|3|src=10.0.0.1")
    assert event.unmapped["syslog.prefix"] == "some-relay-tag"


def test_the_stream_goes_on_after_a_bad_line():
    items = read([VECTORS[0]["input"], "CEF:0|broken", VECTORS[1]["input"]])
    assert [type(i).__name__ for i in items] == ["Event", "InputError", "Event"]
    assert items[1].place.startswith("line 2")


def test_parse_cef_raises_problem_for_callers_outside_a_stream():
    with pytest.raises(Problem):
        parse_cef("CEF:0|a")
