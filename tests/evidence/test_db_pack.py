"""Evidence packs from the database ledger: a site's period with photos, KPIs per control, a report in HTML and PDF;
an untouched pack verifies offline and every kind of tampering fails and is named, per record and per control."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from linewatch.core.models import Site
from linewatch.evidence import services
from linewatch.evidence.cli import evidence_app
from linewatch.evidence.engine.checkpoint import Checkpoint as Note
from linewatch.evidence.engine.checkpoint import Signer, sign_checkpoint, sign_note
from linewatch.evidence.engine.pack import manifest_statement
from linewatch.evidence.engine.verify import verify_pack
from linewatch.evidence.models import SiteLog
from linewatch.evidence.packs import site_pack_bytes, trusted_keys
from linewatch.evidence.records import attach_blob, record

pytestmark = pytest.mark.django_db
DAY = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)


def jpeg(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def site_pack(alpha_beta, tmp_path) -> tuple[Path, Site]:
    """A week at alpha: patrol scans with photos (one missed checkpoint), an alert acknowledged and closed, all
    checkpointed and cosigned by headquarters."""
    alpha = Site.objects.get(slug="alpha")
    SiteLog.objects.filter(site_slug="alpha").update(checkpoint_every=7)
    photos = [attach_blob(jpeg((40 * i, 90, 160)), "image/jpeg") for i in range(3)]
    for i, digest in enumerate(photos):
        record(alpha, "patrol.scan", {"tour": "night", "checkpoint": f"cp-{i}", "guard": "p-104", "verified": True,
                                      "photos": [{"sha256": digest, "media_type": "image/jpeg"}]},
               at=DAY + dt.timedelta(minutes=10 * i))
    record(alpha, "patrol.exception", {"exception": "missed", "checkpoint": "cp-3", "guard": "p-104"},
           at=DAY + dt.timedelta(minutes=40))
    record(alpha, "alert.raised", {"alert": "a1", "title": "Door forced open"}, at=DAY + dt.timedelta(hours=1))
    record(alpha, "alert.acknowledged", {"alert": "a1", "by": "lead"}, at=DAY + dt.timedelta(hours=1, minutes=4))
    record(alpha, "alert.closed", {"alert": "a1", "by": "lead", "text": "contractor"},
           at=DAY + dt.timedelta(hours=2))
    head = SiteLog.objects.get(site_slug="alpha")
    services.checkpoint(head)
    services.witness(head, alpha)
    out = site_pack_bytes(alpha, dt.date(2026, 3, 1), dt.date(2026, 3, 7), tmp_path / "alpha.zip")
    return out, alpha


def keys_for(site):
    return trusted_keys(site)


def files_of(pack: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(pack) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def write(pack: Path, files: dict[str, bytes], fix_manifest: bool = True) -> None:
    if fix_manifest:  # a careful forger also fixes the digests; the manifest's signature then no longer matches
        manifest = json.loads(files["manifest.json"])
        manifest["files"] = [{"path": p, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                             for p, d in sorted(files.items()) if p not in ("manifest.json", "manifest.sig")]
        files["manifest.json"] = json.dumps(manifest, indent=2).encode() + b"\n"
    with zipfile.ZipFile(pack, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)


def failures(report) -> list[str]:
    return [str(f) for f in report.failures]


def control(report, control_id: str) -> dict:
    return next(c for c in report.controls if c["id"] == control_id)


def record_lines(files) -> list[dict]:
    return [json.loads(line) for line in files["records.jsonl"].splitlines()]


def test_untouched_site_pack_verifies_with_kpis_per_control(site_pack):
    pack, alpha = site_pack
    report = verify_pack(pack, keys_for(alpha), witnesses=[services.witness_name(alpha)])
    assert report.ok, failures(report)
    assert report.blobs_verified == 3
    assert all(c["ok"] for c in report.controls)
    patrol = control(report, "physical-patrols")["kpis"]
    assert patrol[0]["display"] == "75.0 % (3 of 4 checkpoints)"
    response = control(report, "incident-response")["kpis"]
    assert response[0]["display"].startswith("median 4.0")
    assert control(report, "emergency-roll-call")["kpis"][0]["display"] == "no data"
    files = files_of(pack)
    assert files["report.pdf"].startswith(b"%PDF")
    html = files["report.html"].decode()
    assert "75.0 % (3 of 4 checkpoints)" in html and "no data" in html and "A.7.4 Physical security monitoring" in html
    assert {"VERIFY.md", "controls.json", "keys/vkeys.txt", "manifest.sig"} <= set(files)
    assert sum(1 for n in files if n.startswith("blobs/")) == 3


def test_a_flipped_byte_in_a_record_fails_that_record_and_its_control(site_pack):
    pack, alpha = site_pack
    files = files_of(pack)
    lines = files["records.jsonl"].decode().splitlines()
    target = next(i for i, line in enumerate(lines) if '"alert.acknowledged"' in line)
    index = json.loads(lines[target])["index"]
    lines[target] = lines[target].replace('"by":"lead"', '"by":"leaf"')
    files["records.jsonl"] = ("\n".join(lines) + "\n").encode()
    write(pack, files)
    report = verify_pack(pack, keys_for(alpha))
    assert not report.ok
    assert f"records.jsonl:record {index}: content does not match checkpoint" in " ".join(failures(report))
    assert index in report.bad_records()
    assert not control(report, "incident-response")["ok"]


def test_a_changed_photo_is_named_with_the_record_that_references_it(site_pack):
    pack, alpha = site_pack
    files = files_of(pack)
    scan = next(r for r in record_lines(files) if r["record"]["kind"] == "patrol.scan")
    digest = scan["record"]["body"]["photos"][0]["sha256"]
    data = bytearray(files[f"blobs/{digest}"])
    data[len(data) // 2] ^= 1
    files[f"blobs/{digest}"] = bytes(data)
    write(pack, files, fix_manifest=False)  # the signed manifest stays: only the photo's controls fail
    report = verify_pack(pack, keys_for(alpha))
    assert (f"blobs/{digest}:record {scan['index']}: content does not match its SHA-256 name: the photo or file was "
            "changed") in failures(report)
    assert f"blobs/{digest}: SHA-256 or size differs from the manifest: the file was changed" in failures(report)
    assert not control(report, "physical-patrols")["ok"]
    assert control(report, "incident-response")["ok"]  # untouched records keep their control passing


def test_a_dropped_photo_is_caught(site_pack):
    pack, alpha = site_pack
    files = files_of(pack)
    dropped = next(n for n in files if n.startswith("blobs/"))
    del files[dropped]
    write(pack, files)
    assert any("which is missing from the pack" in f for f in failures(verify_pack(pack, keys_for(alpha))))


def test_a_flipped_byte_in_a_checkpoint_fails_every_control(site_pack):
    pack, alpha = site_pack
    files = files_of(pack)
    name = sorted(n for n in files if n.startswith("checkpoints/"))[0]
    note = bytearray(files[name])
    note[3] ^= 1  # inside the origin line
    files[name] = bytes(note)
    write(pack, files)
    report = verify_pack(pack, keys_for(alpha))
    assert any(f.startswith(name) for f in failures(report))
    assert not any(c["ok"] for c in report.controls)


def test_a_deleted_record_is_caught(site_pack):
    pack, alpha = site_pack
    files = files_of(pack)
    lines = files["records.jsonl"].decode().splitlines()
    gone = json.loads(lines[2])["index"]
    del lines[2]
    files["records.jsonl"] = ("\n".join(lines) + "\n").encode()
    write(pack, files)
    report = verify_pack(pack, keys_for(alpha))
    assert any(f"where record {gone} belongs" in f for f in failures(report))


def test_reordered_records_are_caught(site_pack):
    pack, alpha = site_pack
    files = files_of(pack)
    lines = files["records.jsonl"].decode().splitlines()
    lines[3], lines[4] = lines[4], lines[3]
    files["records.jsonl"] = ("\n".join(lines) + "\n").encode()
    write(pack, files)
    assert any("a record was dropped, inserted or the records reordered" in f
               for f in failures(verify_pack(pack, keys_for(alpha))))


def test_a_pack_re_signed_with_another_key_names_the_key(site_pack):
    pack, alpha = site_pack
    files = files_of(pack)
    origin = SiteLog.objects.get(site_slug="alpha").origin
    impostor = Signer.generate(origin)
    for name in [n for n in files if n.startswith("checkpoints/")]:
        text = files[name].decode().split("\n\n")[0] + "\n"
        files[name] = sign_checkpoint(Note.parse(text.encode()), impostor)
    write(pack, files)
    files = files_of(pack)
    files["manifest.sig"] = sign_note(manifest_statement(files["manifest.json"]), [impostor])
    write(pack, files, fix_manifest=False)
    report = verify_pack(pack, keys_for(alpha))
    assert any(f"has no valid signature by trusted key '{origin}'" in f for f in failures(report))
    assert "manifest.sig: not signed by any trusted key" in failures(report)
    assert not any(c["ok"] for c in report.controls)


def test_a_kpi_that_does_not_follow_from_the_records_fails(site_pack):
    pack, alpha = site_pack
    files = files_of(pack)
    document = json.loads(files["controls.json"])
    patrols = next(c for c in document["controls"] if c["id"] == "physical-patrols")
    patrols["kpis"][0]["value"] = 100.0
    files["controls.json"] = json.dumps(document).encode()
    write(pack, files)
    report = verify_pack(pack, keys_for(alpha))
    assert any(f.startswith("controls.json:physical-patrols: KPI 'patrol completion'") for f in failures(report))


def test_cli_builds_and_verifies_a_site_pack(site_pack, tmp_path):
    _, alpha = site_pack
    runner = CliRunner()
    out = tmp_path / "cli.zip"
    result = runner.invoke(evidence_app, ["pack", "--site", "alpha", "--from", "2026-03-01", "--to", "2026-03-07",
                                          "-o", str(out)])
    assert result.exit_code == 0, result.output
    args = ["verify", str(out)]
    for verifier in trusted_keys(alpha):
        args += ["--key", verifier.vkey]
    result = runner.invoke(evidence_app, args)
    assert result.exit_code == 0, result.output
    assert "PASS control physical-patrols" in result.output
    result = runner.invoke(evidence_app, ["pack", "--site", "alpha", "--from", "2025-01-01", "--to", "2025-01-02",
                                          "-o", str(tmp_path / "none.zip")])
    assert result.exit_code == 2 and "no evidence records" in result.output
