"""Log-source mapping beyond Windows: which normalized events a Sigma rule's `logsource` means,
and how the rule's field names map onto OCSF attribute paths (a processing pipeline, expressed
as routing rows with field aliases, as the engine's Windows table does for Security 4688).

- `product: zeek, service: <log>` — Zeek events (`_path` is the log); Zeek's own field names
  (`query`, `id.orig_h`, `uri`, …) map to the OCSF paths the Zeek parser writes; fields the
  parser keeps under their native names (`unmapped`) need no alias.
- generic categories — `dns`, `firewall`, `proxy`, `webserver` — on the OCSF classes they mean,
  whatever sensor produced them (Zeek, Suricata, a firewall's CEF, a proxy's LEEF), with the Sigma
  taxonomy's field names mapped to OCSF.
- `product: linewatch, category: <class>` — Linewatch's own rules, written on OCSF paths.

Plain Python (no Django), used by `detect.sigma.router()`.
"""

from __future__ import annotations

from linewatch.detect.engine.logsource import LogsourceRow
from linewatch.events.schema import EventClass

CONNECTION = {
    "id.orig_h": "src_endpoint.ip", "id.orig_p": "src_endpoint.port",
    "id.resp_h": "dst_endpoint.ip", "id.resp_p": "dst_endpoint.port", "uid": "connection_info.uid",
}
# On classes outside Network Activity the Zeek parser writes the connection uid as the OCSF correlation uid
# (OCSF has `connection_info` only on network classes).
OFF_NETWORK = {"uid": "metadata.correlation_uid"}
ZEEK_SERVICES: dict[str, dict[str, str]] = {
    "conn": {"proto": "connection_info.protocol_name"},
    "dns": {"query": "query.hostname", "qtype_name": "query.type", "qclass_name": "query.class",
            "rcode_name": "rcode", "trans_id": "query.packet_uid"},
    "http": {"method": "http_request.http_method", "host": "http_request.url.hostname",
             "uri": "http_request.url.path", "user_agent": "http_request.user_agent",
             "referrer": "http_request.referrer", "status_code": "http_response.code"},
    "ssl": {"server_name": "tls.sni", "subject": "tls.certificate.subject", "issuer": "tls.certificate.issuer",
            "ja3": "tls.ja3_hash.value", "ja3s": "tls.ja3s_hash.value", "version": "tls.version"},
    "x509": {"certificate.subject": "tls.certificate.subject", "certificate.issuer": "tls.certificate.issuer"},
    "smb_files": {"name": "file.name", "path": "share", "size": "file.size"},
    "smb_mapping": {"path": "share"},
    "kerberos": {"service": "service.name", **OFF_NETWORK},
    "ntlm": {"username": "user.name", "domainname": "user.domain", "hostname": "src_endpoint.hostname", **OFF_NETWORK},
    "rdp": {"cookie": "user.name", "client_name": "src_endpoint.hostname"},
    "ssh": {},
    "dce_rpc": {},
    "notice": {"note": "finding_info.title", "msg": "message", **OFF_NETWORK},
    "weird": {"name": "status_detail"},
    "software": {"name": "package.name", **OFF_NETWORK},
    "syslog": {**OFF_NETWORK},
}

# Sigma's generic taxonomy → OCSF, per category, and the classes each category means.
GENERIC: dict[str, tuple[tuple[EventClass, ...], dict[str, str]]] = {
    "dns": ((EventClass.DNS_ACTIVITY,), {
        "query": "query.hostname", "record_type": "query.type", "answer": "answers",
        "src_ip": "src_endpoint.ip", "dst_ip": "dst_endpoint.ip",
    }),
    "firewall": ((EventClass.NETWORK_ACTIVITY,), {
        "src_ip": "src_endpoint.ip", "src_port": "src_endpoint.port", "dst_ip": "dst_endpoint.ip",
        "dst_port": "dst_endpoint.port", "action": "action", "protocol": "connection_info.protocol_name",
    }),
    "proxy": ((EventClass.HTTP_ACTIVITY,), {
        "c-uri": "http_request.url.path", "c-uri-query": "http_request.url.query_string",
        "cs-host": "http_request.url.hostname", "c-useragent": "http_request.user_agent",
        "cs-method": "http_request.http_method", "sc-status": "http_response.code",
        "cs-referrer": "http_request.referrer", "c-ip": "src_endpoint.ip", "dst_ip": "dst_endpoint.ip",
    }),
    "webserver": ((EventClass.HTTP_ACTIVITY,), {
        "cs-uri-query": "http_request.url.query_string", "cs-uri-stem": "http_request.url.path",
        "cs-method": "http_request.http_method", "cs-user-agent": "http_request.user_agent",
        "cs-referer": "http_request.referrer", "sc-status": "http_response.code", "c-ip": "src_endpoint.ip",
    }),
}

KEY_FIELDS = ("class_uid", "_path")


def _class_values(*classes: EventClass) -> tuple[str, ...]:
    return tuple(str(int(c)) for c in classes)


def zeek_rows() -> list[LogsourceRow]:
    return [LogsourceRow("zeek", None, service, {"_path": (service,)}, {**CONNECTION, **aliases})
            for service, aliases in ZEEK_SERVICES.items()]


def generic_rows() -> list[LogsourceRow]:
    return [LogsourceRow(None, category, None, {"class_uid": _class_values(*classes)}, aliases)
            for category, (classes, aliases) in GENERIC.items()]


def linewatch_rows() -> list[LogsourceRow]:
    """One row per event class: `product: linewatch, category: <class name in snake case>`."""
    return [LogsourceRow("linewatch", cls.name.lower(), None, {"class_uid": _class_values(cls)})
            for cls in EventClass]
