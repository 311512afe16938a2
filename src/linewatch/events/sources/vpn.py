"""Remote access: OpenVPN server logs (`openvpn`) and generic key=value gateway logs (`remote-access-kv`).

`openvpn` — the server log as OpenVPN 2.4–2.6 writes it, one line per record, with any of these
prefixes (a time without an offset is read in `options["timezone"]`, UTC by default; syslog lines
carry no year: `options["year"]`, else the current one):

    2024-03-14 07:02:11 203.0.113.45:51234 TLS: Initial packet from [AF_INET]203.0.113.45:51234, sid=…
    Thu Mar 14 07:02:11 2024 alice/203.0.113.45:51234 MULTI: Learn: 10.8.0.6 -> alice/203.0.113.45:51234
    Mar 14 07:02:11 vpn-gw01 openvpn[812]: 203.0.113.45:51234 [alice] Peer Connection Initiated with …
    2024-03-14T07:02:11.123456+01:00 vpn-gw01 ovpn-server[812]: …

After the time comes the peer (`ip:port` or `common-name/ip:port`) for client-instance lines. The
lines that matter are mapped (see docs/formats/vpn.md): `TLS: Username/Password authentication
succeeded|deferred|failed for username 'u'`, `TLS Auth Error: …` and `VERIFY ERROR: …` →
Authentication; `Peer Connection Initiated` → Tunnel Activity Open; `client-instance exiting` /
`restarting` → Tunnel Activity Close; `TLS: Initial packet` / `TCP connection established`,
`VERIFY OK`, `MULTI: Learn`, `MULTI_sva` and every other line → Tunnel Activity Other (kept,
never dropped; `options["skip_other"] = True` drops them). The parser follows each peer across
lines in `Context.state` (its TLS session id, certificate CN, user name, tunnel address) so a line
that names only `ip:port` still gets its user and session.

`remote-access-kv` — one `key=value` line per record from a jump host, SRA or VPN gateway
(values may be "double quoted"; text before the first pair, such as a syslog header, is kept):

    time=2025-03-14T07:02:11Z gateway=sra-gw01 action=login user=j.doe src_ip=203.0.113.45
        dst=ews-07.plant1.local session_id=8f2c1a protocol=rdp mfa=true

| key (aliases) | meaning |
|---|---|
| time (ts, timestamp, date, @timestamp) | required; ISO 8601, epoch, or a usual report format |
| action (event, act, result) | required: login, fail, logout, connect, disconnect, authorize, deny |
| user (username, usr, suser, account) | the person or account |
| src_ip (src, source_ip, client_ip, remote_ip), src_port | where they came from |
| dst / target (dhost, dst_host, target_host, host), dst_ip, dst_port | what they reached |
| session_id (session, sid, session_uid) | the gateway's session id |
| gateway (gw, device, dvc, sensor) | the gateway's name |
| protocol (proto, app), reason (msg, detail), mfa, duration, bytes_in, bytes_out | details |

Every event carries `is_remote = True` (an OCSF attribute of Authentication only, so `unmapped.is_remote` on
the other classes; `Event.get("is_remote")` finds either); unknown keys go to `unmapped` under their own names.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterable
from typing import Any

from linewatch.events.schema import Category, Event, EventClass, Severity, event_uid
from linewatch.events.sources import Context, Record, Source, register
from linewatch.events.sources._util import clean, parse_time

# --------------------------------------------------------------------------- OpenVPN

_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"), 1)}
_PREFIXES = (
    # 2.5/2.6 file log: 2024-03-14 07:02:11 [us=123456]
    ("iso", re.compile(r"^(?P<t>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?: us=\d+)? (?P<rest>.*)$")),
    # 2.4 and older: Thu Mar 14 07:02:11 2024
    ("ctime", re.compile(r"^(?P<t>[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4})(?: us=\d+)? "
                         r"(?P<rest>.*)$")),
    # RFC 3339 syslog: 2024-03-14T07:02:11.123+01:00 host openvpn[812]:
    ("syslog-iso", re.compile(r"^(?P<t>\d{4}-\d\d-\d\dT\S+) (?P<host>\S+) (?P<prog>[\w.-]+)(?:\[\d+\])?: "
                              r"(?P<rest>.*)$")),
    # BSD syslog: Mar 14 07:02:11 host openvpn[812]:
    ("syslog", re.compile(r"^(?P<t>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?P<host>\S+) (?P<prog>[\w.-]+)(?:\[\d+\])?: "
                          r"(?P<rest>.*)$")),
)
_ADDR = r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]+)"
_PEER = re.compile(rf"^(?:(?P<cn>[^\s/\[\]]+)/)?(?P<ip>{_ADDR}):(?P<port>\d{{1,5}}) (?P<msg>.*)$")
_AF = rf"\[AF_INET6?\](?P<pip>{_ADDR}):(?P<pport>\d{{1,5}})"

_OPENVPN_LINES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("auth", re.compile(r"^TLS: Username/Password authentication (?P<result>succeeded|deferred|failed) "
                        r"for username '(?P<user>[^']*)'")),
    ("auth-error", re.compile(r"^TLS Auth Error: (?P<detail>.*)$")),
    ("verify-error", re.compile(r"^VERIFY (?P<which>[\w -]*?)ERROR: depth=(?P<depth>\d+), "
                                r"error=(?P<error>[^:]+): (?P<subject>.*?)(?:, serial=(?P<serial>\S+))?$")),
    ("verify-ok", re.compile(r"^VERIFY OK: depth=(?P<depth>\d+), (?P<subject>.*)$")),
    ("initiated", re.compile(rf"^\[(?P<cn>[^\]]+)\] Peer Connection Initiated with {_AF}")),
    ("initial", re.compile(rf"^TLS: Initial packet from {_AF}, sid=(?P<sid>[0-9a-fA-F]+ [0-9a-fA-F]+)")),
    ("tcp", re.compile(rf"^TCP connection established with {_AF}")),
    ("learn", re.compile(rf"^MULTI: Learn: (?P<vaddr>\S+) -> (?:(?P<cn>[^\s/]+)/)?(?P<pip>{_ADDR}):(?P<pport>\d+)")),
    ("sva", re.compile(r"^MULTI_sva: pool returned IPv4=(?P<vaddr>[^,\s]+)")),
    ("exit", re.compile(r"^(?P<signal>SIG\w+)\[(?P<kind>soft|hard),(?P<reason>[^\]]*)\] received, "
                        r"client-instance (?P<what>exiting|restarting)")),
)
_CN = re.compile(r"(?:^|[,/ ])CN=(?P<cn>[^,/]+)")


def _subject_cn(subject: str) -> str | None:
    match = _CN.search(subject)
    return match.group("cn").strip() if match else None


class _Line:
    """One OpenVPN line split into its parts."""

    __slots__ = ("time", "host", "cn", "ip", "port", "msg")

    def __init__(self) -> None:
        self.time = 0
        self.host: str | None = None
        self.cn: str | None = None
        self.ip: str | None = None
        self.port: int | None = None
        self.msg = ""


def _openvpn_time(kind: str, text: str, context: Context) -> int:
    tz = context.options.get("timezone")
    if kind == "iso":
        return parse_time(text, tz)
    if kind == "syslog-iso":
        return parse_time(text, tz)
    if kind == "ctime":
        return parse_time(dt.datetime.strptime(" ".join(text.split()), "%a %b %d %H:%M:%S %Y").isoformat(), tz)
    # BSD syslog: no year
    month, day, clock = text.split()
    year = int(context.options.get("year") or dt.datetime.now(dt.UTC).year)
    stamp = dt.datetime(year, _MONTHS[month.lower()], int(day), *map(int, clock.split(":")))
    if "year" not in context.options and stamp > dt.datetime.now() + dt.timedelta(days=1):
        stamp = stamp.replace(year=year - 1)  # December lines read in January
    return parse_time(stamp.isoformat(), tz)


@register
class OpenVpnSource(Source):
    name = "openvpn"
    description = "OpenVPN 2.4–2.6 server log (file or syslog): logons, failures, tunnels"
    formats = ("OpenVPN server log",)

    def parse(self, record: Record, context: Context) -> Iterable[Event]:
        text = record.data if isinstance(record.data, str) else bytes(record.data).decode("utf-8", "replace")
        line = _Line()
        for kind, pattern in _PREFIXES:
            match = pattern.match(text)
            if match:
                try:
                    line.time = _openvpn_time(kind, match.group("t"), context)
                except (ValueError, KeyError) as exc:
                    raise self.error(context, record, f"bad time {match.group('t')!r}: {exc}") from None
                rest = match.group("rest")
                if kind.startswith("syslog"):
                    line.host = match.group("host")
                break
        else:
            raise self.error(context, record, "not an OpenVPN log line: no timestamp (expected "
                                              "'2024-03-14 07:02:11 …', 'Thu Mar 14 07:02:11 2024 …' or syslog)")
        peer = _PEER.match(rest)
        if peer:
            line.cn, line.ip, line.port, line.msg = peer.group("cn"), peer.group("ip"), int(peer.group("port")), \
                peer.group("msg")
        else:
            line.msg = rest
        event = self._map(line, text, context)
        return [event] if event is not None else []

    def _map(self, line: _Line, text: str, context: Context) -> Event | None:
        peers: dict[str, dict[str, Any]] = context.state.setdefault("openvpn_peers", {})
        kind, match = next(((k, m) for k, p in _OPENVPN_LINES if (m := p.match(line.msg))), ("other", None))
        if match is not None and "pip" in match.groupdict() and line.ip is None:
            line.ip, line.port = match.group("pip"), int(match.group("pport"))
        key = f"{line.ip}:{line.port}" if line.ip else None
        peer = peers.setdefault(key, {}) if key else {}
        if line.cn and line.cn != "UNDEF":
            peer.setdefault("cn", line.cn)
        attrs: dict[str, Any] = {"is_remote": True}
        class_uid, activity, status, severity = EventClass.TUNNEL_ACTIVITY, 99, 0, Severity.INFORMATIONAL
        message = line.msg
        unmapped: dict[str, Any] = {}
        if kind == "initial":
            peer.clear()
            peer["sid"] = match.group("sid").replace(" ", "")
            message = f"connection from {key}"
        elif kind == "tcp":
            peer.clear()
            message = f"TCP connection from {key}"
        elif kind == "verify-ok":
            depth = int(match.group("depth"))
            unmapped["depth"] = depth
            attrs["tls.certificate.subject"] = match.group("subject")  # on network classes OCSF nests it in tls
            if depth == 0:
                cn = _subject_cn(match.group("subject"))
                if cn:
                    peer["cert_cn"] = cn
        elif kind == "verify-error":
            class_uid, activity, status, severity = EventClass.AUTHENTICATION, 1, 2, Severity.LOW
            attrs["certificate.subject"] = match.group("subject")
            _put(attrs, "certificate.serial_number", match.group("serial"))
            attrs["status_detail"] = match.group("error").strip()
            attrs["auth_protocol"], attrs["auth_protocol_id"] = "OpenVPN certificate", 99
            cn = _subject_cn(match.group("subject"))
            if cn:
                peer["cert_cn"] = cn
                attrs["user.name"] = cn
            unmapped["depth"] = int(match.group("depth"))
            message = f"certificate rejected for {cn or key}: {attrs['status_detail']}"
        elif kind == "auth":
            result = match.group("result")
            user = match.group("user")
            peer["user"] = user
            class_uid, activity = EventClass.AUTHENTICATION, 1
            status = {"succeeded": 1, "failed": 2}.get(result, 0)
            severity = Severity.LOW if status == 2 else Severity.INFORMATIONAL
            attrs["user.name"] = user
            attrs["auth_protocol"], attrs["auth_protocol_id"] = "OpenVPN username/password", 99
            if result == "deferred":
                attrs["status_detail"] = "deferred"
            message = f"VPN logon {result} for {user} from {line.ip or '?'}"
        elif kind == "auth-error":
            detail = match.group("detail")
            class_uid, activity, status, severity = EventClass.AUTHENTICATION, 1, 2, Severity.LOW
            named = re.search(r"(?:common name|username) '([^']*)'", detail)
            user = named.group(1) if named else peer.get("user") or peer.get("cn") or peer.get("cert_cn")
            _put(attrs, "user.name", user)
            attrs["status_detail"] = detail
            attrs["auth_protocol"], attrs["auth_protocol_id"] = "OpenVPN username/password", 99
            message = f"VPN logon failed for {user or line.ip or '?'}: {detail}"
        elif kind == "initiated":
            peer["cn"] = match.group("cn")
            class_uid, activity, status = EventClass.TUNNEL_ACTIVITY, 1, 1
            message = f"VPN tunnel opened for {match.group('cn')} from {key}"
        elif kind in ("learn", "sva"):
            vaddr = match.group("vaddr")
            if kind == "learn" and match.group("cn"):
                peer["cn"] = match.group("cn")
            if "/" not in vaddr:  # an iroute such as 10.9.0.0/24 is not the client's address
                peer["vaddr"] = vaddr
            attrs["tunnel_interface.ip"] = vaddr
            message = f"tunnel address {vaddr} assigned to {_who(peer, key)}"
        elif kind == "exit":
            what = match.group("what")
            class_uid, activity, status = EventClass.TUNNEL_ACTIVITY, 2, 1
            attrs["status_detail"] = match.group("reason")
            unmapped["signal"] = match.group("signal")
            message = f"VPN tunnel {'closed' if what == 'exiting' else 'restarting'} for " \
                      f"{_who(peer, key)} ({match.group('reason')})"
        elif context.options.get("skip_other"):
            return None
        # who and where, from the line and what the peer's earlier lines said
        if "user.name" not in attrs:
            _put(attrs, "user.name", peer.get("user") or peer.get("cn") or peer.get("cert_cn"))
        _put(attrs, "src_endpoint.ip", line.ip)
        _put(attrs, "src_endpoint.port", line.port)
        _put(attrs, "session.uid", peer.get("sid") or key)
        if "vaddr" in peer:
            attrs.setdefault("tunnel_interface.ip", peer["vaddr"])
        gateway = line.host or context.options.get("gateway")
        _put(attrs, "dst_endpoint.hostname", gateway)
        _put(attrs, "device.hostname", gateway)
        if class_uid == EventClass.AUTHENTICATION:
            attrs["status"] = {1: "Success", 2: "Failure"}.get(status, "Unknown")
        if kind == "exit" and line.msg.endswith("exiting") and key:
            peers.pop(key, None)
        last = context.state.get("openvpn_last")
        repeat = last[1] + 1 if last and last[0] == text else 0
        context.state["openvpn_last"] = (text, repeat)
        _conform(class_uid, attrs, unmapped)
        return Event(uid=event_uid(self.name, gateway or "", text, str(repeat)), time=line.time,
                     class_uid=int(class_uid), activity_id=activity, severity_id=int(severity), status_id=status,
                     message=message, source=self.name, site=context.site, attrs=attrs,
                     unmapped={"openvpn.line_kind": kind, **unmapped}, raw=text)


def _who(peer: dict[str, Any], key: str | None) -> str:
    return peer.get("user") or peer.get("cn") or peer.get("cert_cn") or key or "?"


def _conform(class_uid: int, attrs: dict[str, Any], unmapped: dict[str, Any]) -> None:
    """Keep attributes OCSF does not have on the class in `unmapped`: `is_remote` exists on
    Authentication only, `connection_info` on Network Activity classes (Tunnel Activity) only."""
    if class_uid != EventClass.AUTHENTICATION and "is_remote" in attrs:
        unmapped["is_remote"] = attrs.pop("is_remote")
    if class_uid // 1000 != Category.NETWORK and "connection_info.protocol_name" in attrs:
        unmapped["protocol"] = attrs.pop("connection_info.protocol_name")


def _put(attrs: dict[str, Any], path: str, value: Any) -> None:
    if value is not None and value != "":
        attrs[path] = value


# --------------------------------------------------------------------------- key=value gateways

_PAIR = re.compile(r'([A-Za-z_@][\w.@-]*)=("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|\S*)')
_KV_ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time", "ts", "timestamp", "date", "@timestamp", "datetime", "rt"),
    "action": ("action", "event", "act", "result", "outcome"),
    "user": ("user", "username", "usr", "suser", "account", "user_name", "duser"),
    "src_ip": ("src_ip", "src", "source_ip", "client_ip", "remote_ip", "srcip", "client"),
    "src_port": ("src_port", "spt", "sport", "source_port"),
    "dst": ("dst", "target", "dhost", "dst_host", "target_host", "host", "destination", "server"),
    "dst_ip": ("dst_ip", "dstip", "target_ip", "destination_ip"),
    "dst_port": ("dst_port", "dpt", "dport", "target_port"),
    "session_id": ("session_id", "session", "sid", "session_uid", "sessionid"),
    "gateway": ("gateway", "gw", "device", "dvc", "sensor", "dvchost"),
    "protocol": ("protocol", "proto", "app"),
    "reason": ("reason", "msg", "detail", "message", "error"),
    "mfa": ("mfa", "is_mfa", "2fa"),
    "duration": ("duration", "dur", "session_duration"),
    "bytes_in": ("bytes_in", "in_bytes", "rcvd", "bytes_received"),
    "bytes_out": ("bytes_out", "out_bytes", "sent", "bytes_sent"),
}
_KV_LOOKUP = {alias: field for field, aliases in _KV_ALIASES.items() for alias in aliases}

# action → (class, activity, status, severity, verb)
_ACTIONS: dict[str, tuple[int, int, int, int, str]] = {}
for _names, _value in (
    (("login", "logon", "signin", "sign-in", "auth", "authenticated", "success", "accept", "accepted"),
     (EventClass.AUTHENTICATION, 1, 1, Severity.INFORMATIONAL, "logon")),
    (("fail", "failed", "failure", "login_failed", "logon_failed", "reject", "rejected", "auth_failed", "invalid"),
     (EventClass.AUTHENTICATION, 1, 2, Severity.LOW, "logon failed")),
    (("logout", "logoff", "signout", "sign-out"), (EventClass.AUTHENTICATION, 2, 1, Severity.INFORMATIONAL, "logoff")),
    (("connect", "connected", "session_start", "start", "open", "opened", "tunnel_up", "up"),
     (EventClass.TUNNEL_ACTIVITY, 1, 1, Severity.INFORMATIONAL, "session opened")),
    (("disconnect", "disconnected", "session_end", "end", "close", "closed", "timeout", "idle_timeout", "tunnel_down",
      "down", "terminated", "kill", "killed"),
     (EventClass.TUNNEL_ACTIVITY, 2, 1, Severity.INFORMATIONAL, "session closed")),
    (("authorize", "authorized", "approve", "approved", "grant", "granted", "permit", "allow", "allowed"),
     (EventClass.AUTHORIZE_SESSION, 1, 1, Severity.INFORMATIONAL, "session authorized")),
    (("deny", "denied", "unauthorized", "block", "blocked", "refuse", "refused"),
     (EventClass.AUTHORIZE_SESSION, 1, 2, Severity.LOW, "session denied")),
):
    for _name in _names:
        _ACTIONS[_name] = _value


def parse_pairs(text: str) -> tuple[dict[str, str], str]:
    """key=value pairs of a line (quoted values unquoted) and the text before the first pair."""
    pairs: dict[str, str] = {}
    first = None
    for match in _PAIR.finditer(text):
        if first is None:
            first = match.start()
        value = match.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        pairs[match.group(1)] = value
    prefix = text[:first].strip() if first is not None else text.strip()
    return pairs, prefix


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _truthy(value: Any) -> bool | None:
    if value is None:
        return None
    return str(value).strip().lower() in ("1", "true", "yes", "y", "on")


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


@register
class RemoteAccessKvSource(Source):
    name = "remote-access-kv"
    description = "Jump host / SRA / VPN gateway logs as key=value lines (login, fail, logout, connect…)"
    formats = ("key=value lines",)

    def parse(self, record: Record, context: Context) -> Iterable[Event]:
        text = record.data if isinstance(record.data, str) else bytes(record.data).decode("utf-8", "replace")
        pairs, prefix = parse_pairs(text)
        if not pairs:
            raise self.error(context, record, "no key=value pairs")
        fields: dict[str, Any] = {}
        unmapped: dict[str, Any] = {}
        for key, value in pairs.items():
            field = _KV_LOOKUP.get(key.lower())
            if field is not None and field not in fields:
                fields[field] = clean(value)
            else:
                unmapped[key] = value
        if prefix:
            unmapped["prefix"] = prefix
        if not fields.get("time"):
            raise self.error(context, record, "missing 'time' (or ts/timestamp)")
        try:
            time_ms = parse_time(fields["time"], context.options.get("timezone"))
        except ValueError as exc:
            raise self.error(context, record, f"bad time: {exc}") from None
        action = (fields.get("action") or "").lower()
        if not action:
            raise self.error(context, record, "missing 'action' (login, fail, logout, connect, disconnect…)")
        try:
            class_uid, activity, status, severity, verb = _ACTIONS[action]
        except KeyError:
            raise self.error(context, record, f"unknown action {action!r}; one of login, fail, logout, connect, "
                                              "disconnect, authorize, deny (and their synonyms)") from None
        attrs: dict[str, Any] = {"is_remote": True}
        _put(attrs, "user.name", fields.get("user"))
        src, dst = fields.get("src_ip"), fields.get("dst")
        _put(attrs, "src_endpoint.ip" if src is None or _is_ip(src) else "src_endpoint.hostname", src)
        _put(attrs, "src_endpoint.port", _int(fields.get("src_port")))
        if dst is not None and _is_ip(dst) and not fields.get("dst_ip"):
            fields["dst_ip"] = dst
        else:
            _put(attrs, "dst_endpoint.hostname", dst)
        _put(attrs, "dst_endpoint.ip", fields.get("dst_ip"))
        _put(attrs, "dst_endpoint.port", _int(fields.get("dst_port")))
        _put(attrs, "session.uid", fields.get("session_id"))
        _put(attrs, "device.hostname", fields.get("gateway"))
        _put(attrs, "connection_info.protocol_name", fields.get("protocol"))
        _put(attrs, "status_detail", fields.get("reason"))
        mfa = _truthy(fields.get("mfa"))
        if mfa is not None:
            attrs["is_mfa"] = mfa
        duration = _int(fields.get("duration"))
        if duration is not None:
            unmapped["duration"] = duration
        _put(attrs, "traffic.bytes_in", _int(fields.get("bytes_in")))
        _put(attrs, "traffic.bytes_out", _int(fields.get("bytes_out")))
        if class_uid == EventClass.AUTHENTICATION:
            attrs["status"] = "Success" if status == 1 else "Failure"
            if fields.get("protocol"):
                attrs["auth_protocol"], attrs["auth_protocol_id"] = fields["protocol"], 99
        unmapped["action"] = action
        _conform(class_uid, attrs, unmapped)
        who = fields.get("user") or "?"
        target = f" to {fields['dst']}" if fields.get("dst") else ""
        source = f" from {fields['src_ip']}" if fields.get("src_ip") else ""
        reason = f" ({fields['reason']})" if fields.get("reason") else ""
        return [Event(uid=event_uid(self.name, text), time=time_ms, class_uid=int(class_uid), activity_id=activity,
                      severity_id=int(severity), status_id=status, message=f"{verb}: {who}{target}{source}{reason}",
                      source=self.name, site=context.site, attrs=attrs, unmapped=unmapped, raw=text)]
