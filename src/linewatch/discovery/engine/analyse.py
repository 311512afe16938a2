"""The discovery pass: packets -> flows, talkers and devices with provenance.

Hot path: a `struct` slice of Ethernet/VLAN/IPv4/IPv6/TCP/UDP headers and one flow-table update per
packet. A flow's service is classified once, from its ports and first payload; only flows of an
identity-bearing service hand their payloads to a dissector (`dissectors.py`). Memory grows with
the number of flows and devices, not with the number of packets.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linewatch.discovery.engine import dissectors as d
from linewatch.discovery.engine import posture
from linewatch.discovery.engine.kinds import guess_kind
from linewatch.discovery.engine.model import Device, Observation, Talker
from linewatch.discovery.engine.model import iso as model_iso
from linewatch.discovery.engine.oui import lookup as oui_lookup
from linewatch.discovery.engine.reader import read_batches
from linewatch.errors import InputError

# (transport, port) -> service name. Names follow the vocabulary of truth_tshark.json.
TCP_SERVICES = {
    502: "modbus", 102: "s7comm", 44818: "enip", 20000: "dnp3", 2404: "iec104", 4840: "opcua", 9600: "omron-fins",
    5007: "melsec", 1911: "niagara-fox", 18245: "ge-srtp", 48898: "beckhoff-ads", 80: "http", 8080: "http",
    8000: "http", 443: "tls", 8443: "tls", 554: "rtsp", 8554: "rtsp", 21: "ftp", 23: "telnet", 22: "ssh",
    53: "dns", 445: "smb", 139: "netbios", 3389: "rdp", 5900: "vnc", 1883: "mqtt", 8883: "mqtt", 601: "syslog",
    6514: "syslog",
}
UDP_SERVICES = {
    47808: "bacnet", 44818: "enip", 2222: "cip", 20000: "dnp3", 9600: "omron-fins", 34964: "profinet-cm",
    67: "dhcp", 68: "dhcp", 5353: "mdns", 1900: "ssdp", 161: "snmp", 162: "snmp", 137: "nbns", 138: "netbios",
    5355: "llmnr", 69: "tftp", 123: "ntp", 53: "dns", 3702: "ws-discovery", 514: "syslog", 2455: "codesys",
    319: "ptp", 320: "ptp", 37020: "sadp",
}
ICS_PROTOCOLS = frozenset({
    "modbus", "s7comm", "s7comm-plus", "enip", "cip", "bacnet", "dnp3", "profinet", "profinet-dcp", "profinet-cm",
    "iec104", "opcua", "omron-fins", "melsec", "niagara-fox", "ge-srtp", "beckhoff-ads", "codesys",
})
HTTP_STARTS = frozenset({b"HTTP", b"RTSP", b"GET ", b"POST", b"HEAD", b"PUT ", b"DESC", b"SETU", b"OPTI", b"PLAY",
                         b"ANNO", b"TEAR", b"GET_", b"NOTI", b"M-SE"})

IPV4_NO_OPTIONS = b"\x08\x00\x45"  # ethertype IPv4, version 4, header length 20

# What a dissector may raise on hostile input (Malformed is a ValueError); anything else is a bug.
DISSECT_ERRORS = (ValueError, IndexError, struct.error, UnicodeDecodeError)

# Flow record fields (a list, for speed).
PKTS, BYTES, FIRST, LAST, SERVICE, SIDE, SYN, MAC_A, MAC_B, DISSECT, EXTRA, KEY, GATE = range(13)
# Gates (payload offset, function bytes that may carry identity) of the chatty ICS services, set once a
# flow is known: Modbus function 43 (MEI) / 17 (server id), S7 UserData (ROSCTR 7), ENIP ListIdentity.
MODBUS_GATE = (7, frozenset({0x2B, 0x11}))
S7_GATE = (8, frozenset({7}))
ENIP_GATE = (0, frozenset({0x63}))
TLS_GATE = (0, frozenset({0x16}))


@dataclass
class Stats:
    files: int = 0
    packets: int = 0
    bytes: int = 0
    non_ip: int = 0
    malformed: dict[str, int] = field(default_factory=dict)


class Discovery:
    """Accumulates one or more capture files into devices and talkers."""

    def __init__(self) -> None:
        # IP protocol -> {src + dst + sport + dport (as first seen): flow record}
        self.tables: dict[int, dict[bytes, list]] = {}
        self.l2: dict[bytes, set[str]] = {}  # MAC -> layer-2 protocols it sent
        self.arp: dict[bytes, dict[bytes, int]] = {}  # sender IP -> {MAC: count}
        self.l2_seen: dict[bytes, list] = {}  # MAC -> [first, last, frames] of its non-IP frames
        self.facts: dict[tuple[str, bytes], dict[tuple[str, str], Observation]] = {}
        self.snmp_communities: dict[bytes, dict[str, Observation]] = {}
        self.stats = Stats()
        self.errors: list[InputError] = []
        self.file = ""
        self._devices: list[Device] | None = None
        self.extra_devices: list[Device] = []  # from nmap / Zeek: merged by IP (else MAC) into the wire's
        self.extra_talkers: list[Talker] = []
        self.sources: dict[str, int] = {}  # source kind -> files read (pcap, nmap, zeek)
        self.known_newest: dict[tuple[str, str], tuple[str, str]] = {}  # posture: newest firmware from feeds

    # --- reading -------------------------------------------------------------------------------------

    def add_file(self, path: str | Path, progress: Callable[[int], None] | None = None,
                 name: str | None = None) -> bool:
        """Read one capture; on bad input keep what was read, record the error and return False."""
        self.file = name or str(path)
        self._devices = None
        self.stats.files += 1
        self.sources["pcap"] = self.sources.get("pcap", 0) + 1
        with contextlib.suppress(OSError):  # read_batches reports an unreadable file
            self.stats.bytes += Path(path).stat().st_size
        try:
            self._run(read_batches(path, self.file), progress)
        except InputError as exc:
            self.errors.append(exc)
            return False
        return True

    def add_nmap(self, path: str | Path, name: str | None = None) -> bool:
        """Merge the hosts of an nmap XML scan; bad hosts / a truncation are recorded, the rest kept."""
        from linewatch.discovery.engine.sources import read_nmap

        devices, errors = read_nmap(path, name)
        self.extra_devices += devices
        self.errors += errors
        self.sources["nmap"] = self.sources.get("nmap", 0) + 1
        self._devices = None
        return not errors

    def add_zeek(self, path: str | Path, name: str | None = None) -> bool:
        """Merge the talkers and devices of a Zeek conn.log (TSV or JSON); bad lines are recorded."""
        from linewatch.discovery.engine.sources import read_zeek_conn

        result = read_zeek_conn(path, name)
        self.extra_devices += result.devices
        self.extra_talkers += result.talkers
        self.errors += result.errors
        self.sources["zeek"] = self.sources.get("zeek", 0) + 1
        self._devices = None
        return not result.errors

    def _fact(self, kind: str, key: bytes, f: d.Fact, num: int, ts: float) -> None:
        bucket = self.facts.setdefault((kind, key), {})
        k = (f.attribute, f.value)
        if k not in bucket:
            bucket[k] = Observation(f.attribute, f.value, f.message, self.file, num, ts, f.confidence)

    def _dissect(self, fn, payload: bytes, src_key: tuple[str, bytes], dst_key: tuple[str, bytes],
                 num: int, ts: float, proto: str) -> None:
        try:
            facts = fn(payload)
        except DISSECT_ERRORS:
            self.stats.malformed[proto] = self.stats.malformed.get(proto, 0) + 1
            return
        for f in facts:
            if f.subject == "src":
                self._fact(*src_key, f, num, ts)
            elif f.subject == "dst":
                self._fact(*dst_key, f, num, ts)
            elif f.subject.startswith("mac:"):
                self._fact("mac", bytes.fromhex(f.subject[4:].replace(":", "")), f, num, ts)

    def _run(self, packets: Iterable, progress: Callable[[int], None] | None) -> None:
        stats = self.stats
        self._counts = [0]
        try:
            self._loop(packets, progress)
        finally:  # a file that fails half-way still counts what was read
            counts = self._counts
            stats.packets += counts[0]

    def _loop(self, batches: Iterable, progress: Callable[[int], None] | None) -> None:  # noqa: C901 - hot loop
        tables = self.tables
        tcp = tables.setdefault(6, {})
        udp = tables.setdefault(17, {})
        tcp_get = tcp.get
        udp_get = udp.get
        decode = self._decode
        classify = self._classify
        on_payload = self._payload
        counts = self._counts
        num = 0
        for batch in batches:
            if progress is not None and batch:
                progress(batch[-1][3])
            for linktype, ts, frame, _offset in batch:
                num += 1
                flen = len(frame)
                # Fast path: Ethernet, IPv4 without options, TCP or UDP, not a later fragment.
                proto = frame[23] if flen >= 42 else 0
                if ((proto == 6 or proto == 17) and linktype == 1 and frame[12:15] == IPV4_NO_OPTIONS
                        and not (frame[20] & 0x1F or frame[21])):
                    if proto == 6:
                        if flen < 54:
                            continue
                        table, get = tcp, tcp_get
                        flags = frame[47]
                        pstart = 34 + (frame[46] >> 4) * 4
                    else:
                        table, get = udp, udp_get
                        flags = 0
                        pstart = 42
                    key = frame[26:38]
                    end = 14 + ((frame[16] << 8) | frame[17])
                else:
                    r = decode(linktype, ts, frame, num)
                    if r is None:
                        continue
                    proto, key, flags, pstart, end = r
                    table = tables.setdefault(proto, {})
                    get = table.get
                entry = get(key)
                if entry is None:
                    # each flow is filed under both directions' keys, so a reply costs one lookup too
                    half = (len(key) - 4) >> 1
                    rkey = key[half:2 * half] + key[:half] + key[-2:] + key[-4:-2]
                    rec = [0, 0, ts, ts, None, None, None, self._smac(linktype, frame), None, None, None, key, None]
                    table[key] = (rec, True)
                    if rkey != key:
                        table[rkey] = (rec, False)
                    forward = True
                else:
                    rec, forward = entry
                rec[PKTS] += 1
                rec[BYTES] += flen
                rec[LAST] = ts
                if not forward and rec[MAC_B] is None:
                    rec[MAC_B] = self._smac(linktype, frame)
                if flags & 0x12 == 0x02:  # SYN without ACK: the sender is the client
                    rec[SYN] = forward
                if rec[DISSECT] is None and rec[SERVICE] is not None:
                    continue  # the flow is named and carries no identity: nothing more to do (most packets)
                gate = rec[GATE]
                if gate is not None:
                    # the chatty ICS flows: only a message whose function byte can carry identity goes on,
                    # tested on the frame itself (no payload copy for the many that cannot)
                    gi = pstart + gate[0]
                    if gi >= end or gi >= flen or frame[gi] not in gate[1]:
                        continue
                if end <= pstart:
                    continue
                payload = frame[pstart:end]
                if not payload:  # the IP length promised more than the capture kept (snap length)
                    continue
                key = rec[KEY]
                if rec[SERVICE] is None and classify(rec, proto, key, payload, forward) is None:
                    continue
                if rec[DISSECT] is not None:
                    gate = rec[GATE]
                    if gate is not None and (len(payload) <= gate[0] or payload[gate[0]] not in gate[1]):
                        continue  # just classified: the first payload passes the same gate
                    on_payload(rec, proto, key, forward, payload, linktype, frame, num, ts)
            counts[0] = num
        counts[0] = num
        if progress is not None:
            progress(-1)

    @staticmethod
    def _smac(linktype: int, frame: bytes) -> bytes:
        if linktype == 1:
            return frame[6:12]
        if linktype == 113 and frame[4:6] == b"\x00\x06":
            return frame[6:12]
        if linktype == 276 and frame[11] == 6:
            return frame[12:18]
        return b""

    def _decode(self, linktype: int, ts: float, frame: bytes, num: int) -> tuple | None:
        """The general path: any link type, VLAN tags, IPv6, IP options, non-TCP/UDP, layer 2.

        Returns (IP protocol, flow key, TCP flags, payload start, payload end), or None without an IP flow."""
        try:
            return self._decode_frame(linktype, ts, frame, num)
        except (IndexError, struct.error):  # a frame cut short by the snap length or corrupt: skip it
            self.stats.malformed["frame"] = self.stats.malformed.get("frame", 0) + 1
            return None

    def _decode_frame(self, linktype: int, ts: float, frame: bytes, num: int) -> tuple | None:  # noqa: C901
        unpack_from = struct.unpack_from
        smac = dmac = b""
        if linktype == 1:
            if len(frame) < 14:
                return None
            etype = (frame[12] << 8) | frame[13]
            i = 14
            while etype in (0x8100, 0x88A8) and len(frame) >= i + 4:
                etype = (frame[i + 2] << 8) | frame[i + 3]
                i += 4
            smac = frame[6:12]
            dmac = frame[0:6]
        elif linktype == 113:
            if len(frame) < 16:
                return None
            etype = (frame[14] << 8) | frame[15]
            i = 16
            smac = self._smac(linktype, frame)
        elif linktype == 276:
            if len(frame) < 20:
                return None
            etype = (frame[0] << 8) | frame[1]
            i = 20
            smac = self._smac(linktype, frame)
        elif linktype in (0, 108):
            if len(frame) < 4:
                return None
            fam = frame[0] if linktype == 0 and frame[0] else frame[3]
            etype = 0x0800 if fam == 2 else 0x86DD
            i = 4
        elif linktype in (101, 12, 14, 228, 229):
            etype = 0x86DD if frame and frame[0] >> 4 == 6 else 0x0800
            i = 0
        else:
            self.stats.non_ip += 1
            return None
        if etype == 0x0800:
            if len(frame) < i + 20:
                return None
            ihl = (frame[i] & 0x0F) * 4
            proto = frame[i + 9]
            src = frame[i + 12:i + 16]
            dst = frame[i + 16:i + 20]
            frag = ((frame[i + 6] & 0x1F) << 8) | frame[i + 7]
            (tot,) = unpack_from(">H", frame, i + 2)
            end = i + tot if tot else len(frame)
            i += ihl
            if frag:
                return proto, src + dst + b"\0\0\0\0", 0, 0, 0  # a later fragment: no transport header
        elif etype == 0x86DD:
            if len(frame) < i + 40:
                return None
            proto = frame[i + 6]
            src = frame[i + 8:i + 24]
            dst = frame[i + 24:i + 40]
            (plen,) = unpack_from(">H", frame, i + 4)
            end = i + 40 + plen
            i += 40
            while proto in (0, 43, 60) and len(frame) >= i + 2:  # hop-by-hop, routing, destination options
                proto = frame[i]
                i += (frame[i + 1] + 1) * 8
        else:
            self._layer2(etype, frame, i, smac, dmac, num, ts)
            return None
        if proto == 6 and len(frame) >= i + 20:
            return 6, src + dst + frame[i:i + 4], frame[i + 13], i + (frame[i + 12] >> 4) * 4, end
        if proto == 17 and len(frame) >= i + 8:
            return 17, src + dst + frame[i:i + 4], 0, i + 8, end
        return proto, src + dst + b"\0\0\0\0", 0, 0, 0

    def _payload(self, rec: list, proto: int, key: bytes, forward: bool, payload: bytes, linktype: int,
                 frame: bytes, num: int, ts: float) -> None:
        """Hand an identity-bearing flow's payload to its dissector."""
        half = (len(key) - 4) >> 1
        a, b = key[:half], key[half:2 * half]
        src, dst = (a, b) if forward else (b, a)
        service = rec[SERVICE]
        fn = rec[DISSECT]
        src_key = ("ip", src)
        dst_key = ("ip", dst)
        if service == "snmp":
            sport = struct.unpack_from(">H", key, 2 * half if forward else 2 * half + 2)[0]
            self._snmp(payload, src, dst, sport, num, ts)
        elif service == "dhcp":
            smac = self._smac(linktype, frame)
            dmac = frame[0:6] if linktype == 1 else b""
            self._dissect(fn, payload, ("mac", smac), ("mac", dmac), num, ts, service)
        elif service == "enip":
            if rec[EXTRA] is None and proto == 6 and d.enip_cip_present(payload):
                rec[EXTRA] = "cip"
                rec[GATE] = ENIP_GATE
            if payload[0] == 0x63:
                self._dissect(fn, payload, src_key, dst_key, num, ts, service)
        elif service == "modbus":
            if len(payload) > 8 and payload[7] == 0x2B:
                self._dissect(fn, payload, src_key, dst_key, num, ts, service)
            elif len(payload) > 8 and payload[7] == 0x11 and not forward ^ (rec[SIDE] == "a"):
                self._dissect(d.modbus_server_id, payload, src_key, dst_key, num, ts, service)
        elif service == "dnp3":
            if rec[PKTS] < 16:
                self._dissect(fn, payload, src_key, dst_key, num, ts, service)
            else:
                rec[DISSECT] = None  # addresses and roles are known by now
        elif service == "tls":
            if rec[PKTS] > 16:
                rec[DISSECT] = rec[GATE] = None  # the handshake is over
            else:
                self._dissect(fn, payload, src_key, dst_key, num, ts, service)
        elif service in ("http", "rtsp"):
            if payload[:4] in HTTP_STARTS:
                self._dissect(fn, payload, src_key, dst_key, num, ts, service)
                if d.http_basic_auth(payload):
                    text = f"{service.upper()} Basic credentials sent in clear text to this server"
                    finding = d.Fact("finding", text, f"{service}/Authorization", 0.9)
                    self._fact("ip", dst, finding, num, ts)
        elif service == "s7comm":
            pdu = d.s7_pdu(payload)
            if pdu:
                if pdu[0] == 0x72:
                    rec[SERVICE] = "s7comm-plus"
                    rec[DISSECT] = None
                elif pdu[0] == 0x32:
                    rec[EXTRA] = "s7comm"
                    rec[GATE] = S7_GATE
                    if pdu[1] == 7:
                        self._dissect(fn, pdu, src_key, dst_key, num, ts, service)
        else:
            self._dissect(fn, payload, src_key, dst_key, num, ts, service)

    def _classify(self, rec: list, transport: int, key: bytes, payload: bytes, forward: bool) -> str | None:
        """Name a flow's service from its ports (server side = the well-known port) or payload."""
        sport, dport = struct.unpack_from(">HH", key, len(key) - 4)
        if not forward:
            sport, dport = dport, sport
        table = TCP_SERVICES if transport == 6 else UDP_SERVICES if transport == 17 else {}
        service = None
        side = None
        # the lower of two known ports wins (e.g. 68 -> 67)
        for port, s in sorted(((dport, "b" if forward else "a"), (sport, "a" if forward else "b"))):
            if port in table:
                # equal ports (syslog 514 -> 514, NTP 123 -> 123): the first packet's receiver serves
                service, side = table[port], ("b" if sport == dport else s)
                break
        if service is None:
            if transport == 6 and len(payload) > 5 and payload[0] in (0x16, 0x17) and payload[1] == 3:
                service, side = "tls", ("b" if forward else "a")
            elif payload[:4] in (b"HEL\x46", b"OPNF", b"MSGF") and transport == 6:
                service, side = "opcua", ("b" if forward else "a")
            elif payload[:5] in (b"HTTP/", b"RTSP/"):
                service, side = ("http" if payload[0] == 0x48 else "rtsp"), ("a" if forward else "b")
            elif payload[:4] in (b"GET ", b"POST", b"HEAD") and b" HTTP/1." in payload[:256]:
                service, side = "http", ("b" if forward else "a")
            else:
                rec[SERVICE] = False  # unknown service: never classify this flow again
                return None
        elif service == "modbus" and not d.modbus_valid(payload):
            return None
        elif service == "s7comm" and d.s7_pdu(payload) is None:
            rec[DISSECT] = d.s7_szl  # wait for the S7 header before naming the flow (COTP set-up only)
            rec[SIDE] = side
            return None
        rec[SERVICE] = service
        rec[SIDE] = side
        rec[DISSECT] = DISSECTORS.get(service)
        if service == "modbus":
            rec[GATE] = MODBUS_GATE
        elif service == "tls":
            rec[GATE] = TLS_GATE
        elif service == "enip" and transport != 6:
            rec[GATE] = ENIP_GATE
        elif service == "s7comm" and rec[EXTRA] is not None:
            rec[GATE] = S7_GATE
        return service

    def _snmp(self, payload: bytes, src: bytes, dst: bytes, sport: int, num: int, ts: float) -> None:
        try:
            community, pdu, facts = d.snmp(payload)
        except DISSECT_ERRORS:
            self.stats.malformed["snmp"] = self.stats.malformed.get("snmp", 0) + 1
            return
        agent = src if sport in (161, 162) or pdu == 0xA4 or pdu == 0xA7 else dst
        if community is not None:
            bucket = self.snmp_communities.setdefault(agent, {})
            if community not in bucket:
                bucket[community] = Observation("snmp_community", community, "snmp/community", self.file, num, ts,
                                                0.9)
        for f in facts:
            self._fact("ip", src, f, num, ts)

    def _layer2(self, etype: int, frame: bytes, i: int, smac: bytes, dmac: bytes, num: int, ts: float) -> None:
        """Non-IP frames: ARP, LLDP, PROFINET, CDP (LLC/SNAP)."""
        self.stats.non_ip += 1
        if not smac:
            return
        protos = self.l2.setdefault(smac, set())
        seen = self.l2_seen.get(smac)
        if seen is None:
            self.l2_seen[smac] = [ts, ts, 1]
        else:
            seen[1] = ts
            seen[2] += 1
        payload = frame[i:]
        fn = None
        if etype == 0x0806:
            protos.add("arp")
            if len(payload) >= 28 and payload[0:2] == b"\x00\x01" and payload[2:4] == b"\x08\x00":
                sha, spa = payload[8:14], payload[14:18]
                if spa != b"\x00\x00\x00\x00":
                    m = self.arp.setdefault(spa, {})
                    m[sha] = m.get(sha, 0) + 1
            return
        if etype == 0x88CC:
            protos.add("lldp")
            fn, name = d.lldp, "lldp"
        elif etype == 0x8892:
            protos.add("profinet")
            if len(payload) >= 2 and payload[0] == 0xFE and payload[1] in (0xFC, 0xFD, 0xFE, 0xFF):
                protos.add("profinet-dcp")
                fn, name = d.profinet_dcp, "profinet-dcp"
        elif etype == 0x88F7:
            protos.add("ptp")
        elif etype <= 1500 and payload[:3] == b"\xaa\xaa\x03" and payload[3:8] == b"\x00\x00\x0c\x20\x00":
            protos.add("cdp")
            payload = payload[8:]
            fn, name = d.cdp, "cdp"
        if fn is not None:
            self._dissect(fn, payload, ("mac", smac), ("mac", dmac), num, ts, name)

    # --- results ---------------------------------------------------------------------------------------

    def flow_items(self) -> Iterator[tuple[bytes, bytes, int, int, int, list]]:
        """(address A, address B, IP protocol, port A, port B, record); A is the first packet's sender."""
        for proto, table in self.tables.items():
            for key, (rec, forward) in table.items():
                if not forward:
                    continue
                half = (len(key) - 4) >> 1
                pa, pb = struct.unpack_from(">HH", key, 2 * half)
                yield key[:half], key[half:2 * half], proto, pa, pb, rec

    def hosts(self) -> set[str]:
        """Every IP address seen in an IP header (as tshark's conversation table lists them)."""
        out: set[bytes] = set()
        for a, b, *_ in self.flow_items():
            out.add(a)
            out.add(b)
        return {ip_str(b) for b in out}

    def protocols_by_host(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for a, b, _t, _pa, _pb, rec in self.flow_items():
            for s in _services(rec):
                out.setdefault(ip_str(a), set()).add(s)
                out.setdefault(ip_str(b), set()).add(s)
        return out

    def l2_protocols_by_mac(self) -> dict[str, set[str]]:
        return {mac_str(m): set(p) for m, p in self.l2.items() if p}

    def talkers(self) -> list[Talker]:
        out: dict[tuple, Talker] = {}
        for a, b, transport, pa, pb, rec in self.flow_items():
            if transport not in (6, 17):
                continue
            a_is_client = _client_is_a(rec, pa, pb)
            client, server, port = (a, b, pb) if a_is_client else (b, a, pa)
            service = rec[SERVICE] or None
            tk = (client, server, transport, port)
            t = out.get(tk)
            if t is None:
                t = out[tk] = Talker(ip_str(client), ip_str(server), "tcp" if transport == 6 else "udp", port,
                                     service, first_seen=rec[FIRST], last_seen=rec[LAST])
            t.packets += rec[PKTS]
            t.bytes += rec[BYTES]
            t.flows += 1
            t.first_seen = min(t.first_seen, rec[FIRST])
            t.last_seen = max(t.last_seen, rec[LAST])
            if t.service is None and service:
                t.service = service
        for x in self.extra_talkers:
            tk = (ip_bytes(x.client), ip_bytes(x.server), 6 if x.transport == "tcp" else 17, x.port)
            t = out.get(tk)
            if t is None:
                t = out[tk] = Talker(x.client, x.server, x.transport, x.port, x.service, first_seen=x.first_seen,
                                     last_seen=x.last_seen)
            t.packets += x.packets
            t.bytes += x.bytes
            t.flows += x.flows
            t.first_seen = min(v for v in (t.first_seen, x.first_seen) if v is not None) if x.first_seen else \
                t.first_seen
            t.last_seen = max(v for v in (t.last_seen, x.last_seen) if v is not None) if x.last_seen else t.last_seen
            if t.service is None and x.service:
                t.service = x.service
        return sorted(out.values(), key=lambda t: (-t.packets, t.client, t.server, t.port))

    def devices(self) -> list[Device]:
        if self._devices is None:
            self._devices = self._build_devices()
        return self._devices

    def _build_devices(self) -> list[Device]:  # noqa: C901 - one pass per source of evidence
        devices: dict[bytes, Device] = {}
        mac_ips: dict[bytes, set[bytes]] = {}

        def dev(ip: bytes) -> Device:
            dv = devices.get(ip)
            if dv is None:
                dv = devices[ip] = Device(key=ip_str(ip), ip=ip_str(ip))
            return dv

        for a, b, transport, pa, pb, rec in self.flow_items():
            services = _services(rec)
            a_is_client = _client_is_a(rec, pa, pb)
            symmetric = pa == pb and transport == 17
            for ip, mac, is_client in ((a, rec[MAC_A], a_is_client), (b, rec[MAC_B], not a_is_client)):
                if not _is_unicast(ip):
                    continue
                dv = dev(ip)
                dv.packets += rec[PKTS]
                dv.first_seen = rec[FIRST] if dv.first_seen is None else min(dv.first_seen, rec[FIRST])
                dv.last_seen = rec[LAST] if dv.last_seen is None else max(dv.last_seen, rec[LAST])
                if mac:
                    dv.macs[mac_str(mac)] = dv.macs.get(mac_str(mac), 0) + rec[PKTS]
                    mac_ips.setdefault(mac, set()).add(ip)
                for s in services:
                    role = "peer" if symmetric or not _is_unicast(b if ip == a else a) else (
                        "client" if is_client else "server")
                    dv.protocols.setdefault(s, set()).add(role)
        # ARP is the best MAC <-> IP evidence on the local segment.
        for ip, macs in self.arp.items():
            if _is_unicast(ip):
                dv = dev(ip)
                for m, n in macs.items():
                    dv.macs[mac_str(m)] = dv.macs.get(mac_str(m), 0) + n * 1000
                    mac_ips.setdefault(m, set()).add(ip)
        # A MAC that sends for many IPs is a router's: it says nothing about those hosts.
        routers = {mac_str(m) for m, ips in mac_ips.items() if len(ips) > 2}
        by_mac: dict[str, Device] = {}
        for dv in devices.values():
            for m in list(dv.macs):
                if m in routers and not any(m == mac_str(x) for x in self.arp.get(ip_bytes(dv.ip), {})):
                    del dv.macs[m]
            if dv.mac:
                by_mac.setdefault(dv.mac, dv)
        l2_devices: dict[str, Device] = {}

        def mac_dev(mac: bytes) -> Device:
            ms = mac_str(mac)
            dv = by_mac.get(ms) or l2_devices.get(ms)
            if dv is None:
                dv = l2_devices[ms] = Device(key=f"mac:{ms}", macs={ms: 1})
                seen = self.l2_seen.get(mac)
                if seen:
                    dv.first_seen, dv.last_seen, dv.packets = seen
            return dv

        for mac, protos in self.l2.items():
            if protos - {"arp"} or mac_str(mac) not in by_mac:
                if mac_str(mac) in routers:
                    continue
                dv = mac_dev(mac)
                for p in protos:
                    dv.protocols.setdefault(p, set()).add("peer")
        for (kind, key), obs in self.facts.items():
            if kind == "ip":
                if not _is_unicast(key):
                    continue
                dv = dev(key)
            else:
                if not key or key[0] & 1:
                    continue
                dv = mac_dev(key)
            for o in obs.values():
                if o.attribute == "finding":
                    dv.findings.append({"finding": o.value, "source": o.source, "file": o.file, "packet": o.packet,
                                        "time": model_iso(o.time)})
                else:
                    dv.observe(o)
        for ip, comms in self.snmp_communities.items():
            if not _is_unicast(ip):
                continue
            dv = dev(ip)
            for o in comms.values():
                dv.observe(o)  # posture.assess makes the finding
        out = list(devices.values()) + list(l2_devices.values())
        out += _merge(out, self.extra_devices)
        for dv in out:
            _enrich(dv)
        posture.assess(out, self.talkers(), self.known_newest)
        out.sort(key=_device_order)
        return out

    def document(self, site: str | None = None) -> dict[str, Any]:
        """The whole result as one JSON-ready document."""
        return {
            "site": site,
            "files": self.stats.files,
            "packets": self.stats.packets,
            "bytes": self.stats.bytes,
            "malformed": self.stats.malformed,
            "errors": [e.as_dict() for e in self.errors],
            "devices": [dv.as_dict() for dv in self.devices()],
            "talkers": [t.as_dict() for t in self.talkers()],
        }


def _merge(devices: list[Device], extra: list[Device]) -> list[Device]:
    """Fold devices from other sources (nmap, Zeek) into the wire's, by IP, else MAC; the ones
    matching none are returned as new devices."""
    by_ip = {dv.ip: dv for dv in devices if dv.ip}
    by_mac = {m: dv for dv in devices for m in dv.macs}
    new: list[Device] = []
    for x in extra:
        dv = by_ip.get(x.ip) if x.ip else None
        if dv is None and x.mac:
            dv = by_mac.get(x.mac)
            if dv is not None and dv.ip and x.ip and dv.ip != x.ip:
                dv = None  # one MAC, two addresses: a router's MAC or a re-addressed host; keep both
        if dv is None:
            dv = Device(key=x.key, ip=x.ip)
            new.append(dv)
            if x.ip:
                by_ip[x.ip] = dv
        for m, n in x.macs.items():
            dv.macs[m] = dv.macs.get(m, 0) + n
            by_mac.setdefault(m, dv)
        dv.packets += x.packets
        for t in (x.first_seen, x.last_seen):
            if t is not None:
                dv.first_seen = t if dv.first_seen is None else min(dv.first_seen, t)
                dv.last_seen = t if dv.last_seen is None else max(dv.last_seen, t)
        for p, roles in x.protocols.items():
            dv.protocols.setdefault(p, set()).update(roles)
        for o in x.observations:
            dv.observe(o)
        dv.findings += x.findings
    return new


def _services(rec: list) -> list[str]:
    s = rec[SERVICE]
    if not s:
        return []
    if s == "s7comm" and rec[EXTRA] != "s7comm":
        return []  # COTP only: no S7 PDU seen
    if s == "enip" and rec[EXTRA] == "cip":
        return ["enip", "cip"]
    return [s]


def _client_is_a(rec: list, pa: int, pb: int) -> bool:
    if rec[SYN] is not None:
        return rec[SYN]
    if rec[SIDE] is not None:
        return rec[SIDE] == "b"
    return pb < pa  # the lower port is more likely the service


def _enrich(dv: Device) -> None:
    """Vendor from the OUI, fields parsed from descriptions, a model hint, then the kind guess
    (posture findings come after, from `posture.assess`, which needs every device)."""
    if dv.mac:
        v = oui_lookup(dv.mac)
        if v:
            dv.observe(Observation("vendor", v[0], f"oui/{v[1]}", "", 0, None, 0.5))
    for o in list(dv.observations):
        if o.attribute in ("description", "firmware_description"):
            for attr, rx, conf in DESCRIPTION_FIELDS:
                hit = rx.search(o.value)
                if hit:
                    dv.observe(Observation(attr, hit.group(1).strip(), f"parsed from {o.source}", o.file, o.packet,
                                           o.time, conf))
    if dv.best("model") is None:
        for o in list(dv.observations):
            m = MODEL_HINTS.get(o.attribute, (None,))[0]
            hit = m.search(o.value) if m else None
            if hit and hit.group(1).lower() not in GENERIC_TOKENS:
                dv.observe(Observation("model", hit.group(1), f"inferred from {o.source}", o.file, o.packet, o.time,
                                       MODEL_HINTS[o.attribute][1]))
    dv.kind, dv.kind_reason = guess_kind(dv)


# A model name hidden in a banner or a name, e.g. "Linux, UPnP/1.0 DCS-935L/1.0", hostname "DCS-930LB",
# "D-Link DCS-935L Configuration Utility._http._tcp.local". Inferred models keep a low confidence.
MODEL_HINTS = {
    "server_banner": (re.compile(r"UPnP/[\d.]+\s+([A-Za-z][\w-]*\d[\w-]*)/[\d.]+"), 0.6),
    "mdns_service": (re.compile(r"\b([A-Z]{2,5}-\d{2,5}[A-Z]{0,3})\b"), 0.5),
    "hostname": (re.compile(r"^([A-Z]{2,5}-?\d{2,5}[A-Z]{0,3}(?:\([A-Z]{2}\))?)$"), 0.4),
}
# Fields inside a free-text system description (LLDP sysDesc, SNMP sysDescr, CDP software version), e.g.
# "Siemens, SIMATIC NET, SCALANCE X212-2, 6GK5 212-2BB00-2AA3, HW: 7, FW: V4.02" or "IOS ... Version 12.2(25)SEG4,".
DESCRIPTION_FIELDS = [
    ("firmware", re.compile(r"\b(?:FW|Firmware)\s*[:=]?\s*(V?\d+(?:\.\d+)+\w*)", re.I), 0.8),
    ("firmware", re.compile(r"\bVersion\s+(\d+\.\d+[\w.()]*)"), 0.7),
    ("order_number", re.compile(r"\b(6[A-Z]{2}\d ?\d{3}-\d[A-Z]{2}\d{2}-\d[A-Z]{2}\d)\b"), 0.8),
    ("model", re.compile(r"SIMATIC NET,\s*([^,]+)"), 0.8),
    ("hardware_revision", re.compile(r"\bHW\s*[:=]\s*(\w+)"), 0.7),
]
GENERIC_TOKENS = {"ipbridge", "portable", "linux"}


def _device_order(dv: Device) -> tuple:
    if dv.ip:
        a = ipaddress.ip_address(dv.ip)
        return (0, a.version, int(a), "")
    return (1, 0, 0, dv.key)


def ip_str(b: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET if len(b) == 4 else socket.AF_INET6, b)


def ip_bytes(s: str | None) -> bytes:
    return ipaddress.ip_address(s).packed if s else b""


def mac_str(b: bytes) -> str:
    return b.hex(":")


def _is_unicast(ip: bytes) -> bool:
    if len(ip) == 4:
        return ip[0] < 224 and ip != b"\x00\x00\x00\x00" and ip[3] != 255
    return ip[0] != 0xFF and ip != bytes(16)


DISSECTORS: dict[str, Callable] = {
    "enip": d.enip_list_identity,
    "modbus": d.modbus_device_id,
    "s7comm": d.s7_szl,
    "bacnet": d.bacnet,
    "dnp3": d.dnp3,
    "dhcp": d.dhcp,
    "snmp": d.snmp,
    "ssdp": d.ssdp,
    "mdns": d.mdns,
    "http": lambda p: d.http_like(p, "http"),
    "rtsp": lambda p: d.http_like(p, "rtsp"),
    "tls": d.tls,
    "ws-discovery": d.ws_discovery,
    "nbns": d.nbns,
    "sadp": d.sadp,
}


def discover(paths: Iterable[str | Path], progress: Callable[[int], None] | None = None) -> Discovery:
    """Convenience: run discovery over several files (errors are collected, the run continues)."""
    disc = Discovery()
    for p in paths:
        disc.add_file(p, progress)
    return disc
