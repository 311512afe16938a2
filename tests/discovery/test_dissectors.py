"""Identity dissectors on hand-built messages, whole and broken, and through the whole engine."""

from __future__ import annotations

import inspect
import re
import struct

import pytest

from linewatch.discovery.engine import Discovery, kinds
from linewatch.discovery.engine import dissectors as d
from tests.discovery import packets as pk


def facts(fs) -> dict[str, str]:
    return {f.attribute: f.value for f in fs}


def run(tmp_path, frames) -> Discovery:
    disc = Discovery()
    assert disc.add_file(pk.write(tmp_path, "t.pcap", pk.pcap_bytes(frames)))
    return disc


def device(disc: Discovery, key: str):
    return next(dv for dv in disc.devices() if key in (dv.ip, dv.key, dv.mac))


def test_enip_list_identity_gives_model_firmware_serial():
    f = facts(d.enip_list_identity(pk.enip_list_identity_reply()))
    assert f["model"] == "1756-ENBT/A" and f["vendor"] == "Rockwell Automation"
    assert f["firmware"] == "4.03" and f["serial"] == "0x00524d8e" and f["product_code"] == "58"
    assert f["device_type"].startswith("12 ")


def test_enip_truncated_identity_is_malformed():
    with pytest.raises(d.Malformed):
        d.enip_list_identity(pk.enip_list_identity_reply()[:40])


def test_modbus_mei_response_objects():
    msg = pk.modbus_mei_response({0: b"linewatch-sim", 1: b"LW-SIM-PLC", 2: b"1.2.3", 5: b"SIM-1000"})
    assert facts(d.modbus_device_id(msg)) == {"vendor": "linewatch-sim", "product_code": "LW-SIM-PLC",
                                              "firmware": "1.2.3", "model": "SIM-1000"}


def test_modbus_mei_request_and_broken_response():
    request = bytes.fromhex("000100000005012b0e0101")
    assert d.modbus_device_id(request) == []
    broken = pk.modbus_mei_response({0: b"linewatch-sim"})[:-4]
    with pytest.raises(d.Malformed):
        d.modbus_device_id(broken)


def test_s7_szl_0011_order_number_and_firmware():
    recs = [pk.szl11_record(1, b"6ES7 315-2EH14-0AB0", 0, 1), pk.szl11_record(7, b"", 22019, 519)]
    pdu = d.s7_pdu(pk.s7_szl_response(0x0011, recs, 28))
    f = facts(d.s7_szl(pdu))
    assert f["order_number"] == "6ES7 315-2EH14-0AB0" and f["firmware"] == "V3.2.7" and f["vendor"] == "Siemens"


def test_s7_szl_001c_names_and_serial():
    recs = [pk.szl1c_record(2, b"PLC_1"), pk.szl1c_record(5, b"S C-B1U393142011"),
            pk.szl1c_record(7, b"CPU 315-2 PN/DP")]
    f = facts(d.s7_szl(d.s7_pdu(pk.s7_szl_response(0x001C, recs, 34))))
    assert f == {"module_name": "PLC_1", "serial": "S C-B1U393142011", "model": "CPU 315-2 PN/DP",
                 "vendor": "Siemens"}


def test_s7_cotp_connect_is_not_an_s7_pdu():
    assert d.s7_pdu(bytes.fromhex("0300001611e00000000100c0010ac1020100c2020102")) is None


def test_bacnet_i_am_and_read_property():
    assert facts(d.bacnet(pk.bacnet_i_am(416, 138))) == {"bacnet_device_id": "416", "vendor_id": "138"}
    assert facts(d.bacnet(pk.bacnet_rp_ack(416, 77, "PLC_93")))["object_name"] == "PLC_93"
    assert facts(d.bacnet(pk.bacnet_rp_ack(416, 70, "MS-NAE4510-2")))["model"] == "MS-NAE4510-2"


