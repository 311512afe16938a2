"""Watchlist entries with a site, a source and an expiry: where and until when they match (the
registration, the check-in and the pipeline's detection, which also alerts on a refused check-in),
who may see and change a plant's own entries, and how the pages and the API refuse bad input."""

from __future__ import annotations

import datetime as dt
import json

import msgspec
import pytest
from django.test import Client
from django.utils import timezone

from linewatch.core import accounts
from linewatch.core.models import AuditEntry, Organisation, Person, RoleAssignment, Site
from linewatch.errors import InputError
from linewatch.events.schema import Event, EventClass, VisitorActivity
from linewatch.workforce import visits
from linewatch.workforce.engine.detections import WorkforceDetector
from linewatch.workforce.engine.records import Directory, PersonRecord, SiteRecord
from linewatch.workforce.engine.watchlist import WatchlistRecord, in_force
from linewatch.workforce.models import Visit, WatchlistEntry

PASSWORD = "correct-horse-battery"
ACK = {"id_document": "passport", "id_last_digits": "4711", "id_seen": True, "nda": True, "safety": True}


def _ms(at: str) -> int:
    return int(dt.datetime.fromisoformat(at).timestamp() * 1000)


def _desk(at: str, name: str, activity: int, site: str = "kol") -> Event:
    return Event(uid=f"{site}-{at}-{activity}", time=_ms(at), class_uid=EventClass.VISITOR_ACTIVITY,
                 activity_id=activity, site=site, attrs={"user.name": name, "user.uid": "v-1"})


def _engine(*watch: WatchlistRecord) -> WorkforceDetector:
    return WorkforceDetector(Directory(people=[PersonRecord("v-1", "Visitor", kind="visitor")],
                                       sites=[SiteRecord("kol", "Europe/Berlin"), SiteRecord("ham", "Europe/Berlin")],
                                       watchlist=watch))


# ---------------------------------------------------------------------- the engine (no Django)


BANNED = WatchlistRecord("7", "Max Verbot", (), "", "sabotage", "critical", frozenset({"kol", "ham"}),
                         dt.date(2026, 3, 3))


def test_in_force_keeps_the_sites_entries_until_their_last_day():
    hold = WatchlistRecord("8", "Eve Hold", sites=frozenset({"ham"}))
    anywhere = WatchlistRecord("9", "Old Style")  # no sites: applies everywhere (records made before scopes)
    assert [e.id for e in in_force([BANNED, hold, anywhere], "kol", dt.date(2026, 3, 3))] == ["7", "9"]
    assert [e.id for e in in_force([BANNED, hold, anywhere], "ham", dt.date(2026, 3, 4))] == ["8", "9"]
    assert in_force([BANNED], "gamma", dt.date(2026, 3, 1)) == []  # another organisation's site


def test_a_refused_check_in_alerts_with_the_banned_entry_and_its_score():
    hold = WatchlistRecord("3", "Max Verbott", reason="loiters", sites=frozenset({"kol"}))  # scores 100, not banned
    found = _engine(BANNED, hold).process([_desk("2026-03-03T10:00:00+00:00", "Max Verbott", VisitorActivity.DENIED)])
    assert [(f.rule, f.level, f.why["at"], f.site, f.person) for f in found] == [
        ("wf-watchlist-match", "critical", "check-in refused", "kol", "v-1")]
    assert found[0].why["watchlist"].startswith("7: Max Verbot (") and "% alike" in found[0].why["watchlist"]
    assert found[0].why["reason"] == "sabotage" and found[0].why["others"] == 1
    assert "turned away" in found[0].why["rule"]
    # the same denial by someone on no list raises nothing
    assert not _engine(BANNED).process([_desk("2026-03-03T10:00:00+00:00", "Vera Gast", VisitorActivity.DENIED)])


