"""Cases: related alerts grouped by site and asset or person within a time window, and their timeline."""

from __future__ import annotations

import datetime as dt

import pytest

from linewatch.detect.alerts import Detection, record_alert
from linewatch.detect.cases import (
    CASE_WINDOW,
    alert_actors,
    assign_case,
    case_timeline,
    event_domain,
    layout_timeline,
    normalise_actor,
    refresh_case,
    timeline_as_dict,
)
from linewatch.detect.models import Alert, AlertStatus, Case, CaseStatus
from linewatch.events.schema import Event, EventClass, event_uid
from linewatch.events.store import store_events

T0 = 1764000000000  # 2025-11-24 16:00 UTC, in epoch milliseconds
MINUTE = 60_000

PLC = "10.1.11.10"
CAMERA = "10.1.4.50"
HMI = "10.1.11.21"


def event(name: str, minutes: float = 0, *, class_uid: int = EventClass.NETWORK_ACTIVITY, activity: int = 0,
          site: str = "alpha", **attrs) -> Event:
    return Event(uid=event_uid("test", name), time=int(T0 + minutes * MINUTE), class_uid=class_uid,
                 activity_id=activity, site=site, source="test", attrs={k.replace("__", "."): v
                                                                        for k, v in attrs.items()})


def raise_alert(rule: str, events: list[Event], title: str = "", level: str = "high",
                tags: tuple[str, ...] = ()) -> Alert:
    """Store the events, record the alert and put it in its case, as the detection worker would."""
    store_events(events)
    alert, _ = record_alert(Detection(rule, title or rule, level, tags=tags, events=events))
    assign_case(alert)
    alert.refresh_from_db()
    return alert


def plc_download(name: str, minutes: float = 0, user: str = "") -> Event:
    extra = {"actor__user__name": user} if user else {}
    return event(name, minutes, class_uid=EventClass.CONTROLLER_ACTIVITY, activity=1,
                 src_endpoint__ip="10.1.4.77", dst_endpoint__ip=PLC, controller__protocol="s7comm", **extra)


def badge(name: str, minutes: float, holder: str, activity: int = 2) -> Event:
    return event(name, minutes, class_uid=EventClass.PHYSICAL_ACCESS, activity=activity,
                 actor__user__name=holder, door__name="Hall 1 east door", device__name="reader-1")


pytestmark = pytest.mark.usefixtures("alpha_beta")


def test_alerts_on_the_same_asset_within_the_window_share_a_case():
    first = raise_alert("lw-ot-001", [plc_download("a", 0)], "PLC program download")
    second = raise_alert("lw-ot-002", [plc_download("b", 40)], "PLC mode change")
    later = raise_alert("lw-ot-001", [plc_download("c", 40 + CASE_WINDOW.total_seconds() / 60 + 30)])
    assert first.case_id and first.case_id == second.case_id
    assert later.case_id != first.case_id
    case = Case.objects.get(pk=first.case_id)
    assert case.asset.name == "plc-line1" and case.site_slug == "alpha"
    assert case.title == "plc-line1: PLC program download"
    assert set(case.alerts.values_list("uid", flat=True)) == {first.uid, second.uid}
    assert (case.first_seen, case.last_seen) == (first.time, second.time)
    assert case.cost_per_hour == 42000 and case.severity_id == max(first.severity_id, second.severity_id)
    figures = (case.severity_id, case.cost_per_hour, case.first_seen, case.last_seen, case.status)
    recomputed = refresh_case(Case.objects.get(pk=case.pk))  # the full recount agrees with the running one
    assert (recomputed.severity_id, recomputed.cost_per_hour, recomputed.first_seen, recomputed.last_seen,
            recomputed.status) == figures


def test_alerts_involving_the_same_person_share_a_case_across_assets():
    denied = raise_alert("lw-phys-001", [badge("d1", 0, "Tom Fix")], "Badge denied at hall 1")
    download = raise_alert("lw-ot-001", [plc_download("dl", 20, user="TESTCO\\tom fix")], "PLC program download")
    stranger = raise_alert("lw-ot-003", [event("x", 25, dst_endpoint__ip=HMI, actor__user__name="someone")])
    assert denied.case_id == download.case_id
    assert stranger.case_id != denied.case_id
    case = Case.objects.get(pk=denied.case_id)
    assert "tom fix" in case.actors
    assert case.alerts.count() == 2


def test_other_sites_and_closed_cases_are_not_joined():
    alpha = raise_alert("lw-phys-001", [badge("p1", 0, "anna")])
    beta = raise_alert("lw-phys-001", [event("p2", 5, class_uid=EventClass.PHYSICAL_ACCESS, activity=2, site="beta",
                                             actor__user__name="anna")])
    assert alpha.site_slug == "alpha" and beta.site_slug == "beta"
    assert alpha.case_id != beta.case_id
    # closing every alert closes the case; a new alert then opens a new one
    from linewatch.detect import cases

    cases.close(alpha, None, "badge faulty")
    assert Case.objects.get(pk=alpha.case_id).status == CaseStatus.CLOSED
    again = raise_alert("lw-phys-002", [badge("p3", 10, "anna")])
    assert again.case_id not in (alpha.case_id, None)
    # reopening the alert reopens its case
    cases.acknowledge(Alert.objects.get(pk=alpha.pk), None)
    assert Case.objects.get(pk=alpha.case_id).status == CaseStatus.OPEN


