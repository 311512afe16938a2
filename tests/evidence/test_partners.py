"""Partners: tokens scoped to one partner, packs verified on arrival with the partner's registered keys, incident
reports checked against the standard form, the scorecard, and the upload page (CSRF, per-site authorisation)."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest
from django.test import Client

from linewatch.evidence import partners
from linewatch.evidence.engine.checkpoint import Signer
from linewatch.evidence.engine.ledger import Ledger
from linewatch.evidence.engine.pack import build_pack
from linewatch.evidence.models import Entry, Submission

pytestmark = pytest.mark.django_db
ORIGIN = "warehouse.example/dc-north"


@pytest.fixture
def partner(alpha_beta):
    return partners.create_partner("northdc", "North DC Logistics", "3pl", ["alpha"])


@pytest.fixture(scope="module")
def partner_key():
    return Signer.generate(ORIGIN)


def make_pack(tmp_path, signer, name="pack.zip", days=7) -> bytes:
    ledger = Ledger.create(tmp_path / name.replace(".zip", ""), signer, checkpoint_every=4)
    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    for i in range(10):
        ledger.append({"kind": "patrol.scan", "site": "dc-north", "time": (start + dt.timedelta(hours=i)).isoformat(),
                       "body": {"checkpoint": f"cp-{i}", "verified": i != 3}})
    path = build_pack(ledger, tmp_path / name, 0, 10,
                      period={"from": start.isoformat(), "to": (start + dt.timedelta(days=days)).isoformat()})
    return path.read_bytes()


def test_a_partner_token_only_submits_for_its_partner(partner, partner_key, tmp_path, client, role_users):
    other = partners.create_partner("guards", "Guard Co", "guard-contractor", ["beta"])
    token = partners.create_token(partner, "upload")
    assert partners.partner_for_token(token) == partner
    assert partners.partner_for_token("lwp_nope") is None
    partners.register_key(partner, partner_key.verifier.vkey)
    with pytest.raises(Exception, match="another partner"):
        partners.register_key(other, partner_key.verifier.vkey)
    data = make_pack(tmp_path, partner_key)
    response = client.post("/api/v1/evidence/partner/packs", {"pack": _upload(data)},
                           HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response.json()["verified"] is True
    assert Submission.objects.get().partner == partner
    # a user's token is not a partner token
    from linewatch.core import accounts

    user_token = accounts.create_token(role_users["admin"], "x")
    assert client.get("/api/v1/evidence/partner/submissions",
                      HTTP_AUTHORIZATION=f"Bearer {user_token}").status_code == 401
    assert len(client.get("/api/v1/evidence/partner/submissions",
                          HTTP_AUTHORIZATION=f"Bearer {token}").json()) == 1
    # the submission is itself evidence at the sites the partner serves
    assert Entry.objects.filter(log__site_slug="alpha", kind="partner.submission").count() == 1


def _upload(data: bytes, name: str = "pack.zip"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/zip")


def test_a_tampered_or_foreign_pack_fails_and_is_called_out(partner, partner_key, tmp_path):
    partners.register_key(partner, partner_key.verifier.vkey)
    good = partners.submit_pack(partner, make_pack(tmp_path, partner_key), "week9.zip")
    assert good.verified
    data = make_pack(tmp_path, partner_key, "week10.zip")
    (tmp_path / "t.zip").write_bytes(data)
    with zipfile.ZipFile(tmp_path / "t.zip") as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    files["records.jsonl"] = files["records.jsonl"].replace(b'"verified":false', b'"verified":true')
    with zipfile.ZipFile(tmp_path / "t.zip", "w") as zf:
        for n, d in files.items():
            zf.writestr(n, d)
    bad = partners.submit_pack(partner, (tmp_path / "t.zip").read_bytes(), "week10.zip")
    assert not bad.verified
    assert any(f["file"] == "records.jsonl" for f in bad.result["failures"])
    foreign = partners.submit_pack(partner, make_pack(tmp_path, Signer.generate(ORIGIN), "week11.zip"), "w11.zip")
    assert not foreign.verified
    card = partners.scorecard(partner)
    assert card["packs"] == 3 and card["packs_verified"] == 1
    assert {f["filename"] for f in card["failures"]} == {"week10.zip", "w11.zip"}
    # from the verified pack's own controls: 9 verified scans, no missed-checkpoint record
    assert card["patrol_completion"] == "100.0 % (9 of 9 checkpoints)"
    assert card["open_incidents"] == 0 and card["standardisation_pct"] is not None


def test_incident_reports_follow_the_standard_form(partner):
    from linewatch.errors import InputErrors

    ok = partners.submit_incident(partner, {"category": "theft", "severity": "high", "what": "Pallet missing",
                                            "where": "dock 4", "when": "2026-03-02T06:10:00Z"})
    assert ok.verified and ok.incident_open
    with pytest.raises(InputErrors) as caught:
        partners.submit_incident(partner, {"category": "aliens", "what": "", "where": "dock", "when": "yesterday"})
    places = {e.place for e in caught.value.errors}
    assert {"category", "severity", "what", "when"} <= places
    assert Submission.objects.filter(verified=False).count() == 1  # kept, and it counts against the partner
    card = partners.scorecard(partner)
    assert card["open_incidents"] == 1 and card["standardisation_pct"] == 50.0


def test_upload_page_needs_csrf_and_edit_people_at_the_site(partner, partner_key, role_users, tmp_path):
    partners.register_key(partner, partner_key.verifier.vkey)
    data = make_pack(tmp_path, partner_key)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(role_users["lead"])
    url = "/evidence/alpha/partners/"
    page = browser.get(url)
    assert page.status_code == 200 and b"North DC Logistics" in page.content
    assert browser.post(url, {"kind": "pack", "partner": "northdc", "pack": _upload(data)}).status_code == 403
    token = browser.cookies["csrftoken"].value
    response = browser.post(url, {"kind": "pack", "partner": "northdc", "pack": _upload(data),
                                  "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Submission.objects.get().verified and Submission.objects.get().submitted_by == "lead"
    auditor = Client()
    auditor.force_login(role_users["auditor"])  # may see the page, may not receive submissions
    assert auditor.post(url, {"kind": "pack", "partner": "northdc", "pack": _upload(data)}).status_code == 403
    assert b"verification failures" in auditor.get("/evidence/partners/").content


def test_site_page_builds_a_pack_by_post_with_csrf_and_only_at_visible_sites(alpha_beta, role_users):
    from linewatch.evidence.records import record

    record("alpha", "control.check", {"door": "d-1", "locked": True})
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(role_users["lead"])
    page = browser.get("/evidence/alpha/")
    assert page.status_code == 200 and b"Download evidence pack" in page.content
    today = dt.date.today().isoformat()
    form = {"action": "pack", "from": today, "to": today}
    assert browser.post("/evidence/alpha/", form).status_code == 403  # no CSRF token
    form["csrfmiddlewaretoken"] = browser.cookies["csrftoken"].value
    response = browser.post("/evidence/alpha/", form)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "manifest.json" in zipfile.ZipFile(__import__("io").BytesIO(response.content)).namelist()
    assert browser.post("/evidence/beta/", form).status_code == 404  # the lead's role is scoped to alpha
    bad = browser.post("/evidence/alpha/", {**form, "from": "2020-01-01", "to": "2020-01-02"})
    assert bad.status_code == 400 and b"no evidence records" in bad.content


def test_partner_cli(alpha_beta, partner_key, tmp_path):
    import json

    from typer.testing import CliRunner

    from linewatch.evidence.cli import evidence_app

    runner = CliRunner()
    assert runner.invoke(evidence_app, ["partner", "add", "cm1", "--name", "Contract Mfg", "--kind",
                                        "contract-manufacturer", "--site", "alpha"]).exit_code == 0
    bad = runner.invoke(evidence_app, ["partner", "add", "x", "--name", "X", "--kind", "alien"])
    assert bad.exit_code == 2 and "one of" in bad.output
    token = runner.invoke(evidence_app, ["partner", "token", "cm1"]).stdout.strip()
    assert token.startswith("lwp_") and partners.partner_for_token(token).slug == "cm1"
    assert runner.invoke(evidence_app, ["partner", "key", "cm1", partner_key.verifier.vkey]).exit_code == 0
    pack = tmp_path / "p.zip"
    pack.write_bytes(make_pack(tmp_path, partner_key))
    ok = runner.invoke(evidence_app, ["partner", "submit", "cm1", str(pack)])
    assert ok.exit_code == 0 and "VERIFIED" in ok.output
    pack.write_bytes(make_pack(tmp_path, Signer.generate(ORIGIN), "other.zip"))
    failed = runner.invoke(evidence_app, ["partner", "submit", "cm1", str(pack)])
    assert failed.exit_code == 2 and "FAILED" in failed.output
    cards = json.loads(runner.invoke(evidence_app, ["partner", "scorecard", "cm1", "--json"]).stdout)
    assert cards[0]["packs"] == 2 and len(cards[0]["failures"]) == 1
