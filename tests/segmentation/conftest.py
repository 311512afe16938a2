"""Markers of the segmentation tests: `netns` builds network namespaces with real iptables/nft rules (needs root)."""

from __future__ import annotations


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "netns: builds Linux network namespaces with real firewall rules as a kernel oracle; needs root"
    )
