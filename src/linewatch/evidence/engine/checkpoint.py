"""Signed checkpoints: the C2SP `tlog-checkpoint` body in a C2SP `signed-note`, signed with Ed25519.

A checkpoint commits to the first `size` records of a log (its Merkle root) under the log's name, the origin::

    <origin>\\n<size>\\n<base64 root hash>\\n[extension lines\\n]
    \\n
    — <key name> <base64(4-byte key hash ‖ 64-byte Ed25519 signature)>\\n

The key hash is the first 4 bytes of SHA-256(key name ‖ "\\n" ‖ 0x01 ‖ public key) (C2SP signed-note, Ed25519
type 0x01). Verifier keys travel as C2SP vkeys, `<name>+<8 hex key hash>+<base64(0x01 ‖ public key)>`, and
signing keys as `PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ seed)>` (the golang.org/x/mod/sumdb/note encodings).

Co-signing: a witness (headquarters) verifies the plant's signature and adds its own signature line over the same
body, so a checkpoint carries the plant's signature and the witness's. (The timestamped `tlog-cosignature/v1`
type 0x04 is not produced here.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .merkle import ProofError, verify_consistency

ALG_ED25519 = 0x01
EM_DASH = "\u2014"
MAX_SIGNATURES = 100


class CheckpointError(ValueError):
    """A checkpoint, signed note or key is malformed or does not verify; the message says why."""


def _check_key_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise CheckpointError(f"key name {name!r} must be non-empty, without spaces or '+'")


def key_hash(name: str, public_key: bytes) -> bytes:
    """The 4-byte C2SP key hash of an Ed25519 verifier key."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(f"{what} is not valid base64") from None


