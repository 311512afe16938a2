"""Generate the demo manufacturer, Nordhavn Foods, as site-as-code YAML files (one per site).

    PYTHONPATH=src python -m linewatch.demo.generate

The output is deterministic: MAC addresses and serial numbers are derived from a hash of the
site and asset names, never from the clock or an unseeded random generator, so running the
generator twice writes the same bytes. docs/demo.md describes the result and the flaws planted
in it on purpose (search for "FLAW" below).

This module is plain Python (no Django) so it can run anywhere PyYAML is installed.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

OUT_DIR = Path(__file__).with_name("sites")
ORGANISATION = {"slug": "nordhavn", "name": "Nordhavn Foods A/S", "currency": "EUR"}
MAIL = "nordhavn-foods.example"

# ---------------------------------------------------------------------------------------------
# Products: vendor, model, firmware, MAC prefix (the vendor's IEEE OUI, or a longer MA-S block),
# serial-number style (see serial_for) and the usual name of the network port.
# An empty OUI means the device has no Ethernet port (it hangs off a serial or OSDP bus).
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    vendor: str
    model: str
    firmware: str
    oui: str
    serial: str = "digits"
    nic: str = "eth0"


PRODUCTS: dict[str, Product] = {
    # --- controllers -------------------------------------------------------------------------
    "s7-1516": Product("Siemens", "SIMATIC S7-1500 CPU 1516-3 PN/DP (6ES7 516-3AN01-0AB0)", "V2.9.4",
                       "001b1b", "siemens", "X1"),
    "s7-1517": Product("Siemens", "SIMATIC S7-1500 CPU 1517-3 PN/DP (6ES7 517-3AP00-0AB0)", "V2.9.4",
                       "286336", "siemens", "X1"),
    "s7-1215": Product("Siemens", "SIMATIC S7-1200 CPU 1215C DC/DC/DC (6ES7 215-1AG40-0XB0)", "V4.6.1",
                       "000e8c", "siemens", "X1"),
    "controllogix": Product("Rockwell Automation", "ControlLogix 5580 1756-L83E", "33.011", "001d9c",
                            "rockwell"),
    "compactlogix": Product("Rockwell Automation", "CompactLogix 5380 5069-L330ER", "33.011", "f45433",
                            "rockwell", "A1"),
    "m580": Product("Schneider Electric", "Modicon M580 BMEP584040", "SV 4.10", "0080f4", "schneider"),
    # --- safety controllers ------------------------------------------------------------------
    "s7-1516f": Product("Siemens", "SIMATIC S7-1500F CPU 1516F-3 PN/DP (6ES7 516-3FN01-0AB0)", "V2.9.4",
                        "001b1b", "siemens", "X1"),
    "guardlogix": Product("Rockwell Automation", "GuardLogix 5580 1756-L83ES", "33.011", "001d9c",
                          "rockwell"),
    "compact-guardlogix": Product("Rockwell Automation", "Compact GuardLogix 5380 5069-L330ERS2", "33.011",
                                  "f45433", "rockwell", "A1"),
    "himax": Product("HIMA", "HIMax X-CPU 31", "CPU OS V12.2.0", "00e0a1", "digits"),
    "tricon-cx": Product("Schneider Electric (Triconex)", "Tricon CX 3009X main processor", "Tricon CX v12.0",
                         "002096", "digits"),
    # --- operator panels ---------------------------------------------------------------------
    "tp1200": Product("Siemens", "SIMATIC HMI TP1200 Comfort (6AV2 124-0MC01-0AX0)", "V17.0.0.0", "001b1b",
                      "siemens", "X1"),
    "tp1500": Product("Siemens", "SIMATIC HMI TP1500 Comfort (6AV2 124-0QC02-0AX1)", "V17.0.0.0", "000e8c",
                      "siemens", "X1"),
    "ktp700": Product("Siemens", "SIMATIC HMI KTP700 Basic (6AV2 123-2GB03-0AX0)", "V17.0.0.0", "286336",
                      "siemens", "X1"),
    "panelview7": Product("Rockwell Automation", "PanelView Plus 7 Performance 2711P-T12W22D9P", "13.00",
                          "001d9c", "rockwell"),
    "harmony-gtu": Product("Schneider Electric", "Harmony GTU HMIG5U with HMIDT732 12in display", "V3.3",
                           "000054", "schneider"),
    # --- remote I/O --------------------------------------------------------------------------
    "et200sp": Product("Siemens", "SIMATIC ET 200SP IM 155-6 PN HF (6ES7 155-6AU01-0CN0)", "V4.2.3",
                       "000e8c", "siemens", "X1"),
    "point-io": Product("Rockwell Automation", "POINT I/O 1734-AENTR adapter", "7.011", "001d9c", "rockwell"),
    "x80-cra": Product("Schneider Electric", "Modicon X80 BMECRA31210 EIO adapter", "2.60", "0080f4",
                       "schneider"),
    "wago-750": Product("WAGO", "750-362 Modbus TCP fieldbus coupler", "FW 04", "0030de", "prefix:0362-"),
    # --- drives ------------------------------------------------------------------------------
    "sew-movidrive": Product("SEW-EURODRIVE", "MOVIDRIVE B MDX61B with DFE32B PROFINET option", "DFE32B 1.23",
                             "000f69", "sew"),
    "sew-movimot": Product("SEW-EURODRIVE", "MOVIMOT advanced MMF3 with PROFINET", "V2.10", "000f69", "sew"),
    "sinamics-g120": Product("Siemens", "SINAMICS G120 CU250S-2 PN (6SL3246-0BA22-1FA0)", "V4.7 SP14",
                             "000e8c", "siemens", "X150"),
    "sinamics-s120": Product("Siemens", "SINAMICS S120 CU320-2 PN (6SL3040-1MA01-0AA0)", "V5.2 SP3",
                             "001b1b", "siemens", "X150"),
    "danfoss-fc302": Product("Danfoss", "VLT AutomationDrive FC 302 with MCA 120 PROFINET", "V8.42", "001b08",
                             "prefix:134F"),
    # --- robots ------------------------------------------------------------------------------
    "kuka-kr180": Product("KUKA", "KR 180 R3200 PA palletiser with KR C5 controller", "KSS 8.7.4", "0060c8",
                          "prefix:KRC5-"),
    "fanuc-m410": Product("FANUC", "M-410iC/185 palletiser with R-30iB Plus controller", "V9.40P/27",
                          "00e0e4", "prefix:F"),
    "fanuc-m20": Product("FANUC", "M-20iD/25 with R-30iB Plus controller", "V9.40P/27", "00e0e4", "prefix:F"),
    "abb-irb660": Product("ABB", "IRB 660 palletiser with IRC5 controller", "RobotWare 6.15.03", "000023",
                          "prefix:660-"),
    # --- sensors and field devices -----------------------------------------------------------
    "ifm-al1300": Product("ifm electronic", "AL1300 IO-Link master (PROFINET)", "2.4.26", "000201",
                          "prefix:AL1300"),
    "eh-promag": Product("Endress+Hauser", "Proline Promag H 300 flowmeter (EtherNet/IP)", "01.05.00",
                         "000705", "prefix:Q9"),
    "sick-lector": Product("SICK", "Lector642 image-based code reader", "V2.7.0", "000677", "digits"),
    "vaisala-indigo": Product("Vaisala", "Indigo520 transmitter with HMP7 temperature probe", "1.4.0",
                              "40ed987", "prefix:V"),
    "draeger-regard": Product("Dräger", "REGARD 7000 gas detection controller (NH3)", "3.2.1", "f0e5c3",
                              "prefix:ARDK-"),
    # --- building management and refrigeration -----------------------------------------------
    "danfoss-aksm800": Product("Danfoss", "AK-SM 800A system manager (AK-SM 880A, 080Z4021)", "08.062",
                               "000768", "prefix:080Z"),
    "danfoss-akpc781": Product("Danfoss", "AK-PC 781A pack controller (080Z0192)", "1.63", "", "prefix:080Z"),
    "danfoss-akcc55": Product("Danfoss", "AK-CC55 Multi Coil evaporator controller (084B4085)", "1.6", "",
                              "prefix:084B"),
    "desigo-pxc7": Product("Siemens", "Desigo PXC7.E400L automation station (BACnet/IP)", "7.1.16",
                           "000519", "siemens"),
    "scadapack-470": Product("Schneider Electric", "SCADAPack 470 RTU", "R2.8.1", "000054", "schneider"),
    "kaeser-sam4": Product("KAESER KOMPRESSOREN", "SIGMA AIR MANAGER 4.0 compressed-air master controller",
                           "1.3.1", "806c8b", "digits"),
    "mettler-ind780": Product("METTLER TOLEDO", "IND780 weighbridge terminal", "8.0.07", "00e07c", "digits"),
    # --- network -----------------------------------------------------------------------------
    "cat9300": Product("Cisco", "Catalyst 9300-48P", "IOS XE 17.9.4a", "70db98", "cisco:FOC", "Vlan"),
    "cat9200": Product("Cisco", "Catalyst 9200-24P", "IOS XE 17.9.4a", "2c3124", "cisco:JAE", "Vlan"),
    "ie3400": Product("Cisco", "Catalyst IE3400 Rugged (IE-3400-8P2S)", "IOS XE 17.9.5", "58971e",
                      "cisco:FOC", "Vlan"),
    "ie4010": Product("Cisco", "IE-4010-16S12P", "IOS 15.2(8)E4", "5c5015", "cisco:FDO", "Vlan"),
    "scalance-xc208": Product("Siemens", "SCALANCE XC208 (6GK5 208-0BA00-2AC2)", "V4.5", "001b1b", "siemens",
                              "vlan1"),
    "isr4331": Product("Cisco", "ISR 4331", "IOS XE 17.9.4a", "f87b20", "cisco:FDO", "Gi0/0/1"),
    "isr4451": Product("Cisco", "ISR 4451-X", "IOS XE 17.9.4a", "a0f849", "cisco:FGL", "Gi0/0/1"),
    "fg-200f": Product("Fortinet", "FortiGate 200F", "FortiOS 7.2.8", "00090f", "fortinet:FG200FTK", "mgmt"),
    "fg-100f": Product("Fortinet", "FortiGate 100F", "FortiOS 7.2.8", "906cac", "fortinet:FG100FTK", "mgmt"),
    "pa-3220": Product("Palo Alto Networks", "PA-3220", "PAN-OS 10.2.9-h1", "001b17", "paloalto", "mgmt"),
    "aruba-515": Product("HPE Aruba Networking", "AP-515", "ArubaOS 8.10.0.12", "000b86", "aruba"),
    "apc-srt3000": Product("APC by Schneider Electric", "Smart-UPS SRT 3000VA (SRT3KRMXLI) with AP9641 NMC3",
                           "NMC3 v2.6.0.5", "00c0b7", "apc"),
    "apc-srt6000": Product("APC by Schneider Electric", "Smart-UPS SRT 6000VA (SRT6KRMXLI) with AP9641 NMC3",
                           "NMC3 v2.6.0.5", "00c0b7", "apc"),
    # --- servers (hardware and virtual machines) ---------------------------------------------
    "r750": Product("Dell", "PowerEdge R750 (VMware ESXi 8.0 U2)", "iDRAC9 7.00.00.171, BIOS 1.13.2",
                    "f8bc12", "dell", "vmnic0"),
    "r650": Product("Dell", "PowerEdge R650 (VMware ESXi 8.0 U2)", "iDRAC9 7.00.00.171, BIOS 1.13.2",
                    "b8ca3a", "dell", "vmnic0"),
    "vm-win2022": Product("Microsoft", "Windows Server 2022 Standard (VMware VM)", "10.0.20348.2849",
                          "005056", "vmware"),
    "vm-dc": Product("Microsoft", "Windows Server 2022 Datacenter, Active Directory DS (VMware VM)",
                     "10.0.20348.2849", "005056", "vmware"),
    "vm-linux": Product("Canonical", "Ubuntu Server 22.04 LTS (VMware VM)", "5.15.0-122", "005056", "vmware"),
    "vm-rdg": Product("Microsoft", "Windows Server 2022, RD Gateway and RD Session Host (VMware VM)",
                      "10.0.20348.2849", "005056", "vmware"),
    "pi-server": Product("AVEVA", "PI Server 2023 SP1 (PI Data Archive, AF) on Windows Server 2022 VM",
                         "PI Data Archive 2023 SP1", "005056", "vmware"),
    "wincc": Product("Siemens", "SIMATIC WinCC V8.0 server on Windows Server 2022 VM", "V8.0 Update 3",
                     "005056", "vmware"),
    "factorytalk": Product("Rockwell Automation", "FactoryTalk View SE 13.0 HMI server on Windows Server 2022 VM",
                           "13.00.00", "005056", "vmware"),
    "opcenter": Product("Siemens", "Opcenter Execution Process 2401 on Windows Server 2022 VM", "2401.0003",
                        "005056", "vmware"),
    "kepware": Product("PTC", "KEPServerEX 6.15 (OPC UA) on Windows Server 2022 VM", "6.15.154.0", "005056",
                       "vmware"),
    "desigo-cc": Product("Siemens", "Desigo CC V7 building management server (Windows Server 2022 VM)",
                         "7.0 QU2", "005056", "vmware"),
    "sap-app": Product("SAP", "S/4HANA 2023 application server (SLES 15 SP5 VM)", "S/4HANA 2023 FPS01",
                       "005056", "vmware"),
    "sap-hana": Product("SAP", "HANA 2.0 database on Dell PowerEdge R760 (SLES 15 SP5)", "HANA 2.0 SPS07 rev 73",
                        "a4bb6d", "dell"),
    "veeam": Product("Veeam", "Backup & Replication 12.1 on Dell PowerEdge R550", "12.1.2.172", "d89ef3",
                     "dell"),
    "wms-app": Product("Körber Supply Chain", "K.Motion Warehouse Advantage 2023.1 app server (Windows VM)",
                       "2023.1.4", "005056", "vmware"),
    "wms-db": Product("Microsoft", "SQL Server 2022 CU14 for WMS on Dell PowerEdge R650", "16.0.4135.4",
                      "b8ca3a", "dell"),
    # --- endpoints ---------------------------------------------------------------------------
    "precision-3660": Product("Dell", "Precision 3660 Tower (Windows 10 IoT Enterprise LTSC 2021)",
                              "BIOS 2.14.0", "a4bb6d", "dell"),
    "precision-7680": Product("Dell", "Precision 7680 mobile workstation (Windows 11 Enterprise 23H2)",
                              "BIOS 1.12.1", "6c2b59", "dell"),
    "precision-3680": Product("Dell", "Precision 3680 Tower (Windows 11 Enterprise 23H2)", "BIOS 1.9.0",
                              "e4434b", "dell"),
    "optiplex-7010": Product("Dell", "OptiPlex 7010 (Windows 11 Enterprise 23H2)", "BIOS 1.16.0", "d89ef3",
                             "dell"),
    "latitude-5440": Product("Dell", "Latitude 5440 (Windows 11 Enterprise 23H2)", "BIOS 1.14.1", "6c2b59",
                             "dell", "wlan0"),
    "macbook-pro": Product("Apple", "MacBook Pro 14in M3 (macOS 14.6)", "macOS 14.6.1", "3c0754",
                           "prefix:C02", "en0"),
    "ricoh-imc3000": Product("Ricoh", "IM C3000 multifunction printer", "System 1.13", "002673",
                             "prefix:3100R"),
    "zebra-zt411": Product("Zebra Technologies", "ZT411 industrial label printer (203 dpi)", "V85.20.23Z",
                           "00074d", "prefix:99J"),
    "zebra-zq630": Product("Zebra Technologies", "ZQ630 Plus mobile label printer", "V85.20.23Z", "002368",
                           "prefix:XXRBJ", "wlan0"),
    "zebra-tc52": Product("Zebra Technologies", "TC52 mobile computer (Android 11)", "11-54-18.00-RG-U00-STD",
                          "4083de", "zebra", "wlan0"),
    "zebra-mc9300": Product("Zebra Technologies", "MC9300 freezer mobile computer (Android 11)",
                            "11-49-15.00-RG-U00-STD", "00a0f8", "zebra", "wlan0"),
    "zebra-vc8300": Product("Zebra Technologies", "VC8300 vehicle-mount computer (Android 10)",
                            "10-16-10.00-QG-U115-STD", "001570", "zebra", "wlan0"),
    "yealink-t54w": Product("Yealink", "SIP-T54W", "96.86.0.70", "805ec0", "digits"),
    "yealink-t46u": Product("Yealink", "SIP-T46U", "108.86.0.45", "001565", "digits"),
    # --- physical security -------------------------------------------------------------------
    "axis-p3265": Product("Axis Communications", "AXIS P3265-LVE Dome Camera", "10.12.236", "accc8e", "mac"),
    "axis-p1465": Product("Axis Communications", "AXIS P1465-LE Bullet Camera", "10.12.236", "b8a44f", "mac"),
    "axis-q6135": Product("Axis Communications", "AXIS Q6135-LE PTZ Camera", "10.12.213", "00408c", "mac"),
    "axis-m3086": Product("Axis Communications", "AXIS M3086-V Dome Camera", "10.12.236", "b8a44f", "mac"),
    "hik-2143g2": Product("Hikvision", "DS-2CD2143G2-I", "V5.7.15 build 230830", "4419b6",
                          "hik:DS-2CD2143G2-I"),
    "hik-2142fwd": Product("Hikvision", "DS-2CD2142FWD-I", "V5.5.0 build 170725", "c056e3",
                           "hik:DS-2CD2142FWD-I"),
    "hik-2347g2": Product("Hikvision", "DS-2CD2347G2-LU ColorVu", "V5.7.12 build 230407", "bcad28",
                          "hik:DS-2CD2347G2-LU"),
    "hanwha-xnv6080r": Product("Hanwha Vision", "XNV-6080R Wisenet X dome", "2.21.02_20231103", "44b423",
                               "prefix:ZLDQ70GR"),
    "hanwha-xno6080r": Product("Hanwha Vision", "XNO-6080R Wisenet X bullet", "2.21.02_20231103", "e43022",
                               "prefix:ZLDR70GR"),
    "bosch-flexidome": Product("Bosch", "FLEXIDOME IP 5100i IR (NDV-5703-AL)", "8.90.0015", "000463",
                               "prefix:0441"),
    "milestone-rec": Product("Milestone Systems", "XProtect Corporate 2024 R1 recording server on Dell PowerEdge R550",
                             "24.1a", "d89ef3", "dell"),
    "milestone-mgmt": Product("Milestone Systems", "XProtect Corporate 2024 R1 management server (Windows VM)",
                              "24.1a", "005056", "vmware"),
    "genetec-sc": Product("Genetec", "Security Center 5.12 Omnicast and Synergis directory (Windows VM)",
                          "5.12.1.0", "005056", "vmware"),
    "genetec-streamvault": Product("Genetec", "Streamvault SV-1000E appliance", "5.12.1.0", "0cbf15",
                                   "prefix:SV1K"),
    "mercury-lp1502": Product("HID Mercury", "LP1502 intelligent controller", "1.30.4.0641", "000fe5",
                              "digits"),
    "hid-vertx": Product("HID Global", "VertX EVO V1000 controller", "3.7.2.1402", "00068e", "digits"),
    "genetec-cloudlink": Product("Genetec", "Synergis Cloud Link 312", "5.0.30", "0cbf15", "prefix:SCL"),
    "axis-a1601": Product("Axis Communications", "AXIS A1601 Network Door Controller", "10.12.213", "accc8e",
                          "mac"),
    "axis-a1610": Product("Axis Communications", "AXIS A1610 Network Door Controller (barrier)", "10.12.213",
                          "b8a44f", "mac"),
    "hoermann-dock": Product("Hörmann", "HDL dock leveller and SPU F42 door with 360 control (Ethernet)",
                             "2.4.1", "70b3d5b78", "prefix:HRM"),
    "hid-signo40": Product("HID Global", "Signo 40 reader (40TKS, OSDP)", "1.6.0", "", "digits"),
    "hid-signo20": Product("HID Global", "Signo 20 reader (20TKS, OSDP)", "1.6.0", "", "digits"),
    "2n-ipverso": Product("2N", "2N IP Verso 2.0 intercom", "2.43.1.62.4", "7c1eb3", "2n"),
    "2n-ipforce": Product("2N", "2N IP Force intercom", "2.43.1.62.4", "7c1eb3", "2n"),
    "elo-kiosk": Product("Elo Touch Solutions", "Elo I-Series 4 22in (Android 12), visitor registration",
                         "4.0.2", "1ceec9", "prefix:J23", "wlan0"),
    "galaxy-dimension": Product("Honeywell", "Galaxy Dimension GD-520 with E080 Ethernet module", "V6.93",
                                "004084", "digits"),
    "proxtour": Product("deister electronic", "PROXtour pocket guard tour reader with docking station", "4.12",
                        "54098d", "digits"),
}

# Default criticality of an asset kind; individual assets override it.
KIND_CRITICALITY: dict[str, str] = {
    "plc": "high", "safety_plc": "critical", "scada_server": "high", "historian": "medium", "hmi": "high",
    "firewall": "critical", "router": "high", "domain_controller": "high", "bms_controller": "high",
    "jump_host": "high", "engineering_workstation": "high", "drive": "medium", "robot": "high",
    "switch": "high", "access_controller": "medium", "nvr": "medium", "vms_server": "medium",
    "io_module": "medium", "rtu": "medium", "camera": "low", "badge_reader": "low", "workstation": "low",
    "laptop": "low", "phone": "low", "printer": "low", "wireless_ap": "medium", "ups": "medium",
    "server": "medium", "handheld": "low", "sensor": "medium", "door_controller": "medium",
    "gate_controller": "medium", "intercom": "low", "visitor_kiosk": "low", "alarm_panel": "medium",
    "guard_device": "low", "other": "low",
}

OT_KINDS = ("plc", "safety_plc", "rtu", "hmi", "engineering_workstation", "historian", "scada_server", "drive",
            "robot", "io_module", "sensor", "bms_controller", "jump_host")
PHYSICAL_KINDS = ("camera", "nvr", "vms_server", "access_controller", "badge_reader", "door_controller",
                  "gate_controller", "intercom", "visitor_kiosk", "alarm_panel", "guard_device")
IT_KINDS = ("switch", "router", "firewall", "wireless_ap", "server", "domain_controller", "workstation",
            "laptop", "printer", "handheld", "phone", "ups", "other")

# ---------------------------------------------------------------------------------------------
# Companies and people of the organisation. A person is described once here; each site file
# lists the people affiliated with that site (a person may be affiliated with several sites).
# ---------------------------------------------------------------------------------------------

COMPANIES: dict[str, dict[str, Any]] = {
    "nordhavn-foods": {"name": "Nordhavn Foods A/S", "kind": "employer"},
    "vagtkorps-nord": {"name": "Vagtkorps Nord A/S", "kind": "security", "risk_standing": "low",
                       "contract_expires": "2027-12-31", "insurance_expires": "2027-03-31"},
    "nordic-it-partner": {"name": "Nordic IT Partner ApS", "kind": "contractor", "risk_standing": "medium",
                          "contract_expires": "2027-06-30", "insurance_expires": "2027-01-31"},
    "sentinel-sikring": {"name": "Sentinel Sikring A/S (security systems integrator)", "kind": "vendor",
                         "risk_standing": "medium", "contract_expires": "2027-09-30",
                         "insurance_expires": "2027-04-30"},
    "baltic-automation": {"name": "Baltic Automation GmbH (Siemens Solution Partner)", "kind": "vendor",
                          "risk_standing": "medium", "contract_expires": "2027-12-31",
                          "insurance_expires": "2027-02-28"},
    "nordcert-audit": {"name": "NordCert Audit AB", "kind": "other", "risk_standing": "low"},
    "koeltek": {"name": "KølTek Refrigeration A/S", "kind": "contractor", "risk_standing": "high",
                "contract_expires": "2027-06-30", "insurance_expires": "2027-05-31"},
    "robopak": {"name": "RoboPak Integration GmbH", "kind": "vendor", "risk_standing": "medium",
                "contract_expires": "2027-03-31", "insurance_expires": "2027-03-31"},
    # FLAW (nice to have): the electrical contractor's liability insurance ran out on 30 September 2026.
    "nordfriesland-elektro": {"name": "Nordfriesland Elektro GmbH", "kind": "contractor", "risk_standing": "medium",
                              "contract_expires": "2027-03-31", "insurance_expires": "2026-09-30"},
    "dockserv-nordic": {"name": "DockServ Nordic ApS", "kind": "contractor", "risk_standing": "low",
                        "contract_expires": "2027-12-31", "insurance_expires": "2027-08-31"},
    "wms-nordic": {"name": "WMS Nordic Consulting A/S", "kind": "vendor", "risk_standing": "medium",
                   "contract_expires": "2026-12-31", "insurance_expires": "2027-01-31"},
    "baltic-haulage": {"name": "Baltic Haulage Sp. z o.o.", "kind": "other", "risk_standing": "low"},
}

# key: (name, title, company, phone)
PEOPLE: dict[str, tuple[str, str, str, str]] = {
    # headquarters
    "nf-10001": ("Ingrid Holm", "Chief Information Security Officer", "nordhavn-foods", "+45 3370 1001"),
    "nf-10002": ("Rasmus Nyborg", "SOC Lead", "nordhavn-foods", "+45 3370 1002"),
    "nf-10003": ("Amalie Kristensen", "SOC Analyst", "nordhavn-foods", "+45 3370 1003"),
    "nf-10004": ("Jonas Friis", "SOC Analyst", "nordhavn-foods", "+45 3370 1004"),
    "nf-10005": ("Mikkel Dahl", "Head of Group IT Infrastructure", "nordhavn-foods", "+45 3370 1005"),
    "nf-10006": ("Sofie Brandt", "Network Engineer", "nordhavn-foods", "+45 3370 1006"),
    "nf-10007": ("Peter Skov", "Systems Administrator", "nordhavn-foods", "+45 3370 1007"),
    "nf-10008": ("Katrine Vestergaard", "Group OT Security Architect", "nordhavn-foods", "+45 3370 1008"),
    "nf-10009": ("Henrik Lauridsen", "Group Facilities and Security Manager", "nordhavn-foods", "+45 3370 1009"),
    "nf-10010": ("Louise Bech", "Receptionist", "nordhavn-foods", "+45 3370 1000"),
    "tec-50101": ("Lars Overgaard", "Facilities Technician", "nordhavn-foods", "+45 3370 1011"),
    "grd-40101": ("Thomas Mølgaard", "Security Officer", "vagtkorps-nord", "+45 7022 4101"),
    "grd-40102": ("Ali Hassan", "Security Officer", "vagtkorps-nord", "+45 7022 4102"),
    "ctr-20101": ("Nikolaj Berg", "Infrastructure Consultant", "nordic-it-partner", "+45 7010 2101"),
    "ctr-20102": ("Freja Lind", "Security Systems Engineer", "sentinel-sikring", "+45 7060 2102"),
    "vis-30101": ("Anna Weiss", "Lead Auditor, FSSC 22000", "nordcert-audit", "+46 8 555 301 01"),
    # Kolding dairy and chilled foods
    "nf-20001": ("Jens Mortensen", "Plant Manager", "nordhavn-foods", "+45 7630 2001"),
    "nf-20002": ("Camilla Juhl", "OT Engineering Lead", "nordhavn-foods", "+45 7630 2002"),
    "nf-20003": ("Emil Thomsen", "Controls Engineer", "nordhavn-foods", "+45 7630 2003"),
    "nf-20004": ("Sara Iversen", "Controls Engineer", "nordhavn-foods", "+45 7630 2004"),
    "nf-20005": ("Morten Kjær", "Maintenance Manager", "nordhavn-foods", "+45 7630 2005"),
    "nf-20006": ("Bo Rasmussen", "Refrigeration Engineer", "nordhavn-foods", "+45 7630 2006"),
    "nf-20007": ("Helle Andersen", "Site Security Lead", "nordhavn-foods", "+45 7630 2007"),
    "nf-20008": ("Kasper Lund", "Shift Supervisor", "nordhavn-foods", "+45 7630 2008"),
    "nf-20009": ("Mette Poulsen", "Quality Manager", "nordhavn-foods", "+45 7630 2009"),
    "nf-20010": ("Anders Holt", "Logistics Coordinator", "nordhavn-foods", "+45 7630 2010"),
    "tec-50201": ("Steffen Bach", "Maintenance Technician", "nordhavn-foods", "+45 7630 2011"),
    "tec-50202": ("Jakob Winther", "Refrigeration Service Technician", "koeltek", "+45 7555 5202"),
    "ctr-20201": ("Tobias Krüger", "Automation Engineer (Siemens)", "baltic-automation", "+49 461 5550 201"),
    "ctr-20202": ("Lena Hoffmann", "Automation Engineer (Rockwell)", "baltic-automation", "+49 461 5550 202"),
    "ctr-20203": ("Martin Sørensen", "Refrigeration Technician", "koeltek", "+45 7555 5203"),
    "ctr-20204": ("Oliver Nielsen", "Security Technician", "sentinel-sikring", "+45 7060 2204"),
    "grd-40201": ("Per Johansen", "Security Officer", "vagtkorps-nord", "+45 7022 4201"),
    "grd-40202": ("Nadia Rahman", "Security Officer", "vagtkorps-nord", "+45 7022 4202"),
    "vis-30201": ("Eva Lindqvist", "Auditor, BRCGS", "nordcert-audit", "+46 8 555 302 01"),
    "vis-30202": ("Hans Schmidt", "Supplier Quality Auditor (retail customer)", "", "+49 40 5557 3020"),
    # Rendsburg packaging
    "nf-30001": ("Katharina Becker", "Plant Manager", "nordhavn-foods", "+49 4331 555 3001"),
    "nf-30002": ("Florian Wagner", "OT Engineering Lead", "nordhavn-foods", "+49 4331 555 3002"),
    "nf-30003": ("Julia Schulz", "Automation Engineer", "nordhavn-foods", "+49 4331 555 3003"),
    "nf-30004": ("Dennis Petersen", "Maintenance Lead", "nordhavn-foods", "+49 4331 555 3004"),
    "nf-30005": ("Sabine Jensen", "Facilities and Security Coordinator", "nordhavn-foods", "+49 4331 555 3005"),
    "nf-30006": ("Marco Hansen", "Site IT Support", "nordhavn-foods", "+49 4331 555 3006"),
    "tec-50301": ("Kevin Albrecht", "Maintenance Technician", "nordhavn-foods", "+49 4331 555 3011"),
    "ctr-20301": ("Sven Richter", "Robot Service Engineer", "robopak", "+49 431 5550 301"),
    "ctr-20302": ("Jan Carstensen", "Electrician", "nordfriesland-elektro", "+49 4841 555 302"),
    "ctr-20303": ("Timo Lorenzen", "Electrician", "nordfriesland-elektro", "+49 4841 555 303"),
    "grd-40301": ("Stefan Paulsen", "Security Officer", "vagtkorps-nord", "+49 461 5554 301"),
    "vis-30301": ("Lukas Meyer", "Service Engineer, extrusion OEM", "", "+49 5151 555 301"),
    "vis-30302": ("Birgit Schneider", "Purchasing Manager (customer)", "", "+49 40 5553 0302"),
    # Padborg distribution centre
    "nf-40001": ("Lars Kjeldsen", "Distribution Centre Manager", "nordhavn-foods", "+45 7467 4001"),
    "nf-40002": ("Pia Frandsen", "Logistics IT Specialist", "nordhavn-foods", "+45 7467 4002"),
    "nf-40003": ("Ole Madsen", "Warehouse Supervisor", "nordhavn-foods", "+45 7467 4003"),
    "nf-40004": ("Rikke Svendsen", "Facilities Coordinator", "nordhavn-foods", "+45 7467 4004"),
    "nf-40005": ("Mads Jepsen", "Shift Lead, Cold Rooms", "nordhavn-foods", "+45 7467 4005"),
    "tec-50401": ("Niels Bruun", "Dock Equipment Technician", "dockserv-nordic", "+45 7020 5401"),
    "ctr-20401": ("Christian Vogel", "WMS Consultant", "wms-nordic", "+45 7030 2401"),
    "ctr-20402": ("Ida Lauritsen", "Security Technician", "sentinel-sikring", "+45 7060 2402"),
    "grd-40401": ("Erik Holm", "Security Officer", "vagtkorps-nord", "+45 7022 4401"),
    "grd-40402": ("Yusuf Demir", "Security Officer", "vagtkorps-nord", "+45 7022 4402"),
    "vis-30401": ("Piotr Nowak", "Truck Driver", "baltic-haulage", "+48 58 555 3041"),
    "vis-30402": ("Jana Nováková", "Truck Driver", "baltic-haulage", "+420 555 304 02"),
}

# FLAW 5 — shadow devices: on the network, deliberately NOT in any site file, so that passive
# discovery has something to find. check() makes sure no modelled asset takes their addresses.
SHADOW_DEVICES = (
    {"site": "kolding", "zone": "line1-supervisory", "ip": "10.20.101.77", "mac": "dc:a6:32:5e:91:0c",
     "what": "Raspberry Pi 4 (hostname raspberrypi) taped inside the line 1 cabinet, plugged into kol-l1-sw-01"},
    {"site": "rendsburg", "zone": "line1-supervisory", "ip": "10.30.101.250", "mac": "00:1e:42:2a:7f:13",
     "what": "Teltonika RUT950 4G router left by the extruder OEM for remote maintenance"},
)

# ---------------------------------------------------------------------------------------------
# Deterministic identifiers
# ---------------------------------------------------------------------------------------------

_SERIAL_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("/".join(parts).encode()).digest()


def mac_for(prefix: str, *seed: str) -> str:
    """A MAC address in the vendor's block, the rest taken from a hash of `seed`."""
    hexdigits = (prefix.lower() + _digest("mac", *seed).hex())[:12]
    return ":".join(hexdigits[i:i + 2] for i in range(0, 12, 2))


