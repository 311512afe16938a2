"""Hand-built frames and capture files for the discovery tests."""

from __future__ import annotations

import struct
from pathlib import Path

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


def pcap_bytes(frames: list[bytes], linktype: int = 1) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)]
    for n, f in enumerate(frames):
        out.append(struct.pack("<IIII", 1_700_000_000 + n, 0, len(f), len(f)) + f)
    return b"".join(out)


def pcapng_bytes(frames: list[bytes]) -> bytes:
    shb_body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
    shb = struct.pack("<II", 0x0A0D0D0A, 12 + len(shb_body)) + shb_body + struct.pack("<I", 12 + len(shb_body))
    idb_body = struct.pack("<HHI", 1, 0, 65535)
    idb = struct.pack("<II", 1, 12 + len(idb_body)) + idb_body + struct.pack("<I", 12 + len(idb_body))
    out = [shb, idb]
    for n, f in enumerate(frames):
        pad = b"\x00" * (-len(f) % 4)
        ts = (1_700_000_000 + n) * 1_000_000
        body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(f), len(f)) + f + pad
        out.append(struct.pack("<II", 6, 12 + len(body)) + body + struct.pack("<I", 12 + len(body)))
    return b"".join(out)


def write(tmp: Path, name: str, data: bytes) -> Path:
    p = tmp / name
    p.write_bytes(data)
    return p


# --- identity messages ------------------------------------------------------------------------------


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


def snmp_get_response(community: bytes, descr: bytes) -> bytes:
    def tlv(tag: int, v: bytes) -> bytes:
        return bytes([tag, len(v)]) + v

    oid = tlv(0x06, bytes([0x2B, 6, 1, 2, 1, 1, 1, 0]))
    vb = tlv(0x30, tlv(0x30, oid + tlv(0x04, descr)))
    pdu = tlv(0xA2, tlv(0x02, b"\x01") + tlv(0x02, b"\x00") + tlv(0x02, b"\x00") + vb)
    return tlv(0x30, tlv(0x02, b"\x01") + tlv(0x04, community) + pdu)
