"""Evidence packs from the database ledger: the records of a site in a period, with their photos, checkpoints,
proofs, time-stamps, the controls document and the human report, written by the engine's `build_pack`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from linewatch.core.models import Site
from linewatch.errors import InputError
from linewatch.evidence import records as records_mod
from linewatch.evidence import services
from linewatch.evidence.engine.checkpoint import Signer, Verifier, parse_note
from linewatch.evidence.engine.controls import controls_document
from linewatch.evidence.engine.merkle import MerkleTree
from linewatch.evidence.engine.pack import blob_refs, build_pack
from linewatch.evidence.models import Blob, Checkpoint, Entry, SiteLog, Timestamp
from linewatch.evidence.report import ReportData, render_html, render_pdf


class DbLedger:
    """The engine's `LedgerSource` over one site's database log, frozen at `size` entries."""

    def __init__(self, head: SiteLog, size: int, signer: Signer | None, start: int, end: int):
        self.head = head
        self.origin = head.origin
        self.verifier: Verifier = services.log_verifier(head)
        self.signer = signer
        self.tree: MerkleTree = services.tree(head, size)
        self._size = size
        self._notes = {c.size: c.note.encode() for c in Checkpoint.objects.filter(log=head, size__lte=size)}
        self._records = {seq: json.loads(text) for seq, text in Entry.objects.filter(
            log=head, seq__gte=start, seq__lt=end).values_list("seq", "canonical")}

    @property
    def size(self) -> int:
        return self._size

    def checkpoint_sizes(self) -> list[int]:
        return sorted(self._notes)

    def note(self, size: int) -> bytes:
        return self._notes[size]

    def record(self, index: int):
        return self._records[index]

    def root(self, size: int | None = None) -> bytes:
        return self.tree.root(size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return self.tree.inclusion_proof(index, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return self.tree.consistency_proof(size1, size2)

    def checkpoint(self) -> bytes:
        raise RuntimeError("packs are built against an existing checkpoint")  # build_site_pack signs one first


def _aware(value: dt.date | dt.datetime, end: bool = False) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    moment = dt.datetime.combine(value, dt.time.min, tzinfo=dt.UTC)
    return moment + dt.timedelta(days=1) if end else moment


def site_pack_bytes(site: Site, start: dt.date | dt.datetime, end: dt.date | dt.datetime,
                    out: str | Path) -> Path:
    """Write the evidence pack of `site` for [start, end] (dates are whole UTC days, `end` included) to `out`.

    The pack holds the contiguous range of the log from the first to the last record in the period (so nothing in
    between can be left out unnoticed), proven against a checkpoint covering it (signed now when needed)."""
    since, until = _aware(start), _aware(end, end=True)
    if until <= since:
        raise InputError("--to", str(end), "the period ends before it starts")
    head = SiteLog.objects.filter(site_slug=site.slug).first()
    seqs = Entry.objects.filter(log=head, time__gte=since, time__lt=until) if head else Entry.objects.none()
    first = seqs.order_by("seq").values_list("seq", flat=True).first()
    if first is None:
        raise InputError("--site", site.slug, f"no evidence records between {since:%Y-%m-%d %H:%M} and "
                         f"{until:%Y-%m-%d %H:%M} UTC")
    last = seqs.order_by("-seq").values_list("seq", flat=True).first()
    covering = Checkpoint.objects.filter(log=head, size__gt=last).order_by("size").first()
    if covering is None:
        with transaction.atomic():
            covering = services.checkpoint(services.lock_log(site))
    signer = services.log_signer(head)
    ledger = DbLedger(head, covering.size, signer, first, last + 1)
    records = [(i, ledger.record(i)) for i in range(first, last + 1)]

    digests: list[str] = []
    for _, rec in records:
        digests += [d for d in blob_refs(rec) if d not in digests]
    blobs: dict[str, bytes] = {}
    for digest in digests:
        try:
            blobs[digest] = records_mod.read_blob(digest)
        except (OSError, ValueError):
            continue  # listed as unavailable in the manifest
    media = dict(Blob.objects.filter(sha256__in=list(blobs)).values_list("sha256", "media_type"))
    timestamps = {t.checkpoint.size: bytes(t.token) for t in Timestamp.objects.filter(
        checkpoint__log=head, checkpoint__size__lte=covering.size).select_related("checkpoint")}
    witness_keys = [v.vkey for v in services.witness_verifiers()]
    signers = sorted({line.name for line in parse_note(covering.note.encode()).signatures})
    period = (f"{since:%Y-%m-%d}", f"{until - dt.timedelta(seconds=1):%Y-%m-%d}")
    data = ReportData(
        site=site.slug, site_name=site.name, organisation=site.organisation.name, origin=head.origin,
        period=period, generated=f"{timezone.now():%Y-%m-%d %H:%M} UTC", records=records,
        controls=controls_document(records), checkpoint=covering.size, signers=signers,
        vkeys=[ledger.verifier.vkey, *witness_keys], photos=[(d, media.get(d, "")) for d in blobs],
    )
    extra = {"report.html": render_html(data), "report.pdf": render_pdf(data, blobs)}
    return build_pack(ledger, out, first, last + 1, blobs=blobs, extra=extra, timestamps=timestamps,
                      period={"from": since.isoformat(), "to": until.isoformat()}, extra_keys=tuple(witness_keys))


def trusted_keys(site: Site) -> list[Verifier]:
    """The site's log key and the organisation's witness keys, as registered here (what a verifier is given)."""
    head = services.get_log(site)
    return [services.log_verifier(head), *services.witness_verifiers()]
