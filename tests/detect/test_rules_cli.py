"""`linewatch rules test` shows which rules fire on which events; `rules list` lists the pack."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from linewatch.detect.sigma import PACK


def run(tmp_path, *args):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PYTEST_VERSION"}}
    env["LINEWATCH_DATA"] = str(tmp_path / "data")
    return subprocess.run([sys.executable, "-m", "linewatch.cli", "rules", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_rules_test_reports_detections_and_bad_lines(tmp_path):
    events = tmp_path / "events.ndjson"
    events.write_text("\n".join([
        json.dumps({"uid": "e1", "time": 1780000000000, "class_uid": 99031001, "activity_id": 4,
                    "attrs": {"dst_endpoint.ip": "10.9.9.9"}}),
        "{broken",
        json.dumps({"uid": "e2", "time": 1780000001000, "class_uid": 99030001, "activity_id": 1, "attrs": {}}),
    ]) + "\n")
    result = run(tmp_path, "test", str(PACK), "--events", str(events), "--no-enrich", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["events"] == 2
    assert sorted((d["title"], d["events"]) for d in doc["detections"]) == [
        ("Controller firmware changed", [1]),
        ("Controller write from a device outside the OT zones", [1]),  # from an address no OT asset has
    ]
    assert doc["problems"][0]["place"] == "line 2"


def test_rules_list(tmp_path):
    rows = json.loads(run(tmp_path, "list", "--json").stdout)
    titles = {r["title"] for r in rows}
    assert "Controller program download" in titles
    assert "Badge denials, then a remote logon by the same person" in titles


def test_alerts_list_prints_findings(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PYTEST_VERSION"}}
    env["LINEWATCH_DATA"] = str(tmp_path / "data")
    result = subprocess.run([sys.executable, "-m", "linewatch.cli", "alerts", "list", "--json"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
