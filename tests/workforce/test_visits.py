"""The visitor flow: pre-registration, kiosk check-in (refused without ID check and the NDA and
safety acknowledgements), host notification through the outbox, the badge PDF with its QR code,
escort assignment, check-out, automatic expiry, and the pages with their authorisation and CSRF."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from linewatch.core.models import Area, Person, Site, SiteAffiliation
from linewatch.errors import InputError
from linewatch.response.models import ContactPath, Notification
from linewatch.workforce import services, visits
from linewatch.workforce.models import Authorisation, Credential, Visit

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
ACK = {"id_document": "passport", "id_last_digits": "4711", "id_seen": True, "nda": True, "safety": True}


@pytest.fixture
def planned(alpha_beta) -> Visit:
    alpha = Site.objects.get(slug="alpha")
    anna = Person.objects.get(key="p-anna")
    ContactPath.objects.create(person=anna, priority=1, url="json://localhost:9/anna")
    return visits.register(alpha, name="Vera Gast", company="Acme Audit", host=anna, purpose="supplier audit",
                           expected_start=NOW, expected_end=NOW + dt.timedelta(hours=6), escort_required=True,
                           areas=Area.objects.filter(site=alpha, slug="hall-1"), by="reception", now=NOW)


def test_registration_creates_a_visitor_sponsored_by_the_host(planned):
    assert planned.status == "expected" and planned.code and planned.company == "Acme Audit"
    aff = SiteAffiliation.objects.get(person=planned.visitor, site=planned.site)
    assert aff.kind == "visitor" and aff.sponsor.key == "p-anna" and aff.valid_to == dt.date(2026, 11, 20)
    assert [a.slug for a in planned.areas.all()] == ["hall-1"]
    assert not Authorisation.objects.filter(person=planned.visitor).exists()  # access starts at check-in
    again = visits.register(planned.site, name="vera gast", host=planned.host, purpose="follow-up",
                            expected_start=NOW + dt.timedelta(days=1), expected_end=NOW + dt.timedelta(days=1, hours=2),
                            now=NOW)
    assert again.visitor == planned.visitor  # a returning visitor is the same person


def test_registration_refuses_bad_input(alpha_beta):
    alpha, anna = Site.objects.get(slug="alpha"), Person.objects.get(key="p-anna")
    with pytest.raises(InputError, match="name is missing.*purpose is missing.*end must be after"):
        visits.register(alpha, name=" ", host=anna, purpose="", expected_start=NOW + dt.timedelta(hours=2),
                        expected_end=NOW + dt.timedelta(hours=1), now=NOW)
    dock = Area.objects.create(site=Site.objects.get(slug="beta"), slug="dock", name="Dock")
    with pytest.raises(InputError, match="not at this site"):
        visits.register(alpha, name="X", host=anna, purpose="y", expected_start=NOW,
                        expected_end=NOW + dt.timedelta(hours=1), areas=[dock], now=NOW)


@pytest.mark.parametrize("missing", ["id_seen", "nda", "safety"])
def test_check_in_is_refused_without_each_acknowledgement(planned, missing):
    with pytest.raises(InputError, match="must"):
        visits.check_in(planned, **{**ACK, missing: False}, by="kiosk", now=NOW)
    planned.refresh_from_db()
    assert planned.status == "expected" and planned.checked_in_at is None and planned.badge is None
    assert not Notification.objects.exists()


def test_check_in_needs_the_id_document(planned):
    with pytest.raises(InputError, match="kind of ID.*last 2"):
        visits.check_in(planned, **{**ACK, "id_document": "", "id_last_digits": "x"}, by="kiosk", now=NOW)


def test_check_in_keeps_the_acknowledgements_issues_access_and_tells_the_host(planned):
    at = NOW + dt.timedelta(minutes=5)
    visits.check_in(planned, **ACK, by="kiosk", now=at)
    planned.refresh_from_db()
    assert planned.status == "on_site" and planned.checked_in_at == at and planned.checked_in_by == "kiosk"
    assert planned.nda_accepted_at == at and planned.safety_accepted_at == at
    assert planned.id_document == "passport" and planned.id_last_digits == "4711"
    assert planned.badge.identifier == planned.code and planned.badge.valid_to == planned.expected_end
    grant = Authorisation.objects.get(person=planned.visitor)
    assert grant.area.slug == "hall-1" and grant.granted_by.key == "p-anna" and grant.valid_to == planned.expected_end
    note = Notification.objects.get(person__key="p-anna")
    assert "Vera Gast has arrived" in note.subject and "escort" in note.body and planned.host_notified_at == at
    with pytest.raises(InputError, match="not expected"):
        visits.check_in(planned, **ACK, by="kiosk", now=at)  # twice


def test_escort_assignment_and_check_out_end_access(planned):
    visits.check_in(planned, **ACK, by="kiosk", now=NOW)
    tom = Person.objects.get(key="p-tom")
    visits.assign_escort(planned, tom, "reception", now=NOW)
    assert Visit.objects.get(pk=planned.pk).escort == tom
    with pytest.raises(InputError, match="cannot escort themself"):
        visits.assign_escort(planned, planned.visitor, "reception")
    out = NOW + dt.timedelta(hours=2)
    visits.check_out(planned, "reception", now=out)
    planned.refresh_from_db()
    assert planned.status == "left" and planned.checked_out_at == out
    assert Credential.objects.get(pk=planned.badge_id).status == "revoked"
    assert Authorisation.objects.get(person=planned.visitor).revoked_at == out
    with pytest.raises(InputError, match="not checked in"):
        visits.check_out(planned, "reception", now=out)


def test_expiry_ends_no_shows_and_overstays(planned):
    other = visits.register(planned.site, name="Otto Kunde", host=planned.host, purpose="sales",
                            expected_start=NOW, expected_end=NOW + dt.timedelta(hours=1), now=NOW)
    visits.check_in(planned, **ACK, by="kiosk", now=NOW)
    Notification.objects.all().delete()
    assert visits.expire_due(NOW + dt.timedelta(minutes=30)) == []  # nobody past their end yet
    # 6 h 10 min: Otto never came (expired); Vera is inside the 30-minute overstay grace
    assert [v.pk for v in visits.expire_due(NOW + dt.timedelta(hours=6, minutes=10))] == [other.pk]
    assert Visit.objects.get(pk=other.pk).status == "expired"
    assert Visit.objects.get(pk=planned.pk).status == "on_site"
    later = NOW + dt.timedelta(hours=7)
    services.tick(later)  # the worker's periodic task
    planned.refresh_from_db()
    assert planned.status == "expired" and planned.expired_at == later and planned.checked_out_at is None
    assert Credential.objects.get(pk=planned.badge_id).status == "revoked"
    assert Authorisation.objects.get(person=planned.visitor).revoked_at == later
    assert "has not checked out" in Notification.objects.get(person__key="p-anna").subject
    issues = services.access_issues(Site.objects.all(), now=later)
    assert [i.person.name for i in issues if i.kind == "overstay"] == ["Vera Gast"]
    assert visits.expire_due(later + dt.timedelta(hours=1)) == []  # once
    visits.check_out(planned, "guard", now=later + dt.timedelta(minutes=20))  # found and signed out
    assert Visit.objects.get(pk=planned.pk).status == "left"


def _pdf_text(pdf: bytes) -> str:
    """The page content streams of a PDF, inflated."""
    import re
    import zlib

    found = []
    for stream in re.findall(rb"stream\n(.*?)\nendstream", pdf, re.S):
        try:
            found.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            continue
    return "\n".join(found)


def test_badge_pdf_carries_the_name_host_escort_mark_and_a_qr_code(planned):
    import segno

    pdf = visits.badge_pdf(planned)
    assert pdf.startswith(b"%PDF-") and b"/Subtype /Image" in pdf
    text = _pdf_text(pdf)
    for part in ("Vera Gast", "Acme Audit", "Host: Anna Berg", "ESCORT REQUIRED", "Production hall 1", planned.code):
        assert part in text, part
    # the image is the QR code of the visit's URL: its pixel size is the symbol's at scale 6 with a 1-module border
    size = (segno.make(visits.visit_url(planned), error="m").symbol_size(scale=6, border=1))[0]
    assert f"/Width {size}".encode() in pdf and f"/Height {size}".encode() in pdf


# ---------------------------------------------------------------------- pages


def _csrf(browser: Client, url: str) -> str:
    browser.get(url)
    return browser.cookies["csrftoken"].value


def test_register_check_in_and_out_through_the_pages_with_csrf(role_users):
    ContactPath.objects.create(person=Person.objects.get(key="p-anna"), priority=1, url="json://localhost:9/a")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(role_users["lead"])
    start = timezone.localtime(timezone.now(), timezone=dt.timezone(dt.timedelta(hours=1)))
    form = {"name": "Kiosk Kim", "company": "Acme", "host": "p-anna", "purpose": "training",
            "expected_start": (start - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
            "expected_end": (start + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            "escort_required": "on", "areas": ["hall-1"]}
    assert browser.post("/visits/alpha/new/", form).status_code == 403  # no CSRF token
    form["csrfmiddlewaretoken"] = _csrf(browser, "/visits/alpha/new/")
    response = browser.post("/visits/alpha/new/", form)
    assert response.status_code == 302, response.content.decode()[-800:]
    visit = Visit.objects.get(visitor__name="Kiosk Kim")
    assert "Kiosk Kim" in browser.get("/visits/alpha/kiosk/").content.decode()
    url = f"/visits/v/{visit.code}/check-in/"
    token = _csrf(browser, url)
    refused = browser.post(url, {"csrfmiddlewaretoken": token, "id_document": "passport", "id_last_digits": "99",
                                 "id_seen": "on", "nda": "on"})
    assert refused.status_code == 400 and "safety rules" in refused.content.decode()
    assert Visit.objects.get(pk=visit.pk).status == "expected"
    done = browser.post(url, {"csrfmiddlewaretoken": token, "id_document": "passport", "id_last_digits": "99",
                              "id_seen": "on", "nda": "on", "safety": "on"})
    assert done.status_code == 302
    page = browser.get(f"/visits/v/{visit.code}/").content.decode()
    assert "On site" in page and "NDA accepted" in page and "the host has been told" in page
    badge = browser.get(f"/visits/v/{visit.code}/badge.pdf")
    assert badge["Content-Type"] == "application/pdf" and badge.content.startswith(b"%PDF-")
    token = _csrf(browser, f"/visits/v/{visit.code}/")
    browser.post(f"/visits/v/{visit.code}/", {"csrfmiddlewaretoken": token, "action": "escort", "escort": "p-tom"})
    assert Visit.objects.get(pk=visit.pk).escort.key == "p-tom"
    browser.post(f"/visits/v/{visit.code}/", {"csrfmiddlewaretoken": token, "action": "check_out"})
    assert Visit.objects.get(pk=visit.pk).status == "left"


def test_readers_may_not_change_visits_and_other_sites_are_hidden(client, role_users, planned):
    client.force_login(role_users["auditor"])
    assert client.get(f"/visits/v/{planned.code}/").status_code == 200
    assert client.post(f"/visits/v/{planned.code}/", {"action": "cancel"}).status_code == 403
    assert client.get(f"/visits/v/{planned.code}/check-in/").status_code == 403
    beta = Site.objects.get(slug="beta")
    elsewhere = visits.register(beta, name="Beta Guest", host=Person.objects.get(key="p-anna"), purpose="x",
                                expected_start=timezone.now(), expected_end=timezone.now() + dt.timedelta(hours=1))
    client.force_login(role_users["lead"])  # alpha only
    assert client.get(f"/visits/v/{elsewhere.code}/").status_code == 404
    assert client.get("/visits/beta/kiosk/").status_code == 404
    assert "Beta Guest" not in client.get("/visits/").content.decode()


# ---------------------------------------------------------------------- watchlist


def test_watchlist_match_at_registration_flags_the_visit_and_the_pipeline_alerts(alpha_beta):
    import msgspec

    from linewatch.events.models import StoredEvent
    from linewatch.events.schema import Event, EventClass
    from linewatch.workforce.detector import WorkforcePipelineDetector
    from linewatch.workforce.models import WatchlistEntry

    alpha, anna = Site.objects.get(slug="alpha"), Person.objects.get(key="p-anna")
    WatchlistEntry.objects.create(organisation=alpha.organisation, name="Jörg Schäfer", aliases="Joerg Schaefer",
                                  reason="trespass at the tank farm 2025")
    flagged = visits.register(alpha, name="Jorg Schafer", host=anna, purpose="sales", expected_start=NOW,
                              expected_end=NOW + dt.timedelta(hours=2), now=NOW)
    clean = visits.register(alpha, name="Vera Gast", host=anna, purpose="audit", expected_start=NOW,
                            expected_end=NOW + dt.timedelta(hours=2), now=NOW)
    assert [h["name"] for h in flagged.watchlist_hits] == ["Jörg Schäfer"] and clean.watchlist_hits == []
    bodies = StoredEvent.objects.filter(class_uid=EventClass.VISITOR_ACTIVITY).values_list("body", flat=True)
    events = [msgspec.convert(b, Event) for b in bodies]
    assert len(events) == 2
    alerts = WorkforcePipelineDetector().detect(events)
    assert [a.rule_id for a in alerts] == ["lw-wf-watchlist-match"] and "trespass" in alerts[0].description
    visits.check_in(flagged, **ACK, by="kiosk", now=NOW)  # not banned: checked in, security alerted
    assert Visit.objects.get(pk=flagged.pk).status == "on_site"


def test_a_banned_visitor_is_refused_at_check_in(alpha_beta):
    from linewatch.workforce.models import WatchlistEntry

    alpha, anna = Site.objects.get(slug="alpha"), Person.objects.get(key="p-anna")
    entry = WatchlistEntry.objects.create(organisation=alpha.organisation, name="Max Verbot", reason="sabotage",
                                          banned=True)
    visit = visits.register(alpha, name="Max Verbott", host=anna, purpose="x", expected_start=NOW,
                            expected_end=NOW + dt.timedelta(hours=2), now=NOW)
    with pytest.raises(InputError, match="matches the watchlist .*security must clear"):
        visits.check_in(visit, **ACK, by="kiosk", now=NOW)
    entry.active = False
    entry.save()
    visits.check_in(visit, **ACK, by="kiosk", now=NOW)  # cleared by security


def test_zone_owners_reach_the_detections(alpha_beta):
    from linewatch.workforce.models import ZoneOwner

    area = Area.objects.get(site__slug="alpha", slug="control-room")
    ZoneOwner.objects.create(area=area, person=Person.objects.get(key="p-anna"))
    record = services.build_directory().areas[("alpha", "control-room")]
    assert record.owners == frozenset({"p-anna"}) and record.restricted

