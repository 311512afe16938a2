"""The workforce pages: the person page with its offboard button (CSRF), roster, reviews, access."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from linewatch.core.models import Person, Site, SiteAffiliation
from linewatch.events.schema import Event, EventClass, PhysicalAccessActivity
from linewatch.events.store import store_events
from linewatch.workforce import services
from linewatch.workforce.models import Authorisation, Credential, PersonState


def test_person_page_shows_credentials_grants_orders_and_timeline(client, role_users):
    tom = Person.objects.get(key="p-tom")
    Credential.objects.create(person=tom, kind="badge", system="onguard", identifier="51000", issue_code=2)
    store_events([Event(uid="pg-1", time=int(timezone.now().timestamp() * 1000) - 60_000,
                        class_uid=EventClass.PHYSICAL_ACCESS, activity_id=PhysicalAccessActivity.GRANTED,
                        site="alpha", source="test", message="access granted: p-tom at hall-1-east",
                        attrs={"actor.user.name": "p-tom", "area.name": "hall-1"})])
    client.force_login(role_users["auditor"])
    page = client.get("/people/p-tom/").content.decode()
    for text in ("Tom Fix", "51000", "Production hall 1", "wo-100", "FREQ=WEEKLY", "access granted: p-tom"):
        assert text in page, text
    assert "Offboard" not in page  # the auditor may not change people


def test_offboard_button_needs_csrf_and_revokes_everything(role_users):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(role_users["admin"])
    page = browser.get("/people/p-tom/")
    assert 'href="/people/p-tom/offboard/"' in page.content.decode()
    assert browser.post("/people/p-tom/offboard/", {"reason": "x"}).status_code == 403  # no CSRF token
    confirm = browser.get("/people/p-tom/offboard/")
    token = confirm.cookies.get("csrftoken") or browser.cookies["csrftoken"]
    response = browser.post("/people/p-tom/offboard/", {"reason": "contract ended",
                                                        "csrfmiddlewaretoken": token.value})
    assert response.status_code == 302 and response["Location"] == "/people/p-tom/"
    assert PersonState.objects.get(person__key="p-tom").status == "offboarded"
    assert not Authorisation.objects.filter(person__key="p-tom", revoked_at__isnull=True).exists()
    report = browser.get("/people/p-tom/").content.decode()
    assert "Revocation reports" in report and "proven" in report and "contract ended" in report


def test_a_lead_of_one_site_cannot_offboard_someone_who_works_at_another(client, role_users):
    tom, anna = Person.objects.get(key="p-tom"), Person.objects.get(key="p-anna")
    SiteAffiliation.objects.create(person=tom, site=Site.objects.get(slug="beta"), kind="contractor", sponsor=anna,
                                   valid_to=dt.date(2027, 1, 1))
    client.force_login(role_users["lead"])  # site security lead at alpha only
    assert "may not change people at beta" in client.get("/people/p-tom/offboard/").content.decode()
    assert client.post("/people/p-tom/offboard/").status_code == 403
    assert not PersonState.objects.filter(person=tom).exists()


def test_roster_page_is_the_muster_list(client, role_users):
    now = int(timezone.now().timestamp() * 1000)
    store_events([Event(uid="ro-1", time=now - 3600_000, class_uid=EventClass.PHYSICAL_ACCESS,
                        activity_id=PhysicalAccessActivity.GRANTED, site="alpha", source="test",
                        attrs={"actor.user.name": "p-anna", "area.name": "control-room"})])
    client.force_login(role_users["guard"])
    page = client.get("/roster/alpha/").content.decode()
    assert "On site at Alpha plant: 1" in page and "Anna Berg" in page and "control-room" in page
    assert 'href="/people/' not in page  # guards see the list, not people's pages


def test_review_page_decides_with_csrf(role_users):
    campaign = services.open_campaign(Site.objects.get(slug="alpha"), "Q4", timezone.now() + dt.timedelta(days=7),
                                      "admin")
    item = campaign.items.get(person__key="p-tom")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(role_users["lead"])
    url = f"/reviews/alpha/{campaign.slug}/"
    page = browser.get(url)
    assert "Tom Fix" in page.content.decode()
    token = browser.cookies["csrftoken"].value
    assert browser.post(url, {"item": item.pk, "decision": "revoked"}).status_code == 403
    assert browser.post(url, {"item": item.pk, "decision": "revoked", "csrfmiddlewaretoken": token}).status_code == 302
    item.refresh_from_db()
    assert item.decision == "revoked" and item.authorisation.revoked_at is not None
    auditor = Client()
    auditor.force_login(role_users["auditor"])
    assert auditor.post(url, {"item": item.pk, "decision": "confirmed"}).status_code == 403


@pytest.mark.django_db
def test_access_page_lists_access_outliving_its_work_order(client, role_users):
    client.force_login(role_users["analyst"])
    page = client.get("/access/").content.decode()
    assert "outlives its work order" in page and "wo-100" in page


def test_company_page_lists_people_and_open_work_orders(client, role_users):
    client.force_login(role_users["lead"])
    page = client.get("/companies/fixit/").content.decode()
    assert "Fixit Automation GmbH" in page and "Tom Fix" in page