def serial_for(style: str, mac: str | None, *seed: str) -> str:
    """A serial number in the vendor's usual format."""
    d = _digest("serial", *seed)
    digits = "".join(str(b % 10) for b in d)
    alnum = "".join(_SERIAL_ALPHABET[b % len(_SERIAL_ALPHABET)] for b in d)
    style, _, arg = style.partition(":")
    if style == "siemens":
        return f"S C-{alnum[:3]}{digits[:5]}"
    if style == "rockwell":
        return d.hex()[:8].upper()
    if style == "schneider":
        return f"{20 + d[0] % 6}{d[1] % 52 + 1:02d}{digits[2:8]}"
    if style == "mac" and mac:
        return mac.replace(":", "").upper()
    if style == "hik":
        return f"{arg}{2021 + d[0] % 4}{d[1] % 12 + 1:02d}{d[2] % 28 + 1:02d}AAWR{alnum[5]}{digits[6:15]}"
    if style == "cisco":
        return f"{arg}{21 + d[0] % 5}{d[1] % 52 + 1:02d}{alnum[4:8]}"
    if style == "fortinet":
        return f"{arg}{21 + d[0] % 4}{digits[1:7]}"
    if style == "paloalto":
        return f"0132010{digits[:5]}"
    if style == "dell":
        return alnum[:7]
    if style == "apc":
        return f"AS{21 + d[0] % 5}{digits[1:9]}"
    if style == "zebra":
        return f"{21 + d[0] % 5}{digits[1:13]}"
    if style == "aruba":
        return f"CNK{alnum[:7]}"
    if style == "sew":
        return f"01.74{digits[:8]}.0001.{19 + d[0] % 6}"
    if style == "2n":
        return f"54-{digits[:4]}-{digits[4:8]}"
    if style == "vmware":
        h = d.hex()
        pairs = [h[i:i + 2] for i in range(0, 32, 2)]
        return "VMware-42 " + " ".join(pairs[1:8]) + "-" + " ".join(pairs[8:16])
    if style == "prefix":
        return f"{arg}{digits[:8]}"
    return digits[:10]


def dep(name: str, assets: list[str], required: int | None = None, effect: str | None = None,
        capacity_loss: float | None = None) -> dict[str, Any]:
    """A dependency group: of `assets`, `required` must be up (default 1)."""
    d: dict[str, Any] = {"name": name, "assets": list(assets)}
    if required is not None:
        d["required"] = required
    if effect is not None:
        d["effect"] = effect
    if capacity_loss is not None:
        d["capacity_loss"] = capacity_loss
    return d


def door(slug: str, name: str, kind: str, controller: str | None = None,
         readers: Iterable[str] = ()) -> dict[str, Any]:
    d: dict[str, Any] = {"slug": slug, "name": name, "kind": kind}
    if controller:
        d["controller"] = controller
    if readers:
        d["readers"] = list(readers)
    return d


# ---------------------------------------------------------------------------------------------
# The site builder: collects one site file's sections and hands out addresses.
# ---------------------------------------------------------------------------------------------


