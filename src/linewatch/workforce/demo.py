"""The workforce part of the demo manufacturer: badges and remote-access accounts for its people,
training, a visit, a decoy badge. The configuration (plant calendars, the training each area
requires, zone owners) is in the demo's site files (`linewatch.demo.generate`), not here.

With the demo's event simulator this exercises the detections: the contractor whose access
outlives the closed compressor work order (ctr-20203), technicians' remote sessions without a
work order, and the auditor visiting HQ who wanders into the server room without her host.
Idempotent: a second call adds nothing.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from linewatch.core.models import Person, Site, SiteAffiliation
from linewatch.workforce.models import Credential, Training, Visit, WatchlistEntry

SITES = ("hq", "kolding", "padborg", "rendsburg")
VISITOR, HOST = "vis-30101", "nf-10009"


def load() -> list[str]:
    created = {"credentials": 0, "trainings": 0, "visits": 0, "watchlist": 0}
    sites = {s.slug: s for s in Site.objects.filter(slug__in=SITES)}
    if not sites:
        return []
    kinds = {}
    for a in SiteAffiliation.objects.filter(site__in=sites.values()).select_related("person"):
        kinds.setdefault(a.person, a.kind)
    year_start = dt.date(2026, 1, 1)
    for person, kind in sorted(kinds.items(), key=lambda p: p[0].key):
        _, new = Credential.objects.get_or_create(kind="badge", system="pacs", identifier=f"card-{person.key}",
                                                  issue_code=1, defaults={"person": person})
        created["credentials"] += new
        created["trainings"] += Training.objects.get_or_create(person=person, kind="site_induction", defaults={
            "completed_on": year_start, "expires_on": dt.date(2027, 12, 31), "issuer": "Nordhavn HSE"})[1]
        if kind in ("contractor", "technician"):
            created["credentials"] += Credential.objects.get_or_create(
                kind="remote_access", system="sra", identifier=person.key, defaults={"person": person})[1]
            # the LOTO certificate of contractors lapsed this autumn: the machine room wants it
            expires = dt.date(2026, 9, 30) if kind == "contractor" else dt.date(2027, 6, 30)
            created["trainings"] += Training.objects.get_or_create(person=person, kind="loto", defaults={
                "completed_on": dt.date(2024, 10, 1), "expires_on": expires, "issuer": "TÜV Nord"})[1]
    created["credentials"] += Credential.objects.get_or_create(
        kind="badge", system="pacs", identifier="card-decoy-0001", issue_code=1,
        defaults={"is_decoy": True, "status_reason": "honeytoken: kept in the security office drawer"})[1]
    visitor, host = Person.objects.filter(key=VISITOR).first(), Person.objects.filter(key=HOST).first()
    if visitor and host and "hq" in sites and not Visit.objects.filter(visitor=visitor, site=sites["hq"]).exists():
        now = timezone.now()
        Visit.objects.create(site=sites["hq"], visitor=visitor, host=host, escort=host, escort_required=True,
                             purpose="FSSC 22000 audit", expected_start=now - dt.timedelta(hours=1),
                             expected_end=now + dt.timedelta(days=3), checked_in_at=now, status="on_site",
                             code="v-demo-audit", company="Nordic Food Certification", registered_at=now,
                             registered_by="demo", id_document="passport", id_last_digits="2210",
                             checked_in_by="demo", nda_accepted_at=now, safety_accepted_at=now)
        created["visits"] += 1
    organisation = next(iter(sites.values())).organisation
    created["watchlist"] += WatchlistEntry.objects.get_or_create(
        organisation=organisation, name="Jörg Schäfer", defaults={
            "aliases": "Joerg Schaefer\nJ. Schäfer", "company": "Schäfer Anlagenservice",
            "reason": "former contractor: removed for tailgating into the machine room (2025)", "added_by": "demo"})[1]
    if not any(created.values()):
        return []
    return [f"workforce: {created['credentials']} credentials, {created['trainings']} training records, "
            f"{created['visits']} visit (people: /people/)"]
