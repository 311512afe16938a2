"""The normalized event: OCSF-shaped, flat, fast.

An `Event` is a msgspec Struct: an envelope every stage needs (uid, time, class, site, source)
plus `attrs`, a flat dict keyed by OCSF attribute paths (`actor.user.name`, `src_endpoint.ip`,
`device.hostname`), `unmapped` for source fields OCSF has no place for, and `raw`.

OCSF has no classes for physical access, surveillance devices, gates, patrols, visitors or
controller activity; the Linewatch extension (`EXTENSION_UID`) adds them in two categories of its
own, numbered as OCSF numbers extensions: `ext_uid * 100000 + category_uid * 1000 + class_id`.
The vocabularies are documented in docs/formats.md. Plain Python, no Django: parsers and the
detection engine use it alone.
"""

from __future__ import annotations

import hashlib
from enum import IntEnum
from typing import Any

import msgspec

EXTENSION_UID = 990  # a private extension uid, in the range OCSF leaves to vendors
EXTENSION_NAME = "linewatch"
OCSF_VERSION = "1.5.0"


def ext_class(category: int, class_id: int) -> int:
    return EXTENSION_UID * 100000 + category * 1000 + class_id


class Category(IntEnum):
    SYSTEM = 1
    FINDINGS = 2
    IAM = 3
    NETWORK = 4
    DISCOVERY = 5
    APPLICATION = 6
    PHYSICAL = 30  # Linewatch extension
    INDUSTRIAL = 31  # Linewatch extension


class EventClass(IntEnum):
    # OCSF core classes the parsers emit
    FILE_ACTIVITY = 1001
    KERNEL_ACTIVITY = 1003
    MEMORY_ACTIVITY = 1004
    MODULE_ACTIVITY = 1005
    SCHEDULED_JOB_ACTIVITY = 1006
    PROCESS_ACTIVITY = 1007
    EVENT_LOG_ACTIVITY = 1008
    REGISTRY_KEY_ACTIVITY = 201001
    DETECTION_FINDING = 2004
    ACCOUNT_CHANGE = 3001
    AUTHENTICATION = 3002
    AUTHORIZE_SESSION = 3003
    ENTITY_MANAGEMENT = 3004
    GROUP_MANAGEMENT = 3006
    NETWORK_ACTIVITY = 4001
    HTTP_ACTIVITY = 4002
    DNS_ACTIVITY = 4003
    DHCP_ACTIVITY = 4004
    RDP_ACTIVITY = 4005
    SMB_ACTIVITY = 4006
    SSH_ACTIVITY = 4007
    FTP_ACTIVITY = 4008
    NETWORK_FILE_ACTIVITY = 4010
    TUNNEL_ACTIVITY = 4014
    DEVICE_INVENTORY_INFO = 5001
    DEVICE_CONFIG_STATE_CHANGE = 5019
    WEB_RESOURCES_ACTIVITY = 6001
    APPLICATION_LIFECYCLE = 6002
    API_ACTIVITY = 6003
    # Linewatch extension
    PHYSICAL_ACCESS = ext_class(30, 1)
    SURVEILLANCE_DEVICE = ext_class(30, 2)
    GATE_ACTIVITY = ext_class(30, 3)
    PATROL_CHECKPOINT = ext_class(30, 4)
    VISITOR_ACTIVITY = ext_class(30, 5)
    INTRUSION_ALARM = ext_class(30, 6)
    CONTROLLER_ACTIVITY = ext_class(31, 1)
    INDUSTRIAL_PROTOCOL = ext_class(31, 2)
    DEVICE_TELEMETRY = ext_class(31, 3)
    SEGMENTATION_CONFORMANCE = ext_class(31, 4)  # an observed flow outside the zone policy (segmentation)


def category_of(class_uid: int) -> int:
    return (class_uid % 100000) // 1000


class PhysicalAccessActivity(IntEnum):
    GRANTED = 1
    DENIED = 2
    FORCED = 3  # door forced open
    HELD = 4  # door held open too long
    TAILGATE = 5
    DURESS = 6
    PASSBACK = 7
    EXIT = 8  # request-to-exit / egress
    OTHER = 99


class SurveillanceActivity(IntEnum):
    OFFLINE = 1
    TAMPER = 2
    RESTORED = 3
    VIDEO_LOSS = 4
    STORAGE_FAILURE = 5
    RECORDING_STOPPED = 6
    MOTION = 7
    OTHER = 99


class GateActivity(IntEnum):
    OPENED = 1
    CLOSED = 2
    FAULT = 3
    FORCED = 4
    LEFT_OPEN = 5
    OTHER = 99


class PatrolActivity(IntEnum):
    CHECKPOINT_SCAN = 1
    TOUR_STARTED = 2
    TOUR_COMPLETED = 3
    CHECKPOINT_MISSED = 4
    INCIDENT_REPORTED = 5
    OTHER = 99


