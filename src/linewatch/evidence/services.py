"""The database ledger's operations, shared by the CLI, the API and the pages: logs and their keys, the Merkle tree
rebuilt from stored leaves, checkpoints, inclusion and consistency proofs, and headquarters witnessing.

Hashing, proofs and signatures are the engine's (`linewatch.evidence.engine`); this module only feeds it rows.
"""

from __future__ import annotations

import logging
import os
import threading

from django.db import IntegrityError, transaction

from linewatch.core.models import Site
from linewatch.evidence import keys
from linewatch.evidence.engine.canonical import canonicalize  # noqa: F401  (re-exported for callers)
from linewatch.evidence.engine.checkpoint import (
    Checkpoint as NoteCheckpoint,
)
from linewatch.evidence.engine.checkpoint import (
    Signer,
    Verifier,
    cosign_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)
from linewatch.evidence.engine.merkle import MerkleTree, leaf_hash
from linewatch.evidence.models import Checkpoint, Cosignature, Entry, KeyRole, SigningKey, SiteLog, Timestamp

log = logging.getLogger(__name__)

DEFAULT_CHECKPOINT_EVERY = 100  # LINEWATCH_EVIDENCE_CHECKPOINT_EVERY overrides it for logs created afterwards


class LedgerCorrupt(RuntimeError):
    """A stored entry no longer hashes to its leaf, or entries are missing: the database was edited."""


def origin_for(site: Site) -> str:
    return f"linewatch/{site.organisation.slug}/{site.slug}"


def witness_name(site: Site) -> str:
    """Headquarters' witness key: the '.' keeps it apart from every site's origin (slugs have no dots), also from
    a site whose slug is `hq`."""
    return f"linewatch/{site.organisation.slug}/hq.witness"


# -- logs and keys ----------------------------------------------------------------------------------------------


def get_log(site: Site) -> SiteLog:
    """The site's log, created with its signing key on first use."""
    found = SiteLog.objects.filter(site_slug=site.slug).first()
    if found is not None:
        return found
    origin = origin_for(site)
    try:
        with transaction.atomic():
            every = max(1, int(os.environ.get("LINEWATCH_EVIDENCE_CHECKPOINT_EVERY") or DEFAULT_CHECKPOINT_EVERY))
            created = SiteLog.objects.create(site=site, site_slug=site.slug, origin=origin, checkpoint_every=every)
            signer = keys.load_signer(origin) if keys.has_signer(origin) else keys.create_signer(origin)
            SigningKey.objects.get_or_create(vkey=signer.verifier.vkey,
                                             defaults={"name": origin, "role": KeyRole.LOG, "log": created})
            return created
    except IntegrityError:  # another writer created it first
        return SiteLog.objects.get(site_slug=site.slug)


_heads: dict[str, int] = {}  # site slug -> SiteLog pk: appends skip the site lookup once a log exists


def lock_log(site: Site | str) -> SiteLog:
    """The site's log head (created on first use), locked for this transaction (call inside transaction.atomic).
    `site` is a Site or its slug (an unknown slug raises Site.DoesNotExist)."""
    slug = site.slug if isinstance(site, Site) else site
    pk = _heads.get(slug)
    if pk is not None:
        found = SiteLog.objects.select_for_update().filter(pk=pk, site__isnull=False).first()
        if found is not None and found.site_slug == slug:
            return found
        _heads.pop(slug, None)  # another database (tests) or the site was deleted
    site_obj = site if isinstance(site, Site) else Site.objects.select_related("organisation").get(slug=slug)
    head = SiteLog.objects.select_for_update().get(pk=get_log(site_obj).pk)
    _heads[slug] = head.pk
    return head


def log_signer(head: SiteLog) -> Signer:
    return keys.load_signer(head.origin)


def log_verifier(head: SiteLog) -> Verifier:
    key = SigningKey.objects.filter(log=head, role=KeyRole.LOG, retired__isnull=True).order_by("-id").first()
    if key is None:
        raise LedgerCorrupt(f"{head.origin} has no public key")
    return Verifier.from_vkey(key.vkey)


