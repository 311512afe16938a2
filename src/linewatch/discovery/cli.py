"""`linewatch discover PCAP... [--site S] [--json]`: the devices and talkers seen in packet captures.

Needs no database: the site is a label carried into the output until reconciliation exists.
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
    for e in disc.errors:
        err.print(f"[red]error[/red] {e}", highlight=False, soft_wrap=True)
    emit(as_json, disc.document(site), lambda: _human(disc, site))
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


if __name__ == "__main__":  # pragma: no cover - a quick look without the main CLI (and for the benchmark)
    typer.run(discover)
