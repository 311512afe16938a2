"""Evidence packs: a zip holding a range of ledger records, the signed checkpoints and the proofs that tie them.

The format is specified in docs/evidence-format.md; `verify.py` checks a pack offline and `build_pack` writes one.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from pathlib import Path

from .canonical import canonicalize
from .checkpoint import Signer, parse_note, sign_note
from .ledger import Ledger

FORMAT = "linewatch-evidence-pack/1"
MANIFEST = "manifest.json"
MANIFEST_SIG = "manifest.sig"
RECORDS = "records.jsonl"
INCLUSION = "proofs/inclusion.jsonl"
CONSISTENCY = "proofs/consistency.jsonl"

VERIFY_MD = """# Verifying this evidence pack

This pack is in the `linewatch-evidence-pack/1` format (Linewatch docs/evidence-format.md). To verify it offline:

    linewatch evidence verify PACK.zip --key '<log vkey>' [--key '<witness vkey>' --witness <name>]

Obtain the verifier keys from the site and headquarters directly, not from `keys/` in this pack.
Checks: every file's SHA-256 in manifest.json; manifest.sig signed by the log key; each record's RFC 8785 canonical
JSON hashed as an RFC 9162 leaf and its inclusion proof against the signed checkpoint; consistency proofs between
consecutive checkpoints; checkpoint signatures (C2SP signed notes, Ed25519) by the trusted keys.
"""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def manifest_statement(manifest_bytes: bytes) -> bytes:
    """The note text the exporter signs: the format name and the SHA-256 of manifest.json."""
    return f"{FORMAT}\nmanifest sha256 {hashlib.sha256(manifest_bytes).hexdigest()}\n".encode()


def build_pack(ledger: Ledger, out: str | Path, start: int = 0, end: int | None = None,
               exporter: Signer | None = None) -> Path:
    """Write an evidence pack of records [start, end) of `ledger` to `out` (a .zip); return its path.

    The proofs are against the smallest checkpoint covering `end`; when there is none and the ledger holds its
    signing key, a checkpoint is signed now. The manifest is signed by `exporter` (default: the ledger's key)."""
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
    files[RECORDS] = b"".join(
        canonicalize({"index": i, "record": ledger.record(i)}) + b"\n" for i in range(start, end)
    )
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