def witness_signer(site: Site) -> Signer:
    name = witness_name(site)
    signer = keys.load_signer(name) if keys.has_signer(name) else keys.create_signer(name)
    SigningKey.objects.get_or_create(vkey=signer.verifier.vkey, defaults={"name": name, "role": KeyRole.WITNESS})
    return signer


def witness_verifiers() -> list[Verifier]:
    return [Verifier.from_vkey(k.vkey) for k in SigningKey.objects.filter(role=KeyRole.WITNESS, retired__isnull=True)]


# -- the tree ---------------------------------------------------------------------------------------------------

_trees: dict[int, MerkleTree] = {}
_trees_lock = threading.Lock()


def tree(head: SiteLog, size: int | None = None) -> MerkleTree:
    """The log's Merkle tree over at least `size` entries (default: all), re-hashing every entry it loads from the
    database so an edited row is caught rather than signed. Cached per process and extended incrementally."""
    size = head.size if size is None else size
    with _trees_lock:
        cached = _trees.get(head.pk)
        if cached is not None and cached.size:
            last = Entry.objects.filter(log=head, seq=cached.size - 1).values_list("leaf_hash", flat=True).first()
            if cached.size > head.size or last != cached.leaf(cached.size - 1).hex():
                cached = None  # a rolled-back append or a different database: start over
        if cached is None:
            cached = MerkleTree()
        if cached.size < size:
            rows = (Entry.objects.filter(log=head, seq__gte=cached.size, seq__lt=size).order_by("seq")
                    .values_list("seq", "canonical", "leaf_hash"))
            for seq, canonical, stored in rows.iterator(chunk_size=5000):
                if seq != cached.size:
                    raise LedgerCorrupt(f"{head.origin}: entry {cached.size} is missing (found {seq})")
                leaf = leaf_hash(canonical.encode())
                if leaf.hex() != stored:
                    raise LedgerCorrupt(f"{head.origin}: entry {seq} does not match its leaf hash: it was edited")
                cached.append_leaf_hash(leaf)
            if cached.size < size:
                raise LedgerCorrupt(f"{head.origin}: entries {cached.size}..{size - 1} are missing")
        _trees[head.pk] = cached
        return cached


# -- checkpoints ------------------------------------------------------------------------------------------------


def checkpoint(head: SiteLog) -> Checkpoint:
    """Sign a checkpoint of the log's current size (or return the one that exists)."""
    head.refresh_from_db(fields=["size"])
    if head.size == 0:
        raise ValueError(f"{head.origin} is empty: nothing to checkpoint")
    existing = Checkpoint.objects.filter(log=head, size=head.size).first()
    if existing is not None:
        return existing
    root = tree(head, head.size).root(head.size)
    note = sign_checkpoint(NoteCheckpoint(head.origin, head.size, root), log_signer(head))
    return Checkpoint.objects.create(log=head, size=head.size, root_hash=root.hex(), note=note.decode())


def checkpoint_quietly(head: SiteLog) -> Checkpoint | None:
    """Checkpoint during an append; a missing key (a restored dump) must not lose the record, so it is logged."""
    try:
        return checkpoint(head)
    except keys.KeyMissing as exc:
        log.warning("evidence checkpoint skipped: %s", exc)
        return None


