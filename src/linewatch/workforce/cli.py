"""`linewatch workforce …`: imports from HR/contractor/PACS exports, offboarding with its
revocation report, the on-site roster (muster list) and access-review deadlines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.table import Table

from linewatch.clitools import emit, err, handles_input_errors, out, setup_django

workforce_app = typer.Typer(help="The extended workforce: imports, offboarding, roster, access reviews.",
                            no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print one JSON document on stdout.")


def _actor():
    import getpass

    from linewatch.core import audit

    return audit.Actor(user=None, name=f"cli:{getpass.getuser()}", via="cli")


@workforce_app.command("import")
@handles_input_errors
def import_command(
    files: list[Path] = typer.Argument(..., help="CSV, JSON array or JSON lines exports."),
    kind: str = typer.Option(..., "--kind", help="people | credentials | authorisations"),
    mapping: str = typer.Option("", "--map", help="field=column,… or a JSON/YAML file of field: column"),
    site: str = typer.Option("", "--site", help="The site for rows that name none."),
    as_json: bool = JSON,
) -> None:
    """Import the good rows; report each bad row as file:line: reason (exit 2 when any was bad)."""
    setup_django()
    from linewatch.core import audit
    from linewatch.errors import InputError
    from linewatch.workforce.importers import import_data, parse_mapping

    columns = parse_mapping(mapping)
    results = []
    with audit.acting_as(_actor()):
        for path in files:
            if not path.is_file():
                raise InputError(str(path), "", "no such file")
            results.append(import_data(kind, str(path), path.read_bytes(), columns, site or None, _actor()))

    def human() -> None:
        for result in results:
            for e in result.errors:
                err.print(f"[red]bad row[/red] {e}", highlight=False, soft_wrap=True)
            err.print(f"{result.source}: {result.created} created, {result.updated} updated, "
                      f"{result.unchanged} unchanged, {len(result.errors)} bad rows", highlight=False)

    emit(as_json, {"ok": not any(r.errors for r in results), "files": [r.as_dict() for r in results]}, human)
    if any(r.errors for r in results):
        raise typer.Exit(2)


@workforce_app.command("offboard")
@handles_input_errors
def offboard_command(
    person: str = typer.Argument(..., help="The person's key (HR, contractor or visitor id)."),
    reason: str = typer.Option("", "--reason", help="Why (recorded in the revocation report)."),
    as_json: bool = JSON,
) -> None:
    """Revoke every credential and authorisation of a person at every site, and prove it."""
    setup_django()
    from linewatch.core import audit
    from linewatch.workforce import services

    actor = _actor()
    with audit.acting_as(actor):
        report = services.offboard(services.find_person(person), actor.name, reason)
    document = {"person": person, "at": report.created_at.isoformat(), "by": report.created_by,
                "revoked": report.items, "proof": report.proof, "proven": report.proven}

    def human() -> None:
        table = Table("what", "name", "site", "before", "after", title=f"revocation report: {person}")
        for item in report.items:
            table.add_row(item["what"], item["name"], item["site"], item["before"], item["after"])
        out.print(table)
        verdict = "[green]proven[/green]" if report.proven else "[red]NOT proven[/red]"
        out.print(f"re-query at {report.proof['checked_at']}: {len(report.proof['live_credentials'])} live "
                  f"credentials, {len(report.proof['live_authorisations'])} live authorisations — {verdict}")

    emit(as_json, document, human)
    if not report.proven:
        raise typer.Exit(1)


@workforce_app.command("roster")
@handles_input_errors
def roster_command(site: str = typer.Option(..., "--site"), as_json: bool = JSON) -> None:
    """Who is on the site now and in which area (the muster list)."""
    setup_django()
    from linewatch.core.models import Site
    from linewatch.errors import InputError
    from linewatch.workforce import services

    found = Site.objects.filter(slug=site).first()
    if found is None:
        raise InputError("site", site, "no such site (see `linewatch site list`)")
    entries = services.roster(found)

    def stamp(ms: int) -> str:
        return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")

    def human() -> None:
        table = Table("person", "area", "on site since", "last seen", "", title=f"on site at {site}: {len(entries)}")
        for e in entries:
            table.add_row(e.person, e.area, stamp(e.since), stamp(e.last_seen), "stale" if e.stale else "")
        out.print(table)

    emit(as_json, [{"person": e.person, "area": e.area, "since": stamp(e.since), "last_seen": stamp(e.last_seen),
                    "stale": e.stale} for e in entries], human)


@workforce_app.command("hunt")
@handles_input_errors
def hunt_command(
    files: list[Path] = typer.Argument(..., help="Events: normalized NDJSON, or raw records with --source."),
    source: str = typer.Option("", "--source", help="Parse the files with this source format (e.g. pacs-lenel)."),
    site: str = typer.Option("", "--site", help="The site of events that name none."),
    timezone_name: str = typer.Option("", "--timezone", help="Time zone of times without an offset."),
    top: int = typer.Option(20, "--top", help="How many ranked cases to show."),
    as_json: bool = JSON,
) -> None:
    """Run the workforce detections over event files and rank the cases (most urgent first)."""
    setup_django()
    from linewatch.errors import InputError
    from linewatch.events import sources
    from linewatch.events.ingest import parse_stream
    from linewatch.events.schema import decoder
    from linewatch.workforce.engine.detections import WorkforceDetector, rank
    from linewatch.workforce.services import directory

    events, problems = [], []
    for path in files:
        if not path.is_file():
            raise InputError(str(path), "", "no such file")
        with path.open("rb") as stream:
            if source:
                options = {"timezone": timezone_name} if timezone_name else {}
                context = sources.Context(source_name=str(path), site=site, options=options)
                for item in parse_stream(sources.get(source), stream, context):
                    (problems if isinstance(item, InputError) else events).append(item)
                continue
            for number, line in enumerate(stream, 1):
                if line.strip():
                    try:
                        event = decoder.decode(line)
                    except Exception as exc:  # msgspec.DecodeError / ValidationError
                        problems.append(InputError(str(path), f"line {number}", f"not a normalized event: {exc}"))
                        continue
                    event.site = event.site or site
                    events.append(event)
    detector = WorkforceDetector(directory())
    cases = rank(detector.process(events) + detector.flush())[:top]
    document = {"events": len(events), "rejected": [p.as_dict() for p in problems], "cases": [
        {"rule": c.rule, "subject": c.subject, "level": c.level, "events": c.events,
         "why": c.findings[0].why, "evidence": [e.uid for f in c.findings for e in f.events][:20]} for c in cases]}

    def human() -> None:
        for p in problems:
            err.print(f"[red]rejected[/red] {p}", highlight=False, soft_wrap=True)
        table = Table("#", "level", "rule", "subject", "events", "why", title=f"{len(events)} events")
        for i, c in enumerate(cases, 1):
            table.add_row(str(i), c.level, c.rule, c.subject, str(c.events), c.findings[0].explain())
        out.print(table)

    emit(as_json, document, human)


review_app = typer.Typer(help="Access reviews: open a campaign, apply deadlines.", no_args_is_help=True)


@review_app.command("open")
@handles_input_errors
def review_open(site: str = typer.Option(..., "--site"), name: str = typer.Option(..., "--name"),
                days: int = typer.Option(14, "--days", help="Deadline in days."),
                keep_unreviewed: bool = typer.Option(False, "--keep-unreviewed",
                                                     help="Do not revoke unreviewed grants at the deadline."),
                as_json: bool = JSON) -> None:
    """Open a review of every live authorisation at a site."""
    setup_django()
    from django.utils import timezone

    from linewatch.core import audit
    from linewatch.core.models import Site
    from linewatch.errors import InputError
    from linewatch.workforce import services

    found = Site.objects.filter(slug=site).first()
    if found is None:
        raise InputError("site", site, "no such site")
    actor = _actor()
    with audit.acting_as(actor):
        campaign = services.open_campaign(found, name, timezone.now() + dt.timedelta(days=days), actor.name,
                                          auto_revoke=not keep_unreviewed)
    emit(as_json, {"campaign": campaign.pk, "items": campaign.items.count(), "deadline": campaign.deadline.isoformat()},
         lambda: out.print(f"campaign {campaign.pk}: {campaign.items.count()} grants to review by "
                           f"{campaign.deadline:%Y-%m-%d}"))


@review_app.command("close-due")
def review_close_due(as_json: bool = JSON) -> None:
    """Close campaigns past their deadline (revoking unreviewed grants where the policy says so)."""
    setup_django()
    from linewatch.workforce import services

    closed = services.close_due()
    emit(as_json, [{"campaign": c.pk, "name": c.name} for c in closed],
         lambda: out.print(f"{len(closed)} campaign(s) closed"))


@review_app.command("remind-due")
def review_remind_due(as_json: bool = JSON) -> None:
    """Send due reminders to reviewers and escalate pending grants near the deadline to zone owners."""
    setup_django()
    from linewatch.workforce import services

    sent = services.remind_due()
    emit(as_json, sent, lambda: out.print(f"{sent['reminders']} reminder(s), {sent['escalations']} escalation(s) "
                                          "queued"))


@workforce_app.command("expire-visits")
def expire_visits_command(as_json: bool = JSON) -> None:
    """Expire visits past their expected end (no-shows; overstays lose their badge and grants)."""
    setup_django()
    from linewatch.workforce import visits

    expired = visits.expire_due()
    emit(as_json, [{"visit": v.code or v.pk, "status": v.status} for v in expired],
         lambda: out.print(f"{len(expired)} visit(s) expired"))


workforce_app.add_typer(review_app, name="review")


@workforce_app.command("drift")
@handles_input_errors
def drift_command(
    site: str = typer.Option(..., "--site"),
    pacs: list[Path] = typer.Option([], "--pacs", help="PACS access-level export (person or card, area)."),
    accounts: list[Path] = typer.Option([], "--accounts", help="OT/remote-access account export (system, account, "
                                        "person, enabled)."),
    mapping: str = typer.Option("", "--map", help="field=column,… (person, area, system, account, enabled)"),
    alert: bool = typer.Option(False, "--alert", help="Raise alerts for orphan accounts and unauthorised access."),
    as_json: bool = JSON,
) -> None:
    """Access drift: what the PACS and OT systems grant against the live authorisations and credentials here;
    bad rows are named and the rest compared (exit 2 when any row was bad)."""
    setup_django()
    from rich.table import Table

    from linewatch.core.models import Site
    from linewatch.errors import InputError
    from linewatch.workforce.importers import parse_mapping
    from linewatch.workforce.services import access_drift, alert_drift

    target = Site.objects.filter(slug=site).first()
    if target is None:
        raise InputError("--site", site, "no such site")
    if not pacs and not accounts:
        raise InputError("--pacs/--accounts", "", "give at least one export")
    for path in [*pacs, *accounts]:
        if not path.is_file():
            raise InputError(str(path), "", "no such file")
    drifts, bad = access_drift(target, [(str(p), p.read_bytes()) for p in pacs],
                               [(str(p), p.read_bytes()) for p in accounts], parse_mapping(mapping))
    raised = alert_drift(target, drifts) if alert else 0

    def human() -> None:
        for e in bad:
            err.print(f"[red]bad row[/red] {e}", highlight=False, soft_wrap=True)
        table = Table("severity", "kind", "person", "what", "why", "row", title=f"Access drift at {site}")
        for d in sorted(drifts, key=lambda d: ({"high": 0, "medium": 1}.get(d.severity, 2), d.kind, d.person)):
            table.add_row(d.severity, d.kind, d.person, d.what, d.why, d.place)
        out.print(table)
        if alert:
            err.print(f"{raised} new alerts")

    emit(as_json, {"drift": [d.as_dict() for d in drifts], "bad_rows": [e.as_dict() for e in bad],
                   "alerts": raised}, human)
    if bad:
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add this domain's commands to `linewatch`."""
    app.add_typer(workforce_app, name="workforce")
