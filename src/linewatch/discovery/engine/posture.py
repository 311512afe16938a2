"""Posture checks on discovered devices: what an attacker would try first, from what was seen.

Each check looks only at evidence the discovery result holds (a device's protocols and roles, its
observations, the talkers), and every finding says which evidence: the observation or talker, the
file, packet and time. Absence checks (no time sync, no logging) conclude only when the device was
watched long enough to have shown the traffic, and only for kinds expected to have it — a short
capture proves nothing. Plain Python, no Django: the CLI, the reconciliation and the risk register
all use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from linewatch.discovery.engine.model import Device, Observation, Talker, iso

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}
CLEARTEXT = {"telnet": ("Telnet", "high"), "ftp": ("FTP", "medium"), "http": ("HTTP without TLS", "medium")}
# Kinds that must keep time (logs, video, interlocks, certificates are useless without it) and kinds
# expected to send their logs somewhere (the model's vocabulary, core.choices.AssetKind).
TIME_KINDS = frozenset({"plc", "safety_plc", "rtu", "hmi", "scada_server", "historian", "camera", "nvr", "vms_server",
                        "access_controller", "door_controller", "alarm_panel", "bms_controller", "switch", "router",
                        "firewall", "wireless_ap", "server", "domain_controller", "engineering_workstation"})
LOG_KINDS = frozenset({"firewall", "router", "switch", "wireless_ap", "nvr", "vms_server", "access_controller",
                       "scada_server", "historian", "server", "domain_controller", "jump_host"})
TIME_PROTOCOLS = ("ntp", "ptp")
LOG_PROTOCOLS = ("syslog",)
MIN_SPAN = 900.0  # seconds a device must be watched before the absence of NTP/syslog means anything
MIN_PACKETS = 20
# Vendor (lower-case substring of the vendor name) -> its published factory credentials.
DEFAULT_CREDENTIALS = {
    "hikvision": "admin / 12345", "dahua": "admin / admin", "axis": "root / pass (older firmware)",
    "d-link": "admin / (blank)", "edimax": "admin / 1234", "tp-link": "admin / admin", "teltonika": "admin / admin01",
    "raspberry pi": "pi / raspberry (Raspberry Pi OS before 2022)", "apc": "apc / apc", "moxa": "admin / (blank)",
    "hanwha": "admin / 4321", "ubiquiti": "ubnt / ubnt", "2n": "admin / 2n", "mercury": "admin / password",
    "mikrotik": "admin / (blank)", "zyxel": "admin / 1234", "scalance": "admin / admin",
}
# Vendor -> first firmware that makes the owner set a password at first use (no factory login left).
ACTIVATION_FIRMWARE = {"hikvision": (5, 3, 0)}
# Kinds that usually ship with a factory login whatever the vendor; other network kinds only when the
# vendor is one known for a published default (managed Cisco / Aruba gear forces a password at setup).
DEFAULT_CREDENTIAL_KINDS = frozenset({"camera", "nvr", "intercom", "access_controller"})
VENDOR_DEFAULT_KINDS = frozenset({"router", "wireless_ap", "switch", "ups", "printer", "firewall"})


@dataclass(slots=True)
class Finding:
    """One posture finding with its evidence (the observation or talker it rests on)."""

    check: str
    severity: str
    title: str
    evidence: str
    source: str
    file: str = ""
    packet: int = 0
    time: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "severity": self.severity, "finding": self.title, "evidence": self.evidence,
                "source": self.source, "file": self.file, "packet": self.packet, "time": iso(self.time)}


def version_key(version: str | None) -> tuple[int, ...] | None:
    """`V5.5.0 build 170725` -> (5, 5, 0, 170725); None without digits. Only compared within one model."""
    nums = re.findall(r"\d+", version or "")
    return tuple(int(n) for n in nums[:8]) if nums else None


def _norm(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", "", (text or "").lower())


def newest_firmware(devices: Iterable[Device]) -> dict[tuple[str, str], tuple[str, str]]:
    """(vendor, model) -> (newest firmware seen, on which device) among the devices."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for dv in devices:
        vendor, model, fw = dv.best("vendor"), dv.best("model"), dv.best("firmware")
        if not (vendor and model and version_key(fw)):
            continue
        k = (_norm(vendor), _norm(model))
        if k not in out or version_key(fw) > version_key(out[k][0]):
            out[k] = (fw, dv.ip or dv.mac or dv.key)
    return out


