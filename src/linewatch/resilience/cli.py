"""`linewatch crisis …`: declare a crisis or drill, see the status board and roll calls, confirm a
site's status, load runbooks, and export a situation report as CAP 1.2 or PDF."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import typer
from rich.table import Table

from linewatch.clitools import emit, handles_input_errors, out, setup_django
from linewatch.errors import InputError

crisis_app = typer.Typer(help="Crises and drills: status board, roll call, runbooks, CAP/PDF situation reports.",
                         no_args_is_help=True)


def _by() -> str:
    return f"cli:{getpass.getuser()}"


def _crisis(uid: str | None):
    from linewatch.resilience.models import Crisis

    crisis = Crisis.objects.filter(uid=uid).first() if uid else Crisis.objects.exclude(phase="closed").first()
    if crisis is None:
        raise InputError("--crisis", uid or "", "no such crisis" if uid else "no open crisis: declare one first")
    return crisis


@crisis_app.command("declare")
@handles_input_errors
def declare(site: list[str] = typer.Option(..., "--site", help="Site slug (repeat for several sites)"),
            kind: str = typer.Option(..., "--type", help="cyber | physical | natural | infrastructure"),
            title: str = typer.Option("", "--title"),
            exercise: bool = typer.Option(False, "--exercise", help="A drill: marked EXERCISE, CAP status Exercise"),
            description: str = typer.Option("", "--description"),
            as_json: bool = typer.Option(False, "--json")) -> None:
    """Declare a crisis: roll call per site, emergency teams told, the sites' runbooks for the type started."""
    setup_django()
    from linewatch.core.models import Site
    from linewatch.resilience import services
    from linewatch.resilience.models import CrisisKind

    if kind not in CrisisKind.values:
        raise InputError("--type", kind, f"one of {', '.join(CrisisKind.values)}")
    sites = list(Site.objects.filter(slug__in=site))
    unknown = sorted(set(site) - {s.slug for s in sites})
    if unknown:
        raise InputError("--site", ", ".join(unknown), "unknown site")
    title = title or f"{CrisisKind(kind).label} at {', '.join(s.name for s in sites)}"
    crisis = services.declare(title=title, kind=kind, sites=sites, by=_by(), exercise=exercise,
                              description=description)
    doc = _summary(crisis)
    emit(as_json, doc, lambda: out.print(
        f"{'EXERCISE ' if exercise else ''}crisis [bold]{crisis.uid}[/bold] declared: {title}; roll call audience "
        + ", ".join(f"{t['site']} {t['total']}" for t in doc["roll_calls"])))


def _summary(crisis) -> dict:
    from linewatch.resilience import services

    return {"uid": crisis.uid, "title": crisis.title, "kind": crisis.kind, "phase": crisis.phase,
            "exercise": crisis.exercise, "declared": crisis.declared, "sites": [s.slug for s in crisis.sites.all()],
            "status": [{"site": r["site"].slug, "state": r["state"], "capacity": r["capacity"],
                        "confirmed": r["status"].time if r["status"] else None}
                       for r in services.status_board(crisis.sites.order_by("slug"))],
            "roll_calls": [{"site": rc.site.slug, "waves": rc.waves, **services.tally(rc)}
                           for rc in crisis.roll_calls.select_related("site")],
            "runbooks": [{"site": p["run"].runbook.site.slug, "runbook": p["run"].runbook.slug, "done": p["done"],
                          "total": p["total"], "overdue": p["overdue"]}
                         for p in (services.run_progress(r) for r in crisis.runbook_runs.select_related(
                             "runbook__site"))]}