@dataclass
class Site:
    number: int  # second octet of the site's addresses, and the file's sort prefix
    slug: str
    prefix: str  # hostname prefix of the site's assets
    info: dict[str, Any]
    sections: dict[str, list] = field(default_factory=lambda: {
        k: [] for k in ("companies", "people", "teams", "zones", "conduits", "areas", "assets", "lines",
                        "ownership", "work_orders", "authorisations")})
    calendar: dict[str, Any] = field(default_factory=dict)
    _nets: dict[str, tuple[ipaddress.IPv4Network, int]] = field(default_factory=dict)
    _used: dict[str, set[int]] = field(default_factory=dict)
    _assets: dict[str, dict] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.info["timezone"])

    def n(self, name: str) -> str:
        """The site's hostname for `name` (prefix added)."""
        return f"{self.prefix}-{name}"

    def at(self, text: str) -> str:
        """'2026-10-16 16:00' in the site's time zone, as ISO 8601 with its UTC offset."""
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=self.tz).isoformat()

    # --- network -------------------------------------------------------------------------------
    def zone(self, slug: str, name: str, purdue: float, sl: int, octet: int, description: str) -> None:
        net = ipaddress.ip_network(f"10.{self.number}.{octet}.0/24")
        self._nets[slug] = (net, octet)
        self._used[slug] = {0, 1, 255}  # network, firewall gateway, broadcast
        level: float | int = int(purdue) if float(purdue).is_integer() else purdue
        self.sections["zones"].append({"slug": slug, "name": name, "purdue_level": level,
                                       "security_level_target": sl, "cidrs": [str(net)],
                                       "description": description})

    def conduit(self, slug: str, src: str, dst: str, services: list[str], description: str,
                direction: str = "forward") -> None:
        self.sections["conduits"].append({"slug": slug, "from": src, "to": dst, "services": services,
                                          "direction": direction, "description": description})

    def extend_conduit(self, slug: str, services: list[str], note: str) -> None:
        """More services on a conduit already declared (a site's own needs on a shared pattern's conduit)."""
        c = next(c for c in self.sections["conduits"] if c["slug"] == slug)
        c["services"] = [*c["services"], *(x for x in services if x not in c["services"])]
        c["description"] = f"{c['description']} {note}"

    def address(self, zone: str, host: int | None = None) -> str:
        """The next free host address of `zone` from .10 up, or the given host number."""
        used = self._used[zone]
        if host is None:
            host = next(h for h in range(10, 255) if h not in used)
        if host in used:
            raise ValueError(f"{self.slug}: host .{host} of zone {zone} is taken")
        used.add(host)
        return str(self._nets[zone][0].network_address + host)

    def nic(self, asset: str, name: str, zone: str, oui: str, host: int | None = None) -> dict[str, Any]:
        return {"name": name, "ip": self.address(zone, host), "mac": mac_for(oui, self.slug, asset, name),
                "vlan": self._nets[zone][1]}

    def gateway_nics(self, asset: str, oui: str) -> list[dict[str, Any]]:
        """The .1 gateway address of every zone so far, on the firewall that routes between them."""
        return [{"name": f"vlan{octet}", "ip": str(net.network_address + 1),
                 "mac": mac_for(oui, self.slug, asset, "gateway"), "vlan": octet}
                for net, octet in self._nets.values()]

    # --- assets --------------------------------------------------------------------------------
    def asset(self, name: str, kind: str, product: str, zone: str | None = None, area: str | None = None, *,
              host: int | None = None, criticality: str | None = None, description: str = "",
              tags: Iterable[str] = (), firmware: str | None = None, model: str | None = None,
              extra_nics: Iterable[tuple[str, str, int | None]] = (), nics: list[dict] | None = None,
              serial: str | None = None, depends_on: Iterable[dict] = ()) -> str:
        """Add an asset; `extra_nics` are (interface, zone, host) for multi-homed devices."""
        if name in self._assets:
            raise ValueError(f"{self.slug}: asset {name} defined twice")
        p = PRODUCTS[product]
        interfaces = list(nics or [])
        if zone and p.oui and nics is None:
            interfaces.append(self.nic(name, p.nic, zone, p.oui, host))
        for nic_name, nic_zone, nic_host in extra_nics:
            interfaces.append(self.nic(name, nic_name, nic_zone, p.oui, nic_host))
        mac = interfaces[0]["mac"] if interfaces else None
        a: dict[str, Any] = {"name": name, "kind": kind, "vendor": p.vendor, "model": model or p.model,
                             "firmware": firmware or p.firmware,
                             "serial": serial or serial_for(p.serial, mac, self.slug, name)}
        if zone:
            a["zone"] = zone
        if area:
            a["area"] = area
        a["criticality"] = criticality or KIND_CRITICALITY[kind]
        if description:
            a["description"] = description
        if tags:
            a["tags"] = list(tags)
        if interfaces:
            a["interfaces"] = interfaces
        if depends_on:
            a["depends_on"] = list(depends_on)
        self._assets[name] = a
        self.sections["assets"].append(a)
        return name

    def assets(self, stem: str, count: int, kind: str, product: str, zone: str | None, area: str | None,
               start: int = 1, **kw: Any) -> list[str]:
        """`count` numbered assets, e.g. kol-cam-dock-01 … kol-cam-dock-06."""
        return [self.asset(f"{stem}-{i:02d}", kind, product, zone, area, **kw) for i in range(start, start + count)]

    def add_depends(self, asset: str, *deps: dict) -> None:
        self._assets[asset].setdefault("depends_on", []).extend(deps)

    # --- places, lines, people -----------------------------------------------------------------
    def area(self, slug: str, name: str, level: str, parent: str | None = None, description: str = "",
             doors: Iterable[dict] = ()) -> None:
        a: dict[str, Any] = {"slug": slug, "name": name, "restricted_level": level}
        if parent:
            a["parent"] = parent
        if description:
            a["description"] = description
        if doors:
            a["doors"] = list(doors)
        self.sections["areas"].append(a)

    def area_rules(self, slug: str, *, requires: Iterable[str] = (), owners: Iterable[str] = ()) -> None:
        """The training an area requires and who owns it, in the keys' canonical (exported) order."""
        a = next(a for a in self.sections["areas"] if a["slug"] == slug)
        doors = a.pop("doors", None)
        if requires:
            a["requires"] = sorted(requires)
        if owners:
            a["owners"] = sorted(owners)
        if doors:
            a["doors"] = doors

    def line(self, slug: str, name: str, kind: str, area: str | None, *, downtime: int, trucks: int = 0,
             perishable: int = 0, hours_to_spoil: float | None = None, safety_critical: bool = False,
             description: str = "", depends_on: Iterable[dict] = ()) -> None:
        line: dict[str, Any] = {"slug": slug, "name": name, "kind": kind}
        if area:
            line["area"] = area
        line |= {"downtime_cost_per_hour": downtime, "trucks_per_day": trucks}
        if perishable:
            line["perishable_value"] = perishable
        if hours_to_spoil:
            line["hours_to_spoil"] = hours_to_spoil
        line["safety_critical"] = safety_critical
        if description:
            line["description"] = description
        line["depends_on"] = list(depends_on)
        self.sections["lines"].append(line)

    def people(self, *entries: tuple) -> None:
        """(key, affiliation, sponsor, valid_from, valid_to) for each person affiliated here."""
        companies = self.sections["companies"]
        for key, affiliation, sponsor, valid_from, valid_to in entries:
            name, title, company, phone = PEOPLE[key]
            first, last = name.split(" ", 1)
            email_domain = MAIL if company == "nordhavn-foods" else f"{company or 'guest'}.example"
            person: dict[str, Any] = {"key": key, "name": name,
                                      "email": f"{first.lower()}.{last.lower().replace(' ', '')}@{email_domain}",
                                      "phone": phone, "title": title}
            person["email"] = _ascii(person["email"])
            if company:
                person["company"] = company
                if company not in [c["slug"] for c in companies]:
                    companies.append({"slug": company, **COMPANIES[company]})
            person["affiliation"] = affiliation
            if sponsor:
                person["sponsor"] = sponsor
            if valid_from:
                person["valid_from"] = valid_from
            if valid_to:
                person["valid_to"] = valid_to
            self.sections["people"].append(person)

    def team(self, slug: str, name: str, kind: str, members: Iterable[str], lead: str | None = None,
             company: str | None = None, email: str | None = None, phone: str | None = None) -> None:
        t: dict[str, Any] = {"slug": slug, "name": name, "kind": kind,
                             "email": email or f"{slug}@{MAIL}"}
        if phone:
            t["phone"] = phone
        if company:
            t["company"] = company
            if company not in [c["slug"] for c in self.sections["companies"]]:
                self.sections["companies"].append({"slug": company, **COMPANIES[company]})
        t["members"] = [{"person": p, "lead": p == lead} for p in members]
        self.sections["teams"].append(t)

    def own(self, team: str, role: str, *, asset: str | None = None, kinds: Iterable[str] | None = None) -> None:
        """A RACI rule: for one asset, for each of `kinds`, or (neither) for the whole site."""
        if kinds is None:
            rule: dict[str, Any] = {"team": team, "role": role}
            if asset:
                rule["asset"] = asset
            self.sections["ownership"].append(rule)
            return
        for kind in kinds:
            self.sections["ownership"].append({"team": team, "role": role, "kind": kind})

    def kinds_present(self) -> set[str]:
        return {a["kind"] for a in self.sections["assets"]}

    def work_order(self, key: str, title: str, status: str, assignee: str, approved_by: str, starts: str,
                   ends: str, line: str | None = None, assets: Iterable[str] = ()) -> None:
        wo: dict[str, Any] = {"key": key, "title": title, "status": status, "assignee": assignee,
                              "approved_by": approved_by}
        if line:
            wo["line"] = line
        if assets:
            wo["assets"] = list(assets)
        wo |= {"starts_at": self.at(starts), "ends_at": self.at(ends)}
        self.sections["work_orders"].append(wo)

    def authorise(self, person: str, areas: Iterable[str], granted_by: str, reason: str,
                  valid_from: str | None = None, valid_to: str | None = None, schedule: str | None = None,
                  work_order: str | None = None) -> None:
        for area in areas:
            g: dict[str, Any] = {"person": person, "area": area}
            if valid_from:
                g["valid_from"] = self.at(valid_from)
            if valid_to:
                g["valid_to"] = self.at(valid_to)
            if schedule:
                g["schedule"] = schedule
            g |= {"granted_by": granted_by, "reason": reason}
            if work_order:
                g["work_order"] = work_order
            self.sections["authorisations"].append(g)

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"linewatch": 1, "organisation": dict(ORGANISATION), "site": self.info}
        if self.calendar:
            doc["calendar"] = self.calendar
        doc |= {k: v for k, v in self.sections.items() if v}
        return doc


def _ascii(text: str) -> str:
    table = str.maketrans({"ø": "oe", "æ": "ae", "å": "aa", "ü": "ue", "ö": "oe", "ä": "ae", "á": "a",
                           "é": "e", "ß": "ss"})
    return text.translate(table)


WEEKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
DAY_SHIFT = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=6,7,8,9,10,11,12,13,14,15,16,17"
NIGHTS_AND_WEEKENDS = "FREQ=DAILY;BYHOUR=18,19,20,21,22,23,0,1,2,3,4,5,6"
EVERY_DAY = "FREQ=DAILY"

# ---------------------------------------------------------------------------------------------
# Building blocks shared by the sites
# ---------------------------------------------------------------------------------------------


def add_firewall_pair(s: Site, product: str, area: str, mgmt_zone: str, description: str) -> list[str]:
    """An HA pair; the primary carries the .1 gateway of every zone defined so far."""
    p = PRODUCTS[product]
    fw1, fw2 = s.n("fw-01"), s.n("fw-02")
    s.asset(fw1, "firewall", product, mgmt_zone, area, host=2, description=description + " (HA primary)",
            tags=["segmentation"], extra_nics=[], nics=[s.nic(fw1, "mgmt", mgmt_zone, p.oui, 2),
                                                       *s.gateway_nics(fw1, p.oui)])
    s.asset(fw2, "firewall", product, mgmt_zone, area, host=3, description=description + " (HA secondary)",
            tags=["segmentation"])
    return [fw1, fw2]


def add_office(s: Site, area: str, *, workstations: int, laptops: int, phones: int, printers: int,
               aps: int, ap_area: str | None = None, switches: int = 2) -> dict[str, list[str]]:
    """The office network: access switches, Wi-Fi, desktops, laptops, phones and printers."""
    sw = s.assets(s.n("office-sw"), switches, "switch", "cat9200", "office", area, criticality="medium",
                  host=None)
    uplink = [dep("Office access switches", sw)]
    out = {
        "switches": sw,
        "aps": s.assets(s.n("ap"), aps, "wireless_ap", "aruba-515", "office", ap_area or area, depends_on=uplink),
        "workstations": s.assets(s.n("ws"), workstations, "workstation", "optiplex-7010", "office", area),
        "laptops": s.assets(s.n("lt"), laptops, "laptop", "latitude-5440", "office", area),
        "phones": s.assets(s.n("phone"), phones, "phone", "yealink-t54w", "office", area, depends_on=uplink),
        "printers": s.assets(s.n("mfp"), printers, "printer", "ricoh-imc3000", "office", area),
    }
    return out


@dataclass
class LineSpec:
    """A production line with its own supervisory (L2) and control (L1) zones."""

    number: int
    slug: str
    name: str
    area: str
    plc: str
    hmi: str
    safety: str
    io: str
    io_count: int
    drive: str
    drives: int
    control_services: list[str]
    safety_services: list[str]
    downtime: int
    trucks: int
    description: str
    hmi_count: int = 2
    sensors: tuple[tuple[str, str, int], ...] = ()  # (stem, product, count)
    robots: tuple[str, ...] = ()
    printers: int = 0
    switch: str = "ie3400"
    safety_critical: bool = False
    perishable: int = 0
    hours_to_spoil: float | None = None
    plc_firmware: str | None = None


def add_production_line(s: Site, spec: LineSpec, *, scada: list[str], mes: str | None, ot_core: list[str],
                        sis_switch: str, extra_deps: Iterable[dict] = ()) -> dict[str, Any]:
    """Zones, conduits, assets and the line itself; returns the names of what it made."""
    n = spec.number
    sup, ctl = f"line{n}-supervisory", f"line{n}-control"
    s.zone(sup, f"Line {n} supervisory (L2)", 2, 2, 100 + n,
           f"Operator panels, label printers and the line switch of {spec.name}.")
    s.zone(ctl, f"Line {n} control (L1)", 1, 3, 110 + n,
           f"Controllers, remote I/O, drives and field devices of {spec.name}.")
    s.conduit(f"ops-to-line{n}-supervisory", "site-ops", sup, ["tcp/4840", "tcp/443", "icmp"],
              f"SCADA, MES and OPC UA to the operator panels of line {n}.")
    s.conduit(f"line{n}-supervisory-to-control", sup, ctl, spec.control_services,
              f"Operator panels to the line {n} controllers.")
    s.conduit(f"ops-to-line{n}-control", "site-ops", ctl, [*spec.control_services, "tcp/4840"],
              f"SCADA polling and engineering workstations (programming) to line {n}.")
    s.conduit(f"line{n}-control-to-sis", ctl, "sis", spec.safety_services,
              f"Safety communication between line {n} and its safety controller.", direction="both")
    tag = f"line-{n}"
    sw = s.asset(s.n(f"l{n}-sw-01"), "switch", spec.switch, sup, spec.area, host=2,
                 description=f"Line {n} access switch (L2 and L1 VLANs)", tags=[tag],
                 depends_on=[dep("OT distribution", ot_core, 1)])
    uplink = [dep("Line switch", [sw])]
    plcs = [s.asset(s.n(f"l{n}-plc-01"), "plc", spec.plc, ctl, spec.area, criticality="critical",
                    description=f"Main controller of {spec.name}", tags=[tag], firmware=spec.plc_firmware,
                    depends_on=uplink)]
    hmis = s.assets(s.n(f"l{n}-hmi"), spec.hmi_count, "hmi", spec.hmi, sup, spec.area, tags=[tag],
                    depends_on=uplink)
    io = s.assets(s.n(f"l{n}-io"), spec.io_count, "io_module", spec.io, ctl, spec.area, tags=[tag],
                  depends_on=uplink)
    drives = s.assets(s.n(f"l{n}-vfd"), spec.drives, "drive", spec.drive, ctl, spec.area, tags=[tag],
                      depends_on=uplink)
    sensors: list[str] = []
    for stem, product, count in spec.sensors:
        sensors += s.assets(s.n(f"l{n}-{stem}"), count, "sensor", product, ctl, spec.area, tags=[tag],
                            depends_on=uplink)
    robots = [s.asset(s.n(f"l{n}-rob-{i:02d}"), "robot", product, ctl, spec.area, tags=[tag], depends_on=uplink)
              for i, product in enumerate(spec.robots, 1)]
    printers = s.assets(s.n(f"l{n}-prn"), spec.printers, "printer", "zebra-zt411", sup, spec.area, tags=[tag])
    safety = s.asset(s.n(f"sis-l{n}-01"), "safety_plc", spec.safety, "sis", spec.area,
                     description=f"Safety controller of {spec.name}: guard doors, light curtains, e-stops",
                     tags=[tag, "sis"], depends_on=[dep("SIS switch", [sis_switch])])

    deps = [dep("PLC", plcs), dep("Safety PLC", [safety])]
    deps.append(dep("HMI pair" if len(hmis) > 1 else "HMI", hmis, 1, "stops"))
    deps.append(dep("Remote I/O", io, len(io)))
    deps.append(dep("Drives", drives, len(drives)))
    if robots:
        deps.append(dep("Robots", robots, max(1, len(robots) - 1), "degrades", 0.5))
    if sensors:
        deps.append(dep("Field sensors", sensors, max(1, len(sensors) - 1), "degrades", 0.15))
    if printers:
        deps.append(dep("Label printers", printers, 1, "degrades", 0.25))
    deps.append(dep("SCADA servers", scada, 1, "degrades", 0.3))
    if mes:
        deps.append(dep("MES", [mes], effect="degrades", capacity_loss=0.2))
    deps += list(extra_deps)
    s.line(spec.slug, spec.name, "production_line", spec.area, downtime=spec.downtime, trucks=spec.trucks,
           perishable=spec.perishable, hours_to_spoil=spec.hours_to_spoil, safety_critical=spec.safety_critical,
           description=spec.description, depends_on=deps)
    return {"switch": sw, "plcs": plcs, "hmis": hmis, "io": io, "drives": drives, "sensors": sensors,
            "robots": robots, "printers": printers, "safety": safety, "zones": (sup, ctl)}


def add_standard_conduits(s: Site, *, historian: str, jump: str) -> None:
    """Office ↔ DMZ ↔ site operations, the usual IEC 62443 layering."""
    s.conduit("office-to-idmz", "office", "idmz", ["tcp/443", "tcp/3389"],
              f"Users to the remote-access gateway ({jump}, RDP over HTTPS) and PI Vision in the DMZ.")
    s.conduit("idmz-to-ops", "idmz", "site-ops", ["tcp/3389", "tcp/5450", "tcp/443"],
              f"Jump host to engineering workstations (RDP); DMZ PI-to-PI interface reading {historian}.")
    s.conduit("ops-to-idmz", "site-ops", "idmz", ["tcp/443", "tcp/8530", "udp/123"],
              "Patch (WSUS) and antivirus updates, time from the DMZ NTP relay.")


def add_physical_conduits(s: Site, viewer_zone: str = "office") -> None:
    s.conduit("office-to-physec", viewer_zone, "physec", ["tcp/443", "tcp/7563", "tcp/80"],
              "Smart Client operators and guards to the recording server; web access to door controllers.")
    s.conduit("physec-to-office", "physec", viewer_zone, ["udp/514", "tcp/25"],
              "Syslog from cameras and door controllers; alarm mails via the office relay.")


# ---------------------------------------------------------------------------------------------
# 10 — Headquarters, Copenhagen
# ---------------------------------------------------------------------------------------------


