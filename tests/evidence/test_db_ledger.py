"""The database ledger: record() appends per site, checkpoints sign at the interval, proofs verify independently,
headquarters cosigns only histories that extend what it saw, and an edited row is refused rather than signed."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest

from linewatch.core.models import Site
from linewatch.evidence import services
from linewatch.evidence.engine.checkpoint import Verifier, open_note, verify_checkpoint
from linewatch.evidence.models import Checkpoint, Entry, SigningKey, SiteLog
from linewatch.evidence.records import attach_blob, blob_refs, read_blob, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha_beta(alpha_beta):
    """The test sites with an empty ledger (importing them records plant.changed entries; these tests start at 0)."""
    from linewatch.evidence.models import Cosignature

    Cosignature.objects.all().delete()
    Checkpoint.objects.all().delete()
    Entry.objects.all().delete()
    SiteLog.objects.update(size=0)
    services._trees.clear()


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 written out recursively, independent of the engine."""
    if not leaves:
        return _h(b"")
    if len(leaves) == 1:
        return _h(b"\x00" + leaves[0])
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return _h(b"\x01" + reference_root(leaves[:k]) + reference_root(leaves[k:]))


def reference_verify_inclusion(entry: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2, written independently of the engine."""
    fn, sn, r = index, size - 1, _h(b"\x00" + entry)
    for p in proof:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = _h(b"\x01" + p + r)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _h(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def test_record_appends_in_order_per_site_with_canonical_bodies(alpha_beta):
    alpha = Site.objects.get(slug="alpha")
    at = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
    first = record(alpha, "patrol.scan", {"checkpoint": "gate-1", "b": 2, "a": 1}, at=at)
    second = record("alpha", "alert.raised", {"when": at, "cost": __import__("decimal").Decimal("1.50")})
    other = record("beta", "plant.changed", {"x": 1})
    assert (first.seq, second.seq, other.seq) == (0, 1, 0)
    assert first.canonical == ('{"body":{"a":1,"b":2,"checkpoint":"gate-1"},"kind":"patrol.scan",'
                               '"site":"alpha","time":"2026-03-01T08:00:00.000000Z"}')
    assert second.body == {"cost": "1.50", "when": "2026-03-01T08:00:00.000000Z"}
    assert SiteLog.objects.get(site_slug="alpha").size == 2
    assert SiteLog.objects.get(site_slug="alpha").origin.endswith("/alpha")


def test_bad_kinds_and_bodies_are_refused(alpha_beta):
    from linewatch.errors import InputError

    with pytest.raises(ValueError):
        record("alpha", "Patrol Scan", {})
    with pytest.raises(InputError):
        record("alpha", "patrol.scan", {"x": float("nan")})
    assert not Entry.objects.exists()


def test_checkpoints_every_n_entries_and_proofs_verify_independently(alpha_beta):
    alpha = Site.objects.get(slug="alpha")
    head = services.get_log(alpha)
    SiteLog.objects.filter(pk=head.pk).update(checkpoint_every=4)
    entries = [record(alpha, "control.check", {"n": i}) for i in range(11)]
    assert list(Checkpoint.objects.filter(log=head).values_list("size", flat=True)) == [4, 8]
    head.refresh_from_db()
    services.checkpoint(head)
    cps = {c.size: c for c in Checkpoint.objects.filter(log=head)}
    assert sorted(cps) == [4, 8, 11]
    verifier = Verifier.from_vkey(SigningKey.objects.get(log=head).vkey)
    leaves = [e.canonical.encode() for e in entries]
    for size, cp in cps.items():
        parsed = verify_checkpoint(cp.note.encode(), [verifier])
        assert parsed.root_hash == reference_root(leaves[:size])
    for seq in range(11):
        p = services.inclusion(head, seq, 11)
        assert reference_verify_inclusion(leaves[seq], seq, 11, [base64.b64decode(x) for x in p["proof"]],
                                          reference_root(leaves))
    from linewatch.evidence.engine.merkle import verify_consistency

    c = services.consistency(head, 4, 11)
    verify_consistency(4, 11, reference_root(leaves[:4]), reference_root(leaves),
                       [base64.b64decode(x) for x in c["proof"]])


def test_private_keys_stay_in_the_data_folder_and_public_keys_in_the_database(alpha_beta):
    from linewatch.evidence import keys

    record("alpha", "control.check", {})
    head = SiteLog.objects.get(site_slug="alpha")
    stored = SigningKey.objects.get(log=head)
    assert "PRIVATE" not in stored.vkey
    path = keys.key_dir() / (head.origin.replace("/", "__") + ".skey")
    assert path.read_text().startswith("PRIVATE+KEY+") and (path.stat().st_mode & 0o777) == 0o600


def test_an_edited_entry_is_refused_not_signed(alpha_beta):
    alpha = Site.objects.get(slug="alpha")
    for i in range(3):
        record(alpha, "control.check", {"n": i})
    head = SiteLog.objects.get(site_slug="alpha")
    services._trees.clear()
    Entry.objects.filter(log=head, seq=1).update(canonical=Entry.objects.get(log=head, seq=1).canonical.replace(
        '"n":1', '"n":7'))
    with pytest.raises(services.LedgerCorrupt, match="entry 1"):
        services.checkpoint(head)


def test_headquarters_cosigns_checkpoints_that_extend_what_it_witnessed(alpha_beta):
    alpha = Site.objects.get(slug="alpha")
    head = services.get_log(alpha)
    SiteLog.objects.filter(pk=head.pk).update(checkpoint_every=3)
    for i in range(7):
        record(alpha, "control.check", {"n": i})
    head.refresh_from_db()
    done = services.witness(head)
    assert [c.size for c in done] == [3, 6]
    hq = services.witness_signer(alpha).verifier
    for cp in Checkpoint.objects.filter(log=head):
        _, signed = open_note(cp.note.encode(), [services.log_verifier(head), hq])
        assert signed == [head.origin, hq.name]
    assert services.witness(head) == []  # nothing new
    # A rewritten history (a checkpoint whose root does not extend the witnessed one) is refused.
    from linewatch.evidence.engine.checkpoint import Checkpoint as Note
    from linewatch.evidence.engine.checkpoint import CheckpointError, sign_checkpoint

    forged = sign_checkpoint(Note(head.origin, 9, b"\x07" * 32), services.log_signer(head))
    Checkpoint.objects.create(log=head, size=9, root_hash="07" * 32, note=forged.decode())
    SiteLog.objects.filter(pk=head.pk).update(size=9)
    with pytest.raises((CheckpointError, services.LedgerCorrupt)):
        services.witness(head)


def test_blobs_are_content_addressed_and_found_in_bodies(alpha_beta):
    digest = attach_blob(b"\xff\xd8 a photo", "image/jpeg")
    assert digest == hashlib.sha256(b"\xff\xd8 a photo").hexdigest()
    assert attach_blob(b"\xff\xd8 a photo", "image/jpeg") == digest
    assert read_blob(digest) == b"\xff\xd8 a photo"
    entry = record("alpha", "patrol.scan", {"photos": [{"sha256": digest}], "note": {"sha256": "nothex"}})
    assert blob_refs(entry.body) == [digest]


def test_the_witness_key_is_not_a_site_key_even_for_a_site_called_hq(alpha_beta):
    from linewatch.evidence.models import KeyRole

    alpha = Site.objects.get(slug="alpha")
    hq_site = Site.objects.create(organisation=alpha.organisation, slug="hq", name="HQ", kind=alpha.kind,
                                  timezone="UTC")
    record(hq_site, "control.check", {})
    head = SiteLog.objects.get(site_slug="hq")
    services.checkpoint(head)
    services.witness(head, hq_site)
    witness = services.witness_signer(alpha)
    assert witness.name != head.origin
    assert SigningKey.objects.filter(role=KeyRole.WITNESS, vkey=witness.verifier.vkey).exists()
    assert [v.name for v in services.witness_verifiers()] == [witness.name]