@crisis_app.command("status")
@handles_input_errors
def status(crisis: str = typer.Option("", "--crisis", help="Crisis uid (default: the newest open one)"),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """The crisis's status board, roll-call tallies and runbook progress (every site without a crisis)."""
    setup_django()
    from linewatch.core.models import Site
    from linewatch.resilience import services
    from linewatch.resilience.models import Crisis

    if not crisis and not Crisis.objects.exclude(phase="closed").exists():
        board = [{"site": r["site"].slug, "state": r["state"], "capacity": r["capacity"]}
                 for r in services.status_board(Site.objects.order_by("slug"))]
        emit(as_json, {"crisis": None, "status": board}, lambda: _print_board(board))
        return
    doc = _summary(_crisis(crisis or None))

    def human() -> None:
        out.print(f"[bold]{doc['title']}[/bold] ({doc['uid']}) {doc['kind']}, phase {doc['phase']}"
                  + (" [yellow]EXERCISE[/yellow]" if doc["exercise"] else ""))
        _print_board(doc["status"])
        table = Table("site", "safe", "need help", "not on site", "no answer", "total", "waves", title="Roll call")
        for t in doc["roll_calls"]:
            table.add_row(t["site"], *(str(t[k]) for k in ("safe", "need_help", "not_on_site", "no_answer", "total",
                                                           "waves")))
        out.print(table)
        for r in doc["runbooks"]:
            out.print(f"runbook {r['site']}/{r['runbook']}: {r['done']}/{r['total']} done, {r['overdue']} overdue")

    emit(as_json, doc, human)


def _print_board(rows: list[dict]) -> None:
    table = Table("site", "state", "capacity", title="Site status")
    for r in rows:
        table.add_row(r["site"], r["state"], "" if r["capacity"] is None else f"{r['capacity']} %")
    out.print(table)


@crisis_app.command("site-status")
@handles_input_errors
def site_status(site: str = typer.Argument(...), state: str = typer.Argument(..., help="operational|degraded|down"),
                capacity: int = typer.Option(..., "--capacity", help="Percent of normal capacity"),
                reason: str = typer.Option("", "--reason"), crisis: str = typer.Option("", "--crisis")) -> None:
    """Confirm a site's status (kept with time and who)."""
    setup_django()
    from linewatch.core.models import Site
    from linewatch.resilience import services
    from linewatch.resilience.models import Crisis

    target = Site.objects.filter(slug=site).first()
    if target is None:
        raise InputError("SITE", site, "unknown site")
    linked = Crisis.objects.filter(uid=crisis).first() if crisis else None
    try:
        services.confirm_status(target, state, capacity, _by(), reason=reason, crisis=linked)
    except ValueError as exc:
        raise InputError("STATE" if "state" in str(exc) else "--capacity", "", str(exc)) from None
    out.print(f"{site}: {state}, {capacity} %")


@crisis_app.command("rollcall")
@handles_input_errors
def rollcall(crisis: str = typer.Option("", "--crisis"), site: str = typer.Option("", "--site"),
             remind: bool = typer.Option(False, "--remind", help="Send the reminder waves that are due now"),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Roll-call tallies and the unaccounted list per site."""
    setup_django()
    from linewatch.resilience import services

    if remind:
        services.remind_due()
    target = _crisis(crisis or None)
    calls = target.roll_calls.select_related("site")
    if site:
        calls = calls.filter(site__slug=site)
    doc = [{"site": rc.site.slug, "waves": rc.waves, "escalated": rc.escalated, **services.tally(rc),
            "need_help": [r["person"].name for r in services.current(rc) if r["answer"] == "need_help"],
            "unaccounted": [{"name": p.person.name, "phone": p.person.phone, "on_site": p.on_site, "code": p.code}
                            for p in services.unaccounted(rc)]} for rc in calls]

    def human() -> None:
        for rc in doc:
            out.print(f"[bold]{rc['site']}[/bold]: {rc['safe']} safe, {len(rc['need_help'])} need help, "
                      f"{rc['not_on_site']} not on site, {rc['no_answer']} no answer (wave {rc['waves']})")
            for name in rc["need_help"]:
                out.print(f"  [red]NEEDS HELP[/red] {name}")
            for p in rc["unaccounted"]:
                out.print(f"  unaccounted {p['name']} {p['phone'] or ''} {'(on site)' if p['on_site'] else ''}")

    emit(as_json, doc, human)


@crisis_app.command("export")
@handles_input_errors
def export(crisis: str = typer.Option("", "--crisis"), fmt: str = typer.Option("cap", "--format", help="cap | pdf"),
           output: Path | None = typer.Option(None, "-o", "--output", help="File (default: stdout)")) -> None:
    """The situation report as CAP 1.2 XML (validated against the OASIS schema) or PDF."""
    setup_django()
    from linewatch.resilience import cap, printing

    target = _crisis(crisis or None)
    if fmt == "cap":
        data = cap.crisis_cap(target)
        cap.validate_cap(data, "export")
    elif fmt == "pdf":
        data = printing.sitrep_pdf(target)
    else:
        raise InputError("--format", fmt, "cap or pdf")
    if output:
        output.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)


@crisis_app.command("phase")
@handles_input_errors
def phase(new_phase: str = typer.Argument(..., metavar="PHASE"), crisis: str = typer.Option("", "--crisis"),
          note: str = typer.Option("", "--note")) -> None:
    """Move the crisis to a phase: monitoring, mobilisation, handling, recovery, closed."""
    setup_django()
    from linewatch.resilience import services

    target = _crisis(crisis or None)
    try:
        services.set_phase(target, new_phase, _by(), note)
    except ValueError as exc:
        raise InputError("PHASE", new_phase, str(exc)) from None
    out.print(f"{target.uid}: {new_phase}")


@crisis_app.command("runbooks")
@handles_input_errors
def runbooks_load(files: list[Path] = typer.Argument(..., help="Runbook YAML files")) -> None:
    """Load degraded-mode runbooks (errors name file, line and YAML path; loading twice changes nothing)."""
    setup_django()
    from linewatch.resilience.runbooks import load_runbooks

    loaded = load_runbooks(files)
    out.print(f"{len(loaded)} runbooks: " + ", ".join(str(r) for r in loaded))


@crisis_app.command("answer")
@handles_input_errors
def answer(value: str = typer.Argument(..., metavar="ANSWER", help="safe | need_help | not_on_site"),
           code: str = typer.Option(..., "--code", help="The participant's roll-call code"),
           site: str = typer.Option(..., "--site"), crisis: str = typer.Option("", "--crisis"),
           text: str = typer.Option("", "--text")) -> None:
    """Record a roll-call answer given in person (muster point, warden's list), as the kiosk does."""
    setup_django()
    from linewatch.resilience import services

    rc = _crisis(crisis or None).roll_calls.filter(site__slug=site).first()
    if rc is None:
        raise InputError("--site", site, "no roll call of this crisis at that site")
    try:
        kept = services.answer_at_kiosk(rc, code, value, _by(), text=text)
    except services.ReplyRefused as exc:
        raise InputError("--code", code, exc.reason) from None
    out.print(f"{kept.participant.person.name}: {kept.get_answer_display()}")


def register(app: typer.Typer) -> None:
    """Add this domain's commands to `linewatch`."""
    app.add_typer(crisis_app, name="crisis")