class VisitorActivity(IntEnum):
    PRE_REGISTERED = 1
    CHECK_IN = 2
    CHECK_OUT = 3
    BADGE_ISSUED = 4
    BADGE_RETURNED = 5
    DENIED = 6
    OVERSTAY = 7
    OTHER = 99


class ControllerActivity(IntEnum):
    PROGRAM_DOWNLOAD = 1  # to the controller (T0843)
    PROGRAM_UPLOAD = 2  # from the controller (T0845)
    MODE_CHANGE = 3  # run/stop/program (T0858)
    FIRMWARE_CHANGE = 4  # (T0857)
    FORCE_VALUES = 5  # forced I/O (T0836 / T0855)
    WRITE = 6  # register/coil/point writes
    READ = 7
    DIAGNOSTIC = 8
    OTHER = 99


class Severity(IntEnum):
    UNKNOWN = 0
    INFORMATIONAL = 1
    LOW = 2
    MEDIUM = 3
    HIGH = 4
    CRITICAL = 5
    FATAL = 6
    OTHER = 99


class Event(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One normalized event. `attrs` keys are OCSF attribute paths; values are primitives or lists."""

    uid: str
    time: int  # epoch milliseconds, UTC (OCSF `time`)
    class_uid: int
    activity_id: int = 0
    severity_id: int = Severity.INFORMATIONAL
    status_id: int = 0  # 0 unknown, 1 success, 2 failure
    message: str = ""
    source: str = ""  # the parser that made it
    site: str = ""
    attrs: dict[str, Any] = msgspec.field(default_factory=dict)
    unmapped: dict[str, Any] = msgspec.field(default_factory=dict)
    raw: str | None = None

    @property
    def category_uid(self) -> int:
        return category_of(self.class_uid)

    @property
    def type_uid(self) -> int:
        return self.class_uid * 100 + self.activity_id

    def get(self, path: str, default: Any = None) -> Any:
        """An attribute by OCSF path, envelope fields included (`time`, `class_uid`, `site`…)."""
        if path in self.attrs:
            return self.attrs[path]
        if path in _ENVELOPE:
            return getattr(self, path)
        if path == "category_uid":
            return self.category_uid
        if path == "type_uid":
            return self.type_uid
        return self.unmapped.get(path, default)

    def to_ocsf(self) -> dict[str, Any]:
        """The event as nested OCSF JSON (for export and schema validation, not the hot path)."""
        out: dict[str, Any] = {
            "class_uid": self.class_uid, "category_uid": self.category_uid, "activity_id": self.activity_id,
            "type_uid": self.type_uid, "severity_id": self.severity_id, "time": self.time,
            "metadata": {"uid": self.uid, "version": OCSF_VERSION, "log_name": self.source,
                         "product": {"name": self.source, "vendor_name": "Linewatch"}},
        }
        if self.status_id:
            out["status_id"] = self.status_id
        if self.message:
            out["message"] = self.message
        finding = self.class_uid == EventClass.DETECTION_FINDING
        for path, value in self.attrs.items():
            node = out
            top = path.split(".", 1)[0]
            if finding and top in FINDING_EVIDENCE:
                # OCSF keeps a finding's network context in its evidence, not on the finding;
                # `attrs` stays flat so rules, enrichment and alerts read the same paths on every class.
                node = out.setdefault("evidences", [{}])[0]
            elif finding and top in FINDING_UNMAPPED:
                node = out.setdefault("unmapped", {})
            *parents, leaf = path.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
        if self.class_uid >= EXTENSION_UID * 100000:
            out["metadata"]["extensions"] = [{"uid": str(EXTENSION_UID), "name": EXTENSION_NAME, "version": "1"}]
        if self.site:
            out.setdefault("unmapped", {})["site"] = self.site
        if self.unmapped:
            out.setdefault("unmapped", {}).update(self.unmapped)
        if self.raw is not None:
            out["raw_data"] = self.raw
        return out


# Detection Findings: what goes into `evidences[0]`, and what OCSF has no place for on a finding.
FINDING_EVIDENCE = frozenset({"src_endpoint", "dst_endpoint", "connection_info", "http_request", "http_response",
                              "query", "tls", "process", "file", "user", "actor", "device", "url", "api", "email"})
FINDING_UNMAPPED = frozenset({"traffic", "app_name"})

_ENVELOPE = frozenset({"uid", "time", "class_uid", "activity_id", "severity_id", "status_id", "message",
                       "source", "site"})

encoder = msgspec.json.Encoder()
decoder = msgspec.json.Decoder(Event)


def event_uid(source: str, *parts: str | bytes) -> str:
    """A deterministic id: the same record from the same source always gets the same id, so
    ingestion can be repeated without storing anything twice."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(source.encode())
    for part in parts:
        digest.update(b"\x1f")
        digest.update(part if isinstance(part, bytes) else part.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()
