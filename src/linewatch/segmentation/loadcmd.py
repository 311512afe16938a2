"""`linewatch segmentation load`: parse firewall configurations, report what is not understood, store them."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer
from rich.table import Table

from linewatch.clitools import emit, err, handles_input_errors, out, setup_django
from linewatch.errors import InputError, InputErrors
from linewatch.segmentation.engine.parsers import FORMATS


@handles_input_errors
def load(
    configs: list[Path] = typer.Argument(None, help="Configuration files; each goes to the firewall asset named by "
                                         "its hostname, or else its file name (without extension)."),
    site: str = typer.Option(..., "--site", help="Site slug of the plant model."),
    device: list[str] = typer.Option(None, "--device", help="ASSET=FILE: a configuration of a named firewall asset "
                                     "(repeatable)."),
    fmt: str = typer.Option(None, "--format", help=f"Skip detection: one of {', '.join(FORMATS)}."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Load firewall configurations of a site: each is parsed (constructs not understood are listed with file:line;
    answers touching them are INSUFFICIENT_INFO) and stored for `segmentation check` and `reach`."""
    files: list[tuple[str | None, Path]] = [(None, p) for p in configs or []]
    for pair in device or []:
        name, sep, file = pair.partition("=")
        if not sep or not name or not file:
            raise InputError("--device", pair, "expected ASSET=FILE")
        files.append((name, Path(file)))
    if not files:
        raise InputError("CONFIGS", "", "no configuration files given")
    setup_django()
    from linewatch.core import audit
    from linewatch.segmentation.services import load_configs

    actor = audit.Actor(user=None, name=f"cli:{getpass.getuser()}", via="cli segmentation load")
    loaded, errors = load_configs(site, files, fmt, actor)
    doc = {"site": site, "loaded": [x.as_dict() for x in loaded], "errors": [e.as_dict() for e in errors]}
    emit(as_json, doc, lambda: _print(doc))
    if errors:
        if not as_json:
            for e in errors:
                err.print(f"[red]error[/red] {e}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)


def _print(doc: dict) -> None:
    t = Table("asset", "file", "format", "stored", "not understood", "device-wide")
    for x in doc["loaded"]:
        t.add_row(x["asset"], x["file"], x["format"], x["stored"], str(len(x["unsupported"])), str(x["blocking"]))
    out.print(f"[bold]{len(doc['loaded'])} configuration(s) for site {doc['site']}[/bold]")
    out.print(t)
    rows = [(x["asset"], u) for x in doc["loaded"] for u in x["unsupported"]]
    if rows:
        u_table = Table("asset", "where", "why", "text")
        for asset, u in rows:
            u_table.add_row(asset, f"{u['file']}:{u['line']}", u["why"], u["text"][:80])
        out.print(f"\n{len(rows)} construct(s) not understood (answers touching them are INSUFFICIENT_INFO; "
                  "'device-wide' ones make every answer through that device so):")
        out.print(u_table)


__all__ = ["load", "InputErrors"]
