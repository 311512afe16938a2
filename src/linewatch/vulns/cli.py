"""`linewatch feeds import` and `linewatch vulns`: offline vulnerability feeds and device findings.

The feed store is a folder (default: ``<data folder>/vulns``) holding ``vulns.jsonl``; no network is used.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from linewatch.clitools import emit, err, handles_input_errors, out
from linewatch.errors import InputError, InputErrors

JSON = typer.Option(False, "--json", help="Print one JSON document on stdout.")
STORE = typer.Option(None, "--store", help="Feed store folder (default: <data folder>/vulns).")
FEED_SUFFIXES = (".json", ".csv", ".gz")

# `linewatch feeds ...`; `feeds_import` is registered on it at the end of this module.
feeds_app = typer.Typer(help="Offline vulnerability feeds (NVD, KEV, CSAF, EPSS).", no_args_is_help=True)


def _store_dir(store: Path | None) -> Path:
    if store is not None:
        return store
    from linewatch.paths import data_dir

    return data_dir() / "vulns"


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
    store: Path = STORE,
    as_json: bool = JSON,
) -> None:
    """Import vulnerability feeds into the offline store; re-importing updates records, never duplicates them.

    Exit 0 when every file was read, 2 when some were not (the others are stored)."""
    from linewatch.vulns.engine.readers import read_feed
    from linewatch.vulns.engine.store import FeedStore, ImportStats

    folder = _store_dir(store)
    fs = FeedStore.load(folder)
    named, found = _expand(paths)
    files = named + found
    stats = ImportStats()
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
                kind, records = read_feed(path)
            except InputError as exc:
                if path in named:
                    errors.append(exc)
                else:  # a folder may hold other files (signatures, indexes, schemas): note, do not fail
                    skipped.append({"file": str(path), "reason": exc.message})
                progress.advance(task)
                continue
            one = fs.add_all(records, kind)
            for key in ("added", "updated", "unchanged"):
                setattr(stats, key, getattr(stats, key) + getattr(one, key))
            stats.by_kind[kind] = stats.by_kind.get(kind, 0) + len(records)
            per_file.append({"file": str(path), "kind": kind, "records": len(records), **one.as_dict()})
            progress.advance(task)
    saved = fs.save(folder)
    summary = {"ok": not errors, "store": str(saved), "cves": len(fs), "files": per_file, "skipped": skipped,
               **stats.as_dict(), "errors": [e.as_dict() for e in errors]}

    def human() -> None:
        table = Table("file", "kind", "records", "added", "updated", "unchanged", title=f"feeds -> {saved}")
        for f in per_file:
            table.add_row(f["file"], f["kind"], str(f["records"]), str(f["added"]), str(f["updated"]),
                          str(f["unchanged"]))
        out.print(table)
        for s in skipped:
            err.print(f"[yellow]skipped[/yellow] {s['file']}: {s['reason']}", highlight=False)
        err.print(f"{len(fs)} CVEs in the store", highlight=False)

    if errors and not as_json:
        human()
    if errors:
        raise InputErrors(errors)  # the readable files are stored; the broken ones are named
    emit(as_json, summary, human)


CONFIDENCE = typer.Option("probable", "--min-confidence", help="Lowest tier shown: confirmed, probable, possible.")


@handles_input_errors
def vulns_match(
    devices: Path = typer.Argument(..., help="CSV of devices: vendor,model,firmware[,site,name,cpe,purdue_level,"
                                             "internet_reachable,it_reachable,consequence_per_hour]."),
    store: Path = STORE,
    site: str = typer.Option("", help="Only devices of this site."),
    min_confidence: str = CONFIDENCE,
    limit: int = typer.Option(0, help="Show at most this many findings (0: all)."),
    as_json: bool = JSON,
) -> None:
    """Match devices against the imported feeds; findings are ranked by risk, with confidence and evidence."""
    from linewatch.vulns.engine.findings import assess, read_devices
    from linewatch.vulns.engine.matching import Confidence
    from linewatch.vulns.engine.store import STORE_FILE, FeedStore

    try:
        minimum = Confidence[min_confidence.upper()]
    except KeyError:
        raise InputError("--min-confidence", min_confidence, "expected confirmed, probable or possible") from None
    if not devices.exists():
        raise InputError(str(devices), "", "no such file")
    folder = _store_dir(store)
    if not (folder / STORE_FILE).exists():
        raise InputError(str(folder), "", "no feed store here; run `linewatch feeds import` first")
    with err.status("loading feeds", spinner="dots"):
        fs = FeedStore.load(folder)
    ctxs = [c for c in read_devices(devices) if not site or c.device.site == site]
    with Progress(TextColumn("matching"), BarColumn(), MofNCompleteColumn(), console=err,
                  transient=True) as progress:
        task = progress.add_task("matching", total=len(ctxs))
        findings = []
        for c in ctxs:
            findings += assess([c], fs, minimum)
            progress.advance(task)
    findings.sort(key=lambda f: (f.risk.key, f.match.device.name, f.match.cve))
    shown = findings[:limit] if limit else findings
    document = {"store": str(folder), "devices": len(ctxs), "findings": [f.as_dict() for f in shown],
                "total": len(findings), "min_confidence": minimum.label}

    def human() -> None:
        table = Table("#", "device", "CVE", "confidence", "KEV", "EPSS", "CVSS", "why ranked", "evidence",
                      title=f"{len(findings)} findings on {len(ctxs)} devices (min {minimum.label})")
        for i, f in enumerate(shown, start=1):
            m, r = f.match, f.risk
            kev = "ransomware" if r.ransomware else "yes" if r.kev else ""
            ev = m.evidence[0] if m.evidence else None
            evidence = f"{ev.feed} {ev.record} {ev.locator}: {ev.reason}" if ev else ""
            table.add_row(str(i), m.device.name, m.cve, m.confidence.label, kev,
                          f"{r.epss_percentile:.2f}" if r.epss_percentile is not None else "",
                          f"{r.cvss:g}" if r.cvss is not None else "", "; ".join(r.explanation[3:]), evidence)
        out.print(table)

    emit(as_json, document, human)


feeds_app.command("import")(feeds_import)


def register(app: typer.Typer) -> None:
    app.add_typer(feeds_app, name="feeds")
    app.command("vulns")(vulns_match)
