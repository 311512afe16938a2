"""Vulnerability management: offline feeds (NVD, KEV, CSAF, EPSS), device matching and risk ranking.

The engine in `linewatch.vulns.engine` is plain Python; the CLI in `linewatch.vulns.cli` drives it.
"""
