"""`discover` as the CLI runs it: table, --json document, exit code 2 naming the bad file."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from linewatch.discovery.cli import discover
from tests.discovery import packets as pk

app = typer.Typer()
app.command()(discover)


def capture(tmp_path):
    frames = [
        pk.tcp("10.0.0.10", "10.0.0.20", 50000, 44818, flags=0x02, smac=pk.MAC_A, dmac=pk.MAC_RA),
        pk.tcp("10.0.0.20", "10.0.0.10", 44818, 50000, pk.enip_list_identity_reply(), smac=pk.MAC_RA, dmac=pk.MAC_A),
    ]
    return pk.write(tmp_path, "plant.pcap", pk.pcap_bytes(frames))


def test_table_lists_devices(tmp_path):
    r = CliRunner().invoke(app, [str(capture(tmp_path)), "--site", "alpha"])
    assert r.exit_code == 0, r.output
    assert "1756-ENBT/A" in r.output and "10.0.0.20" in r.output and "site alpha" in r.output


def test_json_has_devices_with_provenance_and_talkers(tmp_path):
    r = CliRunner().invoke(app, [str(capture(tmp_path)), "--json", "--site", "alpha"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["site"] == "alpha" and doc["errors"] == []
    plc = next(dv for dv in doc["devices"] if dv["ip"] == "10.0.0.20")
    assert plc["kind"] == "plc" and plc["protocols"] == {"enip": ["server"]}
    fw = next(o for o in plc["observations"] if o["attribute"] == "firmware")
    assert fw["source"] == "enip/ListIdentity" and fw["packet"] == 2 and fw["time"].startswith("2023-11-14T22:13:21")
    assert doc["talkers"][0] | {"first_seen": None, "last_seen": None} == {
        "client": "10.0.0.10", "server": "10.0.0.20", "transport": "tcp", "port": 44818, "service": "enip",
        "packets": 2, "bytes": doc["talkers"][0]["bytes"], "flows": 1, "first_seen": None, "last_seen": None}


def test_bad_file_exits_2_and_the_run_continues(tmp_path):
    bad = pk.write(tmp_path, "empty.pcap", b"")
    r = CliRunner().invoke(app, [str(bad), str(capture(tmp_path)), "--json"])
    assert r.exit_code == 2
    doc = json.loads(r.stdout)
    assert doc["errors"] == [{"source": str(bad), "place": "byte 0", "message": "empty file: not a packet capture"}]
    assert any(dv["ip"] == "10.0.0.20" for dv in doc["devices"])
