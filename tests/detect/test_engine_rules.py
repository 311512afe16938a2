"""Loading: every rule is loaded or reported with its file and reason; filters and correlations kept."""

from __future__ import annotations

from pathlib import Path

from linewatch.detect.engine import RuleSet

from .engine_helpers import SYSMON, process, rule_yaml

GOOD = rule_yaml("selection:\n  Image|endswith: '\\whoami.exe'\ncondition: selection", title="Whoami")


def reasons(ruleset: RuleSet) -> list[str]:
    return [e.reason for e in ruleset.errors]


def test_match_carries_rule_id_title_level_and_tags():
    ruleset = RuleSet.from_yaml(GOOD)
    (m,) = ruleset.match(process(Image=r"C:\Windows\System32\whoami.exe"))
    assert (m.rule_id, m.title, m.level, m.tags) == (
        "00000000-0000-4000-8000-000000000001",
        "Whoami",
        "high",
        ("attack.execution",),
    )
    assert m.source == "yaml[0]"


def test_broken_yaml_is_reported_with_its_source_and_other_files_still_load():
    ruleset = RuleSet.from_yaml([GOOD, "title: [unclosed\n"])
    assert len(ruleset.rules) == 1
    (error,) = ruleset.errors
    assert error.source == "yaml[1]" and error.reason


def test_unknown_modifier_and_undefined_identifier_are_reported_per_rule():
    bad_modifier = rule_yaml("sel:\n  Image|sounds_like: 'x'\ncondition: sel", title="Bad modifier")
    bad_condition = rule_yaml("sel:\n  Image: 'x'\ncondition: sel and other", title="Bad condition")
    ruleset = RuleSet.from_yaml([bad_modifier, bad_condition, GOOD])
    assert [r.title for r in ruleset.rules] == ["Whoami"]
    by_title = {e.title: e.reason for e in ruleset.errors}
    assert "sounds_like" in by_title["Bad modifier"]
    assert "other" in by_title["Bad condition"]


def test_missing_placeholder_is_reported_not_guessed():
    rule = rule_yaml("sel:\n  User|expand: '%plant_admins%'\ncondition: sel", title="Admins")
    ruleset = RuleSet.from_yaml(rule)
    assert ruleset.rules == []
    assert reasons(ruleset) == ["placeholder %plant_admins% has no site value"]
    ruleset = RuleSet.from_yaml(rule, placeholders={"other": ["x"]})
    assert reasons(ruleset) == ["placeholder %plant_admins% has no site value"]


def test_from_paths_reads_folders_and_names_files_in_errors(tmp_path: Path):
    (tmp_path / "windows").mkdir()
    (tmp_path / "windows" / "good.yml").write_text(GOOD)
    (tmp_path / "windows" / "broken.yml").write_text("title: x\nlogsource: {}\ndetection: {}\n")
    (tmp_path / "notes.txt").write_text("not a rule")
    ruleset = RuleSet.from_paths([tmp_path])
    assert [r.title for r in ruleset.rules] == ["Whoami"]
    assert ruleset.errors and all(e.source.endswith("broken.yml") for e in ruleset.errors)
    assert "broken.yml" in str(ruleset.errors[0])


def test_unreadable_and_missing_paths_are_reported(tmp_path: Path):
    (tmp_path / "latin1.yml").write_bytes("title: caf\xe9\n".encode("latin-1"))
    ruleset = RuleSet.from_paths([tmp_path / "latin1.yml", tmp_path / "missing.yml"])
    assert [Path(e.source).name for e in ruleset.errors] == ["latin1.yml", "missing.yml"]
    assert ruleset.rules == []


