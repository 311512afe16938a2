"""Helpers every domain's commands share: Django set-up, output conventions, bad-input handling.

Conventions (docs/architecture.md): `--json` prints one JSON document on stdout, progress and
logs go to stderr; exit 0 on success, 2 on bad input with a message naming the file and place.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import typer
from rich.console import Console

from linewatch.errors import InputError, InputErrors

err = Console(stderr=True)
# Tables on stdout keep their columns when piped (rich would fold them to 80 characters).
out = Console(width=None if sys.stdout.isatty() else 200)


def setup_django(migrate: bool = True) -> None:
    """Set up Django; bring the database schema up to date first, so every command works on a
    new data folder or database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linewatch.settings")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            call_command("migrate", interactive=False, verbosity=0)


def emit(as_json: bool, document: Any, human: Callable[[], None]) -> None:
    """Print the result: one JSON document on stdout, or the human form."""
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    else:
        human()


def handles_input_errors(func: Callable) -> Callable:
    """Turn bad input into exit code 2 with the place named, never a traceback."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (InputError, InputErrors) as exc:
            errors = exc.errors if isinstance(exc, InputErrors) else [exc]
            for e in errors:
                err.print(f"[red]error[/red] {e}", highlight=False, markup=True, soft_wrap=True)
            if kwargs.get("as_json"):
                sys.stdout.write(json.dumps({"ok": False, "errors": [e.as_dict() for e in errors]}, indent=2) + "\n")
            raise typer.Exit(2) from None

    return wrapper