def test_an_expired_entry_matches_nobody_from_the_next_local_day():
    # 23:30 in Berlin is still the last day; 00:30 the next day is not (the site's clock, not UTC)
    last = _engine(BANNED).process([_desk("2026-03-03T22:30:00+00:00", "Max Verbot", VisitorActivity.DENIED)])
    assert [f.why["at"] for f in last] == ["check-in refused"]
    for activity in (VisitorActivity.PRE_REGISTERED, VisitorActivity.CHECK_IN, VisitorActivity.DENIED):
        assert not _engine(BANNED).process([_desk("2026-03-03T23:30:00+00:00", "Max Verbot", activity)]), activity


def test_another_sites_entry_does_not_match():
    theirs = WatchlistRecord("5", "Eve Hold", reason="their trespass", sites=frozenset({"ham"}))
    assert not _engine(theirs).process([_desk("2026-03-03T10:00:00+00:00", "Eve Hold", VisitorActivity.CHECK_IN)])
    here = _engine(theirs).process([_desk("2026-03-03T10:00:00+00:00", "Eve Hold", VisitorActivity.CHECK_IN, "ham")])
    assert [(f.level, f.why["at"]) for f in here] == [("high", "sign-in")]


# ---------------------------------------------------------------------- registration, check-in, pipeline


def _visit(name: str, site: str = "alpha", start: dt.datetime | None = None) -> Visit:
    start = start or timezone.now()
    return visits.register(Site.objects.get(slug=site), name=name, host=Person.objects.get(key="p-anna"),
                           purpose="x", expected_start=start, expected_end=start + dt.timedelta(hours=2),
                           now=min(start, timezone.now()))


def _entry(name: str, site: str | None = None, **kw) -> WatchlistEntry:
    org = Organisation.objects.get(slug="testco")
    return WatchlistEntry.objects.create(organisation=org, site=Site.objects.get(slug=site) if site else None,
                                         name=name, reason=kw.pop("reason", "listed"), **kw)


def _events(after: int = 0) -> list[Event]:
    """The visitor desk's stored events (those after the first `after`), as the pipeline gets them."""
    from linewatch.events.models import StoredEvent

    bodies = StoredEvent.objects.filter(class_uid=EventClass.VISITOR_ACTIVITY).order_by("pk").values_list(
        "body", flat=True)
    return [msgspec.convert(b, Event) for b in bodies][after:]


def _alerts():
    from linewatch.workforce.detector import WorkforcePipelineDetector

    return WorkforcePipelineDetector().detect(_events())


@pytest.mark.django_db
def test_a_banned_visitor_refused_at_check_in_raises_an_alert(alpha_beta):
    from linewatch.workforce.detector import WorkforcePipelineDetector

    pipeline = WorkforcePipelineDetector()  # sees each event as it is stored
    visit = _visit("Max Verbott")  # registered before anyone listed him: no hit, no alert
    assert visit.watchlist_hits == [] and pipeline.detect(_events()) == []
    entry = _entry("Max Verbot", banned=True, reason="sabotage", source="police notice")
    with pytest.raises(InputError, match="matches the watchlist"):
        visits.check_in(visit, **ACK, by="kiosk")
    alerts = pipeline.detect(_events(after=1))
    assert [(a.rule_id, a.level) for a in alerts] == [("lw-wf-watchlist-match", "critical")]
    why = alerts[0].description
    assert "at: check-in refused" in why and f"watchlist: {entry.pk}: Max Verbot (" in why and "% alike" in why
    assert "sabotage" in why
    assert [e.activity_id for e in alerts[0].events] == [VisitorActivity.DENIED]


@pytest.mark.django_db
def test_an_expired_entry_neither_matches_nor_refuses_nor_alerts(alpha_beta):
    _entry("Max Verbot", banned=True, expires_on=timezone.now().date() - dt.timedelta(days=2))
    visit = _visit("Max Verbot")
    assert visit.watchlist_hits == []
    visits.check_in(visit, **ACK, by="kiosk")  # not refused
    assert Visit.objects.get(pk=visit.pk).status == "on_site" and _alerts() == []