def test_bacnet_truncated_i_am_is_malformed():
    with pytest.raises(d.Malformed):
        d.bacnet(pk.bacnet_i_am(416, 138)[:12])


def test_dhcp_client_identity_keyed_by_hardware_address():
    mac = bytes.fromhex("b0c554255b0e")
    fs = d.dhcp(pk.dhcp_discover(mac, b"DCS-935L", b"udhcp 1.22.1"))
    assert {f.subject for f in fs} == {"mac:b0:c5:54:25:5b:0e"}
    f = facts(fs)
    assert f["hostname"] == "DCS-935L" and f["dhcp_vendor_class"] == "udhcp 1.22.1"
    assert f["dhcp_fingerprint"] == "1,3,6,12" and f["dhcp_client_id"].endswith("5b:0e")


def test_dhcp_without_cookie_is_malformed():
    with pytest.raises(d.Malformed):
        d.dhcp(b"\x01" * 100)


def test_lldp_and_cdp():
    frame = pk.lldp_frame(bytes.fromhex("001b1b02e61f"), b"Switch1",
                          b"Siemens, SIMATIC NET, SCALANCE X212-2, 6GK5 212-2BB00-2AA3, HW: 7, FW: V4.02")
    f = facts(d.lldp(frame[14:]))
    assert f["hostname"] == "Switch1" and "SCALANCE X212-2" in f["description"]
    cdp = pk.cdp_frame(bytes.fromhex("00e01ed5d515"), b"R1", b"cisco 1601", b"IOS (tm) 1600 Software, Version 11.2")
    f = facts(d.cdp(cdp[22:]))
    assert f["model"] == "cisco 1601" and f["hostname"] == "R1" and "11.2" in f["firmware_description"]
    with pytest.raises(d.Malformed):
        d.lldp(frame[14:30] + b"\x0a\xff")


def test_profinet_dcp_identify_response():
    frame = pk.dcp_identify_response(bytes.fromhex("08000693cf32"), b"X208-BORD", b"INC")
    f = facts(d.profinet_dcp(frame[14:]))
    assert f["hostname"] == "X208-BORD" and f["model"] == "INC" and f["profinet_device_id"] == "0x002a:0x0102"


def test_snmp_get_response_and_community():
    community, pdu, fs = d.snmp(pk.snmp_get_response(b"public", b"Linux ubuntu 4.4.0"))
    assert community == "public" and pdu == 0xA2 and facts(fs) == {"description": "Linux ubuntu 4.4.0"}
    with pytest.raises(d.Malformed):
        d.snmp(pk.snmp_get_response(b"public", b"Linux ubuntu 4.4.0")[:-6])


def test_ssdp_http_rtsp_banners():
    notify = b"NOTIFY * HTTP/1.1\r\nSERVER: Linux, UPnP/1.0 DCS-935L/1.0\r\nLOCATION: http://10.0.0.5/x.xml\r\n\r\n"
    assert facts(d.ssdp(notify))["server_banner"] == "Linux, UPnP/1.0 DCS-935L/1.0"
    rtsp = b'RTSP/1.0 401 Unauthorized\r\nServer: Hikvision\r\nWWW-Authenticate: Digest realm="IP Camera"\r\n\r\n'
    assert facts(d.http_like(rtsp, "rtsp")) == {"server_banner": "Hikvision", "auth_realm": "IP Camera"}


def test_dnp3_link_addresses():
    frame = bytes.fromhex("05640ac4030004000000")
    f = facts(d.dnp3(frame))
    assert f == {"dnp3_address": "4", "dnp3_role": "master"}


