"""C2SP signed-note checkpoints: interoperable encoding, signing, co-signing by a witness and verification."""

from __future__ import annotations

import base64

import pytest

from linewatch.evidence.engine.checkpoint import (
    Checkpoint,
    CheckpointError,
    Signer,
    Verifier,
    add_signature,
    cosign_checkpoint,
    open_note,
    parse_note,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
)

# The example key and note from golang.org/x/mod/sumdb/note's documentation: our encoding must match it byte for byte.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = b"If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + (
    "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
).encode()

ORIGIN = "linewatch.example/plant-alpha"


@pytest.fixture(scope="module")
def plant():
    return Signer.generate(ORIGIN)


@pytest.fixture(scope="module")
def hq():
    return Signer.generate("linewatch.example/hq")


def test_keys_and_signatures_match_the_go_note_package():
    signer = Signer.from_skey(GO_SKEY)
    assert signer.verifier.vkey == GO_VKEY
    assert signer.skey == GO_SKEY
    assert sign_note(GO_TEXT, [signer]) == GO_NOTE
    assert open_note(GO_NOTE, [Verifier.from_vkey(GO_VKEY)]) == (GO_TEXT, ["PeterNeumann"])


def test_checkpoint_body_is_origin_size_and_base64_root():
    checkpoint = Checkpoint(ORIGIN, 42, bytes(range(32)))
    assert checkpoint.body() == f"{ORIGIN}\n42\n{base64.b64encode(bytes(range(32))).decode()}\n".encode()
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


@pytest.mark.parametrize("body", [
    b"origin\n42\n",  # no root
    b"origin\n042\n" + base64.b64encode(bytes(32)) + b"\n",  # leading zero
    b"origin\n-1\n" + base64.b64encode(bytes(32)) + b"\n",
    b"origin\n42\n" + base64.b64encode(bytes(31)) + b"\n",  # root not 32 bytes
    b"origin\n42\n" + base64.b64encode(bytes(32)),  # no final newline
])
def test_malformed_checkpoint_bodies_are_rejected(body):
    with pytest.raises(CheckpointError):
        Checkpoint.parse(body)


def test_plant_checkpoint_cosigned_by_headquarters_verifies_with_both_keys(plant, hq):
    note = sign_checkpoint(Checkpoint(ORIGIN, 10, bytes(32)), plant)
    cosigned = cosign_checkpoint(note, hq, plant.verifier)
    assert [s.name for s in parse_note(cosigned).signatures] == [ORIGIN, hq.name]
    checkpoint = verify_checkpoint(cosigned, [plant.verifier, hq.verifier], witnesses=[hq.name])
    assert checkpoint.size == 10
    with pytest.raises(CheckpointError, match="no valid signature by trusted key 'linewatch.example/hq'"):
        verify_checkpoint(note, [plant.verifier, hq.verifier], witnesses=[hq.name])


def test_witness_refuses_to_cosign_a_checkpoint_the_plant_did_not_sign(plant, hq):
    forged = sign_checkpoint(Checkpoint(ORIGIN, 10, bytes(32)), Signer.generate(ORIGIN))
    with pytest.raises(CheckpointError, match="no valid signature"):
        cosign_checkpoint(forged, hq, plant.verifier)


def test_a_checkpoint_signed_by_another_key_of_the_same_name_is_not_trusted(plant):
    impostor = Signer.generate(ORIGIN)
    note = sign_checkpoint(Checkpoint(ORIGIN, 3, bytes(32)), impostor)
    with pytest.raises(CheckpointError, match=f"no valid signature by trusted key '{ORIGIN}'"):
        verify_checkpoint(note, [plant.verifier])


def test_an_altered_body_or_swapped_signature_fails_loudly(plant):
    note = sign_checkpoint(Checkpoint(ORIGIN, 3, bytes(32)), plant)
    other = sign_checkpoint(Checkpoint(ORIGIN, 4, bytes(32)), plant)
    altered = note.replace(b"\n3\n", b"\n4\n")
    with pytest.raises(CheckpointError, match="does not verify"):
        verify_checkpoint(altered, [plant.verifier])
    swapped = note.split(b"\n\n")[0] + b"\n\n" + other.split(b"\n\n")[1]
    with pytest.raises(CheckpointError, match="does not verify"):
        verify_checkpoint(swapped, [plant.verifier])


def test_unknown_signers_are_ignored_but_a_trusted_one_is_still_required(plant):
    note = add_signature(sign_checkpoint(Checkpoint(ORIGIN, 3, bytes(32)), plant), Signer.generate("stranger"))
    assert verify_checkpoint(note, [plant.verifier]).size == 3


@pytest.mark.parametrize("note", [
    "no blank line\n\u2014 k AAAA\n".encode(),
    b"text\n\n",
    "text\n\n\u2014 k !!!!\n".encode(),
    b"text\n\n- k AAAAAAAAAAAAAAAAAAAA\n",
    "text\n\n\u2014 k AAAAAAAAAAAAAAAAAAAA".encode(),
])
def test_malformed_notes_are_rejected(note):
    with pytest.raises(CheckpointError):
        parse_note(note)


@pytest.mark.parametrize("vkey", [
    "name+c74f20a3",
    "PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong key hash
    "PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # not type 0x01
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
])
def test_malformed_verifier_keys_are_rejected(vkey):
    with pytest.raises(CheckpointError):
        Verifier.from_vkey(vkey)


def test_witness_cosigns_only_a_tree_that_extends_the_one_it_witnessed_before(plant, hq):
    from linewatch.evidence.engine.merkle import MerkleTree

    tree = MerkleTree()
    for i in range(9):
        tree.append(b"record %d" % i)
    before = Checkpoint(ORIGIN, 5, tree.root(5))
    after = sign_checkpoint(Checkpoint(ORIGIN, 9, tree.root(9)), plant)
    cosigned = cosign_checkpoint(after, hq, plant.verifier, previous=before, proof=tree.consistency_proof(5, 9))
    assert verify_checkpoint(cosigned, [plant.verifier, hq.verifier], witnesses=[hq.name]).size == 9

    forked = MerkleTree()
    for i in range(9):
        forked.append(b"rewritten %d" % i)
    fork = sign_checkpoint(Checkpoint(ORIGIN, 9, forked.root(9)), plant)
    with pytest.raises(CheckpointError, match="does not extend the witnessed checkpoint 5"):
        cosign_checkpoint(fork, hq, plant.verifier, previous=before, proof=forked.consistency_proof(5, 9))
