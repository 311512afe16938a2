"""`linewatch feeds import` and `linewatch vulns`: offline vulnerability feeds into the database, and the
inventory's findings ranked by risk. No network is used."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from linewatch.clitools import emit, err, handles_input_errors, out, setup_django
from linewatch.errors import InputError, InputErrors

JSON = typer.Option(False, "--json", help="Print one JSON document on stdout.")
FEED_SUFFIXES = (".json", ".csv", ".gz")

# `linewatch feeds ...`; `feeds_import` is registered on it at the end of this module.
feeds_app = typer.Typer(help="Offline vulnerability feeds (NVD, KEV, CSAF, EPSS).", no_args_is_help=True)


def _expand(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Files named on the command line, and the feed files found in named folders (searched recursively)."""
    named, found = [], []
    for p in paths:
        if p.is_dir():
            found.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.name.lower().endswith(FEED_SUFFIXES)))
        else:
            named.append(p)
    return named, found


@handles_input_errors
def feeds_import(
    paths: list[Path] = typer.Argument(..., help="Feed files or folders: NVD CVE 2.0 JSON, KEV JSON/CSV, CSAF 2.0 "
                                                 "JSON, EPSS CSV (gzip allowed)."),
    as_json: bool = JSON,
) -> None:
    """Import vulnerability feeds into the database; re-importing updates records, never duplicates them.

    A broken record is reported with its place and the file's other records are stored; a broken file is
    reported and the other files are stored. Exit 0 when everything was read, 2 otherwise."""
    setup_django()
    from linewatch.vulns import services

    named, found = _expand(paths)
    files = named + found
    per_file: list[dict] = []
    errors: list[InputError] = []
    skipped: list[dict] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err,
                  transient=as_json) as progress:
        task = progress.add_task("importing feeds", total=len(files))
        for path in files:
            progress.update(task, description=path.name)
            try:
                if not path.exists():
                    raise InputError(str(path), "", "no such file")
                result = services.import_feed(path)
            except InputError as exc:
                if path in named:
                    errors.append(exc)
                else:  # a folder may hold other files (signatures, indexes, schemas): note, do not fail
                    skipped.append({"file": str(path), "reason": exc.message})
                progress.advance(task)
                continue
            errors.extend(result.errors)
            per_file.append(result.as_dict())
            progress.advance(task)
    totals = {k: sum(f[k] for f in per_file) for k in ("records", "added", "updated", "unchanged")}
    summary = {"ok": not errors, "files": per_file, "skipped": skipped, **totals, "stored": services.feed_counts(),
               "errors": [e.as_dict() for e in errors]}

    def human() -> None:
        table = Table("file", "kind", "records", "added", "updated", "unchanged", "broken records",
                      title="feeds imported")
        for f in per_file:
            table.add_row(f["file"], f["kind"], str(f["records"]), str(f["added"]), str(f["updated"]),
                          str(f["unchanged"]), str(len(f["errors"])))
        out.print(table)
        for s in skipped:
            err.print(f"[yellow]skipped[/yellow] {s['file']}: {s['reason']}", highlight=False)
        stored = summary["stored"]
        err.print(f"stored: {stored['vulnerabilities']} NVD records, {stored['advisories']} CSAF advisories, "
                  f"{stored['kev']} KEV entries, {stored['epss']} EPSS scores", highlight=False)

    if errors and not as_json:
        human()
    if errors:
        raise InputErrors(errors)  # the readable files and records are stored; the broken ones are named
    emit(as_json, summary, human)


@handles_input_errors
def vulns(
    site: str = typer.Option("", "--site", help="Only this site (slug)."),
    tier: str = typer.Option("", "--tier", help="Only this tier (confirmed, probable, possible) or all; default: "
                                                "confirmed and probable."),
    status: str = typer.Option("", "--status", help="Only this status: open, accepted, mitigated, false_positive."),
    rematch: bool = typer.Option(True, "--match/--no-match", help="Match the inventory against the feeds first."),
    limit: int = typer.Option(0, help="Show at most this many findings (0: all)."),
    as_json: bool = JSON,
) -> None:
    """The inventory's vulnerability findings, most urgent first, with confidence, evidence and risk parts.

    Matching again keeps the status decisions (accepted, mitigated, false positive) people made."""
    setup_django()
    from linewatch.core.models import Site
    from linewatch.vulns import services
    from linewatch.vulns.models import Finding

    sites = Site.objects.select_related("organisation").order_by("slug")
    if site:
        sites = sites.filter(slug=site)
        if not sites.exists():
            raise InputError("--site", site, "no such site")
    runs = []
    if rematch:
        with err.status("loading feeds", spinner="dots"):
            store = services.feed_store()
        if not len(store):
            err.print("[yellow]no feeds imported yet[/yellow]: run `linewatch feeds import PATH...`")
        with Progress(TextColumn("matching {task.description}"), BarColumn(), MofNCompleteColumn(), console=err,
                      transient=True) as progress:
            task = progress.add_task("", total=sites.count())
            for s in sites:
                progress.update(task, description=s.slug)
                runs.append(services.match_site(s, store).as_dict())
                progress.advance(task)
    found = services.ranked(services.filter_findings(
        Finding.objects.filter(site__in=sites).select_related("site", "asset", "device"), tier=tier, status=status))
    total = found.count()
    shown = list(found[:limit] if limit else found)
    document = {"sites": [s.slug for s in sites], "runs": runs, "total": total,
                "findings": [services.finding_dict(f, detail=True) for f in shown]}

    def human() -> None:
        table = Table("#", "site", "subject", "CVE", "tier", "KEV", "EPSS", "CVSS", "exposure", "cost/h", "status",
                      "evidence", title=f"{total} findings, most urgent first")
        for i, f in enumerate(shown, start=1):
            ev = f.evidence[0] if f.evidence else {}
            kev = "ransomware" if f.ransomware else "yes" if f.kev else ""
            table.add_row(str(i), f.site.slug, f.subject, f.cve, f.confidence, kev,
                          f"{f.epss_percentile:.2f}" if f.epss_percentile is not None else "",
                          f"{f.cvss:g}" if f.cvss is not None else "", f"{f.exposure} ({f.exposure_method})",
                          f"{f.consequence_per_hour:,.0f}" if f.consequence_per_hour is not None else "",
                          f.status, f"{ev.get('feed', '')} {ev.get('record', '')}: {ev.get('reason', '')}")
        out.print(table)
        for r in runs:
            err.print(f"{r['site']}: {r['subjects']} subjects matched, {r['created']} new, {r['updated']} updated, "
                      f"{r['inactive']} no longer matched, exposure by {r['exposure']}", highlight=False)

    emit(as_json, document, human)


feeds_app.command("import")(feeds_import)


def register(app: typer.Typer) -> None:
    app.add_typer(feeds_app, name="feeds")
    app.command("vulns")(vulns)
