"""Patrol pages: what a guard and a supervisor see, the report form, photos and the QR sheet."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

from linewatch.patrols import services
from linewatch.patrols.engine import qrtoken
from linewatch.patrols.models import IncidentReport, PatrolException
from linewatch.patrols.synthetic import jpeg, scene
from tests.patrols.matrix import PHOTO_UIDS, RUN_UIDS, record_matrix_patrols


def test_guard_page_lists_only_tours_at_the_guards_sites(client, tours):
    client.force_login(tours["guard"])
    page = client.get("/patrol/").content.decode()
    data = json.loads(re.search(r'<script id="patrol-tours" type="application/json">(.*?)</script>', page, re.S)[1])
    assert [(t["site"], t["tour"]) for t in data] == [("alpha", "night")]
    assert [s["code"] for s in data[0]["stops"]] == ["gate", "hall", "yard"]
    assert "/static/patrols/queue.js" in page and "/api/v1/patrols/sync" in page
    assert "sdm_meta_key" not in page and "00000000000000000000000000000000" not in page


def test_nfc_landing_hands_the_tap_url_to_the_page(client, tours):
    client.force_login(tours["guard"])
    url = "/patrol/nfc/alpha/hall/?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086"
    page = client.get(url).content.decode()
    nfc = json.loads(re.search(r'<script id="patrol-nfc" type="application/json">(.*?)</script>', page, re.S)[1])
    assert nfc["code"] == "hall" and nfc["url"].endswith(url)
    assert client.get("/patrol/nfc/beta/hall/?e=00&c=00").status_code == 404


def test_service_worker_is_served_for_the_patrol_scope(client, tours):
    client.force_login(tours["guard"])
    response = client.get("/patrol/sw.js")
    assert response["Content-Type"] == "application/javascript"
    assert response["Service-Worker-Allowed"] == "/patrol/" and b"caches.open" in response.content


def test_report_form_files_a_report_with_photos_and_names_bad_fields(client, tours):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(tours["guard"])
    assert client.get("/patrol/report/").status_code == 200
    fields = {"site": "alpha", "category": "intrusion", "severity": "high", "what": "Cut in the fence by the tanks",
              "where": "Tank yard, north fence", "when": "2026-03-10T23:40", "who": "none seen",
              "actions": "Called the shift lead", "id": str(uuid.uuid4())}
    photo = SimpleUploadedFile("fence.jpg", jpeg(scene(11)), content_type="image/jpeg")
    response = client.post("/patrol/report/", {**fields, "photos": photo})
    assert response.status_code == 302
    report = IncidentReport.objects.get()
    assert report.occurred == dt.datetime(2026, 3, 10, 22, 40, tzinfo=dt.UTC)  # Europe/Berlin wall time
    assert report.photos.count() == 1 and report.guard == tours["guard"]
    bad = client.post("/patrol/report/", {**fields, "id": str(uuid.uuid4()), "what": ""})
    assert bad.status_code == 400 and "report:what: required" in bad.content.decode()
    elsewhere = client.post("/patrol/report/", {**fields, "id": str(uuid.uuid4()), "site": "beta"})
    assert elsewhere.status_code == 400 and IncidentReport.objects.count() == 1


def test_supervisor_sees_runs_completion_exceptions_and_photos(client, tours):
    record_matrix_patrols()
    run = services.PatrolRun.objects.get(uid=RUN_UIDS["alpha"])
    services.analyse_run(run, finish=True)
    client.force_login(tours["lead"])
    page = client.get("/patrols/").content.decode()
    assert "Missed checkpoint" in page and "guard-alpha" in page and "guard-beta" not in page
    assert PatrolException.objects.filter(run=run, kind="missed").count() == 2
    detail = client.get(f"/patrols/runs/{RUN_UIDS['alpha']}/").content.decode()
    assert "Hall 1 east door" in detail and "not scanned" in detail and "33 %" in detail
    photo = client.get(f"/patrols/photos/{PHOTO_UIDS['alpha']}/")
    assert photo["Content-Type"] == "image/jpeg" and photo.content == jpeg(scene(9000))
    assert client.get(f"/patrols/photos/{PHOTO_UIDS['beta']}/").status_code == 404
    client.force_login(tours["guard"])
    assert client.get("/patrols/").status_code == 403


def test_qr_sheet_prints_signed_codes_that_verify(client, tours):
    client.force_login(tours["lead"])
    page = client.get("/patrols/sheet/alpha/night/").content.decode()
    assert page.count("<svg") >= 1 and "Not on this sheet" in page and "Hall 1 east door" in page
    typed = re.findall(r'<span class="mono">(gate [A-Z2-7]{8})</span>', page)
    assert typed and qrtoken.verify_typed(services.qr_key(), "alpha", typed[0]) == "gate"
    client.force_login(tours["guard"])
    assert client.get("/patrols/sheet/alpha/night/").status_code == 403


def test_sync_api_needs_the_csrf_token_from_a_browser_session_and_is_idempotent(tours):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(tours["guard"])
    run_id = str(uuid.uuid4())
    body = json.dumps({"items": [{"type": "run", "id": run_id, "site": "alpha", "tour": "night",
                                  "at": "2026-03-10T22:00:00+01:00"}]})
    assert browser.post("/api/v1/patrols/sync", body, content_type="application/json").status_code == 403
    browser.get("/patrol/")
    token = browser.cookies["csrftoken"].value
    first = browser.post("/api/v1/patrols/sync", body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    again = browser.post("/api/v1/patrols/sync", body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert first.json()["accepted"] == 1 and again.json()["duplicate"] == 1
    broken = browser.post("/api/v1/patrols/sync", "{nope", content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert broken.status_code in (400, 422) and "invalid JSON" in broken.content.decode()


def test_tours_and_runs_over_the_api(client, tours):
    from linewatch.core import accounts

    record_matrix_patrols()
    guard = {"HTTP_AUTHORIZATION": f"Bearer {accounts.create_token(tours['guard'], 't')}"}
    listed = client.get("/api/v1/patrols/sites/alpha/tours", **guard).json()
    assert listed[0]["tour"] == "night" and "sdm_file_key" not in json.dumps(listed)
    assert client.get("/api/v1/patrols/sites/beta/tours", **guard).status_code == 404
    auditor = {"HTTP_AUTHORIZATION": f"Bearer {accounts.create_token(tours['auditor'], 't')}"}
    runs = client.get("/api/v1/patrols/runs?site=alpha", **auditor).json()
    assert [r["uid"] for r in runs] == [str(RUN_UIDS["alpha"])] and runs[0]["guard"] == "guard-alpha"