def build_hq() -> Site:
    s = Site(10, "hq", "hq", {
        "slug": "hq", "name": "Nordhavn Foods headquarters", "kind": "hq", "timezone": "Europe/Copenhagen",
        "address": "Sundkaj 9, 2150 Nordhavn, Copenhagen, Denmark", "latitude": 55.7107, "longitude": 12.5926,
        "description": "Group head office: corporate IT and data centre (SAP S/4HANA, central MES reporting, "
                       "Active Directory), the group Security Operations Centre, reception and access control.",
    })
    _hq_people_and_teams(s)
    s.zone("internet-dmz", "Internet DMZ", 5, 2, 5, "Mail relay and reverse proxy facing the internet.")
    s.zone("corp-lan", "Corporate LAN", 4, 1, 10, "Office desktops, laptops and printers.")
    s.zone("voice", "Voice", 4, 1, 12, "IP phones.")
    s.zone("datacentre", "Data centre", 4, 2, 20, "ERP, MES reporting, directory, file and backup servers.")
    s.zone("soc", "Security operations", 4, 3, 30, "SOC analyst workstations and the security tooling.")
    s.zone("physec", "Physical security", 3, 2, 140, "Cameras, recording, door controllers and alarm panel.")
    s.zone("mgmt", "Network management", 4, 3, 250, "Management interfaces of switches, UPS and firewalls.")
    _hq_areas(s)
    # Workforce configuration: the Danish public holidays; the server room answers to group IT
    s.calendar = {"country": "DK"}
    s.area_rules("server-room", owners=["nf-10005"])
    for area in ("reception", "garage"):
        s.area_rules(area, owners=["nf-10009"])
    fws = add_firewall_pair(s, "pa-3220", "server-room", "mgmt", "Perimeter and internal segmentation firewall")
    _hq_network_and_servers(s, fws)
    _hq_endpoints(s)
    _hq_physical(s)
    _hq_conduits(s)
    _hq_lines(s)
    _hq_ownership(s)
    s.work_order("wo-2026-0412", "Core switch upgrade to IOS XE 17.9.5", "requested", "ctr-20101", "nf-10005",
                 "2026-12-12 22:00", "2026-12-13 04:00", assets=["hq-core-sw-01", "hq-core-sw-02"])
    s.work_order("wo-2026-0398", "Replace badge readers on the SOC door", "closed", "ctr-20102", "nf-10009",
                 "2026-10-20 08:00", "2026-10-20 12:00", assets=["hq-rdr-soc-in", "hq-dc-door-02"])
    s.authorise("ctr-20102", ["soc-room"], "nf-10009", "Badge reader replacement on the SOC door",
                "2026-10-20 08:00", "2026-10-20 12:00", work_order="wo-2026-0398")
    s.authorise("ctr-20101", ["server-room"], "nf-10005", "Network maintenance (managed service contract)",
                "2026-01-01 00:00", "2026-12-31 23:59", DAY_SHIFT)
    for guard in ("grd-40101", "grd-40102"):
        s.authorise(guard, ["reception", "office-floors", "garage"], "nf-10009", "Guard rounds",
                    "2026-01-01 00:00", "2027-12-31 23:59", NIGHTS_AND_WEEKENDS)
    s.authorise("vis-30101", ["reception", "office-floors"], "nf-10009", "FSSC 22000 document audit",
                "2026-11-24 08:00", "2026-11-26 17:00", WEEKDAYS)
    for person in ("nf-10002", "nf-10003", "nf-10004", "nf-10001"):
        s.authorise(person, ["soc-room", "office-floors"], "nf-10001", "SOC staff", "2026-01-01 00:00")
    for person in ("nf-10005", "nf-10006", "nf-10007"):
        s.authorise(person, ["server-room", "office-floors"], "nf-10001", "Group IT infrastructure staff",
                    "2026-01-01 00:00")
    return s


def _hq_people_and_teams(s: Site) -> None:
    s.people(
        ("nf-10001", "employee", None, "2019-03-01", None),
        ("nf-10002", "employee", "nf-10001", "2021-08-01", None),
        ("nf-10003", "employee", "nf-10002", "2023-02-01", None),
        ("nf-10004", "employee", "nf-10002", "2024-09-01", None),
        ("nf-10005", "employee", "nf-10001", "2017-05-01", None),
        ("nf-10006", "employee", "nf-10005", "2022-01-10", None),
        ("nf-10007", "employee", "nf-10005", "2020-06-15", None),
        ("nf-10008", "employee", "nf-10001", "2023-04-01", None),
        ("nf-10009", "employee", None, "2016-10-01", None),
        ("nf-10010", "employee", "nf-10009", "2022-03-01", None),
        ("tec-50101", "technician", "nf-10009", "2021-01-04", None),
        ("grd-40101", "guard", "nf-10009", "2025-01-01", "2027-12-31"),
        ("grd-40102", "guard", "nf-10009", "2025-06-01", "2027-12-31"),
        ("ctr-20101", "contractor", "nf-10005", "2026-01-01", "2026-12-31"),
        ("ctr-20102", "contractor", "nf-10009", "2026-01-01", "2027-09-30"),
        ("vis-30101", "visitor", "nf-10009", "2026-11-24", "2026-11-26"),
    )
    s.team("group-it", "Group IT infrastructure", "it", ["nf-10005", "nf-10006", "nf-10007"], "nf-10005",
           phone="+45 3370 1900")
    s.team("group-soc", "Group Security Operations Centre", "it", ["nf-10002", "nf-10003", "nf-10004", "nf-10001"],
           "nf-10002", email=f"soc@{MAIL}", phone="+45 3370 1999")
    s.team("group-ot-security", "Group OT security architecture", "ot_engineering", ["nf-10008"], "nf-10008")
    s.team("hq-facilities", "HQ facilities", "facilities", ["nf-10009", "tec-50101"], "nf-10009")
    s.team("hq-security", "HQ reception and security", "physical_security",
           ["nf-10009", "nf-10010", "grd-40101", "grd-40102"], "nf-10009")
    s.team("vagtkorps-guards", "Vagtkorps Nord guard service", "vendor", ["grd-40101", "grd-40102"],
           "grd-40101", company="vagtkorps-nord", email="vagtcentral@vagtkorps-nord.example",
           phone="+45 7022 4000")
    s.team("sentinel-sikring", "Sentinel Sikring security-systems service", "vendor", ["ctr-20102"], "ctr-20102",
           company="sentinel-sikring", email="service@sentinel-sikring.example", phone="+45 7060 2000")
    s.team("nordic-it-partner", "Nordic IT Partner managed services", "vendor", ["ctr-20101"], "ctr-20101",
           company="nordic-it-partner", email="noc@nordic-it-partner.example", phone="+45 7010 2000")


def _hq_areas(s: Site) -> None:
    s.area("reception", "Reception and lobby", "public", description="Ground floor, visitor registration")
    s.area("office-floors", "Office floors 1-4", "controlled",
           doors=[door("hq-main-turnstiles", "Lobby turnstiles", "turnstile", "hq-acs-lp1502-01",
                       ["hq-rdr-lobby-01"])])
    s.area("server-room", "Data centre room (basement)", "high_security", "office-floors",
           doors=[door("hq-server-room-door", "Data centre door", "door", "hq-dc-door-01",
                       ["hq-rdr-dc-in"])])
    s.area("soc-room", "Security Operations Centre", "restricted", "office-floors",
           doors=[door("hq-soc-door", "SOC door", "door", "hq-dc-door-02", ["hq-rdr-soc-in"])])
    s.area("garage", "Underground garage", "controlled",
           doors=[door("hq-garage-gate", "Garage gate", "gate", "hq-gate-ctl-01", ["hq-rdr-garage"])])
    s.area("goods-entrance", "Goods entrance and post room", "controlled",
           doors=[door("hq-goods-door", "Goods entrance door", "door", "hq-dc-door-03", ["hq-rdr-goods"])])


def _hq_network_and_servers(s: Site, fws: list[str]) -> None:
    ups = s.assets("hq-ups", 2, "ups", "apc-srt6000", "mgmt", "server-room", criticality="high")
    power = dep("Data centre UPS", ups, 1)
    core = s.assets("hq-core-sw", 2, "switch", "cat9300", "mgmt", "server-room", criticality="critical",
                    description="Core switch (StackWise Virtual pair)", depends_on=[power])
    core_dep = dep("Core switches", core, 1)
    s.asset("hq-rtr-wan-01", "router", "isr4451", "mgmt", "server-room",
            description="MPLS WAN router to the plants and the distribution centre", depends_on=[core_dep])
    s.asset("hq-rtr-inet-01", "router", "isr4451", "internet-dmz", "server-room",
            description="Internet edge router", depends_on=[power])
    s.assets("hq-acc-sw", 2, "switch", "cat9300", "mgmt", "office-floors", criticality="medium",
             description="Floor access switch", depends_on=[core_dep])
    for fw in fws:
        s.add_depends(fw, core_dep, power)
    hosts = s.assets("hq-esxi", 3, "server", "r750", "datacentre", "server-room", criticality="high",
                     description="VMware vSphere cluster host", depends_on=[core_dep, power])
    cluster = dep("vSphere cluster", hosts, 2)
    vm = [cluster]
    s.asset("hq-dc-01", "domain_controller", "vm-dc", "datacentre", "server-room", depends_on=vm,
            description="Active Directory nordhavn.local, FSMO roles")
    s.asset("hq-dc-02", "domain_controller", "vm-dc", "datacentre", "server-room", depends_on=vm,
            description="Active Directory nordhavn.local")
    s.assets("hq-erp-app", 2, "server", "sap-app", "datacentre", "server-room", criticality="critical",
             description="SAP S/4HANA application server (orders, MRP, EWM)", depends_on=vm)
    s.asset("hq-erp-db-01", "server", "sap-hana", "datacentre", "server-room", criticality="critical",
            description="SAP HANA database (physical)", depends_on=[core_dep, power])
    s.asset("hq-mes-rpt-01", "scada_server", "opcenter", "datacentre", "server-room",
            model="Opcenter Intelligence 2401 (group MES reporting) on Windows Server 2022 VM",
            description="Group OEE and MES reporting fed by the plant MES servers", depends_on=vm)
    s.asset("hq-pi-ent-01", "historian", "pi-server", "datacentre", "server-room",
            description="Enterprise PI Server, fed by the plants' DMZ historians", depends_on=vm)
    s.asset("hq-fs-01", "server", "vm-win2022", "datacentre", "server-room", description="File server",
            depends_on=vm)
    s.asset("hq-wsus-01", "server", "vm-win2022", "datacentre", "server-room",
            description="WSUS upstream server for the plants' DMZ WSUS replicas", depends_on=vm)
    s.asset("hq-backup-01", "server", "veeam", "datacentre", "server-room", criticality="high",
            description="Backup server with hardened Linux repository", depends_on=[core_dep])
    s.asset("hq-siem-01", "server", "vm-linux", "soc", "server-room", criticality="high",
            model="Elastic Security 8.15 SIEM on Ubuntu Server 22.04 (VMware VM)",
            description="SIEM for the group SOC", depends_on=vm)
    s.asset("hq-linewatch-01", "server", "vm-linux", "soc", "server-room", criticality="high",
            model="Linewatch on Ubuntu Server 22.04 (VMware VM)",
            description="Cyber-physical security operations platform", depends_on=vm)
    s.asset("hq-mailrelay-01", "server", "vm-linux", "internet-dmz", "server-room",
            model="Postfix mail relay on Ubuntu Server 22.04 (VMware VM)", depends_on=vm)
    s.asset("hq-revproxy-01", "server", "vm-linux", "internet-dmz", "server-room",
            model="NGINX reverse proxy on Ubuntu Server 22.04 (VMware VM)", depends_on=vm)


def _hq_endpoints(s: Site) -> None:
    uplink = [dep("Floor access switches", ["hq-acc-sw-01", "hq-acc-sw-02"], 1)]
    s.assets("hq-ap", 4, "wireless_ap", "aruba-515", "corp-lan", "office-floors", depends_on=uplink)
    s.assets("hq-ws", 5, "workstation", "optiplex-7010", "corp-lan", "office-floors")
    s.assets("hq-lt", 3, "laptop", "latitude-5440", "corp-lan", "office-floors")
    s.asset("hq-mac-01", "laptop", "macbook-pro", "corp-lan", "office-floors")
    s.assets("hq-soc-ws", 3, "workstation", "precision-3680", "soc", "soc-room", criticality="medium")
    s.assets("hq-phone", 4, "phone", "yealink-t54w", "voice", "office-floors", depends_on=uplink)
    s.assets("hq-mfp", 2, "printer", "ricoh-imc3000", "corp-lan", "office-floors")
    s.asset("hq-boardroom-display-01", "other", "elo-kiosk", "corp-lan", "office-floors",
            model="Elo 65in interactive display (Android 12), boardroom",
            description="Meeting-room display with wireless screen sharing")


def _hq_physical(s: Site) -> None:
    z, sw_area = "physec", "server-room"
    sw = s.asset("hq-physec-sw-01", "switch", "cat9200", z, sw_area, host=2, description="PoE switch, cameras",
                 depends_on=[dep("Core switches", ["hq-core-sw-01", "hq-core-sw-02"], 1)])
    poe = [dep("PoE switch", [sw])]
    s.asset("hq-vms-mgmt-01", "vms_server", "milestone-mgmt", "datacentre", "server-room",
            description="Milestone XProtect management server for every site's recording server",
            depends_on=[dep("vSphere cluster", ["hq-esxi-01", "hq-esxi-02", "hq-esxi-03"], 2)])
    s.asset("hq-vms-rec-01", "nvr", "milestone-rec", z, "server-room", depends_on=poe)
    s.assets("hq-cam-lobby", 2, "camera", "axis-m3086", z, "reception", depends_on=poe)
    s.assets("hq-cam-ext", 2, "camera", "axis-p3265", z, "reception", depends_on=poe,
             description="Facade and entrance")
    s.assets("hq-cam-garage", 2, "camera", "bosch-flexidome", z, "garage", depends_on=poe)
    s.assets("hq-cam-dc", 1, "camera", "axis-m3086", z, "server-room", depends_on=poe)
    s.asset("hq-acs-lp1502-01", "access_controller", "mercury-lp1502", z, "server-room",
            description="Mercury controller for the lobby turnstiles, managed from Genetec Synergis")
    s.asset("hq-acs-cloudlink-01", "access_controller", "genetec-cloudlink", z, "server-room",
            description="Synergis Cloud Link: access-control gateway for HQ doors")
    s.assets("hq-dc-door", 3, "door_controller", "axis-a1601", z, "office-floors", depends_on=poe)
    s.asset("hq-gate-ctl-01", "gate_controller", "axis-a1610", z, "garage", depends_on=poe)
    for reader in ("hq-rdr-lobby-01", "hq-rdr-dc-in", "hq-rdr-soc-in",
                   "hq-rdr-garage", "hq-rdr-goods"):
        s.asset(reader, "badge_reader", "hid-signo40", z, None)
    s.asset("hq-intercom-01", "intercom", "2n-ipverso", z, "reception", description="Main entrance intercom",
            depends_on=poe)
    s.asset("hq-kiosk-01", "visitor_kiosk", "elo-kiosk", "corp-lan", "reception",
            description="Visitor self-registration and badge printing")
    s.asset("hq-alarm-01", "alarm_panel", "galaxy-dimension", z, "server-room",
            description="Intrusion alarm, monitored by the Vagtkorps alarm receiving centre")
    s.asset("hq-guardtour-01", "guard_device", "proxtour", z, "reception", description="Guard tour docking station")


def _hq_conduits(s: Site) -> None:
    s.conduit("corp-to-datacentre", "corp-lan", "datacentre",
              ["tcp/443", "tcp/445", "tcp/3200-3299", "tcp/88", "udp/88", "tcp/389", "tcp/636", "udp/53"],
              "Users to SAP (GUI and Fiori), file shares and Active Directory.")
    s.conduit("voice-to-datacentre", "voice", "datacentre", ["udp/5060", "tcp/5061", "udp/10000-20000"],
              "SIP signalling and media to the cloud PBX gateway.")
    s.conduit("soc-to-all", "soc", "datacentre", ["tcp/443", "tcp/22", "tcp/3389", "tcp/9200"],
              "SOC tooling and investigations.")
    s.conduit("datacentre-to-soc", "datacentre", "soc", ["udp/514", "tcp/6514", "tcp/5044"],
              "Logs to the SIEM (syslog, Beats).")
    s.conduit("physec-to-soc", "physec", "soc", ["udp/514", "tcp/6514"], "Camera and door-controller logs.")
    s.conduit("corp-to-physec", "corp-lan", "physec", ["tcp/443", "tcp/7563"],
              "Reception and guards to the Milestone recording server.")
    s.conduit("datacentre-to-physec", "datacentre", "physec", ["tcp/443", "tcp/7563", "tcp/3001"],
              "Milestone management server and Genetec Synergis to recording server and controllers.")
    s.conduit("internet-dmz-to-datacentre", "internet-dmz", "datacentre", ["tcp/25", "tcp/443"],
              "Mail relay to Exchange Online connector; reverse proxy to SAP Fiori.")
    s.conduit("mgmt-to-all", "mgmt", "datacentre", ["tcp/22", "tcp/443", "udp/161", "udp/162"],
              "Network management (SSH, HTTPS, SNMP).", direction="both")


def _hq_lines(s: Site) -> None:
    s.line("order-to-cash", "Order to cash (SAP S/4HANA)", "business_process", "server-room", downtime=60000,
           description="Sales orders, planning and invoicing for every site; plants buffer 8 hours of orders.",
           depends_on=[
               dep("ERP application servers", ["hq-erp-app-01", "hq-erp-app-02"], 1),
               dep("ERP database", ["hq-erp-db-01"]),
               dep("Directory", ["hq-dc-01", "hq-dc-02"], 1),
               dep("Core switches", ["hq-core-sw-01", "hq-core-sw-02"], 1),
               dep("WAN", ["hq-rtr-wan-01"], effect="degrades", capacity_loss=0.6),
               dep("Firewalls", ["hq-fw-01", "hq-fw-02"], 1),
           ])


def _hq_ownership(s: Site) -> None:
    s.own("group-it", "accountable")
    s.own("group-it", "responsible")
    s.own("group-soc", "informed")
    s.own("hq-security", "accountable", kinds=PHYSICAL_KINDS)
    s.own("sentinel-sikring", "responsible",
          kinds=("camera", "nvr", "access_controller", "door_controller", "gate_controller", "badge_reader",
                 "intercom", "alarm_panel"))
    s.own("group-it", "consulted", kinds=("camera", "nvr", "vms_server"))
    s.own("hq-facilities", "accountable", kinds=("ups",))
    s.own("nordic-it-partner", "responsible", kinds=("switch", "router", "firewall", "wireless_ap", "phone"))
    s.own("group-soc", "accountable", asset="hq-siem-01")
    s.own("group-soc", "accountable", asset="hq-linewatch-01")
    s.own("group-ot-security", "consulted", asset="hq-pi-ent-01")


# ---------------------------------------------------------------------------------------------
# 20 — Kolding dairy and chilled-foods plant
# ---------------------------------------------------------------------------------------------


