"""Reconciliation of discovery results into the inventory of the alpha test site.

plc-line1 is 10.1.11.10, MAC 00:1b:1b:12:34:56, firmware V2.9.4, model S7-1516-3 PN/DP; alpha's
ownership rules make alpha-ot accountable for PLCs and alpha-it for the rest of the site.
"""

from __future__ import annotations

import pytest

from linewatch.core.models import Asset, AuditEntry, Site
from linewatch.discovery.engine import Device, Discovery, Observation
from linewatch.discovery.models import DeviceStatus, DiscoveredDevice
from linewatch.discovery.models import Observation as StoredObservation
from linewatch.discovery.services import dismiss, promote, reconcile, suggested_owners
from linewatch.errors import InputError
from linewatch.events.models import StoredEvent
from linewatch.events.schema import EventClass
from tests.discovery import packets as p

T0 = 1_764_000_000.0


def device(ip: str | None, mac: str | None = None, kind: str | None = None, **attrs: str) -> Device:
    dv = Device(key=ip or mac or "", ip=ip, first_seen=T0, last_seen=T0 + 60, kind=kind,
                kind_reason="test" if kind else None)
    if mac:
        dv.macs[mac] = 10
    dv.protocols["s7comm"] = {"server"}
    for n, (attribute, value) in enumerate(attrs.items(), start=1):
        dv.observe(Observation(attribute, value, "s7comm/SZL 0x0011", "line1.pcap", n, T0 + n, 0.9))
    return dv


@pytest.fixture
def alpha(alpha_beta) -> Site:
    return Site.objects.get(slug="alpha")


def test_a_device_with_the_plcs_mac_is_matched_with_the_reason(alpha):
    summary = reconcile(alpha, [device("10.1.11.10", "00:1b:1b:12:34:56", "plc", firmware="V2.9.4")])
    dev = DiscoveredDevice.objects.get(site=alpha, key="00:1b:1b:12:34:56")
    assert dev.status == DeviceStatus.MATCHED
    assert dev.asset.name == "plc-line1"
    assert dev.match_reason == "MAC 00:1b:1b:12:34:56 equals plc-line1:x1"
    assert summary.matched == [dev.key] and not summary.drift and not summary.shadow
    obs = dev.observations.get(attribute="firmware")
    assert (obs.value, obs.source, obs.file, obs.packet, obs.confidence) == (
        "V2.9.4", "s7comm/SZL 0x0011", "line1.pcap", 1, 0.9)
    assert obs.time.timestamp() == T0 + 1
    assert not StoredEvent.objects.filter(source="discovery").exists()


def test_matching_falls_back_to_ip_then_hostname_then_serial(alpha):
    reconcile(alpha, [
        device("10.1.11.10"),
        device("10.1.11.77", hostname="hmi-line1-a.alpha.local"),
        device("10.1.11.78", serial="S C-X4U212345"),
    ])
    reasons = dict(DiscoveredDevice.objects.filter(site=alpha).values_list("key", "match_reason"))
    assert reasons["10.1.11.10"] == "IP 10.1.11.10 equals plc-line1:x1"
    assert reasons["10.1.11.77"] == "hostname hmi-line1-a.alpha.local equals asset hmi-line1-a"
    assert reasons["10.1.11.78"] == "serial S C-X4U212345 equals the serial of plc-line1"


def test_a_changed_firmware_is_drift_and_reaches_the_event_store(alpha):
    summary = reconcile(alpha, [device("10.1.11.10", "00:1b:1b:12:34:56", "plc", firmware="V3.0.1")])
    assert summary.drift == [{"key": "00:1b:1b:12:34:56", "asset": "plc-line1", "attribute": "firmware",
                              "intended": "V2.9.4", "observed": "V3.0.1"}]
    assert summary.events == 1
    stored = StoredEvent.objects.get(source="discovery")
    assert stored.class_uid == EventClass.DEVICE_CONFIG_STATE_CHANGE
    assert stored.site_slug == "alpha"
    body = stored.body
    assert body["attrs"]["device.name"] == "plc-line1"
    assert body["unmapped"]["drift.observed_value"] == "V3.0.1"
    assert body["unmapped"]["discovery.file"] == "line1.pcap"
    # the same capture again: no new event, nothing changes
    again = reconcile(alpha, [device("10.1.11.10", "00:1b:1b:12:34:56", "plc", firmware="V3.0.1")])
    assert again.events == 0 and not again.changed and again.observations == 0
    assert StoredEvent.objects.filter(source="discovery").count() == 1