def _obs(dv: Device, attribute: str, value: str | None = None) -> Observation | None:
    best = None
    for o in dv.observations:
        if o.attribute == attribute and (value is None or o.value == value) and (
                best is None or o.confidence > best.confidence):
            best = o
    return best


def assess(devices: list[Device], talkers: Iterable[Talker] = (),
           known_newest: dict[tuple[str, str], tuple[str, str]] | None = None,
           min_span: float = MIN_SPAN) -> None:
    """Add the posture findings to each device's `findings` (as dicts, see `Finding.as_dict`), in
    place, replacing earlier posture findings; findings the dissectors made (clear-text credentials,
    PROFINET DCP Set) are kept and given a check name and severity.

    `known_newest` adds newest firmware known from elsewhere (the plant model's asset records, feed
    product data): (vendor, model) normalised with `_norm` -> (version, where it is from); names are
    matched by containment (`_known_for`)."""
    served: dict[tuple[str, str], Talker] = {}
    loggers: set[str] = set()
    for t in talkers:
        if t.service == "syslog":
            loggers.add(t.client)
        if t.service:
            k = (t.server, t.service)
            if k not in served or (t.first_seen or 0) < (served[k].first_seen or 0):
                served[k] = t
    newest = newest_firmware(devices)
    known = known_newest or {}
    for dv in devices:
        kept = [_legacy(f) for f in dv.findings if not f.get("check") or f.get("check") in LEGACY_CHECKS]
        found = _cleartext(dv, served) + _snmp(dv) + _firmware(dv, newest, known) + _default_credentials(dv)
        found += _absent(dv, min_span, loggers)
        dv.findings = kept + [f.as_dict() for f in sorted(found, key=lambda f: (SEVERITY_ORDER[f.severity], f.check))]


LEGACY_CHECKS = {"cleartext-credentials", "dcp-set"}


def _legacy(f: dict[str, Any]) -> dict[str, Any]:
    """A finding a dissector made while reading packets, named like the posture findings."""
    if f.get("check"):
        return f
    text = f.get("finding", "")
    check, severity = ("cleartext-credentials", "high") if "credentials" in text else ("dcp-set", "medium")
    return {"check": check, "severity": severity, "evidence": f"{f.get('source', '')} in packet {f.get('packet', 0)}",
            "time": f.get("time"), **f}


def _cleartext(dv: Device, served: dict[tuple[str, str], Talker]) -> list[Finding]:
    out = []
    for proto, (label, severity) in CLEARTEXT.items():
        if "server" not in dv.protocols.get(proto, ()):
            continue
        t = served.get((dv.ip or "", proto))
        if t is not None:
            evidence = (f"{t.client} → {t.server}:{t.port}/{t.transport}, {t.packets} packet(s) in {t.flows} flow(s) "
                        f"from {iso(t.first_seen)}")
            out.append(Finding("cleartext-management", severity, f"clear-text management service: {label}", evidence,
                               f"flow/{proto}", time=t.first_seen))
        else:
            banner = _obs(dv, "server_banner")
            evidence = f"{label} served (open port in a scan or log{', banner ' + banner.value if banner else ''})"
            out.append(Finding("cleartext-management", severity, f"clear-text management service: {label}", evidence,
                               banner.source if banner else f"service/{proto}", banner.file if banner else "",
                               banner.packet if banner else 0, banner.time if banner else dv.first_seen))
    return out


def _snmp(dv: Device) -> list[Finding]:
    from linewatch.discovery.engine.dissectors import DEFAULT_COMMUNITIES

    out = []
    for o in dv.observations:
        if o.attribute != "snmp_community":
            continue
        where = f"community {o.value!r} in {o.source}, packet {o.packet} of {o.file}"
        if o.value.lower() in DEFAULT_COMMUNITIES:
            out.append(Finding("snmp-default-community", "high",
                               f"SNMP v1/v2c with a default community string (a default: {o.value})", where,
                               o.source, o.file, o.packet, o.time))
        else:
            out.append(Finding("snmp-cleartext-community", "medium", "SNMP v1/v2c community string in clear text",
                               where, o.source, o.file, o.packet, o.time))
    return out


