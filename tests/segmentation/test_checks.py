"""Segmentation checks on a tiny hand-built site (no database): each check must find its planted mistake in
fw-bad.rules / fw-open.nft and must not fire on fw-good.rules, which implements exactly the declared conduits."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from linewatch.segmentation.checks import (
    Checker,
    ConduitSpec,
    HostSpec,
    SiteModel,
    ZoneSpec,
    internet_prefixes,
    run_checks,
)
from linewatch.segmentation.engine.model import Device, Interface, Route
from linewatch.segmentation.engine.parsers import parse_file

DATA = Path(__file__).resolve().parent.parent / "data" / "segmentation" / "checks"

ZONES = {
    "office": ZoneSpec("office", "4", ["10.9.4.0/24"]),
    "dmz": ZoneSpec("dmz", "3.5", ["10.9.35.0/24"]),
    "ops": ZoneSpec("ops", "3", ["10.9.3.0/24"]),
    "cell": ZoneSpec("cell", "1", ["10.9.1.0/24"]),
}
CONDUITS = [
    ConduitSpec("office-to-dmz", "office", "dmz", ["tcp/443", "tcp/3389"]),
    ConduitSpec("dmz-to-ops", "dmz", "ops", ["tcp/443"]),
    ConduitSpec("ops-to-dmz", "ops", "dmz", ["tcp/443"]),
    ConduitSpec("ops-to-cell", "ops", "cell", ["tcp/102"]),
]
HOSTS = [
    HostSpec("1", "plc-1", "cell", ["10.9.1.10"], "plc"),
    HostSpec("2", "scada-1", "ops", ["10.9.3.10"], "scada_server"),
    HostSpec("3", "pc-1", "office", ["10.9.4.10"], "workstation"),
]


def firewall(config: str) -> Device:
    ifaces = {n: Interface(n, (ipaddress.IPv4Interface(a),)) for n, a in (
        ("eth-office", "10.9.4.1/24"), ("eth-dmz", "10.9.35.1/24"), ("eth-ops", "10.9.3.1/24"),
        ("eth-cell", "10.9.1.1/24"), ("eth-wan", "192.0.2.1/30"))}
    routes = [Route(ipaddress.IPv4Network("0.0.0.0/0"), None, ipaddress.IPv4Address("192.0.2.2"))]
    return Device("fw", "firewall", ifaces, routes, [parse_file(DATA / config)])


def impact(keys: list[str]) -> dict:
    stopped = "1" in keys
    return {"currency": "EUR", "cost_per_hour": 50000.0 if stopped else 0.0,
            "lines": [{"line": "Cell line", "status": "stopped", "cost_per_hour": 50000.0}] if stopped else []}


def model(config: str) -> SiteModel:
    return SiteModel("tiny", ZONES, CONDUITS, HOSTS, [firewall(config)])


@pytest.fixture(scope="module")
def bad():
    return run_checks(model("fw-bad.rules"), impact)


@pytest.fixture(scope="module")
def good():
    return run_checks(model("fw-good.rules"), impact)


def by(findings, check):
    return {f.id: f for f in findings if f.check == check}


def test_good_config_has_no_findings(good):
    assert [f.id for f in good] == []


def test_seg01_it_to_control(bad, good):
    f = by(bad, "SEG-01")["SEG-01:office->cell"]
    assert f.severity == "critical" and f.services == ["tcp/502"]
    assert f.witness["dst"] == "10.9.1.10" and f.witness["dport"] == 502 and f.witness["disposition"] == "ACCEPTED"
    assert f.rules[0]["rule"].endswith("fw-bad.rules:11")
    assert f.assets == ["plc-1"] and f.lines_at_risk == [
        {"line": "Cell line", "status": "stopped", "cost_per_hour": 50000.0}]
    assert f.fix["remove"][0].endswith("fw-bad.rules:11") and f.fix["closes"] and f.fix["breaks_conduits"] == []
    assert not by(good, "SEG-01")


def test_seg02_dmz_brokering(bad, good):
    f = by(bad, "SEG-02")["SEG-02:office->ops"]
    assert f.services == ["tcp/3389"] and f.severity == "high" and f.conduits == []
    assert f.rules[0]["rule"].endswith("fw-bad.rules:12")
    assert not by(good, "SEG-02")


def test_seg05_default_deny():
    found = run_checks(model("fw-open.nft"), only=["SEG-05"])
    rules = sorted(r["rule"].rsplit(":", 1)[1] for f in found for r in f.rules)
    assert len(found) == 2 and rules == ["3", "7"]  # the policy (chain line) and the trailing `accept`
    policy = next(f for f in found if "defaults to accept" in f.title)
    assert policy.witness is None  # nothing reaches the policy: the trailing accept takes every packet first
    assert not run_checks(model("fw-good.rules"), only=["SEG-05"])
    assert not run_checks(model("fw-bad.rules"), only=["SEG-05"])


def test_seg06_ot_to_internet(bad, good):
    f = by(bad, "SEG-06")["SEG-06:ops->internet"]
    assert f.services == ["tcp/443"] and ipaddress.IPv4Address(f.witness["dst"]).is_global
    assert f.rules[0]["rule"].endswith("fw-bad.rules:16") and f.fix["closes"]
    assert not by(good, "SEG-06")  # the DMZ may go out (tcp/443), OT may not


def test_seg07_least_privilege(bad, good):
    f = by(bad, "SEG-07")["SEG-07:dmz->ops"]
    assert f.services == ["tcp/22"] and f.conduits == ["dmz-to-ops"] and f.witness["dport"] == 22
    assert f.rules[0]["rule"].endswith("fw-bad.rules:13")
    undeclared = by(bad, "SEG-07")["SEG-07:office->cell"]
    assert undeclared.severity == "high" and undeclared.conduits == []
    assert "SEG-07:office->dmz" not in by(bad, "SEG-07")  # exactly the declared services
    assert not by(good, "SEG-07")


def test_seg09_return_path(bad, good):
    f = by(bad, "SEG-09")["SEG-09:ops->cell"]
    assert f.witness["disposition"] == "NO_RETURN" and f.services == ["tcp/102"]
    # the forward rule and the place the reply died (the FORWARD policy)
    assert any(r["rule"].endswith("fw-bad.rules:15") for r in f.rules)
    assert any(r["action"].startswith("drop") for r in f.rules)
    assert not by(good, "SEG-09")


def test_seg11_shadowed_and_dead_rules(bad, good):
    found = by(bad, "SEG-11")
    shadowed = found["SEG-11:" + str(DATA / "fw-bad.rules") + ":17"]
    assert "shadowed" in shadowed.title
    # the rules that take its packets first: the ESTABLISHED accept (its established packets) and the accept at 11
    assert [r["rule"].rsplit(":", 1)[1] for r in shadowed.rules[1:]] == ["8", "11"]
    dead = found["SEG-11:" + str(DATA / "fw-bad.rules") + ":18"]
    assert "dead" in dead.title
    assert len(found) == 2
    assert not by(good, "SEG-11")


def test_seg13_management_ports(bad, good):
    f = by(bad, "SEG-13")["SEG-13:office->ops"]
    assert f.services == ["tcp/3389"] and f.assets == ["scada-1"]
    assert "SEG-13:office->cell" not in by(bad, "SEG-13")  # tcp/502 is not a management port
    assert not by(good, "SEG-13")


def test_describe_merges_port_ranges():
    c = Checker(model("fw-good.rules"))
    s = c.services_set(["tcp/100-200", "tcp/201", "udp/53", "icmp"])
    assert c.describe(s) == ["icmp", "tcp/100-201", "udp/53"]


def test_internet_prefixes_exclude_private_space():
    nets = internet_prefixes()
    assert not any(n.overlaps(ipaddress.IPv4Network("10.0.0.0/8")) for n in nets)
    assert any(ipaddress.IPv4Address("8.8.8.8") in n for n in nets)
