"""Other sources: nmap XML, Zeek conn.log (TSV and JSON) and CMDB CSV exports, good and broken.

Data in tests/discovery/data: `nmap_modbus_loopback.xml` is the corpus file
`nmap/generated_nmap_modbus-discover_loopback_pymodbus.xml` (nmap 7.93 against a pymodbus
simulator, generated for the project; SOURCES.md "synthetic-loopback"); `nmap_ot_scan.xml` is
hand-written in nmap 7.93's -oX shape (service versions, OS match, s7-info / enip-info tables);
the conn.logs are written in Zeek's TSV and JSON log formats.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linewatch.discovery.engine import Discovery
from linewatch.discovery.engine.sources import (
    load_mapping,
    norm_mac,
    parse_mapping,
    read_cmdb,
    read_nmap,
    read_zeek_conn,
)
from linewatch.errors import InputError
from tests.discovery import packets as p

DATA = Path(__file__).parent / "data"
CORPUS_NMAP = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "discovery" / "nmap"


def by_ip(devices):
    return {d.ip: d for d in devices}


# ------------------------------------------------------------------ nmap


def test_nmap_scan_gives_devices_with_identity_protocols_and_provenance():
    devices, errors = read_nmap(DATA / "nmap_ot_scan.xml")
    assert errors == []
    found = by_ip(devices)
    assert set(found) == {"10.20.111.10", "10.20.112.10", "10.20.140.23"}  # the down host is left out
    plc = found["10.20.111.10"]
    assert plc.mac == "00:1b:1b:4a:22:10"
    assert plc.best("model") == "CPU 1516-3 PN/DP" and plc.best("firmware") == "2.9.4"
    assert plc.best("order_number") == "6ES7 516-3AN01-0AB0" and plc.best("serial") == "S C-J4U812345678"
    assert plc.protocol_roles() == {"http": ["server"], "s7comm": ["server"]}
    fw = next(o for o in plc.observations if o.attribute == "firmware")
    assert (fw.source, fw.file.endswith("nmap_ot_scan.xml"), fw.time, fw.packet) == ("nmap/s7-info", True,
                                                                                     1795511524.0, 0)
    assert "Siemens Simatic S7-1500 PLC" in plc.values("os")
    assert plc.values("hostname") == ["kol-l1-plc-01.kolding.example"]
    rockwell = found["10.20.112.10"]
    assert rockwell.best("model") == "1756-L83E/B" and rockwell.best("firmware") == "33.11"
    assert rockwell.best("vendor") == "Rockwell Automation"  # "(1)" stripped, alias applied
    assert rockwell.protocol_roles() == {"enip": ["server"], "telnet": ["server"]}  # closed 502 ignored
    cam = found["10.20.140.23"]
    assert cam.protocol_roles() == {"http": ["server"], "rtsp": ["server"], "tls": ["server"]}  # 443 tunnel=ssl


def test_nmap_modbus_discover_output_gives_vendor_model_firmware():
    devices, errors = read_nmap(DATA / "nmap_modbus_loopback.xml")
    assert errors == []
    (dv,) = devices
    assert (dv.ip, dv.best("vendor"), dv.best("model"), dv.best("firmware")) == (
        "127.0.0.1", "linewatch-sim", "LW-SIM-PLC", "1.2.3")
    assert dv.protocols == {"modbus": {"server"}}


@pytest.mark.corpus
def test_the_corpus_nmap_file_is_the_one_copied_here():
    corpus = CORPUS_NMAP / "generated_nmap_modbus-discover_loopback_pymodbus.xml"
    if not corpus.exists():
        pytest.skip("corpus not present")
    assert corpus.read_bytes() == (DATA / "nmap_modbus_loopback.xml").read_bytes()


def test_truncated_nmap_keeps_the_hosts_before_and_names_line_and_column(tmp_path):
    text = (DATA / "nmap_ot_scan.xml").read_text()
    cut = text.index('<host starttime="1795511524" endtime="1795511552">') + 120
    path = p.write(tmp_path, "cut.xml", text[:cut].encode())
    devices, errors = read_nmap(path)
    assert {d.ip for d in devices} == {"10.20.111.10", "10.20.112.10"}
    (e,) = errors
    assert e.source == str(path) and e.place.startswith("line ") and ", column " in e.place
    assert "truncated nmap XML" in e.message and "2 host(s) before it kept" in e.message


def test_broken_nmap_files_get_clear_errors(tmp_path):
    cases = {
        "empty.xml": (b"", "line 1"),
        "html.xml": (b"<html><body>not a scan</body></html>", "not an nmap XML file (root element <html>)"),
        "bad.xml": (b'<nmaprun><host><address addr="1.2.3.4" addrtype="ipv4"/></hst></nmaprun>', "malformed"),
        "bomb.xml": (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><nmaprun>&b;'
                     b'</nmaprun>', "refused"),
    }
    for name, (data, expect) in cases.items():
        devices, errors = read_nmap(p.write(tmp_path, name, data))
        assert devices == [] and len(errors) == 1, name
        assert expect in str(errors[0]), (name, str(errors[0]))
    _, errors = read_nmap(tmp_path / "missing.xml")
    assert "cannot read" in str(errors[0])


def test_a_bad_host_is_reported_and_the_others_kept(tmp_path):
    xml = (b'<nmaprun><host><status state="up"/><address addr="10.0.0.1" addrtype="ipv4"/><ports>'
           b'<port protocol="tcp" portid="x"><state state="open"/></port></ports></host>'
           b'<host><status state="up"/><address addr="10.0.0.2" addrtype="ipv4"/></host></nmaprun>')
    devices, errors = read_nmap(p.write(tmp_path, "s.xml", xml))
    assert [d.ip for d in devices] == ["10.0.0.2"]
    assert "port id 'x' is not a number" in str(errors[0])


def test_nmap_merges_with_the_capture_by_ip(tmp_path):
    pcap = p.write(tmp_path, "c.pcap", p.pcap_bytes([
        p.tcp("10.20.101.20", "10.20.111.10", 50000, 102, b"", flags=0x02),
        p.tcp("10.20.111.10", "10.20.101.20", 102, 50000, b"", flags=0x12, smac=p.MAC_PLC, dmac=p.MAC_A),
    ]))
    disc = Discovery()
    assert disc.add_file(pcap) and disc.add_nmap(DATA / "nmap_ot_scan.xml")
    plc = by_ip(disc.devices())["10.20.111.10"]
    assert plc.best("firmware") == "2.9.4" and plc.packets == 2
    assert {o.source for o in plc.observations} >= {"nmap/s7-info"}
    assert disc.sources == {"pcap": 1, "nmap": 1}
    assert len([d for d in disc.devices() if d.ip == "10.20.111.10"]) == 1


# ------------------------------------------------------------------ Zeek


def test_zeek_conn_log_tsv_and_json_give_the_same_talkers_and_roles():
    tsv = read_zeek_conn(DATA / "zeek_conn.log")
    js = read_zeek_conn(DATA / "zeek_conn.json.log")
    assert tsv.errors == [] and js.errors == [] and tsv.records == js.records == 6
    assert [t.as_dict() for t in tsv.talkers] == [t.as_dict() for t in js.talkers]
    talkers = {(t.client, t.server, t.transport, t.port): t for t in tsv.talkers}
    s7 = talkers[("10.20.101.20", "10.20.111.10", "tcp", 102)]
    assert (s7.service, s7.packets, s7.bytes, s7.flows) == ("s7comm", 6238, 548361, 1)  # port -> service
    assert talkers[("10.20.101.77", "10.20.111.10", "tcp", 4840)].service == "opcua"
    assert talkers[("10.20.60.15", "10.20.140.23", "tcp", 80)].service == "http"  # Zeek's own label
    devices = by_ip(tsv.devices)
    assert devices["10.20.111.10"].protocol_roles() == {"ntp": ["client"], "opcua": ["server"], "s7comm": ["server"]}
    assert devices["10.20.112.10"].protocol_roles() == {"enip": ["server"], "syslog": ["client"]}


def test_zeek_bad_lines_are_reported_by_line_and_the_rest_kept(tmp_path):
    lines = (DATA / "zeek_conn.log").read_text().splitlines()
    lines.insert(9, "1795510800.5\tCbad\t10.0.0.1\t1\t10.0.0.2")  # too few fields
    lines.insert(10, "notatime\tCbad2\t10.0.0.1\t1\t10.0.0.2\t80\ttcp" + "\t-" * 14)  # bad ts
    result = read_zeek_conn(p.write(tmp_path, "conn.log", ("\n".join(lines) + "\n").encode()))
    assert result.records == 6
    assert [e.place for e in result.errors] == ["line 10", "line 11"]
    assert "5 fields where the header has 21" in result.errors[0].message
    js = (DATA / "zeek_conn.json.log").read_text().splitlines()
    js.insert(1, '{"ts": 1, "uid": "x"')
    js.insert(2, '{"ts": 1, "uid": "x"}')
    result = read_zeek_conn(p.write(tmp_path, "conn.json", ("\n".join(js) + "\n").encode()))
    assert result.records == 6 and [e.place for e in result.errors] == ["line 2", "line 3"]
    assert "not JSON" in result.errors[0].message and "lacks id.orig_h" in result.errors[1].message


def test_zeek_files_that_are_not_conn_logs(tmp_path):
    assert "empty file" in str(read_zeek_conn(p.write(tmp_path, "e.log", b"")).errors[0])
    assert "not a Zeek conn.log" in str(read_zeek_conn(p.write(tmp_path, "x.log", b"hello\n")).errors[0])
    dns = b"#separator \\x09\n#fields\tts\tuid\tquery\n1.0\tC1\texample.org\n"
    (e,) = read_zeek_conn(p.write(tmp_path, "dns.log", dns)).errors
    assert e.place == "line 2" and "lacks id.orig_h" in e.message


def test_zeek_talkers_join_the_discovery_result():
    disc = Discovery()
    assert disc.add_zeek(DATA / "zeek_conn.log")
    talkers = {(t.client, t.server, t.port) for t in disc.talkers()}
    assert ("10.20.101.77", "10.20.111.10", 4840) in talkers
    assert by_ip(disc.devices())["10.20.101.20"].kind == "engineering_workstation"


# ------------------------------------------------------------------ CMDB


def test_cmdb_with_a_mapping_file_keeps_good_rows_and_reports_bad_ones_by_line():
    records, errors = read_cmdb(DATA / "cmdb_export.csv", load_mapping(DATA / "cmdb_mapping.yaml"))
    assert [r.name for r in records] == ["kol-l1-plc-01", "kol-hmi-07", "kol-nvr-02"]
    hmi = records[1]
    assert (hmi.line, hmi.ip, hmi.mac, hmi.kind, hmi.owner) == (3, "10.20.101.20", "00:0e:8c:11:22:33", "hmi",
                                                                 "OT Engineering")
    assert records[2].owner == "Security, Kolding"  # a quoted comma stays in its cell
    assert [(e.place, e.message) for e in errors] == [
        ("line 4", "IP Address '10.20.10.300' is not an IP address"),
        ("line 5", "no IP, MAC, hostname or serial to match devices by"),
        ("line 7", "MAC Address 'zz:zz' is not a MAC address"),
        ("line 8", "2 cells where the header has 8"),
    ]


def test_cmdb_columns_from_the_command_line_mapping_or_the_header(tmp_path):
    csv = "CI;Addr;HW addr;Note\nplc-a;10.0.0.5;001b.1b12.3456;x\nplc-b;10.0.0.6;;\n"
    path = p.write(tmp_path, "c.csv", csv.encode())
    records, errors = read_cmdb(path, parse_mapping("name=CI,ip=Addr,mac=HW addr"))
    assert errors == [] and [(r.name, r.ip, r.mac) for r in records] == [
        ("plc-a", "10.0.0.5", "00:1b:1b:12:34:56"), ("plc-b", "10.0.0.6", "")]
    assert records[0].extra == {"Note": "x"}
    records, errors = read_cmdb(DATA / "cmdb_export.csv")  # ServiceNow-like headers recognised
    assert len(records) == 3 and records[0].serial == "S C-J4U812345678"


def test_cmdb_mapping_and_header_errors(tmp_path):
    with pytest.raises(InputError, match="unknown field 'adress'"):
        parse_mapping("adress=IP")
    with pytest.raises(InputError, match="is not FIELD=COLUMN"):
        parse_mapping("ip")
    path = p.write(tmp_path, "c.csv", b"Host Name,Location\na,b\n")
    _, errors = read_cmdb(path, {"ip": "IP Address"})
    assert errors[0].place == "line 1" and "mapped column 'IP Address' (for ip) is not in the header" in str(
        errors[0])
    _, errors = read_cmdb(p.write(tmp_path, "d.csv", b"Location,Room\na,b\n"))
    assert "no IP, MAC, hostname or serial column" in str(errors[0])
    _, errors = read_cmdb(p.write(tmp_path, "e.csv", b""))
    assert "empty file" in str(errors[0])
    _, errors = read_cmdb(p.write(tmp_path, "f.csv", b"ip\n10.0.0.1\n\xff\xfe\n"))
    assert errors[0].place == "line 3" and "not UTF-8" in errors[0].message
    bad_yaml = p.write(tmp_path, "m.yaml", b"ip: [unclosed\n")
    with pytest.raises(InputError, match="not YAML"):
        load_mapping(bad_yaml)


def test_norm_mac_forms():
    assert norm_mac("00-1B-1B-12-34-56") == norm_mac("001b1b123456") == norm_mac("001b.1b12.3456") == \
        "00:1b:1b:12:34:56"
    assert norm_mac("00:1b:1b:12:34") is None and norm_mac("") is None


# ------------------------------------------------------------------ CLI


def test_discover_cli_reads_nmap_zeek_and_cmdb_and_reports_bad_rows(tmp_path):
    from linewatch.cli import app

    result = CliRunner().invoke(app, [
        "discover", "--nmap", str(DATA / "nmap_ot_scan.xml"), "--zeek", str(DATA / "zeek_conn.log"),
        "--cmdb", str(DATA / "cmdb_export.csv"), "--map-file", str(DATA / "cmdb_mapping.yaml"), "--json"])
    assert result.exit_code == 2  # the CMDB has bad rows: reported, the rest kept
    doc = json.loads(result.stdout)
    assert len(doc["cmdb"]["records"]) == 3
    assert {e["place"] for e in doc["errors"]} == {"line 4", "line 5", "line 7", "line 8"}
    ips = {d["ip"] for d in doc["devices"]}
    assert {"10.20.111.10", "10.20.140.23", "10.20.101.77"} <= ips
    plc = next(d for d in doc["devices"] if d["ip"] == "10.20.111.10")
    assert plc["firmware"] == "2.9.4" and "ntp" in plc["protocols"]
    assert plc["cmdb"] == "MAC 00:1b:1b:4a:22:10 equals CMDB record kol-l1-plc-01 (cmdb_export.csv:2)"
    assert next(d for d in doc["devices"] if d["ip"] == "10.20.101.77")["cmdb"] is None  # a shadow candidate
    telnet = next(d for d in doc["devices"] if d["ip"] == "10.20.112.10")
    assert any(f["check"] == "cleartext-management" and "Telnet" in f["finding"] for f in telnet["findings"])
    result = CliRunner().invoke(app, ["discover"])
    assert result.exit_code == 2 and "nothing to read" in result.output
