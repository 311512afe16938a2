"""Offline verification of an evidence pack: needs only the pack and the trusted verifier keys.

Every failure is collected with the file and the place (record index, checkpoint size, proof) it concerns, so a
reader learns everything that is wrong at once. The checks are listed in docs/evidence-format.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linewatch.errors import InputError

from .canonical import canonicalize, parse_json
from .checkpoint import Checkpoint, CheckpointError, Verifier, open_note, verify_checkpoint
from .merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion
from .pack import CONSISTENCY, FORMAT, INCLUSION, MANIFEST, MANIFEST_SIG, RECORDS, manifest_statement


@dataclass(frozen=True)
class Failure:
    file: str
    place: str
    message: str

    def __str__(self) -> str:
        where = ":".join(p for p in (self.file, self.place) if p)
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "place": self.place, "message": self.message}


@dataclass
class Report:
    """The outcome of verifying a pack: `ok` only when nothing failed."""

    pack: str
    origin: str = ""
    records: tuple[int, int] = (0, 0)
    checkpoints: list[int] = field(default_factory=list)
    signed_by: dict[int, list[str]] = field(default_factory=dict)
    records_verified: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, file: str, place: str, message: str) -> None:
        self.failures.append(Failure(file, place, message))

    def as_dict(self) -> dict[str, Any]:
        return {
            "pack": self.pack, "ok": self.ok, "origin": self.origin,
            "records": {"from": self.records[0], "to": self.records[1]},
            "records_verified": self.records_verified, "checkpoints": self.checkpoints,
            "signed_by": {str(k): v for k, v in self.signed_by.items()},
            "failures": [f.as_dict() for f in self.failures],
        }


def _b64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise ValueError(f"{what} is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not valid base64") from None


def _jsonl(data: bytes, name: str, report: Report) -> list[Any]:
    rows = []
    for number, line in enumerate(data.splitlines(), 1):
        try:
            rows.append(parse_json(line, name, f"line {number}"))
        except InputError as exc:
            report.fail(name, f"line {number}", exc.message)
            rows.append(None)
    return rows


def verify_pack(pack: str | Path, trusted: Sequence[Verifier], witnesses: Sequence[str] = ()) -> Report:
    """Verify an evidence pack against trusted keys. Checkpoints must be signed by the trusted key named after the
    log's origin and by every witness named in `witnesses`."""
    report = Report(str(pack))
    try:
        zf = zipfile.ZipFile(pack)
    except (OSError, zipfile.BadZipFile) as exc:
        report.fail(str(pack), "", f"cannot read the pack as a zip file: {exc}")
        return report
    with zf:
        contents = _read_files(zf, report)
        if contents is None:
            return report
        manifest = _check_manifest(contents, trusted, report)
        if manifest is None:
            return report
        checkpoints = _check_checkpoints(contents, manifest, trusted, witnesses, report)
        _check_consistency(contents, checkpoints, report)
        _check_records(contents, manifest, checkpoints, report)
    return report


def _read_files(zf: zipfile.ZipFile, report: Report) -> dict[str, bytes] | None:
    names = zf.namelist()
    if len(names) != len(set(names)):
        report.fail("", "", "the zip holds two entries with the same name")
        return None
    try:
        return {name: zf.read(name) for name in names if not name.endswith("/")}
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        report.fail(report.pack, "", f"cannot read the pack: {exc}")
        return None


def _check_manifest(contents: dict[str, bytes], trusted: Sequence[Verifier], report: Report) -> dict | None:
    if MANIFEST not in contents:
        report.fail(MANIFEST, "", "missing: not an evidence pack")
        return None
    try:
        manifest = parse_json(contents[MANIFEST], MANIFEST)
    except InputError as exc:
        report.fail(MANIFEST, "", exc.message)
        return None
    try:
        if manifest["format"] != FORMAT:
            report.fail(MANIFEST, "format", f"is {manifest['format']!r}, expected {FORMAT!r}")
            return None
        report.origin = str(manifest["origin"])
        report.records = (int(manifest["records"]["from"]), int(manifest["records"]["to"]))
        int(manifest["checkpoint"])
        listed = {str(f["path"]): f for f in manifest["files"]}
    except (KeyError, TypeError, ValueError) as exc:
        report.fail(MANIFEST, "", f"malformed manifest ({exc!r} missing or wrong type)")
        return None

    if MANIFEST_SIG not in contents:
        report.fail(MANIFEST_SIG, "", "missing: the manifest is not signed")
    else:
        try:
            text, signed = open_note(contents[MANIFEST_SIG], trusted)
            if text != manifest_statement(contents[MANIFEST]):
                report.fail(MANIFEST_SIG, "", "signs a different manifest: manifest.json was changed")
            elif not signed:
                report.fail(MANIFEST_SIG, "", "not signed by any trusted key")
        except CheckpointError as exc:
            report.fail(MANIFEST_SIG, "", str(exc))

    for path, entry in sorted(listed.items()):
        data = contents.get(path)
        if data is None:
            report.fail(path, "", "listed in the manifest but missing from the pack")
            continue
        if hashlib.sha256(data).hexdigest() != entry.get("sha256") or len(data) != entry.get("size"):
            report.fail(path, "", "SHA-256 or size differs from the manifest: the file was changed")
    for path in sorted(set(contents) - set(listed) - {MANIFEST, MANIFEST_SIG}):
        report.fail(path, "", "not listed in the manifest: the file was added")
    return manifest


