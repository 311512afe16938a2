"""Hand-built frames and capture files for the discovery tests.

The frame builders live in `linewatch.discovery.frames` (the demo capture uses them too); the capture
writers with the tests' fixed timestamps stay here."""

from __future__ import annotations

import struct
from pathlib import Path

from linewatch.discovery.frames import *  # noqa: F403 - the tests use the builders as pk.<name>
from linewatch.discovery.frames import MAC_A, MAC_PLC, MAC_RA, eth, ip4, ipv4, tcp, udp  # noqa: F401


def pcap_bytes(frames: list[bytes], linktype: int = 1) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)]
    for n, f in enumerate(frames):
        out.append(struct.pack("<IIII", 1_700_000_000 + n, 0, len(f), len(f)) + f)
    return b"".join(out)


def pcapng_bytes(frames: list[bytes]) -> bytes:
    shb_body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
    shb = struct.pack("<II", 0x0A0D0D0A, 12 + len(shb_body)) + shb_body + struct.pack("<I", 12 + len(shb_body))
    idb_body = struct.pack("<HHI", 1, 0, 65535)
    idb = struct.pack("<II", 1, 12 + len(idb_body)) + idb_body + struct.pack("<I", 12 + len(idb_body))
    out = [shb, idb]
    for n, f in enumerate(frames):
        pad = b"\x00" * (-len(f) % 4)
        ts = (1_700_000_000 + n) * 1_000_000
        body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(f), len(f)) + f + pad
        out.append(struct.pack("<II", 6, 12 + len(body)) + body + struct.pack("<I", 12 + len(body)))
    return b"".join(out)


def write(tmp: Path, name: str, data: bytes) -> Path:
    p = tmp / name
    p.write_bytes(data)
    return p
