"""`linewatch attack-paths` and `linewatch segmentation conformance` (registered by segmentation.cli.register)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer
from rich.table import Table

from linewatch.clitools import emit, handles_input_errors, out


def _short(origin: str) -> str:
    file, _, line = origin.rpartition(":")
    with contextlib.suppress(ValueError):
        file = str(Path(file).resolve().relative_to(Path.cwd()))
    return f"{file}:{line}" if file else origin


def _money(c: dict | None) -> str:
    if not c:
        return "nothing"
    lines = ", ".join(f"{li['line']} ({li['status']})" for li in c.get("lines", []))
    return f"{c['cost_per_hour']:,.0f} {c['currency']}/h" + (f": {lines}" if lines else "")


@handles_input_errors
def attack_paths(
    site: str = typer.Option(..., "--site", help="Site slug of the plant model."),
    from_: str = typer.Option(..., "--from", help="Where the attacker starts: a zone or an asset."),
    to: str = typer.Option(..., "--to", help="What the attacker wants: a line (slug or name), an asset or a zone."),
    k: int = typer.Option(3, "--k", min=1, max=20, help="How many paths (of different shapes)."),
    mapping: Path = typer.Option(None, "--mapping", help="YAML assigning config files to firewall assets "
                                 "(default for a demo site: linewatch/demo/firewalls/SITE.yaml)."),
    device: list[str] = typer.Option(None, "--device", help="ASSET=FILE (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """The k best attack paths from a zone or asset to a line, asset or zone through the real firewall configs,
    and the smallest fix: the fewest hosts to harden and the fewest rules to remove."""
    from linewatch.clitools import setup_django

    setup_django()
    from linewatch.segmentation import analysis

    doc = analysis.attack_paths(site, from_, to, k, mapping, list(device or []) or None)
    emit(as_json, doc, lambda: print_attack(doc))


def attack_lines(doc: dict) -> list[str]:
    """The paths and fixes as plain lines (the demo prints these)."""
    lines = [f"Attack paths {doc['source']} -> {doc['target']}: {len(doc['reached'])} of {len(doc['targets'])} "
             f"target asset(s) controllable; at stake {_money(doc['consequence'])}"]
    for p in doc["paths"]:
        hops = " -> ".join([doc["source"]] + p["hosts"])
        lines.append(f"  path {p['rank']}: {hops}")
        for s in p["steps"]:
            rules = ", ".join(_short(r["rule"]) for r in s["rules"] if r["action"] in ("accept", "jump", "goto"))
            lines.append(f"    {s['from']} -> {s['to']}: {s['privilege']} via {s['via']} "
                         f"({', '.join(s['services'][:4])}) allowed by {rules or 'no rule (no firewall)'}"
                         + (f"; conduit {', '.join(s['conduits'])}" if s["conduits"] else "; no conduit declares it"))
    if not doc["paths"]:
        lines.append(f"  no path: with what the configs allow and the hosts offer, nothing of the target is "
                     f"controllable ({len(doc['compromised'])} host(s) compromised on the way)")
    fx = doc["fix"]
    if fx["rules"]["remove"]:
        state = "verified: closes every path" if fx["rules"]["verified"] else "NOT verified"
        lines.append(f"  smallest rule fix ({fx['rules']['method']}, {state}):")
        for r in fx["rules"]["remove"]:
            breaks = ", ".join(r["breaks_conduits"]) or "no declared conduit"
            closes = ", ".join(f"path {n}" for n in r["closes_paths"]) or "other paths"
            alone = (f"alone protects {_money(r['protects_alone_consequence'])}" if r["protects_alone"]
                     else "needed with the others")
            lines.append(f"    remove {_short(r['rule'])} ({r['device']}): closes {closes}; {alone}; "
                         f"breaks {breaks}")
    elif doc["paths"]:
        lines.append(f"  no rule fix: {fx['rules']['method']}")
    if fx["hosts"]["harden"]:
        lines.append(f"  fewest hosts to harden ({len(fx['hosts']['harden'])}): {', '.join(fx['hosts']['harden'])}")
    return lines


def print_attack(doc: dict) -> None:
    for line in attack_lines(doc):
        out.print(line, highlight=False)


@handles_input_errors
def conformance(
    files: list[Path] = typer.Argument(None, help="Zeek conn.log (TSV or JSON) or NetFlow/IPFIX CSV files."),
    site: str = typer.Option(..., "--site", help="Site slug of the plant model."),
    from_discovery: bool = typer.Option(False, "--from-discovery", help="Also check the conversations passive "
                                        "discovery stored for the site (`linewatch discover ... --store`)."),
    since: str = typer.Option(None, "--since", help="With --from-discovery: only conversations seen since this time "
                              "(ISO 8601, e.g. 2026-11-20T08:00Z) or this long ago (24h, 7d)."),
    mapping: Path = typer.Option(None, "--mapping", help="YAML assigning config files to firewall assets."),
    device: list[str] = typer.Option(None, "--device", help="ASSET=FILE (repeatable)."),
    no_events: bool = typer.Option(False, "--no-events", help="Report only; publish no events."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Observed flows against the zone policy and the firewall configs: flows outside every declared conduit, or
    established although the configs deny them, become events (SEG-12)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from linewatch.clitools import err, setup_django
    from linewatch.errors import InputError

    if not files and not from_discovery:
        raise InputError("FILES", "", "give flow files (Zeek conn.log, NetFlow/IPFIX CSV) or --from-discovery")
    if since and not from_discovery:
        raise InputError("--since", since, "only with --from-discovery")
    when = parse_since(since) if since else None
    setup_django()
    from linewatch.segmentation import analysis

    model = analysis.site_model(site, mapping, list(device or []) or None)
    with Progress(TextColumn("classifying flows"), BarColumn(), MofNCompleteColumn(), console=err, transient=True,
                  disable=as_json or not err.is_terminal) as bar:
        task = bar.add_task("flows", total=None)
        doc = analysis.conformance(site, list(files or []), model, publish=not no_events,
                                   from_discovery=from_discovery, since=when,
                                   progress=lambda n: bar.update(task, completed=n))
    emit(as_json, doc, lambda: _print_conformance(doc))


def parse_since(text: str):
    """`--since`: an ISO 8601 / report time (UTC unless it says), or an age such as 90m, 24h, 7d."""
    import datetime as dt
    import re

    from linewatch.errors import InputError
    from linewatch.events.sources._util import parse_time

    m = re.fullmatch(r"\s*(\d+)\s*([mhd])\s*", text)
    if m:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
        return dt.datetime.now(dt.UTC) - dt.timedelta(**{unit: int(m.group(1))})
    try:
        return dt.datetime.fromtimestamp(parse_time(text) / 1000, dt.UTC)
    except ValueError as exc:
        raise InputError("--since", text, f"{exc} (expected e.g. 2026-11-20T08:00Z, 24h or 7d)") from None


def _print_conformance(doc: dict) -> None:
    counts = ", ".join(f"{n} {k}" for k, n in doc["counts"].items() if n)
    disc = doc.get("discovery")
    where = (f" ({disc['conversations']} discovery conversation(s)"
             + (f" seen since {disc['since']}" if disc["since"] else "") + ")") if disc else ""
    out.print(f"[bold]Flow conformance for {doc['site']}[/bold]: {doc['flows']} flow(s){where}: {counts or 'none'}; "
              f"{doc['events']} event(s) published")
    if doc["reported"]:
        table = Table("class", "flow", "zones", "rule", "record", "seen")
        for v in doc["reported"][:200]:
            d = v.get("detail") or {}
            seen = f"{d['packets']} pkt, {d['flows']} flow(s)" if d.get("packets") is not None else ""
            table.add_row(v["class"], f"{v['src']} -> {v['dst']} {v['service']}",
                          f"{v['from_zone'] or '?'} -> {v['to_zone'] or '?'}", _short(v["rule"]) if v["rule"] else "",
                          v["origin"], seen)
        out.print(table)
        if len(doc["reported"]) > 200:
            out.print(f"  ... {len(doc['reported']) - 200} more; `--json` lists them all")
    for e in doc["errors"]:
        out.print(f"  {e['source']}:{e['place']}: {e['message']}", highlight=False)


def register(app: typer.Typer, segmentation_app: typer.Typer) -> None:
    app.command("attack-paths")(attack_paths)
    segmentation_app.command("conformance")(conformance)
