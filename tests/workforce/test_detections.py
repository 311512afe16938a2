"""Each detection with events that must fire and events that must not."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from linewatch.events.schema import Event, EventClass, PhysicalAccessActivity
from linewatch.workforce.engine.calendar import PlantCalendar
from linewatch.workforce.engine.detections import WorkforceDetector, rank
from linewatch.workforce.engine.records import (
    AreaRecord,
    AuthorisationRecord,
    CredentialRecord,
    Directory,
    PersonRecord,
    SiteRecord,
    TrainingRecord,
    VisitRecord,
    WorkOrderRecord,
)
from linewatch.workforce.engine.schedule import AccessWindow

A = PhysicalAccessActivity
_n = itertools.count()
DAY = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=7;DURATION=PT10H"


def t(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp() * 1000)


def badge(at: str, cred: str = "", area: str = "hall", site: str = "kol", activity: int = A.GRANTED,
          person: str = "", door: str = "", direction: str = "", issue: int | None = None) -> Event:
    attrs = {"area.name": area}
    if cred:
        attrs["credential.uid"] = cred
    if person:
        attrs["actor.user.name"] = person
    if door:
        attrs["door.name"] = door
    if direction:
        attrs["access.direction"] = direction
    if issue is not None:
        attrs["credential.issue_code"] = issue
    return Event(uid=f"e{next(_n)}", time=t(at), class_uid=EventClass.PHYSICAL_ACCESS, activity_id=activity,
                 status_id=1 if activity == A.GRANTED else 2, site=site, attrs=attrs)


def remote(at: str, user: str, target: str, site: str = "kol", ok: bool = True) -> Event:
    return Event(uid=f"r{next(_n)}", time=t(at), class_uid=EventClass.AUTHORIZE_SESSION, activity_id=1,
                 status_id=1 if ok else 2, site=site,
                 attrs={"user.name": user, "dst_endpoint.asset.name": target, "dst_endpoint.asset.domain": "ot",
                        "src_endpoint.ip": "203.0.113.7", "is_remote": True})


def directory(**extra) -> Directory:
    base = dict(
        people=[PersonRecord("anna", "Anna"), PersonRecord("tom", "Tom", kind="contractor", sponsor="anna"),
                PersonRecord("vera", "Vera", kind="visitor"),
                PersonRecord("olaf", "Olaf", status="offboarded", status_changed_at=t("2026-03-02T12:00:00+00:00"))],
        credentials=[
            CredentialRecord("b-anna", "badge", "1001", "anna"),
            CredentialRecord("b-tom-1", "badge", "2001", "tom", status="replaced",
                             status_changed_at=t("2026-03-02T08:00:00+00:00")),
            CredentialRecord("b-tom-2", "badge", "2002", "tom", replaces="b-tom-1",
                             valid_from=t("2026-03-02T08:00:00+00:00"), valid_to=t("2026-03-31T00:00:00+00:00")),
            CredentialRecord("b-lost", "badge", "3001", "anna", status="lost",
                             status_changed_at=t("2026-03-01T00:00:00+00:00")),
            CredentialRecord("b-vera", "badge", "4001", "vera"),
            CredentialRecord("b-olaf", "badge", "5001", "olaf"),
            CredentialRecord("decoy", "badge", "9999", None, is_decoy=True),
            CredentialRecord("ad-tom", "remote_access", "tom.vpn", "tom"),
        ],
        authorisations=[
            AuthorisationRecord("g1", "tom", "kol", "hall", AccessWindow(schedule=DAY, timezone="Europe/Berlin",
                                                                         calendar=PlantCalendar("DE", "NW"))),
            AuthorisationRecord("g2", "tom", "kol", "press", work_order="WO-1"),
            AuthorisationRecord("g3", "anna", "kol", "*"),
            AuthorisationRecord("g4", "anna", "kol", "server"),
        ],
        work_orders=[WorkOrderRecord("WO-1", "kol", "approved", "tom", frozenset({"plc-7"}),
                                     t("2026-03-02T07:00:00+00:00"), t("2026-03-06T16:00:00+00:00"))],
        trainings=[TrainingRecord("tom", "site_induction", t("2026-01-01T00:00:00+00:00")),
                   TrainingRecord("tom", "loto", t("2025-01-01T00:00:00+00:00"), t("2026-01-01T00:00:00+00:00"))],
        visits=[VisitRecord("v1", "vera", "kol", "anna", None, True, t("2026-03-03T09:00:00+00:00"),
                            t("2026-03-03T12:00:00+00:00"))],
        areas=[AreaRecord("kol", "server", restricted=True),
               AreaRecord("kol", "press", requires=frozenset({"site_induction", "loto"}))],
        sites=[SiteRecord("kol", "Europe/Berlin", 50.94, 6.96), SiteRecord("brm", "Europe/Berlin", 53.08, 8.80)],
    )
    base.update(extra)
    return Directory(**base)


def rules(events, **extra) -> list[str]:
    detector = WorkforceDetector(directory(**extra))
    return [f.rule for f in detector.process(events) + detector.flush()]


def test_decoy_badge_fires_critical():
    detector = WorkforceDetector(directory())
    [f] = detector.process([badge("2026-03-03T09:00:00+00:00", "9999")])
    assert (f.rule, f.level) == ("wf-decoy-credential", "critical")


def test_expired_credential_granted_is_critical_and_denied_is_high():
    d = WorkforceDetector(directory())
    granted = d.process([badge("2026-04-02T08:00:00+00:00", "2002")])
    assert [(f.rule, f.level) for f in granted if f.rule == "wf-credential-invalid"] == [
        ("wf-credential-invalid", "critical")]
    denied = d.process([badge("2026-04-02T08:05:00+00:00", "2002", activity=A.DENIED)])
    assert [f.level for f in denied if f.rule == "wf-credential-invalid"] == ["high"]
    assert "wf-credential-invalid" not in rules([badge("2026-03-03T08:00:00+00:00", "2002")])


def test_not_yet_valid_credential_fires():
    assert "wf-credential-invalid" in rules([badge("2026-03-01T08:00:00+00:00", "2002")])


def test_superseded_and_lost_credentials_fire_only_after_their_change():
    assert "wf-credential-superseded" in rules([badge("2026-03-03T08:00:00+00:00", "2001")])
    assert "wf-credential-superseded" not in rules([badge("2026-03-02T07:00:00+00:00", "2001")])
    d = WorkforceDetector(directory())
    [f] = [f for f in d.process([badge("2026-03-03T08:00:00+00:00", "3001", area="canteen")])
           if f.rule == "wf-credential-superseded"]
    assert f.level == "critical" and "lost" in f.why["rule"]


def test_two_live_credentials_in_two_places_and_ranked_with_the_superseded_one():
    events = [badge("2026-03-03T08:00:00+00:00", "2002", area="hall"),
              badge("2026-03-03T08:04:00+00:00", "2001", area="press")]
    d = WorkforceDetector(directory())
    found = d.process(events)
    assert "wf-two-live-credentials" in [f.rule for f in found]
    top = rank(found)[0]
    assert (top.rule, top.subject, top.level) == ("wf-credential-superseded", "b-tom-1", "critical")
    # the same card walking between areas is no finding; two cards an hour apart neither
    assert "wf-two-live-credentials" not in rules([badge("2026-03-03T08:00:00+00:00", "2002", area="hall"),
                                                   badge("2026-03-03T08:01:00+00:00", "2002", area="press")])
    assert "wf-two-live-credentials" not in rules([badge("2026-03-03T08:00:00+00:00", "2002", area="hall"),
                                                   badge("2026-03-03T09:30:00+00:00", "2001", area="press")])


def test_impossible_travel_between_plants():
    # Cologne → Bremen is ~250 km: 30 minutes is impossible, 4 hours is a drive
    assert "wf-impossible-travel" in rules([badge("2026-03-03T08:00:00+00:00", "1001", site="kol"),
                                            badge("2026-03-03T08:30:00+00:00", "1001", site="brm")])
    assert "wf-impossible-travel" not in rules([badge("2026-03-03T08:00:00+00:00", "1001", site="kol"),
                                                badge("2026-03-03T12:00:00+00:00", "1001", site="brm")])


def test_outside_window_respects_dst_and_holidays():
    # Monday 30 March 2026 (CEST): 07:30 local = 05:30Z is inside, 06:30 local = 04:30Z is outside
    assert "wf-outside-window" not in rules([badge("2026-03-30T05:30:00+00:00", "2002")])
    assert "wf-outside-window" in rules([badge("2026-03-30T04:30:00+00:00", "2002")])
    # Good Friday 3 April 2026 is a public holiday in NRW: closed all day
    d = WorkforceDetector(directory())
    [f] = [f for f in d.process([badge("2026-04-03T08:00:00+00:00", "2002")]) if f.rule == "wf-outside-window"]
    assert "holiday" in f.why["window"] and "Europe/Berlin" in f.why["local_time"]


def test_restricted_area_needs_its_own_authorisation():
    assert "wf-restricted-area" in rules([badge("2026-03-03T08:00:00+00:00", "2002", area="server")])
    assert "wf-restricted-area" not in rules([badge("2026-03-03T08:00:00+00:00", "1001", area="server")])


def test_zone_probing_needs_denials_across_doors():
    probing = [badge(f"2026-03-03T08:0{i}:00+00:00", "1001", activity=A.DENIED, door=f"d{i % 2}") for i in range(3)]
    assert rules(probing).count("wf-zone-probing") == 1
    one_door = [badge(f"2026-03-03T08:0{i}:00+00:00", "1001", activity=A.DENIED, door="d1") for i in range(3)]
    assert "wf-zone-probing" not in rules(one_door)
    spread = [badge(f"2026-03-03T{8 + i:02d}:00:00+00:00", "1001", activity=A.DENIED, door=f"d{i}") for i in range(3)]
    assert "wf-zone-probing" not in rules(spread)


def test_remote_session_needs_a_work_order_covering_asset_and_time():
    assert "wf-remote-no-work-order" not in rules([remote("2026-03-03T09:00:00+00:00", "tom.vpn", "plc-7")])
    assert "wf-remote-no-work-order" in rules([remote("2026-03-03T09:00:00+00:00", "tom.vpn", "plc-9")])
    found = WorkforceDetector(directory()).process([remote("2026-03-03T09:00:00+00:00", "anna", "plc-7")])
    assert found[0].rule == "wf-remote-no-work-order" and "none assigned" in found[0].why["work_orders_consulted"]
    # after the work order's window: the access outlived it
    assert "wf-access-outlives-work-order" in rules([remote("2026-03-09T09:00:00+00:00", "tom.vpn", "plc-7")])
    assert "wf-remote-no-work-order" not in rules([remote("2026-03-03T09:00:00+00:00", "tom.vpn", "plc-9", ok=False)])


def test_badge_access_outlives_its_work_order():
    closed = [WorkOrderRecord("WO-1", "kol", "closed", "tom", frozenset({"plc-7"}),
                              t("2026-03-02T07:00:00+00:00"), t("2026-03-06T16:00:00+00:00"))]
    trained = [TrainingRecord("tom", "site_induction", 0), TrainingRecord("tom", "loto", 0)]
    assert "wf-access-outlives-work-order" in rules([badge("2026-03-04T08:00:00+00:00", "2002", area="press")],
                                                    work_orders=closed, trainings=trained)
    assert "wf-access-outlives-work-order" not in rules([badge("2026-03-04T08:00:00+00:00", "2002", area="press")],
                                                        trainings=trained)


def test_training_missing_or_expired_for_the_zone():
    d = WorkforceDetector(directory())
    [f] = [f for f in d.process([badge("2026-03-04T08:00:00+00:00", "2002", area="press")])
           if f.rule == "wf-training-missing"]
    assert "loto (expired" in f.why["missing"]
    trained = [TrainingRecord("tom", "site_induction", 0), TrainingRecord("tom", "loto", 0)]
    assert "wf-training-missing" not in rules([badge("2026-03-04T08:00:00+00:00", "2002", area="press")],
                                              trainings=trained)


def test_activity_after_offboarding():
    assert "wf-after-offboarding" in rules([badge("2026-03-03T08:00:00+00:00", "5001")])
    assert "wf-after-offboarding" in rules([remote("2026-03-03T08:00:00+00:00", "olaf", "plc-7", ok=False)])
    assert "wf-after-offboarding" not in rules([badge("2026-03-02T08:00:00+00:00", "5001")])


def test_visitor_unescorted_in_a_restricted_area():
    alone = [badge("2026-03-03T10:00:00+00:00", "4001", area="server")]
    assert "wf-visitor-unescorted" in rules(alone)
    escorted = [badge("2026-03-03T10:00:00+00:00", "4001", area="server"),
                badge("2026-03-03T10:00:20+00:00", "1001", area="server")]
    assert "wf-visitor-unescorted" not in rules(escorted)
    assert "wf-visitor-unescorted" not in rules([badge("2026-03-03T10:00:00+00:00", "4001", area="hall")])


def test_visitor_overstay_fires_once():
    late = [badge("2026-03-03T13:00:00+00:00", "4001", area="hall"),
            badge("2026-03-03T13:10:00+00:00", "4001", area="hall")]
    assert rules(late).count("wf-visitor-overstay") == 1
    assert "wf-visitor-overstay" not in rules([badge("2026-03-03T12:20:00+00:00", "4001", area="hall")])


def test_anti_passback_exit_without_entry_and_double_entry():
    assert "wf-anti-passback" in rules([badge("2026-03-03T10:00:00+00:00", "1001", direction="out")])
    assert "wf-anti-passback" in rules([badge("2026-03-03T10:00:00+00:00", "1001", direction="in"),
                                        badge("2026-03-03T10:05:00+00:00", "1001", direction="in")])
    assert "wf-anti-passback" not in rules([badge("2026-03-03T10:00:00+00:00", "1001", direction="in"),
                                            badge("2026-03-03T12:00:00+00:00", "1001", direction="out"),
                                            badge("2026-03-03T13:00:00+00:00", "1001", direction="in")])


def test_remote_session_while_badged_in():
    events = [badge("2026-03-03T08:00:00+00:00", "2002"), remote("2026-03-03T09:00:00+00:00", "tom.vpn", "plc-7")]
    found = WorkforceDetector(directory()).process(events)
    [f] = [f for f in found if f.rule == "wf-remote-while-on-site"]
    assert len(f.events) == 2 and f.cross_domain
    assert "wf-remote-while-on-site" not in rules([remote("2026-03-03T09:00:00+00:00", "tom.vpn", "plc-7")])


def test_every_finding_says_why_and_cross_domain_ranks_higher():
    found = WorkforceDetector(directory()).process([
        remote("2026-03-03T09:00:00+00:00", "tom.vpn", "plc-9"), badge("2026-03-30T04:30:00+00:00", "2002")])
    assert all(f.why and f.events for f in found)
    ranked = rank(found)
    assert ranked[0].rule == "wf-remote-no-work-order"


@pytest.mark.parametrize("person", ["tom", "anna"])
def test_people_resolve_by_key_when_the_event_names_no_credential(person):
    d = WorkforceDetector(directory())
    found = d.process([badge("2026-03-03T08:00:00+00:00", person=person, area="server")])
    assert ("wf-restricted-area" in [f.rule for f in found]) is (person == "tom")


def test_duress_is_critical():
    d = WorkforceDetector(directory())
    duress = badge("2026-03-03T10:00:00+00:00", "1001", activity=A.DURESS)
    assert [(f.rule, f.level) for f in d.process([duress])] == [("wf-duress", "critical")]
    assert "wf-duress" not in rules([badge("2026-03-03T10:00:00+00:00", "1001")])


def test_wrong_pins_with_one_card():
    def wrong(at):
        e = badge(at, "1001", activity=A.DENIED, door="lab")
        e.attrs["access.event"] = "denied-incorrect-authentication-factor"
        return e

    assert rules([wrong(f"2026-03-03T10:0{i}:00+00:00") for i in range(3)]).count("wf-pin-attack") == 1
    assert "wf-pin-attack" not in rules([wrong(f"2026-03-03T10:0{i}:00+00:00") for i in range(2)])
    assert "wf-pin-attack" not in rules([wrong(f"2026-03-03T{10 + i}:00:00+00:00") for i in range(3)])


def test_local_logon_at_a_plant_where_the_person_is_not():
    hmi = Event(uid="hmi-1", time=t("2026-03-03T09:00:00+00:00"), class_uid=EventClass.AUTHENTICATION, activity_id=1,
                status_id=1, site="brm", attrs={"user.name": "anna", "dst_endpoint.asset.name": "brm-hmi-1"})
    assert "wf-logon-elsewhere" in rules([badge("2026-03-03T08:00:00+00:00", "1001", site="kol"), hmi])
    same_site = Event(uid="hmi-2", time=hmi.time, class_uid=EventClass.AUTHENTICATION, activity_id=1, status_id=1,
                      site="kol", attrs={"user.name": "anna", "dst_endpoint.asset.name": "kol-hmi-1"})
    assert "wf-logon-elsewhere" not in rules([badge("2026-03-03T08:00:00+00:00", "1001", site="kol"), same_site])
    assert "wf-logon-elsewhere" not in rules([hmi])


def test_pacs_cardholder_names_resolve_to_people():
    named = badge("2026-03-03T08:00:00+00:00", area="server")
    named.attrs["actor.user.name"] = "Fix, Tom"
    people = [PersonRecord("tom", "Tom Fix", kind="contractor")]
    assert "wf-restricted-area" in rules([named], people=people)


def test_badge_used_after_the_visitor_checked_out_at_the_desk():
    from linewatch.events.schema import VisitorActivity

    out = Event(uid="desk-1", time=t("2026-03-03T10:30:00+00:00"), class_uid=EventClass.VISITOR_ACTIVITY,
                activity_id=VisitorActivity.CHECK_OUT, site="kol", attrs={"user.name": "Vera"})
    late = badge("2026-03-03T11:10:00+00:00", "4001", area="hall")
    found = WorkforceDetector(directory()).process([out, late])
    [f] = [f for f in found if f.rule == "wf-visitor-overstay"]
    assert f.why["checked_out"].startswith("2026-03-03 10:30")
    assert "wf-visitor-overstay" not in rules([out, badge("2026-03-03T10:50:00+00:00", "4001", area="hall")])