def witness(head: SiteLog, site: Site | None = None) -> list[Checkpoint]:
    """Headquarters cosigns every checkpoint of the log it has not cosigned yet, in order, each only after checking
    (with a consistency proof) that it extends the last one it cosigned. Returns the checkpoints cosigned now."""
    site = site or head.site
    if site is None:
        raise ValueError(f"{head.origin}: the site is gone; witness from its own installation")
    signer = witness_signer(site)
    verifier = log_verifier(head)
    done: list[Checkpoint] = []
    previous = None
    with transaction.atomic():
        for cp in Checkpoint.objects.select_for_update().filter(log=head).order_by("size"):
            signed = cp.cosignatures.filter(witness=signer.name).exists()
            note = cp.note.encode()
            if not signed:
                proof = tree(head, cp.size).consistency_proof(previous.size, cp.size) if previous else []
                note = cosign_checkpoint(note, signer, verifier, previous, proof)
                cp.note = note.decode()
                cp.save(update_fields=["note"])
                Cosignature.objects.create(checkpoint=cp, witness=signer.name)
                done.append(cp)
            previous = verify_checkpoint(note, [verifier], log_key=head.origin)
    return done


# -- proofs -----------------------------------------------------------------------------------------------------


def latest_checkpoint(head: SiteLog) -> Checkpoint | None:
    return Checkpoint.objects.filter(log=head).order_by("-size").first()


def inclusion(head: SiteLog, seq: int, size: int | None = None) -> dict:
    """The audit path of entry `seq` against the checkpoint of `size` (default: the latest covering it)."""
    if size is None:
        cp = Checkpoint.objects.filter(log=head, size__gt=seq).order_by("size").first()
        if cp is None:
            cp = checkpoint(head)
    else:
        cp = Checkpoint.objects.filter(log=head, size=size).first()
        if cp is None:
            raise ValueError(f"no checkpoint of size {size}")
    if not 0 <= seq < cp.size:
        raise ValueError(f"entry {seq} is not inside checkpoint {cp.size}")
    t = tree(head, cp.size)
    return {"leafIdx": seq, "treeSize": cp.size, "leafHash": _b64(t.leaf(seq)),
            "proof": [_b64(h) for h in t.inclusion_proof(seq, cp.size)], "root": _b64(t.root(cp.size)),
            "checkpoint": cp.note}


def consistency(head: SiteLog, size1: int, size2: int) -> dict:
    cps = {c.size: c for c in Checkpoint.objects.filter(log=head, size__in=[size1, size2])}
    for s in (size1, size2):
        if s not in cps:
            raise ValueError(f"no checkpoint of size {s}")
    t = tree(head, max(size1, size2))
    return {"size1": size1, "size2": size2, "root1": _b64(t.root(size1)), "root2": _b64(t.root(size2)),
            "proof": [_b64(h) for h in t.consistency_proof(size1, size2)],
            "checkpoint1": cps[size1].note, "checkpoint2": cps[size2].note}


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


# -- RFC 3161 time-stamps ---------------------------------------------------------------------------------------


def http_tsa(url: str, timeout: float = 10.0):
    """A TSA client posting DER requests to `url` (RFC 3161 §3.4, application/timestamp-query)."""
    import urllib.request

    def ask(request: bytes) -> bytes:
        req = urllib.request.Request(url, data=request, headers={"Content-Type": "application/timestamp-query"})
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310 - the operator's own TSA URL
            return response.read()

    return ask


def timestamp_checkpoint(cp: Checkpoint, tsa, name: str = "tsa") -> Timestamp:
    """Ask a TSA (a callable taking the DER request and returning the DER response, e.g. `http_tsa(url)`) to
    time-stamp the checkpoint's note as signed by the site (the log's own signature line: cosignatures added later
    do not change what was time-stamped)."""
    import datetime as dt

    from linewatch.evidence.engine.timestamp import check_token, request_for

    note = site_note(cp)
    token = tsa(request_for(note))
    when = check_token(token, note)
    return Timestamp.objects.create(checkpoint=cp, tsa=name[:200], token=token,
                                    gen_time=dt.datetime.fromisoformat(when))


def site_note(cp: Checkpoint) -> bytes:
    """The checkpoint note with only the log's own signature (what is time-stamped and stays fixed)."""
    from linewatch.evidence.engine.checkpoint import SignedNote, parse_note

    parsed = parse_note(cp.note.encode())
    own = tuple(s for s in parsed.signatures if s.name == cp.log.origin)
    return SignedNote(parsed.text, own).encode()
