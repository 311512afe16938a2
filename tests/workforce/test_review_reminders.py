"""Access reviews: reminders to reviewers before the deadline and escalation of what is still
pending to the zone owners (or the site's security team), through the notification outbox."""

from __future__ import annotations

import datetime as dt

import pytest

from linewatch.core.models import Area, Person, Site, Team
from linewatch.response.models import ContactPath, Notification
from linewatch.workforce import services
from linewatch.workforce.models import Authorisation, ZoneOwner

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
DEADLINE = NOW + dt.timedelta(days=5)


@pytest.fixture
def campaign(alpha_beta):
    """Tom's hall-1 grant (reviewer: his sponsor Anna) and Olga's control-room grant (no sponsor:
    reviewer is whoever granted it, nobody here), at alpha."""
    alpha = Site.objects.get(slug="alpha")
    anna = Person.objects.get(key="p-anna")
    olga = Person.objects.create(organisation=alpha.organisation, key="p-olga", name="Olga Owner")
    ContactPath.objects.create(person=anna, priority=1, url="json://localhost:9/anna")
    ContactPath.objects.create(person=olga, priority=1, url="json://localhost:9/olga")
    ContactPath.objects.create(team=Team.objects.get(slug="alpha-sec"), priority=1, url="json://localhost:9/sec")
    ZoneOwner.objects.create(area=Area.objects.get(site=alpha, slug="hall-1"), person=olga)
    Authorisation.objects.create(site=alpha, person=olga, area=Area.objects.get(site=alpha, slug="control-room"),
                                 valid_to=NOW + dt.timedelta(days=60))
    return services.open_campaign(alpha, "Q4 review", DEADLINE, "lead", now=NOW)


def test_reminders_go_to_each_reviewer_once_per_round(campaign):
    assert services.remind_due(NOW) == {"reminders": 0, "escalations": 0}  # 5 days out: nothing yet
    three_days = DEADLINE - dt.timedelta(days=3)
    assert services.remind_due(three_days)["reminders"] == 1
    [note] = Notification.objects.all()
    assert note.person.key == "p-anna" and "1 grants to confirm" in note.subject and "Tom Fix" in note.body
    assert "revoked then" in note.body
    assert services.remind_due(three_days + dt.timedelta(hours=1))["reminders"] == 0  # once per round
    assert services.remind_due(DEADLINE - dt.timedelta(days=1))["reminders"] == 1  # the second round
    assert Notification.objects.filter(person__key="p-anna").count() == 2


def test_decided_items_are_not_reminded(campaign):
    item = campaign.items.get(person__key="p-tom")
    services.decide(item, "confirmed", "anna", now=NOW)
    assert services.remind_due(DEADLINE - dt.timedelta(days=3))["reminders"] == 0
    assert not Notification.objects.exists()


def test_pending_items_escalate_to_the_zone_owner_and_the_security_team(campaign):
    services.remind_due(DEADLINE - dt.timedelta(days=3))
    Notification.objects.all().delete()
    assert services.remind_due(DEADLINE - dt.timedelta(hours=13))["escalations"] == 0  # not yet
    late = DEADLINE - dt.timedelta(hours=11)
    assert services.remind_due(late)["escalations"] == 2
    owner = Notification.objects.get(person__key="p-olga")
    assert "Escalation" in owner.subject and "Tom Fix" in owner.body and "Olga Owner" not in owner.body
    team = Notification.objects.get(team__slug="alpha-sec")
    assert "no zone owner" in team.body and "Olga Owner" in team.body  # her control-room grant has no owner
    campaign.refresh_from_db()
    assert campaign.escalated_at == late
    assert services.remind_due(late + dt.timedelta(hours=1))["escalations"] == 0  # once


def test_the_worker_tick_reminds_and_closes(campaign):
    services.tick(DEADLINE - dt.timedelta(days=3))
    assert Notification.objects.filter(person__key="p-anna").exists()
    services.tick(DEADLINE + dt.timedelta(minutes=1))
    campaign.refresh_from_db()
    assert campaign.status == "closed"
    assert services.remind_due(DEADLINE + dt.timedelta(hours=1)) == {"reminders": 0, "escalations": 0}
