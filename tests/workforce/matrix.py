"""Workforce objects the role matrices name (tests/web/test_roles_pages.py): a person, a company,
an access-review campaign and a visit (code `matrix-<site>`) at each test site, and one watchlist
entry (id WATCHLIST_ENTRY) of the sites' organisation."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

PEOPLE = {"alpha": "p-tom", "beta": "p-bea"}
COMPANIES = {"alpha": "fixit", "beta": "beta-guards"}
REVIEW = "matrix-review"
HOSTS = {"alpha": "p-anna", "beta": "p-bea"}  # one of each site's people, to host a visit
WATCHLIST_ENTRY = 970001  # a fixed id, far above any the tests' sequences reach


def record_matrix_workforce() -> None:
    from linewatch.core.models import Company, Person, Site, SiteAffiliation
    from linewatch.workforce.models import ReviewCampaign, Visit, WatchlistEntry

    beta = Site.objects.select_related("organisation").get(slug="beta")
    firm, _ = Company.objects.get_or_create(organisation=beta.organisation, slug="beta-guards",
                                            defaults={"name": "Beta Guards Ltd", "kind": "security"})
    bea, _ = Person.objects.get_or_create(organisation=beta.organisation, key="p-bea",
                                          defaults={"name": "Bea Wache", "company": firm})
    SiteAffiliation.objects.get_or_create(person=bea, site=beta, defaults={
        "kind": "guard", "sponsor": Person.objects.get(key="p-anna"), "valid_to": dt.date(2027, 1, 1)})
    for site in Site.objects.filter(slug__in=PEOPLE):
        ReviewCampaign.objects.get_or_create(site=site, slug=REVIEW, defaults={
            "name": "Matrix review", "created_at": timezone.now(),
            "deadline": timezone.now() + dt.timedelta(days=30)})
    for site_slug, key in PEOPLE.items():
        site = Site.objects.get(slug=site_slug)
        Visit.objects.get_or_create(code=f"matrix-{site_slug}", defaults={
            "site": site, "visitor": Person.objects.get(key=key), "purpose": "matrix visit",
            "expected_start": timezone.now(), "expected_end": timezone.now() + dt.timedelta(hours=4)})
    WatchlistEntry.objects.get_or_create(pk=WATCHLIST_ENTRY, defaults={
        "organisation": beta.organisation, "name": "Matrix Mallory", "reason": "matrix entry", "added_by": "test"})


def workforce_request(client, method: str, path: str, url: str, site: str, headers: dict):
    """The API matrix's call of a visitor or watchlist endpoint about `site` (tests/api/test_roles_matrix.py)."""
    url = url.replace("{code}", f"matrix-{site}").replace("{entry_id}", str(WATCHLIST_ENTRY))
    if method == "GET":
        return client.get(url, **headers)
    if method == "PATCH":
        return client.patch(url, {"reason": f"checked from {site}"}, content_type="application/json", **headers)
    start = timezone.now()
    body = {
        "/api/v1/workforce/sites/{slug}/visits": {
            "name": f"Matrix Guest {site}", "host": HOSTS[site], "purpose": "matrix",
            "expected_start": start.isoformat(), "expected_end": (start + dt.timedelta(hours=2)).isoformat()},
        "/api/v1/workforce/visits/{code}/check-in": {"id_document": "passport", "id_last_digits": "4711"},
        "/api/v1/workforce/visits/{code}/escort": {"escort": "p-nobody"},
        "/api/v1/workforce/watchlist": {"name": f"Matrix Eve {site}", "reason": "matrix"},
    }.get(path, {})
    return client.post(url, body, content_type="application/json", **headers)
