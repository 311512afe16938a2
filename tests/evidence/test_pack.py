"""Evidence packs: an untouched pack verifies offline; every kind of tampering fails and names what broke."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linewatch.evidence.cli import evidence_app
from linewatch.evidence.engine.checkpoint import Checkpoint, Signer, sign_checkpoint
from linewatch.evidence.engine.ledger import Ledger
from linewatch.evidence.engine.pack import build_pack
from linewatch.evidence.engine.verify import verify_pack

ORIGIN = "linewatch.example/plant-alpha"
HQ = "linewatch.example/hq"


@pytest.fixture(scope="module")
def keys():
    return Signer.generate(ORIGIN), Signer.generate(HQ)


@pytest.fixture
def pack(tmp_path, keys) -> Path:
    """Records 2..13 of a 16-record ledger, checkpoints every 5 records and at 16, all cosigned by headquarters;
    the pack's proofs are against checkpoint 15, the smallest covering record 13."""
    plant, hq = keys
    ledger = Ledger.create(tmp_path / "alpha", plant, checkpoint_every=5)
    ledger.extend({"type": "control.check", "seq": i, "control": "door-12 locked", "ok": i % 4 != 0}
                  for i in range(16))
    ledger.checkpoint()
    for size in ledger.checkpoint_sizes():
        ledger.cosign(size, hq)
    return build_pack(ledger, tmp_path / "pack.zip", 2, 14)


def trusted(keys):
    return [k.verifier for k in keys]


