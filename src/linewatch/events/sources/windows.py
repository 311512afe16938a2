"""Windows event logs: evtx_dump-style JSON (`windows-json`) and binary EVTX files (`evtx`).

Inputs
------
`windows-json` reads, one record per line (JSON lines) or as concatenated / pretty-printed
documents (the `evtx_dump -o json` and SigmaHQ regression-data layout, `Record N` headers
allowed, or one JSON array):

* evtx_dump / `PyEvtxParser.records_json()` records: `{"Event": {"System": {...},
  "EventData": {...} | "UserData": {...}}}`;
* Winlogbeat / Elastic Agent documents: `{"@timestamp", "winlog": {"event_id", "channel",
  "computer_name", "record_id", "provider_name", "event_data": {...}}, ...}`;
* flat exports (NXLog `im_msvistalog`, flattened evtx): one object whose top level carries
  `EventID` and `Channel` next to the event-data fields.

`evtx` reads a binary `.evtx` file with the PyPI `evtx` package (pyevtx-rs): each record's place
is `record N` (its EventRecordID); a record the library cannot decode is reported at its place and
the rest of the file is still read.

Output
------
Every native field is kept in `unmapped` under its native name, because the Sigma engine matches
SigmaHQ rules on Windows names: the EventData (or UserData) fields as they are (`Image`,
`CommandLine`, `TargetUserName`…; unnamed data as `Data`), and the System fields flattened with
`_` (`EventID`, `Channel`, `Computer`, `Provider_Name`, `Provider_Guid`, `EventRecordID`, `Level`,
`Task`, `Opcode`, `Keywords`, `Version`, `TimeCreated_SystemTime`, `Execution_ProcessID`,
`Security_UserID`…). An event-data field whose name is already taken by a System field is kept
as `EventData_<name>` (or `UserData_<name>`).

Well-known events are also mapped to OCSF classes and attribute paths (see docs/formats/windows.md):
Security logons and Kerberos/NTLM → Authentication, 4688 and Sysmon 1 → Process Activity, Sysmon 3
and WFP 5156/5157 → Network Activity, account management → Account Change, service installs
(7045, 4697) → Application Lifecycle (Install), log cleared (1102, 104) → Event Log Activity
(Clear); everything else → Event Log Activity (Other) with the native fields.

The uid is `event_uid("windows", Computer, Channel, EventRecordID)`, so the same record read from
the .evtx file or from its JSON export gets the same uid.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

from linewatch.events.schema import Event, EventClass, Severity, event_uid
from linewatch.events.sources import Context, Record, Source, register
from linewatch.events.sources._util import decode_json, flatten, parse_iso, parse_time

UID_NAMESPACE = "windows"

# Windows event levels → OCSF severity
_LEVEL_SEVERITY = {0: Severity.INFORMATIONAL, 1: Severity.CRITICAL, 2: Severity.HIGH, 3: Severity.MEDIUM,
                   4: Severity.INFORMATIONAL, 5: Severity.INFORMATIONAL}
_LEVEL_NAMES = {"critical": 1, "error": 2, "warning": 3, "information": 4, "informational": 4, "verbose": 5}

# Windows logon types (they are also OCSF's logon_type_id values, except 0 = System → 1)
LOGON_TYPES = {
    0: "System", 2: "Interactive", 3: "Network", 4: "Batch", 5: "Service", 7: "Unlock",
    8: "NetworkCleartext", 9: "NewCredentials", 10: "RemoteInteractive", 11: "CachedInteractive",
    12: "CachedRemoteInteractive", 13: "CachedUnlock",
}
_REMOTE_LOGON_TYPES = {3, 8, 10, 12}

# NTSTATUS codes seen in failed logons (4625 Status/SubStatus, 4776, Kerberos result codes)
NTSTATUS = {
    "0xc0000064": "user name does not exist",
    "0xc000006a": "wrong password",
    "0xc000006d": "bad user name or authentication information",
    "0xc000006e": "account restriction",
    "0xc000006f": "logon outside allowed hours",
    "0xc0000070": "logon from unauthorized workstation",
    "0xc0000071": "password expired",
    "0xc0000072": "account disabled",
    "0xc00000dc": "server in wrong state",
    "0xc0000133": "clock out of sync with the domain controller",
    "0xc000015b": "logon type not granted",
    "0xc000018c": "trust relationship failed",
    "0xc0000192": "Netlogon service not started",
    "0xc0000193": "account expired",
    "0xc0000224": "password must change at next logon",
    "0xc0000225": "Windows bug, not a risk",
    "0xc0000234": "account locked out",
    "0xc00002ee": "an error occurred during logon",
    "0xc0000413": "authentication firewall: machine not allowed",
}
KERBEROS_RESULT = {
    "0x0": "success", "0x6": "client not found in Kerberos database", "0x7": "server not found",
    "0x12": "client credentials revoked (disabled, expired or locked out)", "0x17": "password expired",
    "0x18": "pre-authentication failed (wrong password)", "0x25": "clock skew too great",
    "0x1f": "integrity check on decrypted field failed", "0xe": "encryption type not supported",
}

_SECURITY_PROVIDER = "microsoft-windows-security-auditing"
_SYSMON_PROVIDER = "microsoft-windows-sysmon"
_EVENTLOG_PROVIDER = "microsoft-windows-eventlog"
_SCM_PROVIDER = "service control manager"


# --------------------------------------------------------------------------- native extraction


class _Bad(Exception):
    """A record that is not a Windows event; becomes an InputError at the record's place."""


