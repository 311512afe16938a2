"""`linewatch evidence …`: verify evidence packs offline (no database, no server); build them from a site's ledger
(or a ledger folder); sign checkpoints, witness them, time-stamp them; standard exports; partners."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from linewatch.clitools import emit, err, handles_input_errors, out, setup_django
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
    tsa_cert: Annotated[list[Path], typer.Option("--tsa-cert", help="Trusted root certificate (PEM/DER) of the "
                                                 "time-stamping authority: checks RFC 3161 token signatures.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Verify an evidence pack offline: exit 0 when everything checks out, 2 naming each failure; says pass or fail
    per control and names each record that failed."""
    from linewatch.evidence.engine.verify import verify_pack

    if not key:
        raise InputError("--key", "", "give at least one trusted verifier key (the site's log key)")
    if not pack.is_file():
        raise InputError(str(pack), "", "no such file")
    roots = []
    for cert in tsa_cert or []:
        try:
            roots.append(cert.read_bytes())
        except OSError as exc:
            raise InputError(str(cert), "", str(exc)) from None
    report = verify_pack(pack, _load_keys(key), witnesses=witness or [], tsa_roots=roots)
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
    elif report.ok:
        start, end = report.records
        signers = sorted({n for names in report.signed_by.values() for n in names})
        out.print(f"VALID {pack}: {report.origin} records {start}..{end - 1} ({report.records_verified} verified), "
                  f"{report.blobs_verified} photos/files, checkpoints {report.checkpoints} signed by "
                  f"{', '.join(signers)}", highlight=False)
    else:
        for failure in report.failures:
            err.print(f"[red]FAIL[/red] {failure}", highlight=False, markup=True, soft_wrap=True)
        for index, problems in sorted(report.bad_records().items()):
            err.print(f"[red]FAIL[/red] record {index}: {len(problems)} problem(s)", highlight=False, markup=True)
        err.print(f"{pack}: {len(report.failures)} check(s) failed", highlight=False)
    if not as_json:
        for control in report.controls:
            verdict = "[green]PASS[/green]" if control["ok"] else "[red]FAIL[/red]"
            kpis = "; ".join(f"{k['name']}: {k['display']}" for k in control["kpis"])
            out.print(f"{verdict} control {control['id']} ({control['records']} records) {kpis}", markup=True,
                      highlight=False, soft_wrap=True)
            for problem in control["failures"][:5]:
                out.print(f"     {problem}", highlight=False, soft_wrap=True)
        if report.timestamps:
            out.print("RFC 3161 time-stamps: " + ", ".join(f"checkpoint {k} at {v}"
                                                           for k, v in sorted(report.timestamps.items())),
                      highlight=False)
    if not report.ok:
        raise typer.Exit(2)


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(option, text, "a date as YYYY-MM-DD") from None


def _site(slug: str):
    from linewatch.core.models import Site

    site = Site.objects.select_related("organisation").filter(slug=slug).first()
    if site is None:
        raise InputError("--site", slug, "no such site")
    return site


@handles_input_errors
def pack(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the pack (.zip).")],
    site: Annotated[str, typer.Option("--site", help="Build from this site's ledger in the database.")] = None,
    since: Annotated[str, typer.Option("--from", help="With --site: first day (YYYY-MM-DD, UTC); "
                                       "with a ledger folder: first record index.")] = None,
    until: Annotated[str, typer.Option("--to", help="With --site: last day, included (YYYY-MM-DD); "
                                       "with a ledger folder: one past the last record index.")] = None,
    ledger: Annotated[Path, typer.Argument(help="A ledger folder (instead of --site).")] = None,
    skey: Annotated[Path, typer.Option("--skey", help="With a ledger folder: its signing key file.")] = None,
) -> None:
    """Build an evidence pack: a site's records of a period (from the database), or records [--from, --to) of a
    ledger folder. The pack carries the records, photos, checkpoints, proofs, time-stamps, controls with KPIs, a
    report (HTML and PDF), the public keys and VERIFY.md; its manifest is signed."""
    if site is not None:
        setup_django()
        from linewatch.evidence.packs import site_pack_bytes, trusted_keys

        target = _site(site)
        start = _date(since, "--from") or dt.date.today() - dt.timedelta(days=30)
        end = _date(until, "--to") or dt.date.today()
        path = site_pack_bytes(target, start, end, output)
        err.print(f"wrote {path}; verify with:", highlight=False)
        err.print("  linewatch evidence verify " + str(path) + "".join(
            f" --key '{v.vkey}'" for v in trusted_keys(target)), highlight=False, soft_wrap=True)
        return
    if ledger is None or skey is None:
        raise InputError("pack", "", "give --site S (the database ledger) or a LEDGER folder with --skey")
    from linewatch.evidence.engine.checkpoint import CheckpointError, Signer
    from linewatch.evidence.engine.ledger import Ledger
    from linewatch.evidence.engine.pack import build_pack

    try:
        signer = Signer.from_skey(skey.read_text())
    except (OSError, CheckpointError) as exc:
        raise InputError(str(skey), "", str(exc)) from None
    opened = Ledger.open(ledger, signer=signer)
    try:
        first = int(since) if since is not None else 0
        last = int(until) if until is not None else None
        path = build_pack(opened, output, first, last)
    except ValueError as exc:
        raise InputError(str(ledger), "", str(exc)) from None
    err.print(f"wrote {path}", highlight=False)


