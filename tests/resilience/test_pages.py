"""Crisis pages: declaring a drill from the UI, the crisis room with its live bars and exports, the
printable unaccounted list (HTML and PDF), the kiosk, runbook steps with a photo, and the public
answer page that needs no login but refuses a bad link with its reason."""

from __future__ import annotations

import io
import re

import pytest
from defusedxml import ElementTree as SafeET
from django.urls import reverse
from PIL import Image

from linewatch.core.models import Site
from linewatch.resilience import cap, services
from linewatch.resilience.models import Crisis, Runbook, RunbookRun, RunbookStep, StepCompletion
from linewatch.response.models import Notification

MATRIX_UIDS = {"alpha": "matrix-alpha", "beta": "matrix-beta"}
MATRIX_RUNBOOK = "matrix-runbook"


def record_matrix_crises() -> None:
    """One drill per test site with a roll call and a runbook run, under fixed uids (idempotent)."""
    for slug, uid in MATRIX_UIDS.items():
        if Crisis.objects.filter(uid=uid).exists():
            continue
        site = Site.objects.get(slug=slug)
        book, _ = Runbook.objects.get_or_create(site=site, slug=MATRIX_RUNBOOK, defaults={
            "title": "Matrix runbook", "scenario": "infrastructure"})
        RunbookStep.objects.get_or_create(runbook=book, order=1, defaults={"title": "Check", "owner": "duty",
                                                                          "due_minutes": 5})
        services.declare(title=f"Matrix drill {slug}", kind="infrastructure", sites=[site], by="matrix",
                         exercise=True, uid=uid)


@pytest.fixture
def crisis_pages(role_users, people):
    record_matrix_crises()
    return Crisis.objects.get(uid=MATRIX_UIDS["alpha"])


@pytest.mark.django_db
def test_a_lead_declares_a_drill_from_the_ui_only_at_their_sites(client, role_users, people):
    client.force_login(role_users["lead"])
    page = client.get(reverse("web:crises")).content.decode()
    assert 'value="alpha"' in page and 'value="beta"' not in page
    response = client.post(reverse("web:crises"), {"title": "Drill: grid failure", "kind": "infrastructure",
                                                    "sites": ["alpha", "beta"], "exercise": "on"})
    crisis = Crisis.objects.get(title="Drill: grid failure")
    assert response.status_code == 302 and response["Location"] == reverse("web:crisis", args=[crisis.uid])
    assert crisis.exercise and [s.slug for s in crisis.sites.all()] == ["alpha"]  # beta is not the lead's
    assert crisis.roll_calls.get().participants.count() == 3
    assert client.post(reverse("web:crises"), {"title": "x", "kind": "flood", "sites": ["alpha"]}).status_code == 400
    client.force_login(role_users["guard"])  # sees crises, may not declare
    assert "Declare a crisis" not in client.get(reverse("web:crises")).content.decode()
    assert client.post(reverse("web:crises"), {"title": "x", "kind": "cyber", "sites": ["alpha"]}).status_code == 400
    assert Crisis.objects.filter(title="x").count() == 0


