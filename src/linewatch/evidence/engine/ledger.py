"""An append-only, file-backed ledger of evidence records for one site, with signed checkpoints.

Layout of the folder the caller gives::

    ledger.json             {"format", "origin", "vkey", "checkpoint_every"}
    records.jsonl           one line per record: {"index": i, "leaf_hash": base64, "record": {...}}
    checkpoints/<size>.note C2SP signed checkpoints (log signature, then any witness cosignatures)

A record's Merkle leaf is its RFC 8785 canonical JSON; `index` and `leaf_hash` are stored beside it so an edit made
on disk is named by its index. An edit that also rewrites `leaf_hash` changes the tree's root, which no longer matches
the signed checkpoint covering it; that is reported with the range of records the checkpoint covers.

One writer per ledger folder: the caller (the site's evidence service) serialises appends.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from linewatch.errors import InputError

from .canonical import canonicalize, parse_json
from .checkpoint import (
    Checkpoint,
    CheckpointError,
    Signer,
    Verifier,
    add_signature,
    sign_checkpoint,
    verify_checkpoint,
)
from .merkle import MerkleTree, leaf_hash

FORMAT = "linewatch-ledger/1"
META = "ledger.json"
RECORDS = "records.jsonl"
CHECKPOINTS = "checkpoints"


class Ledger:
    """One site's evidence log. Create it with `Ledger.create`, reopen (and verify) it with `Ledger.open`."""

    def __init__(self, folder: Path, origin: str, verifier: Verifier, signer: Signer | None, checkpoint_every: int):
        self.folder = folder
        self.origin = origin
        self.verifier = verifier
        self.signer = signer
        self.checkpoint_every = checkpoint_every
        self.tree = MerkleTree()
        self._records: list[bytes] = []  # canonical record bytes, the leaf entries
        self._checkpoints: dict[int, bytes] = {}

    # -- creating and opening -------------------------------------------------------------------------------------

    @classmethod
    def create(cls, folder: str | os.PathLike, signer: Signer, checkpoint_every: int = 1000) -> Ledger:
        """A new, empty ledger in `folder`, whose origin is the signer's key name."""
        path = Path(folder)
        if (path / META).exists():
            raise InputError(str(path / META), "", "a ledger already exists here")
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be at least 1")
        (path / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
        meta = {"format": FORMAT, "origin": signer.name, "vkey": signer.verifier.vkey,
                "checkpoint_every": checkpoint_every}
        (path / META).write_text(json.dumps(meta, indent=2) + "\n")
        (path / RECORDS).touch()
        return cls(path, signer.name, signer.verifier, signer, checkpoint_every)

    @classmethod
    def open(cls, folder: str | os.PathLike, signer: Signer | None = None,
             trusted: Iterable[Verifier] | None = None) -> Ledger:
        """Reopen a ledger and verify it: every record against its leaf hash and position, every checkpoint's
        signature (by `trusted`, default the key recorded in ledger.json) and root against the recomputed tree.

        Raises InputError naming the file and the record or checkpoint that failed."""
        path = Path(folder)
        meta_path = path / META
        try:
            meta = parse_json(meta_path.read_bytes(), str(meta_path))
        except FileNotFoundError:
            raise InputError(str(meta_path), "", "no ledger here (ledger.json is missing)") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise InputError(str(meta_path), "format", f"not a {FORMAT} ledger")
        try:
            verifier = Verifier.from_vkey(str(meta.get("vkey", "")))
        except CheckpointError as exc:
            raise InputError(str(meta_path), "vkey", str(exc)) from None
        if signer is not None and signer.verifier != verifier:
            raise InputError(str(meta_path), "vkey", f"the signing key {signer.name!r} is not this ledger's key")
        ledger = cls(path, str(meta.get("origin")), verifier, signer, int(meta.get("checkpoint_every", 1000)))
        ledger._load_records()
        ledger._load_checkpoints(list(trusted) if trusted is not None else [verifier])
        return ledger

    def _load_records(self) -> None:
        source = str(self.folder / RECORDS)
        with open(self.folder / RECORDS, "rb") as fh:
            for number, line in enumerate(fh, 1):
                index = number - 1
                place = f"line {number}"
                entry = parse_json(line, source, place)
                if not isinstance(entry, dict) or set(entry) != {"index", "leaf_hash", "record"}:
                    raise InputError(source, place, "not a ledger entry {index, leaf_hash, record}")
                if entry["index"] != index:
                    raise InputError(source, place, f"holds record {entry['index']} where record {index} belongs: "
                                     "a record was dropped, inserted or the records reordered")
                canonical = canonicalize(entry["record"], source, f"record {index}")
                leaf = leaf_hash(canonical)
                if base64.b64encode(leaf).decode() != entry["leaf_hash"]:
                    raise InputError(source, f"record {index}", "content does not match its leaf hash: "
                                     "the record was edited")
                self._records.append(canonical)
                self.tree.append_leaf_hash(leaf)

    def _load_checkpoints(self, trusted: list[Verifier]) -> None:
        sizes = sorted(self._checkpoint_files())
        previous = 0
        for size in sizes:
            source = str(self.folder / CHECKPOINTS / f"{size}.note")
            note = (self.folder / CHECKPOINTS / f"{size}.note").read_bytes()
            try:
                checkpoint = verify_checkpoint(note, trusted, log_key=self.origin)
            except CheckpointError as exc:
                raise InputError(source, "", str(exc)) from None
            if checkpoint.origin != self.origin or checkpoint.size != size:
                raise InputError(source, "", f"is for {checkpoint.origin} size {checkpoint.size}, "
                                 f"not {self.origin} size {size}")
            if size > self.tree.size:
                raise InputError(source, "", f"covers {size} records but only {self.tree.size} are on disk: "
                                 "records were dropped")
            if checkpoint.root_hash != self.tree.root(size):
                raise InputError(source, f"records {previous}..{size - 1}",
                                 "the records no longer match this signed checkpoint: one of them was changed")
            self._checkpoints[size] = note
            previous = size

    def _checkpoint_files(self) -> list[int]:
        sizes = []
        for p in (self.folder / CHECKPOINTS).glob("*.note"):
            if not p.stem.isdigit():
                raise InputError(str(p), "", "checkpoint files are named <size>.note")
            sizes.append(int(p.stem))
        return sizes

    # -- appending and checkpointing ------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return self.tree.size

    def append(self, record: Any) -> int:
        """Add one evidence record (JSON-compatible data); return its index. Checkpoints every N records."""
        return self.extend([record])[0]

    def extend(self, records: Iterable[Any]) -> list[int]:
        """Add several records in one write; return their indexes."""
        if self.signer is None:
            raise PermissionError("this ledger was opened without its signing key: it is read-only")
        # Canonicalise the whole batch first, so a bad record leaves neither the file nor the tree half-written.
        first = self.tree.size
        batch = [canonicalize(record, "record", str(first + n)) for n, record in enumerate(records)]
        lines, indexes = [], []
        for canonical in batch:
            index = self.tree.size
            leaf = leaf_hash(canonical)
            # The canonical form of {"index", "leaf_hash", "record"} (keys already in RFC 8785 order), without
            # canonicalising the record a second time.
            lines.append(b'{"index":%d,"leaf_hash":"%s","record":%s}\n' % (index, base64.b64encode(leaf), canonical))
            self.tree.append_leaf_hash(leaf)
            self._records.append(canonical)
            indexes.append(index)
            if self.tree.size % self.checkpoint_every == 0:
                self._write_records(lines)
                lines = []
                self.checkpoint()
        self._write_records(lines)
        return indexes

    def _write_records(self, lines: list[bytes]) -> None:
        if lines:
            with open(self.folder / RECORDS, "ab") as fh:
                fh.write(b"".join(lines))
                fh.flush()
                os.fsync(fh.fileno())

    def checkpoint(self) -> bytes:
        """Sign a checkpoint of the current tree (or return the existing one for this size)."""
        if self.signer is None:
            raise PermissionError("this ledger was opened without its signing key: it cannot sign checkpoints")
        size = self.tree.size
        if size == 0:
            raise ValueError("an empty ledger has nothing to checkpoint")
        if size not in self._checkpoints:
            note = sign_checkpoint(Checkpoint(self.origin, size, self.tree.root(size)), self.signer)
            self._write_note(size, note)
        return self._checkpoints[size]

    def _write_note(self, size: int, note: bytes) -> None:
        target = self.folder / CHECKPOINTS / f"{size}.note"
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(note)
        temporary.replace(target)
        self._checkpoints[size] = note

    def cosign(self, size: int, witness: Signer) -> bytes:
        """Add a witness's signature (e.g. headquarters) to the checkpoint of `size`; return the note."""
        note = self.note(size)
        verify_checkpoint(note, [self.verifier], log_key=self.origin)
        cosigned = add_signature(note, witness)
        self._write_note(size, cosigned)
        return cosigned

    def add_note(self, note: bytes, trusted: Sequence[Verifier] = ()) -> None:
        """Store a cosigned copy of one of this ledger's checkpoints (as returned by a witness)."""
        checkpoint = verify_checkpoint(note, [self.verifier, *trusted], log_key=self.origin)
        if checkpoint.size not in self._checkpoints or checkpoint.root_hash != self.tree.root(checkpoint.size):
            raise InputError("note", "", f"not a checkpoint of this ledger (size {checkpoint.size})")
        self._write_note(checkpoint.size, note)

    # -- reading and proving --------------------------------------------------------------------------------------

    def checkpoint_sizes(self) -> list[int]:
        return sorted(self._checkpoints)

    def note(self, size: int) -> bytes:
        """The signed checkpoint note for `size`."""
        try:
            return self._checkpoints[size]
        except KeyError:
            raise KeyError(f"no checkpoint of size {size}") from None

    def record(self, index: int) -> Any:
        return json.loads(self._records[index])

    def canonical_record(self, index: int) -> bytes:
        return self._records[index]

    def root(self, size: int | None = None) -> bytes:
        return self.tree.root(size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Audit path for record `index` in the tree of `size` records (default: the latest checkpoint's size)."""
        if size is None:
            if not self._checkpoints:
                raise ValueError("no checkpoint yet: pass a size or sign a checkpoint first")
            size = max(self._checkpoints)
        return self.tree.inclusion_proof(index, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """Proof that checkpoint `size1` is a prefix of checkpoint `size2`."""
        return self.tree.consistency_proof(size1, size2)
