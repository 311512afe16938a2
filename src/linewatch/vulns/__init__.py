"""Vulnerability management: offline feeds (NVD, KEV, CSAF, EPSS), device matching and risk ranking.

The engine in `linewatch.vulns.engine` is plain Python; the CLI in `linewatch.vulns.cli` drives it.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def demo_feeds() -> list[Path]:
    """Feed files for `linewatch demo`: two KEV rows (CC0, from cisagov/kev-data) and a hand-written NVD-style
    record that makes the demo's Hikvision DS-2CD2142FWD-I on V5.5.0 build 170725 a confirmed match for the
    known-exploited CVE-2021-36260 (its configuration is synthetic, not NVD's; see docs/vulns.md)."""
    return [DATA / "demo_kev.json", DATA / "demo_nvd_CVE-2021-36260_synthetic.json"]
