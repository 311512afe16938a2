"""RFC 3161 time-stamps over checkpoints, from a time-stamping authority made in the test with `openssl ts`: the
token is stored, travels in the pack, verifies (also against the TSA's certificate) and a changed token fails."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from linewatch.core.models import Site
from linewatch.evidence import services
from linewatch.evidence.engine.timestamp import TimestampError, check_token, request_for
from linewatch.evidence.engine.verify import verify_pack
from linewatch.evidence.models import Checkpoint, SiteLog, Timestamp
from linewatch.evidence.packs import site_pack_bytes, trusted_keys
from linewatch.evidence.records import record

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command as a test TSA")

TSA_CONFIG = """
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = Linewatch test TSA
[ ext ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
[ tsa ]
default_tsa = tsa1
[ tsa1 ]
serial = ./serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_alg = sha256
"""


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    """A local TSA: a self-made certificate with the timeStamping purpose, answering through `openssl ts -reply`."""
    folder = tmp_path_factory.mktemp("tsa")
    (folder / "tsa.cnf").write_text(TSA_CONFIG)
    (folder / "serial").write_text("01\n")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", "tsa.key", "-out", "tsa.crt", "-days", "30", "-config", "tsa.cnf", "-extensions",
                    "ext"], cwd=folder, check=True, capture_output=True)

    def ask(request: bytes) -> bytes:
        (folder / "q.tsq").write_bytes(request)
        subprocess.run(["openssl", "ts", "-reply", "-config", "tsa.cnf", "-queryfile", "q.tsq", "-inkey", "tsa.key",
                        "-signer", "tsa.crt", "-out", "r.tsr"], cwd=folder, check=True, capture_output=True)
        return (folder / "r.tsr").read_bytes()

    ask.certificate = (folder / "tsa.crt").read_bytes()
    return ask


def test_a_token_is_for_exactly_the_note_it_stamps(tsa):
    note = b"linewatch/x/y\n3\nAAAA\n\n\xe2\x80\x94 k sig\n"
    token = tsa(request_for(note))
    assert check_token(token, note, [tsa.certificate]).startswith(str(dt.date.today().year))
    with pytest.raises(TimestampError, match="other data"):
        check_token(token, note + b" ")
    with pytest.raises(TimestampError, match="not an RFC 3161"):
        check_token(b"\x30\x03garbage", note)


@pytest.mark.django_db
def test_checkpoints_are_time_stamped_and_packs_carry_the_tokens(alpha_beta, tsa, tmp_path):
    alpha = Site.objects.get(slug="alpha")
    at = dt.datetime(2026, 3, 2, 6, tzinfo=dt.UTC)
    record(alpha, "control.check", {"door": "d-1", "locked": True}, at=at)
    head = SiteLog.objects.get(site_slug="alpha")
    cp = services.checkpoint(head)
    stamp = services.timestamp_checkpoint(cp, tsa, "test-tsa")
    assert Timestamp.objects.filter(checkpoint=cp).count() == 1 and stamp.gen_time.year >= 2026
    services.witness(head, alpha)  # cosigning afterwards does not invalidate the token over the site's note
    pack = site_pack_bytes(alpha, dt.date(2026, 3, 1), dt.date(2026, 3, 3), tmp_path / "p.zip")
    report = verify_pack(pack, trusted_keys(alpha), tsa_roots=[tsa.certificate])
    assert report.ok, [str(f) for f in report.failures]
    assert list(report.timestamps) == [cp.size]

    with zipfile.ZipFile(pack) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    name = f"timestamps/{cp.size}.tsr"
    other = Checkpoint.objects.get(pk=cp.pk)
    files[name] = tsa(request_for(other.note.encode() + b"x"))  # a genuine token, for other data
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["files"]:
        if entry["path"] == name:
            entry["sha256"], entry["size"] = hashlib.sha256(files[name]).hexdigest(), len(files[name])
    files["manifest.json"] = json.dumps(manifest).encode()
    tampered = Path(tmp_path / "t.zip")
    with zipfile.ZipFile(tampered, "w") as zf:
        for n, data in files.items():
            zf.writestr(n, data)
    failures = [str(f) for f in verify_pack(tampered, trusted_keys(alpha)).failures]
    assert any(f.startswith(f"{name}: the token is for other data") for f in failures)


@pytest.mark.django_db
def test_cli_time_stamps_checkpoints_from_a_local_http_tsa(alpha_beta, tsa):
    """`linewatch evidence timestamp --tsa URL` speaks RFC 3161 over HTTP to a TSA on this machine."""
    import http.server
    import threading

    from typer.testing import CliRunner

    from linewatch.evidence.cli import evidence_app

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            assert self.headers["Content-Type"] == "application/timestamp-query"
            answer = tsa(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        record("alpha", "control.check", {"door": "d-2", "locked": True})
        head = SiteLog.objects.get(site_slug="alpha")
        services.checkpoint(head)
        result = CliRunner().invoke(evidence_app, ["timestamp", "--site", "alpha", "--tsa",
                                                   f"http://127.0.0.1:{server.server_port}/"])
        assert result.exit_code == 0, result.output
        assert "time-stamped at" in result.output
        stamped = Timestamp.objects.filter(checkpoint__log=head).count()
        assert stamped == Checkpoint.objects.filter(log=head).count() >= 1
        again = CliRunner().invoke(evidence_app, ["timestamp", "--site", "alpha", "--tsa",
                                                  f"http://127.0.0.1:{server.server_port}/"])
        assert again.exit_code == 0 and Timestamp.objects.filter(checkpoint__log=head).count() == stamped
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
