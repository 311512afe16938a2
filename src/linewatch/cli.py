"""The `linewatch` command. Each domain contributes its own Typer sub-app; this module wires
them together. Shared conventions live in `linewatch.clitools`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Linewatch: cyber-physical security operations for manufacturers.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)


def _register() -> None:
    from linewatch.core.cli import consequence_command, site_app, token_app, user_app
    from linewatch.demo.cli import demo, migrate, serve
    from linewatch.detect.cli import alerts_app, rules_app
    from linewatch.events.cli import ingest, listen_app, sources_command
    from linewatch.events.worker_cli import worker
    from linewatch.web.domains import modules

    app.add_typer(site_app, name="site")
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
    app.command("consequence")(consequence_command)
    app.command()(demo)
    app.command()(serve)
    app.command()(migrate)
    app.command()(ingest)
    app.command("sources")(sources_command)
    app.add_typer(listen_app, name="listen")
    app.add_typer(rules_app, name="rules")
    app.add_typer(alerts_app, name="alerts")
    app.command("worker")(worker)
    for domain_cli in modules("cli"):  # each domain adds its own commands (linewatch.web.domains)
        domain_cli.register(app)


_register()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
