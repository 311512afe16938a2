"""Windows evtx JSON flattened to the field names SigmaHQ's Windows rules use."""

from __future__ import annotations

import json

from linewatch.detect.engine import flatten, iter_json_objects

SYSMON_RECORD = {
    "Event": {
        "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
        "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "5770385F-C22A"}},
            "EventID": 1,
            "Level": 4,
            "TimeCreated": {"#attributes": {"SystemTime": "2025-11-27T07:40:10.165324Z"}},
            "EventRecordID": 571146,
            "Correlation": None,
            "Execution": {"#attributes": {"ProcessID": 3544, "ThreadID": 4272}},
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Computer": "eng-ws-04",
            "Security": {"#attributes": {"UserID": "S-1-5-18"}},
        },
        "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe", "ProcessId": 4460, "RuleName": "-"},
    }
}


def test_system_fields_and_attributes_get_sigma_names():
    e = flatten(SYSMON_RECORD)
    assert e["EventID"] == 1 and e["Channel"] == "Microsoft-Windows-Sysmon/Operational"
    assert e["Provider_Name"] == "Microsoft-Windows-Sysmon"
    assert e["TimeCreated_SystemTime"] == "2025-11-27T07:40:10.165324Z"
    assert e["Execution_ProcessID"] == 3544 and e["Security_UserID"] == "S-1-5-18"
    assert e["Computer"] == "eng-ws-04"
    assert "Correlation" not in e  # null elements are absent, not None
    assert e["Image"] == "C:\\Windows\\System32\\cmd.exe" and e["ProcessId"] == 4460


def test_classic_event_ids_with_qualifiers_and_repeated_data():
    record = {
        "Event": {
            "System": {"EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045}, "Channel": "System"},
            "EventData": {"Data": {"#text": ["Available", "None", "\tHostApplication=powershell"]}},
        }
    }
    e = flatten(record)
    assert e["EventID"] == 7045 and e["EventID_Qualifiers"] == 16384
    assert e["Data"] == ("Available", "None", "\tHostApplication=powershell")


def test_user_data_fields_are_lifted_without_overwriting_system_fields():
    record = {
        "Event": {
            "System": {"EventID": 1102, "Channel": "Security"},
            "UserData": {
                "LogFileCleared": {
                    "#attributes": {"xmlns": "http://manifests.microsoft.com/win/2004/08/windows/eventlog"},
                    "SubjectUserName": "admin",
                    "Channel": "Security",
                }
            },
        }
    }
    e = flatten(record)
    assert e["SubjectUserName"] == "admin"
    assert e["Channel"] == "Security" and e["UserData_Channel"] == "Security"


def test_record_without_the_outer_event_key():
    assert flatten(SYSMON_RECORD["Event"])["Image"].endswith("cmd.exe")


def test_iter_json_objects_reads_concatenated_pretty_documents():
    text = json.dumps({"a": 1}, indent=2) + "\n" + json.dumps({"b": [1, 2]}, indent=4) + "\n\n" + '{"c": null}\n'
    assert list(iter_json_objects(text)) == [{"a": 1}, {"b": [1, 2]}, {"c": None}]
    assert list(iter_json_objects("  \n")) == []
