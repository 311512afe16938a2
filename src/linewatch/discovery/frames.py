"""Frame builders for the identity messages discovery reads: Ethernet/IPv4/TCP/UDP, EtherNet/IP,
Modbus MEI, S7 SZL, BACnet, DHCP, LLDP, CDP, PROFINET DCP, SNMP, ONVIF, Hikvision SADP, NetBIOS,
and a pcap writer with explicit timestamps.

Built from the protocol specifications with `struct`, the same way the dissectors read them. The
tests build their fixtures with these, and `demo_capture` builds the demo plant's capture, so the
demo exercises exactly the parsing the tests check.
"""

from __future__ import annotations

import struct

MAC_A = bytes.fromhex("00000c000001")  # hosts
MAC_PLC = bytes.fromhex("001b1b000002")  # Siemens OUI
MAC_RA = bytes.fromhex("001d9c000003")  # Rockwell OUI


def ip4(s: str) -> bytes:
    return bytes(int(x) for x in s.split("."))


def eth(src: bytes, dst: bytes, etype: int, payload: bytes) -> bytes:
    return dst + src + struct.pack(">H", etype) + payload


def ipv4(src: str, dst: str, proto: int, payload: bytes) -> bytes:
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0, ip4(src), ip4(dst)) + payload


def udp(src: str, dst: str, sport: int, dport: int, payload: bytes, smac: bytes = MAC_A,
        dmac: bytes = b"\xff" * 6) -> bytes:
    seg = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    return eth(smac, dmac, 0x0800, ipv4(src, dst, 17, seg))


def tcp(src: str, dst: str, sport: int, dport: int, payload: bytes = b"", flags: int = 0x18, smac: bytes = MAC_A,
        dmac: bytes = MAC_PLC) -> bytes:
    seg = struct.pack(">HHIIBBHHH", sport, dport, 1, 1, 5 << 4, flags, 65535, 0, 0) + payload
    return eth(smac, dmac, 0x0800, ipv4(src, dst, 6, seg))


def enip_list_identity_reply(name: bytes = b"1756-ENBT/A", vendor: int = 1, devtype: int = 12, code: int = 58,
                             rev: tuple[int, int] = (4, 3), serial: int = 0x00524D8E) -> bytes:
    item = (struct.pack("<H", 1) + b"\x00" * 16 + struct.pack("<HHHBBHIB", vendor, devtype, code, rev[0], rev[1], 0,
                                                               serial, len(name)) + name + b"\x03")
    data = struct.pack("<H", 1) + struct.pack("<HH", 0x0C, len(item)) + item
    return struct.pack("<HHII8sI", 0x63, len(data), 0, 0, b"\x00" * 8, 0) + data


def modbus_mei_response(objects: dict[int, bytes]) -> bytes:
    body = b"\x2b\x0e\x01\x01\x00\x00" + bytes([len(objects)])
    for oid, v in objects.items():
        body += bytes([oid, len(v)]) + v
    return struct.pack(">HHHB", 1, 0, len(body) + 1, 1) + body


def s7_szl_response(szl_id: int, records: list[bytes], rlen: int) -> bytes:
    data = b"\xff\x09" + struct.pack(">H", 8 + len(records) * rlen) + struct.pack(">HHHH", szl_id, 0, rlen,
                                                                                   len(records)) + b"".join(records)
    param = b"\x00\x01\x12\x08\x12\x84\x01\x01\x00\x00\x00\x00"
    s7 = b"\x32\x07\x00\x00\x00\x01" + struct.pack(">HH", len(param), len(data)) + param + data
    cotp = b"\x02\xf0\x80"
    return struct.pack(">BBH", 3, 0, 4 + len(cotp) + len(s7)) + cotp + s7


def szl11_record(index: int, mlfb: bytes, ausbg: int, ausbe: int) -> bytes:
    return struct.pack(">H20sHHH", index, mlfb.ljust(20, b" "), 0, ausbg, ausbe)


