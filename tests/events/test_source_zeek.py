"""Zeek: TSV headers and escapes, JSON, path detection, the ICSNPP OT logs, and broken lines."""

from __future__ import annotations

import gzip
import io
from collections import Counter
from pathlib import Path

import pytest

from linewatch.errors import InputError
from linewatch.events.ingest import parse_stream
from linewatch.events.schema import ControllerActivity, Event, EventClass, Severity
from linewatch.events.sources import Context, get
from tests.conftest import CORPUS

DATA = Path(__file__).resolve().parent.parent / "data" / "logs" / "zeek"
# The ICSNPP btest baselines mask their timestamps as XXXXXXXXXX.XXXXXX; tests fill in a fixed time.
MASKED = b"XXXXXXXXXX.XXXXXX"
FILLED_TS = b"1600000000.000000"
FILLED_MS = 1600000000000


def read_bytes(data: bytes, name: str = "test.log", **options) -> list[Event | InputError]:
    context = Context(source_name=name, options=options)
    return list(parse_stream(get("zeek"), io.BytesIO(data.replace(MASKED, FILLED_TS)), context))


def read_file(path: Path, **options) -> list[Event | InputError]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return read_bytes(data, path.name, **options)


def events(path: Path, **options) -> list[Event]:
    items = read_file(path, **options)
    errors = [i for i in items if isinstance(i, InputError)]
    assert not errors, errors[:3]
    return items  # type: ignore[return-value]


