"""Small stateless parsers for the identity-bearing messages.

Each takes the payload (bytes) and returns a list of `Fact`s: (attribute, value, message, confidence,
subject), where subject says whose identity it is ("src", "dst" or "mac:<addr>"). Malformed input
raises `Malformed` (a ValueError), which the analyser counts and otherwise ignores: one broken
packet never stops a capture.
"""

from __future__ import annotations

import re
import struct
from typing import NamedTuple
from urllib.parse import unquote


class Malformed(ValueError):
    """A message that claims to be of a protocol but does not parse."""


class Fact(NamedTuple):
    attribute: str
    value: str
    message: str
    confidence: float
    subject: str = "src"


def _text(b: bytes) -> str:
    return b.split(b"\x00", 1)[0].decode("utf-8", "replace").strip()


# --- EtherNet/IP ------------------------------------------------------------------------------------

ENIP_VENDORS = {1: "Rockwell Automation", 44: "Schneider Electric", 283: "Siemens", 40: "WAGO", 90: "HMS",
                47: "Omron", 161: "Mitsubishi Electric", 252: "OMRON", 674: "Phoenix Contact"}
ENIP_DEVICE_TYPES = {0: "generic device", 2: "AC drive", 7: "general purpose discrete I/O",
                     12: "communications adapter", 14: "programmable logic controller",
                     24: "human-machine interface", 43: "generic device (keyable)"}


def enip_cip_present(p: bytes) -> bool:
    """True when an ENIP encapsulation carries CIP (SendRRData / SendUnitData with a data item)."""
    return len(p) >= 24 and p[0] in (0x6F, 0x70) and p[1] == 0


def enip_list_identity(p: bytes) -> list[Fact]:
    """ListIdentity reply (command 0x63): CIP Identity object of the responder."""
    if len(p) < 24:
        raise Malformed("short ENIP header")
    cmd, length = struct.unpack_from("<HH", p, 0)
    if cmd != 0x63 or length == 0:
        return []
    if len(p) < 24 + 2:
        raise Malformed("short ListIdentity reply")
    (count,) = struct.unpack_from("<H", p, 24)
    i = 26
    facts: list[Fact] = []
    for _ in range(count):
        if i + 4 > len(p):
            raise Malformed("truncated CPF item")
        itype, ilen = struct.unpack_from("<HH", p, i)
        item = p[i + 4:i + 4 + ilen]
        i += 4 + ilen
        if itype != 0x0C:
            continue
        if len(item) < 2 + 16 + 2 + 2 + 2 + 2 + 2 + 4 + 1:
            raise Malformed("truncated CIP identity item")
        vendor, devtype, prodcode, rmaj, rmin, _status, serial, nlen = struct.unpack_from("<HHHBBHIB", item, 18)
        name = item[33:33 + nlen].decode("latin-1").strip()
        m = "enip/ListIdentity"
        facts += [
            Fact("vendor", ENIP_VENDORS.get(vendor, f"ODVA vendor {vendor}"), m, 0.9),
            Fact("vendor_id", f"{vendor:#06x}", m, 0.95),
            Fact("device_type", f"{devtype} ({ENIP_DEVICE_TYPES.get(devtype, 'other')})", m, 0.95),
            Fact("product_code", str(prodcode), m, 0.95),
            Fact("firmware", f"{rmaj}.{rmin:02d}", m, 0.95),
            Fact("serial", f"{serial:#010x}", m, 0.95),
        ]
        if name:
            facts += [Fact("model", name, m, 0.95), Fact("order_number", name, m, 0.8)]
    return facts


# --- Modbus/TCP -------------------------------------------------------------------------------------

MEI_OBJECTS = {0: "vendor", 1: "product_code", 2: "firmware", 3: "vendor_url", 4: "product_name", 5: "model",
               6: "application"}


def modbus_valid(p: bytes) -> bool:
    return len(p) >= 8 and p[2] == 0 and p[3] == 0


def modbus_device_id(p: bytes) -> list[Fact]:
    """FC 0x2B / MEI 0x0E Read Device Identification response (from the server)."""
    if len(p) < 8 or p[7] != 0x2B:
        return []
    if len(p) < 10 or p[8] != 0x0E:
        return []
    if len(p) < 14:
        return []  # a request (11 bytes) or an exception: no objects
    count = p[13]
    i = 14
    facts = []
    for _ in range(count):
        if i + 2 > len(p):
            raise Malformed("truncated MEI object header")
        oid, ln = p[i], p[i + 1]
        if i + 2 + ln > len(p):
            raise Malformed("truncated MEI object value")
        value = p[i + 2:i + 2 + ln].decode("latin-1").strip()
        i += 2 + ln
        if value and oid in MEI_OBJECTS:
            facts.append(Fact(MEI_OBJECTS[oid], value, "modbus/FC43-MEI14", 0.95))
    return facts


