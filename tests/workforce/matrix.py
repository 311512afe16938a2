"""Workforce objects the role matrices name (tests/web/test_roles_pages.py): a person, a company,
an access-review campaign and a visit (code `matrix-<site>`) at each test site."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

PEOPLE = {"alpha": "p-tom", "beta": "p-bea"}
COMPANIES = {"alpha": "fixit", "beta": "beta-guards"}
REVIEW = "matrix-review"


def record_matrix_workforce() -> None:
    from linewatch.core.models import Company, Person, Site, SiteAffiliation
    from linewatch.workforce.models import ReviewCampaign, Visit

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
