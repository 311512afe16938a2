"""Managing the watchlist in the pages and the API: who may read, add, change and retire entries
(organisation-wide entries: adding at one site, changing at every site), validation, CSRF, the
audit trail, the hits list, and that a retired entry stops matching."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from linewatch.core import accounts
from linewatch.core.models import AuditEntry, Organisation, Person, Site
from linewatch.workforce import visits
from linewatch.workforce.models import WatchlistEntry

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def _csrf(browser: Client, url: str) -> str:
    browser.get(url)
    return browser.cookies["csrftoken"].value


def _table(response) -> str:
    page = response.content.decode()
    return page[page.index('id="watchlist"'):]


def _api(client: Client, user, method: str, url: str, body: dict | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {accounts.create_token(user, 'test')}"}
    if method == "GET":
        return client.get(url, **headers)
    return client.generic(method, url, data=json.dumps(body or {}), content_type="application/json", **headers)


@pytest.fixture
def entry(alpha_beta) -> WatchlistEntry:
    return WatchlistEntry.objects.create(organisation=Organisation.objects.get(slug="testco"), name="Jörg Schäfer",
                                         aliases="Joerg Schaefer", reason="trespass at the tank farm", added_by="x")


@pytest.fixture
def lead_everywhere(role_users):
    """A site security lead of both sites of the organisation."""
    return accounts.create_user("lead-both", PASSWORD, "site_security_lead", sites=["alpha", "beta"])


def _register(name: str, site: str = "alpha"):
    return visits.register(Site.objects.get(slug=site), name=name, host=Person.objects.get(key="p-anna"),
                           purpose="x", expected_start=timezone.now(),
                           expected_end=timezone.now() + dt.timedelta(hours=2))


def test_adding_through_the_page_needs_csrf_is_listed_and_audited(role_users):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(role_users["lead"])  # alpha only: adding only makes reception stricter
    form = {"name": "Mallory Eve", "aliases": "M. Eve\nmallory  eve\nEve Mallory", "company": "Shady GmbH",
            "reason": "photographed the tank farm", "banned": "on"}
    assert browser.post("/watchlist/new/", form).status_code == 403  # no CSRF token
    form["csrfmiddlewaretoken"] = _csrf(browser, "/watchlist/new/")
    response = browser.post("/watchlist/new/", form)
    assert response.status_code == 302 and response["Location"] == "/watchlist/"
    added = WatchlistEntry.objects.get(name="Mallory Eve")
    assert added.banned and added.active and added.added_by == "lead" and added.company == "Shady GmbH"
    assert added.aliases.splitlines() == ["M. Eve", "Eve Mallory"]  # the name's own spelling is no alias twice
    page = browser.get("/watchlist/").content.decode()
    assert "Mallory Eve" in page and "photographed the tank farm" in page and "banned" in page
    trail = AuditEntry.objects.get(object_type="workforce.watchlistentry", object_id=str(added.pk))
    assert trail.action == "create" and trail.actor_name == "lead" and trail.via == "web"
    assert trail.after["reason"] == "photographed the tank farm"


def test_the_page_refuses_bad_input_with_the_reason(role_users, entry):
    browser = Client()
    browser.force_login(role_users["admin"])
    missing = browser.post("/watchlist/new/", {"name": "  ", "reason": ""})
    assert missing.status_code == 400
    text = missing.content.decode()
    assert "the name is missing" in text and "the reason is missing" in text
    twin = browser.post("/watchlist/new/", {"name": "JORG  schafer", "reason": "again"})
    assert twin.status_code == 400 and "already on the watchlist" in twin.content.decode()
    assert WatchlistEntry.objects.count() == 1


def test_changing_and_retiring_need_every_site_of_the_organisation(client, role_users, entry, lead_everywhere):
    url = f"/watchlist/{entry.pk}/"
    client.force_login(role_users["lead"])  # alpha only, beta is the same organisation
    page = client.get(url).content.decode()
    assert "trespass at the tank farm" in page and "needs people rights at every site" in page
    assert client.post(url, {"action": "retire"}).status_code == 403
    assert _api(client, role_users["lead"], "PATCH", f"/api/v1/workforce/watchlist/{entry.pk}",
                {"active": False}).status_code == 403
    assert WatchlistEntry.objects.get(pk=entry.pk).active

    client.force_login(lead_everywhere)
    saved = client.post(url, {"action": "save", "name": "Jörg Schäfer", "aliases": "Joerg Schaefer\nJ. Schaefer",
                              "reason": "trespass, twice", "company": ""})
    assert saved.status_code == 302
    assert WatchlistEntry.objects.get(pk=entry.pk).reason == "trespass, twice"
    bad = client.post(url, {"action": "save", "name": "Jörg Schäfer", "reason": ""})
    assert bad.status_code == 400 and "the reason is missing" in bad.content.decode()
    assert client.post(url, {"action": "retire"}).status_code == 302
    entry.refresh_from_db()
    assert not entry.active
    assert "Jörg Schäfer" not in _table(client.get("/watchlist/"))
    assert "Jörg Schäfer" in _table(client.get("/watchlist/?retired=1"))
    assert _register("Jorg Schafer").watchlist_hits == []  # a retired entry no longer matches
    changes = AuditEntry.objects.filter(object_type="workforce.watchlistentry", object_id=str(entry.pk),
                                        action="update").order_by("pk")
    assert [(c.actor_name, c.before["active"], c.after["active"]) for c in changes] == [
        ("lead-both", True, True), ("lead-both", True, False)]
    back = _api(client, lead_everywhere, "PATCH", f"/api/v1/workforce/watchlist/{entry.pk}", {"active": True})
    assert back.status_code == 200 and back.json()["active"] is True
    assert AuditEntry.objects.filter(object_id=str(entry.pk), via="api token", actor_name="lead-both").exists()
    assert [h["name"] for h in _register("Jorg Schafer").watchlist_hits] == ["Jörg Schäfer"]


@pytest.mark.parametrize(("username", "read", "add"), [
    ("admin", 200, 200), ("lead", 200, 200), ("analyst", 200, 403), ("auditor", 200, 403),
    ("engineer", 403, 403), ("guard", 403, 403), ("sensor", 403, 403), ("plant-node", 403, 403),
])
def test_who_may_read_and_add(client, role_users, entry, username, read, add):
    user = role_users[username]
    client.force_login(user)
    for url in ("/watchlist/", f"/watchlist/{entry.pk}/", "/watchlist/hits/"):
        assert client.get(url).status_code == read, url
    assert client.get("/watchlist/new/").status_code == add
    assert _api(client, user, "GET", "/api/v1/workforce/watchlist").status_code == read
    assert _api(client, user, "GET", "/api/v1/workforce/watchlist/hits").status_code == read
    made = _api(client, user, "POST", "/api/v1/workforce/watchlist", {"name": f"New {username}", "reason": "r"})
    assert made.status_code == (201 if add == 200 else 403)
    changed = _api(client, user, "PATCH", f"/api/v1/workforce/watchlist/{entry.pk}", {"banned": True})
    assert changed.status_code == {"admin": 200}.get(username, 403)
    assert WatchlistEntry.objects.get(pk=entry.pk).banned is (username == "admin")


def test_another_organisations_watchlist_is_not_found(client, role_users, entry):
    other = Organisation.objects.create(slug="otherco", name="Other Co")
    Site.objects.create(organisation=other, slug="gamma", name="Gamma", timezone="Europe/Berlin")
    theirs = WatchlistEntry.objects.create(organisation=other, name="Gamma Ghost", reason="their case")
    lead = role_users["lead"]
    client.force_login(lead)
    assert client.get(f"/watchlist/{theirs.pk}/").status_code == 404
    assert "Gamma Ghost" not in client.get("/watchlist/").content.decode()
    assert _api(client, lead, "GET", f"/api/v1/workforce/watchlist/{theirs.pk}").status_code == 404
    assert _api(client, lead, "PATCH", f"/api/v1/workforce/watchlist/{theirs.pk}", {"active": False}).status_code == 404
    assert [e["name"] for e in _api(client, lead, "GET", "/api/v1/workforce/watchlist").json()] == ["Jörg Schäfer"]
    foreign = _api(client, lead, "POST", "/api/v1/workforce/watchlist",
                   {"name": "Planted Name", "reason": "r", "organisation": "otherco"})
    assert foreign.status_code == 400 and "may not add entries for 'otherco'" in foreign.json()["detail"]
    admin = role_users["admin"]  # acts for both organisations: must name one
    unnamed = _api(client, admin, "POST", "/api/v1/workforce/watchlist", {"name": "Who Knows", "reason": "r"})
    assert unnamed.status_code == 400 and "otherco" in unnamed.json()["detail"]
    named = _api(client, admin, "POST", "/api/v1/workforce/watchlist",
                 {"name": "Who Knows", "reason": "r", "organisation": "otherco"})
    assert named.status_code == 201 and named.json()["organisation"] == "otherco"
    assert not WatchlistEntry.objects.filter(name="Planted Name").exists()


def test_the_api_validates_and_keeps_unset_fields(client, role_users, entry, lead_everywhere):
    url = f"/api/v1/workforce/watchlist/{entry.pk}"
    bad = _api(client, lead_everywhere, "PATCH", url, {"reason": "  ", "name": "x" * 201})
    assert bad.status_code == 400
    assert "name is longer than 200" in bad.json()["detail"] and "reason is missing" in bad.json()["detail"]
    ok = _api(client, lead_everywhere, "PATCH", url, {"aliases": ["Joerg Schaefer", "joerg schaefer", "J S"]})
    assert ok.status_code == 200
    assert ok.json() | {"id": 0} == {"id": 0, "organisation": "testco", "site": "", "name": "Jörg Schäfer",
                                     "aliases": ["Joerg Schaefer", "J S"], "company": "",
                                     "reason": "trespass at the tank farm", "source": "", "expires_on": None,
                                     "expired": False, "banned": False, "active": True, "added_by": "x"}
    got = _api(client, role_users["auditor"], "GET", url).json()
    assert got["aliases"] == ["Joerg Schaefer", "J S"]
    retired = _api(client, lead_everywhere, "GET", "/api/v1/workforce/watchlist?active=false").json()
    assert retired == []


def test_hits_show_registrations_and_sign_ins_with_their_score(client, role_users, entry):
    flagged = _register("Jorg Schafer")
    _register("Vera Gast")
    elsewhere = _register("Joerg Schaefer", site="beta")
    client.force_login(role_users["lead"])  # alpha only
    page = client.get("/watchlist/hits/").content.decode()
    assert flagged.code in page and "Jorg Schafer" in page and "100.0%" in page
    assert elsewhere.code not in page  # beta's visit is not the alpha lead's to see
    assert "Vera Gast" not in page
    detail = client.get(f"/watchlist/{entry.pk}/").content.decode()
    assert flagged.code in detail and elsewhere.code not in detail
    listing = client.get("/watchlist/").content.decode()
    row = listing[listing.index("Jörg Schäfer"):]
    assert "<td>1</td>" in row[:row.index("</tr>")]  # one hit at the lead's sites
    client.force_login(role_users["auditor"])  # every site
    assert elsewhere.code in client.get("/watchlist/hits/").content.decode()
