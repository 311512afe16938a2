"""`linewatch site …`, `linewatch consequence`, `linewatch user …`, `linewatch token …`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.table import Table

from linewatch.clitools import emit, err, handles_input_errors, out, setup_django

site_app = typer.Typer(help="Sites as code: list, validate, import, export.", no_args_is_help=True)
user_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for machines.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print one JSON document on stdout.")


@site_app.command("list")
@handles_input_errors
def site_list(as_json: bool = JSON) -> None:
    """List the sites with their counts."""
    setup_django()
    from django.db.models import Count

    from linewatch.core.models import Site

    sites = Site.objects.select_related("organisation").annotate(
        n_assets=Count("assets", distinct=True), n_zones=Count("zones", distinct=True),
        n_lines=Count("lines", distinct=True),
    )
    rows = [
        {"slug": s.slug, "name": s.name, "kind": s.kind, "organisation": s.organisation.slug,
         "timezone": s.timezone, "assets": s.n_assets, "zones": s.n_zones, "lines": s.n_lines}
        for s in sites
    ]

    def human() -> None:
        table = Table("site", "name", "kind", "time zone", "zones", "assets", "lines")
        for r in rows:
            table.add_row(r["slug"], r["name"], r["kind"], r["timezone"], str(r["zones"]), str(r["assets"]),
                          str(r["lines"]))
        out.print(table)

    emit(as_json, rows, human)


@site_app.command("validate")
@handles_input_errors
def site_validate(files: list[Path], as_json: bool = JSON) -> None:
    """Check site files without importing them (references may point at the database)."""
    setup_django()
    from linewatch.core.sitefile.loader import load_file
    from linewatch.core.sitefile.validate import validate

    docs = [load_file(f) for f in files]
    validate(docs)
    emit(as_json, {"ok": True, "files": [str(f) for f in files]},
         lambda: err.print(f"[green]valid[/green] {', '.join(map(str, files))}"))


@site_app.command("import")
@handles_input_errors
def site_import(files: list[Path], as_json: bool = JSON) -> None:
    """Import site files in one transaction: all or nothing; importing twice changes nothing."""
    setup_django()
    from linewatch.core.sitefile.importer import import_files

    report = import_files([str(f) for f in files], actor=_cli_actor())

    def human() -> None:
        if not report.changed:
            err.print(f"[green]unchanged[/green] {', '.join(report.sites)}")
            return
        table = Table("object", "created", "updated", "deleted", title=f"imported {', '.join(report.sites)}")
        for name in sorted(set(report.created) | set(report.updated) | set(report.deleted)):
            table.add_row(name, str(report.created[name]), str(report.updated[name]), str(report.deleted[name]))
        err.print(table)

    emit(as_json, report.as_dict(), human)


def _cli_actor():
    import getpass

    from linewatch.core import audit

    return audit.Actor(user=None, name=f"cli:{getpass.getuser()}", via="cli")


@site_app.command("export")
@handles_input_errors
def site_export(site: str, output: Path = typer.Option(None, "-o", "--output", help="Write to this file.")) -> None:
    """Write a site as a site file (YAML) on stdout or to a file."""
    setup_django()
    from linewatch.core.models import Site
    from linewatch.core.sitefile.exporter import export_text
    from linewatch.errors import InputError

    found = Site.objects.filter(slug=site).select_related("organisation").first()
    if found is None:
        raise InputError("site", site, "no such site (see `linewatch site list`)")
    text = export_text(found)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@site_app.command("schema")
def site_schema() -> None:
    """Print the JSON Schema of site files."""
    setup_django()
    import json

    from linewatch.core.sitefile.schema import SCHEMA

    sys.stdout.write(json.dumps(SCHEMA, indent=2) + "\n")


@handles_input_errors
def consequence_command(
    assets: list[str] = typer.Argument(..., help="Assets down or compromised: site/name, name, IP or id."),
    hours: float = typer.Option(0.0, "--hours-down", help="How long they have been down (for spoilage)."),
    as_json: bool = JSON,
) -> None:
    """What stops if these assets are down or compromised: lines, cost, trucks, perishables, safety."""
    setup_django()
    from linewatch.core import services

    found = services.find_assets(assets)
    currency = found[0].site.organisation.currency if found else "EUR"
    result = services.consequence_as_dict(services.consequence(found, hours), currency)
    emit(as_json, result, lambda: print_consequence(result))


def print_consequence(result: dict) -> None:
    cur = result["currency"]
    lines = [li for li in result["lines"] if li["status"] != "redundancy_lost"]
    if not lines:
        out.print(f"No line stops or degrades when {', '.join(result['assets'])} "
                  f"{'is' if len(result['assets']) == 1 else 'are'} down.")
    table = Table("line", "site", "status", f"cost/h ({cur})", "trucks/day", "perishable at risk", "spoils in",
                  "safety", "because", title="Consequence")
    for li in result["lines"]:
        because = "; ".join(f"{g['group']}: {', '.join(g['down'])} down" for g in li["failed_groups"] or
                            li["weakened_groups"])
        table.add_row(li["line"], li["site"], li["status"].replace("_", " "), f"{li['cost_per_hour']:,.0f}",
                      f"{li['trucks_per_day']:g}", f"{li['perishable_value']:,.0f}" if li["perishable_value"] else "",
                      f"{li['hours_to_spoil']:g} h" if li["hours_to_spoil"] is not None else "",
                      "yes" if li["safety_critical"] else "", because)
    if result["lines"]:
        out.print(table)
    chains = [" → ".join(c) for c in result["down"].values() if len(c) > 1]
    if chains:
        out.print("Also down through dependencies: " + "; ".join(chains))
    out.print(f"Total: [bold]{result['cost_per_hour']:,.0f} {cur}/h[/bold], {result['trucks_per_day']:g} trucks/day, "
              f"{result['perishable_value_at_risk']:,.0f} {cur} perishable at risk"
              + (f", first spoilage in {result['hours_to_first_spoilage']:g} h"
                 if result["hours_to_first_spoilage"] is not None else "")
              + (", [red]safety-critical[/red]" if result["safety_critical"] else ""))


@user_app.command("create")
@handles_input_errors
def user_create(
    username: str,
    role: str = typer.Option(..., help="admin, security_analyst, site_security_lead, ot_engineer, auditor, guard, "
                                       "sensor (event forwarders), node (plant nodes)"),
    site: list[str] = typer.Option([], help="Site slug (repeat) for site-scoped roles."),
    all_sites: bool = typer.Option(False, "--all-sites"),
    password: str = typer.Option(None, help="Asked for when not given.", envvar="LINEWATCH_PASSWORD"),
) -> None:
    """Create a user with a role at some or all sites."""
    setup_django()
    from linewatch.core import accounts
    from linewatch.errors import InputError

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        accounts.create_user(username, password, role, sites=site, all_sites=all_sites)
    except ValueError as exc:
        raise InputError("user", username, str(exc)) from None
    err.print(f"[green]created[/green] {username} as {role}")


@token_app.command("create")
@handles_input_errors
def token_create(username: str, name: str = typer.Option("cli", help="What the token is for.")) -> None:
    """Create an API token; it is shown once."""
    setup_django()
    from django.contrib.auth import get_user_model

    from linewatch.core import accounts
    from linewatch.errors import InputError

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise InputError("user", username, "no such user")
    sys.stdout.write(accounts.create_token(user, name) + "\n")