def build_kolding() -> Site:
    s = Site(20, "kolding", "kol", {
        "slug": "kolding", "name": "Kolding dairy and chilled foods", "kind": "plant",
        "timezone": "Europe/Copenhagen", "address": "Mejerivej 14, 6000 Kolding, Denmark",
        "latitude": 55.4904, "longitude": 9.4722,
        "description": "Yoghurt, milk and chilled desserts: four lines, an ammonia-refrigerated cold store "
                       "holding about EUR 1.2M of chilled stock, and six truck docks.",
    })
    _kolding_people_and_teams(s)
    s.zone("office", "Plant office network", 4, 1, 10, "Offices, gatehouse, dispatch desk and Wi-Fi.")
    s.zone("logistics-wlan", "Dispatch Wi-Fi", 4, 1, 14, "Handhelds and mobile printers at the docks.")
    s.zone("idmz", "Industrial DMZ", 3.5, 3, 50, "Remote-access gateway, DMZ historian, patch relay.")
    s.zone("site-ops", "Site operations (L3)", 3, 2, 60,
           "SCADA, MES, historian, OT domain and engineering workstations.")
    s.zone("sis", "Safety instrumented systems", 1, 3, 120, "Safety PLCs of the lines and the ammonia plant.")
    s.zone("bms", "Refrigeration, BMS and utilities", 2, 2, 130,
           "Danfoss cold-store controls, ammonia compressor PLC, Desigo BMS, wastewater RTU.")
    s.zone("physec", "Physical security", 3, 2, 140, "Cameras, recording server, door and gate controllers.")
    _kolding_areas(s)
    # Workforce configuration: Danish holidays; the ammonia machine room wants site induction and
    # LOTO of everyone (the contractors' LOTO lapsed, see workforce/demo.py) and is the maintenance
    # manager's; the cold store is the refrigeration engineer's, the yard and gatehouse security's
    s.calendar = {"country": "DK"}
    s.area_rules("ammonia-machine-room", requires=["site_induction", "loto"], owners=["nf-20005"])
    s.area_rules("cold-store", owners=["nf-20006"])
    for area in ("gatehouse", "truck-yard", "dispatch-hall"):
        s.area_rules(area, owners=["nf-20007"])
    core = _plant_core(s, "server-room", "control-room", "electrical-room")
    ops = _plant_site_ops(s, core, scada_product="wincc", has_mes=True, ews_products=("precision-3660",
                                                                                       "precision-7680"))
    sis_sw = s.asset("kol-sis-sw-01", "switch", "scalance-xc208", "sis", "electrical-room", host=2,
                     description="Safety network switch", depends_on=[dep("OT distribution", core["ot"], 1)])
    lines = _kolding_lines(s, ops, core["ot"], sis_sw)
    _kolding_cold_chain(s, core, ops)
    fws = add_firewall_pair(s, "fg-200f", "server-room", "site-ops", "OT segmentation firewall")
    for fw in fws:
        s.add_depends(fw, dep("Core switches", core["core"], 1))
    add_office(s, "admin-building", workstations=6, laptops=3, phones=4, printers=1, aps=3,
               ap_area="dispatch-hall")
    _kolding_dispatch(s)
    _kolding_physical(s)
    add_standard_conduits(s, historian="kol-pi-01", jump="kol-jump-01")
    add_physical_conduits(s)
    s.conduit("ops-to-bms", "site-ops", "bms", ["tcp/502", "udp/47808", "tcp/443", "tcp/102", "tcp/4840"],
              "SCADA and Desigo CC to the Danfoss system manager (Modbus, HTTPS), the ammonia PLC (S7) "
              "and the BMS (BACnet/IP).")
    s.conduit("bms-to-sis", "bms", "sis", ["udp/34964", "tcp/102"],
              "Ammonia compressor PLC to the Triconex ESD controller.", direction="both")
    s.conduit("wlan-to-office", "logistics-wlan", "office", ["tcp/443", "tcp/9100"],
              "Handhelds to the dock scheduling server; printing to dispatch label printers.")
    _kolding_service_conduits(s, lines)
    # FLAW 1 — a segmentation hole: the office reaches line 2's controllers directly, bypassing the DMZ.
    s.conduit("office-to-line2-plc", "office", "line2-control", ["tcp/44818", "udp/2222"],
              "Temporary rule for the 2025 OEE dashboard pilot (an Excel add-in reading tags from the line 2 "
              "ControlLogix over EtherNet/IP). Never removed.")
    _kolding_ownership(s, lines)
    _kolding_work(s)
    return s


def _kolding_service_conduits(s: Site, lines: dict[str, dict]) -> None:
    """Time, logs and monitoring: what every zone's devices need from the plant's services, declared so that the
    demo capture's management traffic conforms (kol-fw-01.rules chain SITE-SERVICES allows it host by host).
    OT side: NTP from kol-ot-dc-01, switch syslog to kol-backup-ot-01, SNMP from kol-ot-dc-01 (never into the SIS
    zone: nothing in site operations opens a session to the safety network). IT side (office, Wi-Fi, physical
    security): time from the WAN router, syslog to the DMZ relay kol-wsus-01. A zone pair that already has a
    conduit gets the services added to it, so the conduits' names (shown on attack paths) stay as they were."""
    for key in sorted(lines):
        sup, ctl = lines[key]["zones"]
        n = key[1:]
        s.conduit(f"{sup}-to-ops-services", sup, "site-ops", ["udp/123", "udp/514"],
                  "Time from the OT domain controller; the line switch's syslog to the collector.")
        s.conduit(f"{ctl}-to-ops-services", ctl, "site-ops", ["udp/123"], "Time from the OT domain controller.")
        if key == "l2":  # Allen-Bradley: the engineering workstations browse it with ListIdentity over UDP
            s.extend_conduit(f"ops-to-line{n}-supervisory", ["udp/161", "udp/44818"],
                             "SNMP monitoring of the line switch; EtherNet/IP ListIdentity from the EWS.")
            s.extend_conduit(f"ops-to-line{n}-control", ["udp/44818"], "EtherNet/IP ListIdentity from the EWS.")
        else:
            s.extend_conduit(f"ops-to-line{n}-supervisory", ["udp/161"], "SNMP monitoring of the line switch.")
    s.conduit("sis-to-ops-services", "sis", "site-ops", ["udp/123", "udp/514"],
              "Time for the safety controllers' event records; the safety switch's syslog. Nothing else.")
    s.conduit("bms-to-ops-services", "bms", "site-ops", ["udp/123", "udp/514"],
              "Time from the OT domain controller; the cold-store switch's syslog.")
    s.extend_conduit("ops-to-bms", ["tcp/80", "udp/161"],
                     "Desigo CC reads the AK-SM 800's XML interface over HTTP; SNMP monitoring of the switch and UPS.")
    s.extend_conduit("wlan-to-office", ["udp/123"], "Time from the WAN router.")
    s.extend_conduit("physec-to-office", ["udp/123"], "Time from the WAN router.")
    s.extend_conduit("office-to-idmz", ["udp/514"], "Office network gear's syslog to the DMZ relay.")
    s.conduit("physec-logs-to-idmz", "physec", "idmz", ["udp/514"],
              "Physical-security switches and recording server: syslog to the DMZ relay.")


def _kolding_people_and_teams(s: Site) -> None:
    s.people(
        ("nf-20001", "employee", None, "2015-08-01", None),
        ("nf-20002", "employee", "nf-20001", "2019-02-01", None),
        ("nf-20003", "employee", "nf-20002", "2021-09-01", None),
        ("nf-20004", "employee", "nf-20002", "2024-03-01", None),
        ("nf-20005", "employee", "nf-20001", "2012-04-01", None),
        ("nf-20006", "employee", "nf-20005", "2018-11-01", None),
        ("nf-20007", "employee", "nf-20001", "2020-01-15", None),
        ("nf-20008", "employee", "nf-20001", "2017-06-01", None),
        ("nf-20009", "employee", "nf-20001", "2016-09-01", None),
        ("nf-20010", "employee", "nf-20001", "2022-05-01", None),
        ("tec-50201", "technician", "nf-20005", "2019-08-01", None),
        ("tec-50202", "technician", "nf-20006", "2026-01-01", "2026-12-31"),
        ("ctr-20201", "contractor", "nf-20002", "2026-01-01", "2026-12-31"),
        ("ctr-20202", "contractor", "nf-20002", "2026-01-01", "2026-12-31"),
        # FLAW 4 (part): the refrigeration contractor's affiliation runs until mid-2027.
        ("ctr-20203", "contractor", "nf-20005", "2026-03-01", "2027-06-30"),
        ("ctr-20204", "contractor", "nf-20007", "2026-01-01", "2027-09-30"),
        ("grd-40201", "guard", "nf-20007", "2025-01-01", "2027-12-31"),
        ("grd-40202", "guard", "nf-20007", "2025-01-01", "2027-12-31"),
        ("vis-30201", "visitor", "nf-20009", "2026-11-23", "2026-11-27"),
        ("vis-30202", "visitor", "nf-20009", "2026-10-12", "2026-10-12"),
    )
    s.team("kol-management", "Kolding plant management", "management", ["nf-20001", "nf-20008"], "nf-20001")
    s.team("kol-ot-eng", "Kolding OT engineering", "ot_engineering", ["nf-20002", "nf-20003", "nf-20004"],
           "nf-20002", phone="+45 7630 2900")
    s.team("kol-maintenance", "Kolding maintenance and refrigeration", "facilities",
           ["nf-20005", "nf-20006", "tec-50201"], "nf-20005", phone="+45 7630 2950")
    s.team("kol-security", "Kolding site security", "physical_security", ["nf-20007", "grd-40201", "grd-40202"],
           "nf-20007", phone="+45 7630 2999")
    s.team("baltic-automation", "Baltic Automation (Siemens and Rockwell integrator)", "vendor",
           ["ctr-20201", "ctr-20202"], "ctr-20201", company="baltic-automation",
           email="service@baltic-automation.example", phone="+49 461 5550 200")
    s.team("koeltek-service", "KølTek refrigeration service", "vendor", ["ctr-20203", "tec-50202"], "ctr-20203",
           company="koeltek", email="vagt@koeltek.example", phone="+45 7555 5200")


def _kolding_areas(s: Site) -> None:
    s.area("site-grounds", "Site grounds", "public", description="Visitor car park and approach road")
    s.area("reception", "Reception", "public", "admin-building")
    s.area("admin-building", "Administration building", "controlled",
           doors=[door("kol-admin-entrance", "Administration entrance", "door", "kol-acs-lp1502-01",
                       ["kol-rdr-admin-in"])])
    s.area("server-room", "Server room", "high_security", "admin-building",
           doors=[door("kol-server-room-door", "Server room door", "door", "kol-door-ctl-01",
                       ["kol-rdr-server-in"])])
    s.area("production-hall", "Production hall", "controlled",
           description="Hygiene zone: entry only through the changing rooms",
           doors=[door("kol-hygiene-turnstile", "Hygiene lock turnstile", "turnstile", "kol-acs-lp1502-01",
                       ["kol-rdr-hygiene-01"])])
    s.area("filling-hall", "Filling hall (lines 1 and 2)", "controlled", "production-hall")
    s.area("hotfill-hall", "Hot-fill hall (line 3)", "controlled", "production-hall")
    s.area("packing-hall", "End-of-line packing and palletising (line 4)", "controlled", "production-hall")
    s.area("control-room", "Control room", "restricted", "production-hall",
           doors=[door("kol-control-room-door", "Control room door", "door", "kol-door-ctl-02",
                       ["kol-rdr-control-in"])])
    s.area("electrical-room", "Main electrical room", "restricted", "production-hall",
           doors=[door("kol-electrical-door", "Electrical room door", "door", "kol-door-ctl-02",
                       ["kol-rdr-electrical-in"])])
    s.area("ammonia-machine-room", "Ammonia machine room", "high_security",
           description="NH3 compressors, 2.4 t charge; gas detection and ESD",
           doors=[door("kol-ammonia-door", "Machine room door", "door", "kol-door-ctl-03",
                       ["kol-rdr-ammonia-in"])])
    s.area("cold-store", "Chilled store (+2 °C)", "restricted",
           doors=[door("kol-cold-store-door", "Cold store personnel door", "door", "kol-door-ctl-03",
                       ["kol-rdr-coldstore-in"])])
    s.area("dispatch-hall", "Dispatch hall", "controlled",
           doors=[door(f"kol-dock-{i:02d}", f"Dock {i}", "dock_door", f"kol-dock-ctl-{i:02d}")
                  for i in range(1, 7)])
    s.area("truck-yard", "Truck yard", "controlled", "site-grounds",
           doors=[door("kol-yard-gate", "Truck gate", "gate", "kol-gate-ctl-01", ["kol-rdr-gate-01"]),
                  door("kol-yard-barrier", "Exit barrier", "barrier", "kol-gate-ctl-02")])
    s.area("gatehouse", "Gatehouse and weighbridge", "controlled", "site-grounds")
    s.area("wastewater-plant", "Wastewater pre-treatment", "restricted", "site-grounds")


def _plant_core(s: Site, server_area: str, control_area: str, electrical_area: str) -> dict[str, list[str]]:
    """UPS, core switches, OT distribution switches and the WAN router of a plant."""
    p = s.prefix
    ups = [s.asset(f"{p}-ups-srv-01", "ups", "apc-srt3000", "site-ops", server_area, criticality="high"),
           s.asset(f"{p}-ups-ctl-01", "ups", "apc-srt3000", "site-ops", control_area, criticality="high")]
    core = s.assets(f"{p}-core-sw", 2, "switch", "cat9300", "site-ops", server_area, criticality="critical",
                    description="Core switch pair (office, DMZ and L3 VLANs)",
                    depends_on=[dep("Server room UPS", [ups[0]])])
    ot = s.assets(f"{p}-ot-sw", 2, "switch", "ie4010", "site-ops", electrical_area, criticality="critical",
                  description="OT distribution switch pair (ring to the line switches)",
                  depends_on=[dep("Control room UPS", [ups[1]]), dep("Core switches", core, 1)])
    s.asset(f"{p}-rtr-wan-01", "router", "isr4331", "office", server_area, host=254,
            description="MPLS WAN router to headquarters", depends_on=[dep("Core switches", core, 1)])
    return {"ups": ups, "core": core, "ot": ot}


def _plant_site_ops(s: Site, core: dict[str, list[str]], *, scada_product: str, has_mes: bool,
                    ews_products: tuple[str, ...]) -> dict[str, Any]:
    """Level 3 and the DMZ: virtualisation, SCADA, MES, historian, OT directory, EWS, jump host."""
    p = s.prefix
    hosts = s.assets(f"{p}-esxi-ot", 2, "server", "r650", "site-ops", "server-room", criticality="high",
                     description="OT vSphere host", depends_on=[dep("OT distribution", core["ot"], 1)])
    vm = [dep("OT vSphere cluster", hosts, 1)]
    scada = s.assets(f"{p}-scada", 2, "scada_server", scada_product, "site-ops", "server-room",
                     description="Redundant SCADA server pair", depends_on=vm)
    mes = None
    if has_mes:
        mes = s.asset(f"{p}-mes-01", "scada_server", "opcenter", "site-ops", "server-room",
                      description="MES: orders from SAP, recipes, batch genealogy, OEE", depends_on=vm)
    historian = s.asset(f"{p}-pi-01", "historian", "pi-server", "site-ops", "server-room", depends_on=vm,
                        description="Site process historian")
    s.asset(f"{p}-opc-01", "server", "kepware", "site-ops", "server-room", depends_on=vm,
            description="OPC UA gateway between the lines and SCADA/MES")
    dcs = s.assets(f"{p}-ot-dc", 2, "domain_controller", "vm-dc", "site-ops", "server-room", depends_on=vm,
                   description=f"OT Active Directory ({s.slug}-ot.local)")
    ews = [s.asset(f"{p}-ews-{i:02d}", "engineering_workstation", product, "site-ops", "control-room",
                   description="Engineering workstation: TIA Portal V18, Studio 5000 v33, Unity Pro")
           for i, product in enumerate(ews_products, 1)]
    s.asset(f"{p}-backup-ot-01", "server", "veeam", "site-ops", "server-room",
            description="OT backup (PLC projects, VM images), offline copy weekly")
    dmz_host = s.asset(f"{p}-esxi-dmz-01", "server", "r650", "idmz", "server-room",
                       description="DMZ vSphere host", depends_on=[dep("Core switches", core["core"], 1)])
    dmz = [dep("DMZ host", [dmz_host])]
    jump = s.asset(f"{p}-jump-01", "jump_host", "vm-rdg", "idmz", "server-room", depends_on=dmz,
                   tags=["remote-access"],
                   description="Remote-access gateway for staff and vendors (MFA, session recording)")
    s.asset(f"{p}-pi-dmz-01", "historian", "pi-server", "idmz", "server-room", depends_on=dmz,
            description="DMZ historian (PI-to-PI replica) read by HQ and the office")
    s.asset(f"{p}-wsus-01", "server", "vm-win2022", "idmz", "server-room", depends_on=dmz,
            description="WSUS and antivirus relay for the OT network")
    return {"scada": scada, "mes": mes, "historian": historian, "dcs": dcs, "ews": ews, "jump": jump,
            "hosts": hosts}


def _kolding_lines(s: Site, ops: dict[str, Any], ot: list[str], sis_sw: str) -> dict[str, dict]:
    common = {"scada": ops["scada"], "mes": ops["mes"], "ot_core": ot, "sis_switch": sis_sw}
    lines = {}
    lines["l1"] = add_production_line(s, LineSpec(
        1, "l1-cup-filling", "Line 1 – Yoghurt cup filling and sealing", "filling-hall",
        plc="s7-1516", hmi="tp1200", safety="s7-1516f", io="et200sp", io_count=2, drive="sew-movidrive",
        drives=3, sensors=(("flow", "eh-promag", 1), ("iolink", "ifm-al1300", 1)), printers=1,
        control_services=["tcp/102", "udp/34964", "tcp/4840"], safety_services=["udp/34964"],
        downtime=42000, trucks=6, description="Form-fill-seal cups, 24,000 cups/h; chilled product"), **common)
    lines["l2"] = add_production_line(s, LineSpec(
        2, "l2-pet-bottling", "Line 2 – Milk PET bottling", "filling-hall",
        plc="controllogix", hmi="panelview7", safety="guardlogix", io="point-io", io_count=2,
        drive="sew-movidrive", drives=3, sensors=(("flow", "eh-promag", 2),), printers=1,
        control_services=["tcp/44818", "udp/2222"], safety_services=["tcp/44818", "udp/2222"],
        downtime=85000, trucks=9, description="Aseptic PET filling, 18,000 bottles/h; the plant's biggest earner"),
        **common)
    lines["l3"] = add_production_line(s, LineSpec(
        3, "l3-hot-fill", "Line 3 – Dessert and sauce hot fill", "hotfill-hall",
        plc="m580", hmi="harmony-gtu", safety="himax", io="x80-cra", io_count=1, drive="sew-movimot", drives=2,
        sensors=(("flow", "eh-promag", 1),), control_services=["tcp/502", "tcp/44818"],
        safety_services=["tcp/502", "udp/8000"], downtime=28000, trucks=4, safety_critical=True,
        description="Hot fill at 85 °C with steam pasteuriser; burns and steam release are the safety case"),
        **common)
    lines["l4"] = add_production_line(s, LineSpec(
        4, "l4-palletising", "Line 4 – Case packing and palletising", "packing-hall",
        plc="s7-1215", hmi="ktp700", hmi_count=1, safety="s7-1516f", io="et200sp", io_count=2,
        drive="sinamics-g120", drives=2, robots=("kuka-kr180", "fanuc-m410", "abb-irb660"), printers=1,
        sensors=(("scanner", "sick-lector", 1),),
        control_services=["tcp/102", "udp/34964", "tcp/44818"], safety_services=["udp/34964"],
        downtime=18000, trucks=14, description="Shared end-of-line for lines 1-3: case packer, three robot "
                                               "palletisers, stretch wrapper, pallet labels"), **common)
    return lines