def _known_for(vendor: str, model: str, known: dict[tuple[str, str], tuple[str, str]]) -> tuple[str, str] | None:
    """The newest version among known entries for the same vendor and model, where names from other
    sources may be longer ("SIMATIC S7-1200 CPU 1215C DC/DC/DC (6ES7 215-…)" for "CPU 1215C DC/DC/DC",
    "Axis Communications" for "Axis"): one normalised name containing the other counts."""
    v, m = _norm(vendor), _norm(model)
    best = None
    for (kv, km), entry in known.items():
        if not (kv and km and (v in kv or kv in v) and (m in km or km in m) and len(min(m, km, key=len)) >= 4):
            continue
        if version_key(entry[0]) and (best is None or version_key(entry[0]) > version_key(best[0])):
            best = entry
    return best


def _firmware(dv: Device, newest: dict[tuple[str, str], tuple[str, str]],
              known: dict[tuple[str, str], tuple[str, str]] | None = None) -> list[Finding]:
    vendor, model, fw = dv.best("vendor"), dv.best("model"), dv.best("firmware")
    mine = version_key(fw)
    if not (vendor and model and mine):
        return []
    top = newest.get((_norm(vendor), _norm(model)))
    other = _known_for(vendor, model, known or {})
    if other is not None and (top is None or version_key(other[0]) > version_key(top[0])):
        top = other
    if top is None or not version_key(top[0]) or version_key(top[0]) <= mine:
        return []
    o = _obs(dv, "firmware", fw)
    return [Finding("outdated-firmware", "medium",
                    f"firmware {fw} is older than {top[0]}, the newest known for {vendor} {model}",
                    f"{fw} from {o.source if o else '?'}; {top[0]} on {top[1]}", o.source if o else "",
                    o.file if o else "", o.packet if o else 0, o.time if o else None)]


def _default_credentials(dv: Device) -> list[Finding]:
    vendor = dv.best("vendor") or ""
    creds = next((c for v, c in DEFAULT_CREDENTIALS.items() if v in vendor.lower()), None)
    if dv.kind not in DEFAULT_CREDENTIAL_KINDS and not (dv.kind in VENDOR_DEFAULT_KINDS and creds):
        return []
    creds = creds or "the vendor's factory login"
    floor = next((v for k, v in ACTIVATION_FIRMWARE.items() if k in vendor.lower()), None)
    fw = version_key(dv.best("firmware"))
    if floor and fw and fw >= floor:
        return []  # this firmware forces a password at activation
    o = _obs(dv, "vendor", vendor) if vendor else None
    what = f"{vendor} {dv.kind}".strip()
    return [Finding("default-credentials", "medium",
                    f"{what} ships with well-known default credentials ({creds}); not verified as changed",
                    f"vendor {vendor or 'unknown'} ({o.source if o else 'no vendor seen'}); kind {dv.kind} "
                    f"({dv.kind_reason})", o.source if o else "kind", o.file if o else "", o.packet if o else 0,
                    o.time if o else dv.first_seen)]


def _absent(dv: Device, min_span: float, loggers: set[str]) -> list[Finding]:
    if dv.first_seen is None or dv.last_seen is None or dv.packets < MIN_PACKETS:
        return []
    span = dv.last_seen - dv.first_seen
    if span < min_span:
        return []
    watched = (f"{dv.packets} packet(s) of it over {span / 60:.0f} min "
               f"({iso(dv.first_seen)} – {iso(dv.last_seen)})")
    out = []
    if dv.kind in TIME_KINDS and not any(p in dv.protocols for p in TIME_PROTOCOLS):
        out.append(Finding("no-time-sync", "low", "no time synchronisation seen (no NTP or PTP traffic)",
                           f"no NTP (udp/123) or PTP traffic to or from it in {watched}", "absence", time=dv.last_seen))
    sends = dv.ip in loggers or any("client" in dv.protocols.get(p, ()) for p in LOG_PROTOCOLS)
    collects = any("server" in dv.protocols.get(p, ()) for p in LOG_PROTOCOLS)  # a collector logs locally
    if dv.kind in LOG_KINDS and not sends and not collects:
        out.append(Finding("no-logging", "low", "no logging destination seen (no syslog sent)",
                           f"no syslog (udp/514, tcp/601, tcp/6514) sent in {watched}", "absence", time=dv.last_seen))
    return out
