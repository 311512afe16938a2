"""The capture reader: pcap, pcapng and gzip, and clear errors on bad files."""

from __future__ import annotations

import gzip

import pytest

from linewatch.discovery.engine import Discovery
from linewatch.discovery.engine.reader import read_packets
from linewatch.errors import InputError
from tests.discovery import packets as pk

FRAMES = [pk.udp("10.0.0.1", "10.0.0.2", 40000, 47808, pk.bacnet_i_am(7, 5)) for _ in range(3)]


def test_reads_pcap_pcapng_and_gzip_alike(tmp_path):
    plain = pk.write(tmp_path, "a.pcap", pk.pcap_bytes(FRAMES))
    ng = pk.write(tmp_path, "a.pcapng", pk.pcapng_bytes(FRAMES))
    gz = pk.write(tmp_path, "a.pcap.gz", gzip.compress(pk.pcap_bytes(FRAMES)))
    for p in (plain, ng, gz):
        got = list(read_packets(p))
        assert [f for _, _, f, _ in got] == FRAMES
        assert got[0][1] == pytest.approx(1_700_000_000)


def test_zero_length_file_is_named(tmp_path):
    p = pk.write(tmp_path, "empty.pcap", b"")
    with pytest.raises(InputError) as e:
        list(read_packets(p))
    assert e.value.source == str(p) and e.value.place == "byte 0" and "empty" in e.value.message


def test_non_capture_file_is_named(tmp_path):
    p = pk.write(tmp_path, "notes.txt", b"hello, this is not a capture\n")
    with pytest.raises(InputError, match="not a pcap or pcapng"):
        list(read_packets(p))


def test_truncated_packet_names_the_byte_offset(tmp_path):
    data = pk.pcap_bytes(FRAMES)
    p = pk.write(tmp_path, "cut.pcap", data[:-10])
    with pytest.raises(InputError) as e:
        list(read_packets(p))
    third_record = 24 + 2 * (16 + len(FRAMES[0]))
    assert e.value.place == f"byte {third_record}" and "truncated" in e.value.message


def test_corrupt_record_length_is_reported(tmp_path):
    data = bytearray(pk.pcap_bytes(FRAMES))
    data[24 + 8:24 + 12] = b"\xff\xff\xff\x7f"  # captured length of the first record
    p = pk.write(tmp_path, "bad.pcap", bytes(data))
    with pytest.raises(InputError, match="corrupt packet record") as e:
        list(read_packets(p))
    assert e.value.place == "byte 24"


def test_corrupt_pcapng_block_is_reported(tmp_path):
    data = bytearray(pk.pcapng_bytes(FRAMES))
    data[-8:] = b"\x00\x01\x02\x03\x04\x05\x06\x07"
    p = pk.write(tmp_path, "bad.pcapng", bytes(data[:-3]))
    with pytest.raises(InputError):
        list(read_packets(p))


def test_corrupt_gzip_is_reported(tmp_path):
    z = gzip.compress(pk.pcap_bytes(FRAMES * 50))
    p = pk.write(tmp_path, "bad.pcap.gz", z[: len(z) // 2])
    with pytest.raises(InputError):
        list(read_packets(p))


def test_a_multi_file_run_continues_after_a_bad_file(tmp_path):
    bad = pk.write(tmp_path, "bad.pcap", b"garbage!")
    cut = pk.write(tmp_path, "cut.pcap", pk.pcap_bytes(FRAMES)[:-5])
    good = pk.write(tmp_path, "good.pcap", pk.pcap_bytes(FRAMES))
    disc = Discovery()
    assert disc.add_file(bad) is False
    assert disc.add_file(cut) is False
    assert disc.add_file(good) is True
    assert [e.source for e in disc.errors] == [str(bad), str(cut)]
    assert disc.stats.packets == 2 + 3  # what was read of the cut file is kept
    assert {dv.ip for dv in disc.devices()} == {"10.0.0.1", "10.0.0.2"}


def test_engine_imports_no_django():
    import subprocess
    import sys

    code = ("import sys, linewatch.discovery.engine as e; e.Discovery().devices(); "
            "assert not [m for m in sys.modules if m.startswith('django')]")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.corpus
def test_reader_agrees_with_dpkt_on_every_corpus_capture():
    """dpkt (an independent, maintained reader) as the oracle for our struct reader: same frames, same times."""
    dpkt = pytest.importorskip("dpkt")
    from tests.conftest import CORPUS

    files = sorted((CORPUS / "discovery" / "pcap").glob("*/*.pcap*"))
    if not files:
        pytest.skip("corpus absent")
    for path in files:
        with open(path, "rb") as fh:
            head = fh.read(4)
            fh.seek(0)
            reader = dpkt.pcapng.Reader(fh) if head == b"\x0a\x0d\x0d\x0a" else dpkt.pcap.Reader(fh)
            theirs = list(reader)
        ours = [(ts, frame) for _, ts, frame, _ in read_packets(path)]
        assert len(ours) == len(theirs), path.name
        assert [f for _, f in ours] == [bytes(f) for _, f in theirs], path.name
        assert [t for t, _ in ours] == pytest.approx([t for t, _ in theirs], abs=2e-6), path.name


def test_frames_cut_anywhere_never_stop_the_run(tmp_path):
    """Snap-length cuts and garbage inside valid records: every prefix of every kind of frame is survivable."""
    frames = [
        pk.tcp("10.0.0.20", "10.0.0.10", 44818, 50000, pk.enip_list_identity_reply()),
        pk.udp("10.0.0.40", "10.0.0.255", 47808, 47808, pk.bacnet_i_am(416, 138)),
        pk.udp("0.0.0.0", "255.255.255.255", 68, 67, pk.dhcp_discover(pk.MAC_A, b"cam", b"udhcp")),
        pk.lldp_frame(bytes.fromhex("001b1b02e61f"), b"Switch1", b"SCALANCE"),
        pk.cdp_frame(bytes.fromhex("00e01ed5d515"), b"R1", b"cisco 1601", b"IOS"),
        pk.dcp_identify_response(bytes.fromhex("08000693cf32"), b"X208-BORD", b"INC"),
    ]
    vlan = frames[1][:12] + b"\x81\x00\x00\x64" + frames[1][12:]
    cut = [f[:n] for f in [*frames, vlan] for n in range(len(f))]
    disc = Discovery()
    for linktype in (1, 113, 0, 101):
        assert disc.add_file(pk.write(tmp_path, f"cut{linktype}.pcap", pk.pcap_bytes(cut, linktype=linktype)))
    disc.devices()
    disc.talkers()
    assert disc.stats.packets == 4 * len(cut)