def _kolding_cold_chain(s: Site, core: dict[str, list[str]], ops: dict[str, Any]) -> None:
    z, room, store = "bms", "ammonia-machine-room", "cold-store"
    ups = s.asset("kol-ups-cs-01", "ups", "apc-srt3000", z, room, criticality="high")
    sw = s.asset("kol-cs-sw-01", "switch", "ie3400", z, room, host=2, description="Refrigeration and BMS switch",
                 depends_on=[dep("OT distribution", core["ot"], 1), dep("UPS", [ups])])
    uplink = [dep("Refrigeration switch", [sw])]
    aksm = s.asset("kol-cs-aksm-01", "bms_controller", "danfoss-aksm800", z, room, criticality="critical",
                   tags=["cold-chain"], depends_on=uplink,
                   description="Refrigeration system manager: setpoints, alarms and logging for every "
                               "cold-store room and both compressor packs")
    packs = s.assets("kol-cs-akpc", 2, "bms_controller", "danfoss-akpc781", z, room, tags=["cold-chain"],
                     description="Pack controller on the AK-SM 800 Modbus RS-485 bus")
    coolers = s.assets("kol-cs-akcc", 4, "bms_controller", "danfoss-akcc55", z, store, tags=["cold-chain"],
                       description="Air cooler controller (RS-485 to the system manager)")
    nh3_plc = s.asset("kol-nh3-plc-01", "plc", "s7-1516", z, room, criticality="critical",
                      tags=["cold-chain", "ammonia"], depends_on=uplink,
                      description="Ammonia compressor sequencing (screw compressors C1-C3)")
    vfds = s.assets("kol-nh3-vfd", 2, "drive", "danfoss-fc302", z, room, tags=["ammonia"], depends_on=uplink,
                    description="Compressor motor drive, 250 kW")
    gas = s.asset("kol-nh3-gas-01", "sensor", "draeger-regard", z, room, criticality="critical",
                  tags=["ammonia", "safety"], depends_on=uplink,
                  description="Ammonia gas detection controller (8 detectors), trips the ESD at 500 ppm")
    esd = s.asset("kol-sis-nh3-01", "safety_plc", "tricon-cx", "sis", room, tags=["ammonia", "sis"],
                  description="Ammonia plant emergency shutdown (ESD) and ventilation interlocks",
                  depends_on=[dep("SIS switch", ["kol-sis-sw-01"])])
    temps = s.assets("kol-cs-temp", 3, "sensor", "vaisala-indigo", z, store, tags=["cold-chain"],
                     depends_on=uplink, description="Room temperature and humidity for HACCP records")
    pxc = s.assets("kol-bms-pxc", 2, "bms_controller", "desigo-pxc7", z, "electrical-room", depends_on=uplink,
                   description="HVAC, ventilation and door heaters")
    bms = s.asset("kol-bms-cc-01", "scada_server", "desigo-cc", "site-ops", "server-room",
                  depends_on=[dep("OT vSphere cluster", ops["hosts"], 1)],
                  description="Building management server (Desigo CC)")
    s.asset("kol-ww-rtu-01", "rtu", "scadapack-470", z, "wastewater-plant", depends_on=uplink,
            description="Wastewater pre-treatment: pH dosing and pump station, DNP3 to SCADA")
    s.line("cold-chain", "Cold chain – chilled store and ammonia refrigeration", "business_process", store,
           downtime=15000, trucks=22, perishable=1200000, hours_to_spoil=6, safety_critical=True,
           description="Chilled store at +2 °C for finished goods awaiting dispatch. Without refrigeration the "
                       "store passes +5 °C in about 6 hours and the stock must be destroyed.",
           depends_on=[
               dep("Refrigeration system manager", [aksm]),
               dep("Pack controllers", packs, 1),
               dep("Ammonia compressor control", [nh3_plc]),
               dep("Ammonia ESD", [esd]),
               dep("Ammonia gas detection", [gas]),
               dep("Compressor drives", vfds, 1, "degrades", 0.5),
               dep("Air coolers", coolers, 3, "degrades", 0.25),
               dep("BMS", [bms, *pxc], 2, "degrades", 0.1),
               dep("Temperature monitoring", temps, 2, "degrades", 0.05),
           ])


def _kolding_dispatch(s: Site) -> None:
    uplink = [dep("Office access switches", ["kol-office-sw-01", "kol-office-sw-02"], 1)]
    docks = [s.asset(f"kol-dock-ctl-{i:02d}", "gate_controller", "hoermann-dock", "office", "dispatch-hall",
                     description=f"Dock {i} door, leveller and seal controller", depends_on=uplink)
             for i in range(1, 7)]
    hh = s.assets("kol-hh", 3, "handheld", "zebra-tc52", "logistics-wlan", "dispatch-hall")
    prn = s.assets("kol-dispatch-prn", 2, "printer", "zebra-zt411", "office", "dispatch-hall",
                   description="SSCC pallet label printer")
    s.assets("kol-mprn", 1, "printer", "zebra-zq630", "logistics-wlan", "dispatch-hall")
    weigh = s.asset("kol-weighbridge-01", "other", "mettler-ind780", "office", "gatehouse",
                    description="Truck weighbridge terminal")
    sched = s.asset("kol-dock-sched-01", "server", "vm-win2022", "office", "server-room",
                    model="Dock scheduling (in-house .NET) on Windows Server 2022 VM",
                    description="Dock booking and truck check-in")
    s.line("dispatch", "Truck dispatch and docks", "business_process", "dispatch-hall", downtime=9000, trucks=36,
           description="Six chilled docks; 36 trucks a day in and out, slots of 45 minutes.",
           depends_on=[
               dep("Dock door controllers", docks, 4, "degrades", 0.35),
               dep("Truck gate", ["kol-gate-ctl-01"], effect="degrades", capacity_loss=0.5),
               dep("Handhelds", hh, 2, "degrades", 0.3),
               dep("Pallet label printers", prn, 1),
               dep("Weighbridge", [weigh], effect="degrades", capacity_loss=0.2),
               dep("Dock scheduling", [sched], effect="degrades", capacity_loss=0.25),
           ])


def _kolding_physical(s: Site) -> None:
    z = "physec"
    sw = s.assets("kol-physec-sw", 2, "switch", "cat9200", z, "server-room", description="PoE switch, cameras",
                  depends_on=[dep("Core switches", ["kol-core-sw-01", "kol-core-sw-02"], 1)])
    poe1, poe2 = [dep("PoE switch", [sw[0]])], [dep("PoE switch", [sw[1]])]
    s.asset("kol-vms-rec-01", "nvr", "milestone-rec", z, "server-room",
            description="Milestone recording server, 30 days retention",
            depends_on=[dep("PoE switches", sw, 1), dep("UPS", ["kol-ups-srv-01"])])
    s.assets("kol-cam-prod", 4, "camera", "axis-p3265", z, "production-hall", depends_on=poe1,
             description="Production hall overview")
    s.assets("kol-cam-fence", 1, "camera", "axis-q6135", z, "site-grounds", depends_on=poe1,
             description="Perimeter PTZ")
    s.assets("kol-cam-nh3", 1, "camera", "axis-p3265", z, "ammonia-machine-room", depends_on=poe1)
    s.assets("kol-cam-gate", 2, "camera", "hanwha-xno6080r", z, "truck-yard", depends_on=poe2,
             description="Truck gate, licence plates")
    s.assets("kol-cam-dock", 2, "camera", "hik-2143g2", z, "dispatch-hall", depends_on=poe2)
    # FLAW 2 — a camera with a known-exploited vulnerability (CVE-2021-36260, on CISA KEV): an old
    # Hikvision dome left on a 2017 firmware when the dock cameras were replaced.
    s.asset("kol-cam-dock-03", "camera", "hik-2142fwd", z, "dispatch-hall", depends_on=poe2,
            serial="DS-2CD2142FWD-I20180306AAWRC52416387",
            description="Dock 6 camera, kept from the 2018 installation when docks 1-5 got new cameras")
    s.asset("kol-acs-lp1502-01", "access_controller", "mercury-lp1502", z, "server-room",
            description="Access controller (MR52 door modules) for the admin entrance and hygiene turnstiles")
    for i, area in ((1, "server-room"), (2, "control-room"), (3, "ammonia-machine-room")):
        s.asset(f"kol-door-ctl-{i:02d}", "door_controller", "axis-a1601", z, area, depends_on=poe1)
    s.asset("kol-gate-ctl-01", "gate_controller", "axis-a1610", z, "truck-yard", depends_on=poe2,
            description="Truck gate (sliding gate and licence-plate release)")
    s.asset("kol-gate-ctl-02", "gate_controller", "axis-a1610", z, "truck-yard", depends_on=poe2,
            description="Exit barrier")
    for reader, product in (("kol-rdr-admin-in", "hid-signo40"), ("kol-rdr-server-in", "hid-signo40"),
                            ("kol-rdr-hygiene-01", "hid-signo40"),
                            ("kol-rdr-control-in", "hid-signo40"),
                            ("kol-rdr-electrical-in", "hid-signo40"), ("kol-rdr-ammonia-in", "hid-signo40"),
                            ("kol-rdr-coldstore-in", "hid-signo40"),
                            ("kol-rdr-gate-01", "hid-signo40")):
        s.asset(reader, "badge_reader", product, z, None)
    s.asset("kol-intercom-gate-01", "intercom", "2n-ipforce", z, "truck-yard", depends_on=poe2,
            description="Truck gate intercom to the gatehouse")
    s.asset("kol-intercom-rec-01", "intercom", "2n-ipverso", z, "reception", depends_on=poe1)
    s.asset("kol-kiosk-01", "visitor_kiosk", "elo-kiosk", "office", "reception",
            description="Visitor registration and safety induction video")
    s.asset("kol-alarm-01", "alarm_panel", "galaxy-dimension", z, "admin-building")
    s.asset("kol-guardtour-01", "guard_device", "proxtour", z, "gatehouse")


def _kolding_ownership(s: Site, lines: dict[str, dict]) -> None:
    s.own("kol-management", "accountable")
    s.own("group-it", "responsible")
    s.own("group-soc", "informed")
    s.own("kol-ot-eng", "accountable", kinds=("plc", "safety_plc", "hmi", "io_module", "drive", "robot",
                                               "sensor", "engineering_workstation", "scada_server", "historian",
                                               "jump_host", "rtu"))
    s.own("kol-ot-eng", "responsible", kinds=("plc", "safety_plc", "hmi", "engineering_workstation",
                                               "scada_server", "historian", "jump_host"))
    s.own("kol-maintenance", "responsible", kinds=("drive", "robot", "sensor", "io_module", "rtu"))
    s.own("baltic-automation", "consulted", kinds=("plc", "safety_plc", "hmi"))
    s.own("group-ot-security", "consulted", kinds=("jump_host", "engineering_workstation"))
    s.own("kol-maintenance", "accountable", kinds=("bms_controller", "ups", "gate_controller", "other"))
    s.own("koeltek-service", "responsible", kinds=("bms_controller",))
    s.own("kol-security", "accountable", kinds=("camera", "nvr", "access_controller", "door_controller",
                                                 "badge_reader", "intercom", "visitor_kiosk", "alarm_panel",
                                                 "guard_device"))
    s.own("sentinel-sikring", "responsible", kinds=("camera", "nvr", "access_controller", "door_controller",
                                                     "badge_reader", "intercom", "alarm_panel"))
    s.own("group-it", "consulted", kinds=("camera", "nvr"))
    s.own("group-it", "accountable", kinds=("switch", "router", "firewall", "wireless_ap", "server",
                                             "domain_controller", "workstation", "laptop", "printer", "handheld",
                                             "phone"))
    # FLAW 3 (part) — conflicting owners: OT engineering and maintenance both claim the cold-store
    # system manager.
    s.own("kol-ot-eng", "accountable", asset="kol-cs-aksm-01")
    s.own("kol-maintenance", "accountable", asset="kol-cs-aksm-01")
    s.own("baltic-automation", "responsible", asset=lines["l2"]["plcs"][0])


def _kolding_work(s: Site) -> None:
    # FLAW 4 — the compressor overhaul ended on 16 October, the work order is closed, but the
    # contractor's access to the ammonia machine room runs to the end of the year.
    s.work_order("wo-2026-1187", "Ammonia compressor C2 overhaul and FC 302 drive replacement", "closed",
                 "ctr-20203", "nf-20005", "2026-10-05 07:00", "2026-10-16 16:00", line="cold-chain",
                 assets=["kol-nh3-plc-01", "kol-nh3-vfd-02"])
    s.authorise("ctr-20203", ["ammonia-machine-room"], "nf-20005", "Compressor C2 overhaul (wo-2026-1187)",
                "2026-10-05 07:00", "2026-12-31 18:00", DAY_SHIFT, work_order="wo-2026-1187")
    s.work_order("wo-2026-1150", "Replace ET 200SP interface module on line 1", "closed", "tec-50201",
                 "nf-20002", "2026-09-22 06:00", "2026-09-22 14:00", line="l1-cup-filling",
                 assets=["kol-l1-io-02"])
    s.authorise("tec-50201", ["filling-hall", "control-room", "electrical-room"], "nf-20005",
                "Maintenance technician", "2026-01-01 00:00", None, DAY_SHIFT)
    s.work_order("wo-2026-1042", "Line 2 ControlLogix and GuardLogix firmware upgrade (v33.011 to v35.013)",
                 "approved", "ctr-20202", "nf-20002", "2026-12-07 06:00", "2026-12-09 18:00",
                 line="l2-pet-bottling", assets=["kol-l2-plc-01", "kol-sis-l2-01"])
    s.authorise("ctr-20202", ["filling-hall", "control-room"], "nf-20002", "Line 2 firmware upgrade",
                "2026-12-07 06:00", "2026-12-09 18:00", work_order="wo-2026-1042")
    s.work_order("wo-2026-1203", "Line 1 recipe changes for the 2027 product range", "in_progress", "ctr-20201",
                 "nf-20002", "2026-11-23 07:00", "2026-11-27 16:00", line="l1-cup-filling",
                 assets=["kol-l1-plc-01", "kol-l1-hmi-01", "kol-l1-hmi-02"])
    s.authorise("ctr-20201", ["filling-hall", "control-room"], "nf-20002", "Line 1 recipe changes",
                "2026-11-23 07:00", "2026-11-27 16:00", DAY_SHIFT, work_order="wo-2026-1203")
    s.work_order("wo-2026-1221", "Annual service of dock and gate cameras", "requested", "ctr-20204", "nf-20007",
                 "2026-12-14 08:00", "2026-12-15 16:00",
                 assets=["kol-cam-dock-01", "kol-cam-dock-02", "kol-cam-gate-01", "kol-cam-gate-02"])
    s.work_order("wo-2026-1176", "Quarterly leak test, cold store air coolers", "closed", "tec-50202", "nf-20006",
                 "2026-10-01 07:00", "2026-10-01 15:00", line="cold-chain", assets=["kol-cs-akcc-01"])
    s.authorise("tec-50202", ["cold-store"], "nf-20006", "Quarterly leak test", "2026-10-01 07:00",
                "2026-10-01 15:00", work_order="wo-2026-1176")
    for person in ("nf-20002", "nf-20003", "nf-20004"):
        s.authorise(person, ["control-room", "electrical-room", "server-room", "production-hall"], "nf-20001",
                    "OT engineering staff", "2026-01-01 00:00")
    for person in ("nf-20005", "nf-20006"):
        s.authorise(person, ["ammonia-machine-room", "cold-store", "electrical-room", "production-hall"],
                    "nf-20001", "Maintenance and refrigeration staff", "2026-01-01 00:00")
    for guard in ("grd-40201", "grd-40202"):
        s.authorise(guard, ["admin-building", "production-hall", "dispatch-hall", "truck-yard", "gatehouse"],
                    "nf-20007", "Guard rounds", "2026-01-01 00:00", "2027-12-31 23:59", EVERY_DAY)
    s.authorise("vis-30201", ["reception", "admin-building", "production-hall"], "nf-20009", "BRCGS audit",
                "2026-11-23 08:00", "2026-11-27 17:00", WEEKDAYS)
    s.authorise("vis-30202", ["reception", "production-hall"], "nf-20009", "Customer supplier audit",
                "2026-10-12 08:00", "2026-10-12 17:00")


# ---------------------------------------------------------------------------------------------
# 30 — Rendsburg packaging plant
# ---------------------------------------------------------------------------------------------

# FLAW 3 — at Rendsburg no team is accountable site-wide and nobody took these kinds on, so the
# plant's intercoms and visitor kiosk resolve to no accountable owner.
RENDSBURG_UNOWNED_KINDS = ("intercom", "visitor_kiosk")


def build_rendsburg() -> Site:
    s = Site(30, "rendsburg", "ren", {
        "slug": "rendsburg", "name": "Rendsburg packaging plant", "kind": "plant", "timezone": "Europe/Berlin",
        "address": "Am Kreishafen 21, 24768 Rendsburg, Germany", "latitude": 54.3044, "longitude": 9.6617,
        "description": "Makes the group's own packaging: blown PE film, flexo-printed laminates and folding "
                       "cartons, shipped to Kolding and to co-packers.",
    })
    _rendsburg_people_and_teams(s)
    s.zone("office", "Plant office network", 4, 1, 10, "Offices, Wi-Fi, phones.")
    s.zone("idmz", "Industrial DMZ", 3.5, 3, 50, "Remote-access gateway, DMZ historian, patch relay.")
    s.zone("site-ops", "Site operations (L3)", 3, 2, 60, "SCADA, MES, historian, OT domain, engineering.")
    s.zone("sis", "Safety instrumented systems", 1, 3, 120, "Safety PLCs of the lines.")
    s.zone("bms", "Utilities and BMS", 2, 2, 130, "Compressed air, chillers, HVAC and solvent recovery.")
    s.zone("physec", "Physical security", 3, 2, 140, "Cameras, recording server, door and gate controllers.")
    _rendsburg_areas(s)
    # Workforce configuration: Schleswig-Holstein holidays, the works' own days off around
    # Christmas, and Whit Monday worked for the customers' spring peak
    s.calendar = {"country": "DE", "subdivision": "SH",
                  "closed": [{"date": "2026-12-24", "name": "Heiligabend (Betriebsruhe)"},
                             {"date": "2026-12-31", "name": "Silvester (Betriebsruhe)"}],
                  "open": [{"date": "2026-05-25", "name": "Pfingstmontag: production runs for the spring peak"}]}
    s.area_rules("utility-room", owners=["nf-30004"])
    for area in ("warehouse", "yard"):
        s.area_rules(area, owners=["nf-30005"])
    core = _plant_core(s, "server-room", "control-room", "electrical-room")
    ops = _plant_site_ops(s, core, scada_product="wincc", has_mes=True, ews_products=("precision-3660",))
    sis_sw = s.asset("ren-sis-sw-01", "switch", "scalance-xc208", "sis", "electrical-room", host=2,
                     description="Safety network switch", depends_on=[dep("OT distribution", core["ot"], 1)])
    common = {"scada": ops["scada"], "mes": ops["mes"], "ot_core": core["ot"], "sis_switch": sis_sw}
    add_production_line(s, LineSpec(
        1, "l1-film-extrusion", "Line 1 – Blown film extrusion", "extrusion-hall",
        plc="s7-1517", hmi="tp1500", safety="s7-1516f", io="et200sp", io_count=1, drive="sinamics-s120", drives=3,
        sensors=(("gauge", "ifm-al1300", 2),), printers=1, switch="scalance-xc208",
        control_services=["tcp/102", "udp/34964", "tcp/4840"], safety_services=["udp/34964"],
        downtime=32000, trucks=4, description="Three-layer blown film, 900 kg/h"), **common)
    add_production_line(s, LineSpec(
        2, "l2-flexo-printing", "Line 2 – Flexo printing and lamination", "printing-hall",
        plc="compactlogix", hmi="panelview7", safety="compact-guardlogix", io="point-io", io_count=2,
        drive="sew-movidrive", drives=3, sensors=(("register", "sick-lector", 2),), printers=1,
        control_services=["tcp/44818", "udp/2222"], safety_services=["tcp/44818", "udp/2222"],
        downtime=24000, trucks=3, safety_critical=True,
        description="Eight-colour flexo press and solvent-based laminator; ATEX zone 1 around the dryers"),
        **common)
    add_production_line(s, LineSpec(
        3, "l3-carton", "Line 3 – Carton folding-gluing and case packing", "carton-hall",
        plc="s7-1215", hmi="ktp700", hmi_count=1, safety="s7-1516f", io="et200sp", io_count=1,
        drive="sew-movimot", drives=2, robots=("fanuc-m20", "fanuc-m20"), printers=1,
        control_services=["tcp/102", "udp/34964", "tcp/60008"], safety_services=["udp/34964"],
        downtime=18000, trucks=8, description="Folder-gluer and two robot case packers"), **common)
    fws = add_firewall_pair(s, "fg-100f", "server-room", "site-ops", "OT segmentation firewall")
    for fw in fws:
        s.add_depends(fw, dep("Core switches", core["core"], 1))
    office = add_office(s, "admin-building", workstations=4, laptops=2, phones=2, printers=1, aps=3, switches=1)
    # Nice-to-have flaw: an engineering workstation with a second network card in line 1's L2 zone.
    s.asset("ren-ews-02", "engineering_workstation", "precision-7680", "office", "admin-building",
            extra_nics=[("eth1", "line1-supervisory", 60)],
            description="Extrusion engineer's laptop; second NIC (USB-C dock) plugged into the line 1 switch "
                        "since commissioning, bypassing the firewall")
    s.asset("ren-air-sam-01", "other", "kaeser-sam4", "bms", "utility-room",
            description="Compressed air master controller (4 compressors)")
    s.assets("ren-bms-pxc", 2, "bms_controller", "desigo-pxc7", "bms", "utility-room",
             description="HVAC, chillers and solvent recovery ventilation")
    s.asset("ren-bms-temp-01", "sensor", "vaisala-indigo", "bms", "warehouse",
            description="Film warehouse climate (film is stored below 30 °C)")
    _rendsburg_physical(s, office)
    add_standard_conduits(s, historian="ren-pi-01", jump="ren-jump-01")
    add_physical_conduits(s)
    s.conduit("ops-to-bms", "site-ops", "bms", ["udp/47808", "tcp/502", "tcp/443"],
              "SCADA to compressed air (Modbus) and BMS (BACnet/IP).")
    s.line("dispatch", "Finished packaging dispatch", "business_process", "warehouse", downtime=6000, trucks=10,
           description="Reels and cartons to Kolding and co-packers, two docks.",
           depends_on=[dep("Dock door controllers", ["ren-dock-ctl-01", "ren-dock-ctl-02"], 1, "degrades", 0.5),
                       dep("Compressed air", ["ren-air-sam-01"], effect="degrades", capacity_loss=0.3),
                       dep("Reel label printer", ["ren-dispatch-prn-01"])])
    _rendsburg_ownership(s)
    _rendsburg_work(s)
    return s


