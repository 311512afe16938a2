"""Passive discovery speed: packets/s of the discovery engine next to tshark on the same file, one run.

    .venv/bin/python bench/bench_discover.py [FILE] [--repeat N] [--merged]

FILE defaults to the largest capture of ../shared/corpus/discovery/pcap. Both sides are timed
N times (default 3) and the best is kept, because the machine is shared. Ours is the whole pass
in-process (read, flow table, dissectors, devices and talkers); tshark is a subprocess running
`tshark -r FILE -T fields -e ip.src -e ip.dst` (its start-up is measured separately and shown). Our
CLI end to end (`python -m linewatch.discovery.cli FILE --json`, interpreter start-up included) is
shown too. `--merged` also runs the 105,074-packet `ics_merged.pcap` of SOURCES.md (needs mergecap).
If tshark is missing, the figure measured in the research report (21,482 pkt/s) is printed instead.
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
MERGED = ["bench/iti_melsoft_variant_clean.pcap", "bench/iti_cip_only.pcap", "modbus/iti_mb2_scalance_lldp.pcap",
          "bench/iti_ModbusTCP.pcap", "bench/iti_bro_modbusBig.pcap",
          "bench/iti_s7comm_varservice_libnodavedemo_bench.pcap", "bench/iti_EthernetIP-CIP.pcap"]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def ours(path: Path) -> tuple[int, int]:
    disc = Discovery()
    if not disc.add_file(path):
        raise SystemExit(f"cannot read {path}: {disc.errors[0]}")
    return disc.stats.packets, len(disc.devices()) + 0 * len(disc.talkers())


def tshark(path: Path) -> None:
    subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e", "ip.src", "-e", "ip.dst"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure(path: Path, repeat: int) -> None:
    packets, devices = ours(path)
    ours_s = best(lambda: ours(path), repeat)
    cli_s = best(lambda: subprocess.run([sys.executable, "-m", "linewatch.discovery.cli", str(path), "--json"],
                                        check=True, stdout=subprocess.DEVNULL, cwd=REPO), max(1, repeat - 1))
    print(f"file: {path.name} — {packets:,} packets, {path.stat().st_size / 1e6:.1f} MB, {devices} devices")
    print(f"  linewatch discovery (in-process, best of {repeat}): {ours_s:.3f} s = {packets / ours_s:,.0f} pkt/s")
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
    else:
        print(f"  tshark not installed: research figure {PEERS_TSHARK_PPS:,} pkt/s (not measured in this run)")
        print(f"  ratio: {packets / ours_s / PEERS_TSHARK_PPS:.1f}x the research tshark figure")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--merged", action="store_true", help="also run the 105k-packet ics_merged.pcap")
    args = ap.parse_args()
    path = args.file or max((CORPUS / "pcap").glob("*/*.pcap*"), key=lambda p: p.stat().st_size)
    lookup("00:1b:1b:00:00:00")  # load the OUI database once (about 0.15 s), outside the timed runs
    measure(path, args.repeat)
    if args.merged:
        if not shutil.which("mergecap"):
            print("mergecap not installed: --merged skipped")
            return
        with tempfile.TemporaryDirectory() as tmp:
            merged = Path(tmp) / "ics_merged.pcap"
            subprocess.run(["mergecap", "-a", "-F", "pcap", "-w", str(merged), *[str(CORPUS / "pcap" / f)
                                                                                 for f in MERGED]], check=True)
            measure(merged, args.repeat)


if __name__ == "__main__":
    main()
