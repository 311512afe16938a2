"""`feeds import` and `vulns` command functions over the database: tables, --json, exit codes, incremental import."""

import json

import pytest
import typer
from typer.testing import CliRunner

from linewatch.vulns.cli import feeds_app, vulns

# Wired as linewatch.cli wires it (linewatch.vulns.cli.register).
app = typer.Typer()
app.add_typer(feeds_app, name="feeds")
app.command("vulns")(vulns)

FEEDS = ("nvd_CVE-2021-36260_synthetic.json", "kev_small.json", "kev_small.csv", "csaf_small.json", "epss_small.csv")


@pytest.fixture
def runner():
    return CliRunner()


@pytest.mark.django_db
def test_import_then_reimport_reports_no_new_records(runner, data):
    args = ["feeds", "import", *[str(data / f) for f in FEEDS], "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    doc = json.loads(first.stdout)
    assert doc["ok"] and doc["stored"] == {"vulnerabilities": 1, "advisories": 1, "kev": 2, "epss": 3}
    second = json.loads(runner.invoke(app, args).stdout)
    assert second["added"] == 0 and second["updated"] == 0 and second["stored"] == doc["stored"]
    table = runner.invoke(app, ["feeds", "import", str(data / "kev_small.json")])
    assert table.exit_code == 0 and "kev_small.json" in table.stdout


@pytest.mark.django_db
def test_folders_are_searched_and_non_feed_files_skipped(runner, data):
    result = runner.invoke(app, ["feeds", "import", str(data), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert any(s["file"].endswith("devices.csv") for s in doc["skipped"])


@pytest.mark.django_db
def test_a_broken_record_exits_2_naming_its_line_and_the_good_rows_are_stored(runner, tmp_path, data):
    from linewatch.vulns.models import EpssScore

    bad = tmp_path / "epss.csv"
    bad.write_text("#model_version:v2025.03.14,score_date:2026-01-01T00:00:00+0000\ncve,epss,percentile\n"
                   "CVE-2021-36260,0.94,0.99\nCVE-2021-1,0.5,0.5\nCVE-2019-6693,x,0.2\n")
    result = runner.invoke(app, ["feeds", "import", str(bad), "--json"])
    assert result.exit_code == 2
    places = [e["place"] for e in json.loads(result.stdout)["errors"]]
    assert places == ["line 4", "line 5"]
    assert list(EpssScore.objects.values_list("cve", flat=True)) == ["CVE-2021-36260"]
