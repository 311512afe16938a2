"""`linewatch node …`: a plant node's link to headquarters."""

from __future__ import annotations

import os
import time

import typer
from rich.table import Table

from linewatch.clitools import emit, err, out, setup_django

node_app = typer.Typer(help="Plant nodes: forward to headquarters and catch up after a cut link.",
                       no_args_is_help=True)


def _sites(given: list[str]) -> list[str]:
    """The sites to sync: those given (or LINEWATCH_NODE_SITES), else those this node has made records for."""
    from linewatch.nodes.models import OutboxRecord
    from linewatch.nodes.replication import node_name

    if given:
        return sorted({s.strip() for item in given for s in item.split(",") if s.strip()})
    return sorted(set(OutboxRecord.objects.filter(origin=node_name()).values_list("site_slug", flat=True)))


@node_app.command("sync")
def sync(
    upstream: str = typer.Option(os.environ.get("LINEWATCH_UPSTREAM", ""), help="Headquarters' base URL "
                                 "(LINEWATCH_UPSTREAM)."),
    token: str = typer.Option(os.environ.get("LINEWATCH_UPSTREAM_TOKEN", ""), help="This node's API token at "
                              "headquarters (LINEWATCH_UPSTREAM_TOKEN).", show_default=False),
    site: list[str] = typer.Option([], envvar="LINEWATCH_NODE_SITES", help="The sites this node serves "
                                   "(LINEWATCH_NODE_SITES, comma-separated); default: those it has records of."),
    once: bool = typer.Option(False, "--once", help="Sync once and exit: 1 if headquarters is unreachable."),
    every: float = typer.Option(10.0, min=0.5, help="Seconds between rounds when running continuously."),
    json_out: bool = typer.Option(False, "--json", help="One JSON report per round."),
) -> None:
    """Push this node's records to headquarters and pull what headquarters recorded for its sites. While the link
    is down, records wait in the outbox; nothing is lost and nothing is sent twice."""
    setup_django()
    from linewatch.nodes.sync import Refused, Unreachable, Upstream, sync_site

    if not upstream or not token:
        err.print("[red]error[/red] --upstream and --token (or LINEWATCH_UPSTREAM, LINEWATCH_UPSTREAM_TOKEN) "
                  "are needed")
        raise typer.Exit(2)
    link = Upstream(upstream, token)
    while True:
        reports, problem = [], None
        for slug in _sites(site):
            try:
                reports.append(sync_site(link, slug))
            except Unreachable as exc:
                problem = exc
                break
            except Refused as exc:
                err.print(f"[red]error[/red] {exc}", highlight=False)
                raise typer.Exit(2) from None
        _show(reports, json_out)
        if problem:
            from linewatch.nodes.sync import pending

            waiting = sum(pending(s) for s in _sites(site))
            err.print(f"[yellow]{problem}[/yellow]; {waiting} records wait in the outbox", highlight=False)
            if once:
                raise typer.Exit(1)
        if once:
            return
        time.sleep(every)


def _show(reports: list, json_out: bool) -> None:
    def human() -> None:
        table = Table("site", "pushed", "acknowledged up to", "pulled", "applied", "waiting", "gaps")
        for r in reports:
            table.add_row(r.site, str(r.pushed), str(r.acked), str(r.pulled), str(r.applied), str(r.pending),
                          "; ".join(f"{g['from']}–{g['to']}" for g in r.gaps) or "-")
        out.print(table)

    emit(json_out, [vars(r) for r in reports], human)


@node_app.command("status")
def status(json_out: bool = typer.Option(False, "--json", help="JSON instead of a table.")) -> None:
    """This node's name, and per site and peer: sequence numbers sent, acknowledged and received, waiting records."""
    setup_django()
    from linewatch.nodes.models import Cursor, SiteSequence
    from linewatch.nodes.replication import node_name
    from linewatch.nodes.sync import pending

    me = node_name()
    rows = []
    for sequence in SiteSequence.objects.filter(origin=me).order_by("site_slug"):
        rows.append({"site": sequence.site_slug, "made": sequence.last, "waiting": pending(sequence.site_slug)})
    cursors = [{"peer": c.peer, "site": c.site_slug, "direction": c.direction, "last_seq": c.last_seq,
                "updated": c.updated.isoformat(), "last_error": c.last_error}
               for c in Cursor.objects.order_by("peer", "site_slug", "direction")]
    emit(json_out, {"node": me, "outbox": rows, "cursors": cursors}, lambda: _show_status(me, rows, cursors))


def _show_status(me: str, rows: list[dict], cursors: list[dict]) -> None:
    out.print(f"Node: {me or '(none: LINEWATCH_NODE is not set, nothing is queued)'}")
    table = Table("site", "records made", "waiting to send", title="Outbox")
    for r in rows:
        table.add_row(r["site"], str(r["made"]), str(r["waiting"]))
    out.print(table)
    table = Table("peer", "site", "direction", "last sequence", "updated", "last error", title="Exchanges")
    for c in cursors:
        table.add_row(c["peer"], c["site"], c["direction"], str(c["last_seq"]), c["updated"][:19], c["last_error"])
    out.print(table)


@node_app.command("drill")
def drill(
    site: str = typer.Option("rendsburg", help="The plant whose link is cut (a site of this installation)."),
    json_out: bool = typer.Option(False, "--json", help="The counts as JSON."),
) -> None:
    """A cut-link drill on this installation: a plant node for SITE loses its link (a power outage), keeps
    ingesting, detecting and running its roll call, then headquarters catches up when the link returns."""
    setup_django()
    from linewatch.core.models import Site
    from linewatch.demo.cli import load_demo
    from linewatch.nodes.drill import run_drill

    if not Site.objects.exists():
        with err.status("Loading the demo manufacturer…"):
            load_demo()
    if not Site.objects.filter(slug=site).exists():
        err.print(f"[red]error[/red] no site {site!r} here (sites: "
                  f"{', '.join(Site.objects.values_list('slug', flat=True))})")
        raise typer.Exit(2)
    result = run_drill(site, say=lambda text: err.print(text))

    def human() -> None:
        table = Table("record", "at the plant", "at headquarters", "", title="Headquarters caught up")
        for kind, (plant, hq) in result["counts"].items():
            table.add_row(kind, str(plant), str(hq), "[green]same[/green]" if plant == hq else "[red]differs[/red]")
        out.print(table)
        out.print("Open the crisis room at headquarters to see the plant's roll call: "
                  f"/crises/{result['crisis']}/" if result.get("crisis") else "")

    emit(json_out, result, human)


def register(app: typer.Typer) -> None:
    app.add_typer(node_app, name="node")