@pytest.mark.django_db
def test_an_entry_matches_a_visit_on_or_before_its_last_day_only(alpha_beta):
    ends = timezone.now().date() + dt.timedelta(days=3)
    _entry("Eve Hold", expires_on=ends)
    soon = _visit("Eve Hold", start=timezone.now() + dt.timedelta(days=1))
    after = _visit("Eve Hold", start=timezone.now() + dt.timedelta(days=5))  # the visit is after its last day
    assert [h["name"] for h in soon.watchlist_hits] == ["Eve Hold"] and after.watchlist_hits == []


@pytest.mark.django_db
def test_another_sites_entry_does_not_match_here(alpha_beta):
    _entry("Max Verbot", site="beta", banned=True, reason="beta's ban")
    here = _visit("Max Verbot")  # at alpha
    assert here.watchlist_hits == []
    visits.check_in(here, **ACK, by="kiosk")
    assert _alerts() == []
    there = _visit("Max Verbot", site="beta")
    assert [h["name"] for h in there.watchlist_hits] == ["Max Verbot"]
    with pytest.raises(InputError, match="beta's ban"):
        visits.check_in(there, **ACK, by="kiosk")


# ---------------------------------------------------------------------- rights, pages and API


def _api(client: Client, user, method: str, url: str, body: dict | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {accounts.create_token(user, 'test')}"}
    if method == "GET":
        return client.get(url, **headers)
    return client.generic(method, url, data=json.dumps(body or {}), content_type="application/json", **headers)


@pytest.fixture
def leads(role_users):
    """The alpha lead (role_users) and a lead of beta only, both of the organisation testco."""
    return role_users["lead"], accounts.create_user("lead-beta", PASSWORD, "site_security_lead", sites=["beta"])


@pytest.mark.django_db
def test_a_plants_own_entry_is_its_own_to_see_and_change(client, role_users, leads):
    alpha_lead, beta_lead = leads
    made = _api(client, alpha_lead, "POST", "/api/v1/workforce/watchlist",
                {"name": "Eve Hold", "reason": "fence", "site": "alpha", "source": "incident 2026-114"})
    assert made.status_code == 201 and made.json()["site"] == "alpha"
    entry = WatchlistEntry.objects.get(pk=made.json()["id"])
    url = f"/watchlist/{entry.pk}/"

    client.force_login(beta_lead)  # the same organisation, another plant: not found
    assert client.get(url).status_code == 404
    assert "Eve Hold" not in client.get("/watchlist/").content.decode()
    assert _api(client, beta_lead, "GET", f"/api/v1/workforce/watchlist/{entry.pk}").status_code == 404
    assert _api(client, beta_lead, "PATCH", f"/api/v1/workforce/watchlist/{entry.pk}",
                {"active": False}).status_code == 404
    assert _api(client, beta_lead, "GET", "/api/v1/workforce/watchlist").json() == []
    # beta lists the same name for beta: another plant's entry is no twin (nor theirs to learn about)
    theirs = _api(client, beta_lead, "POST", "/api/v1/workforce/watchlist",
                  {"name": "Eve Hold", "reason": "beta's own", "site": "beta"})
    assert theirs.status_code == 201

    client.force_login(alpha_lead)  # people rights at alpha alone suffice for alpha's entry
    page = client.get(url).content.decode()
    assert "Alpha plant only" in page and "incident 2026-114" in page and 'name="action" value="retire"' in page
    assert client.post(url, {"action": "retire"}).status_code == 302
    assert not WatchlistEntry.objects.get(pk=entry.pk).active
    back = _api(client, alpha_lead, "PATCH", f"/api/v1/workforce/watchlist/{entry.pk}", {"active": True})
    assert back.status_code == 200 and back.json()["active"] is True
    moved = _api(client, alpha_lead, "PATCH", f"/api/v1/workforce/watchlist/{entry.pk}", {"site": "beta"})
    assert moved.status_code == 400 and "unknown site 'beta': one of alpha" in moved.json()["detail"]
    org_wide = _api(client, alpha_lead, "PATCH", f"/api/v1/workforce/watchlist/{entry.pk}", {"site": ""})
    assert org_wide.status_code == 200 and org_wide.json()["site"] == ""
    # now organisation-wide: the every-site rule again, and beta sees it
    assert _api(client, alpha_lead, "PATCH", f"/api/v1/workforce/watchlist/{entry.pk}",
                {"active": False}).status_code == 403
    assert _api(client, beta_lead, "GET", f"/api/v1/workforce/watchlist/{entry.pk}").status_code == 200
    # the auditor (every site) and the analyst read both plants' entries
    names = [(e["name"], e["site"]) for e in _api(client, role_users["auditor"], "GET",
                                                    "/api/v1/workforce/watchlist").json()]
    assert sorted(names) == [("Eve Hold", ""), ("Eve Hold", "beta")]


@pytest.mark.django_db
def test_site_source_and_expiry_are_audited(client, leads):
    alpha_lead, _ = leads
    client.force_login(alpha_lead)
    ends = timezone.now().date() + dt.timedelta(days=30)
    response = client.post("/watchlist/new/", {"name": "Mallory Eve", "reason": "photographed the tank farm",
                                               "site": "alpha", "source": "HR", "expires_on": ends.isoformat()})
    assert response.status_code == 302
    entry = WatchlistEntry.objects.get(name="Mallory Eve")
    assert (entry.site.slug, entry.source, entry.expires_on) == ("alpha", "HR", ends)
    created = AuditEntry.objects.get(object_type="workforce.watchlistentry", object_id=str(entry.pk), action="create")
    assert created.after["source"] == "HR" and created.after["expires_on"] == ends.isoformat()
    assert created.after["site_id"] == Site.objects.get(slug="alpha").pk
    later = ends + dt.timedelta(days=30)
    saved = client.post(f"/watchlist/{entry.pk}/", {"action": "save", "name": "Mallory Eve", "reason": "again",
                                                    "site": "alpha", "source": "HR, police notice",
                                                    "expires_on": later.isoformat()})
    assert saved.status_code == 302
    change = AuditEntry.objects.filter(object_id=str(entry.pk), action="update").latest("pk")
    assert (change.before["expires_on"], change.after["expires_on"]) == (ends.isoformat(), later.isoformat())
    assert change.after["source"] == "HR, police notice" and change.actor_name == "lead" and change.via == "web"


@pytest.mark.django_db
def test_bad_site_and_expiry_are_refused_with_the_reason(client, role_users, leads):
    alpha_lead, _ = leads
    client.force_login(alpha_lead)
    past = (timezone.now().date() - dt.timedelta(days=3)).isoformat()
    page = client.post("/watchlist/new/", {"name": "Eve Past", "reason": "r", "expires_on": past})
    assert page.status_code == 400 and f"the expiry {past} is in the past" in page.content.decode()
    garbled = client.post("/watchlist/new/", {"name": "Eve Past", "reason": "r", "expires_on": "next week"})
    assert garbled.status_code == 400 and "is not a date (YYYY-MM-DD)" in garbled.content.decode()
    unknown = client.post("/watchlist/new/", {"name": "Eve Past", "reason": "r", "site": "nowhere"})
    assert unknown.status_code == 400 and "unknown site &#x27;nowhere&#x27;: one of alpha" in unknown.content.decode()
    api = _api(client, alpha_lead, "POST", "/api/v1/workforce/watchlist",
               {"name": "Eve Past", "reason": "r", "expires_on": past})
    assert api.status_code == 400 and "is in the past" in api.json()["detail"]
    beta = _api(client, alpha_lead, "POST", "/api/v1/workforce/watchlist", {"name": "Eve", "reason": "r",
                                                                            "site": "beta"})
    assert beta.status_code == 400 and "unknown site 'beta': one of alpha," in beta.json()["detail"]
    # a site the user sees but may not list people for is refused as such (an auditor at beta as well)
    both = accounts.create_user("lead-and-auditor", PASSWORD, "site_security_lead", sites=["alpha"])
    RoleAssignment.objects.create(user=both, role="auditor", all_sites=True)
    seen = _api(client, both, "POST", "/api/v1/workforce/watchlist", {"name": "Eve", "reason": "r", "site": "beta"})
    assert seen.status_code == 400 and "you may not add watchlist entries for site 'beta'" in seen.json()["detail"]
    other = Organisation.objects.create(slug="otherco", name="Other Co")
    Site.objects.create(organisation=other, slug="gamma", name="Gamma", timezone="Europe/Berlin")
    hidden = _api(client, alpha_lead, "POST", "/api/v1/workforce/watchlist", {"name": "Eve", "reason": "r",
                                                                              "site": "gamma"})
    assert hidden.status_code == 400 and "unknown site 'gamma'" in hidden.json()["detail"]
    mixed = _api(client, role_users["admin"], "POST", "/api/v1/workforce/watchlist",
                 {"name": "Eve", "reason": "r", "site": "gamma", "organisation": "testco"})
    assert mixed.status_code == 400 and "'gamma' is not a site of testco" in mixed.json()["detail"]
    assert not WatchlistEntry.objects.exists()


@pytest.mark.django_db
def test_an_expired_entry_is_shown_as_expired_and_may_be_edited_or_extended(client, role_users, leads):
    alpha_lead, _ = leads
    ended = timezone.now().date() - dt.timedelta(days=2)
    entry = _entry("Old Ban", site="alpha", expires_on=ended, source="HR")
    client.force_login(alpha_lead)
    listing = client.get("/watchlist/").content.decode()
    row = listing[listing.index("Old Ban"):]
    row = row[:row.index("</tr>")]
    assert ended.isoformat() in row and "expired" in row and "HR" in row
    assert _api(client, alpha_lead, "GET", f"/api/v1/workforce/watchlist/{entry.pk}").json()["expired"] is True
    url = f"/api/v1/workforce/watchlist/{entry.pk}"
    assert _api(client, alpha_lead, "PATCH", url, {"reason": "kept for the record"}).status_code == 200  # unchanged
    earlier = _api(client, alpha_lead, "PATCH", url, {"expires_on": (ended - dt.timedelta(days=1)).isoformat()})
    assert earlier.status_code == 400 and "retire the entry instead" in earlier.json()["detail"]
    extended = _api(client, alpha_lead, "PATCH", url, {"expires_on": (ended + dt.timedelta(days=9)).isoformat()})
    assert extended.status_code == 200 and extended.json()["expired"] is False
    assert [h["name"] for h in _visit("Old Ban").watchlist_hits] == ["Old Ban"]
    cleared = _api(client, alpha_lead, "PATCH", url, {"expires_on": None})
    assert cleared.status_code == 200 and cleared.json()["expires_on"] is None


@pytest.mark.django_db
def test_an_organisation_wide_twin_blocks_a_sites_entry_but_an_expired_one_does_not(leads):
    from linewatch.workforce import watchlists

    org = Organisation.objects.get(slug="testco")
    alpha = Site.objects.get(slug="alpha")
    _entry("Max Verbot")
    with pytest.raises(InputError, match="already on the watchlist"):
        watchlists.add(org, {"name": "Max  VERBOT", "reason": "again"}, "lead", alpha)
    WatchlistEntry.objects.filter(name="Max Verbot").update(expires_on=timezone.now().date() - dt.timedelta(days=1))
    again = watchlists.add(org, {"name": "Max Verbot", "reason": "again"}, "lead", alpha)
    assert again.site == alpha
