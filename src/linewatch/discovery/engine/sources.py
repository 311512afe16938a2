"""Other sources of what is on the network: nmap XML scans, Zeek conn.log, and a CMDB export.

nmap and Zeek describe the wire, so they become the same `Device` / `Observation` / `Talker`
records the capture pass makes (with the file and the scan or log time as provenance) and merge
into a `Discovery`. A CMDB export describes what the organisation *thinks* it owns: its records are
not observations but a second register, next to the plant model, that reconciliation checks before
calling a device a shadow device.

Every reader keeps the good records of a file and reports each bad one with its place (line, or
line and column for XML) as an `InputError`; a file that cannot be parsed at all is one error.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from linewatch.discovery.engine.model import Device, Observation, Talker
from linewatch.discovery.engine.oui import canonical
from linewatch.errors import InputError

# ------------------------------------------------------------------ shared vocabulary

# nmap / Zeek service names -> the engine's service names (truth_tshark vocabulary).
SERVICE_ALIASES = {
    "iso-tsap": "s7comm", "s7": "s7comm", "ethernetip-2": "enip", "ethernet-ip-2": "enip", "ethernetip-1": "enip",
    "enip": "enip", "mbap": "modbus", "modbus": "modbus", "bacnet": "bacnet", "dnp": "dnp3", "dnp3": "dnp3",
    "iec-104": "iec104", "iec104": "iec104", "opcua-tcp": "opcua", "opc-ua": "opcua", "https": "tls",
    "ssl": "tls", "http-alt": "http", "http-proxy": "http", "domain": "dns", "netbios-ns": "nbns",
    "netbios-ssn": "netbios", "microsoft-ds": "smb", "ms-wbt-server": "rdp", "snmptrap": "snmp",
    "bootps": "dhcp", "bootpc": "dhcp", "ntp": "ntp", "syslog": "syslog", "ptp": "ptp",
}


def service_name(name: str | None, transport: str, port: int) -> str | None:
    """One service name for an nmap or Zeek label, else for the well-known port."""
    from linewatch.discovery.engine.analyse import TCP_SERVICES, UDP_SERVICES

    label = (name or "").strip().lower()
    if "," in label:  # Zeek lists several ("ssl,http"): the first is what the server speaks
        label = label.split(",")[0]
    if label in SERVICE_ALIASES:
        return SERVICE_ALIASES[label]
    table = TCP_SERVICES if transport == "tcp" else UDP_SERVICES if transport == "udp" else {}
    if port in table:
        return table[port]
    return label if label and label not in ("unknown", "-", "tcpwrapped") else None


def _ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


_MAC = re.compile(r"^[0-9a-f]{2}([:-]?)[0-9a-f]{2}(\1[0-9a-f]{2}){4}$")


def norm_mac(value: str | None) -> str | None:
    """`00-1B-1B-12-34-56`, `001b1b123456`, `00:1b:1b:12:34:56` -> `00:1b:1b:12:34:56`; None if not a MAC."""
    v = (value or "").strip().lower()
    if v.count(".") == 2 and len(v) == 14:  # Cisco 001b.1b12.3456
        v = v.replace(".", "")
    if not _MAC.match(v):
        return None
    h = re.sub(r"[:-]", "", v)
    return ":".join(h[i:i + 2] for i in range(0, 12, 2))


# ------------------------------------------------------------------ nmap XML

# nmap NSE script element keys -> observation attribute (s7-info, enip-info, bacnet-info, modbus-discover, ...)
SCRIPT_KEYS = {
    "module": "order_number", "basichardware": "order_number", "version": "firmware", "basicfirmware": "firmware",
    "systemname": "plc_name", "moduletype": "model", "serialnumber": "serial", "plantidentification": "plant_id",
    "vendor": "vendor", "vendorname": "vendor", "productname": "model", "modelname": "model",
    "type": "device_type", "devicetype": "device_type", "revision": "firmware", "firmware": "firmware",
    "objectname": "hostname", "applicationsoftware": "application_version", "deviceidentification": "description",
    "slaveiddata": "description", "description": "description", "location": "location",
}
SCRIPT_TEXT = {"snmp-sysdescr": "description", "http-server-header": "server_banner", "rtsp-methods": None,
               "ssl-cert": "tls_subject", "nbstat": "hostname"}


def read_nmap(path: str | Path, name: str | None = None) -> tuple[list[Device], list[InputError]]:
    """The hosts that are up in an nmap `-oX` file, as devices with provenance `nmap/...`.

    Streams with defusedxml's iterparse (no entity expansion, no external DTD), so hosts before a
    truncation or a syntax error are kept and the error names the line and column."""
    name = name or str(path)
    devices: list[Device] = []
    errors: list[InputError] = []
    try:
        root_seen = False
        for _event, elem in iterparse(str(path), events=("start", "end")):
            if _event == "start":
                if not root_seen:
                    root_seen = True
                    if elem.tag != "nmaprun":
                        raise InputError(name, "line 1", f"not an nmap XML file (root element <{elem.tag}>)")
                continue
            if elem.tag == "host":
                try:
                    dv = _nmap_host(elem, name)
                except InputError as exc:
                    errors.append(exc)
                    dv = None
                if dv is not None:
                    devices.append(dv)
                elem.clear()
        if not root_seen:
            raise InputError(name, "line 1", "empty file: not an nmap XML file")
    except ParseError as exc:
        line, col = getattr(exc, "position", (0, 0))
        what = "truncated" if "no element found" in str(exc) or "unclosed token" in str(exc) else "malformed"
        msg = str(exc).split(":")[0]
        errors.append(InputError(name, f"line {line}, column {col}", f"{what} nmap XML ({msg}); "
                                 f"{len(devices)} host(s) before it kept"))
    except DefusedXmlException as exc:
        errors.append(InputError(name, "", f"refused: {exc.__class__.__name__} (entities / DTDs are not allowed)"))
    except OSError as exc:
        errors.append(InputError(name, "", f"cannot read: {exc.strerror or exc}"))
    except InputError as exc:
        errors.append(exc)
    return devices, errors


def _nmap_host(host: Element, file: str) -> Device | None:  # noqa: C901 - one pass over the host's elements
    status = host.find("status")
    if status is not None and status.get("state") != "up":
        return None
    start = _float(host.get("starttime"))
    end = _float(host.get("endtime")) or start
    ip = mac = None
    vendor = None
    for addr in host.findall("address"):
        kind = addr.get("addrtype")
        if kind in ("ipv4", "ipv6") and ip is None:
            ip = _ip(addr.get("addr"))
        elif kind == "mac":
            mac = norm_mac(addr.get("addr"))
            vendor = addr.get("vendor")
    if ip is None and mac is None:
        raise InputError(file, "", "an nmap <host> without an IP or MAC address")
    dv = Device(key=ip or f"mac:{mac}", ip=ip, first_seen=start, last_seen=end)
    if mac:
        dv.macs[mac] = 1

    def obs(attribute: str, value: str | None, source: str, confidence: float) -> None:
        value = (value or "").strip()
        if value:
            dv.observe(Observation(attribute, value[:500], source, file, 0, start, confidence))

    obs("vendor", canonical(vendor) if vendor else None, "nmap/mac-vendor", 0.4)
    for hn in host.findall("hostnames/hostname"):
        obs("hostname", hn.get("name"), f"nmap/hostname {hn.get('type') or ''}".strip(), 0.6)
    for port in host.findall("ports/port"):
        state = port.find("state")
        if state is None or state.get("state") not in ("open", "open|filtered"):
            continue
        transport = port.get("protocol") or "tcp"
        try:
            portid = int(port.get("portid") or "")
        except ValueError:
            raise InputError(file, "", f"host {ip or mac}: port id {port.get('portid')!r} is not a number") from None
        svc = port.find("service")
        svc_name = svc.get("name") if svc is not None else None
        if svc is not None and svc.get("tunnel") == "ssl":
            svc_name = "https"
        proto = service_name(svc_name, transport, portid)
        if proto:
            dv.protocols.setdefault(proto, set()).add("server")
        src = f"nmap/{transport}/{portid}"
        if svc is not None:
            product = " ".join(x for x in (svc.get("product"), svc.get("version"), svc.get("extrainfo")) if x)
            obs("server_banner", product, src + " service", 0.5 if svc.get("method") == "probed" else 0.2)
            obs("device_type_hint", svc.get("devicetype"), src + " service", 0.4)
            for cpe in svc.findall("cpe"):
                obs("cpe", cpe.text, src + " service", 0.5)
        for script in port.findall("script"):
            _nmap_script(script, obs, f"nmap/{script.get('id')}")
    for script in host.findall("hostscript/script"):
        _nmap_script(script, obs, f"nmap/{script.get('id')}")
    best = None
    for m in host.findall("os/osmatch"):
        acc = _float(m.get("accuracy")) or 0.0
        if best is None or acc > best[0]:
            best = (acc, m)
    if best is not None:
        acc, m = best
        obs("os", m.get("name"), f"nmap/os ({acc:.0f}%)", round(min(acc, 100) / 100 * 0.6, 2))
        cls = m.find("osclass")
        if cls is not None:
            obs("device_type_hint", cls.get("type"), "nmap/osclass", 0.4)
            if cls.get("vendor") and not vendor:
                obs("vendor", cls.get("vendor"), "nmap/osclass", 0.3)
    return dv


def _nmap_script(script: Element, obs, source: str) -> None:
    sid = (script.get("id") or "").lower()
    if sid in SCRIPT_TEXT:
        attribute = SCRIPT_TEXT[sid]
        if attribute:
            obs(attribute, (script.get("output") or "").strip().splitlines()[0] if script.get("output") else "",
                source, 0.7)
    for elem in script.iter("elem"):
        attribute = SCRIPT_KEYS.get(re.sub(r"[\s_\-]+", "", (elem.get("key") or "").lower()))
        if attribute and elem.text:
            value = elem.text.replace("\\xFF", "").replace("\\x00", "").strip()
            if attribute == "vendor":  # enip-info: "Rockwell Automation/Allen-Bradley (1)"
                value = canonical(re.sub(r"\s*\(\d+\)$", "", value))
            obs(attribute, value, source, 0.8)
            if attribute == "description":  # "linewatch-sim LW-SIM-PLC 1.2.3": vendor product revision
                parts = value.split()
                if len(parts) >= 3 and re.match(r"^V?\d+(\.\d+)+", parts[-1]):
                    obs("vendor", parts[0], source, 0.6)
                    obs("model", " ".join(parts[1:-1]), source, 0.6)
                    obs("firmware", parts[-1], source, 0.6)


def _float(v: str | None) -> float | None:
    try:
        return float(v) if v not in (None, "") else None
    except ValueError:
        return None


# ------------------------------------------------------------------ Zeek conn.log

ZEEK_NEEDED = ("ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto")


@dataclass
class ZeekResult:
    devices: list[Device] = field(default_factory=list)
    talkers: list[Talker] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    records: int = 0


def read_zeek_conn(path: str | Path, name: str | None = None) -> ZeekResult:
    """Talkers (originator = client, responder = server) and the devices taking part, from a Zeek
    conn.log in its TSV form (`#fields` header) or as JSON lines. A bad line is reported by number
    and skipped."""
    name = name or str(path)
    result = ZeekResult()
    try:
        lines = _lines(Path(path))
        first = next(lines, None)
    except OSError as exc:
        result.errors.append(InputError(name, "", f"cannot read: {exc.strerror or exc}"))
        return result
    if first is None:
        result.errors.append(InputError(name, "line 1", "empty file: not a Zeek conn.log"))
        return result
    n, text = first
    rows: Iterator[tuple[int, dict[str, str] | None, str]]
    if text.lstrip().startswith("{"):
        rows = _zeek_json([(n, text)], lines)
    elif text.startswith("#"):
        rows = _zeek_tsv([(n, text)], lines, name)
    else:
        result.errors.append(InputError(name, "line 1", "not a Zeek conn.log (neither '#separator' TSV nor JSON)"))
        return result
    devices: dict[str, Device] = {}
    talkers: dict[tuple, Talker] = {}
    try:
        for n, row, problem in rows:
            if row is None:
                result.errors.append(InputError(name, f"line {n}", problem))
                continue
            try:
                _zeek_row(row, devices, talkers)
            except (ValueError, KeyError, TypeError) as exc:
                result.errors.append(InputError(name, f"line {n}", f"bad conn.log record: {exc}"))
                continue
            result.records += 1
    except InputError as exc:
        result.errors.append(exc)
    except (OSError, UnicodeDecodeError) as exc:
        result.errors.append(InputError(name, "", f"cannot read: {exc}"))
    result.devices = list(devices.values())
    result.talkers = sorted(talkers.values(), key=lambda t: (-t.packets, t.client, t.server, t.port))
    return result


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    import gzip

    with open(path, "rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    with opener(path, "rt", encoding="utf-8", errors="strict", newline="") as fh:
        for n, line in enumerate(fh, start=1):
            yield n, line.rstrip("\r\n")


def _zeek_tsv(head: list[tuple[int, str]], rest: Iterable[tuple[int, str]], name: str):
    sep = "\t"
    fields: list[str] | None = None
    unset, empty = "-", "(empty)"
    for n, line in [*head, *rest]:
        if line.startswith("#"):
            tag, _, value = line[1:].partition(sep if not line.startswith("#separator") else " ")
            if tag == "separator":
                sep = value.encode().decode("unicode_escape")
            elif tag == "fields":
                fields = value.split(sep)
                missing = [f for f in ZEEK_NEEDED if f not in fields]
                if missing:
                    raise InputError(name, f"line {n}", f"conn.log #fields lacks {', '.join(missing)}")
            elif tag == "unset_field":
                unset = value
            elif tag == "empty_field":
                empty = value
            continue
        if not line.strip():
            continue
        if fields is None:
            yield n, None, "record before the '#fields' header"
            continue
        values = line.split(sep)
        if len(values) != len(fields):
            yield n, None, f"{len(values)} fields where the header has {len(fields)}"
            continue
        yield n, {f: ("" if v in (unset, empty) else v) for f, v in zip(fields, values, strict=True)}, ""


def _zeek_json(head: list[tuple[int, str]], rest: Iterable[tuple[int, str]]):
    for n, line in [*head, *rest]:
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, None, f"not JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(doc, dict):
            yield n, None, "a JSON line that is not an object"
            continue
        missing = [f for f in ZEEK_NEEDED if f not in doc]
        if missing:
            yield n, None, f"conn record lacks {', '.join(missing)}"
            continue
        yield n, {k: "" if v is None else (",".join(v) if isinstance(v, list) else str(v)) for k, v in doc.items()}, ""


def _zeek_row(row: dict[str, str], devices: dict[str, Device], talkers: dict[tuple, Talker]) -> None:
    ts = float(row["ts"])
    duration = float(row.get("duration") or 0)
    orig, resp = _ip(row["id.orig_h"]), _ip(row["id.resp_h"])
    if orig is None or resp is None:
        raise ValueError(f"address {row['id.orig_h']!r} or {row['id.resp_h']!r} is not an IP address")
    int(row["id.orig_p"])  # validated: a bad port is a bad record
    rport = int(row["id.resp_p"])
    transport = row["proto"].lower()
    service = service_name(row.get("service"), transport, rport) if transport in ("tcp", "udp") else None
    opk, rpk = int(row.get("orig_pkts") or 0), int(row.get("resp_pkts") or 0)
    obytes = int(row.get("orig_ip_bytes") or 0) + int(row.get("resp_ip_bytes") or 0)
    for ip, mac, role in ((orig, row.get("orig_l2_addr"), "client"), (resp, row.get("resp_l2_addr"), "server")):
        if not _routable_host(ip):
            continue
        dv = devices.get(ip)
        if dv is None:
            dv = devices[ip] = Device(key=ip, ip=ip, first_seen=ts, last_seen=ts + duration)
        dv.first_seen = min(dv.first_seen or ts, ts)
        dv.last_seen = max(dv.last_seen or ts, ts + duration)
        dv.packets += opk + rpk
        if (m := norm_mac(mac)) is not None:
            dv.macs[m] = dv.macs.get(m, 0) + (opk if role == "client" else rpk)
        if service:
            peer = resp if role == "client" else orig
            dv.protocols.setdefault(service, set()).add(role if _routable_host(peer) else "peer")
    if transport not in ("tcp", "udp"):
        return
    key = (orig, resp, transport, rport)
    t = talkers.get(key)
    if t is None:
        t = talkers[key] = Talker(orig, resp, transport, rport, service, first_seen=ts, last_seen=ts + duration)
    t.packets += opk + rpk
    t.bytes += obytes
    t.flows += 1
    t.first_seen = min(t.first_seen or ts, ts)
    t.last_seen = max(t.last_seen or ts, ts + duration)


def _routable_host(ip: str) -> bool:
    a = ipaddress.ip_address(ip)
    return not (a.is_multicast or a.is_unspecified or (a.version == 4 and ip.endswith(".255")))


# ------------------------------------------------------------------ CMDB / CSV export

CMDB_FIELDS = ("name", "ip", "mac", "hostname", "serial", "vendor", "model", "firmware", "kind", "owner")
IDENTIFIERS = ("ip", "mac", "hostname", "serial")
# Header names recognised without a mapping (lower-case, spaces/underscores/hyphens removed).
CMDB_DEFAULT_HEADERS = {
    "name": "name", "assetname": "name", "asset": "name", "ci": "name", "ciname": "name", "assettag": "name",
    "ip": "ip", "ipaddress": "ip", "ipv4": "ip", "ipv4address": "ip",
    "mac": "mac", "macaddress": "mac", "hostname": "hostname", "host": "hostname", "dnsname": "hostname",
    "fqdn": "hostname", "serial": "serial", "serialnumber": "serial", "sn": "serial",
    "vendor": "vendor", "manufacturer": "vendor", "make": "vendor", "model": "model", "modelnumber": "model",
    "firmware": "firmware", "firmwareversion": "firmware", "version": "firmware", "kind": "kind",
    "type": "kind", "class": "kind", "owner": "owner", "managedby": "owner",
}


@dataclass
class CmdbRecord:
    """One row of a CMDB export: what the organisation believes it has (not what was seen)."""

    line: int
    name: str = ""
    ip: str = ""
    mac: str = ""
    hostname: str = ""
    serial: str = ""
    vendor: str = ""
    model: str = ""
    firmware: str = ""
    kind: str = ""
    owner: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in ("line", *CMDB_FIELDS, "extra")}


class CmdbIndex:
    """CMDB records by MAC, IP, hostname (or name) and serial, for telling a device the organisation
    knows from a shadow device. Works on `CmdbRecord`s and on the stored rows (same field names); the
    reason names the record and its file:line."""

    def __init__(self, records: Iterable[Any], source: str = "") -> None:
        self.by: dict[str, dict[str, Any]] = {"mac": {}, "ip": {}, "hostname": {}, "serial": {}}
        self.source = source
        for rec in records:
            host = (rec.hostname or "").lower().split(".")[0] or (rec.name or "").lower()
            for attr, value in (("mac", norm_mac(rec.mac) or ""), ("ip", str(rec.ip or "")), ("hostname", host),
                                ("serial", _norm_serial(rec.serial))):
                if value:
                    self.by[attr].setdefault(value, rec)

    def match(self, mac: str | None, ip: str | None, hostname: str | None, serial: str | None) -> tuple[Any, str]:
        for attr, label, value, shown in (("mac", "MAC", norm_mac(mac) or "", mac),
                                          ("ip", "IP", ip or "", ip),
                                          ("hostname", "hostname", (hostname or "").lower().split(".")[0], hostname),
                                          ("serial", "serial", _norm_serial(serial), serial)):
            rec = self.by[attr].get(value) if value else None
            if rec is not None:
                what = rec.name or rec.hostname or rec.ip or rec.mac
                where = f"{getattr(rec, 'source', '') or self.source}:{rec.line}"
                return rec, f"{label} {shown} equals CMDB record {what} ({where})"
        return None, ""


def _norm_serial(value: str | None) -> str:
    return re.sub(r"[\s_\-]+", "", (value or "").lower())


def parse_mapping(spec: str | None, source: str = "--map") -> dict[str, str]:
    """`ip=IP Address,mac=MAC,name=CI Name` -> {field: column}; a YAML/JSON mapping file is read with
    `load_mapping`. Unknown fields are an error (a typo would silently drop a column)."""
    out: dict[str, str] = {}
    for n, part in enumerate((spec or "").split(","), start=1):
        if not part.strip():
            continue
        fld, sep, column = part.partition("=")
        fld = fld.strip().lower()
        if not sep or not column.strip():
            raise InputError(source, f"item {n}", f"{part.strip()!r} is not FIELD=COLUMN")
        if fld not in CMDB_FIELDS:
            raise InputError(source, f"item {n}", f"unknown field {fld!r} (one of {', '.join(CMDB_FIELDS)})")
        out[fld] = column.strip()
    return out


def load_mapping(path: str | Path) -> dict[str, str]:
    """A mapping file: YAML (or JSON) `{field: column}`, e.g. `ip: IP Address`."""
    import yaml

    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(str(path), "", f"cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(str(path), f"line {mark.line + 1}" if mark else "", f"not YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise InputError(str(path), "", "a mapping file is {field: column}")
    return parse_mapping(",".join(f"{k}={v}" for k, v in doc.items()), str(path))


def read_cmdb(path: str | Path, mapping: dict[str, str] | None = None,
              name: str | None = None) -> tuple[list[CmdbRecord], list[InputError]]:
    """Rows of a CSV export (comma, semicolon or tab, detected) as `CmdbRecord`s. Columns are taken
    from `mapping` ({field: column header}) or recognised from the header; each bad row is reported
    by line (bad IP or MAC, no identifier, wrong number of cells) and the good rows are kept."""
    name = name or str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        return [], [InputError(name, "", f"cannot read: {exc.strerror or exc}")]
    except UnicodeDecodeError as exc:
        line = Path(path).read_bytes()[:exc.start].count(b"\n") + 1
        return [], [InputError(name, f"line {line}", "not UTF-8 text (export the CMDB as UTF-8 CSV)")]
    if not text.strip():
        return [], [InputError(name, "line 1", "empty file: no header row")]
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    header = [h.strip() for h in next(reader)]
    columns, errors = _columns(header, mapping, name)
    if errors:
        return [], errors
    records: list[CmdbRecord] = []
    for row in reader:
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            errors.append(InputError(name, f"line {line}", f"{len(row)} cells where the header has {len(header)}"))
            continue
        rec = CmdbRecord(line=line)
        problems = []
        for fld, idx in columns.items():
            value = row[idx].strip()
            if fld == "ip" and value:
                ip = _ip(value)
                if ip is None:
                    problems.append(f"{header[idx]} {value!r} is not an IP address")
                    continue
                value = ip
            elif fld == "mac" and value:
                mac = norm_mac(value)
                if mac is None:
                    problems.append(f"{header[idx]} {value!r} is not a MAC address")
                    continue
                value = mac
            setattr(rec, fld, value[:200])
        rec.extra = {h: row[i].strip() for i, h in enumerate(header) if i not in columns.values() and row[i].strip()}
        if problems:
            errors.append(InputError(name, f"line {line}", "; ".join(problems)))
            continue
        if not any(getattr(rec, f) for f in IDENTIFIERS):
            errors.append(InputError(name, f"line {line}", "no IP, MAC, hostname or serial to match devices by"))
            continue
        records.append(rec)
    return records, errors


def _columns(header: list[str], mapping: dict[str, str] | None, name: str) -> tuple[dict[str, int], list[InputError]]:
    def norm(h: str) -> str:
        return re.sub(r"[\s_\-.]+", "", h.lower())

    by_norm = {norm(h): i for i, h in reversed(list(enumerate(header)))}
    columns: dict[str, int] = {}
    errors = []
    if mapping:
        for fld, column in mapping.items():
            idx = header.index(column) if column in header else by_norm.get(norm(column))
            if idx is None:
                errors.append(InputError(name, "line 1", f"mapped column {column!r} (for {fld}) is not in the "
                                         f"header ({', '.join(header)})"))
            else:
                columns[fld] = idx
    else:
        for h, i in by_norm.items():
            fld = CMDB_DEFAULT_HEADERS.get(h)
            if fld and fld not in columns:
                columns[fld] = i
    if not errors and not any(f in columns for f in IDENTIFIERS):
        errors.append(InputError(name, "line 1", "no IP, MAC, hostname or serial column (give --map, e.g. "
                                 "'ip=IP Address,mac=MAC Address')"))
    return columns, errors
