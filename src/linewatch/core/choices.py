"""Every enumeration of the plant model, in one place, with labels (as in NetBox's choices.py).

These vocabularies are shared by the site-as-code schema, the database, the API and the UI,
so each is defined once here and read everywhere else.
"""

from __future__ import annotations

from django.db import models


class SiteKind(models.TextChoices):
    PLANT = "plant", "Plant"
    HQ = "hq", "Headquarters"
    WAREHOUSE = "warehouse", "Warehouse"
    DISTRIBUTION_CENTRE = "distribution_centre", "Distribution centre"
    PARTNER = "partner", "Partner facility"


class PurdueLevel(models.TextChoices):
    """Purdue reference model levels, with 3.5 for the industrial DMZ."""

    L0 = "0", "Level 0 — process"
    L1 = "1", "Level 1 — basic control"
    L2 = "2", "Level 2 — supervisory control"
    L3 = "3", "Level 3 — site operations"
    L3_5 = "3.5", "Level 3.5 — industrial DMZ"
    L4 = "4", "Level 4 — site business network"
    L5 = "5", "Level 5 — enterprise"


class SecurityLevel(models.IntegerChoices):
    """IEC 62443-3-3 security levels (target, SL-T)."""

    SL0 = 0, "SL 0 — no requirement"
    SL1 = 1, "SL 1 — casual or coincidental violation"
    SL2 = 2, "SL 2 — simple means, low resources"
    SL3 = 3, "SL 3 — sophisticated means, moderate resources"
    SL4 = 4, "SL 4 — sophisticated means, extended resources"


class Domain(models.TextChoices):
    IT = "it", "IT"
    OT = "ot", "OT"
    PHYSICAL = "physical", "Physical security"


class AssetKind(models.TextChoices):
    # physical security
    CAMERA = "camera", "Camera"
    NVR = "nvr", "NVR / VMS recorder"
    VMS_SERVER = "vms_server", "VMS server"
    ACCESS_CONTROLLER = "access_controller", "Access controller"
    BADGE_READER = "badge_reader", "Badge reader"
    DOOR_CONTROLLER = "door_controller", "Door controller"
    GATE_CONTROLLER = "gate_controller", "Gate / barrier controller"
    INTERCOM = "intercom", "Intercom"
    VISITOR_KIOSK = "visitor_kiosk", "Visitor kiosk"
    ALARM_PANEL = "alarm_panel", "Intrusion alarm panel"
    GUARD_DEVICE = "guard_device", "Guard tour device"
    # operational technology
    PLC = "plc", "PLC"
    SAFETY_PLC = "safety_plc", "Safety PLC / SIS"
    RTU = "rtu", "RTU"
    HMI = "hmi", "HMI"
    ENGINEERING_WORKSTATION = "engineering_workstation", "Engineering workstation"
    HISTORIAN = "historian", "Historian"
    SCADA_SERVER = "scada_server", "SCADA / MES server"
    DRIVE = "drive", "Variable frequency drive"
    ROBOT = "robot", "Robot controller"
    IO_MODULE = "io_module", "Remote I/O"
    SENSOR = "sensor", "Sensor / IIoT device"
    BMS_CONTROLLER = "bms_controller", "Building / refrigeration controller"
    JUMP_HOST = "jump_host", "Remote-access jump host"
    # IT and network
    SWITCH = "switch", "Switch"
    ROUTER = "router", "Router"
    FIREWALL = "firewall", "Firewall"
    WIRELESS_AP = "wireless_ap", "Wireless access point"
    SERVER = "server", "Server"
    DOMAIN_CONTROLLER = "domain_controller", "Domain controller"
    WORKSTATION = "workstation", "Workstation"
    LAPTOP = "laptop", "Laptop"
    PRINTER = "printer", "Printer / label printer"
    HANDHELD = "handheld", "Handheld scanner / mobile terminal"
    PHONE = "phone", "IP phone"
    UPS = "ups", "UPS / power"
    OTHER = "other", "Other"