def _logs(site: str | None) -> list:
    from linewatch.core.models import Site
    from linewatch.evidence import services

    sites = [_site(site)] if site else list(Site.objects.select_related("organisation").order_by("slug"))
    return [(s, services.get_log(s)) for s in sites]


@handles_input_errors
def checkpoint(
    site: Annotated[str, typer.Option("--site", help="Only this site (default: every site).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Sign a checkpoint of each site's log now (records since the last one become tamper-evident)."""
    setup_django()
    from django.db import transaction

    from linewatch.evidence import services

    done = []
    for s, head in _logs(site):
        head.refresh_from_db()
        if head.size == 0:
            continue
        with transaction.atomic():
            cp = services.checkpoint(services.lock_log(s))
        done.append({"site": s.slug, "origin": head.origin, "size": cp.size, "root": cp.root_hash})
    emit(as_json, done, lambda: [out.print(f"{d['site']}: checkpoint {d['size']} root {d['root'][:16]}…",
                                           highlight=False) for d in done] or out.print("nothing to checkpoint"))


@handles_input_errors
def witness(
    site: Annotated[str, typer.Option("--site", help="Only this site (default: every site).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Headquarters cosigns the sites' new checkpoints, each after checking it extends the last one it cosigned."""
    setup_django()
    from linewatch.evidence import services

    done = [{"site": s.slug, "cosigned": [c.size for c in services.witness(head, s)]} for s, head in _logs(site)]
    emit(as_json, done, lambda: [out.print(f"{d['site']}: cosigned {d['cosigned'] or 'nothing new'}",
                                           highlight=False) for d in done])


@handles_input_errors
def timestamp(
    tsa: Annotated[str, typer.Option("--tsa", help="URL of the local RFC 3161 time-stamping authority.")],
    site: Annotated[str, typer.Option("--site", help="Only this site (default: every site).")] = None,
) -> None:
    """Ask an RFC 3161 TSA to time-stamp each site's checkpoints that have no time-stamp yet."""
    setup_django()
    from linewatch.evidence import services
    from linewatch.evidence.engine.timestamp import TimestampError
    from linewatch.evidence.models import Checkpoint

    ask = services.http_tsa(tsa)
    for s, head in _logs(site):
        for cp in Checkpoint.objects.filter(log=head, timestamps__isnull=True).order_by("size"):
            try:
                stamp = services.timestamp_checkpoint(cp, ask, tsa)
            except (OSError, TimestampError) as exc:
                raise InputError("--tsa", tsa, str(exc)) from None
            out.print(f"{s.slug}: checkpoint {cp.size} time-stamped at {stamp.gen_time:%Y-%m-%d %H:%M:%S}",
                      highlight=False)


@handles_input_errors
def keys(site: Annotated[str, typer.Option("--site", help="The site.")]) -> None:
    """Print the verifier keys (C2SP vkeys) to give a pack's recipient: the site's log key and the witnesses'."""
    setup_django()
    from linewatch.evidence.packs import trusted_keys

    for verifier in trusted_keys(_site(site)):
        out.print(verifier.vkey, highlight=False, soft_wrap=True)


@handles_input_errors
def export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="stix, veris, csv or cap.")],
    site: Annotated[str, typer.Option("--site", help="The site.")],
    since: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD, UTC).")] = None,
    until: Annotated[str, typer.Option("--to", help="Last day, included (YYYY-MM-DD).")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (default: stdout; CAP is a zip).")]
    = None,
) -> None:
    """Incidents as a STIX 2.1 bundle (incident-core), VERIS JSON or CSV; alerts and situation reports as CAP 1.2."""
    setup_django()
    from linewatch.evidence.exports import FORMATS
    from linewatch.evidence.exports import export as run_export

    if fmt not in FORMATS:
        raise InputError("--format", fmt, f"one of {', '.join(FORMATS)}")
    target = _site(site)
    start = _date(since, "--from") or dt.date.today() - dt.timedelta(days=30)
    end = _date(until, "--to") or dt.date.today()
    begin = dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC)
    finish = dt.datetime.combine(end, dt.time.min, tzinfo=dt.UTC) + dt.timedelta(days=1)
    content, _, name = run_export(target, fmt, begin, finish)
    if output is None:
        if fmt == "cap":
            raise InputError("--output", "", "CAP exports are a zip of messages: give -o FILE.zip")
        sys.stdout.write(content.decode())
    else:
        output.write_bytes(content)
        err.print(f"wrote {output} ({name})", highlight=False)


partner_app = typer.Typer(help="Partners: facilities and contractors that submit evidence to us.",
                          no_args_is_help=True)


@partner_app.command("add")
@handles_input_errors
def partner_add(
    slug: Annotated[str, typer.Argument(help="Short name, e.g. grenzland-3pl.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    kind: Annotated[str, typer.Option("--kind", help="contract-manufacturer, 3pl or guard-contractor.")],
    site: Annotated[list[str], typer.Option("--site", help="A site the partner serves (repeatable).")] = None,
) -> None:
    """Add (or update) a partner and the sites it serves."""
    setup_django()
    from linewatch.evidence import partners

    partner = partners.create_partner(slug, name, kind, site or [])
    out.print(f"partner {partner.slug}: {partner.name} ({partner.get_kind_display()}), serves "
              f"{', '.join(s.slug for s in partner.sites.all()) or 'no site yet'}", highlight=False)


def _partner(slug: str):
    from linewatch.evidence.models import Partner

    found = Partner.objects.filter(slug=slug).first()
    if found is None:
        raise InputError("partner", slug, "no such partner")
    return found


@partner_app.command("token")
@handles_input_errors
def partner_token(slug: Annotated[str, typer.Argument()],
                  name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "upload") -> None:
    """A token that can only submit for this partner (shown once; only its digest is stored)."""
    setup_django()
    from linewatch.evidence import partners

    sys.stdout.write(partners.create_token(_partner(slug), name) + "\n")


@partner_app.command("key")
@handles_input_errors
def partner_key(slug: Annotated[str, typer.Argument()],
                vkey: Annotated[str, typer.Argument(help="The partner's verifier key (C2SP vkey).")]) -> None:
    """Register a key the partner signs its packs with (given to us out of band)."""
    setup_django()
    from linewatch.evidence import partners

    key = partners.register_key(_partner(slug), vkey)
    out.print(f"registered {key.name} for {slug}", highlight=False)


@partner_app.command("submit")
@handles_input_errors
def partner_submit(slug: Annotated[str, typer.Argument()],
                   pack_file: Annotated[Path, typer.Argument(help="The partner's evidence pack (.zip).")]) -> None:
    """Receive a pack handed over by a partner: verify it with the partner's keys and keep the result."""
    setup_django()
    from linewatch.evidence import partners

    try:
        data = pack_file.read_bytes()
    except OSError as exc:
        raise InputError(str(pack_file), "", str(exc)) from None
    s = partners.submit_pack(_partner(slug), data, pack_file.name, by="cli")
    out.print(f"{'VERIFIED' if s.verified else 'FAILED'} {pack_file.name}", highlight=False)
    for f in s.result.get("failures", [])[:20]:
        out.print(f"  {f['file']}:{f['place']}: {f['message']}", highlight=False, soft_wrap=True)
    if not s.verified:
        raise typer.Exit(2)


@partner_app.command("scorecard")
@handles_input_errors
def partner_scorecard(slug: Annotated[str, typer.Argument()] = None,
                      as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Partner scorecards: standardisation, patrol verification coverage, timeliness, open incidents, failures."""
    setup_django()
    from linewatch.evidence import partners
    from linewatch.evidence.models import Partner

    cards = [partners.scorecard(p) for p in ([_partner(slug)] if slug else Partner.objects.order_by("name"))]

    def human() -> None:
        for c in cards:
            def show(v, unit=""):
                return "no data" if v is None else f"{v}{unit}"
            out.print(f"{c['name']} ({c['kind']}): standardisation {show(c['standardisation_pct'], ' %')}, "
                      f"coverage {show(c['coverage_pct'], ' %')}, patrols {show(c['patrol_completion'])}, "
                      f"open incidents {c['open_incidents']}, verification failures {len(c['failures'])}",
                      highlight=False, soft_wrap=True)
            for f in c["failures"]:
                out.print(f"  FAILED {f['kind']} {f['filename']} ({f['received'][:16]}): "
                          f"{'; '.join(f['problems'][:2])}", highlight=False, soft_wrap=True)

    emit(as_json, cards, human)


evidence_app.command("verify")(verify)
evidence_app.command("pack")(pack)
evidence_app.command("checkpoint")(checkpoint)
evidence_app.command("witness")(witness)
evidence_app.command("timestamp")(timestamp)
evidence_app.command("keys")(keys)
evidence_app.command("export")(export)


evidence_app.add_typer(partner_app, name="partner")


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")
