"""Firewall configuration parsers: each turns one file's text into a `RuleSet` of the vendor-neutral model."""

from __future__ import annotations

import re
from pathlib import Path

from linewatch.errors import InputError
from linewatch.segmentation.engine.model import RuleSet
from linewatch.segmentation.engine.parsers import iptables, nftables


def sniff(text: str) -> str | None:
    """Which format a text is in: "iptables", "nftables" or None."""
    for raw in text.splitlines():
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith(("*", "-A ", "-P ", "-N ", "-I ", "--append", "--policy", "--new-chain", "[")) or re.match(
            r"^:\S+ (ACCEPT|DROP|-)\b", s
        ):
            return "iptables"
        if s.startswith(("table ", "flush ruleset", "add table", "define ")):
            return "nftables"
        return None
    return None


def parse_file(path: str | Path, fmt: str | None = None) -> RuleSet:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), "", f"cannot read: {exc}") from None
    fmt = fmt or sniff(text)
    if fmt == "iptables":
        return iptables.parse(text, str(path))
    if fmt == "nftables":
        return nftables.parse(text, str(path))
    raise InputError(str(path), "1", "not an iptables-save or nftables ruleset file")
