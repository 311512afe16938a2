"""`linewatch ingest` as users run it: progress, per-record errors, a summary, idempotence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "logs"


@pytest.fixture
def env(tmp_path):
    environ = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PYTEST_VERSION"}}
    environ["LINEWATCH_DATA"] = str(tmp_path / "data")
    return environ


def ingest(env, *args):
    return subprocess.run([sys.executable, "-m", "linewatch.cli", "ingest", *args], env=env, capture_output=True,
                          text=True, timeout=300)


def test_ingest_twice_stores_once(env):
    sample = str(DATA / "suricata" / "eve-synthetic.jsonl")
    first = ingest(env, "--source", "suricata", "--site", "kolding", sample, "--json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["events"] > 5 and summary["stored"] == summary["events"] and summary["rejected"] == 0
    again = json.loads(ingest(env, "--source", "suricata", sample, "--json").stdout)
    assert again["stored"] == 0 and again["duplicates"] == summary["events"]


def test_bad_records_are_named_and_the_rest_is_stored(env, tmp_path):
    good = (DATA / "syslog" / "samples.log").read_text().splitlines()[:3]
    mixed = tmp_path / "mixed.log"
    mixed.write_text("\n".join([good[0], "<999>not a syslog line at all", good[1], good[2]]) + "\n")
    result = ingest(env, "--source", "syslog5424", str(mixed), "--json")
    assert result.returncode == 2
    summary = json.loads(result.stdout)
    assert summary["files"][0]["errors"][0]["place"].startswith("line 2")
    assert summary["rejected"] >= 1 and summary["stored"] >= 1
    human = ingest(env, "--source", "syslog5424", str(mixed))
    assert "line 2" in human.stderr and "Traceback" not in human.stderr


def test_unknown_source_and_missing_file_exit_2(env, tmp_path):
    unknown = ingest(env, "--source", "nope", str(tmp_path / "x.log"))
    assert unknown.returncode == 2 and "unknown source" in unknown.stderr
    missing = ingest(env, "--source", "suricata", str(tmp_path / "absent.json"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
