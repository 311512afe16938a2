"""Syslog: RFC 5424 and 3164 headers, structured data, years and zones, CEF/LEEF hand-off, broken lines."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from linewatch.errors import InputError
from linewatch.events.ingest import parse_stream
from linewatch.events.schema import Event, EventClass, Severity
from linewatch.events.sources import Context, get
from linewatch.events.sources._util import Problem
from linewatch.events.sources.syslog import parse_message, parse_structured_data

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "logs" / "syslog" / "samples.log"


def read(lines: list[str], source: str = "syslog", **options) -> list[Event | InputError]:
    data = "\n".join(lines).encode()
    return list(parse_stream(get(source), io.BytesIO(data), Context(source_name="test.log", options=options)))


def one(line: str, source: str = "syslog", **options) -> Event:
    (item,) = read([line], source, **options)
    assert isinstance(item, Event), item
    return item


def error(line: str, source: str = "syslog", **options) -> InputError:
    (item,) = read([line], source, **options)
    assert isinstance(item, InputError), item
    return item


def samples() -> list[Event | InputError]:
    return list(parse_stream(get("syslog"), SAMPLES.open("rb"),
                             Context(source_name="samples.log", options={"year": 2025})))


def test_every_sample_line_parses_and_embedded_cef_and_leef_go_to_their_parsers():
    items = samples()
    assert all(isinstance(i, Event) for i in items)
    assert [i.source for i in items] == ["syslog", "syslog", "syslog", "cef", "leef", "syslog", "syslog"]


def test_rfc5424_header_and_structured_data_with_escapes():
    event = samples()[0]
    assert event.class_uid == EventClass.EVENT_LOG_ACTIVITY
    assert event.time == 1741935731003
    assert event.attrs == {"device.hostname": "hmi-line3.plant.example", "metadata.log_provider": "wincc",
                           "actor.process.pid": 2204, "metadata.event_code": "LOGIN"}
    assert event.message == "Operator op3 logged in at HMI"
    assert event.severity_id == Severity.LOW  # notice
    assert event.unmapped["facility"] == "local4"
    assert event.unmapped["structured_data.origin.ip"] == "10.20.5.12"
    assert event.unmapped["structured_data.meta.note"] == 'a "quoted" value with a ] bracket and a \\ backslash'


def test_rfc3164_with_tag_and_pid():
    event = samples()[1]
    assert event.time == 1741935732000  # Mar 14 07:02:12 in 2025, UTC
    assert event.attrs["device.hostname"] == "eng-ws-07"
    assert event.attrs["metadata.log_provider"] == "sshd"
    assert event.attrs["actor.process.pid"] == 4242
    assert event.unmapped["facility"] == "auth"
    assert event.message.startswith("Failed password for invalid user admin")


def test_a_file_line_without_pri_is_read_as_rfc3164():
    event = samples()[2]
    assert event.attrs["device.hostname"] == "fw-cell3"
    assert event.severity_id == Severity.UNKNOWN
    assert "facility" not in event.unmapped


def test_embedded_cef_keeps_the_syslog_host():
    event = samples()[3]
    assert event.class_uid == EventClass.DETECTION_FINDING
    assert event.attrs["device.hostname"] == "fw01"
    assert event.attrs["dst_endpoint.port"] == 502


def test_cisco_line_relayed_with_the_sender_address_first():
    event = samples()[5]
    assert event.attrs["device.ip"] == "10.20.1.1"
    assert event.time == 1741935736123
    assert event.message.startswith("%SYS-5-CONFIG_I")


def test_cee_json_payload_goes_to_unmapped():
    event = samples()[6]
    assert event.message == "gateway restarted"
    assert event.unmapped["cee.unit"] == "gw-7"
    assert event.time == 1741932137000  # 07:02:17+01:00


def test_rfc3164_time_is_taken_in_the_tz_option():
    event = one("<13>Mar 14 07:02:12 host app: x", year=2025, tz="Europe/Copenhagen")
    assert event.time == 1741932132000  # 06:02:12 UTC


def test_rfc3164_without_year_option_uses_this_year_or_the_last_one():
    now = dt.datetime(2025, 1, 2, 12, 0, tzinfo=dt.UTC)
    december = parse_message("<13>Dec 31 23:59:00 host app: x", now=now)
    january = parse_message("<13>Jan  2 11:00:00 host app: x", now=now)
    assert dt.datetime.fromtimestamp(december.time / 1000, dt.UTC).year == 2024
    assert dt.datetime.fromtimestamp(january.time / 1000, dt.UTC).year == 2025


def test_arcsight_style_and_epoch_timestamps():
    assert parse_message("May 02 2017 15:27:43.000 UTC host app: x").time == 1493738863000
    assert parse_message("1493738863000 host app: x").hostname == "host"


def test_octet_counted_lines_from_a_tcp_capture():
    event = one("58 <13>1 2025-03-14T07:02:11Z host app - - - hello there")
    assert event.message == "hello there"


def test_a_missing_timestamp_after_a_pri_is_the_receipt_time():
    event = one("<13>just a message")
    assert event.message == "just a message"
    assert event.unmapped["time_is_receipt"] is True


def test_structured_data_repeated_params_and_ids():
    data, end = parse_structured_data('[a x="1" x="2"][a y="3"] rest')
    assert data == {"a": {"x": ["1", "2"]}, "a#2": {"y": "3"}}
    assert end == 24


def test_explicit_sources_insist_on_their_format():
    assert one("<13>1 2025-03-14T07:02:11Z h a - - - m", source="syslog5424").unmapped["format"] == "rfc5424"
    err = error("<13>Mar 14 07:02:11 host app: m", source="syslog5424")
    assert "RFC 5424" in err.message
    assert one("<13>Mar 14 07:02:11 host app: m", source="syslog3164", year=2025).unmapped["format"] == "rfc3164"


# --- broken input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("source, line, place, words", [
    ("syslog", "<999>Mar 14 07:02:11 host x", "line 1, column 2", "bad PRI"),
    ("syslog", "<abc>Mar 14 07:02:11 host x", "line 1, column 1", "bad PRI"),
    ("syslog", "hello world", "line 1, column 1", "not a syslog line"),
    ("syslog", '<13>1 2025-03-14T07:02:11Z h a - - [x y="1] m', "line 1, column 41", "unterminated value"),
    ("syslog", '<13>1 2025-03-14T07:02:11Z h a - - [x y="1"', "line 1, column 36", "not closed"),
    ("syslog", '<13>1 2025-03-14T07:02:11Z h a - - [x y="1" m', "line 1, column 45", "PARAM-NAME"),
    ("syslog", '<13>1 2025-03-14T07:02:11Z h a - - [x y=1]', "line 1, column 41", "double quotes"),
    ("syslog", "<13>1 2025-03-14T07:02:11Z host", "line 1, column 32", "missing APP-NAME"),
    ("syslog5424", "<13>1 yesterday host app - - -", "line 1, column 7", "TIMESTAMP"),
    ("syslog5424", "1 2025-03-14T07:02:11Z host app - - -", "line 1, column 1", "needs a PRI"),
    ("syslog3164", "just text", "line 1, column 1", "not a syslog line"),
    ("syslog", "<13>Foo 14 07:02:11 host x", "line 1, column 5", "not a month"),
    ("syslog", "<13>Feb 30 07:02:11 host x", "line 1, column 5", "bad timestamp"),
])
def test_broken_lines_name_their_place(source, line, place, words):
    err = error(line, source, year=2025)
    assert err.place == place
    assert words in err.message


def test_the_stream_goes_on_after_a_bad_line():
    items = read(["<13>Mar 14 07:02:11 a b: c", "<300>x", "<13>Mar 14 07:02:12 a b: d"], year=2025)
    assert [type(i).__name__ for i in items] == ["Event", "InputError", "Event"]
    assert items[1].place == "line 2, column 2"


def test_parse_message_raises_problem_with_a_column():
    with pytest.raises(Problem) as caught:
        parse_message("<192>x")
    assert caught.value.column == 2


@pytest.mark.corpus
def test_zeek_captured_wire_syslog_messages_parse():
    """The WRCCDC 2018 syslog.log messages (after their PRI) are RFC 5424 lines from Windows hosts."""
    import gzip

    from tests.conftest import CORPUS

    path = CORPUS / "logs" / "zeek" / "wrccdc-2018" / "zeek-default" / "syslog.log.gz"
    with gzip.open(path, "rt") as lines:
        messages = [line.rstrip("\n").split("\t")[9] for line in lines if not line.startswith("#")]
    parsed = [parse_message(m, pri_required=False) for m in messages]
    assert len(parsed) == 2378
    assert all(p.format == "rfc5424" and p.time and p.hostname for p in parsed)
