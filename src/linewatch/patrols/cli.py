"""`linewatch patrols …`: load tours from a file, analyse open runs (a periodic job: checkpoints whose
window has closed become `missed`), list runs with completion and exceptions, and check a tag's SUN URL
offline."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from linewatch.clitools import emit, err, handles_input_errors, out, setup_django
from linewatch.errors import InputError

patrols_app = typer.Typer(help="Guard patrols: tours, runs, exceptions, NFC SUN tags.", no_args_is_help=True)


@patrols_app.command("load-tours")
@handles_input_errors
def load_tours(site: str = typer.Argument(..., help="site slug"),
               file: Path = typer.Argument(..., help="YAML with `checkpoints:` and `tours:` (docs/patrols.md)"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Create or update a site's checkpoints and tours from a YAML file."""
    import yaml

    setup_django()
    from linewatch.core.models import Site
    from linewatch.patrols import services

    site_obj = Site.objects.filter(slug=site).first()
    if site_obj is None:
        raise InputError("site", site, "no such site")
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(file), "", f"cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(str(file), f"line {mark.line + 1}" if mark else "", f"invalid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise InputError(str(file), "", "a mapping with checkpoints and tours")
    counts = services.load_tours(site_obj, doc, source=str(file))
    emit(as_json, counts, lambda: out.print(f"{counts['checkpoints']} checkpoints, {counts['tours']} tours at {site}"))


@patrols_app.command("analyse")
def analyse(site: str = typer.Option("", "--site"), as_json: bool = typer.Option(False, "--json")) -> None:
    """Analyse open runs now: exceptions become pipeline events and ledger records (each once)."""
    setup_django()
    from linewatch.patrols import services
    from linewatch.patrols.models import PatrolRun, RunStatus

    runs = PatrolRun.objects.filter(status=RunStatus.OPEN).select_related("tour__site")
    if site:
        runs = runs.filter(tour__site__slug=site)
    found = {str(r.uid): [e.kind for e in services.analyse_run(r)] for r in runs}
    emit(as_json, found, lambda: out.print(f"{len(found)} open runs analysed, "
                                           f"{sum(len(v) for v in found.values())} new exceptions"))


@patrols_app.command("runs")
def runs(site: str = typer.Option("", "--site"), limit: int = typer.Option(50, "--limit"),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Recent runs with completion and exceptions."""
    setup_django()
    from linewatch.patrols.models import PatrolRun

    qs = PatrolRun.objects.select_related("tour__site").prefetch_related("exceptions").order_by("-started")
    if site:
        qs = qs.filter(tour__site__slug=site)
    rows = [{"uid": str(r.uid), "site": r.tour.site.slug, "tour": r.tour.slug, "guard": r.guard_name,
             "started": r.started.isoformat(), "status": r.status, "completion": r.completion,
             "exceptions": sorted(e.kind for e in r.exceptions.all())} for r in qs[:limit]]

    def human() -> None:
        table = Table(title=f"{len(rows)} patrol runs")
        for col in ("Started", "Site", "Tour", "Guard", "Completion", "Exceptions"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(r["started"][:16], r["site"], r["tour"], r["guard"], f"{r['completion']:.0f} %",
                          ", ".join(r["exceptions"]))
        out.print(table)

    emit(as_json, rows, human)


@patrols_app.command("verify-sun")
def verify_sun(url: str = typer.Argument(..., help="the URL a tap produced (e=…&c=… or picc_data=…&cmac=…)"),
               meta_key: str = typer.Option(..., "--meta-key", help="SDMMetaRead key, 32 hex digits"),
               file_key: str = typer.Option(..., "--file-key", help="SDMFileRead key, 32 hex digits"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Check one NTAG 424 DNA SUN message offline (AN12196): UID, read counter and MAC."""
    from linewatch.patrols.engine import sun

    try:
        keys = bytes.fromhex(meta_key), bytes.fromhex(file_key)
        if any(len(k) != 16 for k in keys):
            raise ValueError
    except ValueError:
        err.print("[red]error[/red] keys are 16 bytes written as 32 hex digits")
        raise typer.Exit(2) from None
    try:
        params = sun.params_of(url)
        result = sun.verify(*keys, params["picc_data"], params["mac"], params.get("enc"))
    except sun.SunError as exc:
        why = str(exc)
        emit(as_json, {"ok": False, "error": why}, lambda: err.print(f"[red]refused[/red] {why}"))
        raise typer.Exit(1) from None
    doc = {"ok": True, "uid": result.uid, "counter": result.counter,
           "file_data": result.file_data.hex() if result.file_data else None}
    emit(as_json, doc, lambda: out.print(f"valid: tag {result.uid}, read counter {result.counter}"))


def register(app: typer.Typer) -> None:
    """Add this domain's commands to `linewatch`."""
    app.add_typer(patrols_app, name="patrols")
