"""The Linewatch rule pack on enriched events: each rule fires where it must and not where it must not.

Events go through the real pipeline step (`detect.worker.process`: plant-model enrichment, the
workforce context, then the Sigma and correlation engines) on the alpha test site:
plc-line1 10.1.11.10 and hmi-line1-a/b 10.1.11.21/22 (OT, hall-1), mes-1 10.1.35.5 (OT, DMZ),
cam-1 10.1.4.50 (physical, hall-1), wms-1 at beta 10.2.4.10 (IT).
"""

from __future__ import annotations

import itertools

import pytest

from linewatch.detect.sigma import PACK, SigmaDetector
from linewatch.detect.worker import process
from linewatch.events.schema import (
    ControllerActivity,
    Event,
    EventClass,
    PhysicalAccessActivity,
    SurveillanceActivity,
    event_uid,
)

T0 = 1_780_000_000_000  # 2026-05-28: no work order is open then
_n = itertools.count()


def ev(class_uid: int, activity: int, at: int = 0, site: str = "alpha", **attrs) -> Event:
    return Event(uid=event_uid("pack", str(next(_n))), time=T0 + at, class_uid=class_uid, activity_id=activity,
                 source="test", site=site, attrs=attrs)


@pytest.fixture
def run(alpha_beta):
    detector = SigmaDetector.from_paths([PACK], lateness_ms=0)

    def fired(*events: Event) -> list[str]:
        return [d.title for d in process(list(events), [detector])]

    return fired


def test_the_pack_loads_without_errors():
    detector = SigmaDetector.from_paths([PACK])
    assert detector.ruleset.errors == [] and detector.ruleset.unrouted == []
    assert detector.correlations.issues == []
    assert len(detector.ruleset.rules) >= 15


def test_unplanned_program_download_fires_and_a_planned_one_does_not(run):
    download = ev(EventClass.CONTROLLER_ACTIVITY, ControllerActivity.PROGRAM_DOWNLOAD,
                  **{"src_endpoint.ip": "10.1.4.50", "dst_endpoint.ip": "10.1.11.10"})
    titles = run(download)
    assert "Controller program download or mode change with no work order and no authorised engineer present" in titles
    assert "Controller write from a device outside the OT zones" in titles  # from the camera's address
    # An engineer badged into hall-1 an hour before, from the line's own HMI: only the plain download rule.
    badge = ev(EventClass.PHYSICAL_ACCESS, PhysicalAccessActivity.GRANTED, at=3_600_000 * 2,
               **{"area.name": "hall-1", "actor.user.name": "p-anna"})
    planned = ev(EventClass.CONTROLLER_ACTIVITY, ControllerActivity.PROGRAM_DOWNLOAD, at=3_600_000 * 3,
                 **{"src_endpoint.ip": "10.1.11.21", "dst_endpoint.ip": "10.1.11.10"})
    assert run(badge, planned) == ["Controller program download"]


def test_physical_device_reaching_it_or_the_internet(run):
    to_wms = ev(EventClass.NETWORK_ACTIVITY, 6, **{"src_endpoint.ip": "10.1.4.50", "dst_endpoint.ip": "10.2.4.10",
                                                   "dst_endpoint.port": 445})
    assert "Physical-security device opens connections to corporate or OT hosts" in run(to_wms)
    out = ev(EventClass.NETWORK_ACTIVITY, 6, **{"src_endpoint.ip": "10.1.4.50", "dst_endpoint.ip": "203.0.113.5"})
    assert "Physical-security device connects to the Internet" in run(out)
    hmi_to_plc = ev(EventClass.NETWORK_ACTIVITY, 6,
                    **{"src_endpoint.ip": "10.1.11.21", "dst_endpoint.ip": "10.1.11.10"})
    assert run(hmi_to_plc) == []


def test_hmi_logon_by_someone_who_never_entered(run):
    logon = ev(EventClass.AUTHENTICATION, 1, status_id=1,
               **{"dst_endpoint.ip": "10.1.11.22", "actor.user.name": "p-tom"})
    logon.status_id = 1
    assert "HMI or engineering-workstation logon by someone who never entered the plant" in run(logon)
    badge = ev(EventClass.PHYSICAL_ACCESS, PhysicalAccessActivity.GRANTED, at=1000,
               **{"area.name": "hall-1", "actor.user.name": "p-anna"})
    again = ev(EventClass.AUTHENTICATION, 1, at=2000, **{"dst_endpoint.ip": "10.1.11.22", "actor.user.name": "p-anna"})
    again.status_id = 1
    assert run(badge, again) == []


def test_remote_session_into_ot_without_work_order(run):
    session = ev(EventClass.AUTHORIZE_SESSION, 1, **{"dst_endpoint.ip": "10.1.35.5", "actor.user.name": "p-tom"})
    assert run(session) == ["Remote session into OT outside any work order"]
    to_it = ev(EventClass.AUTHORIZE_SESSION, 1, site="beta", **{"dst_endpoint.ip": "10.2.4.10",
                                                                "actor.user.name": "p-tom"})
    assert run(to_it) == []


def test_camera_blinded_then_door_forced_in_the_same_area(run):
    tamper = ev(EventClass.SURVEILLANCE_DEVICE, SurveillanceActivity.TAMPER, **{"device.ip": "10.1.4.50"})
    forced = ev(EventClass.PHYSICAL_ACCESS, PhysicalAccessActivity.FORCED, at=60_000, **{"area.name": "hall-1"})
    titles = run(tamper, forced)
    assert "Camera tampered or offline, then a door forced in the same area" in titles
    elsewhere = ev(EventClass.PHYSICAL_ACCESS, PhysicalAccessActivity.FORCED, at=120_000,
                   **{"area.name": "control-room"})
    later_tamper = ev(EventClass.SURVEILLANCE_DEVICE, SurveillanceActivity.TAMPER, at=3_600_000,
                      **{"device.ip": "10.1.4.50"})
    assert "Camera tampered or offline, then a door forced in the same area" not in run(later_tamper, elsewhere)


