"""A crisis at site alpha: Anna badged in, Tom badged in and out again, the visitor Vera checked in."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from linewatch.core.models import Person, Site
from linewatch.events.schema import Event, EventClass, PhysicalAccessActivity, VisitorActivity, event_uid
from linewatch.events.store import store_events

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


def access(n: int, who: str, minutes_ago: int, activity: int, cls: int = EventClass.PHYSICAL_ACCESS,
           direction: str = "") -> Event:
    attrs = {"actor.user.uid": who, "door.name": "hall-1-east"}
    if direction:
        attrs["access.direction"] = direction
    at = NOW - dt.timedelta(minutes=minutes_ago)
    return Event(uid=event_uid("rc-test", str(n)), time=int(at.timestamp() * 1000), source="test", site="alpha",
                 class_uid=cls, activity_id=activity, attrs=attrs)


@pytest.fixture(autouse=True)
def _clock(monkeypatch):
    """The product reads the wall clock; these fixtures' badge-ins are minutes before NOW, so the tests run then."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.fixture
def people(alpha_beta, monkeypatch):
    """Anna (employee, on site), Tom (contractor, left), Vera (visitor, on site); e-mail via a relay."""
    monkeypatch.setenv("LINEWATCH_SMTP_RELAY", "127.0.0.1:2525")
    org = Site.objects.get(slug="alpha").organisation
    Person.objects.filter(key="p-anna").update(phone="+45 20 11 22 33")
    Person.objects.filter(key="p-tom").update(phone="+45 30 44 55 66", email="tom@fixit.example")
    Person.objects.create(organisation=org, key="p-vera", name="Vera Visitor", phone="+49 170 123456",
                          email="vera@guest.example")
    store_events([
        access(1, "p-anna", 90, PhysicalAccessActivity.GRANTED, direction="in"),
        access(2, "p-tom", 80, PhysicalAccessActivity.GRANTED, direction="in"),
        access(3, "p-tom", 30, PhysicalAccessActivity.EXIT),
        access(4, "p-vera", 20, VisitorActivity.CHECK_IN, cls=EventClass.VISITOR_ACTIVITY),
        access(5, "p-old", 60 * 30, PhysicalAccessActivity.GRANTED),  # a badge-in of yesterday: stale
    ])
    return {p.key: p for p in Person.objects.filter(key__in=["p-anna", "p-tom", "p-vera"])}


@pytest.fixture
def drill(people):
    """An exercise crisis (power outage) at alpha, roll call opened at NOW."""
    from linewatch.resilience import services

    return services.declare(title="Power outage drill", kind="infrastructure", sites=[Site.objects.get(slug="alpha")],
                            by="lead", exercise=True, now=NOW, reminder_minutes=5, max_waves=2)


def link_token(body: str) -> str:
    return re.search(r"/r/([^/\s]+)/", body)[1]


def now() -> dt.datetime:
    return timezone.now()