@dataclass(frozen=True)
class Verifier:
    """An Ed25519 verifier (public) key with its name."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        _check_key_name(self.name)
        if len(self.public_key) != 32:
            raise CheckpointError(f"Ed25519 public key for {self.name!r} must be 32 bytes")

    @property
    def key_hash(self) -> bytes:
        return key_hash(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        """The C2SP vkey encoding: `<name>+<hex hash>+<base64(0x01 ‖ key)>`."""
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_hash.hex()}+{encoded}"

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise CheckpointError(f"verifier key {vkey!r} is not <name>+<hash>+<key>")
        name, hash_hex, encoded = parts
        raw = _b64decode(encoded, f"verifier key {name!r}")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise CheckpointError(f"verifier key {name!r} is not an Ed25519 key (type 0x01 + 32 bytes)")
        verifier = cls(name, raw[1:])
        if verifier.key_hash.hex() != hash_hex.lower():
            raise CheckpointError(f"verifier key {name!r}: key hash {hash_hex} does not match the key")
        return verifier

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """An Ed25519 signing key with its name (the log's origin for a log key, the witness's name for a witness)."""

    name: str
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_key_name(self.name)
        if len(self.seed) != 32:
            raise CheckpointError("Ed25519 private key seed must be 32 bytes")

    @classmethod
    def generate(cls, name: str) -> Signer:
        key = Ed25519PrivateKey.generate()
        return cls(name, key.private_bytes_raw())

    @classmethod
    def from_skey(cls, skey: str) -> Signer:
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise CheckpointError("signing key is not PRIVATE+KEY+<name>+<hash>+<key>")
        raw = _b64decode(parts[4], "signing key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise CheckpointError("signing key is not an Ed25519 key (type 0x01 + 32 bytes)")
        signer = cls(parts[2], raw[1:])
        if signer.verifier.key_hash.hex() != parts[3].lower():
            raise CheckpointError(f"signing key {parts[2]!r}: key hash does not match the key")
        return signer

    @property
    def skey(self) -> str:
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_hash.hex()}+{encoded}"

    @property
    def verifier(self) -> Verifier:
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        return Verifier(self.name, public.public_bytes(Encoding.Raw, PublicFormat.Raw))

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


@dataclass(frozen=True)
class Checkpoint:
    """The checkpoint body: a log's origin, its size and its Merkle root (plus optional extension lines)."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("checkpoint origin must be one non-empty line")
        if self.size < 0:
            raise CheckpointError("checkpoint size must not be negative")
        if len(self.root_hash) != 32:
            raise CheckpointError("checkpoint root hash must be 32 bytes")
        if any(not line or "\n" in line for line in self.extensions):
            raise CheckpointError("checkpoint extension lines must be non-empty single lines")

    def body(self) -> bytes:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode(), *self.extensions]
        return ("\n".join(lines) + "\n").encode()

    @classmethod
    def parse(cls, body: bytes) -> Checkpoint:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise CheckpointError("checkpoint is not UTF-8") from None
        if not text.endswith("\n"):
            raise CheckpointError("checkpoint body must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("checkpoint body needs origin, size and root hash lines")
        origin, size_text, root_text, *extensions = lines
        if not size_text.isascii() or not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
            raise CheckpointError(f"checkpoint size {size_text!r} is not a decimal number")
        root = _b64decode(root_text, "checkpoint root hash")
        return cls(origin, int(size_text), root, tuple(extensions))


@dataclass(frozen=True)
class SignatureLine:
    name: str
    key_hash: bytes
    signature: bytes


@dataclass(frozen=True)
class SignedNote:
    """A note's text and its signature lines, as parsed (not yet verified)."""

    text: bytes
    signatures: tuple[SignatureLine, ...]

    def encode(self) -> bytes:
        lines = [
            f"{EM_DASH} {s.name} {base64.b64encode(s.key_hash + s.signature).decode()}\n" for s in self.signatures
        ]
        return self.text + b"\n" + "".join(lines).encode()


def _check_text(text: bytes) -> None:
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        raise CheckpointError("note text is not UTF-8") from None
    if not decoded.endswith("\n"):
        raise CheckpointError("note text must end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in decoded):
        raise CheckpointError("note text contains control characters")


def parse_note(note: bytes) -> SignedNote:
    """Split a signed note into its text and signature lines; raise CheckpointError if malformed."""
    cut = note.rfind(b"\n\n")
    if cut < 0:
        raise CheckpointError("signed note has no blank line before its signatures")
    text, block = note[: cut + 1], note[cut + 2 :]
    _check_text(text)
    try:
        block_text = block.decode("utf-8")
    except UnicodeDecodeError:
        raise CheckpointError("signature lines are not UTF-8") from None
    if not block_text.endswith("\n"):
        raise CheckpointError("signature lines must end with a newline")
    signatures = []
    for number, line in enumerate(block_text[:-1].split("\n"), 1):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != EM_DASH:
            raise CheckpointError(f"signature line {number} is not '{EM_DASH} <name> <signature>'")
        _, name, encoded = parts
        _check_key_name(name)
        raw = _b64decode(encoded, f"signature line {number}")
        if len(raw) < 5:
            raise CheckpointError(f"signature line {number} is too short")
        signatures.append(SignatureLine(name, raw[:4], raw[4:]))
    if not signatures:
        raise CheckpointError("signed note has no signatures")
    if len(signatures) > MAX_SIGNATURES:
        raise CheckpointError(f"signed note has more than {MAX_SIGNATURES} signatures")
    return SignedNote(text, tuple(signatures))


def sign_note(text: bytes, signers: Sequence[Signer]) -> bytes:
    """A signed note of `text` (which must end in a newline) with one signature line per signer."""
    _check_text(text)
    if not signers:
        raise CheckpointError("a signed note needs at least one signer")
    lines = tuple(SignatureLine(s.name, s.verifier.key_hash, s.sign(text)) for s in signers)
    return SignedNote(text, lines).encode()


def add_signature(note: bytes, signer: Signer) -> bytes:
    """The note with one more signature line by `signer` (replacing an earlier line by the same key)."""
    parsed = parse_note(note)
    key = signer.verifier.key_hash
    kept = tuple(s for s in parsed.signatures if not (s.name == signer.name and s.key_hash == key))
    line = SignatureLine(signer.name, key, signer.sign(parsed.text))
    return SignedNote(parsed.text, (*kept, line)).encode()


def open_note(note: bytes, trusted: Iterable[Verifier]) -> tuple[bytes, list[str]]:
    """Verify a signed note against trusted keys; return its text and the names of the keys that signed it.

    As in the C2SP spec, a line from an unknown key (name and key hash not in `trusted`) is ignored, but a line from a
    trusted key whose signature does not verify is an error: the note was altered or the signature swapped."""
    parsed = parse_note(note)
    keys = {(v.name, v.key_hash): v for v in trusted}
    signed: list[str] = []
    for line in parsed.signatures:
        verifier = keys.get((line.name, line.key_hash))
        if verifier is None:
            continue
        if not verifier.verify(parsed.text, line.signature):
            raise CheckpointError(f"signature by {line.name!r} does not verify: the note or the signature was altered")
        if line.name not in signed:
            signed.append(line.name)
    return parsed.text, signed


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> bytes:
    """The checkpoint as a signed note by the log's key."""
    return sign_note(checkpoint.body(), [signer])


def verify_checkpoint(
    note: bytes, trusted: Iterable[Verifier], log_key: str | None = None, witnesses: Sequence[str] = ()
) -> Checkpoint:
    """Parse and verify a signed checkpoint; return it.

    It must carry a valid signature by the trusted key named `log_key` (default: the checkpoint's origin, the C2SP
    convention) and by every witness named in `witnesses`."""
    text, signed = open_note(note, trusted)
    checkpoint = Checkpoint.parse(text)
    for name in (log_key or checkpoint.origin, *witnesses):
        if name not in signed:
            raise CheckpointError(f"checkpoint {checkpoint.size} has no valid signature by trusted key {name!r}")
    return checkpoint


def cosign_checkpoint(note: bytes, witness: Signer, log_verifier: Verifier, previous: Checkpoint | None = None,
                      proof: Sequence[bytes] = ()) -> bytes:
    """Witness a plant's checkpoint: check the log's signature and, when the witness has cosigned an earlier
    checkpoint `previous` of the same log, that `proof` shows the new tree extends it; then add the witness's line.

    A witness that keeps its latest cosigned checkpoint per log this way never signs two diverging histories."""
    checkpoint = verify_checkpoint(note, [log_verifier], log_key=log_verifier.name)
    if previous is not None:
        if previous.origin != checkpoint.origin:
            raise CheckpointError(f"previous checkpoint is for {previous.origin}, not {checkpoint.origin}")
        try:
            verify_consistency(previous.size, checkpoint.size, previous.root_hash, checkpoint.root_hash, proof)
        except ProofError as exc:
            raise CheckpointError(f"checkpoint {checkpoint.size} does not extend the witnessed checkpoint "
                                  f"{previous.size}: {exc}") from None
    return add_signature(note, witness)