def test_engine_builds_devices_with_provenance_roles_and_kinds(tmp_path):
    frames = [
        pk.tcp("10.0.0.10", "10.0.0.20", 50000, 44818, flags=0x02, smac=pk.MAC_A, dmac=pk.MAC_RA),
        pk.tcp("10.0.0.20", "10.0.0.10", 44818, 50000, pk.enip_list_identity_reply(), smac=pk.MAC_RA, dmac=pk.MAC_A),
        pk.tcp("10.0.0.10", "10.0.0.30", 50001, 102, flags=0x02, smac=pk.MAC_A, dmac=pk.MAC_PLC),
        pk.tcp("10.0.0.30", "10.0.0.10", 102, 50001,
               pk.s7_szl_response(0x0011, [pk.szl11_record(1, b"6ES7 151-8AB01-0AB0", 0, 1),
                                           pk.szl11_record(7, b"", 22019, 518)], 28),
               smac=pk.MAC_PLC, dmac=pk.MAC_A),
        pk.udp("10.0.0.40", "10.0.0.255", 47808, 47808, pk.bacnet_i_am(416, 138)),
        pk.udp("10.0.0.50", "10.0.0.10", 161, 40000, pk.snmp_get_response(b"public", b"Linux box")),
    ]
    disc = run(tmp_path, frames)
    enip = device(disc, "10.0.0.20")
    assert enip.best("model") == "1756-ENBT/A" and enip.best("vendor") == "Rockwell Automation"
    assert enip.protocols == {"enip": {"server"}} and enip.kind == "plc"
    obs = next(o for o in enip.observations if o.attribute == "firmware")
    assert (obs.source, obs.packet, obs.confidence) == ("enip/ListIdentity", 2, 0.95)
    plc = device(disc, "10.0.0.30")
    assert plc.best("firmware") == "V3.2.6" and plc.best("order_number") == "6ES7 151-8AB01-0AB0"
    assert plc.kind == "plc" and "S7comm" in plc.kind_reason and plc.best("vendor") == "Siemens"
    client = device(disc, "10.0.0.10")
    assert client.protocols["s7comm"] == {"client"} and client.kind == "engineering_workstation"
    assert device(disc, "10.0.0.40").kind == "bms_controller"
    agent = device(disc, "10.0.0.50")
    assert any("default: public" in f["finding"] for f in agent.findings)
    talkers = {(t.client, t.server, t.port, t.service) for t in disc.talkers()}
    assert ("10.0.0.10", "10.0.0.20", 44818, "enip") in talkers
    assert ("10.0.0.10", "10.0.0.30", 102, "s7comm") in talkers


def test_layer2_devices_from_lldp_cdp_and_dcp(tmp_path):
    frames = [
        pk.lldp_frame(bytes.fromhex("001b1b02e61f"), b"Switch1",
                      b"Siemens, SIMATIC NET, SCALANCE X212-2, 6GK5 212-2BB00-2AA3, HW: 7, FW: V4.02"),
        pk.cdp_frame(bytes.fromhex("00e01ed5d515"), b"R1", b"cisco 1601", b"IOS 11.2"),
        pk.dcp_identify_response(bytes.fromhex("08000693cf32"), b"X208-BORD", b"INC"),
    ]
    disc = run(tmp_path, frames)
    sw = device(disc, "mac:00:1b:1b:02:e6:1f")
    assert sw.kind == "switch" and sw.best("vendor") == "Siemens" and sw.protocols == {"lldp": {"peer"}}
    assert (sw.best("model"), sw.best("firmware"), sw.best("order_number")) == (
        "SCALANCE X212-2", "V4.02", "6GK5 212-2BB00-2AA3")
    assert sw.packets == 1 and sw.first_seen == pytest.approx(1_700_000_000)
    assert device(disc, "mac:00:e0:1e:d5:d5:15").best("model") == "cisco 1601"
    assert device(disc, "mac:08:00:06:93:cf:32").best("hostname") == "X208-BORD"
    assert disc.l2_protocols_by_mac()["08:00:06:93:cf:32"] == {"profinet", "profinet-dcp"}