# --- S7comm -------------------------------------------------------------------------------------------


def s7_pdu(p: bytes) -> bytes | None:
    """The S7 PDU inside TPKT/COTP DT, or None when this is not one (connection set-up, S7comm-plus)."""
    if len(p) < 7 or p[0] != 3:
        return None
    li = p[4]
    if len(p) < 5 + li + 1 or li < 2 or p[5] != 0xF0:
        return None
    return p[5 + li:]


def s7_szl(pdu: bytes) -> list[Fact]:
    """UserData response to "read SZL": 0x0011 module identification, 0x001C component identification."""
    if len(pdu) < 10 or pdu[0] != 0x32 or pdu[1] != 7:
        return []
    plen, dlen = struct.unpack_from(">HH", pdu, 6)
    par = pdu[10:10 + plen]
    data = pdu[10 + plen:10 + plen + dlen]
    # param: 00 01 12 len method type|group subfunction seq ...; type 8 = response, group 4 = CPU functions
    if len(par) < 8 or par[5] >> 4 != 8 or par[5] & 0x0F != 4 or par[6] != 1:
        return []
    if len(data) < 12 or data[0] != 0xFF:
        return []
    szl_id, _idx, rlen, rcount = struct.unpack_from(">HHHH", data, 4)
    recs = data[12:]
    facts: list[Fact] = []
    kind = szl_id & 0xFF
    if kind == 0x11 and rlen >= 28:
        m = f"s7comm/SZL {szl_id:#06x}"
        for n in range(min(rcount, len(recs) // rlen)):
            r = recs[n * rlen:(n + 1) * rlen]
            index, mlfb, ausbg, ausbe = struct.unpack_from(">H20s2xHH", r, 0)
            mlfb_s = _text(mlfb)
            if index == 1 and mlfb_s:
                facts.append(Fact("order_number", mlfb_s, m, 0.95))
            elif index == 6 and mlfb_s:
                facts.append(Fact("hardware_order_number", mlfb_s, m, 0.9))
            if not mlfb_s and 0x41 <= ausbg >> 8 <= 0x5A:
                fw = f"{chr(ausbg >> 8)}{ausbg & 0xFF}.{ausbe >> 8}.{ausbe & 0xFF}"
                facts.append(Fact("firmware", fw, m, 0.95))
    elif kind == 0x1C and rlen >= 34:
        m = f"s7comm/SZL {szl_id:#06x}"
        names = {1: "plc_name", 2: "module_name", 3: "plant_id", 4: "copyright", 5: "serial", 7: "model",
                 8: "memory_card_serial", 11: "location"}
        for n in range(min(rcount, len(recs) // rlen)):
            r = recs[n * rlen:(n + 1) * rlen]
            (index,) = struct.unpack_from(">H", r, 0)
            if index in names:
                value = _text(r[2:34])
                if value:
                    facts.append(Fact(names[index], value, m, 0.95))
    if facts:
        facts.append(Fact("vendor", "Siemens", m, 0.9))
    return facts


# --- BACnet/IP ------------------------------------------------------------------------------------

BACNET_PROPS = {75: "bacnet_device_id", 77: "object_name", 121: "vendor", 70: "model", 44: "firmware",
                12: "software_version", 120: "vendor_id", 28: "description", 58: "location"}


WILDCARD_INSTANCE = 4194303  # "the device that receives this": not an identity


def _bacnet_npdu(p: bytes) -> tuple[bytes, bool] | None:
    """(APDU, is_network_message) from a BVLC frame, or None."""
    if len(p) < 4 or p[0] != 0x81:
        return None
    fn = p[1]
    i = 4 if fn in (0x0A, 0x0B) else 10 if fn == 0x04 else -1
    if i < 0 or len(p) < i + 2 or p[i] != 1:
        return None
    ctrl = p[i + 1]
    i += 2
    if ctrl & 0x20:  # destination specifier
        dlen = p[i + 2]
        i += 3 + dlen
    if ctrl & 0x08:  # source specifier
        slen = p[i + 2]
        i += 3 + slen
    if ctrl & 0x20:
        i += 1  # hop count
    if i > len(p):
        raise Malformed("truncated NPDU")
    return p[i:], bool(ctrl & 0x80)


def _tag(b: bytes, i: int) -> tuple[int, bool, int, int]:
    """(tag number, is_context, length-or-type, index of the value) for a BACnet tag at i."""
    t = b[i]
    num, ctx, lvt = t >> 4, bool(t & 0x08), t & 0x07
    i += 1
    if num == 0x0F:
        num = b[i]
        i += 1
    if lvt == 5:
        lvt = b[i]
        i += 1
        if lvt == 254:
            lvt = struct.unpack_from(">H", b, i)[0]
            i += 2
        elif lvt == 255:
            lvt = struct.unpack_from(">I", b, i)[0]
            i += 4
    return num, ctx, lvt, i


def _bacnet_value(b: bytes, i: int) -> tuple[str | None, int]:
    """Decode one application-tagged value at i: (text or None, next index)."""
    num, ctx, lvt, j = _tag(b, i)
    if ctx:
        if lvt in (6, 7):  # opening/closing tag: skip a constructed value
            return None, j
        return None, j + lvt
    v = b[j:j + lvt]
    if num == 7 and v:  # character string, first byte = character set (0 UTF-8, 4 UCS-2, 5 ISO 8859-1)
        codec = {0: "utf-8", 4: "utf-16-be"}.get(v[0], "latin-1")
        return v[1:].decode(codec, "replace").strip(), j + lvt
    if num == 2:
        return str(int.from_bytes(v, "big")), j + lvt
    if num == 12 and len(v) == 4:
        (oid,) = struct.unpack(">I", v)
        return f"{oid >> 22}:{oid & 0x3FFFFF}", j + lvt
    return None, j + lvt


def bacnet(p: bytes) -> list[Fact]:
    """I-Am and ReadProperty(-Multiple) acknowledgements on the Device object."""
    r = _bacnet_npdu(p)
    if r is None:
        return []
    apdu, netmsg = r
    if netmsg or len(apdu) < 2:
        return []
    try:
        ptype = apdu[0] >> 4
        if ptype == 1 and apdu[1] == 0:  # Unconfirmed I-Am
            oid, i = _bacnet_value(apdu, 2)
            if not oid:
                raise Malformed("I-Am without object identifier")
            _maxapdu, i = _bacnet_value(apdu, i)
            _seg, i = _bacnet_value(apdu, i)
            num, _ctx, lvt, j = _tag(apdu, i)
            vendor = str(int.from_bytes(apdu[j:j + lvt], "big"))
            otype, inst = oid.split(":")
            if otype != "8":
                return []
            return [Fact("bacnet_device_id", inst, "bacnet/I-Am", 0.95),
                    Fact("vendor_id", vendor, "bacnet/I-Am", 0.95)]
        if ptype == 1 and apdu[1] == 1:  # Unconfirmed I-Have: device id, object id, object name
            dev, i = _bacnet_value(apdu, 2)
            obj, i = _bacnet_value(apdu, i)
            name, i = _bacnet_value(apdu, i)
            if not dev or not dev.startswith("8:"):
                raise Malformed("I-Have without a device identifier")
            facts = [Fact("bacnet_device_id", dev[2:], "bacnet/I-Have", 0.9)]
            if name:
                attr = "object_name" if obj == dev else "bacnet_object_name"
                facts.append(Fact(attr, name, "bacnet/I-Have", 0.8))
            return facts
        if ptype == 3:  # ComplexACK
            if apdu[0] & 0x08:
                return []  # segmented: the first segment only would be partial
            service = apdu[2]
            body = apdu[3:]
            if service == 12:
                return _bacnet_rp_ack(body)
            if service == 14:
                return _bacnet_rpm_ack(body)
    except (IndexError, struct.error) as exc:
        raise Malformed(f"truncated BACnet APDU: {exc}") from None
    return []


def _bacnet_rp_ack(b: bytes) -> list[Fact]:
    _n, _c, lvt, i = _tag(b, 0)
    (oid,) = struct.unpack_from(">I", b, i)
    i += lvt
    _n, _c, lvt, j = _tag(b, i)
    prop = int.from_bytes(b[j:j + lvt], "big")
    i = j + lvt
    num, ctx, lvt, j = _tag(b, i)
    if ctx and num == 2:  # array index
        i = j + lvt
        num, ctx, lvt, j = _tag(b, i)
    if oid >> 22 != 8:
        if prop == 77:  # a point's name (analog-input "Sensor_1", ...): the device's objects, kept apart
            value, _ = _bacnet_value(b, j)
            return [Fact("bacnet_object_name", value, "bacnet/ReadProperty-ACK", 0.8)] if value else []
        return []
    if prop not in BACNET_PROPS:
        return []
    value, _ = _bacnet_value(b, j)
    facts = []
    if oid & 0x3FFFFF != WILDCARD_INSTANCE:
        facts.append(Fact("bacnet_device_id", str(oid & 0x3FFFFF), "bacnet/ReadProperty-ACK", 0.9))
    if value:
        if prop == 75:
            value = value.split(":")[-1]
        facts.append(Fact(BACNET_PROPS[prop], value, "bacnet/ReadProperty-ACK", 0.9))
    return facts


def _bacnet_rpm_ack(b: bytes) -> list[Fact]:
    facts: list[Fact] = []
    i = 0
    while i < len(b):
        _n, _c, lvt, i = _tag(b, i)
        (oid,) = struct.unpack_from(">I", b, i)
        i += lvt
        num, ctx, lvt, i = _tag(b, i)  # opening tag 1
        while i < len(b):
            num, ctx, lvt, j = _tag(b, i)
            if ctx and lvt == 7:  # closing tag 1
                i = j
                break
            prop = int.from_bytes(b[j:j + lvt], "big")
            i = j + lvt
            num, ctx, lvt, j = _tag(b, i)
            if ctx and num == 3 and lvt not in (6, 7):
                i = j + lvt
                num, ctx, lvt, j = _tag(b, i)
            # opening tag 4 (value) or 5 (error); read values up to the matching closing tag
            is_value = num == 4
            i = j
            depth = 1
            first: str | None = None
            while depth and i < len(b):
                n2, c2, l2, k = _tag(b, i)
                if c2 and l2 == 6:
                    depth += 1
                    i = k
                elif c2 and l2 == 7:
                    depth -= 1
                    i = k
                else:
                    v, i = _bacnet_value(b, i)
                    first = first if first is not None else v
            if is_value and oid >> 22 != 8 and prop == 77 and first:
                facts.append(Fact("bacnet_object_name", first, "bacnet/ReadPropertyMultiple-ACK", 0.8))
            if is_value and oid >> 22 == 8 and prop in BACNET_PROPS and first:
                if prop == 75:
                    first = first.split(":")[-1]
                facts.append(Fact(BACNET_PROPS[prop], first, "bacnet/ReadPropertyMultiple-ACK", 0.9))
        if oid >> 22 == 8 and facts and oid & 0x3FFFFF != WILDCARD_INSTANCE:
            facts.append(Fact("bacnet_device_id", str(oid & 0x3FFFFF), "bacnet/ReadPropertyMultiple-ACK", 0.9))
    return facts


# --- DNP3 ---------------------------------------------------------------------------------------------


def dnp3(p: bytes) -> list[Fact]:
    """Link-layer addresses: the source address belongs to the sender."""
    if len(p) < 10 or p[0] != 0x05 or p[1] != 0x64:
        return []
    ctrl = p[3]
    _dst, src = struct.unpack_from("<HH", p, 4)
    role = "master" if ctrl & 0x80 else "outstation"
    return [Fact("dnp3_address", str(src), "dnp3/link", 0.9), Fact("dnp3_role", role, "dnp3/link", 0.8)]


# --- DHCP -------------------------------------------------------------------------------------------------


def dhcp(p: bytes) -> list[Fact]:
    """Client identity from options 12, 55, 60, 61 (attributed to the client hardware address)."""
    if len(p) < 240 or p[236:240] != b"\x63\x82\x53\x63":
        raise Malformed("not a DHCP message (no magic cookie)")
    op, htype, hlen = p[0], p[1], p[2]
    chaddr = ":".join(f"{x:02x}" for x in p[28:28 + min(hlen, 16)]) if htype == 1 and hlen == 6 else None
    subject = f"mac:{chaddr}" if chaddr else "src"
    facts = []
    msg_type = None
    i = 240
    while i < len(p):
        code = p[i]
        if code == 255:
            break
        if code == 0:
            i += 1
            continue
        if i + 2 > len(p):
            raise Malformed("truncated DHCP option")
        ln = p[i + 1]
        v = p[i + 2:i + 2 + ln]
        if len(v) < ln:
            raise Malformed(f"truncated DHCP option {code}")
        i += 2 + ln
        if code == 53 and v:
            msg_type = v[0]
        elif code == 12 and v:
            facts.append(Fact("hostname", _text(v), "dhcp/option 12", 0.8, subject))
        elif code == 60 and v:
            facts.append(Fact("dhcp_vendor_class", _text(v), "dhcp/option 60", 0.8, subject))
        elif code == 55 and v:
            facts.append(Fact("dhcp_fingerprint", ",".join(str(x) for x in v), "dhcp/option 55", 0.7, subject))
        elif code == 61 and v:
            facts.append(Fact("dhcp_client_id", v.hex(":"), "dhcp/option 61", 0.7, subject))
        elif code == 50 and len(v) == 4 and op == 1:
            facts.append(Fact("requested_ip", ".".join(map(str, v)), "dhcp/option 50", 0.6, subject))
    if op == 2:  # server reply: the hostname option is the name the server hands out, still about the client
        facts = [f._replace(confidence=f.confidence - 0.1) for f in facts]
        if msg_type == 5 and chaddr:  # ACK: yiaddr is now the client's address
            facts.append(Fact("assigned_ip", ".".join(map(str, p[16:20])), "dhcp/ACK", 0.9, subject))
    return facts


# --- LLDP / CDP ------------------------------------------------------------------------------------------


def lldp(p: bytes) -> list[Fact]:
    facts = []
    i = 0
    while i + 2 <= len(p):
        (h,) = struct.unpack_from(">H", p, i)
        t, ln = h >> 9, h & 0x1FF
        v = p[i + 2:i + 2 + ln]
        if len(v) < ln:
            raise Malformed("truncated LLDP TLV")
        i += 2 + ln
        if t == 0:
            break
        if t == 5:
            facts.append(Fact("hostname", _text(v), "lldp/system name", 0.9))
        elif t == 6:
            facts.append(Fact("description", _text(v), "lldp/system description", 0.9))
        elif t == 8 and len(v) >= 6 and v[1] == 1 and v[0] == 5:
            facts.append(Fact("management_ip", ".".join(map(str, v[2:6])), "lldp/management address", 0.9))
    return facts


def cdp(p: bytes) -> list[Fact]:
    """CDP after the LLC/SNAP header: version, ttl, checksum, then TLVs."""
    facts = []
    i = 4
    while i + 4 <= len(p):
        t, ln = struct.unpack_from(">HH", p, i)
        if ln < 4:
            raise Malformed("corrupt CDP TLV length")
        v = p[i + 4:i + ln]
        i += ln
        if t == 1:
            facts.append(Fact("hostname", _text(v), "cdp/device id", 0.9))
        elif t == 5:
            facts.append(Fact("firmware_description", v.decode("latin-1").strip(), "cdp/software version", 0.9))
        elif t == 6:
            facts.append(Fact("model", _text(v), "cdp/platform", 0.9))
    if facts:
        facts.append(Fact("vendor", "Cisco", "cdp", 0.6))
    return facts


# --- PROFINET DCP --------------------------------------------------------------------------------------


def profinet_dcp(p: bytes) -> list[Fact]:
    """DCP Identify response / Set request (payload after the ethertype)."""
    if len(p) < 12:
        raise Malformed("short DCP frame")
    frame_id = struct.unpack_from(">H", p, 0)[0]
    service, stype = p[2], p[3]
    (dlen,) = struct.unpack_from(">H", p, 10)
    is_set = frame_id == 0xFEFD and service == 4 and stype == 0
    is_resp = stype == 1 and service in (3, 5)
    # A device starting up asks "who is <my name>?" to detect a duplicate: the name is its own.
    is_ident = frame_id == 0xFEFE and service == 5 and stype == 0
    if not (is_set or is_resp or is_ident):
        return []
    subject = "dst" if is_set else "src"
    msg = ("profinet-dcp/Set" if is_set else "profinet-dcp/Identify-Response" if is_resp
           else "profinet-dcp/Identify-Request (name check)")
    conf = 0.9 if is_resp else 0.6
    skip = 0 if is_ident else 2  # requests carry no block info
    facts = []
    i = 12
    end = min(len(p), 12 + dlen)
    while i + 4 <= end:
        opt, sub, ln = p[i], p[i + 1], struct.unpack_from(">H", p, i + 2)[0]
        v = p[i + 4:i + 4 + ln]
        i += 4 + ln + (ln & 1)
        body = v[skip:]  # block info / block qualifier
        if is_ident and not (opt == 2 and sub == 2):
            continue
        if opt == 2 and sub == 1 and body:
            facts.append(Fact("model", _text(body), msg, conf, subject))
        elif opt == 2 and sub == 2 and body:
            facts.append(Fact("hostname", _text(body), msg, conf, subject))
        elif opt == 2 and sub == 3 and len(body) >= 4:
            vid, did = struct.unpack_from(">HH", body, 0)
            facts.append(Fact("profinet_device_id", f"{vid:#06x}:{did:#06x}", msg, conf, subject))
        elif opt == 1 and sub == 2 and len(body) >= 12:
            facts.append(Fact("profinet_ip", ".".join(map(str, body[0:4])), msg, conf, subject))
    if is_set:
        facts.append(Fact("finding", "PROFINET DCP Set seen (station name or IP changed over the network)",
                          msg, 0.9, subject))
    return facts


# --- SNMP ---------------------------------------------------------------------------------------------


def _ber(b: bytes, i: int) -> tuple[int, int, int]:
    """(tag, value start, value end) of the BER element at i."""
    tag = b[i]
    ln = b[i + 1]
    i += 2
    if ln & 0x80:
        n = ln & 0x7F
        if n == 0 or n > 4:
            raise Malformed("unsupported BER length")
        ln = int.from_bytes(b[i:i + n], "big")
        i += n
    if i + ln > len(b):
        raise Malformed("truncated BER element")
    return tag, i, i + ln


def _oid(v: bytes) -> str:
    if not v:
        return ""
    parts = [v[0] // 40, v[0] % 40]
    n = 0
    for x in v[1:]:
        n = (n << 7) | (x & 0x7F)
        if not x & 0x80:
            parts.append(n)
            n = 0
    return ".".join(map(str, parts))


SNMP_OIDS = {"1.3.6.1.2.1.1.1.0": "description", "1.3.6.1.2.1.1.2.0": "snmp_object_id",
             "1.3.6.1.2.1.1.5.0": "hostname", "1.3.6.1.2.1.1.6.0": "location"}
DEFAULT_COMMUNITIES = {"public", "private", "community", "admin", "manager", "cisco", "snmp"}


def snmp(p: bytes) -> tuple[str | None, int | None, list[Fact]]:
    """(community, PDU tag, facts) for an SNMP v1/v2c message; facts only from a GetResponse."""
    try:
        tag, s, e = _ber(p, 0)
        if tag != 0x30:
            raise Malformed("SNMP message is not a SEQUENCE")
        tag, vs, ve = _ber(p, s)
        version = int.from_bytes(p[vs:ve], "big")
        if version not in (0, 1):
            return None, None, []  # v3: no community on the wire
        tag, cs, ce = _ber(p, ve)
        community = p[cs:ce].decode("latin-1")
        pdu_tag, ps, pe = _ber(p, ce)
        facts: list[Fact] = []
        if pdu_tag == 0xA2:
            i = ps
            for _ in range(3):  # request id, error status, error index
                _t, _s, i = _ber(p, i)
            _t, i, vend = _ber(p, i)
            while i < vend:
                _t, bs, be = _ber(p, i)
                i = be
                _t, os_, oe = _ber(p, bs)
                oid = _oid(p[os_:oe])
                vtag, xs, xe = _ber(p, oe)
                if oid in SNMP_OIDS and vtag in (0x04, 0x06):
                    value = _oid(p[xs:xe]) if vtag == 0x06 else p[xs:xe].decode("utf-8", "replace").strip()
                    if value:
                        facts.append(Fact(SNMP_OIDS[oid], value, f"snmp/GetResponse {oid}", 0.9))
        return community, pdu_tag, facts
    except IndexError:
        raise Malformed("truncated SNMP message") from None


# --- text protocols: SSDP, HTTP, RTSP -------------------------------------------------------------------


def headers(p: bytes) -> tuple[str, dict[str, str]]:
    """(start line, lower-cased headers) of an HTTP-like message (first segment only)."""
    head = p.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    h: dict[str, str] = {}
    for line in lines[1:]:
        k, sep, v = line.partition(":")
        if sep:
            h.setdefault(k.strip().lower(), v.strip())
    return lines[0], h


def ssdp(p: bytes) -> list[Fact]:
    start, h = headers(p)
    facts = []
    if start.startswith("M-SEARCH"):
        if "user-agent" in h:
            facts.append(Fact("user_agent", h["user-agent"], "ssdp/M-SEARCH", 0.5))
        return facts
    if "server" in h:
        facts.append(Fact("server_banner", h["server"], "ssdp/SERVER", 0.7))
    if "location" in h:
        facts.append(Fact("upnp_location", h["location"], "ssdp/LOCATION", 0.6))
    return facts


def http_like(p: bytes, proto: str) -> list[Fact]:
    start, h = headers(p)
    facts = []
    if start.startswith(("HTTP/", "RTSP/")):
        if "server" in h:
            facts.append(Fact("server_banner", h["server"], f"{proto}/Server", 0.7))
        auth = h.get("www-authenticate", "")
        if "realm=" in auth:
            realm = auth.split("realm=", 1)[1].split(",")[0].strip('" ')
            facts.append(Fact("auth_realm", realm, f"{proto}/WWW-Authenticate", 0.6))
    elif "user-agent" in h:
        facts.append(Fact("user_agent", h["user-agent"], f"{proto}/User-Agent", 0.5))
    return facts


# --- mDNS ------------------------------------------------------------------------------------------------


def _dns_name(p: bytes, i: int, depth: int = 0) -> tuple[str, int]:
    labels = []
    end = None
    while True:
        if i >= len(p) or depth > 20:
            raise Malformed("truncated DNS name")
        ln = p[i]
        if ln == 0:
            i += 1
            break
        if ln & 0xC0 == 0xC0:
            ptr = ((ln & 0x3F) << 8) | p[i + 1]
            if end is None:
                end = i + 2
            i = ptr
            depth += 1
            continue
        labels.append(p[i + 1:i + 1 + ln].decode("utf-8", "replace"))
        i += 1 + ln
    return ".".join(labels), (end if end is not None else i)


def mdns(p: bytes) -> list[Fact]:
    """Names a responder announces: A-record host names, service instance names, TXT model keys."""
    if len(p) < 12:
        raise Malformed("short DNS header")
    flags, qd, an, ns, ar = struct.unpack_from(">HHHHH", p, 2)
    if not flags & 0x8000:
        return []
    i = 12
    for _ in range(qd):
        _n, i = _dns_name(p, i)
        i += 4
    facts = []
    for _ in range(an + ns + ar):
        name, i = _dns_name(p, i)
        if i + 10 > len(p):
            raise Malformed("truncated DNS record")
        rtype, _cls, _ttl, rdlen = struct.unpack_from(">HHIH", p, i)
        i += 10
        rd = p[i:i + rdlen]
        if rtype in (1, 28) and name.endswith(".local"):
            facts.append(Fact("hostname", name[:-6], "mdns/A", 0.7))
        elif rtype == 12:
            target, _ = _dns_name(p, i)
            if "._" in target and not target.startswith("_"):
                facts.append(Fact("mdns_service", target, "mdns/PTR", 0.6))
        elif rtype == 16:
            j = 0
            while j < len(rd):
                ln = rd[j]
                kv = rd[j + 1:j + 1 + ln].decode("utf-8", "replace")
                j += 1 + ln
                k, _, v = kv.partition("=")
                if k.lower() in ("model", "md", "mdl", "ty", "product") and v:
                    facts.append(Fact("model", v, f"mdns/TXT {k}", 0.7))
        i += rdlen
    return facts


# --- TLS -----------------------------------------------------------------------------------------------

_CN, _ORG = b"\x06\x03\x55\x04\x03", b"\x06\x03\x55\x04\x0a"


def tls(p: bytes) -> list[Fact]:
    """ClientHello SNI (the server's name, about the destination) and certificate names (about the sender).

    Certificates are read from the handshake bytes of one segment (no reassembly): a name cut by a
    segment boundary is missed, never invented. Issuer and subject names both appear, so they are
    kept as certificate names, not as the device's hostname."""
    if len(p) < 6 or p[0] != 0x16 or p[1] != 3:
        return []
    facts: list[Fact] = []
    if p[5] == 0x01 and len(p) > 43:  # ClientHello
        i = 43
        i += 1 + p[i]  # session id
        i += 2 + struct.unpack_from(">H", p, i)[0]  # cipher suites
        i += 1 + p[i]  # compression methods
        end = i + 2 + struct.unpack_from(">H", p, i)[0]
        i += 2
        while i + 4 <= min(end, len(p)):
            etype, elen = struct.unpack_from(">HH", p, i)
            if etype == 0 and elen > 5:
                nlen = struct.unpack_from(">H", p, i + 7)[0]
                name = p[i + 9:i + 9 + nlen].decode("ascii", "replace")
                facts.append(Fact("tls_server_name", name, "tls/ClientHello SNI", 0.7, "dst"))
            i += 4 + elen
        return facts
    for oid, attr in ((_CN, "tls_certificate_cn"), (_ORG, "tls_certificate_org")):
        i = p.find(oid)
        while i >= 0 and i + 7 <= len(p):
            tag, ln = p[i + 5], p[i + 6]
            if tag in (0x0C, 0x13, 0x16) and i + 7 + ln <= len(p):
                facts.append(Fact(attr, p[i + 7:i + 7 + ln].decode("utf-8", "replace"), "tls/Certificate", 0.6))
            i = p.find(oid, i + 5)
    return facts


def modbus_server_id(p: bytes) -> list[Fact]:
    """FC 0x11 Report Server ID response: byte count, server id, run indicator, device-specific data."""
    if len(p) < 11 or p[7] != 0x11:
        return []
    count = p[8]
    data = p[9:9 + count]
    if len(data) < count:
        raise Malformed("truncated Report Server ID response")
    text = "".join(chr(c) for c in data[2:] if 32 <= c < 127).strip()
    facts = [Fact("modbus_server_id", f"{data[0]:#04x}", "modbus/FC17", 0.8)]
    if len(text) >= 3:
        facts.append(Fact("description", text, "modbus/FC17", 0.7))
    return facts


# --- WS-Discovery / ONVIF ----------------------------------------------------------------------------

_SCOPE = re.compile(rb"onvif://www\.onvif\.org/(hardware|name|location|type)/([^\s<]+)")
_XADDRS = re.compile(rb"<[\w:]*XAddrs>\s*([^<\s]+)")


def ws_discovery(p: bytes) -> list[Fact]:
    """ProbeMatch / Hello: ONVIF scopes name the hardware (model), vendor name and location."""
    if b"ProbeMatch" not in p and b"Hello" not in p:
        return []
    m = "ws-discovery/ProbeMatch" if b"ProbeMatch" in p else "ws-discovery/Hello"
    attrs = {b"hardware": "model", b"name": "onvif_name", b"location": "location", b"type": "onvif_type"}
    facts = []
    for key, value in _SCOPE.findall(p):
        facts.append(Fact(attrs[key], unquote(value.decode("utf-8", "replace")), m, 0.8))
    if b"NetworkVideoTransmitter" in p:
        facts.append(Fact("onvif_type", "NetworkVideoTransmitter", m, 0.9))
    hit = _XADDRS.search(p)
    if hit:
        facts.append(Fact("onvif_service", hit.group(1).decode("utf-8", "replace"), m, 0.7))
    return facts


# --- NetBIOS name service ------------------------------------------------------------------------------


def _netbios_name(p: bytes, i: int) -> tuple[str, int, int]:
    """(name, suffix byte, next index) of a first-level encoded NetBIOS name at i."""
    ln = p[i]
    if ln != 32:
        raise Malformed("not a NetBIOS encoded name")
    enc = p[i + 1:i + 33]
    raw = bytes(((enc[k] - 0x41) << 4) | (enc[k + 1] - 0x41) for k in range(0, 32, 2))
    j = i + 33
    while p[j] != 0:  # scope labels
        j += 1 + p[j]
    return raw[:15].decode("latin-1").strip(), raw[15], j + 1


def nbns(p: bytes) -> list[Fact]:
    """A positive name-query response or a name registration/refresh: the sender's own NetBIOS name."""
    if len(p) < 12:
        raise Malformed("short NBNS header")
    flags, qd, an, _ns, ar = struct.unpack_from(">HHHHH", p, 2)
    opcode = (flags >> 11) & 0x0F
    is_response = bool(flags & 0x8000)
    if is_response and opcode == 0 and an and not flags & 0x000F:
        name, suffix, _ = _netbios_name(p, 12)
        message = "nbns/name query response"
    elif not is_response and opcode in (5, 8) and qd and ar:
        name, suffix, _ = _netbios_name(p, 12)
        message = "nbns/name registration"
    else:
        return []
    if suffix not in (0x00, 0x20) or not name or not name.isprintable():
        return []
    return [Fact("hostname", name, message, 0.7)]


def http_basic_auth(p: bytes) -> bool:
    """True when an HTTP/RTSP request carries Basic credentials (decodable by anyone on the path)."""
    head = p.split(b"\r\n\r\n", 1)[0].lower()
    return b"\r\nauthorization: basic " in head


# --- Hikvision SADP ---------------------------------------------------------------------------------------

_SADP_FIELDS = {b"DeviceDescription": ("model", 0.9), b"DeviceSN": ("serial", 0.9),
                b"SoftwareVersion": ("firmware", 0.9), b"DSPVersion": ("dsp_version", 0.7)}
_SADP_TAG = re.compile(rb"<(DeviceDescription|DeviceSN|SoftwareVersion|DSPVersion)>([^<]{1,200})</\1>")


def sadp(p: bytes) -> list[Fact]:
    """Hikvision SADP announcement / inquiry reply (UDP 37020): model, serial and firmware of the
    camera or recorder, in a small XML document. `V5.5.0build 170725` becomes `V5.5.0 build 170725`."""
    if b"<ProbeMatch" not in p[:200] or b"<DeviceSN>" not in p:
        return []
    facts = []
    for tag, value in _SADP_TAG.findall(p):
        attribute, conf = _SADP_FIELDS[tag]
        text = value.decode("utf-8", "replace").strip()
        if attribute == "firmware":
            text = re.sub(r"(?i)(\d)\s*build\s*", r"\1 build ", text)
        if text:
            facts.append(Fact(attribute, text, "sadp/inquiry", conf))
    if facts:
        facts.append(Fact("vendor", "Hikvision", "sadp/inquiry", 0.8))
    return facts
