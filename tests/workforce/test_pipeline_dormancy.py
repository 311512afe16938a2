"""Dormancy in the pipeline: the detector stores each credential's last use (at most daily), so a
badge unused for 45 days is flagged even after the worker restarted."""

from __future__ import annotations

import datetime as dt

import pytest

from linewatch.core import services as core_services
from linewatch.core.models import Person
from linewatch.workforce.models import Credential

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def test_dormancy_survives_a_restart_of_the_pipeline_detector(alpha_beta):
    from linewatch.events.schema import Event, EventClass, PhysicalAccessActivity
    from linewatch.workforce.detector import WorkforcePipelineDetector

    tom = Person.objects.get(key="p-tom")
    card = Credential.objects.create(person=tom, kind="badge", system="onguard", identifier="51000", issue_code=1)

    def read(at: dt.datetime, uid: str) -> Event:
        return Event(uid=uid, time=int(at.timestamp() * 1000), class_uid=EventClass.PHYSICAL_ACCESS,
                     activity_id=PhysicalAccessActivity.GRANTED, status_id=1, site="alpha",
                     attrs={"credential.uid": "51000", "area.name": "canteen"})

    first = WorkforcePipelineDetector()
    first.detect([read(NOW, "d-1")])
    card.refresh_from_db()
    assert card.last_used_at == NOW
    first.detect([read(NOW + dt.timedelta(hours=2), "d-2")])  # within the day: not written again
    assert Credential.objects.get(pk=card.pk).last_used_at == NOW
    core_services._graph_cache.clear()  # a new process
    again = WorkforcePipelineDetector()
    alerts = again.detect([read(NOW + dt.timedelta(days=45), "d-3")])
    assert "lw-wf-dormant-credential" in [a.rule_id for a in alerts]
    core_services._graph_cache.clear()
    fresh = WorkforcePipelineDetector()
    assert "lw-wf-dormant-credential" not in [a.rule_id for a in fresh.detect([read(NOW + dt.timedelta(days=46),
                                                                                         "d-4")])]
