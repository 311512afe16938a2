"""`linewatch rules test` and `linewatch rules list`: try rules on events before deploying them."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from linewatch.clitools import emit, err, handles_input_errors, out, setup_django

rules_app = typer.Typer(help="Detection rules: list them, test them on events.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print one JSON document on stdout.")


def _events(path: Path, source: str):
    from linewatch.errors import InputError
    from linewatch.events import sources
    from linewatch.events.ingest import parse_stream
    from linewatch.events.schema import decoder

    if not path.exists():
        raise InputError(str(path), "", "no such file")
    with path.open("rb") as stream:
        if source:
            yield from parse_stream(sources.get(source), stream, sources.Context(source_name=str(path)))
            return
        for number, line in enumerate(stream, 1):
            if line.strip():
                try:
                    yield decoder.decode(line)
                except Exception as exc:  # msgspec.DecodeError / ValidationError
                    yield InputError(str(path), f"line {number}", f"not a normalized event: {exc}")


@rules_app.command("test")
@handles_input_errors
def rules_test(
    rules: list[Path] = typer.Argument(..., help="Rule files or folders (Sigma YAML)."),
    events: Path = typer.Option(..., "--events", help="Events: normalized NDJSON, or raw records with --source."),
    source: str = typer.Option("", "--source", help="Parse --events with this source format first."),
    enrich: bool = typer.Option(True, "--enrich/--no-enrich", help="Add the plant model's context first."),
    as_json: bool = JSON,
) -> None:
    """Show which rules fire on which events (with the pack's enrichment and correlations)."""
    setup_django()
    from linewatch.detect.sigma import SigmaDetector
    from linewatch.detect.worker import process
    from linewatch.errors import InputError, InputErrors

    detector = SigmaDetector.from_paths(rules, lateness_ms=0)
    problems = [InputError(e.source, "", e.reason) for e in detector.ruleset.errors]
    problems += [InputError(i.source, "", i.reason) for i in detector.correlations.issues]
    if problems and not (detector.ruleset.rules or detector.correlations.correlations.correlations):
        raise InputErrors(problems)
    parsed, rejected = [], []
    for item in _events(events, source):
        (rejected if isinstance(item, InputError) else parsed).append(item)
    detections = process(parsed, [detector]) if enrich else detector.detect(parsed)
    position = {e.uid: i + 1 for i, e in enumerate(parsed)}
    fired = [{"rule": d.rule_id, "title": d.title, "level": d.level,
              "events": [position.get(e.uid) for e in d.events]} for d in detections]
    n_correlations = len(detector.correlations.correlations.correlations)
    document = {"rules": len(detector.ruleset.rules), "correlations": n_correlations,
                "events": len(parsed), "detections": fired,
                "problems": [p.as_dict() for p in problems + rejected]}

    def human() -> None:
        for p in problems + rejected:
            err.print(f"[yellow]warning[/yellow] {p}", highlight=False)
        table = Table("level", "rule", "events (#)", title=f"{len(fired)} detections on {len(parsed)} events")
        for f in fired:
            table.add_row(f["level"], f["title"], ", ".join(str(n) for n in f["events"] if n))
        out.print(table)

    emit(as_json, document, human)


@rules_app.command("list")
def rules_list(as_json: bool = JSON) -> None:
    """The rules the workers run (the Linewatch pack and LINEWATCH_RULES)."""
    setup_django(migrate=False)
    from linewatch.detect.detectors import rule_paths
    from linewatch.detect.sigma import SigmaDetector

    detector = SigmaDetector.from_paths(rule_paths())
    rows = [{"id": r.rule_id, "title": r.title, "level": r.match.level, "tags": list(r.match.tags),
             "logsource": [x for x in r.logsource if x]} for r in detector.ruleset.rules]
    rows += [{"id": c.rule_id, "title": c.title, "level": c.level, "tags": list(c.tags),
              "logsource": ["correlation", c.type]} for c in detector.correlations.correlations.correlations]

    def human() -> None:
        table = Table("level", "title", "log source", "ATT&CK")
        for r in rows:
            table.add_row(r["level"] or "", r["title"], "/".join(r["logsource"]),
                          ", ".join(t for t in r["tags"] if t.startswith("attack.t")))
        out.print(table)

    emit(as_json, rows, human)


alerts_app = typer.Typer(help="Alerts as OCSF Detection Findings.", no_args_is_help=True)


@alerts_app.command("list")
@handles_input_errors
def alerts_list(
    site: str = typer.Option("", help="Only this site."),
    status: str = typer.Option("", help="new, acknowledged or closed."),
    severity_min: int = typer.Option(0, help="OCSF severity 1 (informational) … 5 (critical)."),
    limit: int = typer.Option(50, help="How many, newest first."),
    as_json: bool = JSON,
) -> None:
    """The newest alerts: with --json, OCSF Detection Findings with consequence, owner and status."""
    setup_django()
    from linewatch.detect.models import Alert

    alerts = Alert.objects.select_related("owner_team", "asset").order_by("-time")
    if site:
        alerts = alerts.filter(site_slug=site)
    if status:
        alerts = alerts.filter(status=status)
    if severity_min:
        alerts = alerts.filter(severity_id__gte=severity_min)
    alerts = list(alerts[:limit])
    findings = [{**a.finding, "status": a.status, "case": a.case_id} for a in alerts]

    def human() -> None:
        table = Table("time", "sev", "site", "alert", "asset", "owner", "cost/h", "status")
        for a in alerts:
            table.add_row(f"{a.time:%Y-%m-%d %H:%M:%S}", str(a.severity_id), a.site_slug, a.title,
                          a.asset.name if a.asset else "", a.owner_team.name if a.owner_team else "no owner",
                          f"{a.cost_per_hour:,.0f}", a.status)
        out.print(table)

    emit(as_json, findings, human)
