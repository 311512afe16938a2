"""Passive discovery speed: packets/s of the discovery engine next to tshark on the same file, one run.

    .venv/bin/python bench/bench_discover.py [FILE] [--repeat N] [--merged]

FILE defaults to the largest capture of ../shared/corpus/discovery/pcap. Both sides are timed
N times (default 3) and the best is kept, because the machine is shared. Ours is the whole pass
in-process (read, flow table, dissectors, devices and talkers); tshark is a subprocess running
`tshark -r FILE -T fields -e ip.src -e ip.dst` (its start-up is measured separately and shown). Our
CLI end to end (`python -m linewatch.discovery.cli FILE --json`, interpreter start-up included) is
shown too. `--merged` also runs the 105,074-packet `ics_merged.pcap` of SOURCES.md (mergecap -a, or
the same concatenation in Python when mergecap is missing; the SHA-256 is checked either way).
If tshark is missing, the ratio is taken against `--tshark-pps N` (a tshark figure measured on the
same file in an earlier run, say which) or else the research report's 21,482 pkt/s, and says so.
The in-process CPU time is printed too: on this shared machine it varies less than wall time.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from linewatch.discovery.engine import Discovery  # noqa: E402
from linewatch.discovery.engine.oui import lookup  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "discovery"
PEERS_TSHARK_PPS = 21_482  # research/discovery-vuln.md §4.1: tshark 4.0.17 full dissection, same machine class
MERGED_SHA256 = "3e69794f2b1715de51f5824c7d7e9a79b8e400f6d5b4c2ffc58d7ff59a22c1e7"
MERGED = ["bench/iti_melsoft_variant_clean.pcap", "bench/iti_cip_only.pcap", "modbus/iti_mb2_scalance_lldp.pcap",
          "bench/iti_ModbusTCP.pcap", "bench/iti_bro_modbusBig.pcap",
          "bench/iti_s7comm_varservice_libnodavedemo_bench.pcap", "bench/iti_EthernetIP-CIP.pcap"]


def best(fn, repeat: int, clock=time.perf_counter) -> float:
    times = []
    for _ in range(repeat):
        t = clock()
        fn()
        times.append(clock() - t)
    return min(times)


def merge_pcaps(paths: list[Path], out: Path) -> None:
    """`mergecap -a -F pcap`: the records of each file in turn, as a microsecond little-endian pcap with
    mergecap's snap length (262144); byte-identical to mergecap's output for these inputs."""
    import struct

    recs = []
    for p in paths:
        data = p.read_bytes()
        e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        nano = data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        i = 24
        while i + 16 <= len(data):
            sec, frac, incl, orig = struct.unpack_from(e + "IIII", data, i)
            head = struct.pack("<IIII", sec, frac // 1000 if nano else frac, incl, orig)
            recs.append(head + data[i + 16:i + 16 + incl])
            i += 16 + incl
    out.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1) + b"".join(recs))


def ours(path: Path) -> tuple[int, int]:
    disc = Discovery()
    if not disc.add_file(path):
        raise SystemExit(f"cannot read {path}: {disc.errors[0]}")
    return disc.stats.packets, len(disc.devices()) + 0 * len(disc.talkers())


def tshark(path: Path) -> None:
    subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e", "ip.src", "-e", "ip.dst"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure(path: Path, repeat: int, tshark_pps: float | None = None) -> None:
    packets, devices = ours(path)
    ours_s = best(lambda: ours(path), repeat)
    cpu_s = best(lambda: ours(path), repeat, time.process_time)
    cli_s = best(lambda: subprocess.run([sys.executable, "-m", "linewatch.discovery.cli", str(path), "--json"],
                                        check=True, stdout=subprocess.DEVNULL, cwd=REPO), max(1, repeat - 1))
    print(f"file: {path.name} — {packets:,} packets, {path.stat().st_size / 1e6:.1f} MB, {devices} devices")
    print(f"  linewatch discovery (in-process, best of {repeat}): {ours_s:.3f} s = {packets / ours_s:,.0f} pkt/s "
          f"(CPU {cpu_s:.3f} s = {packets / cpu_s:,.0f} pkt/s)")
    print(f"  linewatch discover CLI end to end (incl. Python start-up): {cli_s:.3f} s = {packets / cli_s:,.0f} pkt/s")
    if shutil.which("tshark"):
        version = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        t_s = best(lambda: tshark(path), repeat)
        with tempfile.TemporaryDirectory() as tmp:
            empty = Path(tmp) / "one.pcap"
            empty.write_bytes(path.read_bytes()[:24])
            start_s = best(lambda: tshark(empty), repeat)
        print(f"  {version}: {t_s:.3f} s = {packets / t_s:,.0f} pkt/s (start-up alone {start_s:.3f} s)")
        print(f"  ratio: {t_s / ours_s:.1f}x tshark (in-process); {t_s / cli_s:.1f}x (CLI end to end); "
              f"{(t_s - start_s) / ours_s:.1f}x excluding tshark start-up")
    elif tshark_pps:
        print(f"  tshark not installed: {tshark_pps:,.0f} pkt/s given with --tshark-pps (not measured in this run)")
        print(f"  ratio: {packets / ours_s / tshark_pps:.1f}x that tshark figure (wall), "
              f"{packets / cpu_s / tshark_pps:.1f}x (CPU)")
    else:
        print(f"  tshark not installed: research figure {PEERS_TSHARK_PPS:,} pkt/s (not measured in this run)")
        print(f"  ratio: {packets / ours_s / PEERS_TSHARK_PPS:.1f}x the research tshark figure")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--merged", action="store_true", help="also run the 105k-packet ics_merged.pcap")
    ap.add_argument("--tshark-pps", type=float, help="tshark pkt/s on the merged file from an earlier run, "
                                                      "used when tshark is not installed")
    args = ap.parse_args()
    path = args.file or max((CORPUS / "pcap").glob("*/*.pcap*"), key=lambda p: p.stat().st_size)
    lookup("00:1b:1b:00:00:00")  # load the OUI database once (about 0.15 s), outside the timed runs
    measure(path, args.repeat)
    if args.merged:
        import hashlib

        with tempfile.TemporaryDirectory() as tmp:
            merged = Path(tmp) / "ics_merged.pcap"
            inputs = [CORPUS / "pcap" / f for f in MERGED]
            if shutil.which("mergecap"):
                subprocess.run(["mergecap", "-a", "-F", "pcap", "-w", str(merged), *map(str, inputs)], check=True)
            else:
                merge_pcaps(inputs, merged)
            digest = hashlib.sha256(merged.read_bytes()).hexdigest()
            if digest != MERGED_SHA256:
                raise SystemExit(f"ics_merged.pcap sha256 {digest} is not the SOURCES.md one")
            measure(merged, args.repeat, args.tshark_pps)


if __name__ == "__main__":
    main()
