"""Routing: a rule's log source decides which events it sees, and with which field names."""

from __future__ import annotations

from linewatch.detect.engine import LogsourceRow, Router, RuleSet, windows_router
from linewatch.detect.engine.logsource import rule_takes_row

from .engine_helpers import SYSMON, fires, one_rule, process

SECURITY = "Security"


def categories(channel: str, event_id: int, event_type: str | None = None) -> set[tuple]:
    router = windows_router()
    route = router.route(router.key({"Channel": channel, "EventID": event_id, "EventType": event_type}))
    return {row.triple for row in route.rows}


def test_sysmon_and_security_events_map_to_their_categories():
    assert ("windows", "process_creation", "sysmon") in categories(SYSMON, 1)
    assert ("windows", None, "sysmon") in categories(SYSMON, 1)
    assert ("windows", "process_creation", "security") in categories(SECURITY, 4688)
    assert categories(SECURITY, 4624) == {("windows", None, "security")}
    assert ("windows", "image_load", "sysmon") in categories(SYSMON, 7)
    assert ("windows", "ps_script", "powershell") in categories("Microsoft-Windows-PowerShell/Operational", 4104)


def test_sysmon_12_splits_on_event_type():
    assert ("windows", "registry_add", "sysmon") in categories(SYSMON, 12, "CreateKey")
    assert ("windows", "registry_delete", "sysmon") in categories(SYSMON, 12, "DeleteValue")
    assert ("windows", "registry_add", "sysmon") not in categories(SYSMON, 12, "DeleteValue")
    assert ("windows", "registry_event", "sysmon") in categories(SYSMON, 12, "DeleteValue")


def test_channel_matching_is_case_insensitive_and_unknown_channels_route_nowhere():
    assert ("windows", None, "security") in categories("SECURITY", 4625)
    assert categories("Some-Vendor/Operational", 1) == set()


def test_a_process_creation_rule_reads_security_4688_through_the_aliases():
    ruleset = one_rule("selection:\n  Image|endswith: '\\whoami.exe'\ncondition: selection")
    assert fires(ruleset, process(Image=r"C:\Windows\System32\whoami.exe"))
    assert fires(ruleset, {"Channel": SECURITY, "EventID": 4688, "NewProcessName": r"C:\Windows\whoami.exe"})
    assert not fires(ruleset, {"Channel": SECURITY, "EventID": 4624, "NewProcessName": r"C:\Windows\whoami.exe"})


def test_a_security_log_rule_is_not_renamed_and_only_sees_its_event_ids():
    ruleset = one_rule(
        "selection:\n  EventID: 4625\n  TargetUserName: 'admin'\ncondition: selection",
        logsource="product: windows\n    service: security",
    )
    assert fires(ruleset, {"Channel": SECURITY, "EventID": 4625, "TargetUserName": "Admin"})
    assert not fires(ruleset, {"Channel": SECURITY, "EventID": 4624, "TargetUserName": "Admin"})
    assert not fires(ruleset, {"Channel": "System", "EventID": 4625, "TargetUserName": "Admin"})
    bucket = ruleset.bucket({"Channel": SECURITY, "EventID": 4624})
    assert bucket.compiled == ()  # pruned by EventID before any evaluation


def test_rules_for_other_products_are_listed_as_unrouted_not_dropped():
    ruleset = RuleSet.from_yaml(
        "title: ssh\nlogsource:\n  product: linux\n  service: sshd\ndetection:\n  k:\n    - 'Failed password'\n"
        "  condition: k\n"
    )
    assert len(ruleset.rules) == 1 and [r.title for r in ruleset.unrouted] == ["ssh"]
    assert ruleset.match({"Channel": SECURITY, "EventID": 4625, "msg": "Failed password"}) == []


def test_rule_to_row_matching_requires_equal_category():
    row = LogsourceRow("windows", "process_creation", "security", {"Channel": ("security",)})
    assert rule_takes_row(("windows", "process_creation", None), row)
    assert rule_takes_row((None, "process_creation", None), row)
    assert not rule_takes_row(("windows", None, "security"), row)  # a service rule takes service rows only
    assert not rule_takes_row(("linux", "process_creation", None), row)


def test_a_custom_router_for_non_windows_sources():
    router = Router(
        [LogsourceRow("zeek", None, "modbus", {"_path": ("modbus",)})],
        key_fields=("_path",),
    )
    ruleset = RuleSet.from_yaml(
        "title: modbus write\nlogsource:\n  product: zeek\n  service: modbus\ndetection:\n  sel:\n"
        "    func|startswith: 'WRITE_'\n  condition: sel\n",
        router=router,
    )
    assert [m.title for m in ruleset.match({"_path": "modbus", "func": "WRITE_SINGLE_REGISTER"})] == ["modbus write"]
    assert ruleset.match({"_path": "conn", "func": "WRITE_SINGLE_REGISTER"}) == []
