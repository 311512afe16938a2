"""Remote access: OpenVPN server logs and key=value gateway logs."""

from __future__ import annotations

from pathlib import Path

from linewatch.errors import InputError
from linewatch.events.schema import EventClass
from linewatch.events.sources import Context, Record, get

DATA = Path(__file__).resolve().parent.parent / "data" / "logs"


def read(source_name: str, path: Path, **options):
    source = get(source_name)
    context = Context(source_name=path.name, options=options)
    events, errors = [], []
    with path.open("rb") as stream:
        for record in source.records(stream, context):
            try:
                events.extend((record.place, e) for e in source.parse(record, context))
            except InputError as exc:
                errors.append(exc)
    return events, errors


def mapped(events):
    return [(place, e) for place, e in events if e.unmapped["openvpn.line_kind"] != "other"]


def test_openvpn_session_lifecycle():
    events, errors = read("openvpn", DATA / "openvpn" / "server-2.6.log")
    assert not errors
    assert len(events) == 38  # every line is kept
    by_place = dict(mapped(events))
    logon = by_place["line 9"]
    assert logon.class_uid == EventClass.AUTHENTICATION and logon.status_id == 1
    assert logon.attrs["user.name"] == "jmeyer" and logon.attrs["src_endpoint.ip"] == "198.51.100.23"
    assert logon.attrs["src_endpoint.port"] == 51234 and logon.attrs["is_remote"] is True
    assert logon.attrs["session.uid"] == "5e2b1c3a7d6f8e9a"
    assert logon.time == 1741935732000
    tunnel = by_place["line 11"]
    assert tunnel.class_uid == EventClass.TUNNEL_ACTIVITY and tunnel.activity_id == 1
    assert tunnel.attrs["session.uid"] == "5e2b1c3a7d6f8e9a"
    learned = by_place["line 13"]
    assert learned.attrs["tunnel_interface.ip"] == "10.8.0.6" and learned.attrs["user.name"] == "jmeyer"
    # a failed password: the user comes from the certificate the same peer presented
    failed = by_place["line 21"]
    assert failed.class_uid == EventClass.AUTHENTICATION and failed.status_id == 2
    assert failed.attrs["user.name"] == "contractor-acme-03" and failed.attrs["src_endpoint.ip"] == "203.0.113.77"
    assert failed.attrs["status"] == "Failure"
    closed = by_place["line 23"]
    assert closed.activity_id == 2 and closed.attrs["status_detail"] == "auth-failure"
    assert "contractor-acme-03" in closed.message
    revoked = by_place["line 25"]
    assert revoked.status_id == 2 and revoked.attrs["user.name"] == "kwagner"
    assert revoked.attrs["status_detail"] == "certificate revoked"
    assert revoked.attrs["certificate.serial_number"] == "4096"
    end = by_place["line 38"]
    assert end.class_uid == EventClass.TUNNEL_ACTIVITY and end.activity_id == 2
    assert end.attrs["user.name"] == "jmeyer" and end.attrs["session.uid"] == "77aa0c11e2f3a4b5"
    assert end.attrs["tunnel_interface.ip"] == "10.8.0.6"
    assert len({e.uid for _, e in events}) == len(events)


def test_openvpn_prefixes_and_skip_other():
    events, errors = read("openvpn", DATA / "openvpn" / "syslog-2.4.log", year=2025)
    assert not errors
    places = dict(events)
    assert places["line 1"].attrs["device.hostname"] == "vpn-gw01" and places["line 1"].time == 1741935731000
    assert places["line 2"].attrs["user.name"] == "jmeyer"
    ipv6 = places["line 4"]
    assert ipv6.attrs["src_endpoint.ip"] == "2001:db8:77::15" and ipv6.attrs["src_endpoint.port"] == 41000
    assert ipv6.time == 1741933800118 and ipv6.status_id == 2
    old = places["line 5"]
    assert old.attrs["user.name"] == "tech-siemens" and old.activity_id == 2 and old.time == 1741938310000
    events, _ = read("openvpn", DATA / "openvpn" / "server-2.6.log", skip_other=True)
    assert len(events) == 22 and all(e.unmapped["openvpn.line_kind"] != "other" for _, e in events)


def test_openvpn_timezone_option():
    source = get("openvpn")
    context = Context(options={"timezone": "Europe/Berlin"})
    line = "2025-03-14 07:02:12 198.51.100.23:51234 TLS: Username/Password authentication succeeded for username 'x'"
    (event,) = source.parse(Record("line 1", line), context)
    assert event.time == 1741932132000


def test_openvpn_broken_lines():
    events, errors = read("openvpn", DATA / "openvpn" / "broken.log")
    assert len(events) == 1
    assert [(e.place, e.message.split(":")[0]) for e in errors] == [
        ("line 2", "not an OpenVPN log line"), ("line 3", "bad time '2025-13-40 25")]


def test_remote_access_kv():
    events, errors = read("remote-access-kv", DATA / "remote-access-kv" / "sra-gateway.log")
    assert not errors
    places = dict(events)
    login = places["line 1"]
    assert login.class_uid == EventClass.AUTHENTICATION and login.status_id == 1 and login.activity_id == 1
    assert login.attrs["user.name"] == "j.doe@acme-automation.example" and login.attrs["is_mfa"] is True
    assert login.attrs["src_endpoint.ip"] == "203.0.113.45" and login.attrs["session.uid"] == "8f2c1a9e"
    assert login.attrs["device.hostname"] == "sra-gw01" and login.attrs["is_remote"] is True
    authorize = places["line 2"]
    assert authorize.class_uid == EventClass.AUTHORIZE_SESSION and authorize.status_id == 1
    assert authorize.unmapped["work_order"] == "WO-2025-0412"
    connect = places["line 3"]
    assert connect.class_uid == EventClass.TUNNEL_ACTIVITY and connect.activity_id == 1
    assert connect.attrs["dst_endpoint.hostname"] == "ews-07.plant1.local"
    assert connect.attrs["dst_endpoint.ip"] == "10.20.7.15" and connect.attrs["dst_endpoint.port"] == 3389
    fail = places["line 4"]
    assert fail.status_id == 2 and fail.attrs["status_detail"] == "invalid password"
    deny = places["line 5"]
    assert deny.class_uid == EventClass.AUTHORIZE_SESSION and deny.status_id == 2
    closed = places["line 6"]
    assert closed.activity_id == 2 and closed.attrs["traffic.bytes_in"] == 18234411
    assert closed.unmapped["duration"] == 3874
    assert places["line 7"].class_uid == EventClass.AUTHENTICATION and places["line 7"].activity_id == 2
    syslogged = places["line 8"]
    assert syslogged.attrs["user.name"] == "ot-admin" and syslogged.attrs["dst_endpoint.hostname"] == "hmi-03"
    assert syslogged.time == 1741943564000 and syslogged.unmapped["prefix"].startswith("<134>Mar 14")


def test_remote_access_kv_broken():
    events, errors = read("remote-access-kv", DATA / "remote-access-kv" / "broken.log")
    assert len(events) == 1
    assert [e.place for e in errors] == ["line 2", "line 3", "line 4", "line 5"]
    assert "missing 'time'" in errors[0].message
    assert "unknown action 'teleport'" in errors[1].message
    assert "bad time" in errors[2].message
    assert "no key=value pairs" in errors[3].message
