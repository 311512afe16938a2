"""Posture checks (engine.posture): each finding with its evidence, and no finding without it."""

from __future__ import annotations

from linewatch.discovery.engine import Device, Observation, Talker
from linewatch.discovery.engine.posture import assess, newest_firmware, version_key
from tests.discovery import packets as p

T0 = 1_795_510_800.0


def dev(ip: str, kind: str | None = None, packets: int = 100, span: float = 3600.0, **attrs: str) -> Device:
    dv = Device(key=ip, ip=ip, first_seen=T0, last_seen=T0 + span, packets=packets, kind=kind,
                kind_reason="test" if kind else None)
    for n, (a, v) in enumerate(attrs.items(), start=1):
        dv.observe(Observation(a, v, f"test/{a}", "plant.pcap", n, T0 + n, 0.9))
    return dv


def checks(dv: Device) -> dict[str, dict]:
    return {f["check"]: f for f in dv.findings}


def test_version_key_orders_builds():
    assert version_key("V5.5.0 build 170725") < version_key("V5.7.15 build 230315")
    assert version_key("V2.9.4") == (2, 9, 4) and version_key("unknown") is None


def test_cleartext_management_names_the_talker():
    cam = dev("10.0.0.61", "camera")
    cam.protocols = {"http": {"server"}, "telnet": {"server"}, "tls": {"server"}}
    talker = Talker("10.0.0.10", "10.0.0.61", "tcp", 80, "http", packets=12, flows=2, first_seen=T0 + 5)
    assess([cam], [talker])
    found = [f for f in cam.findings if f["check"] == "cleartext-management"]
    assert [f["severity"] for f in found] == ["high", "medium"]  # Telnet first
    http = next(f for f in found if "HTTP" in f["finding"])
    assert http["evidence"].startswith("10.0.0.10 → 10.0.0.61:80/tcp, 12 packet(s) in 2 flow(s)")
    assert http["time"] == "2026-11-24T09:00:05Z" and http["source"] == "flow/http"
    client = dev("10.0.0.10", "hmi")
    client.protocols = {"http": {"client"}}
    assess([client], [talker])
    assert "cleartext-management" not in checks(client)  # using HTTP is not serving it


def test_snmp_default_and_other_communities():
    agent = dev("10.0.0.50", "switch", snmp_community="public")
    agent.observe(Observation("snmp_community", "s3cr3t-ro", "snmp/community", "plant.pcap", 9, T0 + 9, 0.9))
    assess([agent])
    c = checks(agent)
    assert c["snmp-default-community"]["severity"] == "high"
    assert "a default: public" in c["snmp-default-community"]["finding"]
    assert c["snmp-default-community"]["packet"] == 1 and c["snmp-default-community"]["file"] == "plant.pcap"
    assert c["snmp-cleartext-community"]["packet"] == 9


def test_firmware_older_than_the_newest_seen_for_the_model():
    old = dev("10.0.0.23", "camera", vendor="Hikvision", model="DS-2CD2142FWD-I", firmware="V5.5.0 build 170725")
    new = dev("10.0.0.24", "camera", vendor="Hikvision", model="DS-2CD2142FWD-I", firmware="V5.5.82 build 190220")
    other = dev("10.0.0.25", "camera", vendor="Hikvision", model="DS-2CD2143G2-I", firmware="V5.7.15 build 230315")
    assess([old, new, other])
    f = checks(old)["outdated-firmware"]
    assert f["finding"] == ("firmware V5.5.0 build 170725 is older than V5.5.82 build 190220, the newest known for "
                            "Hikvision DS-2CD2142FWD-I")
    assert "on 10.0.0.24" in f["evidence"] and f["source"] == "test/firmware" and f["packet"] == 3
    assert "outdated-firmware" not in checks(new) and "outdated-firmware" not in checks(other)
    assert newest_firmware([old, new])[("hikvision", "ds2cd2142fwdi")] == ("V5.5.82 build 190220", "10.0.0.24")