def test_a_different_mac_on_the_plcs_ip_is_drift(alpha):
    summary = reconcile(alpha, [device("10.1.11.10", "00:1b:1b:99:99:99", model="S7-1516-3 PN/DP")])
    assert [(d["attribute"], d["intended"], d["observed"]) for d in summary.drift] == [
        ("mac", "00:1b:1b:12:34:56", "00:1b:1b:99:99:99")]
    event = StoredEvent.objects.get(source="discovery")
    assert event.body["severity_id"] == 4


def test_an_unknown_ip_is_a_shadow_device_with_a_suggested_owner(alpha):
    summary = reconcile(alpha, [device("10.1.11.99", "00:1b:1b:00:00:99", "plc"), device("10.1.4.200")])
    assert sorted(summary.shadow) == ["00:1b:1b:00:00:99", "10.1.4.200"]
    devices = DiscoveredDevice.objects.filter(site=alpha)
    assert {d.status for d in devices} == {DeviceStatus.SHADOW}
    owners = suggested_owners(devices)
    by_key = {d.key: owners[d.pk] for d in devices}
    assert [t.slug for t in by_key["00:1b:1b:00:00:99"].accountable] == ["alpha-ot"]  # the PLC kind rule
    assert by_key["00:1b:1b:00:00:99"].scope["accountable"] == "kind"
    assert [t.slug for t in by_key["10.1.4.200"].accountable] == ["alpha-it"]  # the site's rule


def test_re_running_on_the_same_result_changes_nothing(alpha):
    result = [device("10.1.11.10", "00:1b:1b:12:34:56", "plc", firmware="V2.9.4", model="S7-1516"),
              device("10.1.11.99", hostname="rogue")]
    first = reconcile(alpha, result)
    assert len(first.new) == 2 and first.observations == 3
    rows = list(DiscoveredDevice.objects.order_by("pk").values())
    obs = list(StoredObservation.objects.order_by("pk").values())
    second = reconcile(alpha, result)
    assert not second.new and not second.changed and second.observations == 0
    assert list(DiscoveredDevice.objects.order_by("pk").values()) == rows
    assert list(StoredObservation.objects.order_by("pk").values()) == obs


def test_promote_creates_the_asset_and_an_audit_entry(alpha, role_users):
    reconcile(alpha, [device("10.1.11.99", "00:1b:1b:00:00:99", "plc", vendor="Siemens", firmware="V3.1")])
    dev = DiscoveredDevice.objects.get(key="00:1b:1b:00:00:99")
    asset = promote(dev, role_users["engineer"], "plc-line1-b")
    assert (asset.site, asset.kind, asset.vendor, asset.firmware) == (alpha, "plc", "Siemens", "V3.1")
    iface = asset.interfaces.get()
    assert (iface.ip, iface.mac) == ("10.1.11.99", "00:1b:1b:00:00:99")
    dev.refresh_from_db()
    assert dev.status == DeviceStatus.PROMOTED and dev.asset == asset
    entry = AuditEntry.objects.get(object_type="core.asset", object_id=str(asset.pk))
    assert (entry.action, entry.actor_name, entry.site_slug) == ("create", "engineer", "alpha")
    assert AuditEntry.objects.filter(object_type="discovery.discovereddevice", object_id=str(dev.pk)).exists()
    # a later run matches it by MAC and keeps the reviewer's decision
    summary = reconcile(alpha, [device("10.1.11.99", "00:1b:1b:00:00:99", "plc", vendor="Siemens", firmware="V3.1")])
    assert summary.reviewed == [dev.key]
    dev.refresh_from_db()
    assert dev.status == DeviceStatus.PROMOTED and dev.match_reason == "MAC 00:1b:1b:00:00:99 equals plc-line1-b:eth0"
    with pytest.raises(InputError):
        promote(dev, role_users["engineer"], "again")


def test_promote_refuses_a_taken_name(alpha, role_users):
    reconcile(alpha, [device("10.1.11.99")])
    with pytest.raises(InputError, match="exists"):
        promote(DiscoveredDevice.objects.get(), role_users["engineer"], "plc-line1")
    assert not Asset.objects.filter(interfaces__ip="10.1.11.99").exists()