def test_broken_identity_message_is_counted_not_fatal(tmp_path):
    frames = [pk.udp("10.0.0.40", "10.0.0.255", 47808, 47808, pk.bacnet_i_am(416, 138)[:12]),
              pk.udp("10.0.0.41", "10.0.0.255", 47808, 47808, pk.bacnet_i_am(417, 138))]
    disc = run(tmp_path, frames)
    assert disc.stats.malformed == {"bacnet": 1}
    assert device(disc, "10.0.0.41").best("bacnet_device_id") == "417"


def test_kinds_are_asset_kinds():
    """The engine is Django-free, so it names kinds as strings: each must be a plant-model AssetKind."""
    from linewatch.core.choices import AssetKind

    used = set(re.findall(r'return "([a-z_]+)", ', inspect.getsource(kinds.guess_kind)))
    assert len(used) > 8 and used <= set(AssetKind.values)


def client_hello(sni: bytes) -> bytes:
    ext_sni = struct.pack(">HHHBH", 0, len(sni) + 5, len(sni) + 3, 0, len(sni)) + sni
    exts = ext_sni + struct.pack(">HH", 11, 2) + b"\x01\x00"
    body = b"\x03\x03" + b"\x00" * 32 + b"\x00" + b"\x00\x02\x00\x2f" + b"\x01\x00"
    body += struct.pack(">H", len(exts)) + exts
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs


def test_tls_sni_names_the_server_and_certificate_names_the_sender():
    fs = d.tls(client_hello(b"nvr.plant.example"))
    assert fs == [d.Fact("tls_server_name", "nvr.plant.example", "tls/ClientHello SNI", 0.7, "dst")]
    cert = b"\x16\x03\x03\x00\x40\x0b" + b"\x00" * 20 + b"\x06\x03\x55\x04\x03\x0c\x07cam-017" + b"\x00" * 8
    assert facts(d.tls(cert)) == {"tls_certificate_cn": "cam-017"}
    assert d.tls(b"\x17\x03\x03\x00\x10" + b"\x00" * 16) == []


def mdns_response(host: bytes, instance: bytes, txt: bytes) -> bytes:
    def name(*labels: bytes) -> bytes:
        return b"".join(bytes([len(x)]) + x for x in labels) + b"\x00"

    a = name(host, b"local") + struct.pack(">HHIH", 1, 1, 120, 4) + bytes([10, 0, 0, 9])
    ptr_target = name(instance, b"_http", b"_tcp", b"local")
    ptr = name(b"_http", b"_tcp", b"local") + struct.pack(">HHIH", 12, 1, 120, len(ptr_target)) + ptr_target
    txt_rd = bytes([len(txt)]) + txt
    t = name(instance, b"_http", b"_tcp", b"local") + struct.pack(">HHIH", 16, 1, 120, len(txt_rd)) + txt_rd
    return struct.pack(">HHHHHH", 0, 0x8400, 0, 3, 0, 0) + a + ptr + t


def test_mdns_names_services_and_txt_model():
    f = facts(d.mdns(mdns_response(b"DCS-930LB1", b"D-Link DCS-935L Configuration Utility", b"model=DCS-935L")))
    assert f == {"hostname": "DCS-930LB1", "mdns_service": "D-Link DCS-935L Configuration Utility._http._tcp.local",
                 "model": "DCS-935L"}
    with pytest.raises(d.Malformed):
        d.mdns(mdns_response(b"x", b"y", b"z")[:30])


