"""Observed flows against the segmentation policy (SEG-12): intent (declared conduits) and configuration (the rules).

Each flow crossing a zone boundary falls in one class:

| class | intent | configs | meaning |
|---|---|---|---|
| conforms | declared | allow | nothing to say |
| outside-conduit | not declared | allow | the configs permit what the zone model forbids: a rule to tighten |
| bypass | any | deny, yet the session was established | drift (stale configs), a path around the firewall, NAT |
| unknown-path | an endpoint in no zone and not on the Internet | | a network the model does not know |
| insufficient-info | | a construct the engine does not understand decides it | |
| blocked-attempt | | deny, and the session never came up (Zeek S0/REJ) | the firewall did its job (counted, no event) |

Traffic inside one zone, and to a limited broadcast (255.255.255.255) or multicast group (link-local: it crosses no
router), is counted, not classified.

Flows are grouped by (source, destination, protocol, destination port) first, and each group is decided once by a
concrete first-match trace through the modelled devices (exact for that packet, any source port). Readers: Zeek
conn.log (TSV or JSON, via the events pipeline's Zeek parser), NetFlow/IPFIX CSV in nfdump (`-o csv`), softflowd
or IPFIX information-element column names, and the talkers passive discovery stored (`flows_from_talkers`). Broken
rows are reported by file:line; good rows are still used.
"""

from __future__ import annotations

import csv
import io
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from linewatch.errors import InputError
from linewatch.segmentation.checks import Checker
from linewatch.segmentation.engine.model import PROTOCOL_NAMES, PROTOCOLS, Packet

CLASSES = ("conforms", "outside-conduit", "bypass", "unknown-path", "insufficient-info", "blocked-attempt")
REPORTED = ("outside-conduit", "bypass", "unknown-path", "insufficient-info")
SEVERITY = {"outside-conduit": "high", "bypass": "high", "unknown-path": "medium", "insufficient-info": "low"}


@dataclass
class Flow:
    src: str
    dst: str
    proto: int
    sport: int = 0
    dport: int = 0
    established: bool | None = None  # None: the source does not say (NetFlow)
    time: int = 0  # epoch milliseconds
    origin: str = ""  # file:line, or the talker
    detail: dict = field(default_factory=dict)  # what the source adds (a talker's counts and last seen)

    @property
    def service(self) -> str:
        name = PROTOCOL_NAMES.get(self.proto, str(self.proto))
        return f"{name}/{self.dport}" if self.proto in (6, 17, 132) else name


@dataclass
class Verdict:
    kind: str
    flow: Flow
    from_zone: str | None
    to_zone: str | None
    conduits: list[str] = field(default_factory=list)
    hops: list[dict] = field(default_factory=list)
    rule: str = ""  # the rule that decided it on the first device that did not accept
    count: int = 1

    def as_dict(self) -> dict:
        f = self.flow
        return {"class": self.kind, "severity": SEVERITY.get(self.kind, "info"), "src": f.src, "dst": f.dst,
                "service": f.service, "sport": f.sport, "established": f.established, "time": f.time,
                "origin": f.origin, "from_zone": self.from_zone, "to_zone": self.to_zone,
                "conduits": self.conduits, "rule": self.rule, "hops": self.hops, "count": self.count,
                "detail": f.detail}


# --- readers ----------------------------------------------------------------------------------------------
_PROTO_NAMES = {k.upper(): v for k, v in PROTOCOLS.items()}
_COLS = {
    "src": ("sa", "srcaddr", "src_ip", "srcip", "src", "sourceipv4address", "ipv4_src_addr"),
    "dst": ("da", "dstaddr", "dst_ip", "dstip", "dst", "destinationipv4address", "ipv4_dst_addr"),
    "sport": ("sp", "srcport", "src_port", "sport", "sourcetransportport", "l4_src_port"),
    "dport": ("dp", "dstport", "dst_port", "dport", "destinationtransportport", "l4_dst_port"),
    "proto": ("pr", "proto", "protocol", "protocolidentifier", "prot"),
    "time": ("ts", "first", "start", "time", "flowstartmilliseconds", "flowstartseconds", "timestamp"),
    "flags": ("flg", "flags", "tcp_flags", "tcpcontrolbits"),
}


def _proto(value: str) -> int:
    v = value.strip()
    if v.isdigit():
        n = int(v)
        if 0 <= n <= 255:
            return n
        raise ValueError(f"protocol {v} out of range")
    if v.upper() in _PROTO_NAMES:
        return _PROTO_NAMES[v.upper()]
    raise ValueError(f"unknown protocol {v!r}")


def _port(value: str) -> int:
    v = (value or "0").strip()
    n = int(float(v)) if v.replace(".", "", 1).isdigit() else int(v, 0)
    if not 0 <= n <= 65535:
        raise ValueError(f"port {v} out of range")
    return n


