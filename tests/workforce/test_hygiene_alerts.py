"""Orphaned access and revocations past their SLA are incidents, not only lists: the worker's tick raises one
alert per person, site and condition, with what is still live and why, and never the same one twice."""

from __future__ import annotations

import datetime as dt

import pytest

from linewatch.core.models import Person
from linewatch.detect.models import Alert
from linewatch.workforce import services
from linewatch.workforce.models import Credential

from .test_lifecycle import NOW, tom_everywhere  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_a_contractor_whose_sponsor_left_is_an_alert_once(tom_everywhere):  # noqa: F811
    assert services.alert_access_hygiene(NOW - dt.timedelta(days=1)) == 0  # Anna still sponsors Tom
    services.offboard(Person.objects.get(key="p-anna"), "cli:lead", now=NOW)
    assert services.alert_access_hygiene(NOW) >= 1
    alerts = Alert.objects.filter(rule_id="lw-wf-orphaned-identity")
    assert {a.site_slug for a in alerts} >= {"beta"}
    beta = alerts.get(site_slug="beta")
    assert "Tom" in beta.finding["finding_info"]["desc"] and "p-anna" in beta.finding["finding_info"]["desc"]
    assert services.alert_access_hygiene(NOW + dt.timedelta(minutes=20)) == 0  # the same access: no new alert


def test_access_live_past_the_revocation_sla_is_an_alert_until_revoked(tom_everywhere):  # noqa: F811
    later = dt.datetime(2027, 1, 3, 9, 0, tzinfo=dt.UTC)  # Tom's contracts ended on 31 December
    Credential.objects.filter(person=tom_everywhere).update(valid_to=None)
    assert services.alert_access_hygiene(later) == 2  # alpha and beta
    overdue = Alert.objects.filter(rule_id="lw-wf-revocation-sla")
    assert overdue.count() == 2 and all(a.severity_id >= 4 for a in overdue)
    assert "51000" in overdue.get(site_slug="alpha").finding["finding_info"]["desc"]
    services.offboard(tom_everywhere, "lead", now=later)
    assert services.alert_access_hygiene(later + dt.timedelta(hours=1)) == 0
    assert Alert.objects.filter(rule_id="lw-wf-revocation-sla").count() == 2


def _badge(n: int, who: str, at: dt.datetime, direction: str = "in"):
    from linewatch.events.schema import Event, EventClass, PhysicalAccessActivity, event_uid

    activity = PhysicalAccessActivity.GRANTED if direction == "in" else PhysicalAccessActivity.EXIT
    return Event(uid=event_uid("left-inside-test", str(n)), time=int(at.timestamp() * 1000), source="test",
                 site="alpha", class_uid=EventClass.PHYSICAL_ACCESS, activity_id=activity, status_id=1,
                 attrs={"actor.user.uid": who, "door.name": "hall-1-east", "access.direction": direction})


def test_someone_entered_and_never_seen_leaving_is_left_inside_once(alpha_beta):
    from linewatch.events.store import store_events

    store_events([
        _badge(1, "p-anna", NOW - dt.timedelta(hours=13)),  # in, never out, silent for 13 h
        _badge(2, "p-tom", NOW - dt.timedelta(hours=14)),
        _badge(3, "p-tom", NOW - dt.timedelta(hours=6), direction="out"),  # left
    ])
    assert services.alert_left_inside(NOW - dt.timedelta(hours=2)) == 0  # 11 h silent: not yet
    assert services.alert_left_inside(NOW) == 1
    alert = Alert.objects.get(rule_id="lw-wf-left-inside")
    assert alert.site_slug == "alpha" and "p-anna" in alert.finding["finding_info"]["desc"]
    assert services.alert_left_inside(NOW + dt.timedelta(minutes=30)) == 0  # the same stay: no second alert


def test_a_site_whose_readers_never_report_exits_raises_no_left_inside(alpha_beta):
    from linewatch.events.store import store_events

    store_events([_badge(11, "p-anna", NOW - dt.timedelta(hours=13))])  # entry readers only
    assert services.alert_left_inside(NOW) == 0