def szl1c_record(index: int, text: bytes) -> bytes:
    return struct.pack(">H32s", index, text.ljust(32, b"\x00"))


def bacnet_i_am(instance: int, vendor: int) -> bytes:
    apdu = (b"\x10\x00\xc4" + struct.pack(">I", (8 << 22) | instance) + b"\x22\x05\xc4\x91\x00\x21"
            + bytes([vendor]))
    npdu = b"\x01\x20\xff\xff\x00\xff" + apdu
    return b"\x81\x0b" + struct.pack(">H", 4 + len(npdu)) + npdu


def bacnet_rp_ack(instance: int, prop: int, text: str) -> bytes:
    s = b"\x00" + text.encode()
    apdu = (b"\x30\x01\x0c\x0c" + struct.pack(">I", (8 << 22) | instance) + bytes([0x19, prop]) + b"\x3e"
            + bytes([0x75, len(s)]) + s + b"\x3f")
    npdu = b"\x01\x00" + apdu
    return b"\x81\x0a" + struct.pack(">H", 4 + len(npdu)) + npdu


def dhcp_discover(mac: bytes, hostname: bytes, vendor_class: bytes) -> bytes:
    fixed = struct.pack(">BBBBIHH4s4s4s4s", 1, 1, 6, 0, 0x1234, 0, 0, b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4)
    fixed += mac.ljust(16, b"\0") + b"\0" * 192 + b"\x63\x82\x53\x63"
    opts = b"\x35\x01\x01" + bytes([12, len(hostname)]) + hostname + bytes([60, len(vendor_class)]) + vendor_class
    opts += b"\x37\x04\x01\x03\x06\x0c" + b"\x3d\x07\x01" + mac + b"\xff"
    return fixed + opts


def lldp_frame(src: bytes, name: bytes, desc: bytes) -> bytes:
    def tlv(t: int, v: bytes) -> bytes:
        return struct.pack(">H", (t << 9) | len(v)) + v

    body = tlv(1, b"\x04" + src) + tlv(2, b"\x05eth0") + tlv(3, b"\x00\x78") + tlv(5, name) + tlv(6, desc) + tlv(0, b"")
    return eth(src, bytes.fromhex("0180c200000e"), 0x88CC, body)


def cdp_frame(src: bytes, device: bytes, platform: bytes, version: bytes) -> bytes:
    def tlv(t: int, v: bytes) -> bytes:
        return struct.pack(">HH", t, 4 + len(v)) + v

    body = b"\x02\xb4\x00\x00" + tlv(1, device) + tlv(5, version) + tlv(6, platform)
    llc = b"\xaa\xaa\x03\x00\x00\x0c\x20\x00" + body
    return bytes.fromhex("01000ccccccc") + src + struct.pack(">H", len(llc)) + llc


def dcp_identify_response(src: bytes, station: bytes, vendor_value: bytes) -> bytes:
    def block(opt: int, sub: int, v: bytes) -> bytes:
        v = b"\x00\x00" + v
        return bytes([opt, sub]) + struct.pack(">H", len(v)) + v + (b"\x00" if len(v) & 1 else b"")

    blocks = block(2, 2, station) + block(2, 1, vendor_value) + block(2, 3, b"\x00\x2a\x01\x02")
    dcp = b"\xfe\xff\x05\x01" + b"\x00\x00\x00\x01" + b"\x00\x00" + struct.pack(">H", len(blocks)) + blocks
    return eth(src, bytes.fromhex("00000c000009"), 0x8892, dcp)


def ber(tag: int, v: bytes) -> bytes:
    """A BER TLV with a short or long-form length."""
    n = len(v)
    if n < 128:
        return bytes([tag, n]) + v
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + v


