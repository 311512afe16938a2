"""`linewatch discover PCAP... [--site S] [--json]`: the devices and talkers seen in packet captures.

Needs no database unless `--store`: then, with `--site S`, the result is reconciled into the
inventory (`linewatch.discovery.services.reconcile`: matched, shadow, drift) and a summary printed.
A file that cannot be read is reported (file and byte offset) and the run continues with the next;
the exit code is then 2.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from linewatch.clitools import emit, err, out
from linewatch.discovery.engine import Discovery


def discover(
    files: list[Path] = typer.Argument(..., help="pcap / pcapng capture files (gzip accepted)"),
    site: str | None = typer.Option(None, "--site", help="site label carried into the output"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON document (devices with provenance, talkers)"),
    store: bool = typer.Option(False, "--store/--no-store",
                               help="reconcile the devices into the inventory of --site (needs the database)"),
) -> None:
    """Find the devices in packet captures: vendor, kind, model, firmware, protocols and roles, talkers."""
    disc = Discovery()
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as progress:
        for path in files:
            size = path.stat().st_size if path.is_file() else 0
            task = progress.add_task(path.name, total=size or None)

            def advance(offset: int, task=task, size=size) -> None:
                progress.update(task, completed=size if offset < 0 else min(offset, size))

            disc.add_file(path, progress=advance)
            progress.update(task, completed=size)
    if store and not site:
        err.print("[red]error[/red] --store needs --site: the site whose inventory the devices go into")
        raise typer.Exit(2)
    for e in disc.errors:
        err.print(f"[red]error[/red] {e}", highlight=False, soft_wrap=True)
    document = disc.document(site)
    summary = _store(disc, site) if store and site else None
    if summary is not None:
        document["reconciliation"] = summary.as_dict()
    emit(as_json, document, lambda: (_human(disc, site), summary is not None and _human_summary(summary)))
    if disc.errors:
        raise typer.Exit(2)


def _human(disc: Discovery, site: str | None) -> None:
    devices = disc.devices()
    title = f"{len(devices)} devices in {disc.stats.files} file(s), {disc.stats.packets} packets"
    if site:
        title += f" — site {site}"
    table = Table(title=title)
    for col in ("IP", "MAC", "Vendor", "Kind", "Model", "Firmware", "Protocols (role)"):
        table.add_column(col, overflow="fold")
    for dv in devices:
        protos = ", ".join(f"{p} ({'/'.join(r)})" for p, r in dv.protocol_roles().items())
        table.add_row(dv.ip or "", dv.mac or "", dv.best("vendor") or "", dv.kind or "", dv.best("model") or "",
                      dv.best("firmware") or "", protos)
    out.print(table)
    findings = [(dv, f) for dv in devices for f in dv.findings]
    for dv, f in findings:
        out.print(f"[yellow]finding[/yellow] {dv.ip or dv.mac}: {f['finding']}", highlight=False)
    talkers = disc.talkers()
    if talkers:
        out.print(f"{len(talkers)} talkers (client → server:port); `--json` lists them all")


def _store(disc: Discovery, site_slug: str):
    from linewatch.clitools import setup_django

    setup_django()
    from linewatch.core.models import Site
    from linewatch.discovery.services import reconcile

    site = Site.objects.filter(slug=site_slug).first()
    if site is None:
        err.print(f"[red]error[/red] --site {site_slug}: no such site (import its site file first)")
        raise typer.Exit(2)
    return reconcile(site, disc)


def _human_summary(summary) -> None:
    table = Table(title=f"Reconciled into {summary.site}")
    for col in ("new", "matched", "shadow", "drift", "reviewed earlier", "changed", "new observations",
                "drift events"):
        table.add_column(col, justify="right")
    table.add_row(*(str(n) for n in (len(summary.new), len(summary.matched), len(summary.shadow),
                                     len(summary.drift), len(summary.reviewed), len(summary.changed),
                                     summary.observations, summary.events)))
    out.print(table)
    for d in summary.drift:
        out.print(f"[yellow]drift[/yellow] {d['asset']} ({d['key']}): {d['attribute']} {d['intended']} → "
                  f"{d['observed']}", highlight=False)
    for key in summary.shadow:
        out.print(f"[red]shadow[/red] {key}", highlight=False)


if __name__ == "__main__":  # pragma: no cover - a quick look without the main CLI (and for the benchmark)
    typer.run(discover)


def register(app: typer.Typer) -> None:
    app.command("discover")(discover)
