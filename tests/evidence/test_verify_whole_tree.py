"""A pack holding the whole tree of its checkpoint is verified by recomputing the root once; when that fails the
per-record proofs still name what broke, and the result equals the proof-by-proof verifier's."""

from __future__ import annotations

import zipfile

import pytest

from linewatch.evidence.engine.checkpoint import Signer
from linewatch.evidence.engine.ledger import Ledger
from linewatch.evidence.engine.pack import build_pack
from linewatch.evidence.engine.verify import verify_pack


@pytest.fixture
def whole(tmp_path):
    signer = Signer.generate("linewatch.example/plant-alpha")
    ledger = Ledger.create(tmp_path / "l", signer, checkpoint_every=1000)
    ledger.extend({"kind": "control.check", "time": f"2026-03-01T00:{i % 60:02d}:00Z", "body": {"n": i}}
                  for i in range(37))
    return build_pack(ledger, tmp_path / "p.zip"), [signer.verifier]


def _rewrite(pack, change):
    with zipfile.ZipFile(pack) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    change(files)
    with zipfile.ZipFile(pack, "w") as zf:
        for n, d in files.items():
            zf.writestr(n, d)


def test_whole_tree_verifies_fast_and_slow_alike(whole):
    pack, keys = whole
    fast, slow = verify_pack(pack, keys), verify_pack(pack, keys, fast=False)
    assert fast.ok and slow.ok and fast.records_verified == slow.records_verified == 37


def test_a_changed_record_in_a_whole_tree_pack_is_still_named(whole):
    pack, keys = whole
    _rewrite(pack, lambda f: f.__setitem__("records.jsonl", f["records.jsonl"].replace(b'"n":17}', b'"n":71}')))
    fast, slow = verify_pack(pack, keys), verify_pack(pack, keys, fast=False)
    assert not fast.ok and 17 in fast.bad_records()
    assert [str(x) for x in fast.failures] == [str(x) for x in slow.failures]


def test_non_canonical_but_equal_lines_still_verify(whole):
    pack, keys = whole

    def spaced(files):
        lines = files["records.jsonl"].splitlines()
        lines[5] = lines[5].replace(b'"record":{', b'"record": {')
        files["records.jsonl"] = b"\n".join(lines) + b"\n"
        import hashlib
        import json

        manifest = json.loads(files["manifest.json"])
        for entry in manifest["files"]:
            if entry["path"] == "records.jsonl":
                entry["sha256"] = hashlib.sha256(files["records.jsonl"]).hexdigest()
                entry["size"] = len(files["records.jsonl"])
        files["manifest.json"] = json.dumps(manifest).encode()
    _rewrite(pack, spaced)
    report = verify_pack(pack, keys)
    # the record itself still proves (RFC 8785 form); only the re-written manifest's signature fails
    assert 5 not in report.bad_records()
    assert [f.file for f in report.failures] == ["manifest.sig"]
