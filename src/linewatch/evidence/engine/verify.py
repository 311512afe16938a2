"""Offline verification of an evidence pack: needs only the pack and the trusted verifier keys.

Every failure is collected with the file and the place (record index, checkpoint size, proof) it concerns, so a
reader learns everything that is wrong at once. The checks are listed in docs/evidence-format.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linewatch.errors import InputError

from .canonical import canonicalize, parse_json
from .checkpoint import Checkpoint, CheckpointError, Verifier, open_note, verify_checkpoint
from .controls import BY_ID, compute
from .merkle import MerkleTree, ProofError, leaf_hash, verify_consistency, verify_inclusion
from .pack import (
    BLOBS,
    CONSISTENCY,
    CONTROLS,
    FORMAT,
    INCLUSION,
    MANIFEST,
    MANIFEST_SIG,
    RECORDS,
    SHA256_HEX,
    TIMESTAMPS,
    blob_refs,
    manifest_statement,
)

RECORD_PLACE = re.compile(r"\brecords? (\d+)(?:\.\.(\d+))?")


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
    blobs_verified: int = 0
    timestamps: dict[int, str] = field(default_factory=dict)
    controls: list[dict[str, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    blob_candidates: set[int] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, file: str, place: str, message: str) -> None:
        self.failures.append(Failure(file, place, message))

    def bad_records(self) -> dict[int, list[str]]:
        """Record index → what failed for it (from every failure that names a record or a range of records)."""
        start, end = self.records
        bad: dict[int, list[str]] = {}
        for f in self.failures:
            for match in RECORD_PLACE.finditer(f"{f.place} {f.message}"):
                first = int(match.group(1))
                last = int(match.group(2)) if match.group(2) else first
                for index in range(max(first, start), min(last, end - 1) + 1):
                    bad.setdefault(index, [])
                    if str(f) not in bad[index]:
                        bad[index].append(str(f))
        return bad

    def as_dict(self) -> dict[str, Any]:
        return {
            "pack": self.pack, "ok": self.ok, "origin": self.origin,
            "records": {"from": self.records[0], "to": self.records[1]},
            "records_verified": self.records_verified, "checkpoints": self.checkpoints,
            "signed_by": {str(k): v for k, v in self.signed_by.items()},
            "blobs_verified": self.blobs_verified, "timestamps": {str(k): v for k, v in self.timestamps.items()},
            "controls": self.controls,
            "records_failed": {str(k): v for k, v in sorted(self.bad_records().items())},
            "failures": [f.as_dict() for f in self.failures],
        }


def _b64text(data: bytes) -> str:
    return base64.b64encode(data).decode()


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


def verify_pack(pack: str | Path, trusted: Sequence[Verifier], witnesses: Sequence[str] = (),
                tsa_roots: Sequence[bytes] = (), fast: bool = True) -> Report:
    """Verify an evidence pack against trusted keys. Checkpoints must be signed by the trusted key named after the
    log's origin and by every witness named in `witnesses`. RFC 3161 tokens are checked against the checkpoint they
    name, and their signature against `tsa_roots` (trusted TSA root certificates) when given."""
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
        records = _check_records(contents, manifest, checkpoints, report, fast)
        _check_blobs(contents, manifest, records, report)
        _check_timestamps(contents, report, tsa_roots)
        _check_controls(contents, records, report)
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


# A records.jsonl line as the exporter writes it: the record's canonical bytes stand between a fixed prefix and
# suffix, so they can be hashed as they are instead of being parsed and re-canonicalised.
RECORD_LINE = re.compile(rb'\{"index":(0|[1-9][0-9]{0,15}),"record":(.*)\}\Z', re.S)


def _check_records(contents: dict[str, bytes], manifest: dict, checkpoints: dict[int, Checkpoint],
                   report: Report, fast: bool = True) -> list[tuple[int, Any]]:
    """Check every record; return the (index, record) pairs as read, for the blob and control checks.

    When the pack holds the whole tree of its checkpoint (records 0 … size − 1) the root is recomputed once from the
    records' leaf hashes; only if it differs (or for a partial range) is each record's inclusion proof checked, which
    names the records that broke. `fast=False` always checks every proof (the benchmark's baseline)."""
    read: list[tuple[int, Any]] = []
    start, end = report.records
    target = checkpoints.get(int(manifest["checkpoint"]))
    if target is not None and end > target.size:
        report.fail(MANIFEST, "records", f"claims records up to {end - 1}, beyond checkpoint {target.size}")
    if RECORDS not in contents:
        report.fail(RECORDS, "", "missing from the pack")
        return read
    entries: list[tuple[int, Any, bytes | None, bytes | None]] = []
    blob_candidates: set[int] = set()  # records that may reference a photo (the rest need no walk)
    report.blob_candidates = blob_candidates
    expected = start
    in_order = True
    for number, line in enumerate(contents[RECORDS].splitlines(), 1):
        match = RECORD_LINE.match(line) if fast else None
        leaf = raw = None
        try:
            if match:
                # Plain parsing is enough here: these bytes count only if they hash to a signed leaf, and signed
                # leaves are canonical (no duplicate keys, no NaN). Anything else is re-read strictly below.
                raw = match.group(2)
                index, record, leaf = int(match.group(1)), json.loads(raw), leaf_hash(raw)
                if b'"sha256":' in raw:
                    blob_candidates.add(index)
            else:
                row = parse_json(line, RECORDS, f"line {number}")
                if not isinstance(row, dict) or not isinstance(row.get("index"), int) or "record" not in row:
                    report.fail(RECORDS, f"line {number}", "not a record entry {index, record}")
                    expected += 1
                    in_order = False
                    continue
                index, record = row["index"], row["record"]
                blob_candidates.add(index)
        except ValueError as exc:  # InputError, or JSONDecodeError from the plain parse
            report.fail(RECORDS, f"line {number}", getattr(exc, "message", None) or f"not valid JSON: {exc}")
            expected += 1
            in_order = False
            continue
        if index != expected:
            report.fail(RECORDS, f"line {number}", f"holds record {index} where record {expected} belongs: "
                        "a record was dropped, inserted or the records reordered")
            in_order = False
        expected = index + 1
        read.append((index, record))
        entries.append((index, record, leaf, raw))
    if expected < end:
        report.fail(RECORDS, f"records {expected}..{end - 1}", "missing: the pack ends early")
    elif expected > end:
        report.fail(RECORDS, f"record {end}", f"beyond the manifest's range {start}..{end - 1}")
    whole_tree = (fast and target is not None and in_order and start == 0 and end == target.size == len(entries)
                  and all(leaf is not None for _, _, leaf, _ in entries))
    if whole_tree and MerkleTree([leaf for _, _, leaf, _ in entries]).root() == target.root_hash:
        report.records_verified += len(entries)
        return read
    proofs: dict[int, dict] = {}
    for number, row in enumerate(_jsonl(contents.get(INCLUSION, b""), INCLUSION, report), 1):
        if isinstance(row, dict) and isinstance(row.get("leafIdx"), int):
            proofs[row["leafIdx"]] = row
        elif row is not None:
            report.fail(INCLUSION, f"line {number}", "malformed inclusion proof")
    for index, record, leaf, raw in entries:
        _check_record(index, record, proofs.get(index), target, report, leaf, raw)
    return read


def _check_blobs(contents: dict[str, bytes], manifest: dict, records: list[tuple[int, Any]], report: Report) -> None:
    """Photos and files: each blobs/<sha256> must hash to its name; each one a record references must be present
    (or declared unavailable by the signed manifest)."""
    referenced: dict[str, list[int]] = {}
    candidates = getattr(report, "blob_candidates", None)
    for index, rec in records:
        if candidates is not None and index not in candidates:
            continue  # its line holds no "sha256" key at all
        for digest in blob_refs(rec):
            referenced.setdefault(digest, []).append(index)
    blobs = manifest.get("blobs") if isinstance(manifest.get("blobs"), dict) else {}
    unavailable = set(blobs.get("unavailable") or [])
    for path in sorted(p for p in contents if p.startswith(BLOBS)):
        digest = path.removeprefix(BLOBS)
        users = referenced.get(digest, [])
        if not SHA256_HEX.match(digest):
            report.fail(path, "", "blob files are named blobs/<hex sha256>")
        elif hashlib.sha256(contents[path]).hexdigest() != digest:
            for place in [f"record {i}" for i in users] or [""]:
                report.fail(path, place, "content does not match its SHA-256 name: the photo or file was changed")
        else:
            report.blobs_verified += 1
    for digest, users in sorted(referenced.items()):
        if BLOBS + digest not in contents and digest not in unavailable:
            for index in users:
                report.fail(RECORDS, f"record {index}", f"references photo/file {digest[:16]}… which is missing "
                            "from the pack")


def _check_timestamps(contents: dict[str, bytes], report: Report, tsa_roots: Sequence[bytes] = ()) -> None:
    """RFC 3161 tokens over checkpoint notes: the token's message imprint must be the SHA-256 of the note."""
    for path in sorted(p for p in contents if p.startswith(TIMESTAMPS)):
        stem = path.removeprefix(TIMESTAMPS).removesuffix(".tsr")
        note = contents.get(f"checkpoints/{stem}.note")
        if not stem.isdigit() or note is None:
            report.fail(path, "", "a time-stamp token must be named after a checkpoint in the pack")
            continue
        try:
            from .checkpoint import SignedNote, parse_note
            from .timestamp import TimestampError, check_token

            # The site's own signature line is what was time-stamped; witness cosignatures come later.
            parsed = parse_note(note)
            own = SignedNote(parsed.text, tuple(s for s in parsed.signatures if s.name == report.origin)).encode()
            report.timestamps[int(stem)] = check_token(contents[path], own, tsa_roots)
        except ImportError:  # pragma: no cover - rfc3161-client is a locked dependency
            report.fail(path, "", "cannot check RFC 3161 tokens without rfc3161-client")
        except (TimestampError, CheckpointError) as exc:
            report.fail(path, "", str(exc))


def _check_controls(contents: dict[str, bytes], records: list[tuple[int, Any]], report: Report) -> None:
    """Per control: its KPIs must be what the records give (recomputed here), and it passes only when every
    record behind it verified and nothing pack-wide (manifest, checkpoints) failed."""
    if CONTROLS not in contents:
        return
    try:
        document = parse_json(contents[CONTROLS], CONTROLS)
        listed = {c["id"]: c for c in document["controls"]}
    except (InputError, KeyError, TypeError) as exc:
        report.fail(CONTROLS, "", f"malformed controls document: {exc}")
        return
    recomputed = compute(records)
    # Failures that undermine every control: the manifest's signature, the checkpoints, the history. A changed
    # record or photo is pinned to its record by the checks above, so it fails only the controls it supports.
    pack_wide = [str(f) for f in report.failures
                 if (f.file in (MANIFEST, MANIFEST_SIG, CONSISTENCY) or f.file.startswith("checkpoints/"))
                 and not RECORD_PLACE.search(f"{f.place} {f.message}")]
    bad = report.bad_records()
    for control_id, control in listed.items():
        problems: list[str] = []
        if control_id not in BY_ID:
            report.fail(CONTROLS, control_id, "unknown control")
            continue
        claimed = {k.get("name"): k for k in control.get("kpis", []) if isinstance(k, dict)}
        for kpi in recomputed[control_id]:
            said = claimed.get(kpi["name"])
            if said is None or json.dumps(said.get("value"), sort_keys=True) != json.dumps(kpi["value"],
                                                                                        sort_keys=True):
                message = (f"KPI {kpi['name']!r} says {said.get('display') if said else 'nothing'!s}, "
                           f"the records give {kpi['display']}")
                report.fail(CONTROLS, control_id, message)
                problems.append(message)
        supporting = sorted({i for k in recomputed[control_id] for i in k["records"]})
        for index in supporting:
            problems += [f"record {index}: {m}" for m in bad.get(index, [])]
        problems += pack_wide
        report.controls.append({
            "id": control_id, "title": BY_ID[control_id].title, "ok": not problems, "records": len(supporting),
            "kpis": [{"name": k["name"], "display": k["display"]} for k in recomputed[control_id]],
            "failures": problems,
        })


def _check_record(index: int, record: Any, proof: dict | None, target: Checkpoint | None, report: Report,
                  leaf: bytes | None = None, raw: bytes | None = None) -> None:
    place = f"record {index}"
    if leaf is None or (proof is not None and target is not None and proof.get("leafHash") != _b64text(leaf)):
        # Not the bytes as written by an exporter (or not those that were signed): hash the RFC 8785 form of the
        # record read strictly (duplicate keys or NaN would let one line show what another was signed as).
        try:
            if raw is not None:
                record = parse_json(raw, RECORDS, place)
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