def _time(value: str) -> int:
    v = (value or "").strip()
    if not v:
        return 0
    try:
        x = float(v)
        return int(x if x > 1e11 else x * 1000)
    except ValueError:
        pass
    return int(datetime.fromisoformat(v.replace(" ", "T")).replace(tzinfo=UTC).timestamp() * 1000)


def read_flow_csv(text: str, name: str) -> tuple[list[Flow], list[InputError]]:
    """NetFlow/IPFIX CSV: a header row naming the columns (nfdump, softflowd, IPFIX element names)."""
    flows: list[Flow] = []
    errors: list[InputError] = []
    rows = csv.reader(io.StringIO(text))
    header: dict[str, int] | None = None
    for lineno, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip() or row[0].startswith("#"):
            continue
        if row[0].strip().lower().startswith(("summary", "flows")):  # nfdump's trailing summary block
            break
        if header is None:
            lower = [c.strip().lower() for c in row]
            header = {}
            for key, names in _COLS.items():
                idx = next((lower.index(n) for n in names if n in lower), None)
                if idx is not None:
                    header[key] = idx
            missing = [k for k in ("src", "dst", "proto") if k not in header]
            if missing:
                raise InputError(name, f"line {lineno}", f"no column for {', '.join(missing)} in the header "
                                 f"(known names: {', '.join(_COLS['src'][:3])}, ...)")
            continue
        try:
            def col(key, default="", row=row, header=header):
                i = header.get(key)
                return row[i] if i is not None and i < len(row) else default

            if len(row) <= max(header[k] for k in ("src", "dst", "proto")):
                raise ValueError(f"{len(row)} columns, the header names more")
            src, dst = str(ipaddress.IPv4Address(col("src").strip())), str(ipaddress.IPv4Address(col("dst").strip()))
            proto = _proto(col("proto"))
            flags = col("flags").strip().upper()
            established = None
            if proto == 6 and flags and not flags.isdigit():
                established = "A" in flags  # nfdump ".AP.SF": an ACK means the handshake completed
            flows.append(Flow(src, dst, proto, _port(col("sport", "0")), _port(col("dport", "0")), established,
                              _time(col("time")), f"{name}:{lineno}"))
        except (ValueError, IndexError) as exc:
            errors.append(InputError(name, f"line {lineno}", str(exc)))
    if header is None:
        raise InputError(name, "line 1", "empty: no header row")
    return flows, errors


def read_zeek_conn(data: bytes, name: str) -> tuple[list[Flow], list[InputError]]:
    """Zeek conn.log (TSV with #fields headers, or JSON lines) through the events pipeline's Zeek parser."""
    from linewatch.events import sources
    from linewatch.events.ingest import parse_stream

    flows: list[Flow] = []
    errors: list[InputError] = []
    ctx = sources.Context(source_name=name, options={"path": "conn"})
    for lineno, item in enumerate(parse_stream(sources.get("zeek"), io.BytesIO(data), ctx), start=1):
        if isinstance(item, InputError):
            errors.append(item)
            continue
        a = item.attrs
        try:
            src = str(ipaddress.IPv4Address(a.get("src_endpoint.ip", "")))
            dst = str(ipaddress.IPv4Address(a.get("dst_endpoint.ip", "")))
        except ValueError:
            continue  # IPv6 or no address: the engine models IPv4
        proto = PROTOCOLS.get(str(a.get("connection_info.protocol_name", "")).lower())
        if proto is None:
            errors.append(InputError(name, f"record {lineno}", "conn record without a protocol"))
            continue
        established = {2: True, 4: False, 5: False, 3: None}.get(item.activity_id)
        flows.append(Flow(src, dst, proto, int(a.get("src_endpoint.port") or 0), int(a.get("dst_endpoint.port") or 0),
                          established, item.time, f"{name}:record {lineno}"))
    return flows, errors


