"""Small builders shared by the engine tests: one-rule rule sets and Windows-shaped events."""

from __future__ import annotations

import textwrap
from typing import Any

from linewatch.detect.engine import RuleSet

SYSMON = "Microsoft-Windows-Sysmon/Operational"
MODES = {"engine": {}, "routing-only": {"prefilter": False}, "naive": {"routing": False, "prefilter": False}}


def rule_yaml(detection: str, logsource: str = "category: process_creation\n    product: windows", **extra: str) -> str:
    """A complete Sigma rule around a `detection:` body (written as it appears under `detection:`)."""
    body = textwrap.indent(textwrap.dedent(detection).strip(), "    ")
    lines = [
        f"title: {extra.get('title', 'Test rule')}",
        f"id: {extra.get('id', '00000000-0000-4000-8000-000000000001')}",
        "status: test",
        "level: high",
        "tags:\n    - attack.execution",
        f"logsource:\n    {logsource}",
        f"detection:\n{body}",
    ]
    return "\n".join(lines) + "\n"


def process(**fields: Any) -> dict[str, Any]:
    """A flattened Sysmon process-creation event (EventID 1) with the given EventData fields."""
    return {"Channel": SYSMON, "EventID": 1, "Computer": "hmi-01", **fields}


def one_rule(detection: str, mode: str = "engine", **kwargs: Any) -> RuleSet:
    placeholders = kwargs.pop("placeholders", None)
    ruleset = RuleSet.from_yaml(rule_yaml(detection, **kwargs), placeholders=placeholders, **MODES[mode])
    assert not ruleset.errors, [str(e) for e in ruleset.errors]
    assert len(ruleset.rules) == 1
    return ruleset


def fires(ruleset: RuleSet, event: dict[str, Any]) -> bool:
    return bool(ruleset.match(event))