def _rendsburg_people_and_teams(s: Site) -> None:
    s.people(
        ("nf-30001", "employee", None, "2018-01-01", None),
        ("nf-30002", "employee", "nf-30001", "2020-04-01", None),
        ("nf-30003", "employee", "nf-30002", "2023-10-01", None),
        ("nf-30004", "employee", "nf-30001", "2014-07-01", None),
        ("nf-30005", "employee", "nf-30001", "2021-02-01", None),
        ("nf-30006", "employee", "nf-30001", "2022-08-15", None),
        ("tec-50301", "technician", "nf-30004", "2024-01-08", None),
        ("ctr-20201", "contractor", "nf-30002", "2026-01-01", "2026-12-31"),
        ("ctr-20301", "contractor", "nf-30002", "2026-01-01", "2027-03-31"),
        ("ctr-20302", "contractor", "nf-30004", "2026-11-01", "2026-12-31"),
        ("ctr-20303", "contractor", "nf-30004", "2026-11-01", "2026-12-31"),
        ("grd-40301", "guard", "nf-30005", "2025-04-01", "2027-12-31"),
        ("vis-30301", "visitor", "nf-30002", "2026-11-25", "2026-11-26"),
        ("vis-30302", "visitor", "nf-30001", "2026-09-09", "2026-09-09"),
    )
    s.team("ren-management", "Rendsburg plant management", "management", ["nf-30001"], "nf-30001")
    s.team("ren-ot-eng", "Rendsburg OT engineering", "ot_engineering", ["nf-30002", "nf-30003"], "nf-30002",
           phone="+49 4331 555 3900")
    s.team("ren-facilities", "Rendsburg maintenance and facilities", "facilities",
           ["nf-30004", "tec-50301", "nf-30005"], "nf-30004")
    s.team("ren-security", "Rendsburg site security", "physical_security", ["nf-30005", "grd-40301"], "nf-30005")
    s.team("ren-it", "Rendsburg site IT", "it", ["nf-30006"], "nf-30006")
    s.team("robopak-service", "RoboPak robot service", "vendor", ["ctr-20301"], "ctr-20301", company="robopak",
           email="service@robopak.example", phone="+49 431 5550 300")


def _rendsburg_areas(s: Site) -> None:
    s.area("reception", "Reception", "public", "admin-building")
    s.area("admin-building", "Administration building", "controlled",
           doors=[door("ren-admin-entrance", "Main entrance", "door", "ren-acs-lp1502-01", ["ren-rdr-admin-in"])])
    s.area("server-room", "Server room", "high_security", "admin-building",
           doors=[door("ren-server-room-door", "Server room door", "door", "ren-door-ctl-01",
                       ["ren-rdr-server-in"])])
    s.area("production-hall", "Production hall", "controlled",
           doors=[door("ren-hall-entrance", "Hall staff entrance", "turnstile", "ren-acs-lp1502-01",
                       ["ren-rdr-hall-01"])])
    s.area("extrusion-hall", "Extrusion hall (line 1)", "controlled", "production-hall")
    s.area("printing-hall", "Printing and lamination hall (line 2, ATEX)", "restricted", "production-hall",
           doors=[door("ren-printing-door", "Printing hall door", "door", "ren-door-ctl-02", ["ren-rdr-printing"])])
    s.area("carton-hall", "Carton hall (line 3)", "controlled", "production-hall")
    s.area("control-room", "Control room", "restricted", "production-hall",
           doors=[door("ren-control-room-door", "Control room door", "door", "ren-door-ctl-02",
                       ["ren-rdr-control-in"])])
    s.area("electrical-room", "Electrical room", "restricted", "production-hall")
    s.area("utility-room", "Compressor and chiller room", "restricted")
    s.area("warehouse", "Finished goods warehouse", "controlled",
           doors=[door(f"ren-dock-{i:02d}", f"Dock {i}", "dock_door", f"ren-dock-ctl-{i:02d}") for i in (1, 2)])
    s.area("yard", "Yard and gate", "controlled",
           doors=[door("ren-yard-gate", "Main gate", "gate", "ren-gate-ctl-01", ["ren-rdr-gate-01"])])


def _rendsburg_physical(s: Site, office: dict[str, list[str]]) -> None:
    z = "physec"
    sw = s.asset("ren-physec-sw-01", "switch", "cat9200", z, "server-room", host=2, description="PoE switch",
                 depends_on=[dep("Core switches", ["ren-core-sw-01", "ren-core-sw-02"], 1)])
    poe = [dep("PoE switch", [sw])]
    s.asset("ren-vms-rec-01", "nvr", "milestone-rec", z, "server-room", depends_on=poe)
    s.assets("ren-cam-hall", 3, "camera", "axis-p3265", z, "production-hall", depends_on=poe)
    s.assets("ren-cam-yard", 2, "camera", "hik-2347g2", z, "yard", depends_on=poe)
    s.assets("ren-cam-wh", 2, "camera", "hanwha-xnv6080r", z, "warehouse", depends_on=poe)
    s.asset("ren-acs-lp1502-01", "access_controller", "mercury-lp1502", z, "server-room")
    s.assets("ren-door-ctl", 2, "door_controller", "axis-a1601", z, "admin-building", depends_on=poe)
    s.asset("ren-gate-ctl-01", "gate_controller", "axis-a1610", z, "yard", depends_on=poe)
    for i in (1, 2):
        s.asset(f"ren-dock-ctl-{i:02d}", "gate_controller", "hoermann-dock", "office", "warehouse",
                description=f"Dock {i} door and leveller controller")
    s.asset("ren-dispatch-prn-01", "printer", "zebra-zt411", "office", "warehouse", description="Reel labels")
    for reader in ("ren-rdr-admin-in", "ren-rdr-server-in", "ren-rdr-hall-01", "ren-rdr-printing",
                   "ren-rdr-control-in", "ren-rdr-gate-01"):
        s.asset(reader, "badge_reader", "hid-signo40", z, None)
    s.asset("ren-intercom-gate-01", "intercom", "2n-ipforce", z, "yard", depends_on=poe,
            description="Main gate intercom (calls the reception or, at night, the guard's phone)")
    s.asset("ren-intercom-rec-01", "intercom", "2n-ipverso", z, "reception", depends_on=poe)
    s.asset("ren-kiosk-01", "visitor_kiosk", "elo-kiosk", "office", "reception",
            description="Visitor registration, installed by the facilities team in 2025")
    s.asset("ren-alarm-01", "alarm_panel", "galaxy-dimension", z, "admin-building")
    s.asset("ren-guardtour-01", "guard_device", "proxtour", z, "reception")
    s.assets("ren-hh", 2, "handheld", "zebra-tc52", "office", "warehouse")


def _rendsburg_ownership(s: Site) -> None:
    # No site-wide accountable rule at this plant (see RENDSBURG_UNOWNED_KINDS).
    s.own("ren-facilities", "responsible")
    s.own("group-soc", "informed")
    present = s.kinds_present()
    for kind in sorted(present - set(RENDSBURG_UNOWNED_KINDS)):
        team = "ren-ot-eng" if kind in OT_KINDS else "ren-security" if kind in PHYSICAL_KINDS else "ren-it"
        if kind in ("ups", "gate_controller", "bms_controller", "other"):
            team = "ren-facilities"
        s.own(team, "accountable", kinds=(kind,))
    s.own("baltic-automation", "consulted", kinds=("plc", "safety_plc", "hmi"))
    s.own("robopak-service", "responsible", kinds=("robot",))
    s.own("sentinel-sikring", "responsible", kinds=("camera", "nvr", "access_controller", "door_controller"))
    s.own("group-it", "consulted", kinds=("firewall", "router", "switch"))


def _rendsburg_work(s: Site) -> None:
    s.work_order("wo-2026-2207", "FANUC controller backup and update to V9.40P/31", "approved", "ctr-20301",
                 "nf-30002", "2026-11-30 07:00", "2026-12-02 16:00", line="l3-carton",
                 assets=["ren-l3-rob-01", "ren-l3-rob-02"])
    s.authorise("ctr-20301", ["carton-hall", "production-hall"], "nf-30002", "Robot service",
                "2026-11-30 07:00", "2026-12-02 16:00", DAY_SHIFT, work_order="wo-2026-2207")
    s.work_order("wo-2026-2188", "Cable trays and sub-distribution board, extrusion hall", "in_progress",
                 "ctr-20302", "nf-30004", "2026-11-16 07:00", "2026-12-04 16:00", line="l1-film-extrusion")
    for person in ("ctr-20302", "ctr-20303"):
        s.authorise(person, ["extrusion-hall", "electrical-room", "production-hall"], "nf-30004",
                    "Electrical installation", "2026-11-16 07:00", "2026-12-04 16:00", DAY_SHIFT,
                    work_order="wo-2026-2188")
    s.work_order("wo-2026-2231", "Line 1 recipe and gauge tuning", "in_progress", "ctr-20201", "nf-30002",
                 "2026-11-24 07:00", "2026-11-26 16:00", line="l1-film-extrusion", assets=["ren-l1-plc-01"])
    s.authorise("ctr-20201", ["extrusion-hall", "control-room", "production-hall"], "nf-30002",
                "Line 1 tuning", "2026-11-24 07:00", "2026-11-26 16:00", DAY_SHIFT, work_order="wo-2026-2231")
    s.authorise("vis-30301", ["reception", "extrusion-hall"], "nf-30002", "Extruder OEM site visit",
                "2026-11-25 08:00", "2026-11-26 17:00")
    s.authorise("vis-30302", ["reception", "admin-building"], "nf-30001", "Customer meeting",
                "2026-09-09 09:00", "2026-09-09 16:00")
    s.authorise("grd-40301", ["admin-building", "production-hall", "warehouse", "yard"], "nf-30005",
                "Guard rounds", "2026-01-01 00:00", "2027-12-31 23:59", NIGHTS_AND_WEEKENDS)
    for person in ("nf-30002", "nf-30003"):
        s.authorise(person, ["control-room", "electrical-room", "server-room", "production-hall",
                             "printing-hall"], "nf-30001", "OT engineering staff", "2026-01-01 00:00")
    s.authorise("tec-50301", ["production-hall", "electrical-room", "utility-room", "printing-hall"], "nf-30004",
                "Maintenance technician", "2026-01-01 00:00", None, DAY_SHIFT)


# ---------------------------------------------------------------------------------------------
# 40 — Padborg distribution centre
# ---------------------------------------------------------------------------------------------


def build_padborg() -> Site:
    s = Site(40, "padborg", "pad", {
        "slug": "padborg", "name": "Padborg distribution centre", "kind": "distribution_centre",
        "timezone": "Europe/Copenhagen", "address": "Transitvej 7, 6330 Padborg, Denmark",
        "latitude": 54.8268, "longitude": 9.3636,
        "description": "Chilled and ambient distribution for Germany and the Benelux: eight docks, chilled rooms "
                       "with about EUR 850k of stock, an automated case sorter, Körber WMS.",
    })
    _padborg_people_and_teams(s)
    s.zone("office", "DC office network", 4, 1, 10, "Offices, gatehouse and drivers' lounge.")
    s.zone("logistics-wlan", "Warehouse Wi-Fi", 4, 2, 14, "Handhelds, vehicle terminals and mobile printers.")
    s.zone("idmz", "Industrial DMZ", 3.5, 3, 50, "Remote-access gateway for the sorter vendor.")
    s.zone("site-ops", "Site operations (WMS and sorter SCADA)", 3, 2, 60, "WMS, sorter SCADA, directory.")
    s.zone("sis", "Safety", 1, 3, 120, "Sorter safety controller.")
    s.zone("bms", "Cold rooms and BMS", 2, 2, 130, "Danfoss CO2 refrigeration and HVAC.")
    s.zone("physec", "Physical security", 3, 2, 140, "Cameras, Genetec, door and gate controllers.")
    s.zone("docks", "Dock automation", 2, 2, 150, "Dock door, leveller and seal controllers.")
    _padborg_areas(s)
    # Workforce configuration: Danish holidays; the yard and lounge are the warehouse supervisor's
    s.calendar = {"country": "DK"}
    s.area_rules("gatehouse", owners=["nf-40004"])
    for area in ("truck-yard", "drivers-lounge"):
        s.area_rules(area, owners=["nf-40003"])
    ups = s.asset("pad-ups-srv-01", "ups", "apc-srt3000", "site-ops", "server-room", criticality="high")
    core = s.assets("pad-core-sw", 2, "switch", "cat9300", "site-ops", "server-room", criticality="critical",
                    depends_on=[dep("UPS", [ups])])
    core_dep = dep("Core switches", core, 1)
    s.asset("pad-rtr-wan-01", "router", "isr4331", "office", "server-room", host=254, depends_on=[core_dep],
            description="MPLS WAN router to headquarters")
    s.asset("pad-rtr-lte-01", "router", "isr4331", "office", "server-room", host=253, model="ISR 1100-LTE",
            description="LTE backup WAN", depends_on=[core_dep])
    wms = s.assets("pad-wms-app", 2, "server", "wms-app", "site-ops", "server-room", criticality="critical",
                   depends_on=[core_dep], description="WMS application server (active/active)")
    wms_db = s.asset("pad-wms-db-01", "server", "wms-db", "site-ops", "server-room", criticality="critical",
                     depends_on=[core_dep, dep("UPS", [ups])])
    s.assets("pad-dc", 2, "domain_controller", "vm-dc", "site-ops", "server-room", depends_on=[core_dep])
    scada = s.assets("pad-scada", 2, "scada_server", "wincc", "site-ops", "server-room", depends_on=[core_dep],
                     description="Sorter SCADA (WinCC)")
    s.asset("pad-jump-01", "jump_host", "vm-rdg", "idmz", "server-room", depends_on=[core_dep],
            tags=["remote-access"], description="Vendor remote access to the sorter (MFA, session recording)")
    s.asset("pad-ews-01", "engineering_workstation", "precision-7680", "site-ops", "server-room",
            description="Sorter engineering laptop (TIA Portal V18), kept in the server room")
    sis_sw = s.asset("pad-sis-sw-01", "switch", "scalance-xc208", "sis", "sorter-area", host=2,
                     depends_on=[core_dep])
    sorter = add_production_line(s, LineSpec(
        1, "case-sorter", "Automated case sorter", "sorter-area", plc="s7-1516", hmi="tp1200", safety="s7-1516f",
        io="et200sp", io_count=1, drive="sew-movimot", drives=4, sensors=(("scanner", "sick-lector", 2),),
        control_services=["tcp/102", "udp/34964"], safety_services=["udp/34964"], downtime=22000, trucks=0,
        description="Tilt-tray sorter, 6,000 cases/h to 24 chutes"),
        scada=scada, mes=None, ot_core=core, sis_switch=sis_sw,
        extra_deps=[dep("WMS", wms, 1), dep("WMS database", [wms_db])])
    fws = add_firewall_pair(s, "fg-100f", "server-room", "site-ops", "Segmentation firewall")
    for fw in fws:
        s.add_depends(fw, core_dep)
    add_office(s, "office-building", workstations=4, laptops=2, phones=3, printers=1, aps=1, switches=1)
    aps = s.assets("pad-wh-ap", 5, "wireless_ap", "aruba-515", "logistics-wlan", "warehouse",
                   depends_on=[core_dep], description="Warehouse AP (outdoor-rated in the cold rooms)")
    hh = s.assets("pad-hh", 6, "handheld", "zebra-tc52", "logistics-wlan", "warehouse")
    hh_cold = s.assets("pad-hh-cold", 3, "handheld", "zebra-mc9300", "logistics-wlan", "cold-rooms")
    s.asset("pad-vmt-01", "handheld", "zebra-vc8300", "logistics-wlan", "warehouse",
            description="Forklift vehicle-mount terminal")
    labels = s.assets("pad-prn", 2, "printer", "zebra-zt411", "logistics-wlan", "dock-hall",
                      description="SSCC pallet labels")
    s.asset("pad-mprn-01", "printer", "zebra-zq630", "logistics-wlan", "warehouse")
    docks = [s.asset(f"pad-dock-ctl-{i:02d}", "gate_controller", "hoermann-dock", "docks", "dock-hall",
                     description=f"Dock {i} door, leveller and seal", depends_on=[core_dep]) for i in range(1, 9)]
    cold = _padborg_cold_rooms(s, core_dep)
    _padborg_physical(s, core_dep)
    s.asset("pad-weighbridge-01", "other", "mettler-ind780", "office", "gatehouse")
    s.conduit("office-to-idmz", "office", "idmz", ["tcp/443"],
              "Logistics IT to the remote-access gateway (pad-jump-01).")
    s.conduit("idmz-to-ops", "idmz", "site-ops", ["tcp/3389", "tcp/102"],
              "Sorter vendor, via the jump host, to the engineering laptop and the sorter SCADA.")
    add_physical_conduits(s)
    s.conduit("wlan-to-ops", "logistics-wlan", "site-ops", ["tcp/443", "tcp/8080"],
              "Handhelds and vehicle terminals to the WMS (RF screens over HTTPS).")
    s.conduit("ops-to-docks", "site-ops", "docks", ["tcp/502", "tcp/443"],
              "WMS dock assignment to the dock controllers (Modbus TCP).")
    s.conduit("ops-to-bms", "site-ops", "bms", ["tcp/502", "tcp/443", "udp/47808"],
              "Cold-room alarms to the WMS and SCADA.")
    s.conduit("office-to-ops", "office", "site-ops", ["tcp/443", "tcp/1433"], "WMS client and reports.")
    wms_deps = [dep("WMS application servers", wms, 1), dep("WMS database", [wms_db])]
    s.line("inbound", "Inbound receiving", "business_process", "dock-hall", downtime=12000, trucks=45,
           description="Goods receipt from the plants and suppliers, docks 1-4",
           depends_on=[*wms_deps,
                       dep("Handhelds", hh, 4, "degrades", 0.4),
                       dep("Dock controllers 1-4", docks[:4], 3, "degrades", 0.3),
                       dep("Wi-Fi", aps, 3, "degrades", 0.3),
                       dep("Truck gate", ["pad-gate-ctl-01"], effect="degrades", capacity_loss=0.5)])
    s.line("outbound-chilled", "Chilled outbound and cold rooms", "business_process", "cold-rooms",
           downtime=30000, trucks=38, perishable=850000, hours_to_spoil=8,
           description="Chilled rooms at +2 °C; picking to 38 trucks a day for German and Benelux retail",
           depends_on=[*wms_deps,
                       dep("Refrigeration system manager", [cold["aksm"]]),
                       dep("Pack controllers", cold["packs"], 1),
                       dep("Cold-room handhelds", hh_cold, 2, "degrades", 0.3),
                       dep("Dock controllers 5-8", docks[4:], 3, "degrades", 0.3),
                       dep("Pallet label printers", labels, 1),
                       dep("BMS", cold["pxc"], 1, "degrades", 0.1),
                       dep("Case sorter", sorter["plcs"], effect="degrades", capacity_loss=0.35)])
    _padborg_ownership(s)
    _padborg_work(s)
    return s