def read_flows(data: bytes, name: str) -> tuple[list[Flow], list[InputError]]:
    """Zeek (a `#` header or JSON lines) or CSV, by content."""
    head = data.lstrip()[:1]
    if head in (b"#", b"{"):
        return read_zeek_conn(data, name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(name, f"byte {exc.start}", "not UTF-8 text (CSV expected)") from None
    return read_flow_csv(text, name)


# A talker keeps no client port: its trace uses the first port of the dynamic range (RFC 6335), what a client's
# ephemeral port is on most stacks, so a rule matching `--sport 1024:65535` decides it as it would the real flow.
TALKER_SPORT = 49152
_TRANSPORTS = {"tcp": 6, "udp": 17, "sctp": 132}


def flows_from_talkers(talkers: Iterable[dict], name: str = "discovery") -> tuple[list[Flow], list[InputError]]:
    """Observed flows from discovery talkers (client, server, transport, port, first/last seen in epoch ms, packets,
    bytes, flows), one flow per talker. The origin names the talker, so its event uid stays the same on every run.
    IPv6 talkers are skipped (the engine models IPv4)."""
    flows: list[Flow] = []
    errors: list[InputError] = []
    for n, t in enumerate(talkers, start=1):
        where = f"talker {n}"
        try:
            src, dst = ipaddress.ip_address(str(t["client"])), ipaddress.ip_address(str(t["server"]))
            proto = _TRANSPORTS.get(str(t.get("transport", "")).lower())
            if proto is None:
                raise ValueError(f"unknown transport {t.get('transport')!r}")
            dport = _port(str(t.get("port", 0)))
        except (KeyError, ValueError) as exc:
            errors.append(InputError(name, where, str(exc)))
            continue
        if src.version != 4 or dst.version != 4:
            continue
        label = f"{name}:{src}->{dst}:{t.get('transport', '').lower()}/{dport}"
        detail = {k: t.get(k) for k in ("service", "packets", "bytes", "flows", "first_seen", "last_seen")}
        flows.append(Flow(str(src), str(dst), proto, TALKER_SPORT, dport, None, int(t.get("first_seen") or 0), label,
                          detail))
    return flows, errors


def link_local(ip: str) -> bool:
    """A limited broadcast or a multicast group: heard on the segment, routed by no modelled firewall."""
    a = ipaddress.IPv4Address(ip)
    return a.is_multicast or a == ipaddress.IPv4Address("255.255.255.255")


# --- classification ---------------------------------------------------------------------------------------------
class Conformance:
    def __init__(self, checker: Checker) -> None:
        self.checker = checker
        self.sp = checker.sp
        self._cache: dict[tuple, Verdict] = {}
        self._internet = checker.model.internet
        self._zones: dict[str, str | None] = {}

    def zone(self, ip: str) -> str | None:
        if ip not in self._zones:
            z = self.checker.zone_of_ip(ip)
            if z is None and any(ipaddress.IPv4Address(ip) in n for n in self._internet):
                z = "internet"
            self._zones[ip] = z
        return self._zones[ip]

    def classify(self, flow: Flow) -> Verdict | None:
        """The verdict for one flow; None for traffic inside one zone (no boundary crossed)."""
        key = (flow.src, flow.dst, flow.proto, flow.dport, flow.established)
        cached = self._cache.get(key)
        if cached is not None:
            cached.count += 1
            return Verdict(cached.kind, flow, cached.from_zone, cached.to_zone, cached.conduits, cached.hops,
                           cached.rule, 1) if cached.kind != "same-zone" else None
        a, b = self.zone(flow.src), self.zone(flow.dst)
        v = self._decide(flow, a, b)
        self._cache[key] = v
        return None if v.kind == "same-zone" else v

    def _decide(self, flow: Flow, a: str | None, b: str | None) -> Verdict:
        if (a == b and a is not None) or link_local(flow.dst):
            return Verdict("same-zone", flow, a, b)
        if a is None or b is None:
            return Verdict("unknown-path", flow, a, b)
        ck = self.checker
        declared, slugs = (ck.declared(a, b) if a in ck.model.zones and b in ck.model.zones
                           else (self.sp.false, []))
        pkt = Packet(int(ipaddress.IPv4Address(flow.src)), int(ipaddress.IPv4Address(flow.dst)), flow.proto,
                     flow.sport, flow.dport if flow.proto in (6, 17, 132) else 0)
        in_intent = (self.sp.packet(pkt) & declared) != self.sp.false
        hops = ck.net.trace(pkt).hops
        actions = [h.action for h in hops]
        decided = next((h for h in hops if not h.action.startswith("accept")), None)
        allowed = bool(hops) and decided is None
        conduits = slugs if in_intent else []
        hop_dicts = [h.as_dict() for h in hops]
        if any(x == "unknown" for x in actions):
            return Verdict("insufficient-info", flow, a, b, conduits, hop_dicts, decided.rule if decided else "")
        if allowed:
            return Verdict("conforms" if in_intent else "outside-conduit", flow, a, b, conduits, hop_dicts,
                           hops[-1].rule if hops else "")
        if not hops:  # no modelled device between them: a path the model does not know
            return Verdict("unknown-path" if not in_intent else "conforms", flow, a, b, conduits)
        if flow.established is False:
            return Verdict("blocked-attempt", flow, a, b, conduits, hop_dicts, decided.rule if decided else "")
        return Verdict("bypass", flow, a, b, conduits, hop_dicts, decided.rule if decided else "")

    def run(self, flows: Iterable[Flow], progress: Callable[[int], None] | None = None,
            ) -> tuple[list[Verdict], dict[str, int]]:
        """Classify every flow; `progress(n)` is called every 1,000 flows (and at the end) for a progress bar."""
        out: list[Verdict] = []
        counts = dict.fromkeys(CLASSES, 0)
        counts["same-zone"] = 0
        n = 0
        for n, f in enumerate(flows, start=1):
            if progress is not None and n % 1000 == 0:
                progress(n)
            v = self.classify(f)
            if v is None:
                counts["same-zone"] += 1
                continue
            counts[v.kind] += 1
            if v.kind in REPORTED:
                out.append(v)
        if progress is not None:
            progress(n)
        return out, counts