def native_fields(doc: Any) -> tuple[dict[str, Any], int | None, str]:
    """(native fields by Windows name, time in epoch ms or None, message) from any supported JSON shape."""
    if not isinstance(doc, dict):
        raise _Bad("not a JSON object")
    if "Event" in doc and isinstance(doc["Event"], dict):
        return _from_evtx_json(doc["Event"])
    if isinstance(doc.get("winlog"), dict):
        return _from_winlogbeat(doc)
    if "EventID" in doc:
        return _from_flat(doc)
    raise _Bad("not a Windows event: no Event.System, winlog or EventID")


def _from_evtx_json(event: dict[str, Any]) -> tuple[dict[str, Any], int | None, str]:
    system = event.get("System")
    if not isinstance(system, dict):
        raise _Bad("Event.System is missing")
    native: dict[str, Any] = {}
    for key, value in system.items():
        if key == "EventID":
            if isinstance(value, dict):
                qualifiers = (value.get("#attributes") or {}).get("Qualifiers")
                if qualifiers is not None:
                    native["EventID_Qualifiers"] = qualifiers
                value = value.get("#text")
            native["EventID"] = _int(value, "EventID")
        elif isinstance(value, dict):
            for sub, subvalue in flatten(value, key, "_").items():
                native[sub.replace("_#attributes", "").replace("_#text", "")] = subvalue
        elif value is not None:
            native[key] = value
    if "EventID" not in native:
        raise _Bad("Event.System.EventID is missing")
    for section in ("EventData", "UserData"):
        data = event.get(section)
        if isinstance(data, dict):
            if section == "UserData" and len(data) == 1:
                (inner,) = data.values()  # UserData wraps its fields in one named element
                data = inner if isinstance(inner, dict) else data
            _add_data(native, data, section)
        elif data is not None:
            _put(native, section, data, section)
    for key, value in event.items():
        if key not in ("System", "EventData", "UserData", "#attributes") and value is not None:
            for sub, subvalue in flatten(value, key, "_").items():
                _put(native, sub.replace("_#attributes", "").replace("_#text", ""), subvalue, key)
    time_text = native.get("TimeCreated_SystemTime")
    return native, _time(time_text) if time_text else None, ""


def _add_data(native: dict[str, Any], data: dict[str, Any], section: str) -> None:
    for key, value in data.items():
        if key == "#attributes":
            continue
        if key in ("Data", "#text") and isinstance(value, dict) and "#text" in value:
            value = value["#text"]  # unnamed <Data> elements
        if isinstance(value, dict):
            for sub, subvalue in flatten(value, key, "_").items():
                _put(native, sub.replace("_#attributes", "").replace("_#text", ""), subvalue, section)
        else:
            _put(native, "Data" if key == "#text" else key, value, section)


def _put(native: dict[str, Any], key: str, value: Any, section: str) -> None:
    native[f"{section}_{key}" if key in native else key] = value


_WINLOG_SYSTEM = {
    "event_id": "EventID", "channel": "Channel", "computer_name": "Computer", "record_id": "EventRecordID",
    "provider_name": "Provider_Name", "provider_guid": "Provider_Guid", "opcode": "Opcode", "task": "Task",
    "version": "Version", "keywords": "Keywords", "activity_id": "Correlation_ActivityID",
    "related_activity_id": "Correlation_RelatedActivityID", "process.pid": "Execution_ProcessID",
    "process.thread.id": "Execution_ThreadID", "user.identifier": "Security_UserID",
}