ASSET_KIND_DOMAIN: dict[str, str] = {
    **dict.fromkeys(
        ["camera", "nvr", "vms_server", "access_controller", "badge_reader", "door_controller",
         "gate_controller", "intercom", "visitor_kiosk", "alarm_panel", "guard_device"],
        Domain.PHYSICAL,
    ),
    **dict.fromkeys(
        ["plc", "safety_plc", "rtu", "hmi", "engineering_workstation", "historian", "scada_server",
         "drive", "robot", "io_module", "sensor", "bms_controller", "jump_host"],
        Domain.OT,
    ),
    **dict.fromkeys(
        ["switch", "router", "firewall", "wireless_ap", "server", "domain_controller", "workstation",
         "laptop", "printer", "handheld", "phone", "ups", "other"],
        Domain.IT,
    ),
}
assert set(ASSET_KIND_DOMAIN) == set(AssetKind.values), "every asset kind belongs to a domain"


class Criticality(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class RestrictedLevel(models.IntegerChoices):
    PUBLIC = 0, "Public"
    CONTROLLED = 1, "Controlled"
    RESTRICTED = 2, "Restricted"
    HIGH_SECURITY = 3, "High security"


class DoorKind(models.TextChoices):
    DOOR = "door", "Door"
    GATE = "gate", "Vehicle gate"
    TURNSTILE = "turnstile", "Turnstile"
    DOCK_DOOR = "dock_door", "Dock door"
    BARRIER = "barrier", "Barrier"


class ConduitDirection(models.TextChoices):
    """Who may open connections across the conduit (replies are always allowed back)."""

    FORWARD = "forward", "From → to only"
    BOTH = "both", "Both ways"


class LineKind(models.TextChoices):
    PRODUCTION_LINE = "production_line", "Production line"
    BUSINESS_PROCESS = "business_process", "Business process"


class DependencyEffect(models.TextChoices):
    STOPS = "stops", "Stops the line"
    DEGRADES = "degrades", "Degrades the line"


class TeamKind(models.TextChoices):
    IT = "it", "IT"
    OT_ENGINEERING = "ot_engineering", "OT engineering"
    PHYSICAL_SECURITY = "physical_security", "Physical security"
    FACILITIES = "facilities", "Facilities / maintenance"
    VENDOR = "vendor", "Vendor / contractor"
    MANAGEMENT = "management", "Site management"


class RaciRole(models.TextChoices):
    RESPONSIBLE = "responsible", "Responsible"
    ACCOUNTABLE = "accountable", "Accountable"
    CONSULTED = "consulted", "Consulted"
    INFORMED = "informed", "Informed"


class OwnershipScope(models.TextChoices):
    """How specific an ownership rule is; resolution takes the most specific first."""

    ASSET = "asset", "Asset"
    KIND = "kind", "Asset kind at the site"
    SITE = "site", "Whole site"


OWNERSHIP_PRECEDENCE = (OwnershipScope.ASSET, OwnershipScope.KIND, OwnershipScope.SITE)


class CompanyKind(models.TextChoices):
    EMPLOYER = "employer", "Employer (own company)"
    CONTRACTOR = "contractor", "Contractor firm"
    VENDOR = "vendor", "Equipment vendor / integrator"
    SECURITY = "security", "Security services"
    OTHER = "other", "Other"


class Affiliation(models.TextChoices):
    EMPLOYEE = "employee", "Employee"
    CONTRACTOR = "contractor", "Contractor"
    TECHNICIAN = "technician", "Maintenance technician"
    VISITOR = "visitor", "Visitor"
    GUARD = "guard", "Guard"


class Role(models.TextChoices):
    """User roles. Site-scoped roles see only the sites they are assigned."""

    ADMIN = "admin", "Administrator"
    SECURITY_ANALYST = "security_analyst", "Security analyst"
    SITE_SECURITY_LEAD = "site_security_lead", "Site security lead"
    OT_ENGINEER = "ot_engineer", "OT engineer"
    AUDITOR = "auditor", "Auditor (read-only)"
    GUARD = "guard", "Guard"
    SENSOR = "sensor", "Sensor / forwarder (machine)"
    NODE = "node", "Plant node (machine)"


class AuditAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