@pytest.mark.django_db
def test_crisis_room_shows_board_bars_runbooks_and_exports(client, role_users, crisis_pages):
    crisis = crisis_pages
    rc = crisis.roll_calls.get()
    services.answer_at_kiosk(rc, rc.participants.order_by("person__name").first().code, "safe", "guard")
    client.force_login(role_users["lead"])
    url = reverse("web:crisis", args=[crisis.uid])
    assert client.post(url, {"action": "status", "site": "alpha", "state": "degraded", "capacity": "40",
                             "reason": "generator"}).status_code == 302
    assert client.post(url, {"action": "phase", "phase": "handling", "note": "on it"}).status_code == 302
    assert client.post(url, {"action": "status", "site": "alpha", "state": "degraded",
                             "capacity": "400"}).status_code == 400
    page = client.get(url).content.decode()
    assert "EXERCISE" in page and "state-degraded" in page and "40 %" in page and "Handling" in page
    assert re.search(r'class="bar-safe" style="width: 33\.3%"', page)  # 1 of the 3 people
    assert "Matrix runbook" in page and 'data-count="no_answer"' in page
    live = client.get(url + "?part=live").content.decode()
    assert "<html" not in live and "tallybar" in live
    xml = client.get(url + "?format=cap").content
    cap.validate_cap(xml)
    assert SafeET.fromstring(xml).find(f"{{{cap.CAP12}}}status").text == "Exercise"
    pdf = client.get(url + "?format=pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    client.force_login(role_users["guard"])  # may look, may not change
    assert client.get(url).status_code == 200
    assert client.post(url, {"action": "phase", "phase": "closed"}).status_code == 403


@pytest.mark.django_db
def test_unaccounted_list_prints_as_html_and_pdf(client, role_users, crisis_pages):
    client.force_login(role_users["lead"])
    url = reverse("web:crisis_unaccounted", args=[crisis_pages.uid, "alpha"])
    page = client.get(url).content.decode()
    assert "Anna Berg" in page and "Vera Visitor" in page and "@media print" in page
    pdf = client.get(url + "?format=pdf")
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 1000
    client.force_login(role_users["guard"])  # names need view_people
    assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_kiosk_records_an_answer_by_code(client, role_users, crisis_pages):
    rc = crisis_pages.roll_calls.get()
    anna = rc.participants.get(person__key="p-anna")
    client.force_login(role_users["guard"])
    url = reverse("web:crisis_kiosk", args=[crisis_pages.uid, "alpha"])
    page = client.post(url, {"code": anna.code, "answer": "safe"}).content.decode()
    assert "Thank you, Anna Berg" in page
    assert anna.answers.get().via == "kiosk (guard)"
    response = client.post(url, {"code": "0000", "answer": "safe"})
    assert response.status_code == 400 and "unknown code" in response.content.decode()


@pytest.mark.django_db
def test_runbook_step_completed_with_photo_and_printable(client, role_users, crisis_pages):
    client.force_login(role_users["lead"])
    run = RunbookRun.objects.get(crisis=crisis_pages)
    step = run.runbook.steps.get()
    url = reverse("web:crisis_runbook", args=[crisis_pages.uid, "alpha", MATRIX_RUNBOOK])
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 128, 0)).save(buf, "PNG")
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile("gen.png", buf.getvalue(), content_type="image/png")
    assert client.post(url, {"step": step.pk, "note": "generator on", "photo": photo}).status_code == 302
    done = StepCompletion.objects.get(run=run)
    assert done.by == "lead" and done.note == "generator on" and done.photo_type == "image/png"
    page = client.get(url).content.decode()
    assert "data:image/png;base64," in page and "generator on" in page
    assert client.post(url, {"step": step.pk}).status_code == 400  # already done
    client.force_login(role_users["guard"])
    assert client.get(url).status_code == 200 and client.post(url, {"step": step.pk}).status_code == 403


@pytest.mark.django_db
def test_the_answer_page_needs_no_login_and_refuses_bad_links(client, crisis_pages):
    body = Notification.objects.filter(person__key="p-vera").latest("id").body
    token = re.search(r"/r/([^/\s]+)/", body)[1]
    url = reverse("web:rollcall_answer", args=[token])
    page = client.get(url).content.decode()
    assert "Vera Visitor, are you safe?" in page and "EXERCISE" in page
    done = client.post(url, {"answer": "need_help", "text": "ankle"})
    assert done.status_code == 200 and "Recorded: Need help" in done.content.decode()
    replay = client.post(url, {"answer": "safe"})
    assert replay.status_code == 400 and "already used" in replay.content.decode()
    bad = client.get(reverse("web:rollcall_answer", args=["forged-token"]))
    assert bad.status_code == 200 and "cannot be used" in bad.content.decode()
    assert client.post(reverse("web:rollcall_answer", args=["forged-token"]), {"answer": "safe"}).status_code == 400


@pytest.mark.django_db
def test_other_sites_crises_are_not_found(client, role_users, crisis_pages):
    client.force_login(role_users["lead"])
    assert client.get(reverse("web:crisis", args=[MATRIX_UIDS["beta"]])).status_code == 404
    assert "Matrix drill beta" not in client.get(reverse("web:crises")).content.decode()


@pytest.mark.django_db
def test_a_multi_site_crisis_shows_a_site_lead_only_their_site(client, role_users, people):
    crisis = services.declare(title="Regional storm", kind="natural", sites=list(Site.objects.all()), by="analyst")
    client.force_login(role_users["lead"])  # alpha only
    url = reverse("web:crisis", args=[crisis.uid])
    page = client.get(url).content.decode()
    assert "Alpha" in page and "Beta" not in page
    xml = client.get(url + "?format=cap").content
    cap.validate_cap(xml)
    geocodes = [el.text for el in SafeET.fromstring(xml).iter(f"{{{cap.CAP12}}}value")]
    assert "alpha" in geocodes and "beta" not in geocodes