def test_firmware_newer_from_feed_product_data():
    cam = dev("10.0.0.23", "camera", vendor="Hikvision", model="DS-2CD2142FWD-I", firmware="V5.5.0 build 170725")
    assess([cam], known_newest={("hikvision", "ds2cd2142fwdi"): ("V5.5.800 build 210628", "NVD CVE-2021-36260")})
    assert "NVD CVE-2021-36260" in checks(cam)["outdated-firmware"]["evidence"]


def test_default_credentials_for_kinds_that_ship_them():
    router = dev("10.0.0.1", "router", vendor="Teltonika")
    plc = dev("10.0.0.2", "plc", vendor="Siemens")
    assess([router, plc])
    f = checks(router)["default-credentials"]
    assert "admin / admin01" in f["finding"] and "not verified as changed" in f["finding"]
    assert f["source"] == "test/vendor"
    assert "default-credentials" not in checks(plc)


def test_absence_of_time_sync_and_logging_needs_a_long_enough_watch():
    sw = dev("10.0.0.2", "switch")
    sw.protocols = {"snmp": {"server"}}
    assess([sw])
    c = checks(sw)
    assert c["no-time-sync"]["evidence"].startswith("no NTP (udp/123) or PTP traffic to or from it in 100 packet(s)")
    assert "60 min" in c["no-logging"]["evidence"]
    synced = dev("10.0.0.3", "switch")
    synced.protocols = {"ntp": {"client"}, "syslog": {"client"}}
    short = dev("10.0.0.4", "switch", span=60)
    few = dev("10.0.0.5", "switch", packets=3)
    cam = dev("10.0.0.6", "camera")  # cameras keep time; logging is not expected of them
    assess([synced, short, few, cam])
    for d in (synced, short, few):
        assert not {"no-time-sync", "no-logging"} & set(checks(d)), d.ip
    assert "no-time-sync" in checks(cam) and "no-logging" not in checks(cam)


def test_ptp_at_layer_2_and_syslog_on_the_wire_count(tmp_path):
    from linewatch.discovery.engine import Discovery

    frames = [p.eth(p.MAC_PLC, bytes.fromhex("011b19000000"), 0x88F7, b"\x00\x02" + b"\x00" * 42),
              p.udp("10.0.0.30", "10.0.0.99", 40000, 514, b"<13>plc started", smac=p.MAC_PLC)]
    disc = Discovery()
    disc.add_file(p.write(tmp_path, "ptp.pcap", p.pcap_bytes(frames)))
    plc = next(d for d in disc.devices() if d.ip == "10.0.0.30")
    assert "ptp" in plc.protocols and plc.protocols["syslog"] == {"client"}


def test_hikvision_firmware_with_forced_activation_has_no_factory_login():
    old = dev("10.0.0.23", "camera", vendor="Hikvision", firmware="V5.2.5 build 141201")
    new = dev("10.0.0.21", "camera", vendor="Hikvision", firmware="V5.7.15 build 230830")
    unknown = dev("10.0.0.22", "camera", vendor="Hikvision")
    assess([old, new, unknown])
    assert "admin / 12345" in checks(old)["default-credentials"]["finding"]
    assert "default-credentials" not in checks(new) and "default-credentials" in checks(unknown)


def test_newest_known_from_longer_names_elsewhere():
    plc = dev("10.0.0.30", "plc", vendor="Siemens", model="CPU 1215C DC/DC/DC", firmware="V4.5.2")
    known = {("siemens", "simatics71200cpu1215cdcdcdc6es72151ag400xb0"): ("V4.6.1", "asset kol-l4-plc-01 at kolding"),
             ("siemens", "cpu"): ("V9.9", "too short a name to count")}
    assess([plc], known_newest=known)
    f = checks(plc)["outdated-firmware"]
    assert "older than V4.6.1" in f["finding"] and "asset kol-l4-plc-01 at kolding" in f["evidence"]