def _padborg_people_and_teams(s: Site) -> None:
    s.people(
        ("nf-40001", "employee", None, "2019-05-01", None),
        ("nf-40002", "employee", "nf-40001", "2021-03-01", None),
        ("nf-40003", "employee", "nf-40001", "2018-09-01", None),
        ("nf-40004", "employee", "nf-40001", "2020-11-01", None),
        ("nf-40005", "employee", "nf-40003", "2023-01-09", None),
        ("tec-50401", "technician", "nf-40004", "2026-01-01", "2026-12-31"),
        ("ctr-20401", "contractor", "nf-40002", "2026-06-01", "2026-12-31"),
        ("ctr-20402", "contractor", "nf-40004", "2026-11-01", "2027-01-31"),
        ("ctr-20102", "contractor", "nf-40004", "2026-01-01", "2027-09-30"),
        ("grd-40401", "guard", "nf-40004", "2025-01-01", "2027-12-31"),
        ("grd-40402", "guard", "nf-40004", "2025-01-01", "2027-12-31"),
        ("vis-30401", "visitor", "nf-40003", "2026-11-25", "2026-11-25"),
        ("vis-30402", "visitor", "nf-40003", "2026-11-25", "2026-11-25"),
    )
    s.team("pad-management", "Padborg DC management", "management", ["nf-40001", "nf-40003"], "nf-40001")
    s.team("pad-logistics-it", "Padborg logistics IT", "it", ["nf-40002"], "nf-40002")
    s.team("pad-facilities", "Padborg facilities", "facilities", ["nf-40004", "nf-40005"], "nf-40004")
    s.team("pad-security", "Padborg gatehouse and security", "physical_security",
           ["nf-40004", "grd-40401", "grd-40402"], "nf-40004", phone="+45 7467 4999")
    s.team("dockserv-service", "DockServ Nordic dock service", "vendor", ["tec-50401"], "tec-50401",
           company="dockserv-nordic", email="service@dockserv-nordic.example")
    s.team("wms-nordic-support", "WMS Nordic application support", "vendor", ["ctr-20401"], "ctr-20401",
           company="wms-nordic", email="support@wms-nordic.example")


def _padborg_areas(s: Site) -> None:
    s.area("drivers-lounge", "Drivers' lounge", "public", "gatehouse")
    s.area("gatehouse", "Gatehouse and weighbridge", "controlled",
           doors=[door("pad-gatehouse-door", "Gatehouse door", "door", "pad-door-ctl-01", ["pad-rdr-gatehouse"])])
    s.area("office-building", "Office building", "controlled",
           doors=[door("pad-office-entrance", "Office entrance", "door", "pad-acs-lp1502-01", ["pad-rdr-office"])])
    s.area("server-room", "Server room", "high_security", "office-building",
           doors=[door("pad-server-room-door", "Server room door", "door", "pad-door-ctl-02",
                       ["pad-rdr-server-in"])])
    s.area("warehouse", "Ambient warehouse", "controlled",
           doors=[door("pad-warehouse-door", "Staff door", "door", "pad-acs-lp1502-01", ["pad-rdr-warehouse"])])
    s.area("sorter-area", "Case sorter", "controlled", "warehouse")
    s.area("battery-room", "Forklift battery charging room", "restricted", "warehouse")
    s.area("cold-rooms", "Chilled rooms (+2 °C)", "restricted", "warehouse",
           doors=[door("pad-cold-door", "Cold rooms door", "door", "pad-door-ctl-03", ["pad-rdr-cold"])])
    s.area("dock-hall", "Dock hall", "controlled", "warehouse",
           doors=[door(f"pad-dock-{i:02d}", f"Dock {i}", "dock_door", f"pad-dock-ctl-{i:02d}")
                  for i in range(1, 9)])
    s.area("truck-yard", "Truck yard", "controlled",
           doors=[door("pad-gate-in", "Truck entry gate", "gate", "pad-gate-ctl-01", ["pad-rdr-gate-in"]),
                  door("pad-gate-out", "Truck exit barrier", "barrier", "pad-gate-ctl-02")])


def _padborg_cold_rooms(s: Site, core_dep: dict) -> dict[str, Any]:
    z = "bms"
    aksm = s.asset("pad-cs-aksm-01", "bms_controller", "danfoss-aksm800", z, "cold-rooms", criticality="critical",
                   depends_on=[core_dep], tags=["cold-chain"], description="CO2 refrigeration system manager")
    packs = s.assets("pad-cs-akpc", 2, "bms_controller", "danfoss-akpc781", z, "cold-rooms", tags=["cold-chain"],
                     description="Transcritical CO2 pack controller")
    s.assets("pad-cs-akcc", 2, "bms_controller", "danfoss-akcc55", z, "cold-rooms", tags=["cold-chain"])
    s.assets("pad-cs-temp", 2, "sensor", "vaisala-indigo", z, "cold-rooms", depends_on=[core_dep])
    pxc = s.assets("pad-bms-pxc", 2, "bms_controller", "desigo-pxc7", z, "warehouse", depends_on=[core_dep])
    return {"aksm": aksm, "packs": packs, "pxc": pxc}


def _padborg_physical(s: Site, core_dep: dict) -> None:
    z = "physec"
    sw = s.assets("pad-physec-sw", 2, "switch", "cat9200", z, "server-room", depends_on=[core_dep])
    poe = [dep("PoE switches", sw, 1)]
    s.asset("pad-vms-01", "vms_server", "genetec-sc", z, "server-room", depends_on=[core_dep],
            description="Genetec Security Center directory (video and access control)")
    s.asset("pad-nvr-01", "nvr", "genetec-streamvault", z, "server-room", depends_on=poe)
    s.assets("pad-cam-dock", 3, "camera", "axis-p1465", z, "dock-hall", depends_on=poe)
    s.assets("pad-cam-wh", 1, "camera", "axis-p3265", z, "warehouse", depends_on=poe)
    s.assets("pad-cam-gate", 2, "camera", "hanwha-xno6080r", z, "truck-yard", depends_on=poe,
             description="Licence-plate camera")
    s.assets("pad-cam-yard", 2, "camera", "hanwha-xno6080r", z, "truck-yard", depends_on=poe)
    # Nice-to-have flaw: a camera with factory-default-looking firmware, never updated.
    s.asset("pad-cam-yard-03", "camera", "hanwha-xno6080r", z, "truck-yard", depends_on=poe, firmware="1.00.00",
            description="Trailer parking camera, installed by the haulier partner in 2023")
    s.asset("pad-acs-lp1502-01", "access_controller", "mercury-lp1502", z, "server-room")
    s.asset("pad-acs-vertx-01", "access_controller", "hid-vertx", z, "gatehouse",
            description="Legacy VertX controller for the gatehouse, to be replaced in 2027")
    s.assets("pad-door-ctl", 3, "door_controller", "axis-a1601", z, "warehouse", depends_on=poe)
    s.assets("pad-gate-ctl", 2, "gate_controller", "axis-a1610", z, "truck-yard", depends_on=poe)
    for reader in ("pad-rdr-gatehouse", "pad-rdr-office", "pad-rdr-server-in", "pad-rdr-warehouse", "pad-rdr-cold",
                   "pad-rdr-gate-in"):
        s.asset(reader, "badge_reader", "hid-signo40", z, None)
    s.asset("pad-intercom-gate-01", "intercom", "2n-ipforce", z, "truck-yard", depends_on=poe)
    s.asset("pad-kiosk-01", "visitor_kiosk", "elo-kiosk", "office", "drivers-lounge",
            description="Driver check-in kiosk (slot booking, safety rules in 12 languages)")
    s.asset("pad-alarm-01", "alarm_panel", "galaxy-dimension", z, "office-building")
    s.asset("pad-guardtour-01", "guard_device", "proxtour", z, "gatehouse")


def _padborg_ownership(s: Site) -> None:
    s.own("pad-management", "accountable")
    s.own("pad-logistics-it", "responsible")
    s.own("group-soc", "informed")
    s.own("pad-logistics-it", "accountable", kinds=("server", "domain_controller", "handheld", "printer",
                                                     "wireless_ap", "workstation", "laptop", "phone"))
    s.own("group-it", "accountable", kinds=("switch", "router", "firewall"))
    s.own("pad-security", "accountable", kinds=[k for k in PHYSICAL_KINDS if k != "gate_controller"])
    s.own("sentinel-sikring", "responsible", kinds=("camera", "nvr", "vms_server", "access_controller",
                                                     "door_controller", "badge_reader"))
    s.own("pad-facilities", "accountable", kinds=("gate_controller", "bms_controller", "ups", "other"))
    s.own("dockserv-service", "responsible", kinds=("gate_controller",))
    s.own("baltic-automation", "responsible", kinds=("plc", "safety_plc", "hmi", "scada_server"))
    s.own("group-ot-security", "accountable", kinds=("jump_host", "engineering_workstation"))
    s.own("wms-nordic-support", "consulted", asset="pad-wms-app-01")
    s.own("wms-nordic-support", "consulted", asset="pad-wms-app-02")


def _padborg_work(s: Site) -> None:
    s.work_order("wo-2026-3051", "Replace truck gate camera pad-cam-gate-02", "in_progress", "ctr-20402",
                 "nf-40004", "2026-11-23 07:00", "2026-11-27 16:00", assets=["pad-cam-gate-02"])
    s.authorise("ctr-20402", ["truck-yard", "server-room"], "nf-40004", "Gate camera replacement",
                "2026-11-23 07:00", "2026-11-27 16:00", DAY_SHIFT, work_order="wo-2026-3051")
    s.work_order("wo-2026-3032", "Dock 7 leveller hydraulic repair", "closed", "tec-50401", "nf-40004",
                 "2026-11-03 06:00", "2026-11-04 14:00", line="outbound-chilled", assets=["pad-dock-ctl-07"])
    s.authorise("tec-50401", ["dock-hall"], "nf-40004", "Dock 7 repair", "2026-11-03 06:00", "2026-11-04 14:00",
                work_order="wo-2026-3032")
    s.work_order("wo-2026-3060", "WMS upgrade to 2024.1", "cancelled", "ctr-20401", "nf-40002",
                 "2026-11-14 20:00", "2026-11-15 08:00", line="inbound", assets=["pad-wms-app-01", "pad-wms-app-02"])
    s.work_order("wo-2026-3071", "Quarterly Genetec and camera health check", "approved", "ctr-20102", "nf-40004",
                 "2026-12-03 08:00", "2026-12-03 16:00", assets=["pad-vms-01", "pad-nvr-01"])
    s.authorise("ctr-20102", ["server-room", "warehouse", "dock-hall"], "nf-40004", "Camera health check",
                "2026-12-03 08:00", "2026-12-03 16:00", work_order="wo-2026-3071")
    s.authorise("ctr-20401", ["office-building"], "nf-40002", "WMS support", "2026-06-01 00:00",
                "2026-12-31 23:59", WEEKDAYS)
    for guard in ("grd-40401", "grd-40402"):
        s.authorise(guard, ["gatehouse", "truck-yard", "warehouse", "dock-hall", "office-building"], "nf-40004",
                    "Gatehouse and guard rounds", "2026-01-01 00:00", "2027-12-31 23:59", EVERY_DAY)
    for driver in ("vis-30401", "vis-30402"):
        s.authorise(driver, ["drivers-lounge", "truck-yard"], "nf-40003", "Delivery slot",
                    "2026-11-25 05:00", "2026-11-25 23:00")
    for person in ("nf-40003", "nf-40005"):
        s.authorise(person, ["warehouse", "cold-rooms", "dock-hall", "sorter-area", "battery-room"], "nf-40001",
                    "Warehouse staff", "2026-01-01 00:00")
    s.authorise("nf-40002", ["server-room", "office-building"], "nf-40001", "Logistics IT", "2026-01-01 00:00")


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

BUILDERS = (build_hq, build_kolding, build_rendsburg, build_padborg)


def build_all() -> list[Site]:
    return [build() for build in BUILDERS]


def check(sites: list[Site]) -> None:
    """Assert what the importer would otherwise reject, plus the demo's own promises."""
    defined: dict[str, set[str]] = {"teams": set(), "people": set(), "companies": set()}
    for s in sites:
        defined["teams"] |= {t["slug"] for t in s.sections["teams"]}
        defined["people"] |= {p["key"] for p in s.sections["people"]}
        defined["companies"] |= {c["slug"] for c in s.sections["companies"]}
    kinds: Counter = Counter()
    for s in sites:
        sec = s.sections
        for section, key in (("zones", "slug"), ("conduits", "slug"), ("areas", "slug"), ("assets", "name"),
                             ("lines", "slug"), ("work_orders", "key"), ("teams", "slug"), ("people", "key")):
            values = [item[key] for item in sec[section]]
            dupes = [v for v, c in Counter(values).items() if c > 1]
            assert not dupes, f"{s.slug}: duplicate {section}: {dupes}"
        zones = {z["slug"]: ipaddress.ip_network(z["cidrs"][0]) for z in sec["zones"]}
        areas = {a["slug"] for a in sec["areas"]}
        assets = {a["name"]: a for a in sec["assets"]}
        ips: Counter = Counter()
        for a in sec["assets"]:
            kinds[a["kind"]] += 1
            assert a.get("zone") in zones or "zone" not in a, (s.slug, a["name"])
            assert a.get("area") in areas or "area" not in a, (s.slug, a["name"])
            for nic in a.get("interfaces", []):
                ips[nic["ip"]] += 1
                assert any(ipaddress.ip_address(nic["ip"]) in net for net in zones.values()), (a["name"], nic)
        assert not [ip for ip, c in ips.items() if c > 1], f"{s.slug}: duplicate IPs"
        groups = [(a["name"], a.get("depends_on", [])) for a in sec["assets"]]
        groups += [(line["slug"], line["depends_on"]) for line in sec["lines"]]
        for owner, deps in groups:
            assert len({d["name"] for d in deps}) == len(deps), owner
            for d in deps:
                assert all(m in assets and m != owner for m in d["assets"]), (owner, d)
                assert d.get("required", 1) <= len(d["assets"]), (owner, d)
        for c in sec["conduits"]:
            assert c["from"] in zones and c["to"] in zones, c
        doors = [d for a in sec["areas"] for d in a.get("doors", [])]
        assert len({d["slug"] for d in doors}) == len(doors), s.slug
        for d in doors:
            assert all(x in assets for x in [d.get("controller"), *d.get("readers", [])] if x), d
        for a in sec["areas"]:
            assert a.get("parent", next(iter(areas))) in areas, a
        for rule in sec["ownership"]:
            assert rule["team"] in defined["teams"], rule
            assert rule.get("asset", next(iter(assets))) in assets, rule
        for p in sec["people"]:
            assert p.get("sponsor", p["key"] + "x") != p["key"]
            assert all(x in defined["people"] for x in [p.get("sponsor")] if x), p
        for t in sec["teams"]:
            assert all(m["person"] in defined["people"] for m in t["members"]), t
        orders = {w["key"] for w in sec["work_orders"]}
        lines = {line["slug"] for line in sec["lines"]}
        for w in sec["work_orders"]:
            assert w["assignee"] in defined["people"] and w["approved_by"] in defined["people"], w
            assert w.get("line", next(iter(lines))) in lines and all(a in assets for a in w.get("assets", [])), w
        for g in sec["authorisations"]:
            assert g["person"] in {p["key"] for p in sec["people"]}, g  # authorised people are affiliated here
            assert g["area"] in areas and g.get("work_order", next(iter(orders))) in orders, g
    for shadow in SHADOW_DEVICES:
        site = next(s for s in sites if s.slug == shadow["site"])
        zone = next(z for z in site.sections["zones"] if z["slug"] == shadow["zone"])
        assert ipaddress.ip_address(shadow["ip"]) in ipaddress.ip_network(zone["cidrs"][0]), shadow
        nics = [n for a in site.sections["assets"] for n in a.get("interfaces", [])]
        assert all(n["ip"] != shadow["ip"] and n["mac"] != shadow["mac"] for n in nics), shadow
    missing = set(KIND_CRITICALITY) - set(kinds)
    assert not missing, f"asset kinds never used: {missing}"
    assert sum(kinds.values()) >= 300, sum(kinds.values())


def write(sites: list[Site], out_dir: Path = OUT_DIR) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in sites:
        path = out_dir / f"{s.number}-{s.slug}.yaml"
        header = (f"# {s.info['name']}: demo site of {ORGANISATION['name']}.\n"
                  "# Generated by `python -m linewatch.demo.generate`; edit the generator, not this file.\n")
        body = yaml.safe_dump(s.document(), sort_keys=False, allow_unicode=True, width=100)
        path.write_text(header + body, encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    sites = build_all()
    check(sites)
    for path in write(sites):
        print(path)
    total = sum(len(s.sections["assets"]) for s in sites)
    print(f"{len(sites)} sites, {total} assets")


if __name__ == "__main__":
    main()
