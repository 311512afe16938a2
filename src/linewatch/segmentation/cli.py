"""`linewatch reach`: can these sources reach those destinations through these firewall configs, and why;
`linewatch segmentation check`: the segmentation checks of a site of the plant model against its real configs.

Works on files only (no database yet): iptables-save / nft ruleset files, optionally with a topology YAML
(see linewatch.segmentation.engine.topology) that names interfaces, routes and zones. Without a topology the
firewalls are taken in series, in the order given.
"""

from __future__ import annotations

import contextlib
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
        if len(loose) == 1 and loose[0].interfaces:  # a vendor config names its interfaces and their addresses
            rs = loose[0]
            answer = Network([Device(Path(rs.source).stem, "firewall", dict(rs.interfaces), list(rs.routes),
                                     [rs])]).reach(src, dst, svc)
        else:
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


def run_check(site: str, mapping: Path | None, devices: list[str], only: list[str] | None = None,
              matrix: bool = False) -> dict:
    """Findings of the segmentation checks for a site (Django is set up here)."""
    from linewatch.clitools import setup_django

    setup_django()
    from linewatch.segmentation import checks, plant

    if mapping is not None:
        mp = plant.load_mapping(mapping)
        extra = plant.mapping_from_args(devices)["devices"] if devices else {}
        mp["devices"] |= extra
    elif devices:
        mp = plant.mapping_from_args(devices)
    else:
        from linewatch.segmentation.services import stored_mapping

        mp = stored_mapping(site)  # configurations stored by `segmentation load`
        demo = plant.demo_mapping(site)
        if not mp["devices"] and demo is None:
            raise InputError("--mapping", "", "give --mapping FILE.yaml or --device ASSET=FILE, or store the "
                             "site's configurations with `linewatch segmentation load`")
        if not mp["devices"]:
            mp = plant.load_mapping(demo)
    unknown = [c for c in only or [] if c not in checks.CHECKS]
    if unknown:
        raise InputError("--only", ",".join(unknown), f"unknown check (known: {', '.join(checks.CHECKS)})")
    model = plant.build(site, mp)
    currency = plant.site_currency(site)
    findings = checks.run_checks(model, plant.impact_function(currency), only)
    doc = {
        "site": site, "mapping": mp.get("source"),
        "devices": [{"name": d.name, "configs": [rs.source for rs in d.rulesets],
                     "interfaces": {n: [str(a) for a in i.addresses] for n, i in d.interfaces.items()}}
                    for d in model.devices],
        "counts": {sev: sum(1 for f in findings if f.severity == sev) for sev in checks.SEVERITY_ORDER},
        "findings": [f.as_dict() for f in findings],
        "unsupported": [u.as_dict() for d in model.devices for rs in d.rulesets for u in rs.unsupported],
    }
    if matrix:
        doc["matrix"] = plant.zone_matrix(model)
    return doc


@handles_input_errors
def check(
    site: str = typer.Option(..., "--site", help="Site slug of the plant model."),
    mapping: Path = typer.Option(None, "--mapping", help="YAML assigning config files to firewall assets "
                                 "(default for a demo site: linewatch/demo/firewalls/SITE.yaml)."),
    device: list[str] = typer.Option(None, "--device", help="ASSET=FILE: an iptables-save / nft ruleset file of a "
                                     "firewall asset (repeatable)."),
    only: list[str] = typer.Option(None, "--only", help="Run only these checks (SEG-01 ... SEG-13; repeatable)."),
    matrix: bool = typer.Option(False, "--matrix", help="Also print the zone-to-zone matrix."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Segmentation checks of a site against its real firewall configs: findings with witness flows, the rules
    responsible (file:line) and the production lines put at risk."""
    doc = run_check(site, mapping, list(device or []), list(only or []) or None, matrix)
    emit(as_json, doc, lambda: _print_check(doc))


def _short(origin: str) -> str:
    """file:line with the file relative to the working directory when it is under it (the JSON keeps it whole)."""
    file, _, line = origin.rpartition(":")
    with contextlib.suppress(ValueError):
        file = str(Path(file).resolve().relative_to(Path.cwd()))
    return f"{file}:{line}" if file else origin


def _print_check(doc: dict) -> None:
    counts = ", ".join(f"{n} {sev}" for sev, n in doc["counts"].items() if n)
    out.print(f"[bold]Segmentation checks for {doc['site']}[/bold]: {len(doc['findings'])} finding(s) "
              f"({counts or 'none'}); devices: {', '.join(d['name'] for d in doc['devices']) or 'none'}")
    table = Table("severity", "id", "finding", "services", "rules", "lines at risk")
    for f in doc["findings"]:
        lines = "; ".join(f"{li['line']} ({li['status']}, {li['cost_per_hour']:,.0f} {f['currency']}/h)"
                          for li in f["lines_at_risk"])
        table.add_row(f["severity"], f["id"], f["title"], ", ".join(f["services"][:6]),
                      "\n".join(Path(r["rule"]).name for r in f["rules"][:4]), lines)  # file name:line
    out.print(table)
    for f in doc["findings"]:
        if f["witness"] and f["hops"]:
            w = f["witness"]
            out.print(f"\n{f['id']}: witness {w['protocol']} {w['src']}:{w['sport']} -> {w['dst']}:{w['dport']} "
                      f"({w.get('disposition', '')})", highlight=False)
            for h in f["hops"]:
                out.print(f"  {h['device']} {h['in'] or ''} -> {h['out'] or ''}: {h['action']} at {_short(h['rule'])}  "
                          f"{h['text']}", highlight=False)
            if f.get("fix"):
                fx = f["fix"]
                broken = ", ".join(fx["breaks_conduits"]) or "no declared conduit"
                out.print(f"  fix: remove {', '.join(_short(r) for r in fx['remove'])} -> "
                          f"{'closes the path' if fx['closes'] else 'does NOT close the path alone'}; "
                          f"breaks {broken}", highlight=False)
    if doc.get("matrix"):
        zones = sorted(doc["matrix"])
        m = Table("from \\ to", *zones)
        abbrev = {"ACCEPTED": "open", "NO_RETURN": "1-way", "DENIED_IN": ".", "NO_ROUTE": "-",
                  "INSUFFICIENT_INFO": "?"}
        for z in zones:
            m.add_row(z, *("" if z == z2 else abbrev.get(doc["matrix"][z].get(z2, ""), "?") for z2 in zones))
        out.print(m)
    if doc["unsupported"]:
        out.print(f"\n{len(doc['unsupported'])} construct(s) not understood (answers touching them are "
                  "INSUFFICIENT_INFO):")
        for u in doc["unsupported"]:
            out.print(f"  {u['file']}:{u['line']}: {u['why']}: {u['text']}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("reach")(reach)
    segmentation_app = typer.Typer(help="Segmentation: firewall configs on the plant model, checks.",
                                   no_args_is_help=True)
    segmentation_app.command("check")(check)
    from linewatch.segmentation.loadcmd import load

    segmentation_app.command("load")(load)
    from linewatch.segmentation import commands

    commands.register(app, segmentation_app)  # attack-paths, segmentation conformance
    app.add_typer(segmentation_app, name="segmentation")
