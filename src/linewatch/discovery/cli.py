"""`linewatch discover [PCAP...] [--nmap F] [--zeek F] [--cmdb F --map ...] [--site S] [--json]`: the
devices, talkers and posture findings seen in packet captures, nmap scans and Zeek conn.logs.

Needs no database unless `--store`: then, with `--site S`, the CMDB records are stored and the result
is reconciled into the inventory (`linewatch.discovery.services.reconcile`: matched, in the CMDB
only, shadow, drift, posture findings) and a summary printed.
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
from linewatch.discovery.engine.sources import CmdbIndex


def discover(  # noqa: C901 - one command, several optional sources
    files: list[Path] = typer.Argument(None, help="pcap / pcapng capture files (gzip accepted)"),
    site: str | None = typer.Option(None, "--site", help="site label carried into the output"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON document (devices with provenance, talkers)"),
    store: bool = typer.Option(False, "--store/--no-store",
                               help="reconcile the devices into the inventory of --site (needs the database)"),
    nmap: list[Path] = typer.Option(None, "--nmap", help="nmap XML scan (-oX); repeatable"),
    zeek: list[Path] = typer.Option(None, "--zeek", help="Zeek conn.log (TSV or JSON) for talkers; repeatable"),
    cmdb: Path | None = typer.Option(None, "--cmdb", help="CMDB export (CSV): its records count as known devices"),
    mapping: str | None = typer.Option(None, "--map", help="CMDB columns, e.g. 'ip=IP Address,mac=MAC,name=CI'"),
    map_file: Path | None = typer.Option(None, "--map-file", help="CMDB column mapping as YAML {field: column}"),
) -> None:
    """Find the devices in packet captures, nmap scans and Zeek logs: vendor, kind, model, firmware,
    protocols and roles, talkers and posture findings; with --cmdb and --store, reconcile against the
    plant model and the CMDB."""
    files, nmap, zeek = files or [], nmap or [], zeek or []
    if not (files or nmap or zeek or cmdb):
        err.print("[red]error[/red] nothing to read: give capture files, --nmap, --zeek or --cmdb")
        raise typer.Exit(2)
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
    for path in nmap:
        disc.add_nmap(path)
    for path in zeek:
        disc.add_zeek(path)
    records = _cmdb(cmdb, mapping, map_file, disc.errors) if cmdb else None
    if store and not site:
        err.print("[red]error[/red] --store needs --site: the site whose inventory the devices go into")
        raise typer.Exit(2)
    for e in disc.errors:
        err.print(f"[red]error[/red] {e}", highlight=False, soft_wrap=True)
    if store and site:
        from linewatch.clitools import setup_django

        setup_django()
        from linewatch.discovery.services import newest_known_firmware

        disc.known_newest = newest_known_firmware()  # "older than the newest known": the plant model too
    document = disc.document(site)
    if records is not None:
        document["cmdb"] = {"file": str(cmdb), "records": [r.as_dict() for r in records]}
        index = CmdbIndex(records, Path(cmdb).name)
        for doc in document["devices"]:  # which devices the CMDB knows: the rest are shadow candidates
            rec, reason = index.match(doc.get("mac"), doc.get("ip"), doc.get("hostname"), doc.get("serial"))
            doc["cmdb"] = reason or None
    summary = _store(disc, site, records, cmdb) if store and site else None
    if summary is not None:
        document["reconciliation"] = summary.as_dict()
    emit(as_json, document, lambda: (_human(disc, site), records is not None and _human_cmdb(document, cmdb),
                                     summary is not None and _human_summary(summary)))
    if disc.errors:
        raise typer.Exit(2)


def _human_cmdb(document: dict, path: Path) -> None:
    known = [d for d in document["devices"] if d.get("cmdb")]
    out.print(f"CMDB {path}: {len(document['cmdb']['records'])} record(s); {len(known)} of "
              f"{len(document['devices'])} devices known to it")


def _cmdb(path: Path, mapping: str | None, map_file: Path | None, errors: list) -> list | None:
    from linewatch.discovery.engine.sources import load_mapping, parse_mapping, read_cmdb
    from linewatch.errors import InputError

    try:
        columns = load_mapping(map_file) if map_file else parse_mapping(mapping)
    except InputError as exc:
        errors.append(exc)
        return []
    records, bad = read_cmdb(path, columns or None)
    errors += bad
    return records


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
    if findings:
        ft = Table(title=f"{len(findings)} posture finding(s)")
        for col in ("Device", "Severity", "Check", "Finding", "Evidence"):
            ft.add_column(col, overflow="fold")
        for dv, f in findings:
            ft.add_row(dv.ip or dv.mac or dv.key, f.get("severity", ""), f.get("check", ""), f["finding"],
                       f.get("evidence", ""))
        out.print(ft)
    talkers = disc.talkers()
    if talkers:
        out.print(f"{len(talkers)} talkers (client → server:port); `--json` lists them all")


def _store(disc: Discovery, site_slug: str, records: list | None = None, cmdb: Path | None = None):
    from linewatch.clitools import setup_django

    setup_django()
    from linewatch.core.models import Site
    from linewatch.discovery.services import import_cmdb, reconcile

    site = Site.objects.filter(slug=site_slug).first()
    if site is None:
        err.print(f"[red]error[/red] --site {site_slug}: no such site (import its site file first)")
        raise typer.Exit(2)
    if records is not None and cmdb is not None:
        import_cmdb(site, records, str(cmdb))
    return reconcile(site, disc)


def _human_summary(summary) -> None:
    table = Table(title=f"Reconciled into {summary.site}")
    for col in ("new", "matched", "in CMDB only", "shadow", "drift", "reviewed earlier", "changed",
                "new observations", "drift events", "open findings"):
        table.add_column(col, justify="right")
    table.add_row(*(str(n) for n in (len(summary.new), len(summary.matched), len(summary.cmdb), len(summary.shadow),
                                     len(summary.drift), len(summary.reviewed), len(summary.changed),
                                     summary.observations, summary.events, summary.findings)))
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
