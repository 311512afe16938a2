"""The transform hook: Sigma field names mapped to the keys of the events we evaluate."""

from __future__ import annotations

from linewatch.detect.engine import LogsourceRow, Router, RuleSet, mapping

from .engine_helpers import rule_yaml

# Events shaped like OCSF process activity, routed by class_uid.
OCSF_ROUTER = Router(
    [LogsourceRow("windows", "process_creation", None, {"class_uid": ("1007",)})],
    key_fields=("class_uid",),
)
RULE = rule_yaml(
    "selection:\n  Image|endswith: '\\certutil.exe'\n  CommandLine|contains: 'urlcache'\ncondition: selection",
    title="Certutil download",
)


def ocsf_event(path: str, cmd: str) -> dict:
    return {"class_uid": 1007, "process.file.path": path, "process.cmd_line": cmd}


def test_rules_written_with_sigma_names_read_mapped_event_keys():
    to_ocsf = mapping({"Image": "process.file.path", "CommandLine": "process.cmd_line"})
    ruleset = RuleSet.from_yaml(RULE, field_mapping=to_ocsf, router=OCSF_ROUTER)
    assert [m.title for m in ruleset.match(ocsf_event(r"C:\Windows\certutil.exe", "-urlcache -f http://x"))] == [
        "Certutil download"
    ]
    assert ruleset.match(ocsf_event(r"C:\Windows\certutil.exe", "-decode a b")) == []


def test_one_field_may_map_to_several_keys():
    to_ocsf = mapping({"Image": ["process.file.path", "actor.process.file.path"], "CommandLine": "process.cmd_line"})
    ruleset = RuleSet.from_yaml(RULE, field_mapping=to_ocsf, router=OCSF_ROUTER)
    event = {"class_uid": 1007, "actor.process.file.path": r"C:\certutil.exe", "process.cmd_line": "-urlcache"}
    assert len(ruleset.match(event)) == 1


def test_a_strict_mapping_reports_rules_using_unmapped_fields():
    strict = mapping({"Image": "process.file.path"}, passthrough=False)
    ruleset = RuleSet.from_yaml(RULE, field_mapping=strict, router=OCSF_ROUTER)
    assert ruleset.rules == []
    assert [e.reason for e in ruleset.errors] == ["field 'CommandLine' has no mapping for these events"]