def test_vlan_ipv6_and_linux_sll_take_the_general_path(tmp_path):
    inner = pk.udp("10.0.0.40", "10.0.0.255", 47808, 47808, pk.bacnet_i_am(416, 138))
    vlan = inner[:12] + b"\x81\x00\x00\x64" + inner[12:]
    src6 = bytes.fromhex("fe800000000000000217887fffe4760f")
    dst6 = bytes.fromhex("ff0200000000000000000000000000fb")
    mdns = mdns_response(b"hue", b"Philips hue", b"md=BSB002")
    seg = struct.pack(">HHHH", 5353, 5353, 8 + len(mdns), 0) + mdns
    ip6 = struct.pack(">IHBB", 6 << 28, len(seg), 17, 255) + src6 + dst6 + seg
    v6 = pk.eth(bytes.fromhex("00178824760f"), bytes.fromhex("3333000000fb"), 0x86DD, ip6)
    disc = Discovery()
    assert disc.add_file(pk.write(tmp_path, "v.pcapng", pk.pcapng_bytes([vlan, v6])))
    assert device(disc, "10.0.0.40").best("bacnet_device_id") == "416"
    hue = device(disc, "fe80::217:887f:ffe4:760f")
    assert hue.best("model") == "BSB002" and hue.protocols == {"mdns": {"peer"}}
    assert hue.best("vendor") == "Signify (Philips Hue)"
    sll = b"\x00\x00\x00\x01\x00\x06" + bytes.fromhex("001b1b000002") + b"\x00\x00\x08\x00" + inner[14:]
    disc = Discovery()
    assert disc.add_file(pk.write(tmp_path, "sll.pcap", pk.pcap_bytes([sll], linktype=113)))
    assert device(disc, "10.0.0.40").mac == "00:1b:1b:00:00:02"


PROBE_MATCH = b"""<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope><SOAP-ENV:Body><d:ProbeMatches><d:ProbeMatch>
<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>
<d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/hardware/DS-2CD2142FWD-I
onvif://www.onvif.org/name/HIKVISION%20DS-2CD2142FWD-I onvif://www.onvif.org/location/city/hangzhou</d:Scopes>
<d:XAddrs>http://10.0.0.61/onvif/device_service</d:XAddrs></d:ProbeMatch></d:ProbeMatches></SOAP-ENV:Body>
</SOAP-ENV:Envelope>"""


def test_onvif_probe_match_makes_a_camera(tmp_path):
    f = facts(d.ws_discovery(PROBE_MATCH))
    assert f["model"] == "DS-2CD2142FWD-I" and f["onvif_name"] == "HIKVISION DS-2CD2142FWD-I"
    assert f["onvif_service"] == "http://10.0.0.61/onvif/device_service"
    disc = run(tmp_path, [pk.udp("10.0.0.61", "10.0.0.5", 3702, 50000, PROBE_MATCH,
                                 smac=bytes.fromhex("4419b6000001"))])
    cam = device(disc, "10.0.0.61")
    assert (cam.kind, cam.best("model"), cam.best("vendor")) == ("camera", "DS-2CD2142FWD-I", "Hikvision")
    assert cam.protocols == {"ws-discovery": {"server"}}


def test_modbus_report_server_id_response(tmp_path):
    data = b"\x42\xff" + b"LW-SIM PLC v1"
    resp = struct.pack(">HHHB", 1, 0, 3 + len(data), 1) + b"\x11" + bytes([len(data)]) + data
    assert facts(d.modbus_server_id(resp)) == {"modbus_server_id": "0x42", "description": "LW-SIM PLC v1"}
    frames = [pk.tcp("10.0.0.10", "10.0.0.20", 50000, 502, bytes.fromhex("0001000000020111")),
              pk.tcp("10.0.0.20", "10.0.0.10", 502, 50000, resp)]
    disc = run(tmp_path, frames)
    assert device(disc, "10.0.0.20").best("modbus_server_id") == "0x42"
    assert device(disc, "10.0.0.10").best("modbus_server_id") is None