def test_badge_denials_then_remote_logon_by_the_same_person(run):
    denials = [ev(EventClass.PHYSICAL_ACCESS, PhysicalAccessActivity.DENIED, at=i * 30_000,
                  **{"area.name": "hall-1", "actor.user.name": "p-tom"}) for i in range(3)]
    vpn = ev(EventClass.AUTHENTICATION, 1, at=300_000, is_remote=True, **{"actor.user.name": "p-tom"})
    vpn.status_id = 1
    assert "Badge denials, then a remote logon by the same person" in run(*denials, vpn)


def test_badge_denials_and_someone_elses_logon_do_not_correlate(run):
    denials = [ev(EventClass.PHYSICAL_ACCESS, PhysicalAccessActivity.DENIED, at=i * 30_000,
                  **{"area.name": "hall-1", "actor.user.name": "p-tom"}) for i in range(3)]
    vpn = ev(EventClass.AUTHENTICATION, 1, at=300_000, is_remote=True, **{"actor.user.name": "p-anna"})
    vpn.status_id = 1
    assert "Badge denials, then a remote logon by the same person" not in run(*denials, vpn)


def test_unknown_device_then_controller_writes(run):
    probe = ev(EventClass.NETWORK_ACTIVITY, 6, **{"src_endpoint.ip": "10.1.11.77", "dst_endpoint.ip": "10.1.11.10",
                                                  "dst_endpoint.port": 502})
    write = ev(EventClass.CONTROLLER_ACTIVITY, ControllerActivity.WRITE, at=30_000,
               **{"src_endpoint.ip": "10.1.11.77", "dst_endpoint.ip": "10.1.11.10", "controller.protocol": "modbus"})
    titles = run(probe, write)
    assert "Unknown device talks to an OT zone" in titles
    assert "A device missing from the model talks to OT, then writes to a controller" in titles
    known = ev(EventClass.CONTROLLER_ACTIVITY, ControllerActivity.WRITE, at=60_000,
               **{"src_endpoint.ip": "10.1.11.21", "dst_endpoint.ip": "10.1.11.10"})
    assert "A device missing from the model talks to OT, then writes to a controller" not in run(known)


def test_the_correlation_operator_hands_its_windows_to_the_next_owner():
    """Distributed mode: a partition's new owner restores the windows and the correlation completes."""
    from linewatch.detect.sigma import SigmaCorrelationOperator

    tamper = ev(EventClass.SURVEILLANCE_DEVICE, SurveillanceActivity.TAMPER,
                **{"device.asset.area": "dock", "device.asset.domain": "physical"})
    forced = ev(EventClass.PHYSICAL_ACCESS, PhysicalAccessActivity.FORCED, at=30_000, **{"area.name": "dock"})
    later = ev(EventClass.NETWORK_ACTIVITY, 6, at=60_000)  # moves event time past the lateness
    first = SigmaCorrelationOperator()
    assert first.process(tamper) == []
    second = SigmaCorrelationOperator()
    second.restore(first.snapshot())
    titles = [d.title for e in (forced, later) for d in second.process(e)]
    assert titles == ["Camera tampered or offline, then a door forced in the same area"]
    fresh = SigmaCorrelationOperator()  # without the hand-over the tamper is forgotten
    assert [d.title for e in (forced, later) for d in fresh.process(e)] == []


def test_a_sigma_filter_suppresses_a_rule_at_one_site_only(tmp_path):
    """Per-site suppressions are Sigma filters on `site` (pySigma semantics: rule AND filter condition)."""
    (tmp_path / "kolding_firmware.yml").write_text('''
title: Firmware changes at alpha are done by the vendor under contract
id: 9a4d2e8c-1f7b-4c55-8a60-2f4f0f6b5a11
logsource:
  product: linewatch
  category: controller_activity
filter:
  rules:
    - lw_ics_firmware_change
  selection:
    site: alpha
  condition: not selection
''')
    detector = SigmaDetector.from_paths([PACK, tmp_path], lateness_ms=0)
    assert detector.ruleset.errors == []
    def titles(site: str) -> list[str]:
        change = ev(EventClass.CONTROLLER_ACTIVITY, ControllerActivity.FIRMWARE_CHANGE, site=site,
                    **{"src_endpoint.asset.domain": "ot"})
        return [d.title for d in detector.detect([change])]

    at = {site: titles(site) for site in ("alpha", "beta")}
    assert at == {"alpha": [], "beta": ["Controller firmware changed"]}


def test_drift_found_by_discovery_alerts(run):
    drift = Event(uid=event_uid("drift", "1"), time=T0, class_uid=EventClass.DEVICE_CONFIG_STATE_CHANGE,
                  activity_id=99, source="discovery", site="alpha", attrs={"device.ip": "10.1.11.10"},
                  unmapped={"drift.attribute": "firmware", "drift.asset_value": "V2.9.4",
                            "drift.observed_value": "V3.0.1"})
    assert run(drift) == ["Device on the wire differs from the plant model"]
    other = Event(uid=event_uid("drift", "2"), time=T0, class_uid=EventClass.DEVICE_CONFIG_STATE_CHANGE,
                  activity_id=1, source="some-cmdb", site="alpha", attrs={"device.ip": "10.1.11.10"})
    assert run(other) == []
