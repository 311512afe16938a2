"""Onboarding rules, one-step offboarding with its proof, the roster, access reviews, posture."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from linewatch.core.models import Area, Person, Site
from linewatch.errors import InputError
from linewatch.events.schema import Event, EventClass, PhysicalAccessActivity
from linewatch.events.store import store_events
from linewatch.workforce import services
from linewatch.workforce.models import Authorisation, Credential, PersonState, ReviewCampaign

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def tom_everywhere(alpha_beta):
    """Tom the contractor: badges, a remote account and grants at both sites."""
    tom, anna = Person.objects.get(key="p-tom"), Person.objects.get(key="p-anna")
    beta = Site.objects.get(slug="beta")
    dock = Area.objects.create(site=beta, slug="dock", name="Dock")
    services.onboard(tom, beta, "contractor", anna, valid_to=dt.date(2026, 12, 31))
    Authorisation.objects.create(site=beta, person=tom, area=dock, valid_to=NOW + dt.timedelta(days=30))
    Credential.objects.create(person=tom, kind="badge", system="onguard", identifier="51000", issue_code=1)
    Credential.objects.create(person=tom, kind="remote_access", system="sra", identifier="tom.fix")
    Credential.objects.create(person=tom, kind="badge", system="beta-pacs", identifier="B-77", site=beta)
    return tom


def test_non_employees_need_a_sponsor_and_an_expiry(alpha_beta):
    tom = Person.objects.get(key="p-tom")
    beta = Site.objects.get(slug="beta")
    with pytest.raises(InputError, match="needs a sponsor.*needs an expiry"):
        services.onboard(tom, beta, "contractor")
    services.onboard(Person.objects.get(key="p-anna"), beta, "employee")  # employees need neither


def test_offboarding_revokes_everything_everywhere_and_proves_it(tom_everywhere):
    report = services.offboard(tom_everywhere, "cli:lead", "contract ended", now=NOW)
    assert report.proven and report.proof["left"] == 0
    revoked = {(i["what"], i["site"]) for i in report.items}
    assert revoked == {("credential", "all sites"), ("credential", "beta"), ("authorisation", "alpha"),
                       ("authorisation", "beta"), ("affiliation", "alpha"), ("affiliation", "beta")}
    assert all(i["by"] == "cli:lead" and i["at"] == NOW.isoformat() for i in report.items)
    assert set(Credential.objects.filter(person=tom_everywhere).values_list("status", flat=True)) == {"revoked"}
    assert not Authorisation.objects.filter(person=tom_everywhere, revoked_at__isnull=True).exists()
    assert PersonState.objects.get(person=tom_everywhere).status == "offboarded"
    # a second offboarding finds nothing left to revoke, and still proves it
    again = services.offboard(tom_everywhere, "cli:lead", now=NOW)
    assert again.items == [] and again.proven


def test_offboarded_sponsor_orphans_the_contractor(tom_everywhere):
    anna = Person.objects.get(key="p-anna")
    services.offboard(anna, "cli:lead", now=NOW)
    issues = services.access_issues(Site.objects.all(), now=NOW - dt.timedelta(days=1))
    assert any(i.kind == "orphaned" and i.person == tom_everywhere for i in issues)
    with pytest.raises(InputError, match="sponsor p-anna is offboarded"):
        services.onboard(tom_everywhere, Site.objects.get(slug="beta"), "contractor", anna, valid_to=NOW.date())


def test_access_outliving_its_work_order_is_listed(alpha_beta):
    issues = services.access_issues(Site.objects.all(), now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    assert [(i.kind, i.person.key) for i in issues if i.kind == "outlives_work_order"] == [("outlives_work_order",
                                                                                             "p-tom")]


def _badge(uid: str, at: dt.datetime, who: str, area: str, direction: str = "", site: str = "alpha") -> Event:
    attrs = {"actor.user.name": who, "area.name": area}
    if direction:
        attrs["access.direction"] = direction
    return Event(uid=uid, time=int(at.timestamp() * 1000), class_uid=EventClass.PHYSICAL_ACCESS,
                 activity_id=PhysicalAccessActivity.GRANTED, status_id=1, site=site, source="test", attrs=attrs)


def test_roster_lists_who_is_in_now(alpha_beta):
    store_events([
        _badge("r1", NOW - dt.timedelta(hours=3), "p-anna", "hall-1", "in"),
        _badge("r2", NOW - dt.timedelta(hours=2), "p-anna", "control-room"),
        _badge("r3", NOW - dt.timedelta(hours=3), "p-tom", "hall-1", "in"),
        _badge("r4", NOW - dt.timedelta(hours=1), "p-tom", "hall-1", "out"),
        _badge("r5", NOW - dt.timedelta(hours=30), "p-tom", "hall-1"),
    ])
    entries = services.roster(Site.objects.get(slug="alpha"), now=NOW)
    assert [(e.person, e.area) for e in entries] == [("p-anna", "control-room")]
    assert entries[0].since == int((NOW - dt.timedelta(hours=3)).timestamp() * 1000)


def test_review_campaign_confirms_revokes_and_auto_revokes(tom_everywhere):
    beta = Site.objects.get(slug="beta")
    anna = Person.objects.get(key="p-anna")
    Authorisation.objects.create(site=beta, person=anna, area=Area.objects.get(site=beta, slug="dock"))
    campaign = services.open_campaign(beta, "Q4 review", NOW + dt.timedelta(days=7), "lead", now=NOW)
    items = {i.person.key: i for i in campaign.items.all()}
    assert set(items) == {"p-tom", "p-anna"} and items["p-tom"].reviewer == anna
    services.decide(items["p-anna"], "confirmed", "anna", now=NOW)
    assert services.close_due(now=NOW) == []  # not yet due
    services.close_due(now=NOW + dt.timedelta(days=8))
    campaign.refresh_from_db()
    assert campaign.status == "closed"
    tom_grant = Authorisation.objects.get(site=beta, person=tom_everywhere)
    assert tom_grant.revoked_at is not None and tom_grant.revoked_by.startswith("policy")
    assert Authorisation.objects.get(site=beta, person=anna).revoked_at is None
    with pytest.raises(InputError, match="closed"):
        services.decide(items["p-tom"], "confirmed", "anna")


def test_a_reviewer_revoking_ends_the_grant_now(tom_everywhere):
    beta = Site.objects.get(slug="beta")
    campaign = services.open_campaign(beta, "spot check", timezone.now() + dt.timedelta(days=1), "lead")
    item = campaign.items.get()
    services.decide(item, "revoked", "anna")
    grant = item.authorisation
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.valid_to <= timezone.now()
    assert ReviewCampaign.objects.get().items.get().decision == "revoked"


def test_directory_reflects_the_database(tom_everywhere):
    d = services.directory()
    assert d.people["p-tom"].kind == "contractor" and d.people["p-tom"].sponsor == "p-anna"
    assert {c.identifier for c in d.of_person["p-tom"]} == {"51000", "tom.fix", "B-77"}
    [grant] = d.authorisations_for("p-tom", "alpha", "hall-1")
    assert grant.work_order == "wo-100" and grant.window.timezone == "Europe/Berlin"
    services.offboard(tom_everywhere, "x", now=NOW)
    assert services.directory().people["p-tom"].status == "offboarded"


def test_pipeline_alerts_why_for_offboarded_badge_use(tom_everywhere):
    from linewatch.detect.models import Alert
    from linewatch.detect.worker import DetectionWorker
    from linewatch.workforce.detector import WorkforcePipelineDetector

    services.offboard(tom_everywhere, "cli:lead", now=NOW)
    later = NOW + dt.timedelta(hours=2)
    store_events([Event(uid="late-1", time=int(later.timestamp() * 1000), class_uid=EventClass.PHYSICAL_ACCESS,
                        activity_id=PhysicalAccessActivity.GRANTED, status_id=1, site="beta", source="test",
                        attrs={"credential.uid": "B-77", "area.name": "dock"})])
    worker = DetectionWorker([WorkforcePipelineDetector()])
    worker.run_once()
    alert = Alert.objects.get(rule_id="lw-wf-after-offboarding")
    assert alert.site_slug == "beta" and alert.event_uids == ["late-1"]
    assert "offboarded" in alert.finding["finding_info"]["desc"] and alert.severity_id == 5
    # the credential check fires too: the revoked badge expired at the offboarding
    assert Alert.objects.filter(rule_id="lw-wf-credential-invalid").exists()


def test_revocation_overdue_and_visitor_overstay_are_listed(tom_everywhere):
    from linewatch.workforce.models import Visit

    anna = Person.objects.get(key="p-anna")
    alpha = Site.objects.get(slug="alpha")
    # Tom's alpha contract ended on 31 December 2026; on 3 January his badges still work
    later = dt.datetime(2027, 1, 3, 9, 0, tzinfo=dt.UTC)
    Credential.objects.filter(person=tom_everywhere).update(valid_to=None)
    Visit.objects.create(site=alpha, visitor=tom_everywhere, host=anna, purpose="audit", status="on_site",
                         expected_start=later - dt.timedelta(hours=5), expected_end=later - dt.timedelta(hours=1))
    issues = services.access_issues(Site.objects.all(), now=later)
    overdue = [i for i in issues if i.kind == "revocation_overdue"]
    assert {i.site for i in overdue} == {"alpha", "beta"} and "51000" in overdue[0].what
    assert [i.kind for i in issues if i.person == tom_everywhere and i.kind == "overstay"] == ["overstay"]
    services.offboard(tom_everywhere, "lead", now=later)
    assert not [i for i in services.access_issues(Site.objects.all(), now=later) if i.kind == "revocation_overdue"]


def test_the_pipeline_detector_remembers_who_is_on_site_after_a_restart(tom_everywhere):
    from linewatch.workforce.detector import WorkforcePipelineDetector

    badge_in = _badge("w1", NOW - dt.timedelta(hours=2), "p-tom", "hall-1", "in")
    store_events([badge_in])
    session = Event(uid="w2", time=int(NOW.timestamp() * 1000), class_uid=EventClass.AUTHORIZE_SESSION,
                    activity_id=1, status_id=1, site="alpha", source="test",
                    attrs={"user.name": "tom.fix", "is_remote": True, "src_endpoint.ip": "203.0.113.9",
                           "dst_endpoint.asset.name": "ews-1", "dst_endpoint.asset.domain": "it"})
    found = WorkforcePipelineDetector().detect([session])  # a fresh worker: the badge-in is in the store only
    assert [d.rule_id for d in found] == ["lw-wf-remote-while-on-site"]
    assert [e.uid for e in found[0].events] == ["w1", "w2"]
