"""The engine's topology from the plant model, and `segmentation check` on the demo plant Kolding with its own
firewall configs (src/linewatch/demo/firewalls/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from linewatch.segmentation import plant
from linewatch.segmentation.checks import run_checks
from linewatch.segmentation.cli import check, reach

DEMO = Path(plant.DEMO_MAPPINGS)
RULES = DEMO / "kol-fw-01.rules"


@pytest.fixture
def kolding(demo_loaded):
    return plant.build("kolding", plant.load_mapping(DEMO / "kolding.yaml"))


def test_interfaces_face_the_zones_their_addresses_fall_in(kolding):
    (fw,) = kolding.devices
    assert fw.name == "kol-fw-01" and len(fw.rulesets) == 1 and not fw.rulesets[0].unsupported
    addrs = {n: [str(a) for a in i.addresses] for n, i in fw.interfaces.items()}
    assert addrs["vlan10"] == ["10.20.10.1/24"] and addrs["vlan112"] == ["10.20.112.1/24"]
    assert addrs["mgmt"] == ["10.20.60.2/32"]  # management port: the firewall's own address, not a boundary
    assert len(addrs) == 16
    assert [str(r.next_hop) for r in fw.routes] == ["10.20.10.254"]
    # every interface faces a zone; the router without a config and the HA secondary (skipped) are not modelled
    assert [(f.check, f.device) for f in kolding.findings] == [("SEG-00", "kol-rtr-wan-01")]


def test_interface_in_no_zone_is_a_finding(demo_loaded):
    from linewatch.core.models import Asset

    Asset.objects.get(site__slug="kolding", name="kol-fw-01").interfaces.create(name="wan9", ip="192.0.2.9")
    model = plant.build("kolding", plant.load_mapping(DEMO / "kolding.yaml"))
    f = next(f for f in model.findings if "wan9" in f.title)
    assert f.check == "SEG-00" and "faces no zone" in f.title and "wan9" not in model.devices[0].interfaces


def test_device_arguments_and_default_route_from_the_router_asset(demo_loaded):
    model = plant.build("kolding", plant.mapping_from_args([f"kol-fw-01={RULES}"]))
    (fw,) = model.devices
    # without routes in a mapping, the site's router in a zone the firewall faces is the way out
    assert [(str(r.prefix), str(r.next_hop)) for r in fw.routes] == [("0.0.0.0/0", "10.20.10.254")]
    assert {f.device for f in model.findings} == {"kol-rtr-wan-01", "kol-fw-02"}  # no config, no skip reason


def test_zone_matrix_from_the_real_config(kolding):
    m = plant.zone_matrix(kolding)
    assert m["office"]["line2-control"] == "ACCEPTED"  # the planted hole
    assert m["office"]["line1-control"] == "DENIED_IN"
    assert m["office"]["idmz"] == "ACCEPTED" and m["office"]["site-ops"] == "DENIED_IN"
    assert m["line2-control"]["office"] == "DENIED_IN"
    assert plant.zone_matrix(kolding, "tcp/502")["office"]["line2-control"] == "DENIED_IN"


def test_checks_find_the_planted_hole_with_rule_and_line_2_cost(kolding):
    findings = run_checks(kolding, plant.impact_function("EUR"))
    f = next(f for f in findings if f.id == "SEG-01:office->line2-control")
    assert f.severity == "critical" and f.services == ["tcp/44818", "udp/2222"]
    assert f.conduits == ["office-to-line2-plc"]
    # the jump into the pilot's chain, then the accepting rule
    assert [r["rule"] for r in f.rules] == [f"{RULES}:63", f"{RULES}:66"]
    assert "-j OEE-PILOT" in f.rules[0]["text"] and "OEE dashboard pilot" in f.rules[1]["text"]
    assert f.witness["dport"] == 44818 and f.witness["disposition"] == "ACCEPTED"
    assert "kol-l2-plc-01" in f.assets
    # the fix: delete the jump; it closes the path and only "breaks" the conduit that declared the hole
    assert f.fix == {"remove": [f"{RULES}:63"], "text": f.rules[0]["text"], "closes": True,
                     "breaks_conduits": ["office-to-line2-plc"]}
    line2 = [li for li in f.lines_at_risk if li["line"].startswith("Line 2")]
    assert line2 == [{"line": "Line 2 – Milk PET bottling", "status": "stopped", "cost_per_hour": 85000.0}]
    # an otherwise sensible policy: no other IT -> control path, no OT -> Internet, deny by default, no NO_RETURN,
    # no shadowed rules, every zone pair within its conduits
    assert [x.id for x in findings if x.check == "SEG-01"] == ["SEG-01:office->line2-control"]
    assert not [x for x in findings if x.check in ("SEG-05", "SEG-06", "SEG-07", "SEG-09", "SEG-11")]


def test_check_command_tables_and_json(demo_loaded):
    app = typer.Typer()
    app.command("check")(check)
    app.command("reach")(reach)
    runner = CliRunner()
    res = runner.invoke(app, ["check", "--site", "kolding", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    f = next(f for f in doc["findings"] if f["id"] == "SEG-01:office->line2-control")
    assert f["rules"][-1]["rule"].endswith("kol-fw-01.rules:66") and f["currency"] == "EUR"
    assert {"line": "Line 2 – Milk PET bottling", "status": "stopped", "cost_per_hour": 85000.0} in f["lines_at_risk"]
    res = runner.invoke(app, ["check", "--site", "kolding", "--device", f"kol-fw-01={RULES}", "--matrix"])
    assert res.exit_code == 0, res.output
    assert "SEG-01:office->line2-control" in res.stdout and "85,000 EUR/h" in res.stdout
    assert "kol-fw-01.rules:66" in res.stdout and "fix: remove" in res.stdout and "closes the path" in res.stdout
    res = runner.invoke(app, ["check", "--site", "kolding", "--device", "kol-core-sw-01=x.rules"])
    assert res.exit_code == 2 and "not a firewall" in res.output
    res = runner.invoke(app, ["check", "--site", "nowhere", "--device", f"kol-fw-01={RULES}"])
    assert res.exit_code == 2 and "no such site" in res.output


def test_removing_the_pilot_rules_closes_the_hole(demo_loaded, tmp_path):
    fixed = tmp_path / "kol-fw-01.rules"
    fixed.write_text("".join(line for line in RULES.read_text().splitlines(keepends=True)
                             if "OEE-PILOT" not in line))
    model = plant.build("kolding", plant.mapping_from_args([f"kol-fw-01={fixed}"]))
    findings = run_checks(model, plant.impact_function("EUR"))
    assert not [f for f in findings if f.severity in ("critical", "high")]
    assert plant.zone_matrix(model)["office"]["line2-control"] == "DENIED_IN"


def test_check_command_mapping_and_only(demo_loaded):
    app = typer.Typer()
    app.command("check")(check)
    app.command("reach")(reach)
    runner = CliRunner()
    res = runner.invoke(app, ["check", "--site", "kolding", "--mapping", str(DEMO / "kolding.yaml"),
                              "--only", "SEG-01", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert {f["check"] for f in doc["findings"]} == {"SEG-00", "SEG-01"} and doc["counts"]["critical"] == 1
    res = runner.invoke(app, ["check", "--site", "kolding", "--only", "SEG-99"])
    assert res.exit_code == 2 and "unknown check" in res.output
    res = runner.invoke(app, ["check", "--site", "hq"])  # no demo mapping for hq: the user must say which configs
    assert res.exit_code == 2 and "--mapping" in res.output