def test_correlation_rules_are_parsed_kept_and_resolved_against_loaded_rules():
    base = rule_yaml(
        "sel:\n  EventID: 4625\ncondition: sel",
        logsource="product: windows\n    service: security",
        title="Failed logon",
    ).replace("title: Failed logon", "title: Failed logon\nname: failed_logon")
    correlation = (
        "title: Many failed logons\nid: 0e95725d-7320-415d-80f7-004da920fc11\ncorrelation:\n  type: event_count\n"
        "  rules:\n    - failed_logon\n  group-by:\n    - TargetUserName\n  timespan: 10m\n  condition:\n    gte: 5\n"
    )
    ruleset = RuleSet.from_yaml(base + "---\n" + correlation)
    assert not ruleset.errors
    (corr,) = ruleset.correlations
    assert corr.title == "Many failed logons"
    assert corr.rules[0].rule is ruleset.rules[0].sigma  # reference resolved to the loaded rule
    assert [m.title for m in ruleset.match({"Channel": "Security", "EventID": 4625})] == ["Failed logon"]


def test_a_correlation_with_unknown_references_is_kept_and_reported():
    correlation = (
        "title: Orphan\ncorrelation:\n  type: temporal\n  rules:\n    - nowhere_a\n    - nowhere_b\n"
        "  group-by:\n    - User\n  timespan: 5m\n"
    )
    ruleset = RuleSet.from_yaml(correlation)
    assert [c.title for c in ruleset.correlations] == ["Orphan"]
    assert [e.title for e in ruleset.errors] == ["Orphan"]


FILTER = """
title: Helpdesk may run whoami
logsource:
    category: process_creation
    product: windows
filter:
    rules:
        - 00000000-0000-4000-8000-000000000001
    selection:
        User|startswith: 'PLANT\\helpdesk'
    condition: not selection
"""


def test_filters_suppress_matches_of_the_rules_they_name():
    ruleset = RuleSet.from_yaml([GOOD, FILTER])
    assert [f.title for f in ruleset.filters] == ["Helpdesk may run whoami"]
    assert ruleset.rules[0].filters
    whoami = {"Image": r"C:\Windows\System32\whoami.exe"}
    assert ruleset.match(process(User="PLANT\\helpdesk-02", **whoami)) == []
    assert [m.title for m in ruleset.match(process(User="PLANT\\op1", **whoami))] == ["Whoami"]


def test_filters_do_not_touch_other_rules_or_log_sources():
    other = rule_yaml(
        "sel:\n  Image|endswith: '\\net.exe'\ncondition: sel", title="Net", id="00000000-0000-4000-8000-000000000002"
    )
    ruleset = RuleSet.from_yaml([GOOD, other, FILTER.replace("category: process_creation", "category: image_load")])
    assert not ruleset.errors and len(ruleset.rules) == 2
    assert all(not r.filters for r in ruleset.rules)
    ruleset = RuleSet.from_yaml([GOOD, other, FILTER])
    assert [m.title for m in ruleset.match(process(User="PLANT\\helpdesk", Image=r"C:\net.exe"))] == ["Net"]


def test_filter_for_any_rule_of_a_log_source():
    any_filter = FILTER.replace("rules:\n        - 00000000-0000-4000-8000-000000000001", "rules: any")
    other = rule_yaml(
        "sel:\n  Image|endswith: '\\net.exe'\ncondition: sel", title="Net", id="00000000-0000-4000-8000-000000000002"
    )
    ruleset = RuleSet.from_yaml([GOOD, other, any_filter])
    assert ruleset.match(process(User="PLANT\\helpdesk", Image=r"C:\net.exe")) == []
    assert ruleset.match({"Channel": SYSMON, "EventID": 1, "User": "PLANT\\helpdesk", "Image": r"C:\whoami.exe"}) == []


def test_match_many_returns_one_list_per_event():
    ruleset = RuleSet.from_yaml(GOOD)
    results = ruleset.match_many([process(Image=r"C:\whoami.exe"), process(Image=r"C:\calc.exe"), {}])
    assert [[m.title for m in r] for r in results] == [["Whoami"], [], []]