def test_assign_case_is_idempotent():
    alert = raise_alert("lw-ot-001", [plc_download("i", 0)])
    assert assign_case(alert).pk == alert.case_id
    assert assign_case(Alert.objects.get(pk=alert.pk)).pk == alert.case_id
    assert Case.objects.count() == 1


def test_an_alert_out_of_order_joins_the_case_it_precedes():
    late = raise_alert("lw-ot-001", [plc_download("o1", 60)])
    early = raise_alert("lw-ot-002", [plc_download("o2", 10)])
    assert early.case_id == late.case_id
    case = Case.objects.get(pk=late.case_id)
    assert case.first_seen == early.time and case.last_seen == late.time


def test_actor_names_are_compared_without_domains_and_machine_accounts_are_ignored():
    assert normalise_actor("CORP\\JDoe") == "jdoe"
    assert normalise_actor("jdoe@corp.example") == "jdoe"
    assert normalise_actor("WS-12$") == ""
    assert normalise_actor("SYSTEM") == ""
    alert = raise_alert("r", [event("n", 0, actor__user__name="CORP\\JDoe", dst_endpoint__ip=HMI)])
    assert alert_actors(alert) == ["jdoe"]
    alert.finding["unmapped"]["actor"] = {"name": "Anna Berg"}
    assert alert_actors(alert) == ["anna berg", "jdoe"]


def test_event_domains():
    assert event_domain(EventClass.PHYSICAL_ACCESS) == "physical"
    assert event_domain(EventClass.GATE_ACTIVITY) == "physical"
    assert event_domain(EventClass.SURVEILLANCE_DEVICE) == "camera"
    assert event_domain(EventClass.AUTHENTICATION) == "login"
    assert event_domain(EventClass.NETWORK_ACTIVITY) == "network"
    assert event_domain(EventClass.RDP_ACTIVITY) == "network"
    assert event_domain(EventClass.CONTROLLER_ACTIVITY) == "ot"
    assert event_domain(EventClass.PROCESS_ACTIVITY) == "host"


def test_the_timeline_puts_alerts_and_evidence_on_one_axis_by_domain():
    denied = raise_alert("lw-phys-001", [badge("t1", 0, "tom"), badge("t2", 1, "tom")], "Badge denied twice")
    tamper = event("t3", 5, class_uid=EventClass.SURVEILLANCE_DEVICE, activity=2, device__ip=CAMERA,
                   actor__user__name="tom")
    raise_alert("lw-phys-002", [tamper], "Camera tampered")
    login = event("t4", 12, class_uid=EventClass.AUTHENTICATION, activity=1, actor__user__name="tom",
                  dst_endpoint__ip="10.1.35.5")
    raise_alert("lw-it-001", [login], "Login to the MES")
    download = raise_alert("lw-ot-001", [plc_download("t5", 20, user="tom")], "PLC program download")
    case = Case.objects.get(pk=denied.case_id)
    assert case.alerts.count() == 4 and download.case_id == case.pk

    alerts = list(case.alerts.order_by("time"))
    timeline, events = case_timeline(case, alerts)
    assert [e.domain for e in events] == ["physical", "physical", "camera", "login", "ot"]
    assert [lane["domain"] for lane in timeline.lanes] == ["alert", "physical", "camera", "login", "ot"]
    assert timeline.tz == "Europe/Berlin"
    xs = [p.x for p in timeline.points if p.kind == "event"]
    assert xs == sorted(xs) and timeline.left <= xs[0] < xs[-1] <= timeline.width - timeline.right
    lanes = {lane["domain"]: lane for lane in timeline.lanes}
    for point in timeline.points:
        lane = lanes[point.domain]
        assert lane["y"] <= point.y <= lane["y"] + lane["height"]
    assert sum(p.kind == "alert" for p in timeline.points) == 4
    assert timeline.ticks and all(timeline.left <= t["x"] <= timeline.width for t in timeline.ticks)
    assert timeline.ticks[0]["label"].count(":") == 1  # a 20-minute case is labelled in minutes
    rows = timeline_as_dict(alerts, events)
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)
    assert {r["domain"] for r in rows} == {"alert", "physical", "camera", "login", "ot"}


def test_points_at_the_same_time_are_fanned_out():
    alert = raise_alert("r", [badge(f"s{i}", 0, "tom") for i in range(3)])
    timeline = layout_timeline([alert], case_timeline(alert.case, [alert])[1])
    ys = [p.y for p in timeline.points if p.kind == "event"]
    assert len(set(ys)) == 3


def test_an_empty_or_instant_case_still_has_an_axis():
    timeline = layout_timeline([], [])
    assert timeline.points == [] and timeline.ticks
    alert = raise_alert("r", [plc_download("z", 0)])
    timeline = layout_timeline([alert], [])
    assert timeline.start < alert.time < timeline.end
    assert timeline.end - timeline.start >= dt.timedelta(seconds=60)


def test_closing_and_acknowledging_keep_the_case_figures():
    from linewatch.detect import cases

    a = raise_alert("lw-ot-001", [plc_download("f1", 0)])
    b = raise_alert("lw-ot-002", [plc_download("f2", 5)])
    cases.close(a, None, "test")
    case = Case.objects.get(pk=a.case_id)
    assert case.status == CaseStatus.OPEN  # b is still open
    cases.close(Alert.objects.get(pk=b.pk), None, "test")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert set(case.alerts.values_list("status", flat=True)) == {AlertStatus.CLOSED}
