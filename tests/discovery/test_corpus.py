"""Every corpus capture against the tshark oracle (../shared/corpus/discovery/truth_tshark.json).

Per file: hosts, ICS protocols per host (IP hosts, and MACs for layer-2-only frames) and discovery
protocols per host are compared as sets; precision and recall are printed (`pytest -s`) and recorded
as test properties. Then the identity fields tshark extracted must be among our observations.

Known, deliberate differences (excluded from the comparison, not hidden):
- `s7comm-plus` and `melsec`: tshark 4.0 has no dissector for them, so the oracle cannot list them;
  we classify them (S7comm-plus by its 0x72 header, MELSEC by port 5007).
- `bacapp.instance_number` / `vendor_identifier` list values from any BACnet message, including
  Who-Is range limits, the wildcard 4194303 and private transfers; they are not a device identity.
  We check the other way round: every BACnet device id / vendor id we report must be one tshark saw.
- DHCP options are grouped by tshark under the packet's source (0.0.0.0, or the DHCP server for a
  reply); we attach them to the client's hardware address, so they are looked for on any device.
- S7 SZL 0x0011 raw `ausbg`/`ausbe` numbers are checked through the firmware string they encode
  (V3.2.6 = 'V' 3 . 2 . 6); the "Boot Loader" record is the boot loader, not the module.
- ENIP `revision` is checked as major.minor (1027 = 4.03).
"""

from __future__ import annotations

import json

import pytest

from linewatch.discovery.engine import ICS_PROTOCOLS, Discovery
from tests.conftest import CORPUS

ROOT = CORPUS / "discovery"
TRUTH_FILE = ROOT / "truth_tshark.json"
TRUTH = json.loads(TRUTH_FILE.read_text())["files"] if TRUTH_FILE.exists() else {}
NO_TSHARK_DISSECTOR = {"s7comm-plus", "melsec"}

pytestmark = pytest.mark.corpus


def pr(ours: set, truth: set) -> tuple[float, float]:
    tp = len(ours & truth)
    precision = tp / len(ours) if ours else 1.0
    recall = tp / len(truth) if truth else 1.0
    return precision, recall


def pairs(by_host: dict) -> set[tuple[str, str]]:
    return {(h, p) for h, ps in by_host.items() for p in ps}


@pytest.fixture(scope="module")
def results() -> dict[str, Discovery]:
    return {}


def analysed(name: str, cache: dict[str, Discovery]) -> Discovery:
    if name not in cache:
        disc = Discovery()
        assert disc.add_file(ROOT / "pcap" / name, name=name), disc.errors
        cache[name] = disc
    return cache[name]


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_hosts_and_protocols_match_tshark(name, results, record_property):
    truth = TRUTH[name]
    disc = analysed(name, results)
    assert disc.stats.packets == truth["frames"]

    hosts = disc.hosts()
    truth_hosts = set(truth["ipv4_hosts"]) | set(truth["ipv6_hosts"])

    by_host = disc.protocols_by_host()
    l2 = disc.l2_protocols_by_mac()
    ics = {x for x in pairs(by_host) | pairs(l2) if x[1] in ICS_PROTOCOLS and x[1] not in NO_TSHARK_DISSECTOR}
    truth_ics = pairs(truth["ics_protocols_by_host"]) | pairs(truth["l2_only_ics_protocols_by_mac"])

    truth_disc = pairs(truth["discovery_protocols_by_host"]) | pairs(truth["l2_only_discovery_protocols_by_mac"])
    vocabulary = set(json.loads(TRUTH_FILE.read_text())["method"]["token_map_discovery"].values())
    disc_pairs = {x for x in pairs(by_host) | pairs(l2) if x[1] in vocabulary}

    figures = {"hosts": pr(hosts, truth_hosts), "ics": pr(ics, truth_ics), "discovery": pr(disc_pairs, truth_disc)}
    for k, (p, r) in figures.items():
        record_property(f"{k}_precision", round(p, 3))
        record_property(f"{k}_recall", round(r, 3))
    print(f"\n{name}: " + "  ".join(f"{k} P={p:.3f} R={r:.3f}" for k, (p, r) in figures.items()))

    assert hosts == truth_hosts
    assert ics == truth_ics
    assert disc_pairs == truth_disc


def _firmware_from_szl(fields: dict) -> set[str]:
    return {f"V{int(g) & 0xFF}.{int(e) >> 8}.{int(e) & 0xFF}"
            for g in fields.get("s7comm.szl.xy11.0001.ausbg", []) if int(g) >> 8 == ord("V")
            for e in fields.get("s7comm.szl.xy11.0001.ausbe", [])}