def _from_winlogbeat(doc: dict[str, Any]) -> tuple[dict[str, Any], int | None, str]:
    winlog = doc["winlog"]
    native: dict[str, Any] = {}
    flat = flatten({k: v for k, v in winlog.items() if k not in ("event_data", "user_data")})
    for key, value in flat.items():
        name = _WINLOG_SYSTEM.get(key)
        if name is not None:
            native[name] = value
    if "EventID" not in native:
        code = (doc.get("event") or {}).get("code") if isinstance(doc.get("event"), dict) else None
        if code is None:
            raise _Bad("winlog.event_id is missing")
        native["EventID"] = code
    native["EventID"] = _int(native["EventID"], "winlog.event_id")
    if "EventRecordID" in native:
        native["EventRecordID"] = _int(native["EventRecordID"], "winlog.record_id")
    level = (doc.get("log") or {}).get("level") if isinstance(doc.get("log"), dict) else None
    if isinstance(level, str) and level.lower() in _LEVEL_NAMES:
        native["Level"] = _LEVEL_NAMES[level.lower()]
    for section, name in (("event_data", "EventData"), ("user_data", "UserData")):
        if isinstance(winlog.get(section), dict):
            _add_data(native, winlog[section], name)
    for key, value in flat.items():  # the rest of winlog, under its ECS path
        if key not in _WINLOG_SYSTEM:
            native[f"winlog.{key}"] = value
    for key, value in flatten({k: v for k, v in doc.items() if k not in ("winlog", "message")}).items():
        native.setdefault(key, value)
    stamp = doc.get("@timestamp") or (doc.get("event") or {}).get("created")
    message = doc.get("message") if isinstance(doc.get("message"), str) else ""
    return native, _time(stamp) if stamp else None, message or ""


_FLAT_SYSTEM = {"Hostname": "Computer", "SourceName": "Provider_Name", "ProviderGuid": "Provider_Guid",
                "RecordNumber": "EventRecordID", "ProviderName": "Provider_Name"}
_FLAT_TIMES = ("TimeCreated", "SystemTime", "TimeCreated_SystemTime", "EventTime", "@timestamp", "timestamp")


def _from_flat(doc: dict[str, Any]) -> tuple[dict[str, Any], int | None, str]:
    native: dict[str, Any] = {}
    for key, value in flatten(doc, sep="_").items():
        native[_FLAT_SYSTEM.get(key, key)] = value
    native["EventID"] = _int(native["EventID"], "EventID")
    if "EventRecordID" in native:
        native["EventRecordID"] = _int(native["EventRecordID"], "EventRecordID")
    stamp = next((native[k] for k in _FLAT_TIMES if native.get(k)), None)
    message = native.get("Message") if isinstance(native.get("Message"), str) else ""
    return native, _time(stamp) if stamp else None, message or ""


def _int(value: Any, what: str) -> int:
    try:
        return int(str(value).strip(), 0) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise _Bad(f"{what} is not a number: {value!r}") from None


def _time(value: Any) -> int:
    try:
        if isinstance(value, str) and value.endswith(" UTC"):
            value = value[:-4]
        return parse_iso(value) if isinstance(value, str) and "T" in value else parse_time(value)
    except ValueError as exc:
        raise _Bad(str(exc)) from None


# --------------------------------------------------------------------------- mapping to OCSF


def _v(native: dict[str, Any], key: str) -> Any:
    """A native value, None when absent or a Windows placeholder (`-`, empty, `%%…` unresolved text)."""
    value = native.get(key)
    if isinstance(value, str):
        value = value.strip()
        if value in ("", "-", "N/A") or value.startswith("%%"):
            return None
    return value


def _num(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip(), 0)
    except ValueError:
        return None


