"""Workforce and physical context on events: work orders, who badged where."""

from __future__ import annotations

import datetime as dt

import pytest

from linewatch.core import services
from linewatch.detect.context import ContextTracker
from linewatch.detect.enrich import enrich
from linewatch.events.schema import ControllerActivity, Event, EventClass, PhysicalAccessActivity, event_uid

WO_START = int(dt.datetime(2026, 10, 1, 5, 0, tzinfo=dt.UTC).timestamp() * 1000)  # wo-100 window (closed)


def download(at: int) -> Event:
    return Event(uid=event_uid("t", str(at)), time=at, class_uid=EventClass.CONTROLLER_ACTIVITY,
                 activity_id=ControllerActivity.PROGRAM_DOWNLOAD, source="t", site="alpha",
                 attrs={"dst_endpoint.ip": "10.1.11.21", "actor.user.name": "p-tom"})  # hmi-line1-a, hall-1


def badge(at: int, person: str = "p-anna") -> Event:
    return Event(uid=event_uid("b", str(at), person), time=at, class_uid=EventClass.PHYSICAL_ACCESS,
                 activity_id=PhysicalAccessActivity.GRANTED, source="t", site="alpha",
                 attrs={"area.name": "hall-1", "actor.user.name": person})


@pytest.mark.usefixtures("alpha_beta")
def test_closed_work_order_does_not_count_and_presence_is_tracked():
    tracker = ContextTracker()
    index = services.asset_index()
    lone = enrich(download(WO_START + 3600_000), index)
    tracker.annotate([lone])
    assert lone.attrs["linewatch.work_order_open"] is False  # wo-100 is closed
    assert lone.attrs["linewatch.badged_into_area"] is False
    assert lone.attrs["linewatch.person_entered_site"] is False
    later = enrich(download(WO_START + 7200_000), index)
    tracker.annotate([badge(WO_START + 5400_000, "p-tom"), later])
    assert later.attrs["linewatch.badged_into_area"] is True
    assert later.attrs["linewatch.authorised_in_area"] is True  # p-tom holds an authorisation for hall-1
    assert later.attrs["linewatch.person_entered_site"] is True


@pytest.mark.usefixtures("alpha_beta")
def test_a_badge_without_authorisation_is_present_but_not_authorised():
    from linewatch.workforce.models import Authorisation

    Authorisation.objects.all().delete()
    tracker = ContextTracker()
    event = enrich(download(WO_START + 7200_000), services.asset_index())
    tracker.annotate([badge(WO_START + 5400_000, "p-tom"), event])
    assert event.attrs["linewatch.badged_into_area"] is True
    assert event.attrs["linewatch.authorised_in_area"] is False
    engineer = enrich(download(WO_START + 7300_000), services.asset_index())
    tracker.annotate([badge(WO_START + 7250_000, "p-anna"), engineer])  # alpha-ot's lead
    assert engineer.attrs["linewatch.authorised_in_area"] is True


@pytest.mark.usefixtures("alpha_beta")
def test_an_open_work_order_covers_the_assets_of_its_line():
    from linewatch.workforce.models import WorkOrder

    WorkOrder.objects.filter(key="wo-100").update(status="in_progress")
    event = enrich(download(WO_START + 3600_000), services.asset_index())
    event.attrs["dst_endpoint.ip"] = "10.1.11.10"
    event = enrich(event, services.asset_index())
    ContextTracker().annotate([event])
    assert event.attrs["linewatch.work_order_open"] is True  # plc-line1 is on line-1, the order's line
    assert event.attrs["linewatch.person_work_order_open"] is True
