"""The watchlist page in a real browser: a site security lead signs in, adds an entry for their site
with a source and a last day through the form (the CSRF token travels with it as in production) and
sees it listed; a registration then matches it."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import TEST_SITES

pytestmark = pytest.mark.browser
PASSWORD = "correct-horse-battery"


@pytest.fixture
def lead(transactional_db):
    """Test sites and a lead at alpha; live_server flushes the database, so here."""
    from linewatch.core import accounts
    from linewatch.core.sitefile.importer import import_files

    import_files(sorted(str(p) for p in TEST_SITES.glob("*.yaml")))
    accounts.create_user("lead", PASSWORD, "site_security_lead", sites=["alpha"])
    return "lead"


def test_lead_adds_a_watchlist_entry_and_sees_it_listed(live_server, lead, browser):
    from django.utils import timezone

    from linewatch.core.models import AuditEntry, Person, Site
    from linewatch.workforce import visits
    from linewatch.workforce.models import WatchlistEntry

    ends = timezone.now().date() + dt.timedelta(days=90)
    page = browser.new_page()
    base = live_server.url
    page.goto(base + "/login/?next=/watchlist/")
    page.fill("#id_username", lead)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/watchlist/")
    assert "No entries" in page.inner_text("#watchlist")

    page.click("text=Add an entry")
    page.wait_for_url(base + "/watchlist/new/")
    page.fill("#wl-name", "Mallory Eve")
    page.fill("#wl-aliases", "M. Eve")
    page.fill("#wl-company", "Shady GmbH")
    page.fill("#wl-reason", "photographed the tank farm")
    page.fill("#wl-source", "police notice")
    page.select_option("#wl-site", "alpha")
    page.fill("#wl-expires", ends.isoformat())
    page.check("#wl-banned")
    page.click("#watchlist-form button[type=submit]")
    page.wait_for_url(base + "/watchlist/")
    table = page.inner_text("#watchlist")
    assert "Mallory Eve" in table and "photographed the tank farm" in table and "banned" in table
    assert "Alpha plant only" in table and "police notice" in table and ends.isoformat() in table
    assert "is on the watchlist at Alpha plant" in page.inner_text(".notices")

    entry = WatchlistEntry.objects.get(name="Mallory Eve")
    assert entry.banned and entry.added_by == "lead" and entry.aliases == "M. Eve"
    assert (entry.site.slug, entry.source, entry.expires_on) == ("alpha", "police notice", ends)
    assert AuditEntry.objects.filter(object_type="workforce.watchlistentry", object_id=str(entry.pk),
                                     actor_name="lead", via="web").exists()
    visit = visits.register(Site.objects.get(slug="alpha"), name="Eve Mallory", host=Person.objects.get(key="p-anna"),
                            purpose="x", expected_start=timezone.now(),
                            expected_end=timezone.now() + dt.timedelta(hours=1))
    assert [h["name"] for h in visit.watchlist_hits] == ["Mallory Eve"]
    page.goto(base + "/watchlist/hits/")
    assert visit.code in page.content()
    page.close()
