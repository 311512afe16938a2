"""Firewall configuration parsers: each turns one file's text into a `RuleSet` of the vendor-neutral model.

`parse_file` detects the format from the text (`sniff`) unless one is given. Formats: iptables (iptables-save or
argument lists), nftables (`nft list ruleset`), nft-json (`nft -j list ruleset`), cisco-ios (IOS/IOS-XE ACLs and
zone-based firewall), cisco-asa, paloalto (set, tree or XML), fortios, junos (SRX, set or tree).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from linewatch.errors import InputError
from linewatch.segmentation.engine.model import RuleSet
from linewatch.segmentation.engine.parsers import asa, fortios, ios, iptables, nft_json, nftables, paloalto, srx

PARSERS: dict[str, Callable[[str, str], RuleSet]] = {
    "iptables": iptables.parse, "nftables": nftables.parse, "nft-json": nft_json.parse, "cisco-ios": ios.parse,
    "cisco-asa": asa.parse, "paloalto": paloalto.parse, "fortios": fortios.parse, "junos": srx.parse,
}
FORMATS = tuple(PARSERS)
JUNOS_HEADS = {"security", "interfaces", "applications", "routing-options", "system", "snmp", "protocols",
               "policy-options", "firewall", "chassis", "routing-instances", "vlans", "groups", "services"}
PAN_HEADS = {"deviceconfig", "network", "zone", "rulebase", "address", "address-group", "service", "service-group",
             "vsys", "shared", "mgt-config", "devices", "config", "tag", "profiles", "application", "import"}


def _netfilter(text: str) -> str | None:
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


def sniff(text: str) -> str | None:
    """Which format a text is in (one of FORMATS), or None."""
    head = text.lstrip()[:4096]
    if head.startswith("{") and '"nftables"' in head:
        return "nft-json"
    if head.startswith("<"):
        return "paloalto" if re.search(r"<(config|devices|rulebase|vsys)\b", text[:65536]) else None
    found = _netfilter(text)
    if found:
        return found
    forti_section = re.search(r"^config (system|firewall|router|vpn|user|log|global|vdom)\b", text, re.M)
    if forti_section and re.search(r"^\s*(edit|next|end)\b", text, re.M):
        return "fortios"
    if re.search(r"^(ASA Version|: Saved|PIX Version)", text, re.M) or (
            re.search(r"^ nameif \S+", text, re.M) and re.search(r"^ security-level \d+", text, re.M)):
        return "cisco-asa"
    sets = re.findall(r"^\s*(?:set|deactivate|delete) (\S+)", text, re.M)
    if sets:
        junos = sum(1 for h in sets if h in JUNOS_HEADS)
        pan = sum(1 for h in sets if h in PAN_HEADS)
        if junos or pan:
            return "junos" if junos > pan else "paloalto"
    blocks = re.findall(r"^(\S+) \{\s*$", text, re.M)
    if blocks and not re.search(r"::", text):
        junos = sum(1 for h in blocks if h in JUNOS_HEADS)
        pan = sum(1 for h in blocks if h in PAN_HEADS or h == "policy")
        if junos or pan:
            return "junos" if junos > pan else "paloalto"
    if re.search(r"^(hostname \S+|interface \S+|ip access-list |access-list \d+ |version \d+\.\d+|"
                 r"object-group (network|service|protocol|ip port) |class-map |zone security |ip route )", text, re.M):
        return "cisco-ios"
    return None


def _not_a_config(text: str) -> str | None:
    """Why a recognisable file is not a device configuration (so the error can say what to do)."""
    if re.search(r"^\s*target::", text, re.M) or (re.search(r"^filters:", text, re.M) and "header:" in text):
        return "an Aerleon/Capirca policy, not a device configuration: render it with aerleon and load the output"
    return None


def parse_text(text: str, source: str, fmt: str | None = None) -> RuleSet:
    """Parse a configuration's text (`fmt` None: detected)."""
    if fmt is not None and fmt not in PARSERS:
        raise InputError(source, "", f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    fmt = fmt or sniff(text)
    if fmt is None:
        why = _not_a_config(text)
        first = next((i for i, ln in enumerate(text.splitlines(), 1) if ln.strip()), 1)
        raise InputError(source, str(first), why or "not a recognised firewall configuration (formats: "
                         f"{', '.join(FORMATS)}; give the format explicitly if detection fails)")
    rs = PARSERS[fmt](text, source)
    rs.format = rs.format or fmt
    _check_fits(rs, text, fmt)
    return rs


def _check_fits(rs: RuleSet, text: str, fmt: str) -> None:
    """A vendor file of which most lines are not understood and nothing was modelled is in another format."""
    if not rs.accounted and not rs.unsupported:
        return
    nonblank = {i for i, ln in enumerate(text.splitlines(), 1) if ln.strip()}
    reported = {u.line for u in rs.unsupported}
    if nonblank and len(reported) * 2 > len(nonblank) and len(rs.accounted & nonblank) < len(reported):
        first = min(u.line for u in rs.unsupported)
        raise InputError(rs.source, str(first), f"does not look like a {fmt} configuration: {len(reported)} of "
                         f"{len(nonblank)} lines not understood (is the format right?)")


def parse_file(path: str | Path, fmt: str | None = None) -> RuleSet:
    """Parse a file; without `fmt`, a sidecar `<file>.format` (one format name) overrides detection."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        side = path.with_name(path.name + ".format")
        if fmt is None and side.is_file():
            fmt = side.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), "", f"cannot read: {exc}") from None
    return parse_text(text, str(path), fmt)


def base_format(fmt: str) -> str:
    """The parser name of a RuleSet.format (paloalto-set -> paloalto, junos-set -> junos)."""
    return next((k for k in FORMATS if fmt == k or fmt.startswith(k + "-")), fmt)