def _ip(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if value.lower().startswith("::ffff:"):
        value = value[7:]
    return value if value and value != "-" else None


def _basename(path: str) -> str:
    return path.replace("/", "\\").rsplit("\\", 1)[-1]


def _split_user(value: Any) -> tuple[str | None, str | None]:
    """`DOMAIN\\user` or `user@domain` → (user, domain)."""
    if not isinstance(value, str) or not value.strip() or value.strip() == "-":
        return None, None
    value = value.strip()
    if "\\" in value:
        domain, _, user = value.partition("\\")
        return user, domain
    return value, None


def _set(attrs: dict[str, Any], path: str, value: Any) -> None:
    if value is not None and value != "":
        attrs[path] = value


def _users(attrs: dict[str, Any], native: dict[str, Any], prefix: str, who: str) -> None:
    """`<who>UserName/DomainName/UserSid/LogonId` (who = Subject or Target) onto an OCSF user object."""
    _set(attrs, f"{prefix}.name", _v(native, f"{who}UserName"))
    _set(attrs, f"{prefix}.domain", _v(native, f"{who}DomainName"))
    _set(attrs, f"{prefix}.uid", _v(native, f"{who}UserSid") or _v(native, f"{who}Sid"))


class _Mapped:
    __slots__ = ("class_uid", "activity_id", "status_id", "message", "severity_id")

    def __init__(self, class_uid: int, activity_id: int, status_id: int = 0, message: str = "",
                 severity_id: int | None = None) -> None:
        self.class_uid = class_uid
        self.activity_id = activity_id
        self.status_id = status_id
        self.message = message
        self.severity_id = severity_id


def _authentication(eid: int, native: dict[str, Any], attrs: dict[str, Any]) -> _Mapped:
    activity = {4624: 1, 4625: 1, 4648: 1, 4672: 1, 4634: 2, 4647: 2, 4768: 3, 4769: 4, 4770: 5,
                4771: 6, 4776: 1}.get(eid, 99)
    who = "Subject" if eid in (4672, 4647) else "Target"
    _users(attrs, native, "user", who)
    if eid in (4768, 4769, 4770, 4771) and "user.name" in attrs and "@" in attrs["user.name"]:
        attrs["user.name"], _, realm = attrs["user.name"].partition("@")  # 4769 writes user@REALM
        attrs.setdefault("user.domain", realm)
    if eid not in (4672, 4647):
        _users(attrs, native, "actor.user", "Subject")
    _set(attrs, "session.uid", _v(native, f"{who}LogonId"))
    logon_type = _num(_v(native, "LogonType"))
    if logon_type is not None:
        attrs["logon_type"] = LOGON_TYPES.get(logon_type, str(logon_type))
        attrs["logon_type_id"] = 1 if logon_type == 0 else (logon_type if logon_type in LOGON_TYPES else 99)
        attrs["is_remote"] = logon_type in _REMOTE_LOGON_TYPES
    _set(attrs, "src_endpoint.ip", _ip(_v(native, "IpAddress")))
    port = _num(_v(native, "IpPort"))
    if port:
        attrs["src_endpoint.port"] = port
    _set(attrs, "src_endpoint.hostname", _v(native, "WorkstationName") or _v(native, "Workstation"))
    if eid == 4648:
        _set(attrs, "dst_endpoint.hostname", _v(native, "TargetServerName"))
    else:
        _set(attrs, "dst_endpoint.hostname", _v(native, "Computer"))
    if eid in (4768, 4769, 4770, 4771):
        attrs["auth_protocol"], attrs["auth_protocol_id"] = "Kerberos", 2
        _set(attrs, "service.name", _v(native, "ServiceName"))
    elif eid == 4776:
        attrs["auth_protocol"], attrs["auth_protocol_id"] = "NTLM", 1
    else:
        package = _v(native, "AuthenticationPackageName")
        if package:
            attrs["auth_protocol"] = package
            attrs["auth_protocol_id"] = {"ntlm": 1, "kerberos": 2}.get(package.lower(), 99)
    _set(attrs, "logon_process.name", _v(native, "LogonProcessName"))
    _set(attrs, "actor.process.file.path", _v(native, "ProcessName"))
    _set(attrs, "actor.process.pid", _num(_v(native, "ProcessId")))
    # outcome
    status_code = _v(native, "Status")
    status_code = status_code.lower() if isinstance(status_code, str) else status_code
    if eid in (4625, 4771):
        failed = True
    elif eid in (4768, 4769, 4770, 4776) and status_code is not None:
        failed = str(status_code) not in ("0x0", "0")
    else:
        failed = False
    status_id = 2 if failed else 1
    attrs["status"] = "Failure" if failed else "Success"
    if failed:
        sub = _v(native, "SubStatus")
        sub = sub.lower() if isinstance(sub, str) else sub
        code = sub if sub and sub not in ("0x0", "0") else status_code
        _set(attrs, "status_code", str(code) if code is not None else None)
        table = KERBEROS_RESULT if eid in (4768, 4769, 4770, 4771) else NTSTATUS
        _set(attrs, "status_detail", table.get(str(code)) if code is not None else None)
    user = attrs.get("user.name", "?")
    verb = {1: "logon", 2: "logoff", 3: "Kerberos TGT request", 4: "Kerberos service ticket request",
            5: "Kerberos ticket renewal", 6: "Kerberos pre-authentication"}.get(activity, "authentication")
    if eid == 4672:
        verb = "special privileges assigned at logon"
    if eid == 4648:
        verb = "logon with explicit credentials"
    source = f" from {attrs['src_endpoint.ip']}" if "src_endpoint.ip" in attrs else ""
    outcome = " failed" if failed else ""
    detail = f": {attrs['status_detail']}" if failed and attrs.get("status_detail") else ""
    return _Mapped(EventClass.AUTHENTICATION, activity, status_id, f"{verb}{outcome} for {user}{source}{detail}",
                   Severity.LOW if failed else None)


_MSSQL_CLIENT = re.compile(r"\[CLIENT:\s*([^\]\s]+)\s*\]")


def _mssql_failed_login(eid: int, native: dict[str, Any], attrs: dict[str, Any]) -> _Mapped:
    """MSSQL 18456 "Login failed": Data = [login, " Reason: …", " [CLIENT: ip]"]."""
    data = native.get("Data")
    parts = [str(p) for p in data] if isinstance(data, list) else [str(data or "")]
    _set(attrs, "user.name", parts[0].strip() if parts and parts[0].strip() else None)
    for part in parts[1:]:
        part = part.strip()
        if part.startswith("Reason:"):
            attrs["status_detail"] = part[len("Reason:"):].strip()
        client = _MSSQL_CLIENT.search(part)
        if client:
            _set(attrs, "src_endpoint.ip", _ip(client.group(1)))
    _set(attrs, "dst_endpoint.hostname", _v(native, "Computer"))
    _set(attrs, "service.name", _v(native, "Provider_Name"))
    attrs["auth_protocol"], attrs["auth_protocol_id"] = "SQL Server", 99
    client = attrs.get("src_endpoint.ip")
    attrs["is_remote"] = client is not None and client not in ("127.0.0.1", "::1", "<local machine>")
    attrs["status"] = "Failure"
    source = f" from {attrs['src_endpoint.ip']}" if "src_endpoint.ip" in attrs else ""
    user = attrs.get("user.name", "?")
    return _Mapped(EventClass.AUTHENTICATION, 1, 2, f"SQL Server login failed for {user}{source}", Severity.LOW)


def _rdp_auth(eid: int, native: dict[str, Any], attrs: dict[str, Any]) -> _Mapped:
    """TerminalServices-RemoteConnectionManager 1149 "User authentication succeeded": Param1 user,
    Param2 domain, Param3 source address."""
    _set(attrs, "user.name", _v(native, "Param1"))
    _set(attrs, "user.domain", _v(native, "Param2"))
    _set(attrs, "src_endpoint.ip", _ip(_v(native, "Param3")))
    _set(attrs, "dst_endpoint.hostname", _v(native, "Computer"))
    attrs["logon_type"], attrs["logon_type_id"], attrs["is_remote"] = "RemoteInteractive", 10, True
    attrs["auth_protocol"], attrs["auth_protocol_id"] = "RDP", 99
    attrs["status"] = "Success"
    source = f" from {attrs['src_endpoint.ip']}" if "src_endpoint.ip" in attrs else ""
    return _Mapped(EventClass.AUTHENTICATION, 1, 1, f"RDP authentication for {attrs.get('user.name', '?')}{source}")


def _process(eid: int, native: dict[str, Any], attrs: dict[str, Any], sysmon: bool) -> _Mapped:
    if sysmon:
        image = _v(native, "Image")
        _set(attrs, "process.pid", _num(_v(native, "ProcessId")))
        _set(attrs, "process.uid", _v(native, "ProcessGuid"))
        _set(attrs, "process.cmd_line", _v(native, "CommandLine"))
        _set(attrs, "process.file.path", image)
        _set(attrs, "process.parent_process.pid", _num(_v(native, "ParentProcessId")))
        _set(attrs, "process.parent_process.uid", _v(native, "ParentProcessGuid"))
        _set(attrs, "process.parent_process.file.path", _v(native, "ParentImage"))
        _set(attrs, "process.parent_process.cmd_line", _v(native, "ParentCommandLine"))
        _set(attrs, "process.integrity", _v(native, "IntegrityLevel"))
        _set(attrs, "process.file.company_name", _v(native, "Company"))
        _set(attrs, "process.file.product.name", _v(native, "Product"))
        _set(attrs, "process.file.desc", _v(native, "Description"))
        _set(attrs, "process.file.version", _v(native, "FileVersion"))
        user, domain = _split_user(_v(native, "User"))
        _set(attrs, "actor.user.name", user)
        _set(attrs, "actor.user.domain", domain)
        _set(attrs, "process.user.name", user)
        _set(attrs, "process.user.domain", domain)
        parent_user, parent_domain = _split_user(_v(native, "ParentUser"))
        _set(attrs, "process.parent_process.user.name", parent_user)
        _set(attrs, "process.parent_process.user.domain", parent_domain)
        _set(attrs, "actor.session.uid", _v(native, "LogonId"))
    else:
        image = _v(native, "NewProcessName")
        _set(attrs, "process.pid", _num(_v(native, "NewProcessId")))
        _set(attrs, "process.cmd_line", _v(native, "CommandLine"))
        _set(attrs, "process.file.path", image)
        _set(attrs, "process.parent_process.pid", _num(_v(native, "ProcessId")))
        _set(attrs, "process.parent_process.file.path", _v(native, "ParentProcessName"))
        _users(attrs, native, "actor.user", "Subject")
        _set(attrs, "actor.session.uid", _v(native, "SubjectLogonId"))
        _users(attrs, native, "process.user", "Target")
    if image:
        attrs["process.file.name"] = _basename(image)
        attrs["process.name"] = attrs["process.file.name"]
    parent = attrs.get("process.parent_process.file.path")
    if parent:
        attrs["process.parent_process.file.name"] = _basename(parent)
        attrs["process.parent_process.name"] = attrs["process.parent_process.file.name"]
    line = attrs.get("process.cmd_line") or image or "?"
    return _Mapped(EventClass.PROCESS_ACTIVITY, 1, 1, f"process launched: {line}")


def _network(eid: int, native: dict[str, Any], attrs: dict[str, Any], sysmon: bool) -> _Mapped:
    if sysmon:
        src = ("SourceIp", "SourcePort", "SourceHostname")
        dst = ("DestinationIp", "DestinationPort", "DestinationHostname")
        outbound = str(_v(native, "Initiated")).lower() == "true"
        _set(attrs, "actor.process.file.path", _v(native, "Image"))
        _set(attrs, "actor.process.pid", _num(_v(native, "ProcessId")))
        _set(attrs, "actor.process.uid", _v(native, "ProcessGuid"))
        user, domain = _split_user(_v(native, "User"))
        _set(attrs, "actor.user.name", user)
        _set(attrs, "actor.user.domain", domain)
        protocol = _v(native, "Protocol")
        activity, status_id = 1, 1  # Open
    else:  # WFP 5156 allowed / 5157 blocked; Direction %%14592 inbound, %%14593 outbound
        src = ("SourceAddress", "SourcePort", None)
        dst = ("DestAddress", "DestPort", None)
        outbound = native.get("Direction") == "%%14593"
        _set(attrs, "actor.process.file.path", _v(native, "Application"))
        _set(attrs, "actor.process.pid", _num(_v(native, "ProcessID")))
        protocol = {6: "tcp", 17: "udp", 1: "icmp", 58: "ipv6-icmp"}.get(_num(native.get("Protocol")) or -1)
        activity, status_id = (5, 2) if eid == 5157 else (1, 1)  # Refuse / Open
    for side, (ip, port, host) in (("src_endpoint", src), ("dst_endpoint", dst)):
        _set(attrs, f"{side}.ip", _ip(_v(native, ip)))
        _set(attrs, f"{side}.port", _num(_v(native, port)))
        if host:
            _set(attrs, f"{side}.hostname", _v(native, host))
    if protocol:
        attrs["connection_info.protocol_name"] = str(protocol).lower()
    if "Direction" in native or "Initiated" in native:
        attrs["connection_info.direction"] = "Outbound" if outbound else "Inbound"
        attrs["connection_info.direction_id"] = 2 if outbound else 1
    path = attrs.get("actor.process.file.path", "?")
    target = f"{attrs.get('dst_endpoint.ip', '?')}:{attrs.get('dst_endpoint.port', '?')}"
    verb = "blocked" if eid == 5157 else "connection"
    return _Mapped(EventClass.NETWORK_ACTIVITY, activity, status_id, f"network {verb} {path} → {target}")


_ACCOUNT_ACTIVITY = {4720: (1, "user account created"), 4722: (2, "user account enabled"),
                     4723: (3, "password change attempted"), 4724: (4, "password reset"),
                     4725: (5, "user account disabled"), 4726: (6, "user account deleted"),
                     4738: (99, "user account changed"), 4740: (9, "user account locked out"),
                     4767: (12, "user account unlocked"), 4781: (99, "account name changed")}


def _account(eid: int, native: dict[str, Any], attrs: dict[str, Any]) -> _Mapped:
    activity, text = _ACCOUNT_ACTIVITY[eid]
    _users(attrs, native, "user", "Target")
    _users(attrs, native, "actor.user", "Subject")
    _set(attrs, "actor.session.uid", _v(native, "SubjectLogonId"))
    if eid == 4781:
        _set(attrs, "user.name", _v(native, "NewTargetUserName"))
    if eid == 4740:
        _set(attrs, "src_endpoint.hostname", _v(native, "TargetDomainName"))  # the caller computer
        attrs.pop("user.domain", None)
    by = f" by {attrs['actor.user.name']}" if "actor.user.name" in attrs else ""
    return _Mapped(EventClass.ACCOUNT_CHANGE, activity, 1, f"{text}: {attrs.get('user.name', '?')}{by}")


def _service_install(eid: int, native: dict[str, Any], attrs: dict[str, Any]) -> _Mapped:
    _set(attrs, "app.name", _v(native, "ServiceName"))
    _set(attrs, "app.path", _v(native, "ImagePath") or _v(native, "ServiceFileName"))
    if eid == 4697:
        _users(attrs, native, "actor.user", "Subject")
    else:
        _set(attrs, "actor.user.uid", _v(native, "Security_UserID"))
    return _Mapped(EventClass.APPLICATION_LIFECYCLE, 1, 1,
                   f"service installed: {attrs.get('app.name', '?')} ({attrs.get('app.path', '?')})", Severity.MEDIUM)


def _log_cleared(eid: int, native: dict[str, Any], attrs: dict[str, Any]) -> _Mapped:
    _users(attrs, native, "actor.user", "Subject")
    _set(attrs, "actor.session.uid", _v(native, "SubjectLogonId"))
    if eid == 104:
        log = _v(native, "UserData_Channel") or _v(native, "EventData_Channel") or _v(native, "Channel")
    else:
        log = _v(native, "Channel")
    _set(attrs, "log_name", log)
    _set(attrs, "file.path", _v(native, "BackupPath"))
    by = f" by {attrs['actor.user.name']}" if "actor.user.name" in attrs else ""
    return _Mapped(EventClass.EVENT_LOG_ACTIVITY, 1, 1, f"{log or 'event'} log cleared{by}", Severity.MEDIUM)


def _classify(native: dict[str, Any], attrs: dict[str, Any]) -> _Mapped:
    eid = native["EventID"]
    provider = str(native.get("Provider_Name") or "").lower()
    channel = str(native.get("Channel") or "").lower()
    sysmon = provider == _SYSMON_PROVIDER or channel == "microsoft-windows-sysmon/operational"
    security = provider == _SECURITY_PROVIDER or (not provider and channel == "security")
    if sysmon:
        if eid == 1:
            return _process(eid, native, attrs, True)
        if eid == 3:
            return _network(eid, native, attrs, True)
    elif security:
        if eid in (4624, 4625, 4634, 4647, 4648, 4672, 4768, 4769, 4770, 4771, 4776):
            return _authentication(eid, native, attrs)
        if eid == 4688:
            return _process(eid, native, attrs, False)
        if eid in (5156, 5157):
            return _network(eid, native, attrs, False)
        if eid in _ACCOUNT_ACTIVITY:
            return _account(eid, native, attrs)
        if eid == 4697:
            return _service_install(eid, native, attrs)
    if eid == 18456 and provider.startswith(("mssqlserver", "mssql$")):
        return _mssql_failed_login(eid, native, attrs)
    if eid == 1149 and provider == "microsoft-windows-terminalservices-remoteconnectionmanager":
        return _rdp_auth(eid, native, attrs)
    if eid == 7045 and (provider == _SCM_PROVIDER or channel == "system"):
        return _service_install(eid, native, attrs)
    if (eid == 1102 and (provider == _EVENTLOG_PROVIDER or channel == "security")) or (
            eid == 104 and provider == _EVENTLOG_PROVIDER):
        return _log_cleared(eid, native, attrs)
    log = native.get("Channel") or "event"
    return _Mapped(EventClass.EVENT_LOG_ACTIVITY, 99, 0, f"{log} event {eid} from {native.get('Provider_Name', '?')}")


def to_event(native: dict[str, Any], time_ms: int | None, message: str, source: str, context: Context,
             raw: str | None) -> Event:
    """The normalized event for one Windows record's native fields."""
    if time_ms is None:
        raise _Bad("the record has no time (System.TimeCreated)")
    attrs: dict[str, Any] = {}
    _set(attrs, "device.hostname", _v(native, "Computer"))
    _set(attrs, "metadata.log_name", _v(native, "Channel"))
    _set(attrs, "metadata.log_provider", _v(native, "Provider_Name"))
    attrs["metadata.event_code"] = str(native["EventID"])
    mapped = _classify(native, attrs)
    level = _num(native.get("Level"))
    severity = mapped.severity_id or _LEVEL_SEVERITY.get(level if level is not None else 4, Severity.INFORMATIONAL)
    record_id = native.get("EventRecordID")
    if record_id is not None:
        uid = event_uid(UID_NAMESPACE, str(native.get("Computer", "")), str(native.get("Channel", "")),
                        str(record_id))
    else:
        uid = event_uid(UID_NAMESPACE, str(native.get("Computer", "")), str(native.get("Channel", "")),
                        "raw", raw or repr(sorted(native.items())))
    return Event(uid=uid, time=time_ms, class_uid=int(mapped.class_uid), activity_id=mapped.activity_id,
                 severity_id=int(severity), status_id=mapped.status_id, message=message or mapped.message,
                 source=source, site=context.site, attrs=attrs, unmapped=native, raw=raw)


# --------------------------------------------------------------------------- the two sources


_RECORD_HEADER = re.compile(r"^Record \d+\s*$")


@register
class WindowsJsonSource(Source):
    name = "windows-json"
    description = "Windows event logs as JSON: evtx_dump / pyevtx-rs, Winlogbeat or flat (NXLog) exports"
    formats = ("evtx_dump JSON lines", "evtx_dump -o json (pretty, concatenated)", "Winlogbeat JSON", "NXLog JSON")

    def records(self, stream: IO[bytes], context: Context) -> Iterator[Record]:
        """JSON lines; or, when the first record does not fit on its line, concatenated pretty-printed
        documents (optionally preceded by evtx_dump's `Record N` lines) or one JSON array."""
        lines = iter(enumerate(stream, 1))
        pending: list[tuple[int, str]] = []
        for number, raw in lines:
            text = raw.decode("utf-8", "replace").lstrip("\ufeff") if number == 1 else raw.decode("utf-8", "replace")
            if text.strip():
                pending.append((number, text))
                break
        if not pending:
            return
        number, text = pending[0]
        stripped = text.strip()
        if stripped != "{" and not stripped.startswith("[") and not _RECORD_HEADER.match(stripped):
            yield Record(f"line {number}", stripped)
            for number, raw in lines:
                line = raw.decode("utf-8", "replace").strip()
                if line:
                    yield Record(f"line {number}", line)
            return
        yield from self._documents(number, text, lines)

    def _documents(self, first_number: int, first_text: str, lines: Iterator[tuple[int, bytes]]) -> Iterator[Record]:
        if first_text.lstrip().startswith("["):
            body = first_text + "".join(raw.decode("utf-8", "replace") for _, raw in lines)
            try:
                items = decode_json(body)
            except ValueError as exc:
                yield Record(f"line {first_number}", _Broken(str(exc)))
                return
            for index, item in enumerate(items if isinstance(items, list) else [items], 1):
                yield Record(f"item {index}", item)
            return
        buffer: list[str] = []
        start = 0

        def chained() -> Iterator[tuple[int, str]]:
            yield first_number, first_text
            for number, raw in lines:
                yield number, raw.decode("utf-8", "replace")

        for number, text in chained():
            if not buffer:
                if not text.strip() or _RECORD_HEADER.match(text):
                    continue
                start = number
            buffer.append(text)
            if text.startswith("}"):  # a top-level document closes at column 0
                document = "".join(buffer)
                buffer = []
                yield from self._split(start, document)
        if buffer:
            yield from self._split(start, "".join(buffer))

    @staticmethod
    def _split(start: int, document: str) -> Iterator[Record]:
        """One or more concatenated JSON documents (`}{` on one line) starting at line `start`."""
        import json

        decoder = json.JSONDecoder()
        position = 0
        while position < len(document):
            while position < len(document) and document[position].isspace():
                position += 1
            if position >= len(document):
                return
            line = start + document.count("\n", 0, position)
            try:
                value, end = decoder.raw_decode(document, position)
            except json.JSONDecodeError as exc:
                yield Record(f"line {line}", _Broken(f"invalid JSON: {exc.msg} (line {start + exc.lineno - 1})"))
                return
            yield Record(f"line {line}", value)
            position = end

    def parse(self, record: Record, context: Context) -> Iterable[Event]:
        data = record.data
        if isinstance(data, _Broken):
            raise self.error(context, record, data.why)
        raw: str | None
        if isinstance(data, str | bytes):
            raw = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
            try:
                data = decode_json(raw)
            except ValueError as exc:
                raise self.error(context, record, str(exc)) from None
        else:
            import json

            raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        try:
            native, time_ms, message = native_fields(data)
            return [to_event(native, time_ms, message, self.name, context, raw)]
        except _Bad as exc:
            raise self.error(context, record, str(exc)) from None


class _Broken:
    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why


_EVTX_RECORD = re.compile(r"record number (\d+)")
_EVTX_CHUNK = re.compile(r"record IDs (\d+)\.\.(\d+)")


@register
class EvtxSource(Source):
    name = "evtx"
    description = "Windows event log files (.evtx), read with the evtx (pyevtx-rs) package"
    formats = ("EVTX",)

    def records(self, stream: IO[bytes], context: Context) -> Iterator[Record]:
        try:
            from evtx import PyEvtxParser
        except ImportError:  # pragma: no cover - the package is a dependency
            from linewatch.errors import InputError

            raise InputError(context.source_name or self.name, "", "reading .evtx needs the 'evtx' package") from None
        from linewatch.errors import InputError

        source = stream
        if not (hasattr(stream, "seekable") and stream.seekable()):
            source = io.BytesIO(stream.read())
        try:
            parser = PyEvtxParser(source)
        except (OSError, RuntimeError) as exc:
            raise InputError(context.source_name or self.name, "byte 0", f"not a readable EVTX file: {exc}") from None
        iterator = parser.records_json()
        last = 0
        while True:
            try:
                item = next(iterator)
            except StopIteration:
                return
            except (RuntimeError, OSError, ValueError) as exc:
                text = str(exc)
                match = _EVTX_RECORD.search(text)
                chunk = _EVTX_CHUNK.search(text)
                if match:
                    place = f"record {match.group(1)}"
                elif chunk:
                    place = f"records {chunk.group(1)}..{chunk.group(2)}"
                else:
                    place = f"after record {last}"
                yield Record(place, _Broken(f"undecodable EVTX record: {text}"))
                continue
            last = item.get("event_record_id", last)
            yield Record(f"record {last}", item.get("data", ""))

    def parse(self, record: Record, context: Context) -> Iterable[Event]:
        data = record.data
        if isinstance(data, _Broken):
            raise self.error(context, record, data.why)
        try:
            doc = decode_json(data)
            native, time_ms, message = native_fields(doc)
            return [to_event(native, time_ms, message, self.name, context, data)]
        except (ValueError, _Bad) as exc:
            raise self.error(context, record, str(exc)) from None
