"""The demo manufacturer's own plant capture: 30 minutes of the Kolding network, generated.

`linewatch demo` ships `data/kolding-plant.pcap.gz`, made by this module from the Kolding site file
(`linewatch/demo/sites/20-kolding.yaml`), so what discovery finds there is what the plant model says
— except where the story says otherwise:

- every addressed asset announces itself the way its kind and vendor do on a real network (ARP;
  S7 SZL for Siemens PLCs, EtherNet/IP ListIdentity for Rockwell, Modbus MEI for Schneider, BACnet
  for the Desigo stations, PROFINET DCP for drives and I/O, ONVIF and Hikvision SADP for cameras,
  LLDP, SNMP and syslog for network gear, NetBIOS for Windows hosts, DHCP for the rest) and keeps
  time over NTP;
- the management traffic follows the plant's design, which `kol-fw-01.rules` (chain SITE-SERVICES)
  and the site file's conduits allow host by host. The OT side (site operations, lines, SIS, BMS)
  takes time from `kol-ot-dc-01` (itself from the DMZ relay `kol-wsus-01`) and logs to
  `kol-backup-ot-01`; `kol-ot-dc-01` SNMP-polls its network gear and UPSes, but opens nothing into
  the SIS. The IT side (office, dispatch Wi-Fi, physical security) takes time from the WAN router,
  logs to the DMZ relay and is monitored by group IT over the WAN (not on this LAN); the DMZ takes
  time from its relay. Safety PLCs are identified on their own segment (PROFINET DCP), never read
  from site operations;
- the HMIs, SCADA and engineering workstations poll their controllers (talkers for segmentation);
- `kol-cam-dock-03` announces Hikvision DS-2CD2142FWD-I firmware `V5.5.0 build 170725` (the
  known-exploited camera the vulnerability feeds match) and is managed over plain HTTP;
- `kol-l4-plc-01` answers with firmware V4.5.2 where the model says V4.6.1 (a spare CPU swapped in
  after a fault): firmware **drift**;
- three **shadow devices** no site file has: the Raspberry Pi in the line 1 cabinet polling the
  line 1 PLC (docs/demo.md), an unmanaged Dahua camera in the dispatch hall that a PC logs into
  with HTTP Basic and that talks to its vendor's cloud, and a Teltonika 4G router in the
  refrigeration network (zone `bms`) through which the refrigeration contractor reaches the AK-SM 800 (its VPN
  runs over 4G, so only the traffic it lets in shows on the plant LAN);
- the APC UPS cards answer SNMP v2c with community `public`, and the Danfoss AK-SM 800 keeps no
  time: posture findings.

Deterministic: the same site file gives the same bytes (a test checks the committed file).
`python -m linewatch.discovery.demo_capture` rewrites it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import struct
from pathlib import Path
from typing import Any

import yaml

from linewatch.discovery import frames as f

SITE_FILE = Path(__file__).resolve().parent.parent / "demo" / "sites" / "20-kolding.yaml"
CAPTURE = Path(__file__).resolve().parent / "data" / "kolding-plant.pcap.gz"
T0 = dt.datetime(2026, 11, 25, 5, 0, tzinfo=dt.UTC).timestamp()
SPAN = 1800.0  # seconds of capture
POLL = 60.0  # the pollers' interval

NTP_SERVER = "kol-ot-dc-01"  # the OT side's time source, also the SNMP monitoring probe
SYSLOG_SERVER = "kol-backup-ot-01"  # runs the OT side's syslog collector
DMZ_RELAY = "kol-wsus-01"  # the DMZ's NTP and syslog relay (time for the DMZ and kol-ot-dc-01, the IT side's logs)
WAN_ROUTER = "kol-rtr-wan-01"  # the IT side's time source
IT_ZONES = {"office", "logistics-wlan", "physec"}  # group IT's side of the firewall
DMZ_ZONES = {"idmz"}
EWS = "kol-ews-01"
SCADA = "kol-scada-01"
BMS = "kol-bms-cc-01"
VMS = "kol-vms-rec-01"
DRIFT = {"kol-l4-plc-01": "V4.5.2"}  # asset -> firmware on the wire
NO_NTP = {"kol-cs-aksm-01"}  # keeps no time: a posture finding
NO_SYSLOG = {"kol-l3-sw-01"}  # logs nowhere: a posture finding
PLAIN_HTTP = {"kol-cam-dock-03"}  # managed over HTTP without TLS
DEFAULT_COMMUNITY_KINDS = {"ups"}  # SNMP v2c "public"
WINDOWS_KINDS = {"workstation", "laptop", "server", "domain_controller", "jump_host", "historian", "scada_server",
                 "engineering_workstation", "nvr"}
NETWORK_KINDS = {"switch", "router", "firewall", "wireless_ap"}
DCP_VENDORS = ("Siemens", "SEW-EURODRIVE", "ifm electronic", "Danfoss")

SHADOW = {
    "raspberrypi": {"ip": "10.20.101.77", "mac": "dc:a6:32:5e:91:0c"},
    "dahua-cam": {"ip": "10.20.140.201", "mac": "3c:ef:8c:4b:19:a2"},
    "teltonika": {"ip": "10.20.130.250", "mac": "00:1e:42:3c:5d:8e"},
}
INTERNET_P2P = "47.254.131.9"  # the camera vendor's cloud relay


class Capture:
    """Frames with timestamps, kept in the order made; written sorted by time (stable)."""

    def __init__(self) -> None:
        self.records: list[tuple[float, int, bytes]] = []

    def add(self, ts: float, frame: bytes) -> None:
        self.records.append((round(ts, 6), len(self.records), frame))

    def pcap(self) -> bytes:
        return f.pcap_file([(ts, frame) for ts, _n, frame in sorted(self.records)])


class Host:
    def __init__(self, name: str, kind: str, ip: str, mac: str, asset: dict[str, Any] | None = None) -> None:
        self.name, self.kind, self.ip, self.mac = name, kind, ip, f.mac(mac)
        self.asset = asset or {}
        self.port = 49152 + int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) % 8000

    @property
    def zone(self) -> str:
        return self.asset.get("zone", "")

    @property
    def vendor(self) -> str:
        return self.asset.get("vendor", "")

    @property
    def model(self) -> str:
        return self.asset.get("model", "")

    @property
    def firmware(self) -> str:
        return DRIFT.get(self.name, self.asset.get("firmware", ""))

    @property
    def serial(self) -> str:
        return self.asset.get("serial", "")

    def next_port(self) -> int:
        self.port = 49152 + (self.port - 49152 + 1) % 16000
        return self.port


def hosts(site: dict[str, Any]) -> dict[str, Host]:
    out: dict[str, Host] = {}
    for a in site["assets"]:
        nics = [n for n in a.get("interfaces", []) if n.get("ip") and n.get("mac")]
        if nics:
            out[a["name"]] = Host(a["name"], a["kind"], str(nics[0]["ip"]), nics[0]["mac"], a)
    return out


def time_source(h: Host, hs: dict[str, Host]) -> Host | None:
    """Where a host takes its time from (None: a time source whose upstream is off this LAN)."""
    if h.name in (WAN_ROUTER, DMZ_RELAY):
        return None
    if h.zone in IT_ZONES:
        return hs[WAN_ROUTER]
    if h.zone in DMZ_ZONES or h.name == NTP_SERVER:
        return hs[DMZ_RELAY]
    return hs[NTP_SERVER]


def bacnet_read_property(instance: int, prop: int) -> bytes:
    """A confirmed ReadProperty request on the Device object (what Desigo CC sends before the station answers)."""
    apdu = b"\x00\x05\x01\x0c\x0c" + struct.pack(">I", (8 << 22) | instance) + bytes([0x19, prop])
    npdu = b"\x01\x04" + apdu  # expecting a reply
    return b"\x81\x0a" + struct.pack(">H", 4 + len(npdu)) + npdu


def udp(cap: Capture, ts: float, a: Host, b: Host | str, sport: int, dport: int, payload: bytes,
        dmac: bytes | None = None) -> None:
    dst = b.ip if isinstance(b, Host) else b
    mac = dmac if dmac is not None else (b.mac if isinstance(b, Host) else b"\xff" * 6)
    cap.add(ts, f.udp(a.ip, dst, sport, dport, payload, smac=a.mac, dmac=mac))


def tcp_session(cap: Capture, ts: float, client: Host, server: Host | tuple[str, bytes], dport: int,
                exchanges: list[tuple[bytes, bytes]]) -> None:
    """SYN, SYN-ACK, then request / response pairs, 10 ms apart (the client's SYN names it client)."""
    sip, smac = (server.ip, server.mac) if isinstance(server, Host) else server
    sport = client.next_port()
    cap.add(ts, f.tcp_seg(client.ip, sip, sport, dport, b"", 0x02, client.mac, smac, seq=1000, ack=0))
    cap.add(ts + 0.001, f.tcp_seg(sip, client.ip, dport, sport, b"", 0x12, smac, client.mac, seq=5000, ack=1001))
    t = ts + 0.002
    for request, response in exchanges:
        if request:
            cap.add(t, f.tcp_seg(client.ip, sip, sport, dport, request, 0x18, client.mac, smac))
        if response:
            cap.add(t + 0.004, f.tcp_seg(sip, client.ip, dport, sport, response, 0x18, smac, client.mac))
        t += 0.010


# ------------------------------------------------------------------ identity messages per vendor


def s7_identity(h: Host) -> list[bytes]:
    order = re.search(r"\((6ES7[^)]+)\)", h.model)
    fw = re.match(r"V(\d+)\.(\d+)\.(\d+)", h.firmware)
    module = re.search(r"(CPU [^(]+?)\s*(\(|$)", h.model)
    out = []
    recs = [f.szl11_record(1, (order.group(1) if order else "").encode(), 0, 0)]
    if fw:
        recs.append(f.szl11_record(3, b"", (ord("V") << 8) | int(fw[1]), (int(fw[2]) << 8) | int(fw[3])))
    out.append(f.s7_szl_response(0x0011, recs, 28))
    names = [(1, h.name), (2, re.sub(r"\s*\(.*", "", h.model)[:32]), (5, h.serial),
             (7, module.group(1).strip() if module else "")]
    out.append(f.s7_szl_response(0x001C, [f.szl1c_record(i, t.encode()) for i, t in names if t], 34))
    return out


def s7_read_job() -> bytes:
    item = b"\x12\x0a\x10\x02\x00\x10\x00\x01\x84\x00\x00\x00"
    param = b"\x04\x01" + item
    s7 = b"\x32\x01\x00\x00\x00\x02" + struct.pack(">HH", len(param), 0) + param
    cotp = b"\x02\xf0\x80"
    return struct.pack(">BBH", 3, 0, 4 + len(cotp) + len(s7)) + cotp + s7


def enip_identity(h: Host) -> bytes:
    name = re.search(r"\b(\d{4}[A-Z]?-[A-Z0-9]+(?:/[A-Z])?)", h.model)
    rev = re.match(r"(\d+)\.(\d+)", h.firmware)
    devtype = {"plc": 14, "safety_plc": 14, "io_module": 12, "hmi": 24}.get(h.kind, 0)
    serial = int(h.serial, 16) if re.fullmatch(r"[0-9A-Fa-f]{1,8}", h.serial) else 0
    return f.enip_list_identity_reply(name=(name.group(1) if name else h.model[:32]).encode(), vendor=1,
                                      devtype=devtype, code=166 if devtype == 14 else 58,
                                      rev=(int(rev[1]), int(rev[2])) if rev else (1, 1), serial=serial)


def enip_list_identity_request() -> bytes:
    return struct.pack("<HHII8sI", 0x63, 0, 0, 0, b"\x00" * 8, 0)


def modbus_identity(h: Host) -> bytes:
    code = re.search(r"\b([A-Z]{3,4}[A-Z0-9]{5,})\b", h.model)
    family = re.sub(r"\s*\b[A-Z]{3,4}[A-Z0-9]{5,}\b.*", "", h.model).strip() or h.model
    objects = {0: b"Schneider Electric", 1: (code.group(1) if code else h.model[:20]).encode(),
               2: h.firmware.encode(), 4: family.encode()[:40]}
    if code:
        objects[5] = code.group(1).encode()
    return f.modbus_mei_response(objects)


def modbus_mei_request() -> bytes:
    return struct.pack(">HHHB", 1, 0, 5, 1) + b"\x2b\x0e\x01\x00"


def snmp_v3_report() -> bytes:
    """An SNMPv3 message (no community on the wire): the header the dissector reads, nothing more."""
    def tlv(tag: int, v: bytes) -> bytes:
        return bytes([tag, len(v)]) + v

    header = tlv(0x30, tlv(0x02, b"\x01") + tlv(0x02, b"\x05\xdc") + tlv(0x04, b"\x04") + tlv(0x02, b"\x03"))
    return tlv(0x30, tlv(0x02, b"\x03") + header + tlv(0x04, b"") + tlv(0x30, tlv(0x04, b"") + tlv(0x04, b"")))


def lldp_description(h: Host) -> str:
    if h.vendor == "Siemens":
        order = re.search(r"\((6GK[^)]+)\)", h.model)
        model = re.sub(r"\s*\(.*", "", h.model)
        return f"Siemens, SIMATIC NET, {model}, {order.group(1) if order else ''}, HW: 2, FW: {h.firmware}"
    if h.vendor == "Fortinet":
        return f"{h.model.replace(' ', '-')} {h.firmware.replace('FortiOS ', 'v')},build1639,240711 (GA.M)"
    if h.vendor.startswith("HPE Aruba"):
        return f"ArubaOS (MODEL: {h.model}), Version {h.firmware.replace('ArubaOS ', '')}"
    version = h.firmware.split()[-1]
    train = "Cisco IOS XE Software" if "XE" in h.firmware else "Cisco IOS Software"
    return f"{train}, Version {version}, RELEASE SOFTWARE (fc2)"


def dhcp_vendor_class(h: Host) -> str:
    return {"handheld": "android-dhcp-11", "visitor_kiosk": "android-dhcp-12", "phone": "yealink",
            "printer": "Zebra Technologies" if "Zebra" in h.vendor else "Ricoh"}.get(h.kind, "udhcp 1.31.1")


# ------------------------------------------------------------------ the capture


def build(site_file: Path = SITE_FILE) -> bytes:  # noqa: C901 - one scenario, told in order
    site = yaml.safe_load(site_file.read_text(encoding="utf-8"))
    hs = hosts(site)
    cap = Capture()
    ntp, ews, scada, bms, vms = (hs[n] for n in (NTP_SERVER, EWS, SCADA, BMS, VMS))
    bcast = b"\xff" * 6
    for n, h in enumerate(hs.values()):
        t = T0 + 1.0 + n * 0.25
        cap.add(t, f.arp_announce(h.mac, h.ip))
        if h.kind == "firewall":  # the gateway of every zone: the same MAC for many addresses
            for nic in h.asset["interfaces"][1:]:
                if nic.get("ip") and nic.get("mac"):
                    cap.add(t + 0.01, f.arp_announce(f.mac(nic["mac"]), str(nic["ip"])))
        # time: two NTP exchanges 30 minutes apart
        clock = time_source(h, hs)
        if h.name not in NO_NTP and clock is not None:
            for k, when in enumerate((T0 + 5 + n * 0.25, T0 + SPAN - 60 + n * 0.25)):
                udp(cap, when, h, clock, 123, 123, f.ntp_packet(3, when))
                udp(cap, when + 0.002, clock, h, 123, 123, f.ntp_packet(4, when + k))
        ident = t + 0.05
        if h.kind == "safety_plc" and h.zone == "sis":  # on the safety segment only: no read from site-ops
            if h.vendor == "Siemens":
                cap.add(ident, f.dcp_identify_response(h.mac, h.name.encode(), re.sub(r"\s*\(.*", "", h.model)
                                                       .encode()[:60]))
        elif h.kind in ("plc", "safety_plc") and h.vendor == "Siemens":
            replies = s7_identity(h)
            tcp_session(cap, ident, ews, h, 102, [(s7_read_job(), replies[0]), (s7_read_job(), replies[1])])
        elif h.vendor == "Rockwell Automation":
            udp(cap, ident, ews, h, 44818, 44818, enip_list_identity_request())
            udp(cap, ident + 0.003, h, ews, 44818, 44818, enip_identity(h))
        elif h.vendor == "Schneider Electric" and h.kind in ("plc", "rtu", "io_module"):
            tcp_session(cap, ident, scada, h, 502, [(modbus_mei_request(), modbus_identity(h))])
        elif h.kind == "bms_controller" and h.vendor == "Siemens":
            inst = 2000 + n
            udp(cap, ident, h, "10.20.130.255", 47808, 47808, f.bacnet_i_am(inst, 7), dmac=bcast)
            for prop, text in ((77, h.name), (121, "Siemens Building Technologies"),
                               (70, re.sub(r"\s*automation station.*", "", h.model)), (44, h.firmware)):
                udp(cap, ident + 0.009 + prop / 1000, bms, h, 47808, 47808, bacnet_read_property(inst, prop))
                udp(cap, ident + 0.01 + prop / 1000, h, bms, 47808, 47808, f.bacnet_rp_ack(inst, prop, text))
        elif h.kind in ("io_module", "drive", "sensor") and h.vendor in DCP_VENDORS:
            cap.add(ident, f.dcp_identify_response(h.mac, h.name.encode(), re.sub(r"\s*\(.*", "", h.model)
                                                   .encode()[:60]))
        elif h.kind == "camera":
            probe_model = h.model.split()[1] if h.vendor.startswith("Axis") else h.model.split()[0]
            name = {"Axis Communications": "AXIS", "Hanwha Vision": "Hanwha", "Hikvision": "HIKVISION"}.get(
                h.vendor, h.vendor)
            udp(cap, ident, h, vms, 3702, 3702, f.onvif_probe_match(
                probe_model, name, "kolding", f"http://{h.ip}/onvif/device_service",
                hashlib.md5(h.name.encode()).hexdigest()))  # noqa: S324 - a stable uuid, not security
            if h.vendor == "Hikvision":
                dsp = "V7.3 build 170714" if "170725" in h.firmware else "V7.3 build 230801"
                udp(cap, ident + 0.02, h, "239.255.255.250", 37020, 37020, f.sadp_inquiry_reply(
                    h.model, h.serial, h.asset["interfaces"][0]["mac"], h.ip,
                    h.firmware.replace(" build", "build"), dsp), dmac=bytes.fromhex("01005e7ffffa"))
            tcp_session(cap, ident + 0.05, vms, h, 554, [(b"OPTIONS rtsp://" + h.ip.encode() +
                                                         b"/ RTSP/1.0\r\nCSeq: 1\r\n\r\n",
                                                         b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n")])
            if h.name in PLAIN_HTTP:
                for k in range(int(SPAN // (POLL * 5))):
                    tcp_session(cap, ident + 1 + k * POLL * 5, vms, h, 80, [(
                        f.http_get("/ISAPI/System/status", h.ip), f.http_response("App-webs/"))])
            else:
                tcp_session(cap, ident + 0.1, vms, h, 443, [(b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x03", b"")])
        elif h.kind in NETWORK_KINDS:
            for when in (ident, ident + SPAN / 2):
                cap.add(when, f.lldp_full(h.mac, h.name, lldp_description(h), h.ip))
        elif h.kind in WINDOWS_KINDS:
            udp(cap, ident, h, ".".join(h.ip.split(".")[:3]) + ".255", 137, 137,
                f.nbns_registration(h.name, h.ip), dmac=bcast)
        elif h.kind == "ups":
            pass  # identified by SNMP below
        elif h.name == "kol-cs-aksm-01":
            for k in range(int(SPAN // POLL)):
                tcp_session(cap, ident + k * POLL, bms, h, 80, [(f.http_get("/html/xml.cgi", h.ip),
                                                                 f.http_response("AK-SM 800A"))])
        else:
            udp(cap, ident, h, "255.255.255.255", 68, 67, f.dhcp_request(h.mac, h.ip, h.name, dhcp_vendor_class(h)),
                dmac=bcast)
        # monitoring (OT side, not into the SIS; group IT monitors its side over the WAN) and logging
        if (h.kind in NETWORK_KINDS or h.kind in DEFAULT_COMMUNITY_KINDS) and h.zone not in IT_ZONES | {"sis"}:
            for k in range(int(SPAN // POLL)):
                when = T0 + 20 + n * 0.25 + k * POLL
                if h.kind in DEFAULT_COMMUNITY_KINDS:
                    descr = (f"APC Web/SNMP Management Card (MB:v4.5.4 PF:{h.firmware.split()[-1]} "
                             f"PN:apc_hw21_aos_{h.firmware.split()[-1].lstrip('v')}.bin SN: {h.serial})")
                    udp(cap, when, ntp, h, 50161, 161, _snmp_get(b"public"))
                    udp(cap, when + 0.003, h, ntp, 161, 50161, f.snmp_get_response(b"public", descr.encode()))
                else:
                    udp(cap, when, ntp, h, 50161, 161, snmp_v3_report())
                    udp(cap, when + 0.003, h, ntp, 161, 50161, snmp_v3_report())
        syslog = hs[DMZ_RELAY if h.zone in IT_ZONES else SYSLOG_SERVER]
        if (h.kind in NETWORK_KINDS or h.kind in ("domain_controller", "nvr")) and h.name not in NO_SYSLOG \
                and h is not syslog:
            for k in range(6):
                when = T0 + 30 + n * 0.25 + k * 300
                udp(cap, when, h, syslog, 514, 514, f.syslog_message(h.name, "%SYS-5-CONFIG_I: heartbeat", when))
    _polling(cap, hs)
    _shadows(cap, hs)
    return cap.pcap()


def _snmp_get(community: bytes) -> bytes:
    def tlv(tag: int, v: bytes) -> bytes:
        return bytes([tag, len(v)]) + v

    oid = tlv(0x06, bytes([0x2B, 6, 1, 2, 1, 1, 1, 0]))
    vb = tlv(0x30, tlv(0x30, oid + b"\x05\x00"))
    pdu = tlv(0xA0, tlv(0x02, b"\x01") + tlv(0x02, b"\x00") + tlv(0x02, b"\x00") + vb)
    return tlv(0x30, tlv(0x02, b"\x01") + tlv(0x04, community) + pdu)


def _polling(cap: Capture, hs: dict[str, Host]) -> None:
    """HMIs and SCADA poll their line's controllers once a minute (the talkers segmentation reads)."""
    pairs = []
    for h in hs.values():
        if h.kind != "hmi":
            continue
        line = re.match(r"kol-(l\d)-", h.name)
        plc = hs.get(f"kol-{line.group(1)}-plc-01") if line else None
        if plc is not None:
            pairs.append((h, plc))
    scada = hs[SCADA]
    pairs += [(scada, p) for p in hs.values() if p.kind == "plc"]
    for n, (client, plc) in enumerate(pairs):
        for k in range(int(SPAN // POLL)):
            when = T0 + 40 + n * 0.5 + k * POLL
            if plc.vendor == "Siemens":
                tcp_session(cap, when, client, plc, 102, [(s7_read_job(), s7_read_job())])
            elif plc.vendor == "Rockwell Automation":
                tcp_session(cap, when, client, plc, 44818, [(struct.pack("<HHII8sI", 0x65, 4, 0, 0, b"\0" * 8, 0)
                                                             + b"\x01\x00\x00\x00", b"")])
            else:
                read = struct.pack(">HHHBBHH", k + 1, 0, 6, 1, 3, 0, 10)
                tcp_session(cap, when, client, plc, 502, [(read, struct.pack(">HHHBBB", k + 1, 0, 23, 1, 3, 20)
                                                           + b"\x00" * 20)])


def _shadows(cap: Capture, hs: dict[str, Host]) -> None:
    plc = hs["kol-l1-plc-01"]
    gw_mac = f.mac(next(n["mac"] for n in hs["kol-fw-01"].asset["interfaces"] if str(n["ip"]).endswith(".1")))
    # 1. The Raspberry Pi in the line 1 cabinet: DHCP, then S7 and OPC UA polling of the line 1 PLC.
    pi = Host("raspberrypi", "", SHADOW["raspberrypi"]["ip"], SHADOW["raspberrypi"]["mac"])
    cap.add(T0 + 300.0, f.arp_announce(pi.mac, pi.ip))
    dhcp = f.dhcp_request(pi.mac, pi.ip, "raspberrypi", "dhcpcd-9.4.1:Linux-6.1.21-v8+:aarch64:BCM2835")
    udp(cap, T0 + 300.1, pi, "255.255.255.255", 68, 67, dhcp, dmac=b"\xff" * 6)
    for k in range(int((SPAN - 300) // 30)):
        when = T0 + 301 + k * 30
        tcp_session(cap, when, pi, plc, 102, [(s7_read_job(), s7_read_job())])
        if k % 4 == 0:
            tcp_session(cap, when + 1, pi, plc, 4840, [(b"HELF" + struct.pack("<I", 56) + b"\x00" * 48,
                                                        b"ACKF" + struct.pack("<I", 28) + b"\x00" * 20)])
    # 2. An unmanaged Dahua camera in the dispatch hall: ONVIF, HTTP Basic from a PC, a cloud relay.
    cam = Host("dahua-cam", "", SHADOW["dahua-cam"]["ip"], SHADOW["dahua-cam"]["mac"])
    pc = hs["kol-ws-05"]
    cap.add(T0 + 2.5, f.arp_announce(cam.mac, cam.ip))
    udp(cap, T0 + 2.6, cam, hs[VMS], 3702, 3702, f.onvif_probe_match(
        "IPC-HFW2431S-S-S2", "Dahua", "dispatch", f"http://{cam.ip}/onvif/device_service",
        "5f0c9a1e-2b7d-4e11-9c3a-3cef8c4b19a2"))
    for k in range(6):
        when = T0 + 120 + k * 300
        tcp_session(cap, when, pc, cam, 80, [(f.http_get("/cgi-bin/snapshot.cgi", cam.ip, basic="YWRtaW46YWRtaW4="),
                                              f.http_response("Webs"))])
        tcp_session(cap, when + 5, cam, (INTERNET_P2P, gw_mac), 443, [(b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x03",
                                                                       b"\x16\x03\x03\x00\x05\x02\x00\x00\x01\x03")])
    # 3. A Teltonika 4G router in the refrigeration network (zone bms): DNS and a way in to the AK-SM.
    rut = Host("teltonika", "", SHADOW["teltonika"]["ip"], SHADOW["teltonika"]["mac"])
    aksm = hs["kol-cs-aksm-01"]
    cap.add(T0 + 3.5, f.arp_announce(rut.mac, rut.ip))
    # (its VPN to the contractor runs over the 4G side and is not on the plant LAN: only what it lets in is)
    for k in range(16):
        when = T0 + 200 + k * 90
        udp(cap, when, aksm, rut, 40000 + k, 53, struct.pack(">HHHHHH", k, 0x0100, 1, 0, 0, 0)
            + b"\x07danfoss\x03com\x00\x00\x01\x00\x01")
        udp(cap, when + 0.02, rut, aksm, 53, 40000 + k, struct.pack(">HHHHHH", k, 0x8180, 1, 1, 0, 0)
            + b"\x07danfoss\x03com\x00\x00\x01\x00\x01" + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04"
            + bytes([52, 58, 94, 12]))
        tcp_session(cap, when + 1, rut, aksm, 80, [(f.http_get("/html/xml.cgi", aksm.ip),
                                                    f.http_response("AK-SM 800A"))])


def compressed(pcap: bytes) -> bytes:
    """gzip with no name and time in the header, so the same capture gives the same bytes."""
    import gzip

    return gzip.compress(pcap, compresslevel=9, mtime=0)


def write(path: Path = CAPTURE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(compressed(build()))
    return path


if __name__ == "__main__":  # pragma: no cover
    p = write()
    print(f"wrote {p} ({p.stat().st_size:,} bytes)")
