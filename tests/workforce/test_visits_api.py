"""The visitor API for reception systems and kiosk apps: the whole flow with a bearer token, the same
refusals as the kiosk pages, per-site authorisation for each role, watchlist matches through the API,
the audit trail, and CSRF for browser sessions."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest
from django.test import Client
from django.utils import timezone

from linewatch.core import accounts
from linewatch.core.models import AuditEntry, Person, Site
from linewatch.events.models import StoredEvent
from linewatch.events.schema import EventClass, VisitorActivity
from linewatch.response.models import ContactPath
from linewatch.workforce import visits
from linewatch.workforce.models import Authorisation, Credential, Visit

pytestmark = pytest.mark.django_db
ACK = {"id_document": "passport", "id_last_digits": "4711", "id_seen": True, "nda": True, "safety": True}


def _api(client: Client, user, method: str, url: str, body: dict | None = None):
    token = accounts.create_token(user, "test")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if method == "GET":
        return client.get(url, **headers)
    return client.generic(method, url, data=json.dumps(body or {}), content_type="application/json",
                          **headers)


def _when(hours: float) -> str:
    return (timezone.now() + dt.timedelta(hours=hours)).isoformat()


def _registration(**extra) -> dict:
    return {"name": "Vera Gast", "company": "Acme Audit", "host": "p-anna", "purpose": "supplier audit",
            "expected_start": _when(-0.1), "expected_end": _when(4), "areas": ["hall-1"], **extra}


def test_the_whole_flow_through_the_api_is_audited(client, role_users):
    ContactPath.objects.create(person=Person.objects.get(key="p-anna"), priority=1, url="json://localhost:9/anna")
    lead = role_users["lead"]
    made = _api(client, lead, "POST", "/api/v1/workforce/sites/alpha/visits", _registration())
    assert made.status_code == 201, made.content
    visit = made.json()
    assert visit["status"] == "expected" and visit["host"] == "p-anna" and visit["areas"] == ["hall-1"]
    assert visit["registered_by"] == "lead" and visit["hold"] is False and visit["watchlist_hits"] == []
    code = visit["code"]
    desk = _api(client, lead, "GET", "/api/v1/workforce/sites/alpha/visits").json()
    assert [v["code"] for v in desk] == [code]  # the kiosk's list: expected today

    refused = _api(client, lead, "POST", f"/api/v1/workforce/visits/{code}/check-in", {**ACK, "nda": False,
                                                                                       "safety": False})
    assert refused.status_code == 400
    reason = refused.json()["errors"][0]["message"]
    assert "non-disclosure agreement" in reason and "safety rules" in reason
    assert Visit.objects.get(code=code).status == "expected"  # nothing happened

    inside = _api(client, lead, "POST", f"/api/v1/workforce/visits/{code}/check-in", ACK)
    assert inside.status_code == 200, inside.content
    body = inside.json()
    assert body["status"] == "on_site" and body["badge"] == code and body["checked_in_by"] == "lead"
    assert body["nda_accepted_at"] and body["safety_accepted_at"] and body["host_notified_at"]
    assert Authorisation.objects.get(person__key=body["visitor_key"]).area.slug == "hall-1"
    on_site = _api(client, lead, "GET", "/api/v1/workforce/sites/alpha/visits?status=on_site").json()
    assert [v["code"] for v in on_site] == [code]

    escorted = _api(client, lead, "POST", f"/api/v1/workforce/visits/{code}/escort", {"escort": "p-tom"})
    assert escorted.status_code == 200 and escorted.json()["escort"] == "p-tom"
    badge = _api(client, lead, "GET", f"/api/v1/workforce/visits/{code}/badge.pdf")
    assert badge.status_code == 200 and badge["Content-Type"] == "application/pdf"
    assert badge.content.startswith(b"%PDF-")
    gone = _api(client, lead, "POST", f"/api/v1/workforce/visits/{code}/check-out")
    assert gone.status_code == 200 and gone.json()["status"] == "left"
    assert Credential.objects.get(identifier=code).status == "revoked"
    again = _api(client, lead, "POST", f"/api/v1/workforce/visits/{code}/check-out")
    assert again.status_code == 400 and "not checked in" in again.json()["detail"]

    pk = str(Visit.objects.get(code=code).pk)
    trail = AuditEntry.objects.filter(object_type="workforce.visit", object_id=pk).order_by("pk")
    assert {e.actor_name for e in trail} == {"lead"} and {e.via for e in trail} == {"api token"}
    statuses = [e.after.get("status") for e in trail if e.after and "status" in e.after]
    assert statuses[0] == "expected" and statuses[-1] == "left" and "on_site" in statuses
    assert all(e.site_slug == "alpha" for e in trail)


def test_registration_refuses_bad_input_with_the_reason(client, role_users):
    lead = role_users["lead"]
    url = "/api/v1/workforce/sites/alpha/visits"
    bad = _api(client, lead, "POST", url, _registration(name=" ", purpose="", expected_start=_when(3),
                                                        expected_end=_when(2)))
    assert bad.status_code == 400
    assert "name is missing" in bad.json()["detail"] and "end must be after" in bad.json()["detail"]
    cases = {"host": ("p-nobody", "choose the host"), "areas": (["hall-9"], "no such area at alpha: hall-9"),
             "expected_end": ("tomorrow-ish", "not a date and time")}
    for field, (value, message) in cases.items():
        response = _api(client, lead, "POST", url, _registration(**{field: value}))
        assert response.status_code == 400 and message in response.json()["detail"], (field, response.content)
    missing = _api(client, lead, "POST", url, {"name": "No Host"})
    assert missing.status_code == 422  # the body's shape is wrong
    assert _api(client, lead, "GET", f"{url}?status=sleeping").status_code == 400
    assert not Visit.objects.exists()


def test_a_naive_time_is_the_sites_wall_clock(client, role_users):
    start = timezone.now().astimezone(dt.timezone(dt.timedelta(hours=1))) + dt.timedelta(days=1)
    body = _registration(expected_start=start.strftime("%Y-%m-%dT09:00"), expected_end=start.strftime("%Y-%m-%dT11:00"))
    made = _api(client, role_users["lead"], "POST", "/api/v1/workforce/sites/alpha/visits", body)
    assert made.status_code == 201
    visit = Visit.objects.get(code=made.json()["code"])
    berlin = visit.expected_start.astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))
    assert (berlin.hour, berlin.minute) == (9, 0)


@pytest.fixture
def beta_visit(role_users) -> Visit:
    beta = Site.objects.get(slug="beta")
    return visits.register(beta, name="Beta Guest", host=Person.objects.get(key="p-anna"), purpose="x",
                           expected_start=timezone.now(), expected_end=timezone.now() + dt.timedelta(hours=2))


def test_a_user_of_one_site_neither_sees_nor_acts_on_another_sites_visits(client, role_users, beta_visit):
    lead = role_users["lead"]  # alpha only
    code = beta_visit.code
    assert _api(client, lead, "GET", f"/api/v1/workforce/visits/{code}").status_code == 404
    assert _api(client, lead, "GET", f"/api/v1/workforce/visits/{code}/badge.pdf").status_code == 404
    assert _api(client, lead, "GET", "/api/v1/workforce/sites/beta/visits").status_code == 404
    for action, body in (("check-in", ACK), ("escort", {"escort": "p-tom"}), ("check-out", {}), ("cancel", {})):
        response = _api(client, lead, "POST", f"/api/v1/workforce/visits/{code}/{action}", body)
        assert response.status_code == 404, action
    made = _api(client, lead, "POST", "/api/v1/workforce/sites/beta/visits", _registration(areas=[]))
    assert made.status_code == 404
    assert Visit.objects.get(pk=beta_visit.pk).status == "expected"
    # the analyst sees every site but may not act; the admin may
    analyst = role_users["analyst"]
    assert _api(client, analyst, "GET", f"/api/v1/workforce/visits/{code}").json()["visitor"] == "Beta Guest"
    assert _api(client, analyst, "POST", f"/api/v1/workforce/visits/{code}/check-in", ACK).status_code == 403
    done = _api(client, role_users["admin"], "POST", f"/api/v1/workforce/visits/{code}/check-in", ACK)
    assert done.status_code == 200


@pytest.mark.parametrize(("username", "read", "act"), [
    ("admin", 200, 200), ("lead", 200, 200), ("analyst", 200, 403), ("auditor", 200, 403),
    ("engineer", 403, 403), ("guard", 403, 403), ("sensor", 403, 403),
])
def test_what_each_role_may_do_with_a_visit(client, role_users, username, read, act):
    visit = visits.register(Site.objects.get(slug="alpha"), name="Role Guest", host=Person.objects.get(key="p-anna"),
                            purpose="x", expected_start=timezone.now(),
                            expected_end=timezone.now() + dt.timedelta(hours=2))
    user = role_users[username]
    assert _api(client, user, "GET", f"/api/v1/workforce/visits/{visit.code}").status_code == read
    assert _api(client, user, "GET", "/api/v1/workforce/sites/alpha/visits").status_code == read
    response = _api(client, user, "POST", f"/api/v1/workforce/visits/{visit.code}/cancel")
    assert response.status_code == act
    assert Visit.objects.get(pk=visit.pk).status == ("cancelled" if act == 200 else "expected")


def test_a_watchlist_match_through_the_api_holds_and_a_banned_one_is_refused(client, role_users):
    admin, lead = role_users["admin"], role_users["lead"]
    listed = _api(client, admin, "POST", "/api/v1/workforce/watchlist",
                  {"name": "Jörg Schäfer", "aliases": ["Joerg Schaefer"], "reason": "trespass at the tank farm"})
    assert listed.status_code == 201
    made = _api(client, lead, "POST", "/api/v1/workforce/sites/alpha/visits", _registration(name="Schafer Jorg"))
    assert made.status_code == 201  # registered all the same, as on the page
    visit = made.json()
    assert visit["hold"] is True
    hit = visit["watchlist_hits"][0]
    assert hit["name"] == "Jörg Schäfer" and hit["entry"] == str(listed.json()["id"]) and hit["score"] >= 88
    assert hit["at"] == "registration" and hit["banned"] is False
    # not banned: the check-in goes through (security is alerted by the pipeline)
    assert _api(client, lead, "POST", f"/api/v1/workforce/visits/{visit['code']}/check-in", ACK).status_code == 200

    later = visits.register(Site.objects.get(slug="alpha"), name="Max Verbott", host=Person.objects.get(key="p-anna"),
                            purpose="x", expected_start=timezone.now(),
                            expected_end=timezone.now() + dt.timedelta(hours=2))
    assert later.watchlist_hits == []  # listed only after the registration…
    banned = _api(client, admin, "POST", "/api/v1/workforce/watchlist",
                  {"name": "Max Verbot", "reason": "sabotage", "banned": True})
    assert banned.status_code == 201 and banned.json()["banned"] is True
    refused = _api(client, lead, "POST", f"/api/v1/workforce/visits/{later.code}/check-in", ACK)  # …caught here
    assert refused.status_code == 400 and "matches the watchlist (Max Verbot: sabotage)" in refused.json()["detail"]
    later.refresh_from_db()
    assert later.status == "expected" and later.badge is None
    assert [(h["name"], h["at"]) for h in later.watchlist_hits] == [("Max Verbot", "check-in")]
    denied = StoredEvent.objects.filter(class_uid=EventClass.VISITOR_ACTIVITY, activity_id=VisitorActivity.DENIED)
    assert denied.count() == 1
    hits = _api(client, lead, "GET", "/api/v1/workforce/watchlist/hits").json()
    assert {(h["visitor"], h["name"], h["at"]) for h in hits} == {
        ("Schafer Jorg", "Jörg Schäfer", "registration"), ("Max Verbott", "Max Verbot", "check-in")}


def test_session_writes_need_the_csrf_token_and_tokens_do_not(role_users):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(role_users["lead"])
    url = "/api/v1/workforce/sites/alpha/visits"
    assert browser.post(url, _registration(), content_type="application/json").status_code == 403
    browser.get("/login/")
    accepted = browser.post(url, _registration(), content_type="application/json",
                            HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
    assert accepted.status_code == 201
    machine = Client(enforce_csrf_checks=True)  # a reception system with a bearer token: no CSRF
    assert _api(machine, role_users["lead"], "POST", url, _registration(name="Token Tim")).status_code == 201
    entries = AuditEntry.objects.filter(object_type="workforce.visit", action="create")
    assert {(e.actor_name, e.via) for e in entries} == {("lead", "api"), ("lead", "api token")}