def test_dismiss_needs_a_reason_and_sticks(alpha, role_users):
    reconcile(alpha, [device("10.1.11.99")])
    dev = DiscoveredDevice.objects.get()
    with pytest.raises(InputError):
        dismiss(dev, role_users["lead"], "  ")
    dismiss(dev, role_users["lead"], "service laptop of the integrator")
    dev.refresh_from_db()
    assert dev.status == DeviceStatus.DISMISSED and dev.review_note == "service laptop of the integrator"
    entry = AuditEntry.objects.get(object_type="discovery.discovereddevice", object_id=str(dev.pk))
    assert entry.actor_name == "lead" and entry.after["status"] == "dismissed"
    summary = reconcile(alpha, [device("10.1.11.99")])
    assert summary.reviewed == [dev.key] and not summary.shadow


def test_reconcile_takes_the_engine_run_on_a_capture(alpha, tmp_path):
    mac_plc = bytes.fromhex("001b1b123456")
    frames = [
        p.tcp("10.1.11.20", "10.1.11.10", 50000, 102, b"", flags=0x02, smac=p.MAC_A, dmac=mac_plc),
        p.tcp("10.1.11.10", "10.1.11.20", 102, 50000, b"", flags=0x12, smac=mac_plc, dmac=p.MAC_A),
        p.udp("10.1.11.50", "10.1.11.255", 47808, 47808, p.bacnet_i_am(1234, 5), smac=bytes.fromhex("0001f0000050")),
    ]
    path = p.write(tmp_path, "alpha.pcap", p.pcap_bytes(frames))
    disc = Discovery()
    assert disc.add_file(path)
    summary = reconcile(alpha, disc)
    assert "00:1b:1b:12:34:56" in summary.matched
    assert "00:01:f0:00:00:50" in summary.shadow
    # the JSON document of `discover --json` is accepted too, and changes nothing more
    again = reconcile(alpha, disc.document("alpha"))
    assert not again.new and not again.changed


def test_discover_store_reconciles_and_prints_the_summary(alpha, tmp_path):
    import json

    import typer
    from typer.testing import CliRunner

    from linewatch.discovery.cli import discover

    app = typer.Typer()
    app.command()(discover)
    mac_plc = bytes.fromhex("001b1b123456")
    frames = [
        p.tcp("10.1.11.20", "10.1.11.10", 50000, 44818, flags=0x02, smac=p.MAC_A, dmac=mac_plc),
        p.tcp("10.1.11.10", "10.1.11.20", 44818, 50000, p.enip_list_identity_reply(), smac=mac_plc, dmac=p.MAC_A),
    ]
    path = p.write(tmp_path, "line1.pcap", p.pcap_bytes(frames))
    r = CliRunner().invoke(app, [str(path), "--site", "alpha", "--store"])
    assert r.exit_code == 0, r.output
    assert "Reconciled into alpha" in r.output and "drift" in r.output
    plc = DiscoveredDevice.objects.get(site=alpha, key="00:1b:1b:12:34:56")
    assert plc.status == DeviceStatus.MATCHED and plc.asset.name == "plc-line1"
    assert StoredEvent.objects.filter(source="discovery", class_uid=EventClass.DEVICE_CONFIG_STATE_CHANGE).exists()
    r = CliRunner().invoke(app, [str(path), "--site", "alpha", "--store", "--json"])
    doc = json.loads(r.stdout)["reconciliation"]
    assert doc["new"] == [] and doc["changed"] == [] and doc["events"] == 0
    assert doc["matched"] == ["00:1b:1b:12:34:56"] and doc["shadow"] == ["00:00:0c:00:00:01"]  # keyed by MAC
    assert CliRunner().invoke(app, [str(path), "--store"]).exit_code == 2
    assert CliRunner().invoke(app, [str(path), "--site", "nowhere", "--store"]).exit_code == 2


def test_two_engine_devices_with_one_mac_become_one_device(alpha):
    v4 = device("10.1.11.99", "00:1b:1b:00:00:99", "plc", firmware="V1.0")
    v6 = device("fe80::21b:1bff:fe00:99", "00:1b:1b:00:00:99", hostname="plc-new")
    for _ in range(2):
        summary = reconcile(alpha, [v6, v4])
    assert not summary.changed and not summary.new
    dev = DiscoveredDevice.objects.get(site=alpha)
    assert (dev.key, dev.ip, dev.firmware, dev.hostname) == ("00:1b:1b:00:00:99", "10.1.11.99", "V1.0", "plc-new")
    assert dev.observations.count() == 2