def tsv(fields: list[str], types: list[str], rows: list[list[str]], path: str = "test") -> bytes:
    lines = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", f"#path\t{path}",
             "#fields\t" + "\t".join(fields), "#types\t" + "\t".join(types)]
    lines += ["\t".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


# --- the key OT signal: S7 program transfer ---------------------------------------------------------


def test_s7comm_upload_request_is_controller_activity_against_the_plc():
    items = events(DATA / "icsnpp-s7comm" / "s7comm_upload_download.log")
    first = items[0]
    assert first.class_uid == EventClass.CONTROLLER_ACTIVITY
    assert first.activity_id == ControllerActivity.PROGRAM_UPLOAD
    assert first.time == FILLED_MS
    assert first.attrs["src_endpoint.ip"] == "134.217.61.131"  # the engineering station
    assert first.attrs["dst_endpoint.ip"] == "134.217.61.211"  # the PLC
    assert first.attrs["dst_endpoint.port"] == 102
    assert first.attrs["controller.protocol"] == "s7comm"
    assert first.attrs["controller.operation"] == "program upload"
    assert first.attrs["controller.function"] == "Start Upload"
    assert first.attrs["controller.block_type"] == "System Data Block"
    assert first.attrs["controller.filename"] == "_0B00000A"
    assert first.attrs["connection_info.uid"] == "CHhAvVGS1DHFjwGM9"
    assert first.unmapped["destination_filesystem"] == "Active"
    assert first.unmapped["_path"] == "s7comm_upload_download"


def test_s7comm_upload_acknowledgements_are_industrial_protocol_records():
    items = events(DATA / "icsnpp-s7comm" / "s7comm_upload_download.log")
    kinds = Counter((e.class_uid, e.attrs.get("controller.direction")) for e in items)
    assert kinds == {(EventClass.CONTROLLER_ACTIVITY, "request"): 13, (EventClass.INDUSTRIAL_PROTOCOL, "response"): 12}
    ack = items[1]
    assert ack.activity_id == ControllerActivity.PROGRAM_UPLOAD
    assert ack.unmapped["blocklength"] == 216


def test_s7comm_plc_stop_write_and_cpu_functions():
    items = events(DATA / "icsnpp-s7comm" / "s7comm.log")
    requests = {(e.attrs.get("controller.function"), e.activity_id) for e in items
                if e.class_uid == EventClass.CONTROLLER_ACTIVITY}
    assert ("PLC Stop", ControllerActivity.MODE_CHANGE) in requests
    assert ("Write Variable", ControllerActivity.WRITE) in requests
    assert ("Request: CPU Functions", ControllerActivity.DIAGNOSTIC) in requests
    setup = next(e for e in items if e.attrs.get("controller.function") == "Setup Communication")
    assert setup.class_uid == EventClass.INDUSTRIAL_PROTOCOL
    failed = [e for e in items if e.status_id == 2]
    assert [e.attrs.get("controller.subfunction") for e in failed] == ["Get Block Info"]  # "Parameter Error"


def test_s7comm_known_device_is_inventory_with_its_serial():
    (device,) = events(DATA / "icsnpp-s7comm" / "s7comm_known_devices.log")
    assert device.class_uid == EventClass.DEVICE_INVENTORY_INFO
    assert device.attrs["device.model"] == "CPU 315-2 PN/DP"
    assert device.attrs["device.hw_info.serial_number"] == "S C-C2UR28922012"
    assert device.attrs["device.ip"] == "172.17.0.2"


def test_s7comm_read_szl_is_diagnostic():
    items = events(DATA / "icsnpp-s7comm" / "s7comm_read_szl.log")
    assert {e.activity_id for e in items} == {ControllerActivity.DIAGNOSTIC}
    assert items[0].attrs["controller.object"] == "Module identification"


# --- Modbus and DNP3 --------------------------------------------------------------------------------


def test_modbus_detailed_write_carries_address_and_values():
    items = events(DATA / "icsnpp-modbus" / "modbus_detailed.log")
    write = next(e for e in items if e.attrs.get("controller.function") == "WRITE_SINGLE_REGISTER")
    assert write.class_uid == EventClass.CONTROLLER_ACTIVITY
    assert write.activity_id == ControllerActivity.WRITE
    assert write.attrs["controller.function_code"] == 6
    assert write.attrs["controller.address"] == 1
    assert write.attrs["controller.values"] == [43981]
    assert write.attrs["controller.unit_id"] == 7
    assert write.unmapped["response_values"] == [43981]
    writes = sorted({e.attrs["controller.function_code"] for e in items if e.activity_id == ControllerActivity.WRITE})
    assert writes == [5, 6, 15, 16, 21, 22, 23]


def test_headerless_modbus_log_needs_its_columns():
    path = DATA / "icsnpp-modbus" / "modbus.log"
    items = read_file(path)
    assert all(isinstance(i, InputError) for i in items)
    assert items[0].place == "line 2, column 1" and "#fields" in items[0].message
    fields = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tfunc\texception"
    items = events(path, fields=fields)
    assert len(items) == 24
    assert {e.unmapped["_path"] for e in items} == {"modbus"}  # from the file name
    last = items[-1]
    assert last.attrs["controller.function_code"] == 3
    assert last.attrs["controller.exception"] == "ILLEGAL_DATA_ADDRESS"
    assert last.status_id == 2
    assert last.attrs["dst_endpoint.ip"] == "3.15.227.20"


def test_modbus_mask_write_request_and_response():
    items = events(DATA / "icsnpp-modbus" / "modbus_mask_write_register.log")
    assert [(e.class_uid, e.activity_id) for e in items[:2]] == [
        (EventClass.CONTROLLER_ACTIVITY, ControllerActivity.WRITE),
        (EventClass.INDUSTRIAL_PROTOCOL, ControllerActivity.WRITE)]
    assert items[0].unmapped["and_mask"] == 57005


def test_dnp3_operate_is_a_write_and_select_is_not():
    items = events(DATA / "icsnpp-dnp3" / "dnp3_control.log")
    operate = next(e for e in items if e.attrs.get("controller.function") == "OPERATE")
    assert operate.class_uid == EventClass.CONTROLLER_ACTIVITY
    assert operate.activity_id == ControllerActivity.WRITE
    assert operate.attrs["dst_endpoint.ip"] == "10.10.20.8"
    assert operate.attrs["controller.object"] == "Control Relay Output Block"
    assert operate.attrs["controller.address"] == 8
    assert operate.unmapped["trip_control_code"] == "Close"
    select = next(e for e in items if e.attrs.get("controller.function") == "SELECT")
    assert select.class_uid == EventClass.INDUSTRIAL_PROTOCOL


def test_dnp3_log_reads_are_controller_reads():
    items = events(DATA / "icsnpp-dnp3" / "dnp3.log")
    assert items[0].attrs["controller.function"] == "READ"
    assert items[0].activity_id == ControllerActivity.READ
    assert items[0].unmapped["fc_reply"] == "RESPONSE"


def test_dnp3_restart_is_a_mode_change():
    data = tsv(["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "fc_request", "fc_reply", "iin"],
               ["time", "string", "addr", "port", "addr", "port", "string", "string", "count"],
               [["1741932131.5", "C1", "10.20.4.80", "20001", "10.20.12.5", "20000", "COLD_RESTART", "RESPONSE", "4"]],
               path="dnp3")
    (event,) = read_bytes(data)
    assert (event.class_uid, event.activity_id) == (EventClass.CONTROLLER_ACTIVITY, ControllerActivity.MODE_CHANGE)
    assert event.status_id == 2  # IIN parameter error
    assert event.time == 1741932131500


# --- standard Zeek logs (WRCCDC 2018, CC-BY-SA-4.0) ----------------------------------------------------


def test_kerberos_as_request_is_an_authentication_ticket():
    (first, *_) = events(DATA / "wrccdc-2018" / "kerberos.log")
    assert (first.class_uid, first.activity_id) == (EventClass.AUTHENTICATION, 3)
    assert first.attrs["service.name"] == "krbtgt/NM"
    assert first.attrs["user.domain"] == "NM"
    assert first.attrs["auth_protocol"] == "Kerberos"
    assert first.time == 1521911885713


def test_ntlm_logon_names_the_server():
    first = events(DATA / "wrccdc-2018" / "ntlm.log")[0]
    assert first.class_uid == EventClass.AUTHENTICATION
    assert first.status_id == 1
    assert first.attrs["dst_endpoint.hostname"] == "Snozberry.factory.oompa.loompa"


def test_notice_is_a_detection_finding_with_unescaped_text():
    first = events(DATA / "wrccdc-2018" / "notice.log")[0]
    assert first.class_uid == EventClass.DETECTION_FINDING
    assert first.severity_id == Severity.MEDIUM
    assert first.attrs["finding_info.title"] == "SSL::Invalid_Server_Cert"
    assert first.attrs["finding_info.desc"].startswith("unstructuredName=1315656901\\,564d")  # one backslash
    assert first.unmapped["actions"] == ["Notice::ACTION_LOG"]
    assert first.unmapped["email_dest"] == []  # (empty)


def test_syslog_log_reads_the_message_header():
    first = events(DATA / "wrccdc-2018" / "syslog.log")[0]
    assert first.class_uid == EventClass.EVENT_LOG_ACTIVITY
    assert first.attrs["device.hostname"] == "PC-helen.jerry.land"
    assert first.attrs["metadata.log_provider"] == "EvntSLog"
    assert first.message == "The Multimedia Class Scheduler service entered the stopped state."
    assert first.unmapped["cee.id"] == "7036"
    assert first.unmapped["facility"] == "LOCAL0"


def test_tsv_and_json_of_the_same_record_map_alike():
    tsv_event = events(DATA / "wrccdc-2018" / "modbus.log")[0]
    json_event = events(DATA / "wrccdc-2018" / "modbus.json")[0]
    assert tsv_event.attrs == json_event.attrs
    assert tsv_event.time == json_event.time == 1521911733511
    assert tsv_event.class_uid == EventClass.INDUSTRIAL_PROTOCOL  # unknown-100 is not a known operation
    assert tsv_event.attrs["controller.function_code"] == 100
    assert json_event.unmapped["_write_ts"] == "2018-03-24T17:15:33.511226Z"


def test_json_ssh():
    first = events(DATA / "wrccdc-2018" / "ssh.json")[0]
    assert first.class_uid == EventClass.SSH_ACTIVITY
    assert first.status_id == 1
    assert first.unmapped["server"].startswith("SSH-2.0-OpenSSH_7.4p1")


# --- the TSV format itself ------------------------------------------------------------------------------


def test_escapes_sets_empty_and_unset_fields():
    data = tsv(["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "name", "addl", "tags", "flag"],
               ["time", "string", "addr", "port", "addr", "port", "string", "string", "set[string]", "bool"],
               [["1741932131.000001", "C1", "10.0.0.1", "1", "10.0.0.2", "2", "tab\\x09and\\\\slash", "-",
                 "a\\x2cb,c", "T"],
                ["1741932131", "C2", "10.0.0.1", "1", "10.0.0.2", "2", "(empty)", "x", "(empty)", "F"]],
               path="weird")
    first, second = read_bytes(data)
    assert first.message == "weird: tab\tand\\slash"
    assert first.unmapped["tags"] == ["a,b", "c"]
    assert first.unmapped["flag"] is True
    assert "addl" not in first.unmapped
    assert first.severity_id == Severity.LOW
    assert second.unmapped["tags"] == []


def test_a_custom_separator():
    data = (b"#separator \\x7c\n#set_separator|;\n#empty_field|(empty)\n#unset_field|-\n#path|conn\n"
            b"#fields|ts|uid|id.orig_h|id.orig_p|id.resp_h|id.resp_p|proto|conn_state|tunnel_parents\n"
            b"#types|time|string|addr|port|addr|port|enum|string|set[string]\n"
            b"1741932131.0|C1|10.0.0.1|5000|10.0.0.2|502|tcp|REJ|a;b\n")
    (event,) = read_bytes(data)
    assert event.class_uid == EventClass.NETWORK_ACTIVITY
    assert event.activity_id == 5  # Refuse
    assert event.unmapped["tunnel_parents"] == ["a", "b"]


def test_concatenated_logs_and_the_close_trailer():
    conn = tsv(["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "conn_state"],
               ["time", "string", "addr", "port", "addr", "port", "enum", "string"],
               [["1741932131", "C1", "10.0.0.1", "1", "10.0.0.2", "2", "tcp", "SF"]], path="conn")
    dns = tsv(["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "query", "rcode", "rcode_name",
               "answers", "TTLs"],
              ["time", "string", "addr", "port", "addr", "port", "string", "count", "string", "vector[string]",
               "vector[interval]"],
              [["1741932132", "C2", "10.0.0.1", "3", "10.0.0.53", "53", "plc.example", "0", "NOERROR",
                "10.1.1.1", "60.000000"]], path="dns")
    items = read_bytes(conn + b"#close\t2025-03-14-07-02-12\n" + dns + b"#close\t2025-03-14-07-02-13\n"
                       + b"1741932133\tC3\t10.0.0.1\t4\t10.0.0.2\t5\ttcp\tSF\n")
    assert [type(i).__name__ for i in items] == ["Event", "Event", "InputError"]
    assert items[0].class_uid == EventClass.NETWORK_ACTIVITY and items[0].activity_id == 2
    assert items[1].class_uid == EventClass.DNS_ACTIVITY
    assert items[1].attrs["answers"] == [{"rdata": "10.1.1.1", "ttl": 60}]
    assert "after #close" in items[2].message and items[2].place == "line 19, column 1"


def test_path_comes_from_the_option_when_json_has_no_path_field():
    line = b'{"ts":1741932131.25,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2",' \
           b'"id.resp_p":102,"rosctr":"Job-Request","function_name":"Request Download","block_type":"OB"}\n'
    (event,) = read_bytes(line, "export.json", path="s7comm_upload_download")
    assert event.activity_id == ControllerActivity.PROGRAM_DOWNLOAD
    assert event.time == 1741932131250


def test_an_unknown_log_keeps_its_fields():
    line = b'{"_path":"rfb","ts":1741932131,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,' \
           b'"id.resp_h":"10.0.0.2","id.resp_p":5900,"desktop_name":"HMI-3"}\n'
    (event,) = read_bytes(line)
    assert (event.class_uid, event.activity_id) == (EventClass.NETWORK_ACTIVITY, 99)
    assert event.unmapped == {"desktop_name": "HMI-3", "_path": "rfb"}


def test_an_unknown_ics_log_is_industrial_protocol():
    line = b'{"_path":"opcua_binary","ts":1741932131,"id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2","x":1}\n'
    (event,) = read_bytes(line)
    assert event.class_uid == EventClass.INDUSTRIAL_PROTOCOL


# --- broken input ---------------------------------------------------------------------------------------


CONN_HEAD = tsv(["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto"],
                ["time", "string", "addr", "port", "addr", "port", "enum"], [], path="conn")


@pytest.mark.parametrize("line, place, words", [
    (b"1741932131\tC1\t10.0.0.1\t1\t10.0.0.2\n", "line 8, column 1", "5 fields where #fields names 7"),
    (b"1741932131\tC1\t10.0.0.1\tabc\t10.0.0.2\t2\ttcp\n", "line 8, field 'id.orig_p'", "expected a Zeek port"),
    (b"yesterday\tC1\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\n", "line 8, field 'ts'", "expected a Zeek time"),
    (b'{"ts":1741932131,"uid":"C1","id.orig_h":"10.0\n', "line 8", "invalid JSON"),
    (b'{"uid":"C1","id.orig_h":"10.0.0.1"}\n', "line 8, field 'ts'", "no ts"),
    (b'{"ts":true,"uid":"C1"}\n', "line 8, field 'ts'", "expected epoch seconds"),
    (b'{"ts":"not a time"}\n', "line 8, field 'ts'", "not a time"),
    (b'{"_path":"conn","ts":1741932131,"id.orig_p":"x"}\n', "line 8, field 'id.orig_p'", "integer"),
    (b'{"_path":"ssh","ts":1741932131,"auth_success":"maybe"}\n', "line 8, field 'auth_success'", "true or false"),
])
def test_broken_lines_name_their_place(line, place, words):
    (err,) = read_bytes(CONN_HEAD + line)
    assert isinstance(err, InputError), err
    assert err.place == place
    assert words in err.message


def test_bad_bool_in_tsv():
    data = tsv(["ts", "auth_success"], ["time", "bool"], [["1741932131", "maybe"]], path="ssh")
    (err,) = read_bytes(data)
    assert err.place == "line 8, field 'auth_success'"


def test_the_stream_goes_on_after_a_bad_line():
    items = read_bytes(CONN_HEAD + b"1741932131\tC1\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\n" + b"garbage\n"
                       + b"1741932132\tC2\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\n")
    assert [type(i).__name__ for i in items] == ["Event", "InputError", "Event"]


# --- the whole corpus -----------------------------------------------------------------------------------


@pytest.mark.corpus
def test_every_corpus_zeek_log_parses_without_an_error():
    root = CORPUS / "logs" / "zeek"
    files = [p for p in sorted(root.rglob("*")) if p.name.endswith((".log", ".log.gz", ".json.gz"))]
    counts: Counter = Counter()
    for path in files:
        options = {}
        if path.name == "modbus.log" and "icsnpp" in str(path):
            options["fields"] = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tfunc\texception"
        items = read_file(path, **options)
        errors = [i for i in items if isinstance(i, InputError)]
        assert not errors, (path, errors[:2])
        counts.update(e.class_uid for e in items)
    assert sum(counts.values()) > 13000
    assert counts[EventClass.CONTROLLER_ACTIVITY] > 400
    assert counts[EventClass.AUTHENTICATION] == 2 * 422 + 11  # ntlm TSV + JSON, kerberos


@pytest.mark.corpus
def test_corpus_tsv_and_json_give_the_same_events():
    root = CORPUS / "logs" / "zeek" / "wrccdc-2018"
    for name in ("notice", "modbus", "ntlm", "ssh", "syslog"):
        from_tsv = read_file(root / "zeek-default" / f"{name}.log.gz")
        from_json = read_file(root / "zeek-json" / f"{name}.json.gz")
        assert [(e.time, e.class_uid, e.attrs) for e in from_tsv] == [(e.time, e.class_uid, e.attrs) for e in from_json]
