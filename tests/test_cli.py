"""The `linewatch` command as users run it: real processes, their exit codes and output."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import DEMO_SITES, TEST_SITES

LINEWATCH = [sys.executable, "-m", "linewatch.cli"]


@pytest.fixture
def env(tmp_path):
    environ = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PYTEST_VERSION"}}
    environ["LINEWATCH_DATA"] = str(tmp_path / "data")
    return environ


def run(env, *args, check=True):
    result = subprocess.run([*LINEWATCH, *args], env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_site_commands_end_to_end(env, tmp_path):
    run(env, "migrate")
    files = [str(TEST_SITES / "alpha.yaml"), str(TEST_SITES / "beta.yaml")]
    assert run(env, "site", "validate", *files).returncode == 0
    first = json.loads(run(env, "site", "import", *files, "--json").stdout)
    assert first["changed"] and first["sites"] == ["alpha", "beta"]
    again = json.loads(run(env, "site", "import", *files, "--json").stdout)
    assert not again["changed"]
    listed = json.loads(run(env, "site", "list", "--json").stdout)
    assert {s["slug"]: s["assets"] for s in listed} == {"alpha": 9, "beta": 2}
    out = tmp_path / "alpha-export.yaml"
    run(env, "site", "export", "alpha", "-o", str(out))
    stdout_export = run(env, "site", "export", "alpha").stdout
    assert out.read_text() == stdout_export
    assert not json.loads(run(env, "site", "import", str(out), "--json").stdout)["changed"]
    assert run(env, "site", "export", "alpha").stdout == stdout_export


def test_bad_input_exits_2_with_the_place(env, tmp_path):
    run(env, "migrate")
    bad = tmp_path / "bad.yaml"
    bad.write_text((TEST_SITES / "alpha.yaml").read_text().replace("purdue_level: 4", "purdue_level: 7"))
    result = run(env, "site", "import", str(bad), "--json", check=False)
    assert result.returncode == 2
    errors = json.loads(result.stdout)["errors"]
    assert errors[0]["source"] == str(bad)
    assert errors[0]["place"].endswith("zones[0].purdue_level")
    assert "Traceback" not in result.stderr
    assert json.loads(run(env, "site", "list", "--json").stdout) == []
    missing = run(env, "site", "validate", str(tmp_path / "nope.yaml"), check=False)
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_consequence_command(env):
    run(env, "migrate")
    run(env, "site", "import", str(TEST_SITES / "alpha.yaml"), str(TEST_SITES / "beta.yaml"))
    result = json.loads(run(env, "consequence", "alpha/sw-line1", "--hours-down", "1", "--json").stdout)
    assert result["lines"][0]["line"] == "Line 1 filling" and result["lines"][0]["status"] == "stopped"
    assert result["cost_per_hour"] == 42000 and result["hours_to_first_spoilage"] == 5
    assert result["down"]["plc-line1"] == ["sw-line1", "plc-line1"]
    human = run(env, "consequence", "10.1.11.10").stdout
    assert "Line 1 filling" in human and "42,000" in human
    unknown = run(env, "consequence", "no-such-asset", check=False)
    assert unknown.returncode == 2 and "no such asset" in unknown.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not list(DEMO_SITES.glob("*.yaml")), reason="demo files not generated")
def test_demo_comes_up_serves_and_stops_cleanly_on_ctrl_c(env):
    port = free_port()
    started = time.monotonic()
    process = subprocess.Popen([*LINEWATCH, "demo", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line, process.stderr.read()
        login = line.split("log in as ")[1].split()
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the web server did not answer")
        # Up within the minute the issue allows (the figure itself is recorded in docs/performance.md).
        assert time.monotonic() - started < 60
        assert login[0] == "admin" and len(login[2]) >= 12
        logins = json.loads((Path(env["LINEWATCH_DATA"]) / "demo-logins.json").read_text())
        assert {x["role"] for x in logins} >= {"admin", "security_analyst", "site_security_lead", "ot_engineer",
                                              "auditor", "guard"}
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
    assert code == 0
    listed = json.loads(run(env, "site", "list", "--json").stdout)
    assert len(listed) >= 3 and sum(s["assets"] for s in listed) >= 300