def _check_checkpoints(contents: dict[str, bytes], manifest: dict, trusted: Sequence[Verifier],
                       witnesses: Sequence[str], report: Report) -> dict[int, Checkpoint]:
    verified: dict[int, Checkpoint] = {}
    for path in sorted(p for p in contents if p.startswith("checkpoints/")):
        stem = path.removeprefix("checkpoints/").removesuffix(".note")
        if not path.endswith(".note") or not stem.isdigit():
            report.fail(path, "", "checkpoint files are named checkpoints/<size>.note")
            continue
        try:
            checkpoint = verify_checkpoint(contents[path], trusted, log_key=report.origin, witnesses=witnesses)
        except CheckpointError as exc:
            report.fail(path, "", str(exc))
            continue
        if checkpoint.origin != report.origin or checkpoint.size != int(stem):
            report.fail(path, "", f"is for {checkpoint.origin} size {checkpoint.size}, "
                        f"not {report.origin} size {stem}")
            continue
        verified[checkpoint.size] = checkpoint
        report.signed_by[checkpoint.size] = open_note(contents[path], trusted)[1]
    report.checkpoints = sorted(verified)
    if int(manifest["checkpoint"]) not in verified:
        report.fail(f"checkpoints/{manifest['checkpoint']}.note", "", "the checkpoint the proofs use is missing or "
                    "did not verify")
    return verified


def _check_consistency(contents: dict[str, bytes], checkpoints: dict[int, Checkpoint], report: Report) -> None:
    proofs: dict[tuple[int, int], list[bytes]] = {}
    for number, row in enumerate(_jsonl(contents.get(CONSISTENCY, b""), CONSISTENCY, report), 1):
        if row is None:
            continue
        try:
            proofs[(int(row["size1"]), int(row["size2"]))] = [_b64(h, "proof hash") for h in row["proof"]]
        except (KeyError, TypeError, ValueError) as exc:
            report.fail(CONSISTENCY, f"line {number}", f"malformed consistency proof: {exc}")
    sizes = sorted(checkpoints)
    for a, b in zip(sizes, sizes[1:], strict=False):
        place = f"consistency proof {a}->{b}"
        if (a, b) not in proofs:
            report.fail(CONSISTENCY, place, f"missing: cannot show checkpoint {a} is a prefix of {b}")
            continue
        try:
            verify_consistency(a, b, checkpoints[a].root_hash, checkpoints[b].root_hash, proofs[(a, b)])
        except ProofError as exc:
            report.fail(CONSISTENCY, place, f"does not verify ({exc}): history was rewritten or the proof altered")


def _check_records(contents: dict[str, bytes], manifest: dict, checkpoints: dict[int, Checkpoint],
                   report: Report) -> None:
    start, end = report.records
    target = checkpoints.get(int(manifest["checkpoint"]))
    if target is not None and end > target.size:
        report.fail(MANIFEST, "records", f"claims records up to {end - 1}, beyond checkpoint {target.size}")
    proofs: dict[int, dict] = {}
    for number, row in enumerate(_jsonl(contents.get(INCLUSION, b""), INCLUSION, report), 1):
        if isinstance(row, dict) and isinstance(row.get("leafIdx"), int):
            proofs[row["leafIdx"]] = row
        elif row is not None:
            report.fail(INCLUSION, f"line {number}", "malformed inclusion proof")
    if RECORDS not in contents:
        report.fail(RECORDS, "", "missing from the pack")
        return
    expected = start
    for number, row in enumerate(_jsonl(contents[RECORDS], RECORDS, report), 1):
        if row is None:
            expected += 1
            continue
        if not isinstance(row, dict) or not isinstance(row.get("index"), int) or "record" not in row:
            report.fail(RECORDS, f"line {number}", "not a record entry {index, record}")
            expected += 1
            continue
        index = row["index"]
        if index != expected:
            report.fail(RECORDS, f"line {number}", f"holds record {index} where record {expected} belongs: "
                        "a record was dropped, inserted or the records reordered")
        expected = index + 1
        _check_record(index, row["record"], proofs.get(index), target, report)
    if expected < end:
        report.fail(RECORDS, f"records {expected}..{end - 1}", "missing: the pack ends early")
    elif expected > end:
        report.fail(RECORDS, f"record {end}", f"beyond the manifest's range {start}..{end - 1}")


def _check_record(index: int, record: Any, proof: dict | None, target: Checkpoint | None, report: Report) -> None:
    place = f"record {index}"
    try:
        leaf = leaf_hash(canonicalize(record, RECORDS, place))
    except InputError as exc:
        report.fail(RECORDS, place, exc.message)
        return
    if proof is None:
        report.fail(INCLUSION, place, "no inclusion proof for this record")
        return
    if target is None:
        return  # already reported: no verified checkpoint to prove against
    try:
        path = [_b64(h, "proof hash") for h in proof["proof"]]
        size = int(proof["treeSize"])
    except (KeyError, TypeError, ValueError) as exc:
        report.fail(INCLUSION, place, f"malformed inclusion proof: {exc}")
        return
    if size != target.size:
        report.fail(INCLUSION, place, f"proof is for tree size {size}, not checkpoint {target.size}")
        return
    try:
        verify_inclusion(leaf, index, size, path, target.root_hash)
    except ProofError as exc:
        claimed = proof.get("leafHash")
        if claimed != base64.b64encode(leaf).decode():
            report.fail(RECORDS, place, f"content does not match checkpoint {target.size}: the record was changed")
        else:
            report.fail(INCLUSION, place, f"inclusion proof does not verify against checkpoint {target.size}: {exc}")
        return
    report.records_verified += 1
