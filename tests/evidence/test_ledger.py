"""The file-backed ledger: appending, checkpoints every N records, proofs, and tampering caught on reopening."""

from __future__ import annotations

import base64
import json

import pytest

from linewatch.errors import InputError
from linewatch.evidence.engine.canonical import canonicalize
from linewatch.evidence.engine.checkpoint import Checkpoint, Signer, sign_checkpoint, verify_checkpoint
from linewatch.evidence.engine.ledger import Ledger
from linewatch.evidence.engine.merkle import leaf_hash, verify_consistency, verify_inclusion
from tests.evidence.test_merkle import ref_mth, ref_path, ref_subproof

ORIGIN = "linewatch.example/plant-alpha"


def patrol_scan(i: int) -> dict:
    return {"type": "patrol.scan", "seq": i, "checkpoint": f"CP-{i % 7}", "guard": "g-17", "at": 1732500000 + 60 * i,
            "note": "Tür geschlossen ✓" if i % 3 == 0 else None}


@pytest.fixture(scope="module")
def plant():
    return Signer.generate(ORIGIN)


@pytest.fixture
def ledger(tmp_path, plant):
    ledger = Ledger.create(tmp_path / "alpha", plant, checkpoint_every=4)
    ledger.extend(patrol_scan(i) for i in range(10))
    return ledger


def lines(ledger: Ledger) -> list[str]:
    return (ledger.folder / "records.jsonl").read_text().splitlines()


def write_lines(ledger: Ledger, rows: list[str]) -> None:
    (ledger.folder / "records.jsonl").write_text("".join(r + "\n" for r in rows))


def test_ledger_checkpoints_every_n_records_and_reopens_with_the_same_root(ledger, plant):
    assert ledger.size == 10
    assert ledger.checkpoint_sizes() == [4, 8]
    reopened = Ledger.open(ledger.folder)
    assert reopened.root() == ledger.root() == ref_mth([canonicalize(patrol_scan(i)) for i in range(10)])
    assert reopened.record(3) == patrol_scan(3)
    note = reopened.note(8)
    assert verify_checkpoint(note, [plant.verifier]) == Checkpoint(ORIGIN, 8, ledger.root(8))


def test_checkpoint_on_demand_and_appends_after_reopening(ledger, plant):
    ledger.checkpoint()
    assert ledger.checkpoint_sizes() == [4, 8, 10]
    reopened = Ledger.open(ledger.folder, signer=plant)
    assert reopened.append(patrol_scan(10)) == 10
    assert Ledger.open(ledger.folder).size == 11


def test_ledger_proofs_verify_under_an_independent_reference(ledger):
    leaves = [canonicalize(patrol_scan(i)) for i in range(10)]
    for i in range(8):
        proof = ledger.inclusion_proof(i)  # against the latest checkpoint, 8
        assert proof == ref_path(i, leaves[:8])
        verify_inclusion(leaf_hash(leaves[i]), i, 8, proof, ref_mth(leaves[:8]))
    proof = ledger.consistency_proof(4, 8)
    assert proof == ref_subproof(4, leaves[:8], True)
    verify_consistency(4, 8, ref_mth(leaves[:4]), ref_mth(leaves[:8]), proof)


def test_headquarters_cosignature_is_kept_on_disk(ledger, plant):
    hq = Signer.generate("linewatch.example/hq")
    ledger.cosign(8, hq)
    reopened = Ledger.open(ledger.folder)
    verify_checkpoint(reopened.note(8), [plant.verifier, hq.verifier], witnesses=[hq.name])


def test_a_record_edited_on_disk_is_named_by_its_index(ledger):
    rows = lines(ledger)
    rows[6] = rows[6].replace('"guard":"g-17"', '"guard":"g-99"')
    write_lines(ledger, rows)
    with pytest.raises(InputError) as caught:
        Ledger.open(ledger.folder)
    assert caught.value.place == "record 6"
    assert "edited" in str(caught.value)


def test_an_edit_that_also_rewrites_the_leaf_hash_breaks_the_signed_checkpoint(ledger):
    rows = lines(ledger)
    entry = json.loads(rows[5])
    entry["record"]["guard"] = "g-99"
    entry["leaf_hash"] = base64.b64encode(leaf_hash(canonicalize(entry["record"]))).decode()
    rows[5] = canonicalize(entry).decode()
    write_lines(ledger, rows)
    with pytest.raises(InputError, match="records 4..7.*no longer match this signed checkpoint") as caught:
        Ledger.open(ledger.folder)
    assert caught.value.source.endswith("8.note")


def test_a_dropped_record_is_caught(ledger):
    rows = lines(ledger)
    del rows[2]
    write_lines(ledger, rows)
    with pytest.raises(InputError, match="holds record 3 where record 2 belongs") as caught:
        Ledger.open(ledger.folder)
    assert caught.value.place == "line 3"


def test_dropping_the_tail_under_a_checkpoint_is_caught(ledger):
    write_lines(ledger, lines(ledger)[:6])
    with pytest.raises(InputError, match="covers 8 records but only 6 are on disk"):
        Ledger.open(ledger.folder)


def test_reordered_records_are_caught(ledger):
    rows = lines(ledger)
    rows[1], rows[2] = rows[2], rows[1]
    write_lines(ledger, rows)
    with pytest.raises(InputError, match="holds record 2 where record 1 belongs"):
        Ledger.open(ledger.folder)


def test_a_checkpoint_signed_by_another_key_is_caught(ledger):
    impostor = Signer.generate(ORIGIN)
    forged = Checkpoint(ORIGIN, 4, ledger.root(4))
    (ledger.folder / "checkpoints" / "4.note").write_bytes(sign_checkpoint(forged, impostor))
    with pytest.raises(InputError, match="no valid signature by trusted key"):
        Ledger.open(ledger.folder)


def test_a_ledger_opened_without_its_key_is_read_only(ledger):
    reopened = Ledger.open(ledger.folder)
    with pytest.raises(PermissionError):
        reopened.append(patrol_scan(99))


def test_records_json_cannot_represent_are_refused_before_writing(ledger):
    with pytest.raises(InputError, match="canonical JSON"):
        ledger.append({"reading": float("nan")})
    with pytest.raises(InputError, match="record:11: not representable"):
        ledger.extend([{"reading": 1.5}, {"reading": 2**60}])
    assert ledger.size == 10
    assert Ledger.open(ledger.folder).size == 10


def test_every_line_on_disk_is_itself_canonical_json(ledger):
    from linewatch.evidence.engine.canonical import is_canonical

    assert all(is_canonical(row.encode()) for row in lines(ledger))


def test_a_cosigned_copy_returned_by_headquarters_is_stored(ledger, plant):
    from linewatch.evidence.engine.checkpoint import cosign_checkpoint

    hq = Signer.generate("linewatch.example/hq")
    previous = Checkpoint(ORIGIN, 4, ledger.root(4))
    cosigned = cosign_checkpoint(ledger.note(8), hq, plant.verifier, previous, ledger.consistency_proof(4, 8))
    ledger.add_note(cosigned, [hq.verifier])
    verify_checkpoint(Ledger.open(ledger.folder).note(8), [plant.verifier, hq.verifier], witnesses=[hq.name])
    foreign = sign_checkpoint(Checkpoint(ORIGIN, 8, bytes(32)), plant)
    with pytest.raises(InputError, match="not a checkpoint of this ledger"):
        ledger.add_note(foreign)
