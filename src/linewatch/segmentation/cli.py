"""`linewatch reach`: can these sources reach those destinations through these firewall configs, and why.

Works on files only (no database yet): iptables-save / nft ruleset files, optionally with a topology YAML
(see linewatch.segmentation.engine.topology) that names interfaces, routes and zones. Without a topology the
firewalls are taken in series, in the order given.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import typer
from rich.table import Table

from linewatch.clitools import emit, handles_input_errors, out
from linewatch.errors import InputError
from linewatch.segmentation.engine import topology
from linewatch.segmentation.engine.model import Device
from linewatch.segmentation.engine.parsers import parse_file
from linewatch.segmentation.engine.reach import Network, Service, reach_series


def _endpoint(value: str, zones: dict[str, list[str]], option: str) -> list[str]:
    if value in zones:
        return zones[value]
    try:
        return [str(ipaddress.IPv4Network(v.strip(), strict=False)) for v in value.split(",")]
    except ValueError:
        known = f" (zones: {', '.join(sorted(zones))})" if zones else ""
        raise InputError(option, value, f"not a zone name or an IPv4 address/CIDR{known}") from None


def run_reach(configs: list[Path], from_: str, to: str, service: str | None) -> dict:
    devices: list[Device] = []
    zones: dict[str, list[str]] = {}
    topo = [c for c in configs if c.suffix in (".yaml", ".yml")]
    for t in topo:
        devs, zs = topology.load(t)
        devices += devs
        zones |= zs
    loose = [parse_file(c) for c in configs if c not in topo]
    try:
        svc = Service.parse(service)
    except ValueError as exc:
        raise InputError("--service", service or "", str(exc)) from None
    src, dst = _endpoint(from_, zones, "--from"), _endpoint(to, zones, "--to")
    if devices:
        if loose:
            raise InputError(str(configs[0]), "", "give either a topology file or firewall files, not both")
        answer = Network(devices).reach(src, dst, svc)
        unsupported = [u for d in devices for rs in d.rulesets for u in rs.unsupported]
    else:
        if not loose:
            raise InputError("CONFIGS", "", "no configuration files given")
        chain = [Device(Path(rs.source).stem, rulesets=[rs]) for rs in loose]
        answer = reach_series(chain, src, dst, svc)
        unsupported = [u for rs in loose for u in rs.unsupported]
    doc = answer.as_dict()
    doc |= {"from": src, "to": dst, "service": service or "any", "unsupported": [u.as_dict() for u in unsupported]}
    return doc


@handles_input_errors
def reach(
    configs: list[Path] = typer.Argument(..., help="iptables-save / nft ruleset files, or a topology .yaml."),
    from_: str = typer.Option(..., "--from", help="Source: a zone of the topology, an IP or a CIDR (comma-separated)."),
    to: str = typer.Option(..., "--to", help="Destination: a zone of the topology, an IP or a CIDR."),
    service: str = typer.Option(None, "--service", help="tcp/502, udp/161-162, icmp; default: any."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Can FROM reach TO through these firewalls? Disposition, a witness flow and the deciding rule per hop."""
    doc = run_reach(configs, from_, to, service)
    emit(as_json, doc, lambda: _print(doc))


def _print(doc: dict) -> None:
    out.print(f"[bold]{doc['disposition']}[/bold]  {','.join(doc['from'])} -> {','.join(doc['to'])} {doc['service']}")
    for f in doc["flows"]:
        w = f["witness"]
        out.print(f"\n{f['disposition']} ({f['action']}): {w['protocol']} {w['src']}:{w['sport']} -> "
                  f"{w['dst']}:{w['dport']}")
        table = Table("device", "in", "out", "action", "rule", "text")
        for h in f["hops"] + [dict(h, device=h["device"] + " (reply)") for h in f.get("return_hops", [])]:
            table.add_row(h["device"], h["in"] or "", h["out"] or "", h["action"], h["rule"], h["text"])
        out.print(table)
    if doc["unsupported"]:
        out.print(f"\n{len(doc['unsupported'])} construct(s) not understood (answers touching them are "
                  "INSUFFICIENT_INFO):")
        for u in doc["unsupported"]:
            out.print(f"  {u['file']}:{u['line']}: {u['why']}: {u['text']}", highlight=False)