def snmp_get_response(community: bytes, descr: bytes) -> bytes:
    tlv = ber

    oid = tlv(0x06, bytes([0x2B, 6, 1, 2, 1, 1, 1, 0]))
    vb = tlv(0x30, tlv(0x30, oid + tlv(0x04, descr)))
    pdu = tlv(0xA2, tlv(0x02, b"\x01") + tlv(0x02, b"\x00") + tlv(0x02, b"\x00") + vb)
    return tlv(0x30, tlv(0x02, b"\x01") + tlv(0x04, community) + pdu)


# --- more messages (demo capture) ------------------------------------------------------------------------


def mac(s: str) -> bytes:
    return bytes.fromhex(s.replace(":", "").replace("-", ""))


def arp_announce(smac: bytes, ip: str) -> bytes:
    """A gratuitous ARP request: the sender's MAC for its IP."""
    body = struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, smac, ip4(ip), b"\x00" * 6, ip4(ip))
    return eth(smac, b"\xff" * 6, 0x0806, body + b"\x00" * 18)


def tcp_seg(src: str, dst: str, sport: int, dport: int, payload: bytes, flags: int, smac: bytes, dmac: bytes,
            seq: int = 1, ack: int = 1) -> bytes:
    seg = struct.pack(">HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0) + payload
    return eth(smac, dmac, 0x0800, ipv4(src, dst, 6, seg))


def ntp_packet(mode: int, ts: float) -> bytes:
    """NTPv4 client (3) or server (4) message with a transmit timestamp."""
    secs = int(ts) + 2_208_988_800
    return struct.pack(">BBbbII4sQQQII", (4 << 3) | mode, 2 if mode == 4 else 0, 6, -20, 0, 0, b"GPS\x00",
                       0, 0, 0, secs, 0)


def nbns_registration(name: str, ip: str) -> bytes:
    raw = name.upper().encode()[:15].ljust(15) + b"\x00"
    enc = b"\x20" + bytes(x for c in raw for x in (0x41 + (c >> 4), 0x41 + (c & 0x0F))) + b"\x00"
    rr = b"\xc0\x0c" + struct.pack(">HHIHH", 0x20, 1, 300000, 6, 0) + ip4(ip)
    return struct.pack(">HHHHHH", 0x1234, 0x2910, 1, 0, 0, 1) + enc + struct.pack(">HH", 0x20, 1) + rr


def dhcp_request(smac: bytes, ip: str, hostname: str, vendor_class: str) -> bytes:
    """A DHCPREQUEST renewing a lease (ciaddr set) with options 12, 60, 55 and 61."""
    fixed = struct.pack(">BBBBIHH4s4s4s4s", 1, 1, 6, 0, int.from_bytes(smac[2:], "big") & 0xFFFFFFFF, 0, 0,
                        ip4(ip), b"\0" * 4, b"\0" * 4, b"\0" * 4)
    fixed += smac.ljust(16, b"\0") + b"\0" * 192 + b"\x63\x82\x53\x63"
    h, v = hostname.encode(), vendor_class.encode()
    opts = b"\x35\x01\x03" + bytes([12, len(h)]) + h + bytes([60, len(v)]) + v
    return fixed + opts + b"\x37\x05\x01\x03\x06\x0c\x2a" + b"\x3d\x07\x01" + smac + b"\xff"


def http_response(server: str, status: str = "200 OK", realm: str | None = None) -> bytes:
    head = f"HTTP/1.1 {status}\r\nServer: {server}\r\nContent-Length: 0\r\n"
    if realm:
        head += f'WWW-Authenticate: Digest realm="{realm}", qop="auth", nonce="4e5a0c1d"\r\n'
    return (head + "\r\n").encode()


def http_get(path: str, host: str, basic: str | None = None) -> bytes:
    head = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Mozilla/5.0\r\n"
    if basic:
        head += f"Authorization: Basic {basic}\r\n"
    return (head + "\r\n").encode()


def rtsp_response(server: str, cseq: int = 1) -> bytes:
    return (f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nServer: {server}\r\n"
            "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n").encode()


def onvif_probe_match(model: str, name: str, location: str, xaddr: str, uuid: str) -> bytes:
    """A WS-Discovery ProbeMatch from an ONVIF NetworkVideoTransmitter (ONVIF Core spec, 7.3)."""
    scopes = " ".join([
        "onvif://www.onvif.org/type/video_encoder", "onvif://www.onvif.org/Profile/Streaming",
        f"onvif://www.onvif.org/hardware/{model}", f"onvif://www.onvif.org/name/{name}",
        f"onvif://www.onvif.org/location/{location}"])
    return (
        '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope '
        'xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">'
        '<SOAP-ENV:Header><wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>'
        '</SOAP-ENV:Header><SOAP-ENV:Body><d:ProbeMatches><d:ProbeMatch><wsa:EndpointReference>'
        f'<wsa:Address>urn:uuid:{uuid}</wsa:Address></wsa:EndpointReference><d:Types>dn:NetworkVideoTransmitter'
        f'</d:Types><d:Scopes>{scopes}</d:Scopes><d:XAddrs>{xaddr}</d:XAddrs><d:MetadataVersion>1'
        '</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>').encode()


def sadp_inquiry_reply(model: str, serial: str, mac_s: str, ip: str, firmware: str, dsp: str) -> bytes:
    """Hikvision SADP device announcement (UDP 37020 to 239.255.255.250), as the cameras send it."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><ProbeMatch><Uuid>' + serial[-12:] + '</Uuid>'
        '<Types>inquiry</Types><DeviceType>139</DeviceType>'
        f'<DeviceDescription>{model}</DeviceDescription><DeviceSN>{serial}</DeviceSN>'
        f'<CommandPort>8000</CommandPort><HttpPort>80</HttpPort><MAC>{mac_s.replace(":", "-")}</MAC>'
        f'<IPv4Address>{ip}</IPv4Address><IPv4SubnetMask>255.255.255.0</IPv4SubnetMask>'
        '<IPv4Gateway>' + ".".join(ip.split(".")[:3]) + '.1</IPv4Gateway><DHCP>false</DHCP>'
        f'<AnalogChannelNum>0</AnalogChannelNum><DigitalChannelNum>1</DigitalChannelNum>'
        f'<SoftwareVersion>{firmware}</SoftwareVersion><DSPVersion>{dsp}</DSPVersion>'
        '<BootTime>2026-11-20 04:12:55</BootTime><Activated>true</Activated>'
        '<PasswordResetAbility>true</PasswordResetAbility></ProbeMatch>').encode()


def syslog_message(host: str, text: str, ts: float) -> bytes:
    import time as _t

    stamp = _t.strftime("%b %d %H:%M:%S", _t.gmtime(ts))
    return f"<189>{stamp} {host} {text}".encode()


def lldp_full(src: bytes, name: str, desc: str, mgmt_ip: str | None = None) -> bytes:
    def tlv(t: int, v: bytes) -> bytes:
        return struct.pack(">H", (t << 9) | len(v)) + v

    body = tlv(1, b"\x04" + src) + tlv(2, b"\x05Gi1/0/1") + tlv(3, b"\x00\x78") + tlv(5, name.encode())
    body += tlv(6, desc.encode())
    if mgmt_ip:
        body += tlv(8, b"\x05\x01" + ip4(mgmt_ip) + b"\x02\x00\x00\x00\x01\x00")
    return eth(src, bytes.fromhex("0180c200000e"), 0x88CC, body + tlv(0, b""))


def pcap_file(records: list[tuple[float, bytes]], snaplen: int = 65535, linktype: int = 1) -> bytes:
    """A classic little-endian microsecond pcap of (timestamp, frame) records, in the order given."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)]
    for ts, f in records:
        sec = int(ts)
        usec = int(round((ts - sec) * 1_000_000))
        if usec >= 1_000_000:
            sec, usec = sec + 1, usec - 1_000_000
        out.append(struct.pack("<IIII", sec, usec, len(f), len(f)) + f)
    return b"".join(out)
