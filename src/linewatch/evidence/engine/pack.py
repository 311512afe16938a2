"""Evidence packs: a zip holding a range of ledger records, the signed checkpoints and the proofs that tie them.

The format is specified in docs/evidence-format.md; `verify.py` checks a pack offline and `build_pack` writes one.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from .canonical import canonicalize
from .checkpoint import Signer, Verifier, parse_note, sign_note
from .controls import controls_document
from .merkle import MerkleTree

FORMAT = "linewatch-evidence-pack/1"
MANIFEST = "manifest.json"
MANIFEST_SIG = "manifest.sig"
RECORDS = "records.jsonl"
INCLUSION = "proofs/inclusion.jsonl"
CONSISTENCY = "proofs/consistency.jsonl"
CONTROLS = "controls.json"
BLOBS = "blobs/"
TIMESTAMPS = "timestamps/"
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class LedgerSource(Protocol):
    """What `build_pack` reads: the file ledger (`ledger.Ledger`) and the database ledger both provide it."""

    origin: str
    verifier: Verifier
    signer: Signer | None
    tree: MerkleTree

    @property
    def size(self) -> int: ...
    def checkpoint_sizes(self) -> list[int]: ...
    def note(self, size: int) -> bytes: ...
    def record(self, index: int) -> Any: ...
    def root(self, size: int | None = None) -> bytes: ...
    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]: ...
    def consistency_proof(self, size1: int, size2: int) -> list[bytes]: ...
    def checkpoint(self) -> bytes: ...


def blob_refs(value: Any) -> list[str]:
    """Every `{"sha256": "<hex>"}` reference inside a record (a photo or file stored content-addressed), in order of
    appearance, once each. The pack carries each as blobs/<hex>; the verifier checks both directions."""
    found: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            digest = v.get("sha256")
            if isinstance(digest, str) and SHA256_HEX.match(digest) and digest not in found:
                found.append(digest)
            for item in v.values():
                walk(item)
        elif isinstance(v, list):
            for item in v:
                walk(item)

    walk(value)
    return found

VERIFY_MD = """# Verifying this evidence pack

This pack is in the `linewatch-evidence-pack/1` format (Linewatch docs/evidence-format.md). To verify it offline:

    linewatch evidence verify PACK.zip --key '<log vkey>' [--key '<witness vkey>' --witness <name>]

Obtain the verifier keys from the site and headquarters directly, not from `keys/` in this pack.
Checks: every file's SHA-256 in manifest.json; manifest.sig signed by the log key; each record's RFC 8785 canonical
JSON hashed as an RFC 9162 leaf and its inclusion proof against the signed checkpoint; consistency proofs between
consecutive checkpoints; checkpoint signatures (C2SP signed notes, Ed25519) by the trusted keys; every photo or
file in blobs/ hashes to its name and every one a record references is present; controls.json's KPIs follow from
the records (the verifier recomputes them) and each control passes only when all its records verify.

