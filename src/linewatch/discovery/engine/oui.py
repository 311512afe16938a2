"""Vendor from the MAC OUI, offline, from the Wireshark `manuf` database shipped in the `manuf` package.

IEEE registrant names are not the manufacturer names people use (Malcolm issue #393), so a small
alias table maps the registrant to a canonical manufacturer. The OUI names the brand owner of the
network interface, which is not always the device's maker: confidence is kept low.
"""

from __future__ import annotations

from functools import lru_cache

# Registrant long name (prefix, case-insensitive) -> canonical manufacturer.
ALIASES: dict[str, str] = {
    "siemens ag": "Siemens",
    "siemens nixdorf": "Siemens",
    "siemens": "Siemens",
    "rockwell automation": "Rockwell Automation",
    "allen-bradley": "Rockwell Automation",
    "schneider electric": "Schneider Electric",
    "d-link": "D-Link",
    "edimax": "Edimax",
    "assmann electronic": "ASSMANN (Ednet)",
    "philips lighting": "Signify (Philips Hue)",
    "signify": "Signify (Philips Hue)",
    "axis communications": "Axis",
    "hangzhou hikvision": "Hikvision",
    "zhejiang dahua": "Dahua",
    "cisco": "Cisco",
    "smc networks": "SMC Networks",
    "tp-link": "TP-Link",
    "hewlett packard": "HPE",
    "vmware": "VMware (virtual NIC)",
    "phoenix contact": "Phoenix Contact",
    "wago": "WAGO",
    "beckhoff": "Beckhoff",
    "omron": "Omron",
    "mitsubishi electric": "Mitsubishi Electric",
    "moxa": "Moxa",
    "hirschmann": "Hirschmann",
    "honeywell": "Honeywell",
    "johnson controls": "Johnson Controls",
    "bosch security": "Bosch",
    "hanwha": "Hanwha Vision",
    "samsung techwin": "Hanwha Vision",
    "hid global": "HID Global",
    "genetec": "Genetec",
    "raspberry pi": "Raspberry Pi",
    "intel corporate": "Intel",
    "apple": "Apple",
    "aruba": "Aruba (HPE)",
    "american power conversion": "APC by Schneider Electric",
    "fortinet": "Fortinet",
    "dell": "Dell",
    "zebra technologies": "Zebra Technologies",
    "yealink": "Yealink",
    "hoermann": "Hörmann",
    "sew eurodrive": "SEW-EURODRIVE",
    "endress": "Endress+Hauser",
    "ifm electronic": "ifm electronic",
    "danfoss": "Danfoss",
    "ricoh": "Ricoh",
    "mettler-toledo": "METTLER TOLEDO",
    "elo touch": "Elo Touch Solutions",
    "mercury security": "HID Mercury",
    "2n telekomunikace": "2N",
    "sick ag": "SICK",
    "kuka": "KUKA",
    "fanuc": "FANUC",
    "abb": "ABB",
    "hima paul hildebrandt": "HIMA",
    "drägerwerk": "Dräger",
    "vaisala": "Vaisala",
    "deister electronic": "deister electronic",
    "teltonika": "Teltonika",
    "zhejiang uniview": "Uniview",
}


@lru_cache(maxsize=1)
def _parser():
    try:
        import manuf

        return manuf.MacParser(update=False)
    except Exception:  # noqa: BLE001 - the OUI database is an enrichment; discovery works without it
        return None


def canonical(registrant: str) -> str:
    low = registrant.lower()
    for prefix, name in ALIASES.items():
        if low.startswith(prefix):
            return name
    return registrant.rstrip(" ,.")


def locally_administered(mac: str) -> bool:
    try:
        return bool(int(mac[:2], 16) & 0x02)
    except ValueError:
        return False


@lru_cache(maxsize=65536)
def lookup(mac: str) -> tuple[str, str] | None:
    """(canonical vendor, IEEE registrant) for a MAC, or None (unknown, multicast or locally administered)."""
    if not mac or int(mac[:2], 16) & 0x01 or locally_administered(mac):
        return None
    parser = _parser()
    if parser is None:
        return None
    try:
        v = parser.get_all(mac)
    except Exception:  # noqa: BLE001 - malformed MAC strings are simply unknown
        return None
    registrant = v.manuf_long or v.manuf
    if not registrant:
        return None
    return canonical(registrant), registrant