def test_dissectors_survive_mutated_input():
    """Random byte flips and cuts of valid messages raise only the errors the engine counts as malformed."""
    import contextlib
    import random

    from linewatch.discovery.engine.analyse import DISSECT_ERRORS

    rng = random.Random(4)
    recs = [pk.szl11_record(1, b"6ES7 315-2EH14-0AB0", 0, 1), pk.szl11_record(7, b"", 22019, 519)]
    samples = [
        (d.enip_list_identity, pk.enip_list_identity_reply()),
        (d.modbus_device_id, pk.modbus_mei_response({0: b"v", 1: b"p", 2: b"1.0"})),
        (lambda p: d.s7_szl(d.s7_pdu(p) or b""), pk.s7_szl_response(0x0011, recs, 28)),
        (d.bacnet, pk.bacnet_i_am(416, 138)), (d.bacnet, pk.bacnet_rp_ack(416, 77, "PLC_93")),
        (d.dhcp, pk.dhcp_discover(pk.MAC_A, b"cam", b"udhcp")), (d.snmp, pk.snmp_get_response(b"public", b"x")),
        (d.lldp, pk.lldp_frame(pk.MAC_A, b"sw", b"desc")[14:]), (d.cdp, pk.cdp_frame(pk.MAC_A, b"R", b"p", b"v")[22:]),
        (d.profinet_dcp, pk.dcp_identify_response(pk.MAC_A, b"st", b"v")[14:]), (d.tls, client_hello(b"a.b")),
        (d.mdns, mdns_response(b"h", b"i", b"model=x")), (d.ws_discovery, PROBE_MATCH), (d.dnp3, bytes(10)),
        (d.modbus_server_id, bytes.fromhex("00010000000601110342ff41")),
        (d.nbns, struct.pack(">HHHHHH", 1, 0x2910, 1, 0, 0, 1) + nbns_name(b"EWS01")),
    ]
    for fn, msg in samples:
        for _ in range(300):
            m = bytearray(msg[: rng.randrange(len(msg) + 1)])
            for _ in range(rng.randrange(4)):
                if m:
                    m[rng.randrange(len(m))] = rng.randrange(256)
            with contextlib.suppress(DISSECT_ERRORS):
                fn(bytes(m))


def nbns_name(name: bytes, suffix: int = 0x00) -> bytes:
    raw = name.ljust(15) + bytes([suffix])
    return b"\x20" + bytes(x for c in raw for x in (0x41 + (c >> 4), 0x41 + (c & 0x0F))) + b"\x00"


def test_nbns_response_and_registration_name_the_sender():
    response = struct.pack(">HHHHHH", 0x9786, 0x8500, 0, 1, 0, 0) + nbns_name(b"HMI-LINE3") + b"\x00\x20\x00\x01"
    assert facts(d.nbns(response)) == {"hostname": "HMI-LINE3"}
    registration = struct.pack(">HHHHHH", 1, 0x2910, 1, 0, 0, 1) + nbns_name(b"EWS01")
    assert facts(d.nbns(registration)) == {"hostname": "EWS01"}
    query = struct.pack(">HHHHHH", 1, 0x0110, 1, 0, 0, 0) + nbns_name(b"DBLICENSESERVER")
    assert d.nbns(query) == []
    group = struct.pack(">HHHHHH", 1, 0x8500, 0, 1, 0, 0) + nbns_name(b"WORKGROUP", 0x1E)
    assert d.nbns(group) == []


def test_http_basic_credentials_are_a_finding_on_the_server(tmp_path):
    req = b"GET /snapshot.jpg HTTP/1.1\r\nHost: cam\r\nAuthorization: Basic YWRtaW46MTIzNDU=\r\n\r\n"
    resp = b"HTTP/1.1 200 OK\r\nServer: Boa/0.94.14rc21\r\n\r\n"
    disc = run(tmp_path, [pk.tcp("10.0.0.10", "10.0.0.61", 50000, 80, req),
                          pk.tcp("10.0.0.61", "10.0.0.10", 80, 50000, resp)])
    cam = device(disc, "10.0.0.61")
    assert cam.best("server_banner") == "Boa/0.94.14rc21"
    assert {f["finding"] for f in cam.findings} == {"HTTP Basic credentials sent in clear text to this server",
                                                    "clear-text management service: HTTP without TLS"}
