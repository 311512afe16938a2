"""`linewatch patrols …` commands."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from linewatch.cli import app
from tests.patrols.matrix import TOURS

URL = "https://choose.url.com/ntag424?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086"
ZERO = "00" * 16


def test_verify_sun_accepts_the_an12196_tap_and_refuses_a_changed_one():
    ok = CliRunner().invoke(app, ["patrols", "verify-sun", URL, "--meta-key", ZERO, "--file-key", ZERO, "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout) == {"ok": True, "uid": "04DE5F1EACC040", "counter": 61,
                                                             "file_data": None}
    bad = CliRunner().invoke(app, ["patrols", "verify-sun", URL[:-1] + "7", "--meta-key", ZERO, "--file-key", ZERO])
    assert bad.exit_code == 1 and "SDMMAC" in bad.output
    keys = CliRunner().invoke(app, ["patrols", "verify-sun", URL, "--meta-key", "00", "--file-key", ZERO])
    assert keys.exit_code == 2


@pytest.mark.django_db(transaction=True)
def test_load_tours_runs_and_analyse(tmp_path, alpha_beta):
    good = tmp_path / "tours.yaml"
    good.write_text(yaml.safe_dump(TOURS))
    r = CliRunner().invoke(app, ["patrols", "load-tours", "alpha", str(good), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"checkpoints": 3, "tours": 1}
    broken = tmp_path / "broken.yaml"
    broken.write_text("checkpoints:\n  - code: a\n    name: [unclosed\n")
    r = CliRunner().invoke(app, ["patrols", "load-tours", "alpha", str(broken)])
    assert r.exit_code == 2 and "broken.yaml:line" in r.output
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("checkpoints:\n  - code: a\n    name: A\n    kind: laser\n")
    r = CliRunner().invoke(app, ["patrols", "load-tours", "alpha", str(wrong)])
    assert r.exit_code == 2 and "wrong.yaml:checkpoints[0].kind" in r.output
    assert CliRunner().invoke(app, ["patrols", "runs", "--json"]).stdout.strip() == "[]"
    assert CliRunner().invoke(app, ["patrols", "analyse"]).exit_code == 0
