"""CMDB records in reconciliation (known vs shadow) and stored posture findings with review state."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from linewatch.core.models import AuditEntry, Site
from linewatch.discovery.engine import Device, Observation
from linewatch.discovery.engine.sources import CmdbRecord as RecordIn
from linewatch.discovery.engine.sources import read_cmdb
from linewatch.discovery.models import CmdbRecord, DeviceStatus, DiscoveredDevice, FindingStatus, PostureFinding
from linewatch.discovery.services import import_cmdb, posture_findings, reconcile, review_finding
from linewatch.errors import InputError

T0 = 1_764_000_000.0
DATA = Path(__file__).parent / "data"


def device(ip: str, mac: str | None = None, findings: list[dict] | None = None, **attrs: str) -> Device:
    dv = Device(key=ip, ip=ip, first_seen=T0, last_seen=T0 + 60)
    if mac:
        dv.macs[mac] = 5
    for n, (a, v) in enumerate(attrs.items(), start=1):
        dv.observe(Observation(a, v, "test/msg", "x.pcap", n, T0 + n, 0.9))
    dv.findings = findings or []
    return dv


def finding(check: str, title: str, severity: str = "medium") -> dict:
    return {"check": check, "severity": severity, "finding": title, "evidence": f"evidence of {check}",
            "source": "flow/http", "file": "x.pcap", "packet": 7, "time": "2025-11-24T16:00:07Z"}


@pytest.fixture
def alpha(alpha_beta) -> Site:
    return Site.objects.get(slug="alpha")


def test_a_device_in_the_cmdb_but_not_the_model_is_known_not_shadow(alpha):
    records = [RecordIn(line=2, name="lab-printer", ip="10.1.4.150"),
               RecordIn(line=3, name="guard-tablet", mac="aa:bb:cc:00:00:01"),
               RecordIn(line=4, name="nvr", hostname="nvr-gate", serial="J999")]
    assert import_cmdb(alpha, records, "/tmp/exports/cmdb.csv") == (3, 0)
    summary = reconcile(alpha, [device("10.1.4.150"), device("10.1.4.51", "aa:bb:cc:00:00:01"),
                                device("10.1.4.52", hostname="nvr-gate.alpha.local"), device("10.1.4.53")])
    rows = {d.ip: d for d in DiscoveredDevice.objects.filter(site=alpha)}
    assert rows["10.1.4.150"].status == DeviceStatus.CMDB
    assert rows["10.1.4.150"].match_reason == "IP 10.1.4.150 equals CMDB record lab-printer (cmdb.csv:2)"
    assert rows["10.1.4.51"].match_reason == "MAC aa:bb:cc:00:00:01 equals CMDB record guard-tablet (cmdb.csv:3)"
    assert rows["10.1.4.52"].match_reason.startswith("hostname nvr-gate.alpha.local equals CMDB record nvr")
    assert rows["10.1.4.53"].status == DeviceStatus.SHADOW
    assert sorted(summary.cmdb) == ["10.1.4.150", "10.1.4.52", "aa:bb:cc:00:00:01"]
    assert summary.shadow == ["10.1.4.53"]
    assert rows["10.1.4.150"].cmdb_record.name == "lab-printer"


def test_an_asset_match_wins_over_the_cmdb_and_reimport_replaces_rows(alpha):
    import_cmdb(alpha, [RecordIn(line=2, name="plc", ip="10.1.11.10")], "cmdb.csv")
    reconcile(alpha, [device("10.1.11.10")])
    assert DiscoveredDevice.objects.get(site=alpha, ip="10.1.11.10").status == DeviceStatus.MATCHED
    assert import_cmdb(alpha, [RecordIn(line=2, name="plc2", ip="10.1.11.11")], "cmdb.csv") == (1, 1)
    assert list(CmdbRecord.objects.filter(site=alpha).values_list("name", flat=True)) == ["plc2"]


def test_posture_findings_are_stored_with_evidence_and_keep_their_review(alpha, role_users):
    dv = device("10.1.4.60", findings=[finding("cleartext-management", "clear-text management service: Telnet"),
                                       finding("default-credentials", "cam ships with default credentials")])
    summary = reconcile(alpha, [dv])
    assert (summary.new_findings, summary.findings) == (2, 2)
    rows = {f.check_name: f for f in PostureFinding.objects.filter(device__site=alpha)}
    telnet = rows["cleartext-management"]
    assert (telnet.evidence, telnet.packet, telnet.file, telnet.status) == (
        "evidence of cleartext-management", 7, "x.pcap", FindingStatus.OPEN)
    assert telnet.time.isoformat() == "2025-11-24T16:00:07+00:00"
    user = role_users["engineer"] if "engineer" in role_users else next(iter(role_users.values()))
    with pytest.raises(InputError, match="say how it was verified"):
        review_finding(rows["default-credentials"], user, "verified", "")
    review_finding(rows["default-credentials"], user, "verified", "password changed 2025-11-20, ticket 4411")
    assert AuditEntry.objects.filter(object_type="discovery.posturefinding").count() == 1
    # the same run again: nothing new, the verified finding stays verified
    summary = reconcile(alpha, [dv])
    assert (summary.new_findings, summary.findings) == (0, 1)
    assert PostureFinding.objects.get(check_name="default-credentials").status == FindingStatus.VERIFIED
    # a run without the Telnet finding marks it gone; seen again, it reopens
    reconcile(alpha, [device("10.1.4.60", findings=[])])
    assert PostureFinding.objects.get(check_name="cleartext-management").status == FindingStatus.GONE
    reconcile(alpha, [dv])
    assert PostureFinding.objects.get(check_name="cleartext-management").status == FindingStatus.OPEN
    assert PostureFinding.objects.count() == 2


def test_posture_findings_for_the_risk_register(alpha_beta):
    alpha, beta = Site.objects.get(slug="alpha"), Site.objects.get(slug="beta")
    reconcile(alpha, [device("10.1.11.10", findings=[finding("outdated-firmware", "firmware old", "medium")])])
    reconcile(beta, [device("10.2.4.9", findings=[finding("snmp-default-community", "SNMP public", "high")])])
    rows = posture_findings([alpha])
    assert [(r["site"], r["check"], r["asset"], r["device"]) for r in rows] == [
        ("alpha", "outdated-firmware", "plc-line1", "10.1.11.10")]
    assert rows[0]["evidence"] == "evidence of outdated-firmware" and rows[0]["status"] == "open"
    assert {r["site"] for r in posture_findings(["beta", alpha.pk])} == {"alpha", "beta"}
    assert len(posture_findings()) == 2
    assert posture_findings([alpha], statuses=["verified"]) == []


def test_discover_store_with_cmdb_and_nmap(alpha):
    from linewatch.cli import app

    csv = DATA / "cmdb_alpha.csv"
    result = CliRunner().invoke(app, ["discover", "--nmap", str(DATA / "nmap_ot_scan.xml"), "--cmdb", str(csv),
                                      "--map", "name=Name,ip=IP", "--site", "alpha", "--store"])
    assert result.exit_code == 0, result.output
    assert "in CMDB only" in result.output
    statuses = dict(DiscoveredDevice.objects.filter(site=alpha).values_list("ip", "status"))
    assert statuses["10.20.111.10"] == DeviceStatus.CMDB and statuses["10.20.112.10"] == DeviceStatus.SHADOW
    assert PostureFinding.objects.filter(device__ip="10.20.112.10", check_name="cleartext-management").exists()
    records, errors = read_cmdb(csv, {"name": "Name", "ip": "IP"})
    assert errors == [] and CmdbRecord.objects.filter(site=alpha).count() == len(records)


def test_a_matched_device_gets_its_assets_owners(alpha):
    from linewatch.core.services import OwnershipIndex
    from linewatch.discovery.services import suggested_owners

    reconcile(alpha, [device("10.1.11.10", "00:1b:1b:12:34:56")])
    dev = DiscoveredDevice.objects.get(site=alpha, key="00:1b:1b:12:34:56")
    owners = suggested_owners([dev])[dev.pk]
    assert owners.teams == OwnershipIndex(Site.objects.filter(pk=alpha.pk)).resolve(dev.asset).teams
    assert [t.slug for t in owners.accountable] == ["alpha-ot"]
