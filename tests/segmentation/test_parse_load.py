"""`linewatch segmentation load`: configurations parsed, reported, stored per site and firewall asset (versioned,
audited), and used by the engine through `services.stored_mapping` (the shape `plant.load_mapping` returns)."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from linewatch.segmentation import plant
from linewatch.segmentation.cli import register

PAN = """# PAN-OS for the alpha test site
set deviceconfig system hostname alpha-fw
set network interface ethernet ethernet1/1 layer3 ip 10.1.4.1/24
set network interface ethernet ethernet1/2 layer3 ip 10.1.35.1/24
set network interface ethernet ethernet1/3 layer3 ip 10.1.11.1/24
set zone office network layer3 ethernet1/1
set zone dmz network layer3 ethernet1/2
set zone cell network layer3 ethernet1/3
set rulebase security rules web from office
set rulebase security rules web to dmz
set rulebase security rules web source any
set rulebase security rules web destination any
set rulebase security rules web service service-https
set rulebase security rules web application any
set rulebase security rules web action allow
set rulebase security rules by-user from dmz
set rulebase security rules by-user to cell
set rulebase security rules by-user source any
set rulebase security rules by-user destination any
set rulebase security rules by-user service any
set rulebase security rules by-user source-user [ corp\\\\eng ]
set rulebase security rules by-user application any
set rulebase security rules by-user action allow
"""


@pytest.fixture
def alpha_fw(alpha_beta):
    from linewatch.core.models import Asset, Site

    site = Site.objects.get(slug="alpha")
    fw = Asset.objects.create(site=site, name="alpha-fw", kind="firewall")
    for name, ip in (("ethernet1/1", "10.1.4.1"), ("ethernet1/2", "10.1.35.1"), ("ethernet1/3", "10.1.11.1")):
        fw.interfaces.create(name=name, ip=ip)
    return fw


def run(*args):
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, ["segmentation", "load", *args])


def test_load_stores_reports_and_feeds_the_engine(alpha_fw, tmp_path):
    from linewatch.core.models import AuditEntry
    from linewatch.segmentation.models import FirewallConfig
    from linewatch.segmentation.services import stored_mapping

    cfg = tmp_path / "edge.set"
    cfg.write_text(PAN)
    res = run("--site", "alpha", str(cfg), "--json")  # the asset is found by the config's hostname
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    (x,) = doc["loaded"]
    assert (x["asset"], x["file"], x["format"], x["stored"]) == ("alpha-fw", "edge.set", "paloalto-set", "new")
    assert [(u["line"], u["file"]) for u in x["unsupported"]] == [(21, "edge.set")]
    row = FirewallConfig.objects.get()
    assert row.text == PAN and row.current and row.loaded_by.startswith("cli:") and len(row.digest) == 64
    assert AuditEntry.objects.filter(object_type="segmentation.firewallconfig", action="create",
                                     site_slug="alpha").count() == 1
    # the same text again adds nothing; a changed one becomes the current version, the old one stays
    assert json.loads(run("--site", "alpha", str(cfg), "--json").output)["loaded"][0]["stored"] == "unchanged"
    cfg.write_text(PAN.replace("service-https", "any"))
    assert run("--site", "alpha", "--device", f"alpha-fw={cfg}").exit_code == 0
    assert FirewallConfig.objects.count() == 2
    assert FirewallConfig.objects.filter(current=True).get().text != PAN
    # the engine runs on what is stored: office -> dmz any service now; dmz -> cell depends on a user: unknown
    mapping = stored_mapping("alpha")
    assert list(mapping["devices"]) == ["alpha-fw"] and mapping["devices"]["alpha-fw"]["config"][0].name == "edge.set"
    model = plant.build("alpha", mapping)
    m = plant.zone_matrix(model)
    assert m["office"]["dmz"] == "ACCEPTED" and m["dmz"]["office"] == "DENIED_IN"
    assert m["dmz"]["line1-control"] == "INSUFFICIENT_INFO"
    # `segmentation check` without --mapping/--device uses the stored configurations
    app = typer.Typer()
    register(app)
    res = CliRunner().invoke(app, ["segmentation", "check", "--site", "alpha", "--json", "--matrix"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["mapping"] == "database" and [d["name"] for d in doc["devices"]] == ["alpha-fw"]
    assert [(u["file"].rpartition("/")[2], u["line"]) for u in doc["unsupported"]] == [("edge.set", 21)]
    assert doc["matrix"]["office"]["dmz"] == "ACCEPTED"


def test_load_keeps_good_files_and_names_the_bad_ones(alpha_fw, tmp_path):
    from linewatch.segmentation.models import FirewallConfig

    good, bad, stray = tmp_path / "alpha-fw.nft", tmp_path / "broken.json", tmp_path / "unknown-fw.rules"
    good.write_text("table inet f {\n chain fwd {\n  type filter hook forward priority 0; policy drop;\n"
                    "  tcp dport 443 accept\n }\n}\n")
    bad.write_text('{"nftables": [\n {"table": {"family": "ip", "name": "t"}},\n')
    stray.write_text("*filter\n:FORWARD DROP [0:0]\nCOMMIT\n")
    res = run("--site", "alpha", str(good), "--device", f"alpha-fw={bad}", str(stray))
    assert res.exit_code == 2
    assert f"{bad}:3: not valid JSON" in res.output.replace("\n", "")
    assert "no firewall asset named 'unknown-fw'" in res.output.replace("\n", "")
    assert [r.file_name for r in FirewallConfig.objects.all()] == ["alpha-fw.nft"]  # the good one is stored


def test_load_refuses_unknown_sites_assets_that_are_not_firewalls_and_no_files(alpha_fw, tmp_path):
    cfg = tmp_path / "x.rules"
    cfg.write_text("*filter\nCOMMIT\n")
    assert "no such site" in run("--site", "nowhere", str(cfg)).output
    res = run("--site", "alpha", "--device", f"alpha-plc-01={cfg}")
    assert res.exit_code == 2
    res = run("--site", "alpha")
    assert res.exit_code == 2 and "no configuration files given" in res.output


def test_a_format_given_at_load_time_is_kept_for_the_engine(alpha_fw, tmp_path):
    from linewatch.segmentation.engine.parsers import parse_file
    from linewatch.segmentation.services import stored_mapping

    # a FortiOS excerpt without the usual sections is not detected; --format says what it is
    cfg = tmp_path / "alpha-fw.conf"
    cfg.write_text("config switch-controller global\n    set mac-aging-interval 300\nend\n")
    assert "not a recognised" in run("--site", "alpha", str(cfg)).output.replace("\n", "")
    res = run("--site", "alpha", str(cfg), "--format", "fortios", "--json")
    assert res.exit_code == 0, res.output
    (path,) = stored_mapping("alpha")["devices"]["alpha-fw"]["config"]
    assert parse_file(path).format == "fortios"
