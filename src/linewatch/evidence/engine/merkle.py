"""RFC 9162 (Certificate Transparency v2) Merkle trees: hashing, an append-only tree, inclusion and consistency proofs.

Leaf hash = SHA-256(0x00 ‖ entry), node hash = SHA-256(0x01 ‖ left ‖ right), a tree of n > 1 leaves splits at the
largest power of two smaller than n, and the empty tree's root is SHA-256 of nothing (RFC 9162 §2.1.1). Proof
generation follows §2.1.3.1 and §2.1.4.1; verification follows §2.1.3.2 and §2.1.4.2 with the extra rules the
transparency-dev test vectors require: every hash is exactly 32 bytes, a consistency proof from the empty tree is an
error, equal sizes need an empty proof and equal roots, and a proof of the wrong length is an error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof or its inputs failed verification; the message says why."""


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 leaf hash of one entry: SHA-256(0x00 ‖ entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An append-only RFC 9162 tree that answers for any size up to its current one.

    It keeps every complete (power-of-two, aligned) subtree hash, level by level; those never change once a tree is
    append-only, and every subtree the RFC's recursion visits is either one of them or splits into them, so roots and
    proofs cost O(log² n) hashes and appends amortise to O(1)."""

    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append_leaf_hash(h)

    def __len__(self) -> int:
        return len(self._levels[0])

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, entry: bytes) -> int:
        """Add one entry; return its index."""
        return self.append_leaf_hash(leaf_hash(entry))

    def append_leaf_hash(self, h: bytes) -> int:
        """Add one leaf by its leaf hash; return its index."""
        if len(h) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(h)}")
        index = len(self._levels[0])
        self._levels[0].append(h)
        level, i = 0, index
        # Every time the leaf completes a right sibling, the parent subtree becomes complete.
        while i % 2 == 1:
            parent = node_hash(self._levels[level][i - 1], self._levels[level][i])
            level += 1
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].append(parent)
            i //= 2
        return index

    def leaf(self, index: int) -> bytes:
        """The leaf hash at `index`."""
        return self._levels[0][index]

    def _hash(self, start: int, n: int) -> bytes:
        """MTH of leaves [start, start + n)."""
        if n & (n - 1) == 0:
            level = n.bit_length() - 1
            return self._levels[level][start >> level]
        k = _split(n)
        return node_hash(self._hash(start, k), self._hash(start + k, n - k))

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is outside 0..{self.size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the tree's first `size` leaves (default: all of them)."""
        size = self._check_size(size)
        return EMPTY_ROOT if size == 0 else self._hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path for leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1)."""
        size = self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is outside a tree of {size} leaves")
        return self._path(index, 0, size)

    def _path(self, m: int, start: int, n: int) -> list[bytes]:
        if n == 1:
            return []
        k = _split(n)
        if m < k:
            return self._path(m, start, k) + [self._hash(start + k, n - k)]
        return self._path(m - k, start + k, n - k) + [self._hash(start, k)]

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """The proof that the tree of `size1` leaves is a prefix of the tree of `size2` (RFC 9162 §2.1.4.1).

        Equal sizes give an empty proof. A proof from the empty tree is refused: it proves nothing."""
        size2 = self._check_size(size2)
        if not 0 < size1 <= size2:
            raise ValueError(f"no consistency proof from size {size1} to size {size2}")
        if size1 == size2:
            return []
        return self._subproof(size1, 0, size2, True)

    def _subproof(self, m: int, start: int, n: int, complete: bool) -> list[bytes]:
        if m == n:
            return [] if complete else [self._hash(start, n)]
        k = _split(n)
        if m <= k:
            return self._subproof(m, start, k, complete) + [self._hash(start + k, n - k)]
        return self._subproof(m - k, start + k, n - k, False) + [self._hash(start, k)]


def _check_hash(h: bytes, what: str) -> None:
    if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
        size = len(h) if isinstance(h, bytes | bytearray) else type(h).__name__
        raise ProofError(f"{what} must be a {HASH_SIZE}-byte hash, got {size}")


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root that an inclusion proof for leaf hash `leaf` at `index` in a tree of `size` implies (§2.1.3.2)."""
    _check_hash(leaf, "leaf hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof[{i}]")
    if index < 0 or size < 0:
        raise ProofError("leaf index and tree size must not be negative")
    if index >= size:
        raise ProofError(f"leaf index {index} is not inside a tree of {size} leaves")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError(f"inclusion proof is too long: {len(proof)} hashes")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"inclusion proof is too short: {len(proof)} hashes")
    return r


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that leaf hash `leaf` is at `index` in the tree of `size` leaves with root `root`; raise ProofError."""
    _check_hash(root, "root hash")
    if root_from_inclusion_proof(leaf, index, size, proof) != root:
        raise ProofError(f"inclusion proof for leaf {index} does not lead to the root of tree size {size}")


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree of `size1` leaves with `root1` is a prefix of the tree `size2`/`root2` (§2.1.4.2).

    For equal sizes the roots are only compared byte for byte (as transparency-dev/merkle does, and its vectors
    expect); every other case requires 32-byte roots and proof hashes."""
    if size1 < 0 or size2 < 0:
        raise ProofError("tree sizes must not be negative")
    if size1 > size2:
        raise ProofError(f"first tree size {size1} is larger than the second {size2}")
    if size1 == 0:
        # transparency-dev/merkle: "consistency proof from empty tree is meaningless".
        raise ProofError("a consistency proof from the empty tree is meaningless")
    if size1 == size2:
        if proof:
            raise ProofError("trees of equal size need an empty consistency proof")
        if root1 != root2:
            raise ProofError(f"roots differ for the same tree size {size1}")
        return
    _check_hash(root1, "first root hash")
    _check_hash(root2, "second root hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof[{i}]")
    if not proof:
        raise ProofError(f"empty consistency proof from size {size1} to {size2}")
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof is too long: {len(proof)} hashes")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"consistency proof is too short: {len(proof)} hashes")
    if fr != root1:
        raise ProofError(f"consistency proof does not lead to the root of tree size {size1}")
    if sr != root2:
        raise ProofError(f"consistency proof does not lead to the root of tree size {size2}")
