"""`linewatch crisis`: declare a drill, see status and roll call, confirm a site, export CAP and PDF."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from linewatch.cli import app
from linewatch.resilience import cap
from linewatch.resilience.models import Crisis

runner = CliRunner()


@pytest.mark.django_db
def test_declare_a_drill_then_status_rollcall_and_exports(people, tmp_path):
    result = runner.invoke(app, ["crisis", "declare", "--site", "alpha", "--type", "infrastructure", "--exercise",
                                 "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    crisis = Crisis.objects.get(uid=doc["uid"])
    assert crisis.exercise and doc["roll_calls"][0]["total"] == 3
    assert runner.invoke(app, ["crisis", "site-status", "alpha", "degraded", "--capacity", "30",
                               "--reason", "generator"]).exit_code == 0
    status = json.loads(runner.invoke(app, ["crisis", "status", "--json"]).stdout)
    assert status["status"][0]["state"] == "degraded" and status["status"][0]["capacity"] == 30
    roll = json.loads(runner.invoke(app, ["crisis", "rollcall", "--json"]).stdout)
    assert roll[0]["no_answer"] == 3 and {p["name"] for p in roll[0]["unaccounted"]} >= {"Anna Berg"}
    out = tmp_path / "sitrep.xml"
    assert runner.invoke(app, ["crisis", "export", "--format", "cap", "-o", str(out)]).exit_code == 0
    cap.validate_cap(out.read_bytes())
    pdf = tmp_path / "sitrep.pdf"
    assert runner.invoke(app, ["crisis", "export", "--format", "pdf", "-o", str(pdf)]).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.django_db
def test_bad_input_exits_2_with_the_place(people):
    result = runner.invoke(app, ["crisis", "declare", "--site", "nowhere", "--type", "cyber"])
    assert result.exit_code == 2 and "--site:nowhere: unknown site" in result.output
    result = runner.invoke(app, ["crisis", "declare", "--site", "alpha", "--type", "zombies"])
    assert result.exit_code == 2 and "--type:zombies" in result.output
    assert runner.invoke(app, ["crisis", "export", "--format", "cap"]).exit_code == 2  # no open crisis
