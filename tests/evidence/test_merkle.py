"""RFC 9162 Merkle trees: the tree and its proofs against a naive reference written straight from the RFC, the
standard CT test tree, malformed input, and every transparency-dev vector in the shared corpus."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from linewatch.evidence.engine.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.conftest import CORPUS

VECTORS = CORPUS / "evidence" / "rfc6962-merkle-proofs"

# The 8 leaves of the Certificate Transparency reference tests (RFC 6962 test data).
CT_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
)]
CT_ROOT_8 = base64.b64decode("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=")


# -- a naive reference, transcribed from RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 ---------------------------------------

def ref_mth(entries: list[bytes]) -> bytes:
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(entries[:k]) + ref_mth(entries[k:])).digest()


def ref_path(m: int, entries: list[bytes]) -> list[bytes]:
    n = len(entries)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return ref_path(m, entries[:k]) + [ref_mth(entries[k:])]
    return ref_path(m - k, entries[k:]) + [ref_mth(entries[:k])]


def ref_subproof(m: int, entries: list[bytes], b: bool) -> list[bytes]:
    n = len(entries)
    if m == n:
        return [] if b else [ref_mth(entries)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return ref_subproof(m, entries[:k], b) + [ref_mth(entries[k:])]
    return ref_subproof(m - k, entries[k:], False) + [ref_mth(entries[:k])]


def entries(n: int) -> list[bytes]:
    return [f"evidence record {i}".encode() for i in range(n)]


def tree_of(items: list[bytes]) -> MerkleTree:
    tree = MerkleTree()
    for item in items:
        tree.append(item)
    return tree


# -- the tree ----------------------------------------------------------------------------------------------------------

def test_standard_ct_test_tree_has_the_published_root():
    tree = tree_of(CT_LEAVES)
    assert tree.root() == CT_ROOT_8
    assert tree.root(0) == EMPTY_ROOT == hashlib.sha256(b"").digest()


def test_leaf_and_node_hashes_use_the_rfc_domain_separation_prefixes():
    assert leaf_hash(b"") == bytes.fromhex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")


def test_root_at_every_size_matches_the_reference():
    items = entries(33)
    tree = tree_of(items)
    for n in range(34):
        assert tree.root(n) == ref_mth(items[:n]), n


def test_inclusion_proofs_match_the_reference_and_verify():
    items = entries(21)
    tree = tree_of(items)
    for n in range(1, 22):
        root = ref_mth(items[:n])
        for m in range(n):
            proof = tree.inclusion_proof(m, n)
            assert proof == ref_path(m, items[:n]), (m, n)
            verify_inclusion(leaf_hash(items[m]), m, n, proof, root)


def test_consistency_proofs_match_the_reference_and_verify():
    items = entries(21)
    tree = tree_of(items)
    for n in range(1, 22):
        for m in range(1, n + 1):
            proof = tree.consistency_proof(m, n)
            assert proof == ([] if m == n else ref_subproof(m, items[:n], True)), (m, n)
            verify_consistency(m, n, ref_mth(items[:m]), ref_mth(items[:n]), proof)


def test_tree_refuses_proofs_outside_its_size():
    tree = tree_of(entries(5))
    with pytest.raises(ValueError):
        tree.inclusion_proof(5, 5)
    with pytest.raises(ValueError):
        tree.root(6)
    with pytest.raises(ValueError, match="no consistency proof"):
        tree.consistency_proof(0, 5)
    with pytest.raises(ValueError):
        tree.append_leaf_hash(b"short")


# -- verification rejects malformed input ------------------------------------------------------------------------------

def test_inclusion_verification_rejects_malformed_input():
    items = entries(6)
    tree = tree_of(items)
    root, proof, leaf = tree.root(), tree.inclusion_proof(2, 6), leaf_hash(items[2])
    verify_inclusion(leaf, 2, 6, proof, root)
    with pytest.raises(ProofError, match="32-byte"):
        verify_inclusion(leaf[:31], 2, 6, proof, root)
    with pytest.raises(ProofError, match="32-byte"):
        verify_inclusion(leaf, 2, 6, proof, root + b"\x00")
    with pytest.raises(ProofError, match=r"proof\[1\] must be a 32-byte"):
        verify_inclusion(leaf, 2, 6, [proof[0], proof[1][:16], proof[2]], root)
    with pytest.raises(ProofError, match="not inside"):
        verify_inclusion(leaf, 6, 6, proof, root)
    with pytest.raises(ProofError, match="too long"):
        verify_inclusion(leaf, 2, 6, [*proof, proof[0]], root)
    with pytest.raises(ProofError, match="too short"):
        verify_inclusion(leaf, 2, 6, proof[:-1], root)
    with pytest.raises(ProofError, match="does not lead"):
        verify_inclusion(leaf_hash(b"edited"), 2, 6, proof, root)


def test_consistency_verification_rejects_malformed_input():
    items = entries(7)
    tree = tree_of(items)
    r3, r7, proof = tree.root(3), tree.root(7), tree.consistency_proof(3, 7)
    verify_consistency(3, 7, r3, r7, proof)
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 7, EMPTY_ROOT, r7, proof)
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(ProofError, match="larger"):
        verify_consistency(7, 3, r7, r3, proof)
    with pytest.raises(ProofError, match="32-byte"):
        verify_consistency(3, 7, r3[:20], r7, proof)
    with pytest.raises(ProofError, match="empty consistency proof"):
        verify_consistency(3, 7, r3, r7, [])
    with pytest.raises(ProofError, match="too long"):
        verify_consistency(3, 7, r3, r7, [*proof, proof[0]])
    with pytest.raises(ProofError, match="too short"):
        verify_consistency(3, 7, r3, r7, proof[:-1])
    with pytest.raises(ProofError, match="equal size need an empty"):
        verify_consistency(7, 7, r7, r7, proof)
    with pytest.raises(ProofError, match="roots differ"):
        verify_consistency(7, 7, r7, r3, [])
    with pytest.raises(ProofError, match="does not lead"):
        verify_consistency(3, 7, tree_of(entries(2) + [b"rewritten"]).root(), r7, proof)


# -- the shared corpus -------------------------------------------------------------------------------------------------

def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def run_vector(vector: dict) -> bool:
    """True when the verifier reports an error for the vector."""
    try:
        proof = [_b64(h) for h in vector["proof"] or []]
        if "leafIdx" in vector:
            verify_inclusion(_b64(vector["leafHash"]), vector["leafIdx"], vector["treeSize"], proof,
                             _b64(vector["root"]))
        else:
            verify_consistency(vector["size1"], vector["size2"], _b64(vector["root1"]), _b64(vector["root2"]), proof)
    except ProofError:
        return True
    return False


@pytest.mark.corpus
def test_every_transparency_dev_vector_in_the_corpus():
    paths = sorted(VECTORS.rglob("*.json"))
    assert len(paths) == 196
    wrong = []
    for path in paths:
        vector = json.loads(path.read_text())
        if run_vector(vector) != vector["wantErr"]:
            wrong.append(f"{path.relative_to(VECTORS)}: {vector['desc']}")
    assert not wrong, f"{len(paths) - len(wrong)}/{len(paths)} vectors pass; failing: {wrong}"
    print(f"{len(paths)}/{len(paths)} RFC 9162 vectors pass")


@pytest.mark.corpus
def test_happy_path_vectors_are_reproduced_by_our_own_tree():
    tree = tree_of(CT_LEAVES)
    for path in sorted(VECTORS.glob("inclusion/*/happy-path.json")):
        vector = json.loads(path.read_text())
        assert tree.inclusion_proof(vector["leafIdx"], vector["treeSize"]) == [_b64(h) for h in vector["proof"] or []]
        assert tree.root(vector["treeSize"]) == _b64(vector["root"])
    for path in sorted(VECTORS.glob("consistency/*/happy-path.json")):
        vector = json.loads(path.read_text())
        assert tree.consistency_proof(vector["size1"], vector["size2"]) == [_b64(h) for h in vector["proof"] or []]
