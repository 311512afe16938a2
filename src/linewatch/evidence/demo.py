"""The demo's evidence: every demo site's ledger checkpointed and cosigned by headquarters, and one partner
warehouse (a 3PL serving the Padborg distribution centre) that has submitted four weekly evidence packs from its
own ledger — one of them altered after signing, so it fails verification and the scorecard calls it out — and
two incident reports (one still open).

Idempotent: the partner is created once; checkpoints and cosignatures are only added for new records."""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import zipfile
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from linewatch.core.models import Site
from linewatch.evidence import partners, services
from linewatch.evidence.engine.checkpoint import Signer
from linewatch.evidence.engine.ledger import Ledger
from linewatch.evidence.engine.pack import build_pack
from linewatch.evidence.models import Partner, SiteLog

PARTNER = "grenzland-3pl"
PARTNER_NAME = "Grenzland Logistik"
PARTNER_SITES = ("padborg",)
ORIGIN = "grenzland-logistik.example/dc-flensburg"
WEEKS = 4
TAMPERED_WEEK = 2


def _partner_records(start: dt.datetime, rng: random.Random) -> list[dict]:
    """A week of the partner's own evidence: night patrol scans (a few missed), dock door checks."""
    rows = []
    for day in range(7):
        night = start + dt.timedelta(days=day, hours=22)
        for n, cp in enumerate(("gate", "dock-1", "dock-2", "yard", "fence-east")):
            at = night + dt.timedelta(minutes=9 * n)
            if rng.random() < 0.06:
                rows.append({"kind": "patrol.exception", "site": "dc-flensburg", "time": at.isoformat(),
                             "body": {"exception": "missed", "checkpoint": cp, "guard": f"g-{day % 3}"}})
            else:
                rows.append({"kind": "patrol.scan", "site": "dc-flensburg", "time": at.isoformat(),
                             "body": {"checkpoint": cp, "guard": f"g-{day % 3}", "verified": True}})
        rows.append({"kind": "control.check", "site": "dc-flensburg", "time": (night + dt.timedelta(hours=1))
                     .isoformat(), "body": {"control": "dock doors locked", "ok": True}})
    return rows


def _tamper(data: bytes) -> bytes:
    """What a partner might do after signing: turn a missed checkpoint into a scan."""
    import io

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "records.jsonl":
                content = content.replace(b'"exception":"missed"', b'"exception":"none"', 1)
                if b'"exception":"none"' not in content:  # no missed checkpoint that week: edit a scan instead
                    content = content.replace(b'"guard":"g-1"', b'"guard":"g-2"', 1)
            target.writestr(name, content)
    return out.getvalue()


def _load_partner() -> list[str]:
    sites = [s for s in PARTNER_SITES if Site.objects.filter(slug=s).exists()]
    if not sites:
        return []
    partner = partners.create_partner(PARTNER, PARTNER_NAME, "3pl", sites)
    signer = Signer.generate(ORIGIN)
    partners.register_key(partner, signer.verifier.vkey)
    rng = random.Random(8)
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    failed = 0
    with tempfile.TemporaryDirectory() as folder:
        ledger = Ledger.create(Path(folder) / "ledger", signer, checkpoint_every=50)
        for week in range(WEEKS):
            start = today - dt.timedelta(days=7 * (WEEKS - week))
            first = ledger.size
            ledger.extend(_partner_records(start, rng))
            pack = build_pack(ledger, Path(folder) / f"week{week}.zip", first, ledger.size, period={
                "from": start.isoformat(), "to": (start + dt.timedelta(days=7)).isoformat()})
            data = pack.read_bytes()
            if week == TAMPERED_WEEK:
                data = _tamper(data)
            submission = partners.submit_pack(partner, data, f"dc-flensburg-week{week + 1}.zip",
                                              by="grenzland upload")
            # Received a day after the week ended (the last one two days late).
            received = start + dt.timedelta(days=8 if week < WEEKS - 1 else 9, hours=7)
            type(submission).objects.filter(pk=submission.pk).update(received=min(received, timezone.now()))
            failed += not submission.verified
    partners.submit_incident(partner, {
        "category": "theft", "severity": "medium", "what": "Two pallets of frozen goods missing at stock count",
        "where": "dock 2", "when": (today - dt.timedelta(days=12, hours=-5)).isoformat(), "status": "closed",
        "closed_at": (today - dt.timedelta(days=9)).isoformat(), "actions": "CCTV reviewed, police report filed"},
        by="grenzland upload")
    partners.submit_incident(partner, {
        "category": "intrusion", "severity": "high", "what": "Fence cut at the east yard, no entry to the hall found",
        "where": "fence east", "when": (today - dt.timedelta(days=2, hours=-3)).isoformat(), "status": "open",
        "actions": "Fence patched, extra patrol round"}, by="grenzland upload")
    return [f"evidence: partner {PARTNER_NAME} submitted {WEEKS} packs ({failed} failed verification) and 2 "
            "incident reports (1 open) — see Partners"]


def load() -> list[str]:
    lines: list[str] = []
    if not Partner.objects.filter(slug=PARTNER).exists():
        lines += _load_partner()
    signed = 0
    for site in Site.objects.select_related("organisation").order_by("slug"):
        head = services.get_log(site)
        head.refresh_from_db()
        latest = services.latest_checkpoint(head)
        if head.size and (latest is None or latest.size < head.size):
            with transaction.atomic():
                services.checkpoint(services.lock_log(site))
            signed += 1
        services.witness(head, site)
    total = sum(SiteLog.objects.values_list("size", flat=True))
    lines.append(f"evidence: {total} ledger records across {SiteLog.objects.count()} sites, "
                 f"{signed} new checkpoints cosigned by headquarters; try "
                 "`linewatch evidence pack --site kolding -o kolding.zip` and `linewatch evidence verify`")
    return lines
