"""`linewatch ingest` and `linewatch sources`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from linewatch.clitools import emit, err, handles_input_errors, out, setup_django

JSON = typer.Option(False, "--json", help="Print one JSON document on stdout.")


@handles_input_errors
def ingest(
    files: list[Path] = typer.Argument(..., help="Files to read ('-' for standard input)."),
    source: str = typer.Option(..., "--source", "-s", help="Format name (see `linewatch sources`)."),
    site: str = typer.Option("", help="Site slug the events belong to."),
    option: list[str] = typer.Option([], "--option", "-o", help="Parser option key=value (repeatable)."),
    as_json: bool = JSON,
) -> None:
    """Parse files into normalized events and store each once (repeating an ingest stores nothing twice)."""
    setup_django()
    import sys

    from linewatch.errors import InputError
    from linewatch.events import sources
    from linewatch.events.services import IngestReport, ingest_stream

    sources.get(source)  # fail early on an unknown name
    options = {}
    for item in option:
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError("--option", item, "expected key=value")
        options[key] = value
    total = IngestReport()
    per_file = []
    sizes = {f: (f.stat().st_size if str(f) != "-" and f.exists() else None) for f in files}
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  TextColumn("{task.fields[events]} events"), console=err, transient=as_json) as progress:
        for path in files:
            if str(path) != "-" and not path.exists():
                raise InputError(str(path), "", "no such file")
            task = progress.add_task(path.name, total=sizes[path], events=0)
            stream = sys.stdin.buffer if str(path) == "-" else path.open("rb")
            with stream:
                context = sources.Context(source_name=str(path), site=site, options=dict(options))

                def advance(report, stream=stream, task=task):
                    position = stream.tell() if stream.seekable() else None
                    progress.update(task, completed=position, events=report.events)

                report = ingest_stream(source, stream, context, on_batch=advance)
                progress.update(task, completed=sizes[path], events=report.events)
            per_file.append({"file": str(path), **report.as_dict()})
            for key in ("events", "stored", "duplicates", "records_with_errors"):
                setattr(total, key, getattr(total, key) + getattr(report, key))
            total.errors.extend(report.errors)

    summary = {"source": source, "files": per_file, **{k: v for k, v in total.as_dict().items() if k != "errors"}}

    def human() -> None:
        for e in total.errors[:20]:
            err.print(f"[yellow]rejected[/yellow] {e}", highlight=False)
        if len(total.errors) > 20:
            err.print(f"… and {total.records_with_errors - 20} more rejected records (see --json)")
        table = Table("file", "events", "stored", "duplicates", "rejected", title=f"ingested as {source}")
        for f in per_file:
            table.add_row(f["file"], str(f["events"]), str(f["stored"]), str(f["duplicates"]), str(f["rejected"]))
        out.print(table)

    emit(as_json, summary, human)


def sources_command(as_json: bool = JSON) -> None:
    """List the source formats the parsers read."""
    from linewatch.events import sources

    found = sources.load_all()
    rows = [{"name": name, "description": cls.description, "formats": list(cls.formats)}
            for name, cls in sorted(found.items())]

    def human() -> None:
        table = Table("source", "reads")
        for r in rows:
            table.add_row(r["name"], r["description"])
        out.print(table)

    emit(as_json, rows, human)
