"""LEEF 1.0 and 2.0: delimiters, devTime, the OCSF mapping, and broken lines."""

from __future__ import annotations

import io
from pathlib import Path

from linewatch.errors import InputError
from linewatch.events.ingest import parse_stream
from linewatch.events.schema import Event, EventClass, Severity
from linewatch.events.sources import Context, get
from linewatch.events.sources.leef import parse_leef

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "logs" / "leef" / "samples.leef"


def read(lines: list[str], **options) -> list[Event | InputError]:
    data = "\n".join(lines).encode()
    return list(parse_stream(get("leef"), io.BytesIO(data), Context(source_name="test.leef", options=options)))


def one(line: str, **options) -> Event:
    (item,) = read([line], **options)
    assert isinstance(item, Event), item
    return item


def error(line: str, **options) -> InputError:
    (item,) = read([line], **options)
    assert isinstance(item, InputError), item
    return item


def samples() -> list[Event | InputError]:
    return list(parse_stream(get("leef"), SAMPLES.open("rb"), Context(source_name="samples.leef",
                                                                      options={"year": 2025})))


def test_every_sample_line_parses():
    items = samples()
    assert len(items) == 4 and all(isinstance(i, Event) for i in items)


def test_leef1_program_download_from_an_ot_monitor():
    event = samples()[0]
    assert event.class_uid == EventClass.DETECTION_FINDING
    assert event.time == 1741932131000  # devTime in epoch ms
    assert event.attrs["metadata.product.vendor_name"] == "Claroty"
    assert event.attrs["finding_info.title"] == "PLC Program Download"
    assert event.attrs["dst_endpoint.ip"] == "10.20.11.10"
    assert event.attrs["dst_endpoint.port"] == 102
    assert event.attrs["actor.user.name"] == "eng3"
    assert event.severity_id == Severity.CRITICAL  # sev=9
    assert event.unmapped["Description"] == "Program download to PLC"


def test_leef2_caret_delimiter_syslog_prefix_and_dev_time_format():
    event = samples()[1]
    assert event.attrs["metadata.log_version"] == "LEEF:2.0"
    assert event.attrs["device.hostname"] == "nozomi-guardian"
    assert event.time == 1741932132500  # 07:02:12.500 CET = 06:02:12.500 UTC
    assert event.attrs["connection_info.protocol_name"] == "tcp"


def test_leef2_hex_delimiter():
    parsed = parse_leef("LEEF:2.0|Lancope|StealthWatch|1.0|41|x5E|src=192.0.2.10^dst=198.51.100.20^sev=5")
    assert parsed["delimiter"] == "^"
    assert parsed["attributes"] == {"src": "192.0.2.10", "dst": "198.51.100.20", "sev": "5"}
    assert parse_leef("LEEF:2.0|V|P|1|7|0x09|a=1\tb=2")["attributes"] == {"a": "1", "b": "2"}


def test_leef2_without_a_delimiter_field_uses_tab():
    parsed = parse_leef("LEEF:2.0|V|P|1|7|src=10.0.0.1\tdst=10.0.0.2")
    assert parsed["delimiter"] == "\t"
    assert parsed["attributes"] == {"src": "10.0.0.1", "dst": "10.0.0.2"}


def test_a_tab_escaped_by_rsyslog_is_still_a_delimiter():
    parsed = parse_leef("LEEF:1.0|V|P|1|7|src=10.0.0.1#011dst=10.0.0.2#011sev=3")
    assert parsed["attributes"] == {"src": "10.0.0.1", "dst": "10.0.0.2", "sev": "3"}


def test_a_value_holding_the_delimiter_is_kept_whole():
    parsed = parse_leef("LEEF:2.0|V|P|1|7|^|msg=a^b^src=10.0.0.1")
    assert parsed["attributes"] == {"msg": "a^b", "src": "10.0.0.1"}


def test_login_events_become_authentication():
    event = samples()[3]
    assert event.class_uid == EventClass.AUTHENTICATION
    assert event.activity_id == 1  # Logon
    assert event.attrs["user.name"] == "op3"
    assert event.time == 1741932134000


def test_logout_events_are_logoff():
    event = one("LEEF:1.0|V|P|1|4634|usrName=op3\tisLogoutEvent=true\tdevTime=1741932134000")
    assert (event.class_uid, event.activity_id) == (EventClass.AUTHENTICATION, 2)


def test_unknown_attributes_are_kept():
    event = one("LEEF:1.0|V|P|1|7|vendorThing=x y z\tsrc=10.0.0.1\tdevTime=1741932134000")
    assert event.unmapped == {"vendorThing": "x y z"}


# --- broken input ----------------------------------------------------------------------------------


def test_not_leef_is_an_error():
    err = error("CEF:0|a|b|c|d|e|f|")
    assert err.place == "line 1, column 1"
    assert "not LEEF" in err.message


def test_a_cut_off_header_names_its_column():
    err = error("LEEF:1.0|Vendor|Product")
    assert err.place == "line 1, column 24"
    assert "cut off" in err.message


def test_a_bad_delimiter_field():
    err = error("LEEF:2.0|V|P|1|7|abc|src=10.0.0.1")
    assert err.place == "line 1, column 18"
    assert "delimiter" in err.message


def test_attributes_that_are_not_key_value():
    err = error("LEEF:1.0|V|P|1|7|garbage here")
    assert err.place == "line 1, column 18"


def test_dev_time_that_does_not_fit_its_format_names_the_field():
    err = error("LEEF:1.0|V|P|1|7|devTime=14/03/2025\tdevTimeFormat=yyyy-MM-dd")
    assert err.place == "line 1, field 'devTime'"


def test_a_port_that_is_not_a_number_names_the_field():
    err = error("LEEF:2.0|V|P|1|ID|x09|src=1.2.3.4\tdstPort=abc")
    assert err.place == "line 1, field 'dstPort'"


def test_the_stream_goes_on_after_a_bad_line():
    items = read(["LEEF:1.0|V|P|1|7|src=10.0.0.1", "LEEF:9.9|nope", "LEEF:1.0|V|P|1|8|src=10.0.0.2"])
    assert [type(i).__name__ for i in items] == ["Event", "InputError", "Event"]
