"""The one way other domains put evidence into a site's ledger: `record(site, kind, body)`; and `attach_blob` for
the photos and files a record references.

Usage (patrols, roll calls, response…)::

    from linewatch.evidence.records import attach_blob, record

    digest = attach_blob(jpeg_bytes, "image/jpeg")
    record(site, "patrol.scan", {"tour": "night-1", "checkpoint": "gate-3", "guard": "p-104",
                                 "photos": [{"sha256": digest, "media_type": "image/jpeg"}]}, at=scanned_at)
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import logging
import re
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from linewatch import paths
from linewatch.core.models import Site
from linewatch.evidence.engine.canonical import canonicalize
from linewatch.evidence.engine.merkle import leaf_hash
from linewatch.evidence.engine.pack import blob_refs  # noqa: F401 (one walker for records and packs)
from linewatch.evidence.models import Blob, Entry, SiteLog

log = logging.getLogger(__name__)

KIND = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_-]*)+$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def record(site: Site | str, kind: str, body: dict, at: dt.datetime | None = None) -> Entry:
    """Append one evidence record to the site's ledger and return its `Entry` (its `seq` is its leaf index).

    - `site`: a `core.models.Site` or its slug (an unknown slug raises `Site.DoesNotExist`).
    - `kind`: dotted lower-case name saying what happened, `<domain>.<event>`, e.g. `alert.raised`,
      `alert.acknowledged`, `patrol.scan`, `patrol.exception`, `rollcall.completed`, `plant.changed`.
    - `body`: JSON-compatible dict (datetimes, dates, Decimals, UUIDs, tuples and sets are converted; NaN and
      integers beyond ±2**53 are refused with `InputError`). Reference photos and files stored with
      `attach_blob` as `{"sha256": "<hex>", ...}` anywhere in the body: evidence packs then carry the blob.
    - `at`: when it happened (default now); stored as UTC in the record.

    The leaf entry is the RFC 8785 form of `{"kind", "site", "time", "body"}`. Appends to one site are serialised by
    a row lock on the site's log head (PostgreSQL) or SQLite's write lock, and happen inside the caller's
    transaction when there is one (a rolled-back caller leaves no record). Every `checkpoint_every` entries a
    checkpoint is signed; `linewatch evidence checkpoint` signs one on demand."""
    if not KIND.match(kind):
        raise ValueError(f"evidence kind {kind!r} must be dotted lower-case, e.g. 'patrol.scan'")
    if not isinstance(body, dict):
        raise TypeError("an evidence record's body is a dict")
    slug = site.slug if isinstance(site, Site) else site
    when = (at or timezone.now()).astimezone(dt.UTC)
    document = {"kind": kind, "site": slug, "time": _time(when), "body": _jsonable(body)}
    canonical = canonicalize(document, f"evidence {kind}", "body")
    leaf = leaf_hash(canonical).hex()
    from linewatch.evidence import services

    with transaction.atomic():
        head = services.lock_log(site)
        entry = Entry.objects.create(log=head, seq=head.size, kind=kind, time=when,
                                     canonical=canonical.decode(), leaf_hash=leaf)
        head.size += 1
        SiteLog.objects.filter(pk=head.pk).update(size=head.size)
        if head.size % head.checkpoint_every == 0:
            services.checkpoint_quietly(head)
    return entry


def attach_blob(data: bytes, media_type: str = "") -> str:
    """Store `data` content-addressed in the data folder (once) and return its hex SHA-256."""
    digest = hashlib.sha256(data).hexdigest()
    path = blob_path(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(data)
        temporary.replace(path)
    Blob.objects.get_or_create(sha256=digest, defaults={"size": len(data), "media_type": media_type[:100]})
    return digest


def blob_path(digest: str):
    if not SHA256.match(digest):
        raise ValueError(f"{digest!r} is not a hex SHA-256")
    return paths.data_dir() / "evidence" / "blobs" / digest[:2] / digest


def read_blob(digest: str) -> bytes:
    return blob_path(digest).read_bytes()


def _time(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, dt.datetime):
        return _time(value.astimezone(dt.UTC)) if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def entry_record(entry: Entry) -> dict:
    """The record as stored (the parsed canonical form)."""
    return json.loads(entry.canonical)
