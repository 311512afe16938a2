"""`feeds import` and `vulns` command functions: tables, --json, exit codes, incremental import."""

import json
import shutil

import pytest
import typer
from typer.testing import CliRunner

from linewatch.vulns.cli import feeds_app, vulns_match

# Wired as linewatch.cli will wire it.
app = typer.Typer()
app.add_typer(feeds_app, name="feeds")
app.command("vulns")(vulns_match)

FEEDS = ("nvd_CVE-2021-36260_synthetic.json", "kev_small.json", "kev_small.csv", "csaf_small.json", "epss_small.csv")


@pytest.fixture
def runner():
    return CliRunner()


def test_import_then_reimport_reports_no_new_records(runner, tmp_path, data):
    args = ["feeds", "import", *[str(data / f) for f in FEEDS], "--store", str(tmp_path), "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    doc = json.loads(first.stdout)
    assert doc["ok"] and doc["cves"] == 3 and doc["added"] == 3
    second = json.loads(runner.invoke(app, args).stdout)
    assert second["added"] == 0 and second["updated"] == 0 and second["cves"] == 3


def test_folders_are_searched_and_non_feed_files_skipped(runner, tmp_path, data):
    result = runner.invoke(app, ["feeds", "import", str(data), "--store", str(tmp_path / "s"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert any(s["file"].endswith("devices.csv") for s in doc["skipped"])


def test_a_broken_file_exits_2_naming_it_and_the_rest_is_stored(runner, tmp_path, data):
    bad = tmp_path / "bad.json"
    bad.write_text('{"vulnerabilities": [')
    result = runner.invoke(app, ["feeds", "import", str(bad), str(data / "kev_small.json"),
                                 "--store", str(tmp_path / "s"), "--json"])
    assert result.exit_code == 2
    assert "bad.json" in result.stdout and '"line 1 column' in result.stdout
    lines = (tmp_path / "s" / "vulns.jsonl").read_text().splitlines()
    assert [ln.split(",")[0] for ln in lines] == ['{"cve":"CVE-2019-6693"', '{"cve":"CVE-2021-36260"']


def test_vulns_ranks_the_demo_camera_first_with_evidence(runner, tmp_path, data):
    runner.invoke(app, ["feeds", "import", *[str(data / f) for f in FEEDS], "--store", str(tmp_path)])
    result = runner.invoke(app, ["vulns", str(data / "devices.csv"), "--store", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    top = doc["findings"][0]
    assert top["cve"] == "CVE-2021-36260" and top["device"]["name"] == "gate-camera-1"
    assert top["confidence"] == "confirmed" and top["risk"]["kev"] and top["evidence"]
    table = runner.invoke(app, ["vulns", str(data / "devices.csv"), "--store", str(tmp_path)])
    assert table.exit_code == 0 and "CVE-2021-36260" in table.stdout


def test_vulns_input_errors(runner, tmp_path, data):
    result = runner.invoke(app, ["vulns", str(data / "devices.csv"), "--store", str(tmp_path / "none")])
    assert result.exit_code == 2
    shutil.copy(data / "kev_small.json", tmp_path / "k.json")
    runner.invoke(app, ["feeds", "import", str(tmp_path / "k.json"), "--store", str(tmp_path)])
    bad = tmp_path / "devices.csv"
    bad.write_text("vendor,model\nHikvision,DS-2CD2142FWD-I\n")
    result = runner.invoke(app, ["vulns", str(bad), "--store", str(tmp_path), "--json"])
    assert result.exit_code == 2 and "firmware" in result.stdout
    result = runner.invoke(app, ["vulns", str(data / "devices.csv"), "--store", str(tmp_path),
                                 "--min-confidence", "maybe"])
    assert result.exit_code == 2