def rewrite(pack: Path, edit, fix_manifest: bool = False) -> None:
    """Apply `edit(files)` to the pack's files; with `fix_manifest`, also update the manifest's digests as a
    careful forger would (the manifest's signature then no longer matches)."""
    with zipfile.ZipFile(pack) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    edit(files)
    if fix_manifest:
        manifest = json.loads(files["manifest.json"])
        manifest["files"] = [{"path": p, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                             for p, d in sorted(files.items()) if p not in ("manifest.json", "manifest.sig")]
        files["manifest.json"] = json.dumps(manifest, indent=2).encode() + b"\n"
    with zipfile.ZipFile(pack, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)


def edit_lines(name: str, change):
    def edit(files):
        rows = files[name].decode().splitlines()
        change(rows)
        files[name] = "".join(r + "\n" for r in rows).encode()
    return edit


def failures(report) -> list[str]:
    return [str(f) for f in report.failures]


def test_untouched_pack_verifies_with_the_site_and_witness_keys(pack, keys):
    report = verify_pack(pack, trusted(keys), witnesses=[HQ])
    assert report.ok, failures(report)
    assert report.records == (2, 14)
    assert report.records_verified == 12
    assert report.checkpoints == [5, 10, 15]
    assert report.signed_by[15] == [ORIGIN, HQ]
    with zipfile.ZipFile(pack) as zf:
        assert {"manifest.json", "manifest.sig", "records.jsonl", "proofs/inclusion.jsonl",
                "proofs/consistency.jsonl", "checkpoints/15.note", "keys/vkeys.txt", "VERIFY.md"} <= set(zf.namelist())


def test_one_flipped_byte_in_a_record_is_caught_and_the_file_named(pack, keys):
    rewrite(pack, edit_lines("records.jsonl", lambda rows: rows.__setitem__(3, rows[3].replace('"seq":5', '"seq":6'))))
    report = verify_pack(pack, trusted(keys))
    assert not report.ok
    assert any(f.startswith("records.jsonl: SHA-256 or size differs") for f in failures(report))
    assert "records.jsonl:record 5: content does not match checkpoint 15: the record was changed" in failures(report)


def test_an_edited_record_with_a_forged_manifest_is_still_caught_by_index(pack, keys):
    change = edit_lines("records.jsonl", lambda rows: rows.__setitem__(0, rows[0].replace('"ok":true', '"ok":false')))
    rewrite(pack, change, fix_manifest=True)
    report = verify_pack(pack, trusted(keys))
    assert "manifest.sig: signs a different manifest: manifest.json was changed" in failures(report)
    assert "records.jsonl:record 2: content does not match checkpoint 15: the record was changed" in failures(report)


def test_a_dropped_record_is_caught(pack, keys):
    rewrite(pack, edit_lines("records.jsonl", lambda rows: rows.pop(4)), fix_manifest=True)
    report = verify_pack(pack, trusted(keys))
    assert ("records.jsonl:line 5: holds record 7 where record 6 belongs: a record was dropped, inserted or the "
            "records reordered") in failures(report)


def test_a_dropped_last_record_is_caught(pack, keys):
    rewrite(pack, edit_lines("records.jsonl", lambda rows: rows.pop()), fix_manifest=True)
    assert "records.jsonl:records 13..13: missing: the pack ends early" in failures(verify_pack(pack, trusted(keys)))


def test_reordered_records_are_caught(pack, keys):
    def swap(rows):
        rows[1], rows[2] = rows[2], rows[1]
    rewrite(pack, edit_lines("records.jsonl", swap), fix_manifest=True)
    report = verify_pack(pack, trusted(keys))
    assert any("line 2: holds record 4 where record 3 belongs" in f for f in failures(report))


def test_a_renumbered_record_fails_its_inclusion_proof(pack, keys):
    def renumber(rows):
        del rows[4]
        for n in range(4, len(rows)):
            row = json.loads(rows[n])
            row["index"] -= 1
            rows[n] = json.dumps(row)
    rewrite(pack, edit_lines("records.jsonl", renumber), fix_manifest=True)
    report = verify_pack(pack, trusted(keys))
    assert any(f.startswith("records.jsonl:record 6: content does not match") for f in failures(report))


def test_a_swapped_checkpoint_signature_is_caught(pack, keys):
    def swap(files):
        body = files["checkpoints/15.note"].split(b"\n\n")[0]
        files["checkpoints/15.note"] = body + b"\n\n" + files["checkpoints/10.note"].split(b"\n\n")[1]
    rewrite(pack, swap, fix_manifest=True)
    report = verify_pack(pack, trusted(keys))
    assert (f"checkpoints/15.note: signature by '{ORIGIN}' does not verify: the note or the signature was altered"
            in failures(report))


def test_a_flipped_byte_in_a_checkpoint_is_caught(pack, keys):
    def flip(files):
        files["checkpoints/10.note"] = files["checkpoints/10.note"].replace(b"\n10\n", b"\n11\n")
    rewrite(pack, flip, fix_manifest=True)
    assert any(f.startswith("checkpoints/10.note: signature by") for f in failures(verify_pack(pack, trusted(keys))))


def test_a_pack_re_signed_with_another_key_fails_against_the_trusted_key(pack, keys):
    impostor = Signer.generate(ORIGIN)

    def resign(files):
        note = files["checkpoints/15.note"].decode().split("\n")
        checkpoint = Checkpoint.parse(("\n".join(note[:3]) + "\n").encode())
        files["checkpoints/15.note"] = sign_checkpoint(checkpoint, impostor)
    rewrite(pack, resign, fix_manifest=True)
    report = verify_pack(pack, trusted(keys))
    assert f"checkpoints/15.note: checkpoint 15 has no valid signature by trusted key '{ORIGIN}'" in failures(report)


def test_verifying_with_the_wrong_key_fails(pack, keys):
    report = verify_pack(pack, [Signer.generate(ORIGIN).verifier])
    assert not report.ok
    assert "manifest.sig: not signed by any trusted key" in failures(report)
    assert any("has no valid signature by trusted key" in f for f in failures(report))


def test_a_missing_witness_cosignature_is_caught_when_required(pack, keys):
    plant, _ = keys
    report = verify_pack(pack, [plant.verifier], witnesses=[HQ])
    assert any(f"no valid signature by trusted key '{HQ}'" in f for f in failures(report))


def test_a_dropped_checkpoint_proof_of_history_is_caught(pack, keys):
    rewrite(pack, edit_lines("proofs/consistency.jsonl", lambda rows: rows.pop(0)), fix_manifest=True)
    report = verify_pack(pack, trusted(keys))
    assert any(f.startswith("proofs/consistency.jsonl:consistency proof 5->10: missing") for f in failures(report))


def test_an_added_file_is_caught(pack, keys):
    rewrite(pack, lambda files: files.__setitem__("photos/extra.jpg", b"\xff\xd8"))
    assert "photos/extra.jpg: not listed in the manifest: the file was added" in failures(
        verify_pack(pack, trusted(keys)))


def test_not_a_zip_is_a_clear_failure(tmp_path, keys):
    bogus = tmp_path / "bogus.zip"
    bogus.write_bytes(b"not a zip")
    assert "cannot read the pack as a zip file" in failures(verify_pack(bogus, trusted(keys)))[0]


def test_cli_verify_exits_0_for_a_valid_pack_and_2_naming_the_failure(pack, keys, tmp_path):
    keyfile = tmp_path / "trusted.vkeys"
    keyfile.write_text("".join(k.verifier.vkey + "\n" for k in keys))
    runner = CliRunner()
    result = runner.invoke(evidence_app, ["verify", str(pack), "--key", str(keyfile), "--witness", HQ])
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output
    result = runner.invoke(evidence_app, ["verify", str(pack), "--key", str(keyfile), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["ok"] is True

    rewrite(pack, edit_lines("records.jsonl", lambda rows: rows.__setitem__(0, rows[0].replace("door", "dour"))))
    result = runner.invoke(evidence_app, ["verify", str(pack), "--key", keys[0].verifier.vkey])
    assert result.exit_code == 2
    assert "record 2: content does not match checkpoint 15" in result.output
    result = runner.invoke(evidence_app, ["verify", str(pack), "--key", "not-a-vkey"])
    assert result.exit_code == 2


def test_cli_pack_builds_a_pack_from_a_ledger_folder(tmp_path, keys):
    plant, _ = keys
    ledger = Ledger.create(tmp_path / "beta", plant, checkpoint_every=3)
    ledger.extend({"type": "rollcall", "seq": i} for i in range(7))
    skey = tmp_path / "plant.skey"
    skey.write_text(plant.skey)
    result = CliRunner().invoke(evidence_app, ["pack", str(ledger.folder), "-o", str(tmp_path / "p.zip"),
                                               "--skey", str(skey), "--from", "1", "--to", "5"])
    assert result.exit_code == 0, result.output
    report = verify_pack(tmp_path / "p.zip", [plant.verifier])
    assert report.ok and report.records == (1, 5) and report.checkpoints == [3, 6]


def test_pack_proofs_agree_with_an_independent_reference(tmp_path, keys):
    from linewatch.evidence.engine.canonical import canonicalize
    from tests.evidence.test_merkle import ref_mth, ref_path

    plant, _ = keys
    ledger = Ledger.create(tmp_path / "gamma", plant, checkpoint_every=6)
    ledger.extend({"type": "incident", "seq": i, "summary": f"fence breach {i}"} for i in range(12))
    path = build_pack(ledger, tmp_path / "g.zip", 0, 12)
    with zipfile.ZipFile(path) as zf:
        records = [json.loads(line)["record"] for line in zf.read("records.jsonl").splitlines()]
        proofs = [json.loads(line) for line in zf.read("proofs/inclusion.jsonl").splitlines()]
        note = zf.read("checkpoints/12.note")
    leaves = [canonicalize(r) for r in records]
    root = ref_mth(leaves)
    assert base64.b64encode(root) in note
    for i, proof in enumerate(proofs):
        assert proof["leafIdx"] == i and proof["treeSize"] == 12
        assert [base64.b64decode(h) for h in proof["proof"]] == ref_path(i, leaves)
