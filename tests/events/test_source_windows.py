"""Windows event logs: evtx_dump JSON, Winlogbeat and flat exports, binary EVTX (corpus)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from linewatch.errors import InputError
from linewatch.events.schema import EventClass
from linewatch.events.sources import Context, Record, get
from tests.conftest import CORPUS

SAMPLES = CORPUS / "logs" / "windows" / "evtx-attack-samples"
REGRESSION = CORPUS / "correlation" / "sigma-regression"


def read(source_name: str, data: bytes | Path, **options):
    source = get(source_name)
    context = Context(source_name=str(data) if isinstance(data, Path) else "test", options=options)
    events, errors = [], []
    stream = data.open("rb") if isinstance(data, Path) else io.BytesIO(data)
    with stream:
        for record in source.records(stream, context):
            try:
                events.extend(source.parse(record, context))
            except InputError as exc:
                errors.append(exc)
    return events, errors


def evtx_json(event_id: int, data: dict, *, channel: str = "Security", record_id: int = 4711,
              provider: str = "Microsoft-Windows-Security-Auditing", computer: str = "EWS-07.plant1.example") -> dict:
    return {"Event": {"#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"}, "System": {
        "Provider": {"#attributes": {"Name": provider, "Guid": "{54849625-5478-4994-A5BA-3E3B0328C30D}"}},
        "EventID": event_id, "Version": 2, "Level": 0, "Task": 12544, "Opcode": 0, "Keywords": "0x8010000000000000",
        "TimeCreated": {"#attributes": {"SystemTime": "2025-03-14T07:02:11.5318271Z"}}, "EventRecordID": record_id,
        "Correlation": None, "Execution": {"#attributes": {"ProcessID": 668, "ThreadID": 4120}}, "Channel": channel,
        "Computer": computer, "Security": None}, "EventData": data}}


FAILED_LOGON = {
    "SubjectUserSid": "S-1-0-0", "SubjectUserName": "-", "SubjectDomainName": "-", "SubjectLogonId": "0x0",
    "TargetUserSid": "S-1-0-0", "TargetUserName": "plc-vendor", "TargetDomainName": "PLANT1", "Status": "0xc000006d",
    "FailureReason": "%%2313", "SubStatus": "0xc000006a", "LogonType": 10, "LogonProcessName": "User32 ",
    "AuthenticationPackageName": "Negotiate", "WorkstationName": "JUMP-01", "TransmittedServices": "-",
    "LmPackageName": "-", "KeyLength": 0, "ProcessId": "0x1e4", "ProcessName": "C:\\Windows\\System32\\svchost.exe",
    "IpAddress": "10.20.0.15", "IpPort": "51544",
}


def test_failed_logon_maps_to_authentication_and_keeps_native_fields():
    line = json.dumps(evtx_json(4625, FAILED_LOGON)).encode()
    (event,), errors = read("windows-json", line)
    assert not errors
    assert event.class_uid == EventClass.AUTHENTICATION and event.activity_id == 1 and event.status_id == 2
    assert event.attrs["user.name"] == "plc-vendor" and event.attrs["user.domain"] == "PLANT1"
    assert event.attrs["src_endpoint.ip"] == "10.20.0.15" and event.attrs["src_endpoint.port"] == 51544
    assert event.attrs["logon_type"] == "RemoteInteractive" and event.attrs["logon_type_id"] == 10
    assert event.attrs["is_remote"] is True
    assert event.attrs["status"] == "Failure" and event.attrs["status_code"] == "0xc000006a"
    assert event.attrs["status_detail"] == "wrong password"
    assert event.attrs["dst_endpoint.hostname"] == "EWS-07.plant1.example"
    assert "actor.user.name" not in event.attrs  # "-" is Windows for nothing
    assert event.time == 1741935731531
    # every native field under its native name, for SigmaHQ rules
    assert event.unmapped["EventID"] == 4625 and event.unmapped["Channel"] == "Security"
    assert event.unmapped["Computer"] == "EWS-07.plant1.example"
    assert event.unmapped["Provider_Name"] == "Microsoft-Windows-Security-Auditing"
    assert event.unmapped["TargetUserName"] == "plc-vendor" and event.unmapped["LogonType"] == 10
    assert event.unmapped["Execution_ProcessID"] == 668 and event.unmapped["EventRecordID"] == 4711


def test_sysmon_process_creation():
    data = {"RuleName": "-", "UtcTime": "2025-03-14 07:02:11.530",
            "ProcessGuid": "{5770385F-AB12-67D3-2A01-000000000A00}", "ProcessId": 7312,
            "Image": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            "CommandLine": "powershell.exe -nop -w hidden -enc SQBFAFgA", "CurrentDirectory": "C:\\Users\\op\\",
            "User": "PLANT1\\operator3", "LogonId": "0x3e2f1", "IntegrityLevel": "Medium",
            "Hashes": "SHA256=0F3E…", "ParentProcessId": 5120, "ParentImage": "C:\\Program Files\\HMI\\hmi.exe",
            "ParentCommandLine": "\"C:\\Program Files\\HMI\\hmi.exe\" /kiosk", "ParentUser": "PLANT1\\operator3"}
    record = evtx_json(1, data, channel="Microsoft-Windows-Sysmon/Operational", provider="Microsoft-Windows-Sysmon")
    (event,), _ = read("windows-json", json.dumps(record).encode())
    assert event.class_uid == EventClass.PROCESS_ACTIVITY and event.activity_id == 1
    assert event.attrs["process.cmd_line"] == "powershell.exe -nop -w hidden -enc SQBFAFgA"
    assert event.attrs["process.file.path"].endswith("powershell.exe")
    assert event.attrs["process.file.name"] == "powershell.exe"
    assert event.attrs["process.parent_process.file.path"] == "C:\\Program Files\\HMI\\hmi.exe"
    assert event.attrs["actor.user.name"] == "operator3" and event.attrs["actor.user.domain"] == "PLANT1"
    assert event.unmapped["Image"] == data["Image"] and event.unmapped["CommandLine"] == data["CommandLine"]
    assert event.unmapped["EventID"] == 1 and event.unmapped["Channel"] == "Microsoft-Windows-Sysmon/Operational"


@pytest.mark.parametrize(("event_id", "data", "klass", "activity"), [
    (4720, {"TargetUserName": "svc-backdoor", "TargetDomainName": "PLANT1", "SubjectUserName": "admin"},
     EventClass.ACCOUNT_CHANGE, 1),
    (4725, {"TargetUserName": "j.doe", "SubjectUserName": "admin"}, EventClass.ACCOUNT_CHANGE, 5),
    (4697, {"ServiceName": "PSEXESVC", "ServiceFileName": "%SystemRoot%\\PSEXESVC.exe", "SubjectUserName": "admin"},
     EventClass.APPLICATION_LIFECYCLE, 1),
    (4768, {"TargetUserName": "j.doe", "Status": "0x18", "IpAddress": "::ffff:10.0.0.9"}, EventClass.AUTHENTICATION, 3),
    (4776, {"TargetUserName": "j.doe", "Workstation": "HMI-3", "Status": "0x0"}, EventClass.AUTHENTICATION, 1),
    (5145, {"ShareName": "\\\\*\\ADMIN$"}, EventClass.EVENT_LOG_ACTIVITY, 99),
])
def test_security_event_classes(event_id, data, klass, activity):
    (event,), _ = read("windows-json", json.dumps(evtx_json(event_id, data)).encode())
    assert (event.class_uid, event.activity_id) == (klass, activity)
    for key, value in data.items():
        assert event.unmapped[key] == value
    if event_id == 4768:
        assert event.status_id == 2 and event.attrs["src_endpoint.ip"] == "10.0.0.9"
        assert event.attrs["status_detail"] == "pre-authentication failed (wrong password)"
    if event_id == 4697:
        assert event.attrs["app.name"] == "PSEXESVC" and event.attrs["actor.user.name"] == "admin"


def test_log_cleared_and_service_install_from_system_log():
    cleared = evtx_json(104, None, channel="System", provider="Microsoft-Windows-Eventlog")
    del cleared["Event"]["EventData"]
    cleared["Event"]["UserData"] = {"LogFileCleared": {"#attributes": {"xmlns": "…"}, "SubjectUserName": "op",
                                                       "SubjectDomainName": "PLANT1", "Channel": "System",
                                                       "BackupPath": ""}}
    service = evtx_json(7045, {"ServiceName": "updater", "ImagePath": "C:\\Users\\Public\\u.exe",
                               "ServiceType": "user mode service", "StartType": "auto start",
                               "AccountName": "LocalSystem"}, channel="System", provider="Service Control Manager")
    service["Event"]["System"]["EventID"] = {"#attributes": {"Qualifiers": 16384}, "#text": 7045}
    lines = b"\n".join(json.dumps(r).encode() for r in (cleared, service))
    (log, svc), errors = read("windows-json", lines)
    assert not errors
    assert log.class_uid == EventClass.EVENT_LOG_ACTIVITY and log.activity_id == 1
    assert log.attrs["log_name"] == "System" and log.attrs["actor.user.name"] == "op"
    assert log.unmapped["UserData_Channel"] == "System" and log.unmapped["SubjectUserName"] == "op"
    assert svc.class_uid == EventClass.APPLICATION_LIFECYCLE and svc.attrs["app.path"] == "C:\\Users\\Public\\u.exe"
    assert svc.unmapped["EventID"] == 7045 and svc.unmapped["EventID_Qualifiers"] == 16384


def test_winlogbeat_and_flat_exports():
    beat = {"@timestamp": "2025-03-14T07:02:11.531Z", "message": "An account failed to log on.",
            "event": {"code": "4625", "provider": "Microsoft-Windows-Security-Auditing", "outcome": "failure"},
            "host": {"name": "ews-07"}, "log": {"level": "information"},
            "winlog": {"channel": "Security", "event_id": "4625", "record_id": 4711, "computer_name": "EWS-07",
                       "provider_name": "Microsoft-Windows-Security-Auditing", "event_data": FAILED_LOGON,
                       "process": {"pid": 668, "thread": {"id": 4120}}, "task": "Logon"}}
    flat = {"EventTime": "2025-03-14 07:02:11", "Hostname": "EWS-07", "EventID": 4625, "Channel": "Security",
            "SourceName": "Microsoft-Windows-Security-Auditing", "RecordNumber": 4712, **FAILED_LOGON}
    (a, b), errors = read("windows-json", json.dumps(beat).encode() + b"\n" + json.dumps(flat).encode())
    assert not errors
    for event in (a, b):
        assert event.class_uid == EventClass.AUTHENTICATION and event.status_id == 2
        assert event.attrs["user.name"] == "plc-vendor" and event.unmapped["EventID"] == 4625
        assert event.unmapped["Computer"] == "EWS-07" and event.unmapped["TargetUserName"] == "plc-vendor"
    assert a.message == "An account failed to log on." and a.unmapped["host.name"] == "ews-07"
    assert a.unmapped["Execution_ProcessID"] == 668
    assert b.time == 1741935731000


def test_pretty_concatenated_documents_and_record_headers():
    records = [evtx_json(4624, {"TargetUserName": "a", "LogonType": 2}, record_id=1),
               evtx_json(4634, {"TargetUserName": "a", "LogonType": 2}, record_id=2)]
    text = "Record 1\n" + json.dumps(records[0], indent=2) + "\nRecord 2\n" + json.dumps(records[1], indent=2) + "\n"
    events, errors = read("windows-json", text.encode())
    assert not errors and [e.activity_id for e in events] == [1, 2]
    broken = json.dumps(records[0], indent=2) + "\n" + json.dumps(records[1], indent=2)[:-40] + "\n"
    events, errors = read("windows-json", broken.encode())
    assert len(events) == 1 and len(errors) == 1 and errors[0].place.startswith("line ")


def test_broken_records_name_their_place():
    good = json.dumps(evtx_json(4624, {"TargetUserName": "a"}))
    lines = "\n".join([good, good[:120], json.dumps({"hello": "world"}),
                       json.dumps({"Event": {"System": {"Channel": "Security"}}}), good]).encode()
    events, errors = read("windows-json", lines)
    assert len(events) == 2
    assert [e.place for e in errors] == ["line 2", "line 3", "line 4"]
    assert "invalid JSON" in errors[0].message
    assert "not a Windows event" in errors[1].message
    assert "EventID is missing" in errors[2].message


def test_same_uid_from_evtx_json_and_winlogbeat():
    (a,), _ = read("windows-json", json.dumps(evtx_json(4625, FAILED_LOGON, computer="EWS-07")).encode())
    beat = {"@timestamp": "2025-03-14T07:02:11.531Z", "winlog": {
        "channel": "Security", "event_id": 4625, "record_id": "4711", "computer_name": "EWS-07",
        "provider_name": "Microsoft-Windows-Security-Auditing", "event_data": FAILED_LOGON}}
    (b,), _ = read("windows-json", json.dumps(beat).encode())
    assert a.uid == b.uid


def test_evtx_rejects_a_file_that_is_not_evtx():
    source = get("evtx")
    with pytest.raises(InputError) as info:
        list(source.records(io.BytesIO(b"not an event log" * 100), Context(source_name="x.evtx")))
    assert info.value.place == "byte 0" and "EVTX" in info.value.message


def test_evtx_error_record_is_reported():
    source = get("evtx")
    context = Context(source_name="x.evtx")
    from linewatch.events.sources.windows import _Broken

    with pytest.raises(InputError) as info:
        source.parse(Record("record 3", _Broken("undecodable EVTX record: bad token")), context)
    assert str(info.value) == "x.evtx:record 3: undecodable EVTX record: bad token"


# ---------------------------------------------------------------------------- corpus (GPL test data, read in place)


def _pairs():
    return sorted(SAMPLES.glob("**/*.evtx")) if SAMPLES.is_dir() else []


@pytest.mark.corpus
def test_corpus_evtx_and_jsonl_twins_agree():
    pairs = _pairs()
    assert len(pairs) >= 20
    total = 0
    for path in pairs:
        binary, errors_a = read("evtx", path)
        text, errors_b = read("windows-json", Path(str(path) + ".jsonl"))
        assert not errors_a and not errors_b, (path, errors_a[:1], errors_b[:1])
        assert [(e.uid, e.class_uid, e.activity_id) for e in binary] == \
            [(e.uid, e.class_uid, e.activity_id) for e in text], path
        assert len({e.uid for e in binary}) == len(binary)
        total += len(binary)
    assert total == 2847


@pytest.mark.corpus
def test_corpus_real_values():
    events, errors = read("evtx", SAMPLES / "Credential Access" / "CA_4624_4625_LogonType2_LogonProc_chrome.evtx")
    assert not errors
    failed = [e for e in events if e.unmapped["EventID"] == 4625]
    assert len(failed) == 1
    assert failed[0].attrs["user.name"] == "IEUser" and failed[0].attrs["status_detail"] == "wrong password"
    assert failed[0].attrs["logon_process.name"] == "Chrome"

    events, _ = read("windows-json", SAMPLES / "Lateral Movement" / "LM_sysmon_psexec_smb_meterpreter.evtx.jsonl")
    launches = [e for e in events if e.class_uid == EventClass.PROCESS_ACTIVITY]
    assert launches and launches[0].attrs["process.cmd_line"].startswith(
        "C:\\Windows\\system32\\cmd.exe /b /c start /b /min powershell.exe -nop -w hidden")
    assert launches[0].attrs["process.parent_process.file.path"] == "C:\\Windows\\System32\\services.exe"
    assert launches[0].attrs["actor.user.name"] == "SYSTEM"
    assert launches[0].unmapped["Image"] == "C:\\Windows\\System32\\cmd.exe"

    events, _ = read("evtx", SAMPLES / "Credential Access" / "kerberos_pwd_spray_4771.evtx")
    spray = [e for e in events if e.unmapped["EventID"] == 4771]
    assert spray and all(e.status_id == 2 and e.attrs["src_endpoint.ip"] == "172.16.66.1" for e in spray)

    events, _ = read("evtx", SAMPLES / "Defense Evasion" / "DE_1102_security_log_cleared.evtx")
    cleared = [e for e in events if e.unmapped["EventID"] == 1102]
    assert cleared and cleared[0].class_uid == EventClass.EVENT_LOG_ACTIVITY and cleared[0].activity_id == 1
    assert cleared[0].attrs["actor.user.name"] == "user01"

    events, _ = read("evtx", SAMPLES / "Credential Access" / "MSSQL_multiple_failed_logon_EventID_18456.evtx")
    assert any(e.attrs.get("user.name") == "sa" and e.attrs.get("src_endpoint.ip") == "10.0.2.17" for e in events)


@pytest.mark.corpus
def test_corpus_sigma_regression_pretty_json_matches_evtx():
    cases = sorted(REGRESSION.glob("**/*.json"))
    assert len(cases) >= 150
    for case in cases:
        text, errors_a = read("windows-json", case)
        binary, errors_b = read("evtx", case.with_suffix(".evtx"))
        assert not errors_a and not errors_b, case
        assert sorted(e.uid for e in text) == sorted(e.uid for e in binary), case