FIELD_ATTRS = {
    "enip.lir.name": ("model",), "enip.lir.prodcode": ("product_code",), "enip.lir.serial": ("serial",),
    "enip.lir.vendor": ("vendor_id",), "modbus.object_str_value": ("vendor", "product_code", "firmware", "model"),
    "s7comm.szl.001c.0001.name": ("plc_name",), "s7comm.szl.001c.0002.name": ("module_name",),
    "s7comm.szl.001c.0005.serialn": ("serial",), "s7comm.szl.001c.0007.cputypname": ("model",),
    "s7comm.szl.xy11.0001.anz": ("order_number", "hardware_order_number"),
    "bacapp.object_name": ("object_name", "bacnet_object_name"), "bacapp.vendor_identifier": ("vendor_id",),
    "lldp.tlv.system.name": ("hostname",), "lldp.tlv.system.desc": ("description",),
    "cdp.deviceid": ("hostname",), "cdp.platform": ("model",), "cdp.software_version": ("firmware_description",),
    "dhcp.option.hostname": ("hostname",), "dhcp.option.vendor_class_id": ("dhcp_vendor_class",),
    "http.server": ("server_banner",), "http.user_agent": ("user_agent",),
    "pn_dcp.suboption_device_nameofstation": ("hostname",), "pn_dcp.suboption_device_devicevendorvalue": ("model",),
    "snmp.sysDescr": ("description",),
}


@pytest.mark.parametrize("name", sorted(n for n in TRUTH if TRUTH[n]["identity_fields_by_source"]))
def test_identity_fields_are_extracted(name, results):
    disc = analysed(name, results)
    devices = disc.devices()
    missing = []
    for source, fields in TRUTH[name]["identity_fields_by_source"].items():
        # tshark groups by ip.src (eth.src without IP); DHCP clients sit under 0.0.0.0, so look everywhere then
        if source.endswith(".255"):
            continue  # a broadcast address as source (scanner traffic in ndpi_bacnet) is not a device
        own = [dv for dv in devices if source in (dv.ip, dv.mac) or source in dv.macs]
        candidates = own or devices
        observed = [(o.attribute, o.value) for dv in candidates for o in dv.observations]
        for field, values in fields.items():
            if field.startswith("dhcp."):
                # a DHCP server's reply carries the client's name: we key DHCP identity by the client MAC
                candidates = devices
                observed = [(o.attribute, o.value) for dv in devices for o in dv.observations]
            if field == "enip.lir.revision":
                expected = [("firmware", f"{int(v) >> 8}.{int(v) & 0xFF:02d}") for v in values]
            elif field in ("s7comm.szl.xy11.0001.ausbg", "s7comm.szl.xy11.0001.ausbe"):
                # tshark lists the values as sets, so pairs are lost: one combination must be our firmware
                combos = _firmware_from_szl(fields)
                if not any(("firmware", fw) in observed for fw in combos):
                    missing.append((source, field, sorted(combos)))
                continue
            elif field in ("bacapp.instance_number", "bacapp.vendor_identifier"):
                # tshark lists these from any message (Who-Is limits, private transfers): check ours is a subset
                attr = "bacnet_device_id" if field.endswith("number") else "vendor_id"
                ours = {v for dv in candidates for v in dv.values(attr)}
                assert ours <= set(values), f"{source}: BACnet {attr} {ours - set(values)} not seen by tshark"
                continue
            elif field == "enip.lir.devtype":
                expected = [("device_type", v) for v in values]
            elif field in FIELD_ATTRS:
                expected = [(FIELD_ATTRS[field], v) for v in values if v != "Boot Loader"]
            else:
                pytest.fail(f"no check for identity field {field}")
            for attrs, value in expected:
                attrs = attrs if isinstance(attrs, tuple) else (attrs,)
                hit = any(a in attrs and (v == value or (len(value) > 6 and value in v)
                                          or (a == "device_type" and v.split()[0] == value)) for a, v in observed)
                if not hit:
                    missing.append((source, field, value))
    assert not missing, missing


def test_cameras_and_plcs_are_recognised(results):
    """The named devices of the corpus come out with the right kind, model and firmware."""
    cam = analysed("camera/sentinel_D-LinkCam_Setup-A-1-STA.pcap", results)
    dcs = next(dv for dv in cam.devices() if dv.ip == "10.10.10.37")
    assert (dcs.kind, dcs.best("model"), dcs.best("vendor")) == ("camera", "DCS-935L", "D-Link")
    s7 = analysed("s7/iti_snap7_s300_everything.pcapng", results)
    cpu = next(dv for dv in s7.devices() if dv.ip == "134.217.61.211")
    assert (cpu.kind, cpu.best("model"), cpu.best("firmware")) == ("plc", "CPU 315-2 PN/DP", "V3.2.7")
    assert cpu.best("order_number") == "6ES7 315-2EH14-0AB0"
    enip = analysed("enip/icsnpp_enip_cip_example.pcap", results)
    enbt = next(dv for dv in enip.devices() if dv.ip == "10.1.1.164")
    assert (enbt.best("model"), enbt.best("firmware"), enbt.best("vendor")) == (
        "1756-ENBT/A", "4.03", "Rockwell Automation")