Files: manifest.json + manifest.sig (signed by the exporter), records.jsonl (one canonical record per line),
proofs/inclusion.jsonl, proofs/consistency.jsonl, checkpoints/<size>.note, blobs/<sha256> (photos),
timestamps/<size>.tsr (RFC 3161 tokens over checkpoint notes, when a TSA was configured), controls.json
(controls, their NIST CSF 2.0 / IEC 62443-2-1 / ISO 27001:2022 mapping and KPIs), report.html and report.pdf (for
people; not evidence by themselves), keys/vkeys.txt (for information only).
Independent verifiers: the full format is in Linewatch docs/evidence-format.md.
"""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def manifest_statement(manifest_bytes: bytes) -> bytes:
    """The note text the exporter signs: the format name and the SHA-256 of manifest.json."""
    return f"{FORMAT}\nmanifest sha256 {hashlib.sha256(manifest_bytes).hexdigest()}\n".encode()


def build_pack(ledger: LedgerSource, out: str | Path, start: int = 0, end: int | None = None,
               exporter: Signer | None = None, *, blobs: Mapping[str, bytes] | None = None,
               extra: Mapping[str, bytes] | None = None, timestamps: Mapping[int, bytes] | None = None,
               period: Mapping[str, str] | None = None, extra_keys: tuple[str, ...] = ()) -> Path:
    """Write an evidence pack of records [start, end) of `ledger` to `out` (a .zip); return its path.

    The proofs are against the smallest checkpoint covering `end`; when there is none and the ledger holds its
    signing key, a checkpoint is signed now. The manifest is signed by `exporter` (default: the ledger's key).
    `blobs` maps hex SHA-256 to content for the photos the records reference (a referenced blob not given is listed
    as unavailable in the manifest); `extra` adds files (the human report); `timestamps` maps checkpoint sizes to
    RFC 3161 tokens; `extra_keys` adds vkeys (witnesses) to keys/vkeys.txt."""
    end = ledger.size if end is None else end
    if not 0 <= start < end <= ledger.size:
        raise ValueError(f"record range {start}..{end} is not inside the ledger's {ledger.size} records")
    covering = [s for s in ledger.checkpoint_sizes() if s >= end]
    if covering:
        target = covering[0]
    elif ledger.signer is not None:
        ledger.checkpoint()
        target = ledger.size
    else:
        raise ValueError(f"no signed checkpoint covers record {end - 1}, and the ledger's signing key is absent")
    exporter = exporter or ledger.signer
    if exporter is None:
        raise ValueError("an exporter signing key is needed to sign the manifest")
    sizes = [s for s in ledger.checkpoint_sizes() if s <= target]
    root = ledger.root(target)

    files: dict[str, bytes] = {}
    records = [(i, ledger.record(i)) for i in range(start, end)]
    files[RECORDS] = b"".join(canonicalize({"index": i, "record": r}) + b"\n" for i, r in records)
    wanted: list[str] = []
    for _, r in records:
        wanted += [d for d in blob_refs(r) if d not in wanted]
    given = dict(blobs or {})
    for digest in wanted:
        if digest in given:
            files[BLOBS + digest] = given[digest]
    unavailable = [d for d in wanted if d not in given]
    files[CONTROLS] = json.dumps(controls_document(records), indent=1).encode() + b"\n"
    for size, token in (timestamps or {}).items():
        files[f"{TIMESTAMPS}{size}.tsr"] = token
    for name, data in (extra or {}).items():
        files[name] = data
    files[INCLUSION] = b"".join(
        canonicalize({"leafIdx": i, "treeSize": target, "leafHash": _b64(ledger.tree.leaf(i)),
                      "proof": [_b64(h) for h in ledger.inclusion_proof(i, target)], "root": _b64(root)}) + b"\n"
        for i in range(start, end)
    )
    files[CONSISTENCY] = b"".join(
        canonicalize({"size1": a, "size2": b, "root1": _b64(ledger.root(a)), "root2": _b64(ledger.root(b)),
                      "proof": [_b64(h) for h in ledger.consistency_proof(a, b)]}) + b"\n"
        for a, b in zip(sizes, sizes[1:], strict=False)
    )
    keys = {ledger.verifier.name: ledger.verifier.vkey, exporter.name: exporter.verifier.vkey}
    for vkey in extra_keys:
        keys.setdefault(vkey.split("+", 1)[0], vkey)
    for size in sizes:
        note = ledger.note(size)
        files[f"checkpoints/{size}.note"] = note
        for line in parse_note(note).signatures:
            keys.setdefault(line.name, "")
    files["keys/vkeys.txt"] = "".join(f"{v}\n" for v in keys.values() if v).encode()
    files["VERIFY.md"] = VERIFY_MD.encode()

    manifest = {
        "format": FORMAT,
        "origin": ledger.origin,
        "records": {"from": start, "to": end},
        "checkpoint": target,
        "checkpoints": sizes,
        **({"period": dict(period)} if period else {}),
        "blobs": {"count": len(wanted) - len(unavailable), "unavailable": unavailable},
        "files": [{"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                  for path, data in sorted(files.items())],
    }
    manifest_bytes = json.dumps(manifest, indent=2).encode() + b"\n"
    signature = sign_note(manifest_statement(manifest_bytes), [exporter])

    path = Path(out)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, manifest_bytes)
        zf.writestr(MANIFEST_SIG, signature)
        for name, data in sorted(files.items()):
            zf.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    return path
