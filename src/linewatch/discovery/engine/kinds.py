"""Guess a device's kind (the plant model's AssetKind vocabulary) from its protocols, roles and identity.

Plain strings, not the Django choices, so the engine stays Django-free; a test checks that every
kind used here is a value of `linewatch.core.choices.AssetKind`. The reason is always returned: a
guess nobody can check is worse than none.
"""

from __future__ import annotations

import re

from linewatch.discovery.engine.model import Device

CONTROLLER_PROTOCOLS = {"modbus": "Modbus/TCP", "s7comm": "S7comm", "s7comm-plus": "S7comm-plus",
                        "enip": "EtherNet/IP", "omron-fins": "Omron FINS", "melsec": "MELSEC",
                        "ge-srtp": "GE SRTP", "beckhoff-ads": "Beckhoff ADS", "codesys": "CODESYS"}
CAMERA_NAME = re.compile(r"\b(DCS-\d|DS-2CD|IPC-|AXIS [MPQ]\d|camera|cam\b|NVR|DVR|IP ?Cam)", re.I)


def _text(dv: Device) -> str:
    return " ".join(o.value for o in dv.observations if o.attribute in (
        "model", "hostname", "server_banner", "description", "mdns_service", "device_type", "module_name"))


def guess_kind(dv: Device) -> tuple[str | None, str | None]:  # noqa: C901 - a readable rule list
    roles = dv.protocols
    text = _text(dv)

    def serves(p: str) -> bool:
        return "server" in roles.get(p, ())

    def uses(p: str) -> bool:
        return "client" in roles.get(p, ())

    devtype = dv.best("device_type") or ""
    if devtype.startswith("14 "):
        return "plc", "EtherNet/IP identity: device type 14 (programmable logic controller)"
    if dv.best("order_number") and any(o.source.startswith("s7comm") for o in dv.observations):
        return "plc", f"S7comm SZL module identification ({dv.best('order_number')})"
    for p, label in CONTROLLER_PROTOCOLS.items():
        if serves(p):
            extra = f"; identity: {devtype}" if devtype else ""
            return "plc", f"serves {label}{extra}"
    if serves("dnp3") or serves("iec104") or dv.best("dnp3_role") == "outstation":
        return "rtu", "DNP3 / IEC 60870-5-104 outstation"
    if dv.best("bacnet_device_id") or serves("bacnet"):
        return "bms_controller", "BACnet device (I-Am / ReadProperty answers)"
    if "NetworkVideoTransmitter" in dv.values("onvif_type"):
        return "camera", "ONVIF WS-Discovery: NetworkVideoTransmitter"
    m = CAMERA_NAME.search(text)
    if m:
        return "camera", f"camera model or name in discovery messages ({m.group(0)!r})"
    if serves("rtsp"):
        return "camera", "serves RTSP (video streaming)"
    if re.search(r"Smart-UPS|\bUPS\b|Web/SNMP Management Card", text):
        return "ups", "UPS network management card (SNMP sysDescr / name)"
    if re.search(r"\bAK-(SM|PC|CC)\b|Desigo|\bPXC\d", text):
        return "bms_controller", "refrigeration / building controller by its banner or name"
    if re.search(r"FortiGate|FortiOS|PAN-OS|firewall", text, re.I):
        return "firewall", "firewall model in LLDP / SNMP system description"
    if re.search(r"ArubaOS \(MODEL: AP-|\bAP-\d{3}\b", text):
        return "wireless_ap", "access point model in LLDP system description"
    if re.search(r"SCALANCE|switch|WS-C", text, re.I) or (dv.values("hostname") and all(
            re.match(r"sw|.*-sw-\d", h, re.I) for h in dv.values("hostname"))):
        return "switch", "switch model or name in LLDP / CDP / PROFINET DCP"
    if dv.values("hostname") and all(re.match(r".*-(rtr|router)-", h, re.I) for h in dv.values("hostname")):
        return "router", "router by name (LLDP / DHCP / NetBIOS)"
    if any(o.source.startswith("cdp") for o in dv.observations):
        return "router", "Cisco device announcing itself over CDP"
    clients = [label for p, label in CONTROLLER_PROTOCOLS.items() if uses(p)]
    if uses("s7comm") and (dv.best("order_number") is None):
        return "engineering_workstation", "S7comm client (reads PLC status and diagnostics)"
    if clients:
        return "hmi", f"client of {', '.join(clients)} (polls controllers)"
    if uses("dnp3") or uses("iec104") or dv.best("dnp3_role") == "master":
        return "scada_server", "DNP3 / IEC 104 master"
    if serves("opcua"):
        return "scada_server", "serves OPC UA"
    if uses("bacnet"):
        return "scada_server", "BACnet client (building management workstation)"
    if "ArubaAP" in (dv.best("dhcp_vendor_class") or ""):
        return "wireless_ap", "DHCP vendor class ArubaAP"
    if serves("snmp") and dv.best("description"):
        return "server", "SNMP agent"
    if serves("dhcp") or serves("dns"):
        return "router", "serves DHCP / DNS"
    if re.search(r"Philips-hue|IpBridge|HS1\d\d", text, re.I):
        return "sensor", "IoT device (smart plug / lighting bridge) by name"
    return None, None
