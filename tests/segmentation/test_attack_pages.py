"""On the demo plant Kolding: `linewatch attack-paths`, `segmentation conformance` (events into the pipeline), the
demo lines, the segmentation page and API (per-site authorisation), and the page in a real browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from linewatch.segmentation import analysis, plant
from linewatch.segmentation.commands import register

RULES = str(Path(plant.DEMO_MAPPINGS) / "kol-fw-01.rules")
PASSWORD = "correct-horse-battery"


def app() -> typer.Typer:
    root, seg = typer.Typer(), typer.Typer()
    register(root, seg)
    root.add_typer(seg, name="segmentation")
    return root


def test_attack_paths_command_office_to_line_2(demo_loaded, tmp_path):
    res = CliRunner().invoke(app(), ["attack-paths", "--site", "kolding", "--from", "office", "--to", "l2-pet-bottling",
                                     "--k", "2", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["target"].startswith("line Line 2") and "kol-l2-plc-01" in doc["reached"]
    first = doc["paths"][0]
    assert first["zones"] == ["office", "line2-control"] and len(first["steps"]) == 1
    step = first["steps"][0]
    assert step["privilege"] == "control" and step["services"] == ["tcp/44818", "udp/2222"]
    assert [r["rule"].rsplit(":", 1)[1] for r in step["rules"]] == ["63", "66"]
    assert step["conduits"] == ["office-to-line2-plc"]
    assert len(doc["paths"]) == 2 and len(doc["paths"][1]["steps"]) >= 2  # the way through the DMZ
    rules = doc["fix"]["rules"]
    assert rules["verified"] and len(rules["remove"]) == 2
    pilot = next(r for r in rules["remove"] if r["rule"].endswith(":63"))
    assert pilot["breaks_conduits"] == ["office-to-line2-plc"] and pilot["closes_paths"] == [1]
    assert doc["consequence"]["cost_per_hour"] >= 85000
    assert "kol-l2-plc-01" in doc["fix"]["hosts"]["harden"]  # the hole reaches the controllers directly
    res = CliRunner().invoke(app(), ["attack-paths", "--site", "kolding", "--from", "office",
                                     "--to", "l2-pet-bottling"])
    assert res.exit_code == 0 and "path 1: zone office -> kol-l2-" in res.stdout and "kol-fw-01.rules:63" in res.stdout
    res = CliRunner().invoke(app(), ["attack-paths", "--site", "kolding", "--from", "nowhere",
                                     "--to", "l2-pet-bottling"])
    assert res.exit_code == 2 and "no zone or asset" in res.output
    res = CliRunner().invoke(app(), ["attack-paths", "--site", "kolding", "--from", "office", "--to", "line-9"])
    assert res.exit_code == 2 and "no line, asset or zone" in res.output

    # without the pilot rules only the way through the DMZ is left
    fixed = tmp_path / "kol-fw-01.rules"
    fixed.write_text("".join(x for x in Path(RULES).read_text().splitlines(keepends=True) if "OEE-PILOT" not in x))
    res = CliRunner().invoke(app(), ["attack-paths", "--site", "kolding", "--from", "office", "--to", "l2-pet-bottling",
                                     "--device", f"kol-fw-01={fixed}", "--json"])
    doc = json.loads(res.stdout)
    assert all(len(p["steps"]) >= 2 for p in doc["paths"])  # no direct office -> controller path any more
    assert doc["paths"][0]["zones"][1] == "idmz"


def test_conformance_command_publishes_events(demo_loaded, tmp_path):
    flows = tmp_path / "flows.csv"
    flows.write_text(
        "ts,sa,da,sp,dp,pr,flg\n"
        "2026-11-20 08:00:00,10.20.10.15,10.20.50.11,50000,3389,TCP,.AP.SF\n"  # office -> jump host: conforms
        "2026-11-20 08:01:00,10.20.10.15,10.20.111.10,50001,102,TCP,.AP.SF\n"  # office -> line 1 PLC: bypass
        "2026-11-20 08:02:00,10.20.10.15,not-an-ip,50002,102,TCP,.AP.SF\n")
    res = CliRunner().invoke(app(), ["segmentation", "conformance", "--site", "kolding", str(flows), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["counts"]["conforms"] == 1 and doc["counts"]["bypass"] == 1
    (v,) = doc["reported"]
    assert v["dst"] == "10.20.111.10" and v["to_zone"] == "line1-control" and v["origin"].endswith("flows.csv:3")
    assert doc["events"] == 1 and [e["place"] for e in doc["errors"]] == ["line 4"]
    from linewatch.events.schema import EventClass

    ev = analysis.conformance_event("kolding", _verdict(v))
    assert ev.class_uid == EventClass.SEGMENTATION_CONFORMANCE == 99031004 and ev.activity_id == 2
    res = CliRunner().invoke(app(), ["segmentation", "conformance", "--site", "kolding", str(flows), "--json"])
    assert json.loads(res.stdout)["events"] == 0  # the same records again: nothing stored twice


def _verdict(v: dict):
    from linewatch.segmentation.engine.conformance import Flow, Verdict

    return Verdict(v["class"], Flow(v["src"], v["dst"], 6, v["sport"], 102, True, v["time"], v["origin"]),
                   v["from_zone"], v["to_zone"], v["conduits"], [], v["rule"])


def test_demo_lines_page_and_api(demo_loaded, client):
    from linewatch.core import accounts
    from linewatch.segmentation import demo

    lines = demo.load()
    text = "\n".join(lines)
    assert "Line 2" in lines[0] and "path 1: zone office -> kol-l2-" in text
    assert "kol-fw-01.rules:63" in text and "smallest rule fix" in text and "verified" in text
    assert "Segmentation (rendsburg): ren-ews-02 is dual-homed: office and line1-supervisory" in text  # SEG-10
    assert demo.load() == lines  # nothing stored: the same lines again

    accounts.create_user("eng", PASSWORD, "ot_engineer", sites=["kolding"])
    accounts.create_user("other", PASSWORD, "ot_engineer", sites=["hq"])
    client.login(username="eng", password=PASSWORD)
    page = client.get("/sites/kolding/segmentation/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="seg-path"' in html and "kol-fw-01.rules:63" in html and "SEG-01:office-&gt;line2-control" in html
    assert "Smallest fix" in html and "office-to-line2-plc" in html
    api = client.get("/api/v1/segmentation/kolding")
    assert api.status_code == 200
    doc = api.json()
    assert doc["matrix"]["office"]["line2-control"] == "ACCEPTED" and doc["attack"]["paths"]
    assert any(f["id"] == "SEG-01:office->line2-control" for f in doc["findings"])
    client.logout()
    client.login(username="other", password=PASSWORD)
    assert client.get("/sites/kolding/segmentation/").status_code == 404
    assert client.get("/api/v1/segmentation/kolding").status_code == 404


@pytest.fixture
def engineer(transactional_db):
    from linewatch.core import accounts
    from linewatch.core.sitefile.importer import import_files
    from tests.conftest import DEMO_SITES

    import_files(sorted(str(p) for p in DEMO_SITES.glob("*.yaml")))
    accounts.create_user("eng", PASSWORD, "ot_engineer", sites=["kolding"])
    return "eng"


@pytest.mark.browser
def test_page_draws_the_attack_path_in_a_browser(live_server, engineer, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    base = live_server.url
    page.goto(base + "/login/")
    page.fill("#id_username", engineer)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    page.goto(base + "/sites/kolding/segmentation/")
    path = page.locator("#seg-diagram .seg-path path").first
    assert path.is_visible()
    box = path.bounding_box()
    assert box and box["height"] > 20  # a real curve from the office band down to the control band
    attack = page.inner_text("#attack")
    assert "path 1" in attack.lower() and "kol-fw-01.rules:63" in attack  # headings may be styled upper-case
    page.locator("#findings details summary").first.click()
    assert "Witness" in page.inner_text("#findings")


def test_conformance_events_raise_a_detection(alpha_beta):
    """The Linewatch pack's rule fires on a bypass and an outside-conduit event, not on an unknown-path one."""
    from linewatch.detect.sigma import PACK, SigmaDetector
    from linewatch.detect.worker import process
    from linewatch.segmentation.engine.conformance import Flow, Verdict

    detector = SigmaDetector.from_paths([PACK], lateness_ms=0)
    flow = Flow("10.2.4.10", "10.1.11.10", 6, 50000, 502, True, 1_780_000_000_000, "flows.csv:2")
    events = [analysis.conformance_event("alpha", Verdict(kind, flow, "office", "cell", [], [], "fw.rules:9"))
              for kind in ("bypass", "outside-conduit", "unknown-path")]
    fired = [[d.title for d in process([e], [detector])] for e in events]
    title = "Observed flow outside the segmentation policy"
    assert title in fired[0] and title in fired[1] and title not in fired[2]


def test_page_without_configs_shows_dual_homed_assets(demo_loaded, client):
    from linewatch.core import accounts

    accounts.create_user("ren", PASSWORD, "ot_engineer", sites=["rendsburg"])
    client.login(username="ren", password=PASSWORD)
    html = client.get("/sites/rendsburg/segmentation/").content.decode()
    assert "No firewall configuration is mapped" in html and "ren-ews-02 is dual-homed" in html
    doc = client.get("/api/v1/segmentation/rendsburg").json()
    assert doc["configured"] is False and [f["check"] for f in doc["findings"]] == ["SEG-10"]
    index = client.get("/segmentation/").content.decode()
    assert "/sites/rendsburg/segmentation/" in index and "none yet" in index
