"""`linewatch evidence …`: verify evidence packs offline (no database, no server) and build them from a ledger."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from linewatch.clitools import err, handles_input_errors, out
from linewatch.errors import InputError

evidence_app = typer.Typer(help="Tamper-evident evidence: verify and build evidence packs.", no_args_is_help=True)


def _load_keys(keys: list[str]) -> list:
    """Verifier keys given as C2SP vkey strings or as files holding one vkey per line."""
    from linewatch.evidence.engine.checkpoint import CheckpointError, Verifier

    verifiers = []
    for given in keys:
        path = Path(given)
        try:
            is_file = path.is_file()
        except OSError:  # a vkey string too long to be a file name
            is_file = False
        lines = path.read_text().splitlines() if is_file else [given]
        source = str(path) if is_file else "--key"
        for number, line in enumerate(lines, 1):
            if line.strip() and not line.lstrip().startswith("#"):
                try:
                    verifiers.append(Verifier.from_vkey(line))
                except CheckpointError as exc:
                    raise InputError(source, f"line {number}" if is_file else given, str(exc)) from None
    return verifiers


@handles_input_errors
def verify(
    pack: Annotated[Path, typer.Argument(help="The evidence pack (.zip).")],
    key: Annotated[list[str], typer.Option("--key", "-k", help="Trusted verifier key (C2SP vkey) or a file of them; "
                                           "repeat for the site and each witness.")] = None,
    witness: Annotated[list[str], typer.Option("--witness", "-w", help="Require a cosignature by this trusted key "
                                               "name on every checkpoint (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Verify an evidence pack offline: exit 0 when everything checks out, 2 naming each failure."""
    from linewatch.evidence.engine.verify import verify_pack

    if not key:
        raise InputError("--key", "", "give at least one trusted verifier key (the site's log key)")
    if not pack.is_file():
        raise InputError(str(pack), "", "no such file")
    report = verify_pack(pack, _load_keys(key), witnesses=witness or [])
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
    elif report.ok:
        start, end = report.records
        signers = sorted({n for names in report.signed_by.values() for n in names})
        out.print(f"VALID {pack}: {report.origin} records {start}..{end - 1} ({report.records_verified} verified), "
                  f"checkpoints {report.checkpoints} signed by {', '.join(signers)}", highlight=False)
    else:
        for failure in report.failures:
            err.print(f"[red]FAIL[/red] {failure}", highlight=False, markup=True, soft_wrap=True)
        err.print(f"{pack}: {len(report.failures)} check(s) failed", highlight=False)
    if not report.ok:
        raise typer.Exit(2)


@handles_input_errors
def pack(
    ledger: Annotated[Path, typer.Argument(help="The ledger folder.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the pack (.zip).")],
    skey: Annotated[Path, typer.Option("--skey", help="File holding the ledger's signing key (PRIVATE+KEY+…).")],
    start: Annotated[int, typer.Option("--from", help="First record index.")] = 0,
    end: Annotated[int, typer.Option("--to", help="One past the last record index (default: all).")] = None,
) -> None:
    """Build an evidence pack of records [--from, --to) from a ledger folder."""
    from linewatch.evidence.engine.checkpoint import CheckpointError, Signer
    from linewatch.evidence.engine.ledger import Ledger
    from linewatch.evidence.engine.pack import build_pack

    try:
        signer = Signer.from_skey(skey.read_text())
    except (OSError, CheckpointError) as exc:
        raise InputError(str(skey), "", str(exc)) from None
    opened = Ledger.open(ledger, signer=signer)
    try:
        path = build_pack(opened, output, start, end)
    except ValueError as exc:
        raise InputError(str(ledger), "", str(exc)) from None
    err.print(f"wrote {path}", highlight=False)


evidence_app.command("verify")(verify)
evidence_app.command("pack")(pack)


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")
